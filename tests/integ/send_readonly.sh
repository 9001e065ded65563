#!/bin/bash
# A receiver that cannot write: its folder is a read-only bind mount in a
# private mount namespace (unshare -m; tests run as root, so chmod would
# not stop it).  The sender exits 5 with the receiver's message, which
# names the file and the errno text.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
printf 'data\n' >"$T/src/payload.bin"
# the mount exists only in the receiver's namespace and dies with it
RECV_PREFIX=(unshare -m --propagation private sh -c
	'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"' "$T/in")
start_recv "$T/in"
SEND_BIN=$SALVO_ASAN run_send ro --json "$T/src/payload.bin" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 5 ] || fail "exit $SEND_RC into a read-only folder, want 5: $(cat "$T/ro.err")"
grep -q 'payload.bin' "$T/ro.err" || fail "message does not name the file: $(cat "$T/ro.err")"
grep -qi 'read-only file system' "$T/ro.err" || fail "message lacks the errno text: $(cat "$T/ro.err")"
[ "$(jget "$T/ro.out" result)" = receiver_error ] || fail "--json result"
note "read-only receiver: exit 5: $(cat "$T/ro.err")"
[ -z "$(ls -A "$T/in")" ] || fail "something was written: $(ls -A "$T/in")"
stop_recv
note ok
