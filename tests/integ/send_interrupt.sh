#!/bin/bash
# SIGINT and SIGTERM: the sender stops, says "interrupted" and exits 130;
# the receiver (not --once) keeps serving, then stops cleanly on SIGTERM
# with exit 0, and no file appears under its final name.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 256
start_recv "$T/in" --idle-timeout 2s
for sig in INT TERM; do
	"$SALVO_ASAN" send --rate-policy fixed --rate 200mbit --json --remote-dir "$sig" "$T/src/big" \
		"127.0.0.1:$PORT" >"$T/$sig.out" 2>"$T/$sig.err" &
	spid=$!
	BG_PIDS+=("$spid")
	sleep 1.5
	kill -0 "$spid" 2>/dev/null || fail "sender ended before SIG$sig"
	kill -"$sig" "$spid"
	wait_exit "$spid" 10 || fail "sender still running 10 s after SIG$sig"
	[ "$WAIT_RC" -eq 130 ] || fail "sender exited $WAIT_RC after SIG$sig, want 130"
	grep -qx 'salvo send: interrupted' "$T/$sig.err" ||
		fail "SIG$sig: stderr '$(cat "$T/$sig.err")' lacks 'salvo send: interrupted'"
	[ "$(jget "$T/$sig.out" result)" = interrupted ] || fail "SIG$sig: --json result"
	[ ! -e "$T/in/$sig/big" ] || fail "SIG$sig: file under its final name"
done
kill -0 "$RECV_PID" || fail "receiver died with its senders"
# still serving
printf 'after\n' >"$T/src/after"
run_send after "$T/src/after" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] && cmp "$T/src/after" "$T/in/after" ||
	fail "receiver did not serve a sender after two interrupted ones: exit $SEND_RC"
stop_recv
grep -q 'stopped (SIGTERM)' "$RECV_LOG" || fail "receiver did not say it stopped"
note ok
