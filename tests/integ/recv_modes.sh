#!/bin/bash
# Modes a sender asks for are masked (issue 12, finding 1): a file never
# arrives setuid, setgid or sticky, nor with bits the receiver's umask
# takes away; a folder the session creates gets its manifest mode, masked
# the same way; a folder that already existed keeps its mode, whatever
# the sender's folder of that name has (0777 or 0000).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mode() { stat -c %a "$1"; }
want() { # path mode what
	[ "$(mode "$1")" = "$2" ] || fail "$3: mode $(mode "$1"), want $2 ($1)"
}

mkdir -p "$T/src/tree/shared" "$T/src/tree/locked" "$T/src/tree/new/sub" "$T/in/tree/shared" "$T/in/tree/locked"
printf 'x\n' >"$T/src/tree/suid"
printf 'x\n' >"$T/src/tree/sgid"
printf 'x\n' >"$T/src/tree/shared/sticky"
printf 'x\n' >"$T/src/tree/new/sub/plain"
chmod 4777 "$T/src/tree/suid"
chmod 2755 "$T/src/tree/sgid"
chmod 1666 "$T/src/tree/shared/sticky"
chmod 644 "$T/src/tree/new/sub/plain"
chmod 777 "$T/src/tree/shared"
chmod 000 "$T/src/tree/locked"
chmod 3777 "$T/src/tree/new"
chmod 750 "$T/src/tree/new/sub"
chmod 755 "$T/in/tree" "$T/in/tree/shared"
chmod 700 "$T/in/tree/locked"

umask 022
start_recv "$T/in" --overwrite replace
SEND_BIN=$SALVO_ASAN run_send modes "$T/src/tree" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send: exit $SEND_RC: $(cat "$T/modes.err")"
cmp "$T/src/tree/suid" "$T/in/tree/suid" || fail "suid: contents differ"
want "$T/in/tree/suid" 755 "a setuid, world-writable file (4777), umask 022"
want "$T/in/tree/sgid" 755 "a setgid file (2755)"
want "$T/in/tree/shared/sticky" 644 "a sticky, world-writable file (1666)"
want "$T/in/tree/new/sub/plain" 644 "a plain file (644)"
want "$T/in/tree/shared" 755 "an existing folder the sender has as 0777"
want "$T/in/tree/locked" 700 "an existing folder the sender has as 0000"
want "$T/in/tree" 755 "the existing top folder"
want "$T/in/tree/new" 755 "a new folder the sender has as 3777"
want "$T/in/tree/new/sub" 750 "a new folder the sender has as 0750"
stop_recv
note "umask 022: 4777 -> 755, 2755 -> 755, 1666 -> 644; existing folders kept 755 and 700; new 3777 -> 755"

# a stricter umask takes more away, from files and from new folders
umask 027
mkdir -p "$T/in2"
start_recv "$T/in2"
run_send strict "$T/src/tree" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send (umask 027): exit $SEND_RC: $(cat "$T/strict.err")"
want "$T/in2/tree/suid" 750 "4777 under umask 027"
want "$T/in2/tree/shared/sticky" 640 "1666 under umask 027"
want "$T/in2/tree/shared" 750 "a new folder the sender has as 0777, umask 027"
want "$T/in2/tree/locked" 0 "a new folder the sender has as 0000"
want "$T/in2/tree/new" 750 "a new folder the sender has as 3777, umask 027"
stop_recv
note "umask 027: 4777 -> 750, 1666 -> 640, new folders 777 -> 750, 000 -> 000"
note ok
