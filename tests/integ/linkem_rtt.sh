#!/bin/bash
# linkem self-test: the round trip measured through linkem is twice the
# one-way delay (within 1 ms), in each direction's own setting
# (asymmetric delays add up).  The round trip is the minimum over 25 UDP
# probes, less the round trip of the same probes through linkem with no
# delay (the probes' own processing and the TUN hops, about 0.5 ms on this
# VM): what remains is the delay linkem adds.  The median also carries the
# scheduling noise of a shared 2-core VM, so it only has to stay within
# 2 ms of the minimum.
set -euo pipefail
. "$(dirname "$0")/../../perf/testlib.sh"

BASE=0
measure() { # expected_rtt_ms, then perf/lab up flags
	local want=$1
	shift
	lab_start rtt "$@" >/dev/null
	local r
	r=$(udp_rtt 7001 25)
	local med min
	med=$(jget "$r" median_ms)
	min=$(jget "$r" min_ms)
	echo "flags: $*  rtt: min ${min} ms, median ${med} ms, want ${want} ms"
	fcheck "$(jget "$r" replies) == 25" "lost probes on a lossless link: $r"
	if [ "$want" = 0 ]; then # the baseline: linkem with no delay
		BASE=$min
		echo "baseline round trip through linkem: $BASE ms"
	else
		fcheck "$want - 0.5 <= $min - $BASE and $min - $BASE <= $want + 1.0" \
			"RTT $min ms less the baseline $BASE ms is not within 1 ms of $want ms"
	fi
	fcheck "$med <= $min + 2.0" "RTT median $med ms more than 2 ms above the minimum $min ms"
	check_counters 'a>b'
	lab_stop
}

measure 0 --emulator linkem
measure 50 --emulator linkem --delay 25ms
measure 40 --emulator linkem --ab-delay 5ms --ba-delay 35ms
measure 200 --emulator linkem --delay 100ms --rate 100mbit
echo "linkem_rtt: ok"
