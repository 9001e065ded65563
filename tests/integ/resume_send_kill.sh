#!/bin/bash
# Interrupted sends resume (issue 13, item 1): a sender killed with -9
# mid-transfer, then the same command again: it finishes, the file is
# identical, and the bytes it put on the wire are at most what the
# receiver was missing + 2 x block size x threads + 1 % (the receiver
# kept the part-file with its verified-block map, and its old session is
# superseded by the new one).  Then a damaged map: the part-file is
# discarded (logged), never trusted, and the file still arrives intact.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big.bin" 100
TOTAL=$((100 << 20))
start_recv "$T/in"
ARGS=(--rate-policy fixed --rate 200mbit --no-progress --json "$T/src/big.bin" "127.0.0.1:$PORT")

send_and_kill() { # seconds
	local rkey=(--receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub")
	"$SALVO" send "${rkey[@]}" "${ARGS[@]}" >"$T/killed.out" 2>"$T/killed.err" &
	local spid=$!
	BG_PIDS+=("$spid")
	sleep "$1"
	kill -0 "$spid" 2>/dev/null || fail "the sender ended before it was killed: $(cat "$T/killed.err")"
	kill -KILL "$spid"
	wait "$spid" 2>/dev/null || true
}

# (a) killed at 2 s of about 4.4 s, then again
send_and_kill 2
sleep 1.2 # the map is written at least every second
run_send again "${ARGS[@]}"
[ "$SEND_RC" -eq 0 ] || fail "the re-run exited $SEND_RC: $(cat "$T/again.err")"
cmp "$T/src/big.bin" "$T/in/big.bin" || fail "the resumed file differs"
line=$(grep -m1 "resuming 'big.bin'" "$RECV_LOG") || fail "the receiver did not resume: $(tail -5 "$RECV_LOG")"
held=$(sed -n "s/.*resuming 'big.bin': \([0-9]*\) of.*/\1/p" <<<"$line")
missing=$((TOTAL - held))
wire=$(jget "$T/again.out" wire_bytes)
block=$(jget "$T/again.out" engine block_bytes)
threads=$(jget "$T/again.out" engine threads)
limit=$((missing + 2 * block * threads + TOTAL / 100))
note "resume after kill -9: $held bytes held, $missing missing, $wire on the wire (limit $limit)"
[ "$held" -gt 0 ] || fail "nothing was resumed"
[ "$wire" -le "$limit" ] || fail "$wire bytes on the wire to finish, more than $limit"
[ -z "$(find "$T/in/.salvo" -name 'r-*')" ] || fail "resume files left after the commit: $(ls "$T/in/.salvo")"

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
