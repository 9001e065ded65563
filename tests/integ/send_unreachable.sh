#!/bin/bash
# No answer: the sender gives up within --timeout, exits 3 and names
# HOST:PORT; --json says "unreachable".  The port is held by a socket
# that never answers (a firewall that drops, a dead host): a closed port,
# which the kernel refuses at once, fails fast instead (send_refused.sh).
# Bad destinations are usage errors (exit 2) before any packet leaves.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

printf 'x' >"$T/f"
port=$(free_port)
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $port))
time.sleep(120)" &
BG_PIDS+=("$!")
for i in $(seq 1 50); do
	ss -Hanu "sport = :$port" | grep -q . && break
	sleep 0.1
done
start=$(date +%s.%N)
SEND_BIN=$SALVO_ASAN run_send none --timeout 3s --json "$T/f" "127.0.0.1:$port"
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
[ "$SEND_RC" -eq 3 ] || fail "exit $SEND_RC with no receiver, want 3"
python3 -c "import sys; sys.exit(0 if $took <= 8 else 1)" ||
	fail "gave up after $took s with --timeout 3s"
grep -q "^salvo send: no answer from 127.0.0.1:$port within 3 \?s" "$T/none.err" ||
	fail "message does not name 127.0.0.1:$port: $(cat "$T/none.err")"
[ "$(jget "$T/none.out" result)" = unreachable ] || fail "--json result is not unreachable"
note "no receiver: exit 3 after $took s: $(cat "$T/none.err")"

# the default timeout is 10 s, and the message says so
run_send none10 "$T/f" "127.0.0.1:$port"
[ "$SEND_RC" -eq 3 ] && grep -q "within 10 \?s" "$T/none10.err" ||
	fail "default timeout: exit $SEND_RC, $(cat "$T/none10.err")"

usage() { # expected-message args...
	local want=$1
	shift
	run_send usage "$@"
	[ "$SEND_RC" -eq 2 ] || fail "salvo send $*: exit $SEND_RC, want 2"
	grep -q -- "$want" "$T/usage.err" || fail "salvo send $*: '$(cat "$T/usage.err")' lacks '$want'"
}
usage "bad port '70000'" "$T/f" 127.0.0.1:70000
usage "bad port 'x'" "$T/f" '[::1]:x'
usage "needs at least one PATH" 127.0.0.1
usage "unknown option '--bogus'" --bogus "$T/f" 127.0.0.1
usage "transfer.threads" --threads 0 "$T/f" 127.0.0.1
run_send missing "$T/does-not-exist" "127.0.0.1:$port"
[ "$SEND_RC" -eq 6 ] && grep -q "does-not-exist: No such file" "$T/missing.err" ||
	fail "missing file: exit $SEND_RC, $(cat "$T/missing.err")"
run_send help --help
[ "$SEND_RC" -eq 0 ] && grep -q '^  130 interrupted' "$T/help.out" ||
	fail "salvo send --help does not list the exit codes"
note ok
