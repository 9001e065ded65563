#!/bin/bash
# A watched folder that already holds 100,000 files (in 100 folders) when
# the watcher starts: the start-up scan queues them, they go out in
# batches of 1,000, and the watcher reaches steady state (nothing
# settling, queued or sending) with all 100,000 at the receiver.  Then a
# restart with post-action keep finds them all in the journal and sends
# nothing.  The watcher's peak RSS (VmHWM) is reported for both and must
# stay under 256 MiB.
set -euo pipefail
. "$(dirname "$0")/../../helpers/integ.sh"
. "$(dirname "$0")/../../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in"
python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "dir%03d" % d)
    os.makedirs(p)
    for i in range(1000):
        with open(os.path.join(p, "file%04d.dat" % i), "w") as f:
            f.write("%d/%d\n" % (d, i))
# all older than the settle time
os.system("find '%s' -type f -exec touch -d '2020-01-01' {} +" % root)
PY
RECV_BIN=$SALVO start_recv "$T/in" --overwrite replace
steady() {
	[ "$(wstat "$T/src" queued)" = 0 ] && [ "$(wstat "$T/src" sending)" = 0 ] &&
		[ "$(wstat "$T/src" settling)" = 0 ] && [ "$(wstat "$T/src" known)" = 100000 ]
}
hwm() { awk '/VmHWM/ {print $2 * 1024}' "/proc/$WATCH_PID/status"; }
start=$(date +%s.%N)
start_watch w1 "$T/src" "127.0.0.1:$PORT" --settle 1s --post keep --max-sessions 2
grep 'start-up scan' "$T/w1.log" | sed 's/.*start-up scan/    start-up scan/'
wait_until 600 steady || fail "no steady state: $(tr '\n' ' ' <"$T/src/.salvo/status")"
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
rss1=$(hwm)
[ "$(find "$T/in" -type f ! -path "$T/in/.salvo/*" | wc -l)" = 100000 ] || fail "receiver holds $(find "$T/in" -type f ! -path "$T/in/.salvo/*" | wc -l) files"
stop_watch
note "100,000 files: steady state after $took s, $(grep -c 'sent [0-9]* files' "$T/w1.log") sessions," \
	"peak RSS $((rss1 >> 20)) MiB"
start=$(date +%s.%N)
start_watch w2 "$T/src" "127.0.0.1:$PORT" --settle 1s --post keep
wait_until 120 steady || fail "restart: no steady state"
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
sleep 2
[ "$(wstat "$T/src" sent)" = 0 ] || fail "restart sent $(wstat "$T/src" sent) files, want 0"
rss2=$(hwm)
stop_watch
note "restart over 100,000 known files: steady after $took s, nothing sent, peak RSS $((rss2 >> 20)) MiB"
[ "$rss1" -lt $((256 << 20)) ] && [ "$rss2" -lt $((256 << 20)) ] || fail "peak RSS above 256 MiB"
stop_recv
note ok
