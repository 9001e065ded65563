#!/bin/bash
# Confinement.  A path cannot be forged from the command line, so the
# checks sit where they can be reached: --remote-dir with '..' or an absolute
# path is refused by the sender (exit 2); a symlink inside the receiver's
# folder that points outside is never followed, whether a sent folder or
# --remote-dir goes through it, or a sent file has its name.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/link" "$T/in" "$T/outside"
printf 'payload\n' >"$T/src/link/f"
printf 'payload\n' >"$T/src/flink"
printf 'precious\n' >"$T/outside/target"
ln -s "$T/outside" "$T/in/link"
ln -s "$T/outside/target" "$T/in/flink"
snapshot() { (cd "$T/outside" && find . -printf '%p %s %T@\n' | sort; cat target); }
before=$(snapshot)
start_recv "$T/in"

for dest in ../x a/../../x /etc ./x; do
	run_send dest "$T/src/flink" --remote-dir "$dest" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 2 ] || fail "--remote-dir '$dest': exit $SEND_RC, want 2"
	grep -q "^salvo send: --remote-dir '$dest' refused: " "$T/dest.err" ||
		fail "--remote-dir '$dest': unclear message: $(cat "$T/dest.err")"
done
note "--remote-dir ../x: $(cat "$T/dest.err")"

check_refused() { # name
	[ "$SEND_RC" -ne 0 ] || fail "$1: the sender reports success through a symlink"
	[ "$SEND_RC" -ne 3 ] && [ "$SEND_RC" -ne 7 ] ||
		fail "$1: exit $SEND_RC (no answer) instead of the receiver's refusal"
	[ "$before" = "$(snapshot)" ] || fail "$1: $T/outside changed"
	note "$1: exit $SEND_RC: $(head -1 "$T/$1.err")"
}
SEND_BIN=$SALVO_ASAN SEND_TIME_LIMIT=40 run_send dir-through-link --timeout 5s "$T/src/link" "127.0.0.1:$PORT"
check_refused dir-through-link
SEND_BIN=$SALVO_ASAN SEND_TIME_LIMIT=40 run_send dest-through-link --timeout 5s --remote-dir link "$T/src/flink" "127.0.0.1:$PORT"
check_refused dest-through-link
SEND_BIN=$SALVO_ASAN SEND_TIME_LIMIT=40 run_send file-over-link --timeout 5s "$T/src/flink" "127.0.0.1:$PORT"
check_refused file-over-link
[ -L "$T/in/link" ] && [ -L "$T/in/flink" ] || fail "the receiver replaced a symlink"
kill -0 "$RECV_PID" || fail "the receiver died"
stop_recv
note ok
