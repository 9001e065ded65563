#!/bin/bash
# Datagrams that are malformed or belong to no session never disturb a
# running transfer: while a 64 MiB file moves, a second process sprays the
# receiver's port with random bytes, truncated and bit-flipped salvo
# packets, and well-formed packets for sessions that do not exist.  The
# transfer completes identical, and the receiver counts what it dropped.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 64
RECV_BIN=$SALVO start_recv "$T/in" --once --json

# the spray: bounded to 20 s and to 200,000 datagrams; well-formed
# packets carry the protocol version this build speaks
version=$(awk '/define SALVO_PROTOCOL_VERSION/ {print $3}' "$ROOT/common/core/version.h")
timeout -k 2 20 python3 - "$PORT" "$version" >"$T/spray.out" 2>&1 <<'PY' &
import os, random, socket, struct, sys, time
port, version = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rnd = random.Random(7)
# a STATUS for a session that does not exist: a well-formed sealed
# header and body (protocol 3), a tag nobody can check
body = struct.pack(">BBBBIQ", version, 7, 0, 0, 0x12345678, 1) + \
    struct.pack(">BIQQQ", 1, 0, 1, 0, 0)
status = body + bytes(16)
sent, end = 0, time.time() + 15
while sent < 200000 and time.time() < end:
    k = sent % 4
    if k == 0:
        pkt = os.urandom(rnd.randint(0, 1500))
    elif k == 1:
        pkt = bytes([version, rnd.randint(0, 12)]) + os.urandom(rnd.randint(0, 60))
    elif k == 2:
        b = bytearray(status)
        b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        pkt = bytes(b)
    else:
        pkt = status
    try:
        s.sendto(pkt, ("127.0.0.1", port))
    except OSError:
        pass
    sent += 1
    if sent % 64 == 0:
        time.sleep(0.001)
print(sent)
PY
SPRAY=$!
on_exit "kill $SPRAY 2>/dev/null || true"
sleep 0.3
run_send big --json --rate-policy fixed --rate 300mbit "$T/src/big" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send under the spray: exit $SEND_RC: $(cat "$T/big.err")"
cmp "$T/src/big" "$T/in/big" || fail "the file differs"
wait_exit "$RECV_PID" 30 || fail "salvo recv --once did not exit"
[ "$WAIT_RC" -eq 0 ] || fail "salvo recv --once exited $WAIT_RC"
wait "$SPRAY" || true
bad=$(jget "$RECV_OUT" malformed)
unknown=$(jget "$RECV_OUT" unknown)
[ "$bad" -gt 0 ] || fail "the receiver counted no malformed datagrams"
[ "$unknown" -gt 0 ] || fail "the receiver counted no datagrams for unknown sessions"
note "64 MiB identical under a spray of $(cat "$T/spray.out") datagrams; receiver dropped $bad malformed, $unknown for no session"
note ok
