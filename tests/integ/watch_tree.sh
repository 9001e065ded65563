#!/bin/bash
# 2,000 files dropped into a watched tree while the watcher runs: written
# in place (closed), moved in from outside, and inside folders created
# while it runs (nested, with spaces and unicode).  Every file arrives
# once with the same SHA-256; the watcher deletes its sources; its log and
# status count exactly 2,000 sent; temporary names are never sent.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"
WATCH_BIN=${WATCH_BIN:-$SALVO_ASAN} # sanitizer build: leaks and UB fail the test

mkdir -p "$T/src" "$T/in" "$T/stage"
start_recv "$T/in" --overwrite replace
start_watch w "$T/src" "127.0.0.1:$PORT" --settle 300ms --post delete \
	--timeout 5s --remote-dir drop
start=$(date +%s.%N)
python3 - "$T/src" "$T/stage" <<'PY'
import os, random, sys
src, stage = sys.argv[1], sys.argv[2]
rng = random.Random(6)
dirs = ["", "a", "a/b", "new folder", "new folder/ünï", "x/y/z"]
n = 0
for i in range(2000):
    d = dirs[i % len(dirs)]
    os.makedirs(os.path.join(src, d), exist_ok=True)
    data = rng.randbytes(rng.choice([0, 1, 100, 4096, 20000]))
    name = "f %04d.dat" % i
    if i % 3 == 0:
        # written outside, moved in (IN_MOVED_TO)
        tmp = os.path.join(stage, name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(src, d, name))
    else:
        with open(os.path.join(src, d, name), "wb") as f:
            f.write(data)
    with open(os.path.join(stage, "sums"), "a") as f:
        import hashlib
        f.write("%s  ./drop/%s\n" % (hashlib.sha256(data).hexdigest(),
                                  os.path.join(d, name) if d else name))
    if i % 500 == 0:
        # temporary names are left alone
        for t in ("x.part", "y.tmp", ".hidden", "~lock"):
            with open(os.path.join(src, d, t), "w") as f:
                f.write("temp")
PY
note "2,000 files written in $(python3 -c "import time; print(round(time.time() - $start, 2))") s"
idle_and_empty_but_temps() {
	[ "$(wstat "$T/src" sent)" = 2000 ] && [ "$(wstat "$T/src" queued)" = 0 ] &&
		[ "$(wstat "$T/src" sending)" = 0 ] &&
		[ -z "$(find "$T/src" -type f -name 'f *' -print -quit)" ]
}
wait_until 90 idle_and_empty_but_temps ||
	fail "not all sent: status $(tr '\n' ' ' <"$T/src/.salvo/status")"
note "all 2,000 sent $(python3 -c "import time; print(round(time.time() - $start, 2))") s after the first write"
sort -k2 "$T/stage/sums" >"$T/want"
tree_sums "$T/in" >"$T/got"
diff "$T/want" "$T/got" >"$T/diff.log" || fail "received tree differs: $(head -5 "$T/diff.log")"
# (the receiver's own .salvo/ folder of part-files aside)
[ -z "$(find "$T/in" -path "$T/in/.salvo" -prune -o \( -name '*.part' -o -name '*.tmp' -o -name '.*' -o -name '~*' \) -print | head -1)" ] ||
	fail "a temporary name reached the receiver"
sent=$(grep -o 'sent [0-9]* files\? ' "$T/w.log" | awk '{s += $2} END {print s}')
[ "$sent" = 2000 ] || fail "the log counts $sent files sent, want 2000"
sessions=$(grep -c 'sent [0-9]* files\? ' "$T/w.log")
note "$sessions sessions for 2,000 files"
stop_watch
stop_recv
note ok
