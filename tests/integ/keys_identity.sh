#!/bin/bash
# Identities from the command line (docs/SECURITY.md, "Identities"), as
# far as they go without protocol 3 on the wire: salvo keygen makes a key
# pair with the right modes, prints the public line and fingerprint, never
# overwrites without --force, and --show prints the line a receiver's
# authorized_keys needs; a private key others may read is refused with the
# fix by keygen --show, recv, send and watch; the receiver makes its key on
# the first start and says whom it serves (nobody, with the fix; N
# senders; anonymous senders, as a warning); a bad authorised-keys file
# stops it with FILE:LINE; salvo send --json shows its fingerprint and the
# receiver key it pins (a given key, or known_hosts under HOST:PORT).
# As root, the auto key folder is SYSCONFDIR/salvo ($T/etc/salvo here).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

RECV_ANON=0 # identities are what this test is about
KD=$SALVO_SYSCONFDIR/salvo
[ "$(id -u)" = 0 ] || KD=$HOME/.config/salvo # a user's key folder
mode() { stat -c %a "$1"; }

# --- keygen ---------------------------------------------------------------
"$SALVO" keygen >"$T/kg.out" 2>"$T/kg.err" || fail "salvo keygen: $(cat "$T/kg.err")"
[ "$(mode "$KD/key")" = 600 ] || fail "key mode $(mode "$KD/key"), want 600"
[ "$(mode "$KD/key.pub")" = 644 ] || fail "key.pub mode $(mode "$KD/key.pub"), want 644"
# a user's key folder is private; root's is SYSCONFDIR/salvo, which also
# holds the salvo.yaml every user reads (the key itself is 0600)
want_kd=700
[ "$(id -u)" != 0 ] || want_kd=755
[ "$(mode "$KD")" = "$want_kd" ] || fail "key folder mode $(mode "$KD"), want $want_kd"
grep -qx "salvo-x25519 [A-Za-z0-9+/]\{43\}= .*@.*" "$T/kg.out" ||
	fail "keygen stdout is not the public line: $(cat "$T/kg.out")"
cmp -s "$T/kg.out" "$KD/key.pub" || fail "printed line differs from key.pub"
FP=$(grep -o 'fingerprint b2:[A-Za-z0-9+/]\{22\}' "$T/kg.err" | cut -d' ' -f2)
[ -n "$FP" ] || fail "keygen printed no fingerprint: $(cat "$T/kg.err")"
cp "$KD/key" "$T/key.before"
rc=0
"$SALVO" keygen >"$T/kg2.out" 2>"$T/kg2.err" || rc=$?
[ $rc = 2 ] || fail "keygen over an existing key: exit $rc, want 2"
grep -q -- "exists; .*--force replaces it" "$T/kg2.err" || fail "no hint: $(cat "$T/kg2.err")"
cmp -s "$KD/key" "$T/key.before" || fail "keygen without --force changed the key"
"$SALVO" keygen --show >"$T/show.out" 2>"$T/show.err" || fail "keygen --show failed"
cmp -s "$T/show.out" "$KD/key.pub" || fail "--show differs from key.pub"
grep -q "fingerprint $FP" "$T/show.err" || fail "--show fingerprint: $(cat "$T/show.err")"
"$SALVO" keygen --show --dir "in/a b" >"$T/ak.out" 2>/dev/null
grep -q "^salvo-x25519 [^ ]* dir=\"in/a b\" .*@" "$T/ak.out" ||
	fail "--show --dir: $(cat "$T/ak.out")"
"$SALVO" keygen --force --comment "rotated" >"$T/kg3.out" 2>/dev/null ||
	fail "keygen --force failed"
! cmp -s "$KD/key" "$T/key.before" || fail "--force kept the old key"
[ "$(mode "$KD/key")" = 600 ] || fail "replaced key mode $(mode "$KD/key")"
grep -q " rotated$" "$KD/key.pub" || fail "new .pub lacks the comment"
note "keygen: modes, no overwrite, --force, --show [--dir]"

# --- a private key that others may read is refused with the fix ------------
"$SALVO" keygen --out "$T/loose" >/dev/null 2>&1
chmod 644 "$T/loose"
for cmd in "keygen --show --out $T/loose" "recv --dir $T --key $T/loose" \
	"send --key $T/loose $T/kg.out 127.0.0.1:9" "watch $T 127.0.0.1:9 --key $T/loose"; do
	rc=0
	# shellcheck disable=SC2086
	timeout 20 "$SALVO" $cmd >"$T/loose.out" 2>"$T/loose.err" || rc=$?
	[ $rc != 0 ] || fail "salvo $cmd accepted a 0644 private key"
	grep -q "mode 0644); fix: chmod 600 $T/loose" "$T/loose.err" ||
		fail "salvo $cmd: no fix in: $(cat "$T/loose.err")"
done
note "0644 private key refused by keygen, recv, send and watch, with the fix"

# --- the receiver: its key on the first start, whom it serves -------------
rm -rf "$KD"
mkdir -p "$T/in" "$T/src"
printf 'x\n' >"$T/src/f"
start_recv "$T/in" --json
grep -q "^salvo recv: warning: created the receiver key $KD/key (mode 0600), fingerprint b2:" "$RECV_LOG" ||
	fail "no 'created' notice: $(cat "$RECV_LOG")"
