#!/bin/bash
# Who may send, end to end over protocol 3 (issue 12): a receiver serves
# the keys its authorised-keys file lists, each into its own dir=; a key
# it does not list is refused with the fingerprint and the very line to
# add (which, added, works); a sender without a key is refused unless the
# receiver allows anonymous senders, whose files then land in the root.
# A key's overwrite= bounds what the receiver's --overwrite allows it.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
RECV_ANON=0

KD=$SALVO_SYSCONFDIR/salvo
[ "$(id -u)" = 0 ] || KD=$HOME/.config/salvo
mkdir -p "$T/in" "$T/src"
printf 'hello over protocol 3\n' >"$T/src/f"
"$SALVO" keygen --out "$T/alice" >/dev/null 2>&1
"$SALVO" keygen --out "$T/bob" >/dev/null 2>&1
mkdir -p "$KD"
"$SALVO" keygen --show --out "$T/alice" --dir alice >"$KD/authorized_keys" 2>/dev/null

# an authorised key: its files in its folder, not in the root
start_recv "$T/in"
run_send alice --key "$T/alice" "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "alice: exit $SEND_RC: $(cat "$T/alice.err")"
cmp "$T/src/f" "$T/in/alice/f" || fail "alice's file is not in in/alice"
[ ! -e "$T/in/f" ] || fail "alice's file also in the root"
note "an authorised key writes below its dir= (in/alice/f)"

# the key's overwrite= bounds the receiver's --overwrite: alice's line
# allows never (the default), so a replacement is refused even by a
# receiver that replaces; with overwrite=replace on her line it goes
cp "$T/src/f" "$T/orig"
printf 'a changed file\n' >"$T/src/f"
stop_recv
start_recv "$T/in" --overwrite replace
run_send alice-rep --key "$T/alice" --overwrite always --json "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 10 ] || fail "alice replacing with overwrite=never on her key: exit $SEND_RC, want 10: $(cat "$T/alice-rep.err")"
[ "$(jget "$T/alice-rep.out" counts refused)" = 1 ] || fail "the replacement was not counted as refused: $(cat "$T/alice-rep.out")"
cmp "$T/orig" "$T/in/alice/f" || fail "alice's key allows no replacement, yet in/alice/f changed"
stop_recv
sed -i 's/ dir=alice/ dir=alice overwrite=replace/' "$KD/authorized_keys"
start_recv "$T/in" --overwrite replace
run_send alice-rep2 --key "$T/alice" --overwrite always "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "alice with overwrite=replace on her key: exit $SEND_RC: $(cat "$T/alice-rep2.err")"
cmp "$T/src/f" "$T/in/alice/f" || fail "alice's key allows replace, yet in/alice/f was not replaced"
cp "$T/orig" "$T/src/f"
note "a key's overwrite= bounds the receiver's --overwrite (never refused, replace replaced)"

# a key the receiver does not know: refused, with what to do
run_send bob --key "$T/bob" "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" != 0 ] || fail "bob, not authorised, was served"
BOB_FP=$("$SALVO" keygen --show --out "$T/bob" 2>&1 >/dev/null | grep -o 'b2:.*')
grep -q "does not know this sender's key $BOB_FP; add this line to its authorised keys: salvo-x25519 " "$T/bob.err" ||
	fail "bob's refusal says: $(cat "$T/bob.err")"
grep -q "warn sender_refused: refused a sender with key $BOB_FP: not in the authorised keys" "$RECV_LOG" ||
	fail "the receiver's log does not say it refused bob: $(cat "$RECV_LOG")"
line=$(grep -o 'salvo-x25519 [^ ]* dir=[^ ]*' "$T/bob.err")
[ -n "$line" ] || fail "no line to add in: $(cat "$T/bob.err")"
[ ! -e "$T/in/f" ] && [ -z "$(ls "$T/in" | grep -v '^alice$' || true)" ] ||
	fail "bob's refused send left something: $(ls -A "$T/in")"
note "unknown key refused: $(sed 's/^salvo send: //' "$T/bob.err")"

# no key at all: refused too
run_send anon --anonymous "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" != 0 ] || fail "an anonymous sender was served"
grep -q "accepts only senders it knows, and this one has no key" "$T/anon.err" ||
	fail "anonymous refusal says: $(cat "$T/anon.err")"
stop_recv
note "anonymous sender refused by default"

# the line the refusal gave, added: bob is served, in his folder
bob_dir=${line##*dir=}
echo "$line" >>"$KD/authorized_keys"
start_recv "$T/in"
run_send bob2 --key "$T/bob" "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "bob, once authorised: exit $SEND_RC: $(cat "$T/bob2.err")"
cmp "$T/src/f" "$T/in/$bob_dir/f" || fail "bob's file is not in in/$bob_dir"
stop_recv
note "the suggested line, added, lets bob in (in/$bob_dir/f)"

# anonymous senders allowed: served, into the root
start_recv "$T/in" --allow-anonymous
run_send anon2 --anonymous "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "anonymous with --allow-anonymous: exit $SEND_RC: $(cat "$T/anon2.err")"
cmp "$T/src/f" "$T/in/f" || fail "the anonymous file is not in the root"
stop_recv
note "--allow-anonymous: an anonymous sender is served, into the root"
note ok
