#!/bin/bash
# linkem self-test: over 100,000 UDP datagrams, random loss matches its
# setting within 5 standard deviations, Gilbert-Elliott loss its mean rate
# and mean burst length, and the counters add up with what the ends saw.
# The probes go at 20,000 packets/s, slow enough that the hosts' own
# socket buffers do not drop one on a quiet machine.  The rates are
# checked on linkem's own loss counter, which no host drop can move; on
# a machine loaded from elsewhere (a CI run beside other jobs once saw
# 1,201 missing for linkem's ~1,000) the hosts may drop a few more, which
# the receiver's count must then explain: at least linkem's drops, at
# most 1 % of the probes beyond them, each such drop reported.
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

# accounted DIR LOST PRE: the receiver missed LOST; linkem's random drops
# and PRE, those the sending host's lab0 dropped before linkem read them
# (its tx_dropped: linkem starved of CPU), explain them, up to 1 % more
# dropped by the hosts (reported)
accounted() {
	local extra=$(($2 - ${CTR[drop_loss]} - $3))
	[ "$extra" -ge 0 ] || fail "$1: linkem dropped ${CTR[drop_loss]}, the receiver missed only $2"
	[ "$extra" -le $((N / 100)) ] ||
		fail "$1: the receiver missed $2, linkem dropped ${CTR[drop_loss]}: $extra more lost outside linkem"
	[ "$extra" -eq 0 ] || echo "note: $1: $extra datagrams lost outside linkem (a busy machine's hosts)"
}

# --- Bernoulli, A to B
r=$(run A B 10.77.0.2)
echo "a>b 1% Bernoulli: $r"
lost=$(( N - $(jget "$r" unique) ))
fcheck "$(jget "$r" duplicates) == 0 and $(jget "$r" late) == 0" "a>b duplicates or reordering: $r"
check_counters 'a>b'
# what linkem did not read, the sending host's device dropped (counted):
# on a machine loaded from elsewhere linkem is not always there to read
# (a CI run beside other jobs: 3,600 of 100,000); the rates below are
# checked on what linkem read
pre=$(dev_tx_dropped A)
[ "$((${CTR[in_pkts]} + pre))" -ge $((N - N / 100)) ] ||
	fail "linkem a>b read ${CTR[in_pkts]} of $N sent, A dropped $pre before linkem: the rest vanished"
[ "${CTR[in_pkts]}" -ge $((N / 2)) ] ||
	fail "linkem a>b read ${CTR[in_pkts]} of $N sent (A dropped $pre before linkem): too few to judge"
[ "$pre" -eq 0 ] || echo "note: a>b: A's lab0 dropped $pre before linkem (a busy machine)"
# sigma = sqrt(n p (1-p)) = 31.5 packets at 1 % of 100,000
fcheck "abs(${CTR[drop_loss]} - ${CTR[in_pkts]} / 100) <= 5 * 31.5" \
	"a>b linkem dropped ${CTR[drop_loss]} of ${CTR[in_pkts]}, want 1 % +- 158"
accounted 'a>b' "$lost" "$pre"

# --- Gilbert-Elliott, B to A
r=$(run B A 10.77.0.1)
echo "b>a GE 1%,20%: $r"
lost=$(( N - $(jget "$r" unique) ))
check_counters 'b>a'
pre=$(dev_tx_dropped B)
[ "$pre" -eq 0 ] || echo "note: b>a: B's lab0 dropped $pre before linkem (a busy machine)"
fcheck "abs(${CTR[drop_loss]} / ${CTR[in_pkts]} - 0.01 / 0.21) <= 0.2 * 0.01 / 0.21" \
	"b>a GE: linkem dropped ${CTR[drop_loss]} of ${CTR[in_pkts]}, want 4.76 % +- 20 %"
fcheck "4.0 <= $(jget "$r" mean_burst) <= 6.0" "b>a GE mean burst $(jget "$r" mean_burst), want 5 +- 1"
accounted 'b>a' "$lost" "$pre"
echo "linkem_loss: ok"
