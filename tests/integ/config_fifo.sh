#!/bin/bash
# A config file must be a regular file (or a symlink to one) of at most
# 1 MiB.  A FIFO given as --config used to block every command forever;
# now each command refuses a FIFO, a device, a directory or a socket at
# once, naming the file and what it is, and exits 2.  The system and user
# layers (/etc/salvo/salvo.yaml, ~/.config/salvo/salvo.yaml) are checked
# the same way, and so is the hot folder's status file that `watch
# --status` prints.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkfifo "$T/fifo.yaml"
mkdir -p "$T/src" "$T/in" "$T/dir.yaml"
printf 'x\n' >"$T/src/f"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/sock.yaml"
truncate -s 2M "$T/big.yaml"

# runs salvo ARGS within 10 s; sets RC, stderr in $T/run.err
run() {
	RC=0
	timeout -k 2 10 "$SALVO_ASAN" "$@" >"$T/run.out" 2>"$T/run.err" || RC=$?
	[ "$RC" -ne 124 ] || fail "salvo $* blocked (still running after 10 s)"
}

expect() { # what file args...
	local what=$1 file=$2
	shift 2
	run "$@"
	[ "$RC" -eq 2 ] || fail "salvo $*: exit $RC, want 2: $(cat "$T/run.err")"
	grep -qF -- "$file: $what" "$T/run.err" ||
		fail "salvo $*: no '$file: $what' in: $(cat "$T/run.err")"
}

for cmd in "send --config @CFG@ $T/src/f 127.0.0.1:9" "recv --config @CFG@ --dir $T/in" \
	"watch --config @CFG@" "config show --config @CFG@" "config check @CFG@" "plan --config @CFG@"; do
	for f in fifo dir sock; do
		case $f in
		fifo) what="is a FIFO (named pipe); allowed: a regular file, or a symlink to one" ;;
		dir) what="is a directory" ;;
		sock) what="is a socket" ;;
		esac
		# shellcheck disable=SC2086
		expect "$what" "$T/$f.yaml" ${cmd//@CFG@/$T/$f.yaml}
	done
	# shellcheck disable=SC2086
	expect "is a character device" /dev/zero ${cmd//@CFG@//dev/zero}
	# shellcheck disable=SC2086
	expect "2097152 bytes, larger than 1MiB" "$T/big.yaml" ${cmd//@CFG@/$T/big.yaml}
done
note "send, recv, watch, config show/check and plan refuse a FIFO, directory, socket, device and a 2 MiB file"

# a symlink to a regular file is fine
printf 'network:\n  port: 7123\n' >"$T/real.yaml"
ln -s "$T/real.yaml" "$T/link.yaml"
run config show --config "$T/link.yaml"
[ "$RC" -eq 0 ] || fail "config through a symlink: exit $RC: $(cat "$T/run.err")"
grep -q "port: 7123" "$T/run.out" || fail "config through a symlink not read"

# the system layer and the user layer
mkdir -p "$T/etc-fifo/salvo" "$T/home/.config/salvo"
mkfifo "$T/etc-fifo/salvo/salvo.yaml"
SALVO_SYSCONFDIR=$T/etc-fifo expect "is a FIFO" "$T/etc-fifo/salvo/salvo.yaml" config show
mkfifo "$T/home/.config/salvo/salvo.yaml"
SALVO_NO_USER_CONFIG=0 HOME=$T/home expect "is a FIFO" \
	"$T/home/.config/salvo/salvo.yaml" config show
note "the /etc and ~/.config layers refuse a FIFO too"

# watch --status reads DIR/.salvo/status: a FIFO there is refused too
mkdir -p "$T/watched/.salvo"
mkfifo "$T/watched/.salvo/status"
run watch --status "$T/watched"
[ "$RC" -ne 0 ] || fail "watch --status with a FIFO status file: exit 0"
grep -q "the status file is not a regular file" "$T/run.err" ||
	fail "watch --status: no reason given: $(cat "$T/run.err")"
note "watch --status refuses a FIFO status file"
