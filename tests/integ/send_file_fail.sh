#!/bin/bash
# Per-file failures mid-transfer (issue 13, item 3): one file that fails
# after the session started no longer fails the whole send.  The
# receiver cannot store two files of a tree of four (a folder appears at
# their names after the receiver prepared the session, so their commits
# fail: the middle one and the last one of the stream); the other two
# are sent and committed, the two end as `failed` (errno 21) in the
# summary and in --json file_results, exit 10, and no part-file is left.
# Before, the session failed at the first of them (exit 5, every file
# "unconfirmed", the later files never committed).
#
# Not fixed yet, so only run with SEND_FILE_FAIL_SOURCE=1 (they still
# fail: exit 6 for the whole send): a source that shrinks or vanishes
# after the scan (sender/engine/reader.c would have to send the file's
# bytes as fill and the receiver drop it).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/t" "$T/in"
start_recv "$T/in" --overwrite replace
head -c 12000000 /dev/urandom >"$T/src/t/a.bin"
head -c 300000 /dev/urandom >"$T/src/t/b.bin"
head -c 300000 /dev/urandom >"$T/src/t/c.bin"
head -c 300000 /dev/urandom >"$T/src/t/d.bin"
# once the receiver prepared the session (so these are not refused up
# front), b.bin and d.bin get a folder at their names
(
	wait_line "$RECV_LOG" "session_start" 20 "$RECV_PID" || exit 0
	mkdir -p "$T/in/t/b.bin" "$T/in/t/d.bin"
) &
BG_PIDS+=($!)
run_send s "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 40mbit --json
[ "$SEND_RC" = 10 ] || fail "exit $SEND_RC, want 10 (some files failed): $(cat "$T/s.err")"
grep -q 'file_failed: failed t/b.bin: ' "$RECV_LOG" ||
	fail "b.bin did not fail at its commit (mid-transfer): $(grep b.bin "$RECV_LOG")"
python3 - "$T/s.out" <<'PY' || fail "--json: $(head -c 2000 "$T/s.out")"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["counts"]
assert c["sent"] == 2 and c["failed"] == 2, c
r = {x["remote"]: x for x in j["file_results"]}
for n in ("t/a.bin", "t/c.bin"):
    assert r[n]["result"] == "sent", r[n]
for n in ("t/b.bin", "t/d.bin"):
    assert r[n]["result"] == "failed" and r[n]["errno"] == 21, r[n]
PY
cmp -s "$T/src/t/a.bin" "$T/in/t/a.bin" || fail "a.bin differs"
cmp -s "$T/src/t/c.bin" "$T/in/t/c.bin" || fail "c.bin (after the failed b.bin) differs"
[ -z "$(find "$T/in/.salvo" -name '*.part' -print -quit)" ] ||
	fail "part-files left: $(ls "$T/in/.salvo")"
grep -q 'session_complete: .* complete: 2 files' "$RECV_LOG" ||
	fail "the receiver's session did not complete with 2 files"

if [ "${SEND_FILE_FAIL_SOURCE:-0}" = 1 ]; then
	for how in shrink vanish; do
		rm -rf "$T/in/t"
		head -c 300000 /dev/urandom >"$T/src/t/b.bin"
		rm -f "$T/src/t/d.bin"
		(
			wait_line "$RECV_LOG" "session_start.*4 entries\|session_start.*3 entries" 20 "$RECV_PID" || exit 0
			sleep 0.3
			case $how in
			shrink) truncate -s 1000 "$T/src/t/b.bin" ;;
			vanish) rm "$T/src/t/b.bin" ;;
			esac
		) &
		BG_PIDS+=($!)
		: >"$RECV_LOG.mark"
		run_send "s-$how" "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 40mbit --json
		[ "$SEND_RC" = 10 ] || fail "source $how: exit $SEND_RC, want 10: $(cat "$T/s-$how.err")"
	done
else
	note "skipped: a source that shrinks or vanishes after the scan still fails the whole send (exit 6); SEND_FILE_FAIL_SOURCE=1 runs it"
fi
stop_recv
note ok
