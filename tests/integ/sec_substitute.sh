#!/bin/bash
# Issue 12, findings 2 and 3: a host that can send from the sender's IP
# address (any port) and reads the session id off the wire cannot end,
# stall or feed a transfer.  While a 64 MiB file moves over loopback, an
# attacker sniffs lo (AF_PACKET), takes the session id from the first
# sealed packet to the receiver, and sprays the receiver from 127.0.0.1
# with what broke protocol 2: a 13-byte CLOSE and an ERROR in version 2's
# format, and in version 3's format a CLOSE, an ERROR, a FILE_DONE with its
# own digest, and DATA for every block with a bogus CRC, each under the
# live session id with a tag it made up.  The transfer must complete
# identical, the sender exit 0, and the attacker must have seen the
# session (else the test proves nothing).  On protocol 2 the first CLOSE
# ended the session (the sender reported "unknown session").
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 64
RECV_BIN=$SALVO start_recv "$T/in" --once --json

timeout -k 2 30 python3 - "$PORT" >"$T/attack.out" 2>&1 <<'PY' &
import os, socket, struct, sys, time
port = int(sys.argv[1])
ETH_P_ALL = 3
sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sniff.bind(("lo", 0))
sniff.settimeout(0.2)
session, end = None, time.time() + 20
while session is None and time.time() < end:
    try:
        frame = sniff.recv(65535)
    except socket.timeout:
        continue
    ip = frame[14:]                      # lo frames carry an Ethernet header
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    if struct.unpack(">H", udp[2:4])[0] != port:
        continue
    p = udp[8:]
    # a session packet of protocol 3 (or 2): version, type, flags, lane,
    # session
    if len(p) >= 13 and p[0] in (2, 3) and p[1] in (1, 5, 6, 7, 8, 9, 10):
        session = struct.unpack(">I", p[4:8])[0]
if session is None:
    print("no session seen"); sys.exit(1)
print("session %08x" % session)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # another port
tag = os.urandom(16)
def sealed(t, lane, pn, body):
    return struct.pack(">BBBBIQ", 3, t, 0, lane, session, pn) + body + tag
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF
def v2(t, body):  # protocol 2's control packets: a CRC32C trailer
    b = struct.pack(">BBBBI", 2, t, 0, 0, session) + body
    return b + struct.pack(">I", crc32c(b))
msg = b"disk full"
pkts = [v2(9, b"\x01"),                                  # 13-byte CLOSE
        v2(10, struct.pack(">iiIH", -1106, 28, 0, len(msg)) + msg)]
sent, pn = 0, 1 << 40
while time.time() < end:
    pn += 1
    pkts2 = pkts + [
        sealed(9, 0, pn, b"\x01"),
        sealed(10, 0, pn + 1, struct.pack(">iiIH", -1106, 28, 0, len(msg)) + msg),
        sealed(8, 0, pn + 2, struct.pack(">IH", 0, 1) + b"\xee" * 32),
    ] + [sealed(1, 1 + b % 4, pn + 3 + b,
                struct.pack(">III", b, 0, 0xdeadbeef) + b"x" * 1428)
         for b in range(16)]
    for q in pkts2:
        try:
            s.sendto(q, ("127.0.0.1", port))
            sent += 1
        except OSError:
            pass
    pn += 32
    time.sleep(0.002)
print("sent", sent)
PY
ATTACK=$!
on_exit "kill $ATTACK 2>/dev/null || true"
sleep 0.5
run_send big --json --rate-policy fixed --rate 200mbit "$T/src/big" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send under attack: exit $SEND_RC: $(cat "$T/big.err")"
cmp "$T/src/big" "$T/in/big" || fail "the file differs"
wait_exit "$RECV_PID" 30 || fail "salvo recv --once did not exit"
[ "$WAIT_RC" -eq 0 ] || fail "salvo recv --once exited $WAIT_RC"
kill "$ATTACK" 2>/dev/null || true
wait "$ATTACK" || true
grep -q '^session ' "$T/attack.out" ||
	fail "the attacker never saw the session: $(cat "$T/attack.out")"
bad=$(jget "$RECV_OUT" malformed)
[ "$bad" -gt 0 ] || fail "the receiver counted none of the protocol 2 packets"
note "64 MiB identical while an attacker that knew $(head -1 "$T/attack.out") sprayed forged CLOSE, ERROR, FILE_DONE and DATA from 127.0.0.1; receiver dropped $bad as malformed (and the forgeries at their tags)"
note ok
