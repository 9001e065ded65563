#!/bin/bash
# One 64 MiB transfer between two network namespaces joined by a veth
# pair (10.201.N.1 -> 10.201.N.2, addresses that exist only inside them).
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

veth_namespaces
mkdir -p "$T/src" "$T/in"
make_file "$T/src/payload" 64
RECV_PREFIX=(ip netns exec "$NSB")
RECV_BIND=$IPB
RECV_BIN=$SALVO start_recv "$T/in" --once
SEND_PREFIX=(ip netns exec "$NSA")
run_send ns --json --rate-policy fixed --rate 2gbit "$T/src/payload" "$IPB:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send across namespaces: exit $SEND_RC: $(cat "$T/ns.err")"
cmp "$T/src/payload" "$T/in/payload" || fail "64 MiB file differs"
[ "$(sha256sum <"$T/src/payload")" = "$(sha256sum <"$T/in/payload")" ] || fail "sha256 differs"
wait_exit "$RECV_PID" 10 || fail "receiver --once still running after its session"
[ "$WAIT_RC" -eq 0 ] || fail "receiver --once exited $WAIT_RC after a good session"
note "64 MiB across veth: $(jget "$T/ns.out" seconds) s, $(jget "$T/ns.out" goodput_mbps) Mbit/s, srtt $(jget "$T/ns.out" srtt_ms) ms"
note ok
