#!/bin/bash
# A closed port fails fast: with no receiver on loopback the kernel
# answers each HELLO with ICMP port unreachable (ECONNREFUSED on the
# connected socket); after a few refusals in a row the sender exits 3
# well under a second, saying the port was refused, instead of waiting
# out --timeout.  Mid-transfer, refusals (a receiver that died or is
# restarting) do not end the send before --timeout: exit 7 after it.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

now() { date +%s.%N; }
since() { python3 -c "print(round($(now) - $1, 3))"; }
within() { python3 -c "import sys; sys.exit(0 if $1 <= $2 else 1)"; }

printf 'x' >"$T/f"
port=$(free_port)
for bin in "$SALVO" "$SALVO_ASAN"; do
	t0=$(now)
	SEND_BIN=$bin run_send refused --json "$T/f" "127.0.0.1:$port"
	took=$(since "$t0")
	note "no receiver ($(basename "$(dirname "$bin")")): exit $SEND_RC after $took s: $(cat "$T/refused.err")"
	[ "$SEND_RC" -eq 3 ] || fail "exit $SEND_RC with nothing on the port, want 3"
	grep -qx "salvo send: connection refused by 127.0.0.1:$port: is 'salvo recv' running there?" \
		"$T/refused.err" || fail "message: $(cat "$T/refused.err")"
	[ "$(jget "$T/refused.out" result)" = unreachable ] || fail "--json result"
done
within "$took" 1 || fail "took $took s to give up on a refused port (sanitizer build), want < 1 s"

# the receiver dies mid-transfer: refusals, but the send lasts --timeout
mkdir -p "$T/in"
make_file "$T/big" 16
start_recv "$T/in"
"$SALVO" send --rate-policy fixed --rate 20mbit --timeout 3s --no-progress "$T/big" \
	"127.0.0.1:$PORT" >"$T/mid.out" 2>"$T/mid.err" &
spid=$!
BG_PIDS+=("$spid")
for i in $(seq 1 100); do
	compgen -G "$T/in/.salvo/*.part" >/dev/null && break
	sleep 0.05
done
compgen -G "$T/in/.salvo/*.part" >/dev/null || fail "no part-file at the receiver after 5 s: $(cat "$T/mid.err")"
kill -KILL "$RECV_PID"
t0=$(now)
wait_exit "$spid" 20 || fail "sender alive 20 s after its receiver died (--timeout 3s)"
took=$(since "$t0")
note "receiver killed mid-transfer: sender exit $WAIT_RC after $took s: $(cat "$T/mid.err")"
[ "$WAIT_RC" -eq 7 ] || fail "exit $WAIT_RC after the receiver died mid-transfer, want 7"
within 2.5 "$took" || fail "gave up $took s after the receiver died, before --timeout 3s"
note ok
