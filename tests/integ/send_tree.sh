#!/bin/bash
# A tree of 2,000 small files (nested and empty folders, spaces, unicode,
# varied modes and mtimes) plus a single file, in one session below
# --remote-dir; the received tree is identical (diff -r, modes, mtimes) and no
# part-file is left behind.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_tree "$T/src/tree" 2000
printf 'alone\n' >"$T/src/single file.txt"
start_recv "$T/in"
start=$(date +%s.%N)
SEND_BIN=$SALVO_ASAN run_send tree --json --remote-dir "sub dir/ünï" \
	"$T/src/tree" "$T/src/single file.txt" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "tree send: exit $SEND_RC: $(cat "$T/tree.err")"
note "2,000 files in $(python3 -c "import time; print(round(time.time() - $start, 2))") s" \
	"(sanitizer build)"
[ "$(jget "$T/tree.out" files)" = 2001 ] || fail "--json files = $(jget "$T/tree.out" files), want 2001"
[ "$(jget "$T/tree.out" dirs)" -ge 20 ] || fail "--json dirs = $(jget "$T/tree.out" dirs), want >= 20"
same_tree "$T/src/tree" "$T/in/sub dir/ünï/tree"
cmp "$T/src/single file.txt" "$T/in/sub dir/ünï/single file.txt" || fail "single file differs"
[ -d "$T/in/sub dir/ünï/tree/empty" ] || fail "empty folder missing"
stop_recv
note ok
