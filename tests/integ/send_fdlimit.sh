#!/bin/bash
# The sender needs no descriptor per file: under `ulimit -n 64` it sends
# a 300-file tree (sanitizer build) and a 20,000-file tree (release
# build); the reader's descriptor cache sizes itself from RLIMIT_NOFILE
# and, if the process runs out anyway, closes cached descriptors instead
# of failing.  Only the sender runs under the limit (the receiver's own
# bound is recv_fds.sh's).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

# many_files DIR N: N files of 1-64 bytes in folders of 500
many_files() {
	python3 - "$1" "$2" <<'PYEOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 500))
    if i % 500 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(b"%d\n" % i * (1 + i % 10))
PYEOF
}

mkdir -p "$T/in"
make_tree "$T/t300" 300
RECV_BIN=$SALVO start_recv "$T/in"

# limited NAME BIN ARGS...: salvo send ARGS under ulimit -n 64, like run_send
limited() {
	local name=$1 bin=$2
	shift 2
	SEND_RC=0
	timeout -k 5 110 bash -c 'ulimit -n 64 && exec "$@"' _ "$bin" send "$@" \
		>"$T/$name.out" 2>"$T/$name.err" || SEND_RC=$?
	[ "$SEND_RC" -ne 124 ] || fail "salvo send ($name) still running after 110 s"
}

t0=$(date +%s.%N)
limited t300 "$SALVO_ASAN" --json "$T/t300" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "300 files under ulimit -n 64: exit $SEND_RC: $(cat "$T/t300.err")"
same_tree "$T/t300" "$T/in/t300"
note "300 files under ulimit -n 64 in $(python3 -c "import time; print(round(time.time() - $t0, 2))") s (sanitizer build)"

# 20,000 files, the sender under ulimit -n 64 (the receiver bounds its
# own descriptors too: recv_fds.sh)
full=20000
t0=$(date +%s.%N)
many_files "$T/t$full" "$full"
limited full "$SALVO" --json "$T/t$full" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "$full files under ulimit -n 64: exit $SEND_RC: $(cat "$T/full.err")"
[ "$(jget "$T/full.out" files)" = "$full" ] || fail "--json files = $(jget "$T/full.out" files)"
diff -r "$T/t$full" "$T/in/t$full" >"$T/diff.log" || fail "$full-file tree differs: $(head -3 "$T/diff.log")"
note "$full files under ulimit -n 64 in $(python3 -c "import time; print(round(time.time() - $t0, 2))") s"
stop_recv
note ok
