#!/bin/bash
# The receiver's key, pinned on first use (known_hosts), on later runs:
# the first send pins it (a notice, "pinned": false in --json); the next
# one starts its handshake with the pinned key ("pinned": true) and still
# works; a receiver that comes back with another key on the same port is
# refused at once (well under --timeout), naming both fingerprints, the
# known_hosts line and the fix, and nothing is written.  Failed before the
# pinned key was used: "pinned" was missing from --json, and every send
# spent a round trip asking for the key.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
RECV_ANON=0

mkdir -p "$T/in" "$T/src" "$T/etc/salvo"
printf 'pinned\n' >"$T/src/f"
"$SALVO" keygen --out "$T/alice" >/dev/null 2>&1
"$SALVO" keygen --out "$T/r1" >/dev/null 2>&1
"$SALVO" keygen --out "$T/r2" >/dev/null 2>&1
"$SALVO" keygen --show --out "$T/alice" --dir a 2>/dev/null >"$T/authorized_keys"
KH=$T/known_hosts
send() { # name
	run_send "$1" --key "$T/alice" --known-hosts "$KH" --json --timeout 10s \
		"$T/src/f" "127.0.0.1:$PORT"
}

start_recv "$T/in" --key "$T/r1" --authorized-keys "$T/authorized_keys"
send first
[ "$SEND_RC" = 0 ] || fail "first send: exit $SEND_RC: $(cat "$T/first.err")"
grep -q "pinned the key of receiver 127.0.0.1:$PORT" "$T/first.err" ||
	fail "no notice of the pin: $(cat "$T/first.err")"
[ "$(jget "$T/first.out" identity pin pinned)" = False ] ||
	fail "first send: pin.pinned is not false: $(cat "$T/first.out")"
grep -q "^127.0.0.1:$PORT salvo-x25519 " "$KH" || fail "known_hosts has no line: $(cat "$KH")"
rm -f "$T/in/a/f"

send second
[ "$SEND_RC" = 0 ] || fail "second send: exit $SEND_RC: $(cat "$T/second.err")"
[ "$(jget "$T/second.out" identity pin pinned)" = True ] ||
	fail "second send did not start with the pinned key"
! grep -q "pinned the key" "$T/second.err" || fail "second send pinned again"
cmp "$T/src/f" "$T/in/a/f" || fail "second send: file differs"
rm -f "$T/in/a/f"
note "first send pinned the key; the second started its handshake with it"

# the same port, another key: refused at once, with the fix
stop_recv
P=$PORT
"$SALVO_ASAN" recv --dir "$T/in" --port "$P" --bind 127.0.0.1 --key "$T/r2" \
	--authorized-keys "$T/authorized_keys" >"$T/r2.out" 2>"$T/r2.log" &
RECV_PID=$!
BG_PIDS+=("$RECV_PID")
wait_line "$T/r2.log" "^listening on .*:$P, writing below " 20 "$RECV_PID" ||
	fail "second receiver did not start"
t0=$(date +%s%N)
send changed
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$SEND_RC" != 0 ] || fail "a changed receiver key was accepted"
FP1=$("$SALVO" keygen --show --out "$T/r1" 2>&1 >/dev/null | grep -o 'b2:[^ ]*')
FP2=$("$SALVO" keygen --show --out "$T/r2" 2>&1 >/dev/null | grep -o 'b2:[^ ]*')
grep -q "presents key $FP2, but this file pins key $FP1" "$T/changed.err" ||
	fail "refusal does not name both keys: $(cat "$T/changed.err")"
grep -q "delete line 1 of $KH" "$T/changed.err" || fail "refusal without the fix"
[ "$ms" -lt 3000 ] || fail "the changed key took $ms ms to refuse (--timeout is 10 s)"
[ ! -e "$T/in/a/f" ] || fail "a file was written for a receiver with a changed key"
note "changed key refused in $ms ms: $(head -c 160 "$T/changed.err")..."
note ok
