#!/bin/bash
# A file that grows after the scan (issue 13, item 3): it is sent at its
# scanned size, as the manifest announced it, and the sender says so:
# a warning (event file_grew) that names the file and both sizes.  The
# send exits 0 and the receiver holds the scanned bytes.  Before, the
# file went out short without a word.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/t" "$T/in"
start_recv "$T/in"
head -c 4000000 /dev/urandom >"$T/src/t/a.bin"
head -c 300000 /dev/urandom >"$T/src/t/b.bin"
cp "$T/src/t/b.bin" "$T/b.scanned"
# once the receiver has the manifest (the scan is over), b.bin grows;
# a.bin goes first and takes about 1.6 s at 20 Mbit/s (small blocks, one
# thread: b.bin is not read ahead)
(
	wait_line "$RECV_LOG" "session_start" 20 "$RECV_PID" || exit 0
	head -c 5000 /dev/urandom >>"$T/src/t/b.bin"
) &
BG_PIDS+=($!)
run_send g "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 20mbit \
	--block-size 64KiB --threads 1
[ "$SEND_RC" = 0 ] || fail "exit $SEND_RC, want 0: $(cat "$T/g.err")"
[ "$(stat -c %s "$T/src/t/b.bin")" = 305000 ] || fail "b.bin did not grow in time"
grep -q "file_grew: .*b.bin' grew after the scan, from 300000 to 305000 bytes" "$T/g.err" ||
	fail "no warning naming b.bin and both sizes: $(cat "$T/g.err")"
cmp "$T/b.scanned" "$T/in/t/b.bin" || fail "the receiver's b.bin is not the scanned 300000 bytes"
cmp "$T/src/t/a.bin" "$T/in/t/a.bin" || fail "a.bin differs"
stop_recv
note ok