[ "$(mode "$KD/key")" = 600 ] || fail "receiver key mode $(mode "$KD/key")"
grep -q "^salvo recv: warning: no sender can connect: $KD/authorized_keys does not exist. To authorise one, run 'salvo keygen --show --dir FOLDER'" "$RECV_LOG" ||
	fail "no 'no sender can connect' warning: $(cat "$RECV_LOG")"
RX_FP=$(grep -o 'fingerprint b2:[^;]*' "$RECV_LOG" | head -1 | cut -d' ' -f2)
stop_recv
[ "$(jget "$RECV_OUT" engine identity fingerprint)" = "$RX_FP" ] ||
	fail "recv --json fingerprint $(jget "$RECV_OUT" engine identity fingerprint), want $RX_FP"
[ "$(jget "$RECV_OUT" engine identity authorized)" = 0 ] || fail "recv --json authorized"

"$SALVO" keygen --out "$T/tx" >/dev/null 2>&1
"$SALVO" keygen --show --out "$T/tx" --dir in >"$KD/authorized_keys" 2>/dev/null
start_recv "$T/in" --json
grep -q "^salvo recv: receiver key $KD/key, fingerprint $RX_FP$" "$RECV_LOG" ||
	fail "second start: $(cat "$RECV_LOG")"
grep -q "^salvo recv: serving 1 authorised sender from $KD/authorized_keys$" "$RECV_LOG" ||
	fail "no 'serving 1': $(cat "$RECV_LOG")"
! grep -q "warning" "$RECV_LOG" || fail "a warning with a sender authorised: $(cat "$RECV_LOG")"

# salvo send --json: its fingerprint, and where it pins the receiver
run_send json --json --key "$T/tx" "$T/src/f" "127.0.0.1:$PORT"
TX_FP=$("$SALVO" keygen --show --out "$T/tx" 2>&1 >/dev/null | grep -o 'b2:.*')
id() { jget "$T/json.out" identity "$@"; }
[ "$(id fingerprint)" = "$TX_FP" ] || fail "send fingerprint $(id fingerprint), want $TX_FP"
[ "$(id anonymous)" = False ] || fail "send anonymous $(id anonymous)"
[ "$(id pin known_hosts)" = "$KD/known_hosts" ] || fail "pin file $(id pin known_hosts)"
[ "$(id pin as)" = "127.0.0.1:$PORT" ] || fail "pinned as $(id pin as)"
[ "$(id receiver_key)" = None ] || fail "receiver_key $(id receiver_key)"
run_send given --json --key "$T/tx" --receiver-key "$KD/key.pub" "$T/src/f" "127.0.0.1:$PORT"
[ "$(jget "$T/given.out" identity receiver_key)" = "$RX_FP" ] ||
	fail "--receiver-key: $(jget "$T/given.out" identity receiver_key), want $RX_FP"
[ "$(jget "$T/given.out" identity pin)" = None ] || fail "--receiver-key still pins"
run_send anon --json --anonymous --key "$T/none" "$T/src/f" "127.0.0.1:$PORT"
[ "$(jget "$T/anon.out" identity anonymous)" = True ] || fail "--anonymous not reported"
[ ! -e "$T/none" ] || fail "--anonymous made a key file"
run_send badkey --receiver-key "salvo-x25519 nope" "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 2 ] || fail "a bad --receiver-key: exit $SEND_RC, want 2"
grep -q "is not a public key" "$T/badkey.err" || fail "bad key: $(cat "$T/badkey.err")"
stop_recv
note "recv: key made once, whom it serves; send --json: fingerprint, pin"

# --- anonymous senders allowed: a warning; a bad file: FILE:LINE ----------
start_recv "$T/in" --allow-anonymous
grep -q "^salvo recv: warning: ANONYMOUS senders allowed (security.allow_anonymous): any host that reaches this port may write below $T/in$" "$RECV_LOG" ||
	fail "no ANONYMOUS warning: $(cat "$RECV_LOG")"
stop_recv
printf 'salvo-x25519 AAAA dir=x\n' >>"$KD/authorized_keys"
rc=0
timeout 20 "$SALVO_ASAN" recv --dir "$T/in" --port "$(free_port)" --bind 127.0.0.1 \
	>"$T/bad.out" 2>"$T/bad.err" || rc=$?
[ $rc = 2 ] || fail "recv with a bad authorized_keys: exit $rc, want 2"
grep -q "^salvo recv: $KD/authorized_keys:2: " "$T/bad.err" || fail "no FILE:LINE: $(cat "$T/bad.err")"
note "anonymous warning; bad authorized_keys stops recv at FILE:LINE"

# --- config show names the files and why ----------------------------------
"$SALVO" config show >"$T/show.yaml"
grep -q "^  key: \"$KD/key\" *# auto (" "$T/show.yaml" || fail "config show: $(grep key "$T/show.yaml")"
grep -q "^  authorized_keys: \"$KD/authorized_keys\" *# auto (next to security.key)" "$T/show.yaml" ||
	fail "config show authorized_keys: $(grep authorized "$T/show.yaml")"
note ok
