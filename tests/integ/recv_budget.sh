#!/bin/bash
# The receiver's memory budget (issue 12, finding 5): a manifest whose
# bookkeeping would not fit what is left of receiver.memory_budget is
# refused before anything is allocated for it, with the figures and what
# to do; the receiver stays small and keeps serving.
#   - 140 GB (sparse) in 548-byte blocks: 255 million blocks, 3.6 GiB of
#     block tables against the default 256 MiB.  (Before: accepted, half a
#     GiB resident per session, three packets each.)
#   - the budget is shared: with 3 MiB, a session of 128 MiB in 1048-byte
#     blocks (1.8 MB of tables) runs while a second like it is refused,
#     and is accepted once the first ended.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in" "$T/in2"
truncate -s 140G "$T/huge"
printf 'small\n' >"$T/src/small"
RECV_BIN=$SALVO start_recv "$T/in"
SEND_TIME_LIMIT=30 run_send huge --block-size 548B --mtu 576 --timeout 5s "$T/huge" "127.0.0.1:$PORT"
[ "$SEND_RC" -ne 0 ] || fail "a 140 GB manifest in 548-byte blocks was accepted"
grep -q "receiver memory budget: this manifest needs 3.6 GiB of bookkeeping, 256.0 MiB left" "$T/huge.err" ||
	fail "the sender does not get the budget's figures: $(cat "$T/huge.err")"
grep -q "use larger blocks" "$T/huge.err" || fail "the message does not say what to do: $(cat "$T/huge.err")"
note "140 GB in 548-byte blocks: exit $SEND_RC: $(cat "$T/huge.err")"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$RECV_PID/status")
[ "$hwm" -lt $((64 * 1024)) ] || fail "receiver peak RSS $((hwm / 1024)) MiB after refusing it, want < 64 MiB"
note "receiver peak RSS $((hwm / 1024)) MiB"
run_send small "$T/src/small" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] && cmp "$T/src/small" "$T/in/small" || fail "the receiver no longer serves: $(cat "$T/small.err")"
stop_recv

make_file "$T/src/a" 128
cp "$T/src/a" "$T/src/b"
RECV_BIN=$SALVO start_recv "$T/in2" --memory-budget 3MiB
"$SALVO" send --block-size 1048B --mtu 576 --rate-policy fixed --rate 200mbit --no-progress --remote-dir a "$T/src/a" \
	"127.0.0.1:$PORT" >"$T/a.out" 2>"$T/a.err" &
apid=$!
BG_PIDS+=("$apid")
wait_line "$RECV_LOG" "session_start" 10 "$RECV_PID" || fail "the first session did not start"
run_send b --block-size 1048B --mtu 576 --remote-dir b "$T/src/b" "127.0.0.1:$PORT"
kill -0 "$apid" 2>/dev/null || fail "the first send ended before the second was tried: $(cat "$T/a.err")"
[ "$SEND_RC" -ne 0 ] || fail "a second 1.8 MB session fit beside the first in a 3 MiB budget"
grep -Eq "receiver memory budget: this manifest needs 1\.[0-9] MiB of bookkeeping, [0-9.]+ (KiB|MiB) left \(receiver.memory_budget 3.0 MiB\); use larger blocks, or send when other sessions ended" "$T/b.err" ||
	fail "the second sender's message: $(cat "$T/b.err")"
note "beside a running session: $(cat "$T/b.err")"
wait_exit "$apid" 60 || fail "the first send still runs 60 s later"
[ "$WAIT_RC" -eq 0 ] || fail "the first send failed: $(cat "$T/a.err")"
cmp "$T/src/a" "$T/in2/a/a" || fail "the first session's file differs"
run_send b2 --block-size 1048B --mtu 576 --rate-policy fixed --rate 1gbit --remote-dir b "$T/src/b" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "the second session, alone, was refused: $(cat "$T/b2.err")"
cmp "$T/src/b" "$T/in2/b/b" || fail "the second session's file differs"
note "alone, the second session fits and arrives"
stop_recv
note ok
