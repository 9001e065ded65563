#!/bin/bash
# Two senders into one receiver at the same time: a 64 MiB file and a
# tree each, into separate --remote-dir folders; both succeed, both copies are
# identical, and the two sessions really overlapped at the receiver: at
# one instant its private folder held part-files of two sessions
# (.salvo/PID-SESSION-INDEX.part), and each send started before the other
# ended.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/a" "$T/b" "$T/in"
make_file "$T/a/big" 64
make_file "$T/b/big" 64
make_tree "$T/a/tree" 300
make_tree "$T/b/tree" 300
RECV_BIN=$SALVO start_recv "$T/in"

# Watches the receiver's part-file folder while the senders run: records
# the first instant two sessions had a partial file at once.
watch_parts() {
	local n
	while [ ! -e "$T/stop-watch" ]; do
		n=$(find "$T/in/.salvo" -name '*-*-*.part' -printf '%f\n' 2>/dev/null |
			cut -d- -f2 | sort -u | wc -l || true)
		if [ "${n:-0}" -ge 2 ]; then
			date +%s.%N >"$T/both-partial"
			return 0
		fi
		sleep 0.02
	done
}
watch_parts &
WATCH_PID=$!
BG_PIDS+=("$WATCH_PID")

pids=()
for s in a b; do
	(
		date +%s.%N >"$T/$s.start"
		rc=0
		timeout -k 5 100 "$SALVO" send --remote-dir "$s" --rate-policy fixed --rate 500mbit --json \
			"$T/$s/big" "$T/$s/tree" "127.0.0.1:$PORT" >"$T/$s.out" 2>"$T/$s.err" || rc=$?
		date +%s.%N >"$T/$s.end"
		exit $rc
	) &
	pids+=($!)
done
for i in 0 1; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "sender $i exited $rc: $(cat "$T/$([ $i = 0 ] && echo a || echo b).err")"
done
touch "$T/stop-watch"
wait "$WATCH_PID" || true
for s in a b; do
	same_tree "$T/$s" "$T/in/$s"
	note "sender $s: $(jget "$T/$s.out" seconds) s, $(jget "$T/$s.out" goodput_mbps) Mbit/s"
done

# the overlap, from both ends
read -r sa <"$T/a.start"; read -r ea <"$T/a.end"
read -r sb <"$T/b.start"; read -r eb <"$T/b.end"
python3 - "$sa" "$ea" "$sb" "$eb" <<'PY' || fail "the two sends did not overlap in time: a $sa-$ea, b $sb-$eb"
import sys
sa, ea, sb, eb = map(float, sys.argv[1:])
overlap = min(ea, eb) - max(sa, sb)
print(f"send_concurrent: sends overlapped for {overlap:.2f} s (a {ea - sa:.2f} s, b {eb - sb:.2f} s)")
sys.exit(0 if overlap > 0 else 1)
PY
[ -s "$T/both-partial" ] ||
	fail "the receiver never held partial files of both sessions at once: the sessions ran one after the other"
note "both sessions were writing at the receiver at once ($(cut -c1-14 "$T/both-partial"))"
stop_recv
note ok
