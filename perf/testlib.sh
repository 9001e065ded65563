# Shared helpers for the lab and linkem self-tests (tests/integ/lab_*.sh,
# tests/integ/linkem_*.sh); sourced, not run.  Each test builds its own lab
# named after the test and the pid, and always tears it down.
#
#   lab_start SUFFIX [perf/lab up flags...]   up, with a trap that downs it
#   lab A|B CMD...                            run in a side of that lab
#   counters a>b|b>a                          linkem counters into CTR[...]
#   check_counters a>b|b>a                    in + duplicated = out + drops + held
#   fail MESSAGE                              print and exit 1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_BIN=$ROOT/perf/lab
PROBE=$ROOT/perf/udpprobe.py
export LINKEM=${LINKEM:-$ROOT/build/release/linkem}
LAB_NAME=
declare -A CTR=()

fail() {
	echo "FAIL: $*" >&2
	if [ -n "$LAB_NAME" ] && [ -f "/run/salvo-lab/$LAB_NAME/linkem.log" ]; then
		echo "--- linkem log:" >&2
		tail -8 "/run/salvo-lab/$LAB_NAME/linkem.log" >&2
	fi
	exit 1
}

lab_stop() {
	[ -n "$LAB_NAME" ] && "$LAB_BIN" --name "$LAB_NAME" down
	LAB_NAME=
}

lab_start() {
	local suffix=$1
	shift
	[ -x "$LINKEM" ] || fail "linkem binary $LINKEM missing (make)"
	command -v python3 >/dev/null || fail "python3 missing"
	LAB_NAME=t${suffix}$$
	trap 'lab_stop' EXIT
	"$LAB_BIN" --name "$LAB_NAME" up "$@" || fail "perf/lab up $* failed"
}

lab() { "$LAB_BIN" --name "$LAB_NAME" exec "$@"; }

# JSON field of a udpprobe result.
jget() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# Fills CTR[key] from the newest linkem counter line of direction $1.
counters() {
	local line kv
	line=$("$LAB_BIN" --name "$LAB_NAME" status | grep "linkem $1 now" | tail -1) ||
		fail "no linkem counters for $1"
	CTR=()
	for kv in $line; do
		[[ $kv == *=* ]] && CTR[${kv%%=*}]=${kv#*=}
	done
}

check_counters() {
	counters "$1"
	local lhs=$((CTR[in_pkts] + CTR[duplicated]))
	local rhs=$((CTR[out_pkts] + CTR[drop_loss] + CTR[drop_queue] + CTR[drop_mem] +
		CTR[drop_write] + CTR[held]))
	[ "$lhs" -eq "$rhs" ] ||
		fail "counters $1 do not add up: in+dup=$lhs out+drops+held=$rhs"
	echo "counters $1 add up: in=${CTR[in_pkts]} dup=${CTR[duplicated]} out=${CTR[out_pkts]}" \
		"loss=${CTR[drop_loss]} queue=${CTR[drop_queue]} held=${CTR[held]}"
}

# Packets the kernel dropped on a side's device before linkem read them.
dev_tx_dropped() {
	lab "$1" cat /sys/class/net/lab0/statistics/tx_dropped
}

# A float comparison: fcheck "expr" "message".
fcheck() {
	python3 -c "import sys; sys.exit(0 if ($1) else 1)" || fail "$2"
}

# UDP round trip from A to B (an echo server in B): prints the probe's JSON
# (replies, min_ms, median_ms, max_ms).
udp_rtt() { # port count
	lab B timeout 20 python3 "$PROBE" echo --port "$1" --deadline 15 >/dev/null &
	local e=$! r rc=0
	sleep 0.3
	r=$(lab A timeout 20 python3 "$PROBE" rtt --dst 10.77.0.2 --port "$1" --count "$2" \
		--interval 0.005) || rc=1
	kill "$e" 2>/dev/null || true
	wait "$e" 2>/dev/null || true
	[ $rc = 0 ] || fail "UDP RTT probe from A to B failed: $r"
	echo "$r"
}
