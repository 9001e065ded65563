#!/bin/bash
# Two senders into one receiver at the same time: a 64 MiB file and a
# tree each, into separate --remote-dir folders; both succeed and both copies
# are identical.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/a" "$T/b" "$T/in"
make_file "$T/a/big" 64
make_file "$T/b/big" 64
make_tree "$T/a/tree" 300
make_tree "$T/b/tree" 300
RECV_BIN=$SALVO start_recv "$T/in"
pids=()
for s in a b; do
	timeout -k 5 100 "$SALVO" send --remote-dir "$s" --rate 500mbit --json \
		"$T/$s/big" "$T/$s/tree" "127.0.0.1:$PORT" >"$T/$s.out" 2>"$T/$s.err" &
	pids+=($!)
done
for i in 0 1; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	[ "$rc" -eq 0 ] || fail "sender $i exited $rc: $(cat "$T/$([ $i = 0 ] && echo a || echo b).err")"
done
for s in a b; do
	same_tree "$T/$s" "$T/in/$s"
	# the two runs overlapped: each took a while, and both ended
	note "sender $s: $(jget "$T/$s.out" seconds) s, $(jget "$T/$s.out" goodput_mbps) Mbit/s"
done
stop_recv
note ok
