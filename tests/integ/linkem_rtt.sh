#!/bin/bash
# linkem self-test: the measured round trip is twice the one-way delay
# (within 1 ms), in each direction's own setting (asymmetric delays add up).
set -euo pipefail
. "$(dirname "$0")/../../perf/testlib.sh"

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
	fcheck "$want <= $min and $med <= $want + 1.0" "RTT median $med ms not within 1 ms of $want ms"
	check_counters 'a>b'
	lab_stop
}

measure 50 --emulator linkem --delay 25ms
measure 40 --emulator linkem --ab-delay 5ms --ba-delay 35ms
measure 200 --emulator linkem --delay 100ms --rate 100mbit
echo "linkem_rtt: ok"
