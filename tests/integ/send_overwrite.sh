#!/bin/bash
# Overwrite and skip policies, decided before any file data moves (issue
# 13, item 2), and every file accounted for (item 3).
#  - a tree sent again unchanged exits 0, moves no file data (JSON bytes
#    0, the wire bytes a few control packets), says "skipped 3";
#  - with --overwrite never an existing different file is skipped
#    ("exists") and a new one still lands;
#  - by default (if-different) a changed file is refused by a receiver
#    that does not overwrite (receiver.overwrite never): exit 10, the
#    JSON lists it as failed/refused, the other new file lands;
#  - if-newer against a receiver that replaces: an older source is
#    skipped ("not_newer"), a newer one replaces.
# Before, the re-send failed with exit 5 "already exists" after the whole
# file crossed the wire.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/sub" "$T/in"
head -c 200000 /dev/urandom >"$T/src/a.bin"
head -c 3000 /dev/urandom >"$T/src/b.bin"
head -c 5000 /dev/urandom >"$T/src/sub/c.bin"
start_recv "$T/in"
run_send first --json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "first send: exit $SEND_RC: $(cat "$T/first.err")"
same_tree "$T/src" "$T/in/src"

# 1. the same tree again: nothing to send
run_send again --json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "re-send: exit $SEND_RC: $(cat "$T/again.err")"
[ "$(jget "$T/again.out" counts skipped_identical)" = 3 ] ||
	fail "re-send: want 3 skipped as identical: $(jget "$T/again.out" counts)"
[ "$(jget "$T/again.out" counts sent)" = 0 ] || fail "re-send sent files"
[ "$(jget "$T/again.out" bytes)" = 0 ] || fail "re-send: bytes $(jget "$T/again.out" bytes)"
wire=$(jget "$T/again.out" wire_bytes)
[ "$wire" -lt 8192 ] || fail "re-send put $wire bytes on the wire (no file data expected)"
run_send again_text "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "re-send (text): exit $SEND_RC"
grep -q "sent 0, skipped 3 (identical 3, exists 0, not newer 0), failed 0" "$T/again_text.out" ||
	fail "summary: $(cat "$T/again_text.out")"

# 2. never: b changed, d new -> b skipped (exists), d lands
head -c 3000 /dev/urandom >"$T/src/b.bin"
head -c 700 /dev/urandom >"$T/src/d.bin"
run_send never --json --overwrite never "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "never: exit $SEND_RC: $(cat "$T/never.err")"
[ "$(jget "$T/never.out" counts skipped_exists)" = 1 ] || fail "never: $(jget "$T/never.out" counts)"
cmp -s "$T/src/b.bin" "$T/in/src/b.bin" && fail "never: b.bin was replaced"
cmp "$T/src/d.bin" "$T/in/src/d.bin" || fail "never: d.bin did not land"

# 3. if-different (the default) at a receiver that never overwrites: b is
#    refused, e still lands, exit 10
head -c 900 /dev/urandom >"$T/src/e.bin"
run_send refused --json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 10 ] || fail "refused: exit $SEND_RC, want 10: $(cat "$T/refused.err")"
[ "$(jget "$T/refused.out" result)" = some_failed ] || fail "refused: $(jget "$T/refused.out" result)"
cmp "$T/src/e.bin" "$T/in/src/e.bin" || fail "refused: e.bin did not land"
python3 - "$T/refused.out" <<'PY' || fail "per-file results: $(cat "$T/refused.out")"
import json, sys
r = json.load(open(sys.argv[1]))
got = {f["remote"]: (f["result"], f["reason"]) for f in r["file_results"]}
want = {"src/a.bin": ("skipped", "identical"), "src/b.bin": ("failed", "refused"),
        "src/sub/c.bin": ("skipped", "identical"), "src/d.bin": ("skipped", "identical"),
        "src/e.bin": ("sent", "sent")}
assert got == want, got
c = r["counts"]
assert (c["sent"], c["skipped"], c["failed"], c["refused"]) == (1, 3, 1, 1), c
PY
stop_recv

# 4. if-newer at a receiver that replaces
start_recv "$T/in" --overwrite replace
touch -d '2001-01-01' "$T/src/b.bin"          # older than the copy there
head -c 5000 /dev/urandom >"$T/src/sub/c.bin"  # newer
touch -d '+1 hour' "$T/src/sub/c.bin"
run_send newer --json --overwrite if-newer "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "if-newer: exit $SEND_RC: $(cat "$T/newer.err")"
[ "$(jget "$T/newer.out" counts skipped_not_newer)" = 1 ] || fail "if-newer: $(jget "$T/newer.out" counts)"
[ "$(jget "$T/newer.out" counts sent)" = 1 ] || fail "if-newer: $(jget "$T/newer.out" counts)"
cmp -s "$T/src/b.bin" "$T/in/src/b.bin" && fail "if-newer: the older b.bin replaced the newer"
cmp "$T/src/sub/c.bin" "$T/in/src/sub/c.bin" || fail "if-newer: c.bin was not replaced"
stop_recv
note ok
