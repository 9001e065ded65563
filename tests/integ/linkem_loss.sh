#!/bin/bash
# linkem self-test: over 100,000 UDP datagrams, random loss matches its
# setting within 5 standard deviations, Gilbert-Elliott loss its mean rate
# and mean burst length, and the counters add up with what the ends saw.
# The probes go at 20,000 packets/s, slow enough that the hosts' own
# socket buffers never drop one (losses must all be linkem's).
set -euo pipefail
. "$(dirname "$0")/../../perf/testlib.sh"

N=100000
# a>b: 1 % Bernoulli.  b>a: bursts, P(good->bad) 1 %, P(bad->good) 20 %:
# mean loss p/(p+r) = 4.76 %, mean burst 1/r = 5 packets.
lab_start loss --emulator linkem --seed 7 --ab-loss 1% --ba-loss-ge 1%,20% >/dev/null

run() { # from to to_addr
	local out
	lab "$2" timeout 40 python3 "$PROBE" recv --port 7002 --idle 1.5 --deadline 30 >"$TMP/recv" &
	local rpid=$!
	sleep 0.3
	lab "$1" timeout 30 python3 "$PROBE" send --dst "$3" --port 7002 --count $N --size 64 \
		--pps 20000 >/dev/null || fail "sender $1 failed"
	wait "$rpid" || fail "receiver on $2 failed"
	cat "$TMP/recv"
}
TMP=$(mktemp -d)
trap 'lab_stop; rm -rf "$TMP"' EXIT

# --- Bernoulli, A to B
r=$(run A B 10.77.0.2)
echo "a>b 1% Bernoulli: $r"
lost=$(( N - $(jget "$r" unique) ))
# sigma = sqrt(N p (1-p)) = 31.5 packets at 1 %
fcheck "abs($lost - 1000) <= 5 * 31.5" "a>b lost $lost of $N, want 1000 +- 158"
fcheck "$(jget "$r" duplicates) == 0 and $(jget "$r" late) == 0" "a>b duplicates or reordering: $r"
check_counters 'a>b'
[ "${CTR[in_pkts]}" -eq "$N" ] ||
	fail "linkem a>b read ${CTR[in_pkts]} of $N sent (A dropped $(dev_tx_dropped A) before linkem)"
[ "${CTR[drop_loss]}" -eq "$lost" ] || fail "linkem dropped ${CTR[drop_loss]}, receiver missed $lost"

# --- Gilbert-Elliott, B to A
r=$(run B A 10.77.0.1)
echo "b>a GE 1%,20%: $r"
lost=$(( N - $(jget "$r" unique) ))
fcheck "abs($lost / $N - 0.01 / 0.21) <= 0.2 * 0.01 / 0.21" \
	"b>a GE loss $lost of $N, want 4.76 % +- 20 %"
fcheck "4.0 <= $(jget "$r" mean_burst) <= 6.0" "b>a GE mean burst $(jget "$r" mean_burst), want 5 +- 1"
check_counters 'b>a'
[ "${CTR[drop_loss]}" -eq "$lost" ] || fail "linkem dropped ${CTR[drop_loss]}, receiver missed $lost"
echo "linkem_loss: ok"
