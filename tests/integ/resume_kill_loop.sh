#!/bin/bash
# Resume under kill -9 at random points (issue 13, item 1): each round
# kills the sender or the receiver (restarted on the same port) at a
# random moment of a 40 MiB send, then sends again; at the end the file
# is identical.  KILL_ROUNDS rounds (3 here; tests/integ/long runs 20),
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
for r in $(seq 1 "$ROUNDS"); do
	rm -f "$T/in/f.bin"
	"$SALVO" send --receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub" \
		--rate-policy fixed --rate 200mbit --no-progress "$T/src/f.bin" \
		"127.0.0.1:$PORT" >"$T/r$r.out" 2>"$T/r$r.err" &
	spid=$!
	BG_PIDS+=("$spid")
	sleep "0.$((RANDOM % 9 + 1))"
	if [ $((RANDOM % 2)) = 0 ]; then
		who=sender
		kill -KILL "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		run_send "again$r" --rate-policy fixed --rate 200mbit --no-progress "$T/src/f.bin" "127.0.0.1:$PORT"
		rc=$SEND_RC
	else
		who=receiver
		restart_recv "$r"
		wait_exit "$spid" 40 || fail "round $r: the sender did not finish after the receiver restart"
		rc=$WAIT_RC
	fi
	[ "$rc" -eq 0 ] || fail "round $r ($who killed): exit $rc: $(cat "$T/again$r.err" "$T/r$r.err" 2>/dev/null | tail -3)"
	cmp "$T/src/f.bin" "$T/in/f.bin" || fail "round $r ($who killed): the file differs"
	note "round $r: $who killed, finished, identical"
done
stop_recv
note ok
