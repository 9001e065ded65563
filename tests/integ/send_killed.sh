#!/bin/bash
# The sender is killed (SIGKILL) mid-transfer: the receiver (--once,
# --idle-timeout 2s) drops the session after its idle timeout, exits
# non-zero with a message, and leaves nothing under the file's final name.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 256
start_recv "$T/in" --once --idle-timeout 2s
# 256 MiB at 200 Mbit/s takes about 11 s: killed after 2 s, it is mid-way
"$SALVO" send --rate-policy fixed --rate 200mbit --no-progress "$T/src/big" \
	"127.0.0.1:$PORT" >"$T/send.out" 2>"$T/send.err" &
spid=$!
BG_PIDS+=("$spid")
sleep 2
kill -0 "$spid" 2>/dev/null || fail "the sender ended before it could be killed"
kill -KILL "$spid"
killed_at=$(date +%s)
wait_exit "$RECV_PID" 20 || fail "receiver still running 20 s after the sender died (idle timeout 2s)"
took=$(($(date +%s) - killed_at))
[ "$WAIT_RC" -ne 0 ] || fail "receiver --once exited 0 after its sender was killed"
note "receiver gave up $took s after the kill, exit $WAIT_RC: $(tail -1 "$RECV_LOG")"
[ "$took" -le 8 ] || fail "receiver took $took s to drop the session (idle timeout 2s)"
[ ! -e "$T/in/big" ] || fail "a partial file is under the final name $T/in/big"
left=$(find "$T/in" -mindepth 1 ! -path "$T/in/.salvo" | wc -l)
[ "$left" -eq 0 ] || note "left below the root (part-file or resume record): $(find "$T/in" -mindepth 1 ! -path "$T/in/.salvo" -printf '%P ')"
note ok
