#!/bin/bash
# IPv6: the datagram follows the address family.  Two namespaces joined
# by a veth pair at MTU 1500 with IPv6 addresses only:
#   the default MTU gives 1452-byte datagrams (1500 - 40 - 8), read back
#     from `salvo send --json`; the file arrives whole and IPv6 fragments
#     nothing on either side (Ip6FragCreates, Ip6ReasmReqds stay 0);
#   an explicit 1460-byte datagram (fits IPv4 at MTU 1500) is refused over IPv6
#     with an error naming network.datagram;
#   at MTU 9000 on both ends the datagram is 8952 bytes.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

id=$$
NSA=salvo6S$id NSB=salvo6R$id VA=v6s$id VB=v6r$id
net=$(printf '%x' $(($$ % 65000 + 1)))
IPA=fd00:5a1:$net::1 IPB=fd00:5a1:$net::2
ip netns add "$NSA" || fail "cannot create namespace $NSA (needs root)"
on_exit "ip netns del $NSA"
ip netns add "$NSB" || fail "cannot create namespace $NSB"
on_exit "ip netns del $NSB"
ip link add "$VA" type veth peer name "$VB" || fail "cannot create veth pair"
ip link set "$VA" netns "$NSA"
ip link set "$VB" netns "$NSB"
for ns in "$NSA" "$NSB"; do
	ip -n "$ns" link set lo up
done
ip -n "$NSA" link set "$VA" mtu 1500 up
ip -n "$NSB" link set "$VB" mtu 1500 up
ip -n "$NSA" -6 addr add "$IPA/64" dev "$VA" nodad
ip -n "$NSB" -6 addr add "$IPB/64" dev "$VB" nodad
for i in $(seq 1 50); do
	ip -n "$NSA" -6 route get "$IPB" >/dev/null 2>&1 && break
	sleep 0.1
done
ip -n "$NSA" -6 route get "$IPB" >/dev/null 2>&1 || fail "no IPv6 route from $NSA to $IPB"

# snmp6 NS COUNTER: one IPv6 counter of a namespace
snmp6() { ip netns exec "$1" awk -v k="$2" '$1 == k {print $2}' /proc/net/snmp6; }

mkdir -p "$T/src" "$T/in"
make_file "$T/src/payload" 16
RECV_PREFIX=(ip netns exec "$NSB")
SEND_PREFIX=(ip netns exec "$NSA")
RECV_BIND=$IPB
start_recv "$T/in" --json

frag0=$(snmp6 "$NSA" Ip6FragCreates)
reasm0=$(snmp6 "$NSB" Ip6ReasmReqds)
run_send v6 --json --rate-policy fixed --rate 500mbit "$T/src/payload" "[$IPB]:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "IPv6 send: exit $SEND_RC: $(cat "$T/v6.err")"
cmp "$T/src/payload" "$T/in/payload" || fail "IPv6: file differs"
dg=$(jget "$T/v6.out" engine datagram_bytes)
[ "$dg" = 1452 ] || fail "IPv6 at MTU 1500: datagram_bytes $dg, want 1452"
frag=$(($(snmp6 "$NSA" Ip6FragCreates) - frag0))
reasm=$(($(snmp6 "$NSB" Ip6ReasmReqds) - reasm0))
[ "$frag" -eq 0 ] || fail "the sender's IPv6 fragmented $frag packets"
[ "$reasm" -eq 0 ] || fail "the receiver reassembled $reasm IPv6 fragments"
note "IPv6, MTU 1500: $dg-byte datagrams, $(jget "$T/v6.out" datagrams) sent, 0 fragments"

run_send v6-1460 --json --datagram 1460 --remote-dir x "$T/src/payload" "[$IPB]:$PORT"
[ "$SEND_RC" -ne 0 ] || fail "a 1460-byte datagram over IPv6 at MTU 1500 was accepted"
grep -q 'network.datagram' "$T/v6-1460.err" "$T/v6-1460.out" ||
	fail "the refusal does not name network.datagram: $(cat "$T/v6-1460.err")"
[ ! -e "$T/in/x/payload" ] || fail "the refused send delivered a file"
note "an explicit 1460-byte datagram over IPv6 is refused: $(head -1 "$T/v6-1460.err")"

ip -n "$NSA" link set "$VA" mtu 9000
ip -n "$NSB" link set "$VB" mtu 9000
run_send v6-jumbo --json --rate-policy fixed --rate 500mbit --mtu 9000 --remote-dir j "$T/src/payload" "[$IPB]:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "IPv6 jumbo send: exit $SEND_RC: $(cat "$T/v6-jumbo.err")"
cmp "$T/src/payload" "$T/in/j/payload" || fail "IPv6 jumbo: file differs"
dg=$(jget "$T/v6-jumbo.out" engine datagram_bytes)
[ "$dg" = 8952 ] || fail "IPv6 at MTU 9000: datagram_bytes $dg, want 8952"
note "IPv6, MTU 9000: $dg-byte datagrams"
stop_recv
note ok
