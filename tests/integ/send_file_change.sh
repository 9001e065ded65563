#!/bin/bash
# A file written in place while it is sent (same size, new content): it
# fails alone (exit 10, reason unreadable, a warning that names it and
# says it changed after the scan), its part-file goes, the other file is
# committed.  Before, the sender read on and the receiver committed a
# torn a.bin, half the old bytes and half the new, with exit 0: the
# digest is taken over what was read, so nothing could tell.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/t" "$T/in"
start_recv "$T/in"
head -c 4000000 /dev/urandom >"$T/src/t/a.bin"
head -c 300000 /dev/urandom >"$T/src/t/b.bin"
# a.bin goes first and takes about 1.6 s at 20 Mbit/s (small blocks, one
# thread, so it is read as it goes): rewrite all of it in place at 0.4 s
(
	wait_line "$RECV_LOG" "session_start" 20 "$RECV_PID" || exit 0
	sleep 0.4
	head -c 4000000 /dev/urandom |
		dd of="$T/src/t/a.bin" bs=1M conv=notrunc status=none
	touch "$T/rewritten"
) &
BG_PIDS+=($!)
run_send c "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 20mbit \
	--block-size 64KiB --threads 1 --json
[ -e "$T/rewritten" ] || fail "a.bin was not rewritten during the send"
[ "$SEND_RC" = 10 ] || fail "exit $SEND_RC, want 10 (a.bin failed alone): $(tail -5 "$T/c.err")"
grep -q "a.bin' changed after the scan" "$T/c.err" ||
	fail "no warning naming a.bin as changed: $(cat "$T/c.err")"
python3 - "$T/c.out" <<'PY' || fail "--json: $(head -c 2000 "$T/c.out")"
import json, sys
j = json.load(open(sys.argv[1]))
r = {x["remote"]: x for x in j["file_results"]}
assert r["t/a.bin"]["result"] == "failed", r["t/a.bin"]
assert r["t/a.bin"]["reason"] == "unreadable", r["t/a.bin"]
assert r["t/b.bin"]["result"] == "sent", r["t/b.bin"]
PY
[ ! -e "$T/in/t/a.bin" ] || fail "a.bin was committed (torn: its bytes came from two versions)"
cmp -s "$T/src/t/b.bin" "$T/in/t/b.bin" || fail "b.bin differs"
[ -z "$(find "$T/in/.salvo" -name '*.part' -print -quit 2>/dev/null)" ] ||
	fail "part-files left: $(ls "$T/in/.salvo")"
stop_recv
note ok
