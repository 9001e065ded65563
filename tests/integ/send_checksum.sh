#!/bin/bash
# --checksum (issue 13, item 2): with --overwrite if-different (the
# default) a file the receiver has is compared by content (BLAKE3)
# instead of by size and mtime, decided before any file data moves.
#  - a changed file with the same size and mtime: skipped without
#    --checksum (the receiver keeps its old bytes), sent with it;
#  - the same content under another mtime: sent without --checksum,
#    skipped with it;
#  - an identical tree with --checksum: exit 0, "skipped 3", no file
#    data on the wire, and the receiver logs "identical (checksum)".
# Before, --checksum was refused ("not built yet").
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/sub" "$T/in"
head -c 3000000 /dev/urandom >"$T/src/a.bin"
head -c 3000 /dev/urandom >"$T/src/b.bin"
head -c 5000 /dev/urandom >"$T/src/sub/c.bin"
start_recv "$T/in" --overwrite replace
run_send first --json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "first send: exit $SEND_RC: $(cat "$T/first.err")"
same_tree "$T/src" "$T/in/src"

# 1. the identical tree with --checksum: nothing moves
run_send same --json --checksum "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "--checksum re-send: exit $SEND_RC: $(cat "$T/same.err")"
[ "$(jget "$T/same.out" counts skipped_identical)" = 3 ] ||
	fail "--checksum re-send: want 3 identical: $(jget "$T/same.out" counts)"
[ "$(jget "$T/same.out" bytes)" = 0 ] || fail "--checksum re-send: bytes $(jget "$T/same.out" bytes)"
wire=$(jget "$T/same.out" wire_bytes)
[ "$wire" -lt 8192 ] || fail "--checksum re-send put $wire bytes on the wire (no file data expected)"
grep -q "identical (checksum)" "$RECV_LOG" ||
	fail "receiver log lacks 'identical (checksum)': $(tail -5 "$RECV_LOG")"
run_send same_text --checksum "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "--checksum re-send (text): exit $SEND_RC"
grep -q "skipped 3" "$T/same_text.out" || fail "summary: $(cat "$T/same_text.out")"

# 2. b changes, same size, same mtime
cp -p "$T/src/b.bin" "$T/b.ref"
head -c 3000 /dev/urandom >"$T/src/b.bin"
touch -r "$T/b.ref" "$T/src/b.bin"
run_send plain --json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "without --checksum: exit $SEND_RC: $(cat "$T/plain.err")"
[ "$(jget "$T/plain.out" counts skipped_identical)" = 3 ] ||
	fail "without --checksum: want 3 identical: $(jget "$T/plain.out" counts)"
cmp -s "$T/src/b.bin" "$T/in/src/b.bin" && fail "without --checksum: b.bin was sent"
run_send sum --json --checksum "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "with --checksum: exit $SEND_RC: $(cat "$T/sum.err")"
[ "$(jget "$T/sum.out" counts sent)" = 1 ] || fail "with --checksum: $(jget "$T/sum.out" counts)"
[ "$(jget "$T/sum.out" counts skipped_identical)" = 2 ] || fail "with --checksum: $(jget "$T/sum.out" counts)"
cmp "$T/src/b.bin" "$T/in/src/b.bin" || fail "with --checksum: b.bin was not sent"

# 3. a gets another mtime, same bytes: --checksum skips it (the YAML key
#    transfer.checksum does as the flag does)
touch -d '2001-01-01' "$T/src/a.bin"
printf 'transfer:\n  checksum: true\n' >"$T/sum.yaml"
run_send yaml --json --config "$T/sum.yaml" "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "checksum: true: exit $SEND_RC: $(cat "$T/yaml.err")"
[ "$(jget "$T/yaml.out" counts skipped_identical)" = 3 ] ||
	fail "checksum: true, a touched: want 3 identical: $(jget "$T/yaml.out" counts)"
[ "$(jget "$T/yaml.out" bytes)" = 0 ] || fail "checksum: true: bytes $(jget "$T/yaml.out" bytes)"
run_send touched --json "$T/src" "127.0.0.1:$PORT"
[ "$(jget "$T/touched.out" counts sent)" = 1 ] ||
	fail "without --checksum a touched file is sent: $(jget "$T/touched.out" counts)"
stop_recv
note ok
