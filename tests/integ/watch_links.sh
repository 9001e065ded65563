#!/bin/bash
# The hot folder does not send what a link points at.  A hard link to a
# 0600 file outside the folder (the case found: the watcher sent it with
# its own rights) and a symbolic link are refused: logged once with the
# reason, counted in the status as refused, left in place, not retried
# while they stay as they are.  Ordinary files next to them go through.
# A profile with --allow-hardlinks sends the hard link; a symbolic link is
# refused even then.  A hard link made with ln while the watcher runs is
# noticed at once (IN_CREATE), not only at the next start.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"
WATCH_BIN=${WATCH_BIN:-$SALVO_ASAN}

mkdir -p "$T/src" "$T/in" "$T/private" "$T/src2" "$T/in2"
printf 'secret\n' >"$T/private/key"
chmod 600 "$T/private/key"
printf 'plain\n' >"$T/src/plain"
ln "$T/private/key" "$T/src/hard"           # present at start-up (scan)
ln -s "$T/private/key" "$T/src/soft"
start_recv "$T/in" --overwrite replace
start_watch w "$T/src" "127.0.0.1:$PORT" --settle 200ms --post keep \
	--retry-min 200ms --retry-max 400ms
ln "$T/private/key" "$T/src/hard2"          # made while it runs (IN_CREATE)
ln -s /etc/hostname "$T/src/soft2"
wait_until 30 '[ "$(wstat "$T/src" sent)" = 1 ] && [ "$(wstat "$T/src" refused)" = 4 ]' ||
	fail "want 1 sent and 4 refused: $(tr '\n' ' ' <"$T/src/.salvo/status")"
sleep 2 # several retry periods: a refused file must not come back
for f in hard hard2 soft soft2; do
	[ ! -e "$T/in/$f" ] || fail "$f was sent"
	[ -e "$T/src/$f" ] || [ -L "$T/src/$f" ] || fail "$f was removed from the folder"
	n=$(grep -c "$f refused: " "$T/w.log" || true)
	[ "$n" = 1 ] || fail "$f: $n refusal lines, want exactly 1: $(grep "$f" "$T/w.log")"
done
[ "$(cat "$T/in/plain")" = plain ] || fail "the plain file did not arrive"
grep -q 'hard refused: it has other hard links.*allow_hardlinks: true' "$T/w.log" ||
	fail "the hard link's reason is not logged"
grep -q 'soft refused: a symbolic link; salvo watch never follows links' "$T/w.log" ||
	fail "the symbolic link's reason is not logged"
grep -q ' warn file_refused: ' "$T/w.log" || fail "refusals are not warnings"
[ "$(wstat "$T/src" failed)" = 0 ] || fail "refused files counted as failed"
grep -q 'refused' <<<"$(wstat "$T/src" last_error)" || fail "last_error does not say refused"
st=$($SALVO watch --status "$T/src" 2>&1) ||
	fail "watch --status exited $?: $(tr '\n' ' ' <<<"$st")"
grep -q '^refused: 4$' <<<"$st" ||
	fail "watch --status lacks refused: 4: $(tr '\n' ' ' <<<"$st")"
# the other link removed: written again, it is an ordinary file and goes
rm "$T/private/key" "$T/src/hard2"
printf 'now mine\n' >"$T/src/hard"
wait_until 30 '[ -e "$T/in/hard" ]' || fail "hard, now a single link and rewritten, was not sent"
stop_watch
note "a hard link (at start-up and made with ln) and symbolic links refused once each, not sent, not retried; a rewritten single-link file sent"

# --allow-hardlinks: the hard link goes, the symbolic link still does not
printf 'shared\n' >"$T/private/shared"
ln "$T/private/shared" "$T/src2/hard"
ln -s "$T/private/shared" "$T/src2/soft"
start_recv "$T/in2" --overwrite replace
start_watch w2 "$T/src2" "127.0.0.1:$PORT" --settle 200ms --allow-hardlinks
wait_until 30 '[ "$(wstat "$T/src2" sent)" = 1 ] && [ "$(wstat "$T/src2" refused)" = 1 ]' ||
	fail "--allow-hardlinks: want 1 sent and 1 refused: $(tr '\n' ' ' <"$T/src2/.salvo/status")"
[ "$(cat "$T/in2/hard")" = shared ] || fail "--allow-hardlinks: the hard link did not arrive"
[ ! -e "$T/in2/soft" ] || fail "--allow-hardlinks sent a symbolic link"
stop_watch
# the YAML key acts the same (config check takes it)
cat >"$T/w.yaml" <<YAML
hotfolders:
  - {name: a, dir: "$T/src2", host: "127.0.0.1:$PORT", allow_hardlinks: true}
YAML
$SALVO config check "$T/w.yaml" >/dev/null || fail "allow_hardlinks: true not accepted in YAML"
$SALVO config show --config "$T/w.yaml" | grep -q 'allow_hardlinks: true' ||
	fail "config show does not show allow_hardlinks: true"
note "--allow-hardlinks sends the hard link and still refuses the symbolic link; the YAML key is accepted"
