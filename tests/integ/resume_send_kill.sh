#!/bin/bash
# Interrupted sends resume (issue 13, item 1): a sender killed with -9
# mid-transfer, then the same command again: it finishes, the file is
# identical, and the bytes it put on the wire are at most what the
# receiver was missing + 2 x block size x threads + 1 % (the receiver
# kept the part-file with its verified-block map, and its old session is
# superseded by the new one).  The same after Ctrl-C (SIGINT: the
# sender's CLOSE leaves the part-file resumable).  Then a damaged map: the part-file is
# discarded (logged), never trusted, and the file still arrives intact.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big.bin" 100
TOTAL=$((100 << 20))
start_recv "$T/in"
ARGS=(--rate-policy fixed --rate 200mbit --no-progress --json "$T/src/big.bin" "127.0.0.1:$PORT")

send_and_kill() { # seconds [signal]
	local rkey=(--receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub")
	"$SALVO" send "${rkey[@]}" "${ARGS[@]}" >"$T/killed.out" 2>"$T/killed.err" &
	local spid=$! rc=0
	BG_PIDS+=("$spid")
	sleep "$1"
	kill -0 "$spid" 2>/dev/null || fail "the sender ended before it was killed: $(cat "$T/killed.err")"
	kill -"${2:-KILL}" "$spid"
	wait "$spid" 2>/dev/null || rc=$?
	[ "${2:-KILL}" = KILL ] || [ "$rc" -eq 130 ] ||
		fail "exit $rc after SIG$2, want 130: $(cat "$T/killed.err")"
}

# check_resumed NAME HOW: the re-run NAME ended well, the receiver logged
# a new resume of big.bin, and NAME put at most what was missing + 2 x
# block size x threads + 1 % on the wire
check_resumed() {
	local name=$1 how=$2 line held missing wire block threads limit
	[ "$SEND_RC" -eq 0 ] || fail "$how: the re-run exited $SEND_RC: $(cat "$T/$name.err")"
	cmp "$T/src/big.bin" "$T/in/big.bin" || fail "$how: the resumed file differs"
	[ "$(grep -c "resuming 'big.bin'" "$RECV_LOG")" -gt "$RESUMES" ] ||
		fail "$how: the receiver did not resume: $(tail -5 "$RECV_LOG")"
	RESUMES=$(grep -c "resuming 'big.bin'" "$RECV_LOG")
	line=$(grep "resuming 'big.bin'" "$RECV_LOG" | tail -1)
	held=$(sed -n "s/.*resuming 'big.bin': \([0-9]*\) of.*/\1/p" <<<"$line")
	missing=$((TOTAL - held))
	wire=$(jget "$T/$name.out" wire_bytes)
	block=$(jget "$T/$name.out" engine block_bytes)
	threads=$(jget "$T/$name.out" engine threads)
	limit=$((missing + 2 * block * threads + TOTAL / 100))
	note "resume after $how: $held bytes held, $missing missing, $wire on the wire (limit $limit)"
	[ "$held" -gt 0 ] || fail "$how: nothing was resumed"
	[ "$wire" -le "$limit" ] || fail "$how: $wire bytes on the wire to finish, more than $limit"
	python3 - "$T/$name.out" <<'EOF' || fail "$how: file_results: $(cat "$T/$name.out")"
import json, sys
r = json.load(open(sys.argv[1]))["file_results"]
assert [(e["result"], e["reason"]) for e in r] == [("sent", "resumed")], r
EOF
	[ "$(jget "$T/$name.out" counts held_bytes)" -eq "$held" ] ||
		fail "$how: the sender's held_bytes is not the $held the receiver resumed"
	[ -z "$(find "$T/in/.salvo" -name 'r-*')" ] || fail "$how: resume files left after the commit: $(ls "$T/in/.salvo")"
}
RESUMES=0

# (a) killed at 2 s of about 4.4 s, then again
send_and_kill 2
sleep 1.2 # the map is written at least every second
run_send again "${ARGS[@]}"
check_resumed again "kill -9"

# (b) Ctrl-C at 2 s (exit 130), then the same command: the CLOSE(abort)
# leaves the part-file and its map, so it resumes too
rm -f "$T/in/big.bin"
send_and_kill 2 INT
run_send again-int "${ARGS[@]}"
check_resumed again-int "Ctrl-C"

# (d) a damaged map: discarded and logged, the file still arrives intact
rm -f "$T/in/big.bin"
send_and_kill 2
# a receiver stopping writes its maps a last time; the one starting
# next finds the damage (a live session would rewrite the map first)
stop_recv
map=$(find "$T/in/.salvo" -name 'r-*.map' | head -1)
[ -n "$map" ] || fail "no map after the second kill"
printf 'X' | dd of="$map" bs=1 seek=40 conv=notrunc status=none
start_recv "$T/in"
ARGS=(--rate-policy fixed --rate 200mbit --no-progress --json "$T/src/big.bin" "127.0.0.1:$PORT")
run_send damaged "${ARGS[@]}"
[ "$SEND_RC" -eq 0 ] || fail "the send after a damaged map exited $SEND_RC: $(cat "$T/damaged.err")"
cmp "$T/src/big.bin" "$T/in/big.bin" || fail "the file differs after a damaged map"
grep -q "discarded the partial 'big.bin'" "$RECV_LOG" ||
	fail "the damaged map was not reported: $(tail -5 "$RECV_LOG")"
note "damaged map: $(grep -m1 "discarded the partial" "$RECV_LOG" | sed 's/.*resume_discarded: //')"
stop_recv
note ok
