#!/bin/bash
# linkem self-test: an iperf3 UDP stream offered above the rate limit
# arrives at the limit (within 3 %), at MTU 1500 and 9000; the excess is
# dropped by the queue, and the counters add up.  A TCP stream through the
# same link gets most of the rate (a loose check: TCP's own dynamics).
# The first second (the queue filling) is left out of the measurement, and
# the rates stay well below linkem's ceiling so that the VM's scheduling
# noise does not eat the 3 %.
set -euo pipefail
. "$(dirname "$0")/../../perf/testlib.sh"
command -v iperf3 >/dev/null || fail "iperf3 missing (apt-get install iperf3)"

# udp_at_rate MTU RATE_MBIT [LAST]: one measurement; off by more than 3 %
# it fails when LAST is 1, else returns 1 for another try
udp_at_rate() { # mtu rate_mbit
	local mtu=$1 mbit=$2 payload=$(($1 - 28)) last=${3:-1}
	lab_start rate --emulator linkem --mtu "$mtu" --ab-rate "${mbit}mbit" --ab-queue 256k >/dev/null
	lab B timeout 30 iperf3 -s -1 -p 5301 >/dev/null &
	sleep 0.3
	local j
	j=$(lab A timeout 30 iperf3 -c 10.77.0.2 -p 5301 -u -b "$((mbit * 12 / 10))M" -l "$payload" \
		-t 5 -O 1 -w 4M -J 2>/dev/null) || fail "iperf3 UDP client failed"
	wait
	local got
	got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"])' "$j")
	# The limit counts IP bytes; iperf3 counts UDP payload.
	local want
	want=$(python3 -c "print($mbit * 1e6 * $payload / $mtu)")
	echo "mtu $mtu, rate ${mbit}mbit: received $(python3 -c "print(round($got / 1e6, 2))") Mbit/s" \
		"of UDP payload, want $(python3 -c "print(round($want / 1e6, 2))") (+-3 %)"
	if ! python3 -c "import sys; sys.exit(0 if abs($got - $want) <= 0.03 * $want else 1)"; then
		[ "$last" = 1 ] && fail "UDP throughput $got bit/s not within 3 % of $want"
		lab_stop
		return 1
	fi
	check_counters 'a>b'
	[ "${CTR[drop_queue]}" -gt 0 ] || fail "offered 120 % of the rate but the queue dropped nothing"
	lab_stop
}

# Two tries each: on a machine loaded from elsewhere the emulator or the
# iperf3 ends may not get the CPU for a whole 5 s measurement (a CI run
# beside other jobs once read 75.9 of 98.1 Mbit/s); a rate the emulator
# gets wrong is wrong twice.
for m in "1500 100" "9000 300"; do
	# shellcheck disable=SC2086
	udp_at_rate $m 0 || { echo "note: off by more than 3 %, once more (a busy machine?)"; udp_at_rate $m 1; }
done

lab_start rate --emulator linkem --rate 100mbit --delay 5ms --queue 256k >/dev/null
lab B timeout 30 iperf3 -s -1 -p 5302 >/dev/null &
sleep 0.3
j=$(lab A timeout 30 iperf3 -c 10.77.0.2 -p 5302 -t 4 -J) || fail "iperf3 TCP client failed"
wait
got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"])' "$j")
echo "tcp through 100mbit, 10 ms RTT: $(python3 -c "print(round($got / 1e6, 2))") Mbit/s of payload"
fcheck "$got >= 0.85 * 100e6 * 1448 / 1500" "TCP got $got bit/s through a 100mbit link"
check_counters 'a>b'
check_counters 'b>a'
echo "linkem_rate: ok"
