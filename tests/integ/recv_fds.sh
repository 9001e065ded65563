#!/bin/bash
# File descriptors are bounded per session (issue 12, finding 5): a
# receiver run under `ulimit -n 64` takes a 300-file tree, then a tree of
# 3,000 folders holding a file each, both identical on arrival.  (Before,
# a session held every folder of its manifest and every part-file being
# written open at once: 3,000 folders needed 3,000 descriptors.)  The
# sender runs without the limit.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_tree "$T/src/tree" 300
python3 - "$T/src/many" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(3000):
    d = os.path.join(root, "d%02d" % (i % 50), "f%04d" % i)
    os.makedirs(d)
    with open(os.path.join(d, "x"), "w") as f:
        f.write("%d\n" % i)
    os.utime(d, (1600000000, 1600000000))
for i in range(50):
    os.utime(os.path.join(root, "d%02d" % i), (1600000000, 1600000000))
PY
RECV_PREFIX=(sh -c 'ulimit -n 64 && exec "$@"' sh)
start_recv "$T/in"
[ "$(awk '/^Max open files/ {print $4}' "/proc/$RECV_PID/limits")" = 64 ] ||
	fail "the receiver does not run under ulimit -n 64: $(grep 'open files' "/proc/$RECV_PID/limits")"
run_send tree "$T/src/tree" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "300-file tree into a receiver under ulimit -n 64: exit $SEND_RC: $(cat "$T/tree.err")"
same_tree "$T/src/tree" "$T/in/tree"
note "300 files under ulimit -n 64: identical"
run_send many "$T/src/many" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "3,000 folders into a receiver under ulimit -n 64: exit $SEND_RC: $(cat "$T/many.err")"
same_tree "$T/src/many" "$T/in/many"
note "3,000 folders with a file each under ulimit -n 64: identical"
stop_recv
note ok
