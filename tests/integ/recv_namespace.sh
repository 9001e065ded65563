#!/bin/bash
# Part-files live where no peer can name them (issue 12, finding 4).  With
# --overwrite replace, a second sender looks up the first session's
# part-file while it is written and sends a file of that very name into
# its folder: the part-files sit in the receiver's private folder .salvo/
# below the root, which no manifest and no --remote-dir may enter, so the
# attack is refused and the first sender's file arrives intact.  (Before,
# the part-file sat beside its final name, the attacker's file replaced
# it, and the victim committed the attacker's bytes and exited 0.)  A
# folder on another mount is refused: files are renamed into place.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/evil" "$T/in"
make_file "$T/src/big" 64
RECV_BIN=$SALVO start_recv "$T/in" --overwrite replace
"$SALVO" send --rate-policy fixed --rate 100mbit --no-progress --remote-dir v "$T/src/big" \
	"127.0.0.1:$PORT" >"$T/victim.out" 2>"$T/victim.err" &
vpid=$!
BG_PIDS+=("$vpid")
part=
for i in $(seq 1 100); do
	part=$(cd "$T/in" && find . -name '*.part' -printf '%P\n' 2>/dev/null | head -1 || true)
	[ -n "$part" ] && break
	sleep 0.05
done
[ -n "$part" ] || fail "no part-file seen below the root while the victim sent"
note "the victim's part-file: $part"
dir=$(dirname "$part")
printf 'attacker bytes\n' >"$T/evil/$(basename "$part")"
args=()
[ "$dir" = . ] || args=(--remote-dir "$dir")
run_send evil "${args[@]}" "$T/evil/$(basename "$part")" "127.0.0.1:$PORT"
note "the attacker (--remote-dir $dir): exit $SEND_RC: $(head -1 "$T/evil.err")"
wait_exit "$vpid" 60 || fail "the victim still runs 60 s later"
[ "$WAIT_RC" -eq 0 ] || fail "the victim sender exited $WAIT_RC: $(cat "$T/victim.err")"
cmp "$T/src/big" "$T/in/v/big" ||
	fail "the victim sender exited 0 but its file holds other bytes: the attacker replaced its part-file"
[ "$SEND_RC" -ne 0 ] || fail "the attacker's send into the part-file folder succeeded"
[ -z "$(find "$T/in" -name '*.part')" ] || fail "part-files left: $(find "$T/in" -name '*.part')"
stop_recv

# Finished files are renamed out of .salvo/, never copied: a folder on
# another mount (a writable bind mount, in the receiver's own mount
# namespace) is refused before any data, with the reason.
mkdir -p "$T/in2/mnt" "$T/elsewhere"
RECV_PREFIX=(unshare -m --propagation private sh -c
	'mount --bind "$1" "$0" && shift && exec "$@"' "$T/in2/mnt" "$T/elsewhere")
start_recv "$T/in2"
run_send mnt --remote-dir mnt "$T/evil/$(basename "$part")" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 5 ] || fail "into a bind mount: exit $SEND_RC, want 5: $(cat "$T/mnt.err")"
grep -q "is on another mount than the receiver's root" "$T/mnt.err" ||
	fail "into a bind mount: unclear message: $(cat "$T/mnt.err")"
note "into a bind mount: $(cat "$T/mnt.err")"
stop_recv
note ok
