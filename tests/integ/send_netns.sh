#!/bin/bash
# One 64 MiB transfer between two network namespaces joined by a veth
# pair (10.201.N.1 -> 10.201.N.2, addresses that exist only inside them).
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

command -v ip >/dev/null || fail "ip (iproute2) missing"
id=$$
net=$((id % 200 + 20))
NSA=salvoS$id
NSB=salvoR$id
ip netns add "$NSA" || fail "cannot create namespace $NSA (needs root)"
on_exit "ip netns del $NSA"
ip netns add "$NSB" || fail "cannot create namespace $NSB"
on_exit "ip netns del $NSB"
ip link add "vs$id" type veth peer name "vr$id" || fail "cannot create veth pair"
ip link set "vs$id" netns "$NSA"
ip link set "vr$id" netns "$NSB"
ip -n "$NSA" addr add "10.201.$net.1/24" dev "vs$id"
ip -n "$NSB" addr add "10.201.$net.2/24" dev "vr$id"
for ns in "$NSA" "$NSB"; do
	ip -n "$ns" link set lo up
done
ip -n "$NSA" link set "vs$id" up
ip -n "$NSB" link set "vr$id" up
ip netns exec "$NSA" ping -c 1 -W 2 "10.201.$net.2" >/dev/null ||
	fail "no ping from $NSA to 10.201.$net.2"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/payload" 64
RECV_PREFIX=(ip netns exec "$NSB")
RECV_BIND=10.201.$net.2
RECV_BIN=$SALVO start_recv "$T/in" --once
SEND_PREFIX=(ip netns exec "$NSA")
run_send ns --json --rate 2gbit "$T/src/payload" "10.201.$net.2:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send across namespaces: exit $SEND_RC: $(cat "$T/ns.err")"
cmp "$T/src/payload" "$T/in/payload" || fail "64 MiB file differs"
[ "$(sha256sum <"$T/src/payload")" = "$(sha256sum <"$T/in/payload")" ] || fail "sha256 differs"
wait_exit "$RECV_PID" 10 || fail "receiver --once still running after its session"
[ "$WAIT_RC" -eq 0 ] || fail "receiver --once exited $WAIT_RC after a good session"
note "64 MiB across veth: $(jget "$T/ns.out" seconds) s, $(jget "$T/ns.out" goodput_mbps) Mbit/s, srtt $(jget "$T/ns.out" srtt_ms) ms"
note ok
