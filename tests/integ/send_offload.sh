#!/bin/bash
# UDP segmentation offload (GSO on the sender, GRO on the receiver) and
# its fallbacks, on real sockets:
#   loopback: both sides offloading, and each side alone, end verified;
#   veth at MTU 1500 with 8972-byte datagrams: GSO is not planned (the
#     kernel would refuse it for datagrams IP must fragment);
#   veth at MTU 9000 shrunk to 1500 mid-transfer: the kernel starts
#     refusing GSO sends; the sender resends those datagrams plainly and
#     the file still arrives whole.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src"
make_file "$T/src/payload" 48

# transfer NAME EXPECTED_GSO SEND_ARGS... -- RECV_ARGS...
transfer() {
	local name=$1 want=$2 sargs=() rargs=()
	shift 2
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	rargs=("$@")
	rm -rf "$T/in"; mkdir -p "$T/in"
	RECV_BIN=${BIN:-$SALVO} start_recv "$T/in" --once --json "${rargs[@]}"
	SEND_BIN=${BIN:-$SALVO} run_send "$name" --json "${sargs[@]}" "$T/src/payload" "$RECV_BIND:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "$name: send exit $SEND_RC: $(cat "$T/$name.err")"
	wait_exit "$RECV_PID" 10 || fail "$name: receiver --once still running"
	[ "$WAIT_RC" -eq 0 ] || fail "$name: receiver exited $WAIT_RC"
	cmp "$T/src/payload" "$T/in/payload" || fail "$name: file differs"
	local got
	got=$(jget "$T/$name.out" engine gso_segments)
	[ "$got" = "$want" ] || fail "$name: gso_segments $got, expected $want"
	note "$name: $(jget "$T/$name.out" goodput_mbps) Mbit/s, gso_segments $got," \
		"$(jget "$T/$name.out" datagrams) datagrams, retx $(jget "$T/$name.out" retx_pct) %"
}

# loopback, 1472-byte datagrams: 44 to a GSO message (the first pair
# under the sanitizers: the GRO train splitting is theirs to check)
BIN=$SALVO_ASAN transfer both 44 --rate-policy fixed --rate 1gbit -- 
[ "$(jget "$RECV_OUT" engine offload)" = auto ] || fail "receiver JSON: offload not auto"
transfer gso-only 44 --rate-policy fixed --rate 1gbit -- --offload off
[ "$(jget "$RECV_OUT" engine offload)" = off ] || fail "receiver JSON: offload not off"
transfer gro-only 0 --rate-policy fixed --rate 1gbit --offload off --
# 7 datagrams of 8972 bytes fit one UDP payload
transfer jumbo 7 --rate-policy fixed --rate 1gbit --mtu 9000 --

veth_namespaces
RECV_PREFIX=(ip netns exec "$NSB")
SEND_PREFIX=(ip netns exec "$NSA")
RECV_BIND=$IPB
transfer veth-fragmenting 0 --rate-policy fixed --rate 1gbit --mtu 9000 --

ip -n "$NSA" link set "$VA" mtu 9000
ip -n "$NSB" link set "$VB" mtu 9000
transfer veth-jumbo 7 --rate-policy fixed --rate 1gbit --mtu 9000 --
# the path shrinks under a running transfer (48 MiB at 300 Mbit/s: ~1.3 s)
(
	sleep 0.5
	ip -n "$NSA" link set "$VA" mtu 1500
	ip -n "$NSB" link set "$VB" mtu 1500
) &
shrink=$!
BG_PIDS+=("$shrink")
transfer veth-shrunk 0 --rate-policy fixed --rate 300mbit --mtu 9000 --
wait "$shrink" || true
note ok
