#!/bin/bash
# The sender rides out a receiver restart (issue 13, item 1): the
# receiver is killed with -9 mid-transfer and started again on the same
# port 1.5 s later; the same sender process notices the lost session, runs
# the handshake and the manifest again, and finishes with exit 0 and an
# identical file.  The restarted receiver resumes the part-file the first
# one left, so the sender does not send it all again.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big.bin" 100

start_recv "$T/in"
FIRST_PID=$RECV_PID
# 100 MiB at 200 Mbit/s: about 4.4 s
run_send_bg() {
	local rkey=(--receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub")
	timeout -k 5 60 "$SALVO" send "${rkey[@]}" --rate-policy fixed \
		--rate 200mbit --no-progress --json "$T/src/big.bin" \
		"127.0.0.1:$PORT" >"$T/send.out" 2>"$T/send.err" &
	SPID=$!
	BG_PIDS+=("$SPID")
}
run_send_bg
sleep 2
kill -0 "$SPID" 2>/dev/null || fail "the sender ended before the receiver was killed: $(cat "$T/send.err")"
kill -KILL "$FIRST_PID"
wait "$FIRST_PID" 2>/dev/null || true
sleep 1.5
# the same port: start_recv would pick a new one
RECV_LOG=$T/recv-restart.log
"$SALVO_ASAN" recv --dir "$T/in" --port "$PORT" --bind "$RECV_BIND" \
	--allow-anonymous >"$T/recv-restart.out" 2>"$RECV_LOG" &
RECV_PID=$!
BG_PIDS+=("$RECV_PID")
wait_line "$RECV_LOG" "^listening on .*:$PORT, writing below " 20 "$RECV_PID" ||
	fail "the restarted receiver did not listen within 20 s: $(cat "$RECV_LOG")"
wait_exit "$SPID" 40 || fail "the sender did not finish within 40 s of the restart"
[ "$WAIT_RC" -eq 0 ] || fail "the sender exited $WAIT_RC after the receiver restarted: $(cat "$T/send.err")"
cmp "$T/src/big.bin" "$T/in/big.bin" || fail "the file differs after the restart"
reconnects=$(jget "$T/send.out" reconnects)
[ "$reconnects" -ge 1 ] || fail "the sender reports $reconnects reconnects, want at least 1"
wire=$(jget "$T/send.out" wire_bytes)
note "restart: exit 0, identical; $reconnects reconnect(s), $wire bytes on the wire for 104857600"
# the restarted receiver took up the part-file the first one left
line=$(grep -m1 "resuming 'big.bin'" "$RECV_LOG") ||
	fail "the restarted receiver did not resume big.bin: $(tail -5 "$RECV_LOG")"
held=$(sed -n "s/.*resuming 'big.bin': \([0-9]*\) of.*/\1/p" <<<"$line")
note "restarted receiver: $line"
[ "${held:-0}" -gt 0 ] || fail "the restarted receiver resumed nothing: $line"
[ "$(jget "$T/send.out" counts held_bytes)" -eq "$held" ] ||
	fail "the sender's held_bytes ($(jget "$T/send.out" counts held_bytes)) is not the $held the receiver resumed"
stop_recv
note ok
