#!/bin/bash
# Memory is bounded by the plan, not by the file: an 8 GiB sparse file
# with 4 MiB blocks x 4 threads.  Both sides' peak RSS (--json
# peak_rss_bytes, and VmHWM from /proc while running) stay under
# block size x threads + 64 MiB.
set -euo pipefail
. "$(dirname "$0")/../../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
truncate -s 8G "$T/src/sparse"
budget=$((4 * 4 * 1024 * 1024 + 64 * 1024 * 1024))
RECV_BIN=$SALVO start_recv "$T/in" --once --json
timeout -k 5 600 "$SALVO" send --json --rate-policy fixed --rate 4gbit --block-size 4MiB --threads 4 \
	"$T/src/sparse" "127.0.0.1:$PORT" >"$T/mem.out" 2>"$T/mem.err" &
spid=$!
BG_PIDS+=("$spid")
hwm_recv=0
while kill -0 "$spid" 2>/dev/null; do
	h=$(awk '/VmHWM/ {print $2 * 1024}' "/proc/$RECV_PID/status" 2>/dev/null || echo 0)
	[ "${h:-0}" -gt "$hwm_recv" ] && hwm_recv=$h
	sleep 1
done
SEND_RC=0
wait "$spid" || SEND_RC=$?
[ "$SEND_RC" -eq 0 ] || fail "8 GiB send: exit $SEND_RC: $(cat "$T/mem.err")"
wait_exit "$RECV_PID" 30 || fail "receiver --once still running"
[ "$WAIT_RC" -eq 0 ] || fail "receiver exited $WAIT_RC"
[ "$(stat -c %s "$T/in/sparse")" = $((8 << 30)) ] || fail "received size differs"
cmp "$T/src/sparse" "$T/in/sparse" || fail "8 GiB file differs"
send_rss=$(jget "$T/mem.out" peak_rss_bytes)
recv_rss=$(jget "$RECV_OUT" peak_rss_bytes)
note "8 GiB in $(jget "$T/mem.out" seconds) s ($(jget "$T/mem.out" goodput_mbps) Mbit/s);" \
	"peak RSS sender $((send_rss >> 20)) MiB, receiver $((recv_rss >> 20)) MiB" \
	"(/proc VmHWM $((hwm_recv >> 20)) MiB), budget $((budget >> 20)) MiB"
[ "$send_rss" -gt 0 ] && [ "$send_rss" -lt "$budget" ] || fail "sender peak RSS $send_rss > $budget"
[ "$recv_rss" -gt 0 ] && [ "$recv_rss" -lt "$budget" ] || fail "receiver peak RSS $recv_rss > $budget"
[ "$hwm_recv" -lt "$budget" ] || fail "receiver VmHWM $hwm_recv > $budget"
note ok
