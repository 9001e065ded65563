#!/bin/bash
# Ctrl-C at a slow rate: the sender stops within 200 ms of SIGINT or
# SIGTERM whatever the rate (a block at 1 Mbit/s takes 32 s to pace
# out, a datagram at 1 kbit/s 12 s), exits 130 saying "interrupted", and
# the receiver, told by the sender's CLOSE(abort), keeps nothing: no file
# under its final name and no part-file.
#   1 Mbit/s, data phase, SIGINT and SIGTERM (release build: the time)
#   1 kbit/s, manifest phase (the pacer holds the one manifest chunk)
#   1 Mbit/s, sanitizer build (no leak or race on the early stop)
#   while scanning a tree of 200,000 files, before any packet
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

LIMIT=${SIGINT_LIMIT_S:-0.2}
mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 8
start_recv "$T/in" --idle-timeout 30s

# signal_and_time PID SIG LIMIT: sends SIG to PID and prints the seconds
# until it exited (gone, or a zombie not yet reaped), looking every 2 ms;
# returns 1 after LIMIT seconds.
signal_and_time() {
	python3 - "$@" <<'EOF'
import os, signal, sys, time
pid, sig, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
def gone():
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):  # gone while read
        return True
t0 = time.monotonic()
os.kill(pid, getattr(signal, "SIG" + sig))
while not gone():
    if time.monotonic() - t0 > limit:
        sys.exit(1)
    time.sleep(0.002)
print(round(time.monotonic() - t0, 3))
EOF
}

# stop_one BIN SIG RATE NAME WAIT_PART BOUND: starts a send of big into
# NAME; waits until the receiver holds the session's part-file (WAIT_PART
# 1) or 1.5 s (0: still handshaking or sending the manifest); signals;
# checks the exit code, the time to exit (at most BOUND s) and what the
# receiver kept.
stop_one() {
	local bin=$1 sig=$2 rate=$3 name=$4 wait_part=$5 bound=$6
	"$bin" send --rate-policy fixed --rate "$rate" --json --remote-dir "$name" "$T/src/big" \
		"127.0.0.1:$PORT" >"$T/$name.out" 2>"$T/$name.err" &
	local spid=$! i
	BG_PIDS+=("$spid")
	if [ "$wait_part" = 1 ]; then
		for i in $(seq 1 100); do
			compgen -G "$T/in/.salvo/"*.part >/dev/null && break
			sleep 0.05
		done
		compgen -G "$T/in/.salvo/"*.part >/dev/null ||
			fail "$name: no part-file at the receiver after 5 s"
		sleep 0.5 # well inside the first block
	else
		sleep 1.5
	fi
	kill -0 "$spid" 2>/dev/null || fail "$name: sender ended before SIG$sig"
	local took rc=0
	took=$(signal_and_time "$spid" "$sig" 60) ||
		fail "$name: sender alive 60 s after SIG$sig"
	wait "$spid" || rc=$?
	note "$name: exit $rc $took s after SIG$sig at $rate"
	[ "$rc" -eq 130 ] || fail "$name: exit $rc after SIG$sig, want 130"
	python3 -c "import sys; sys.exit(0 if $took <= $bound else 1)" ||
		fail "$name: took $took s to stop after SIG$sig at $rate (limit $bound s)"
	grep -qx 'salvo send: interrupted' "$T/$name.err" ||
		fail "$name: stderr lacks 'salvo send: interrupted'"
	[ "$(jget "$T/$name.out" result)" = interrupted ] || fail "$name: --json result"
	[ ! -e "$T/in/$name/big" ] || fail "$name: file under its final name"
	if [ "$wait_part" = 1 ]; then
		# the receiver drops the session on CLOSE(abort), not after
		# its 30 s idle timeout
		for i in $(seq 1 40); do
			compgen -G "$T/in/.salvo/"*.part >/dev/null || break
			sleep 0.05
		done
		! compgen -G "$T/in/.salvo/"*.part >/dev/null ||
			fail "$name: part-file still at the receiver 2 s after the stop"
	fi
}

stop_one "$SALVO" INT 1mbit int1m 1 "$LIMIT"
stop_one "$SALVO" TERM 1mbit term1m 1 "$LIMIT"
stop_one "$SALVO" INT 1kbit int1k 0 "$LIMIT"
stop_one "$SALVO_ASAN" INT 1mbit asan1m 1 2

# during the scan of a big tree (200,000 empty files: about a second)
python3 - "$T/many" <<'PYEOF'
import os, sys
for d in range(200):
    p = os.path.join(sys.argv[1], "d%03d" % d)
    os.makedirs(p)
    for i in range(1000):
        open(os.path.join(p, "f%04d" % i), "w").close()
PYEOF
"$SALVO" send --json "$T/many" "127.0.0.1:$PORT" >"$T/scan.out" 2>"$T/scan.err" &
spid=$!
BG_PIDS+=("$spid")
sleep 0.3
kill -0 "$spid" 2>/dev/null || fail "scan: sender ended before SIGINT"
took=$(signal_and_time "$spid" INT 60) || fail "scan: sender alive 60 s after SIGINT"
rc=0
wait "$spid" || rc=$?
note "scan: exit $rc $took s after SIGINT while scanning 200,000 files"
[ "$rc" -eq 130 ] && [ "$(jget "$T/scan.out" result)" = interrupted ] ||
	fail "scan: exit $rc, $(cat "$T/scan.err")"
python3 -c "import sys; sys.exit(0 if $took <= $LIMIT else 1)" ||
	fail "scan: took $took s to stop after SIGINT (limit $LIMIT s)"
kill -0 "$RECV_PID" || fail "receiver died"
stop_recv
note ok
