#!/bin/bash
# The receiver goes away for 10 s in the middle: files keep landing, the
# watcher backs off (one log line per attempt, delays growing from
# retry_min toward retry_max, with jitter) instead of looping, and once
# the receiver is back on the same port every file arrives, once.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in"
start_recv "$T/in" --overwrite replace
port=$PORT
start_watch w "$T/src" "127.0.0.1:$port" --settle 200ms --post delete \
	--timeout 1s --retry-min 500ms --retry-max 4s
drop() { # first last
	python3 - "$T/src" "$1" "$2" <<'PY'
import os, sys
src, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(a, b):
    d = os.path.join(src, "batch%d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d" % i), "w") as f:
        f.write("file %d\n" % i * 50)
PY
}
drop 0 100
wait_until 30 'idle_and_empty "$T/src"' || fail "first 100 not sent"
kill -TERM "$RECV_PID"
wait_exit "$RECV_PID" 20 || fail "receiver did not stop"
down=$(date +%s)
drop 100 300
sleep 10
# the receiver is back, same port
RECV_BIN=${RECV_BIN:-$SALVO_ASAN}
"$RECV_BIN" recv --dir "$T/in" --port "$port" --bind 127.0.0.1 --overwrite replace --allow-anonymous \
	>"$T/recv2.out" 2>"$T/recv2.log" &
RECV_PID=$!
BG_PIDS+=("$RECV_PID")
wait_line "$T/recv2.log" "^listening on " 20 "$RECV_PID" || fail "receiver did not restart"
note "receiver down for $(($(date +%s) - down)) s"
wait_until 40 'idle_and_empty "$T/src"' ||
	fail "not all sent after the receiver came back: $(tr '\n' ' ' <"$T/src/.salvo/status")"
note "all sent $(($(date +%s) - down)) s after the receiver went down"
[ "$(find "$T/in" -type f ! -path "$T/in/.salvo/*" | wc -l)" = 300 ] || fail "receiver holds $(find "$T/in" -type f ! -path "$T/in/.salvo/*" | wc -l) files, want 300"
python3 - "$T/in" <<'PY' || fail "a received file differs"
import sys
for i in range(300):
    p = "%s/batch%d/f%04d" % (sys.argv[1], i // 100, i)
    assert open(p).read() == "file %d\n" % i * 50, p
PY
grep 'unavailable' "$T/w.log" | sed 's/^/    /' | head -12
n=$(grep -c 'unavailable' "$T/w.log")
[ "$n" -ge 3 ] && [ "$n" -le 12 ] || fail "$n retry lines for a 10 s outage, want 3..12 (backoff)"
python3 - "$T/w.log" <<'PY' || fail "retry delays did not grow"
import re, sys
d = [float(m) for m in re.findall(r"retry \d+ in ([0-9.]+) s", open(sys.argv[1]).read())]
# jitter draws from [b/2, b]: the bound doubles, 0.5 1 2 4 4 ...
for i, x in enumerate(d):
    b = min(0.5 * 2 ** i, 4.0)
    assert b / 2 - 0.01 <= x <= b + 0.01, (i, x, b)
print("    delays:", d)
PY
grep -q 'reachable again' "$T/w.log" || fail "no 'reachable again' line"
stop_watch
note ok
