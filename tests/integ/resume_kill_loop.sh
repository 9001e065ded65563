#!/bin/bash
# Resume under kill -9 at random points (issue 13, item 1): each round
# kills the sender (odd rounds) or the receiver (even rounds; restarted on
# the same port) at a random moment of a 40 MiB send, then sends again;
# at the end the file is identical, and a re-run after a killed sender
# put at most what was missing + 2 x block size x threads + 1 % on the
# wire.  KILL_ROUNDS rounds (3 here; tests/integ/long runs 20),
# seed in KILL_SEED (printed).
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

ROUNDS=${KILL_ROUNDS:-3}
SEED=${KILL_SEED:-$RANDOM}
RANDOM=$SEED
note "seed $SEED, $ROUNDS rounds (replay: KILL_SEED=$SEED)"
mkdir -p "$T/src" "$T/in"
make_file "$T/src/f.bin" 40
start_recv "$T/in"
restart_recv() {
	kill -KILL "$RECV_PID" 2>/dev/null || true
	wait "$RECV_PID" 2>/dev/null || true
	RECV_LOG=$T/recv-$PORT-$1.log
	"$SALVO_ASAN" recv --dir "$T/in" --port "$PORT" --bind "$RECV_BIND" \
		--allow-anonymous >/dev/null 2>"$RECV_LOG" &
	RECV_PID=$!
	BG_PIDS+=("$RECV_PID")
	wait_line "$RECV_LOG" "^listening on " 20 "$RECV_PID" || fail "receiver restart: $(cat "$RECV_LOG")"
}
TOTAL=$((40 << 20))
# resumed_since N: how many bytes the newest resume of f.bin that the
# receiver now running logged after its first N such lines held (0: none)
resumes() { grep -c "resuming 'f.bin'" "$RECV_LOG" || true; }
resumed_since() {
	local line
	line=$(grep "resuming 'f.bin'" "$RECV_LOG" | tail -n +"$(($1 + 1))" | tail -1)
	[ -n "$line" ] || { echo 0; return; }
	sed -n "s/.*resuming 'f.bin': \([0-9]*\) of.*/\1/p" <<<"$line"
}
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$T/in/f.bin"
	"$SALVO" send --receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub" \
		--rate-policy fixed --rate 200mbit --no-progress --json "$T/src/f.bin" \
		"127.0.0.1:$PORT" >"$T/r$r.out" 2>"$T/r$r.err" &
	spid=$!
	BG_PIDS+=("$spid")
	# anywhere in the ~1.7 s the send takes (or just after it)
	at=$((RANDOM % 18 + 1))
	sleep "$((at / 10)).$((at % 10))"
	# odd rounds kill the sender, even ones the receiver
	if [ $((r % 2)) = 1 ]; then
		who=sender
		kill -KILL "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		before=$(resumes)
		run_send "again$r" --rate-policy fixed --rate 200mbit --no-progress --json "$T/src/f.bin" "127.0.0.1:$PORT"
		rc=$SEND_RC
		out=$T/again$r.out
	else
		who=receiver
		restart_recv "$r"
		before=0
		wait_exit "$spid" 40 || fail "round $r: the sender did not finish after the receiver restart"
		rc=$WAIT_RC
		out=$T/r$r.out
	fi
	[ "$rc" -eq 0 ] || fail "round $r ($who killed at 0.$at s): exit $rc: $(cat "$T/again$r.err" "$T/r$r.err" 2>/dev/null | tail -3)"
	cmp "$T/src/f.bin" "$T/in/f.bin" || fail "round $r ($who killed): the file differs"
	held=$(resumed_since "$before")
	msg="round $r: $who killed at $((at / 10)).$((at % 10)) s, finished, identical; $held bytes resumed"
	if [ "$who" = sender ]; then
		# the re-run put at most what was missing + 2 x block x threads
		# + 1 % on the wire
		wire=$(jget "$out" wire_bytes)
		limit=$((TOTAL - held + 2 * $(jget "$out" engine block_bytes) * $(jget "$out" engine threads) + TOTAL / 100))
		[ "$wire" -le "$limit" ] || fail "round $r: the re-run sent $wire bytes, more than $limit ($held resumed)"
		# (a kill after the end leaves an identical file: held, not resumed)
		[ "$held" -eq 0 ] || [ "$(jget "$out" counts held_bytes)" -eq "$held" ] ||
			fail "round $r: the sender's held_bytes is not the $held the receiver resumed"
		msg="$msg, re-run $wire on the wire (limit $limit)"
	fi
	note "$msg"
done
stop_recv
note ok
