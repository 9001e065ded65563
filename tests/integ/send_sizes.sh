#!/bin/bash
# salvo send on loopback: a 0-byte, a 1-byte and a 1 GiB file, each in its
# own session.  Contents, mode and mtime arrive; the summary, --quiet and
# --json outputs say what happened; the sender's peak memory stays within
# block size x threads + 64 MiB.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
: >"$T/src/empty"
printf 'x' >"$T/src/one"
chmod 640 "$T/src/one"
touch -d @1600000000 "$T/src/empty" "$T/src/one"
RECV_BIN=$SALVO start_recv "$T/in" --json

# 0 and 1 byte, with the sanitizer build of the sender
for f in empty one; do
	SEND_BIN=$SALVO_ASAN run_send "$f" --json "$T/src/$f" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "sending $f: exit $SEND_RC: $(cat "$T/$f.err")"
	[ "$(jget "$T/$f.out" result)" = ok ] || fail "$f: --json result is not ok"
	[ "$(jget "$T/$f.out" files)" = 1 ] || fail "$f: --json files != 1"
	[ "$(jget "$T/$f.out" bytes)" = "$(stat -c %s "$T/src/$f")" ] ||
		fail "$f: --json bytes wrong"
	[ ! -s "$T/$f.err" ] || fail "$f: stderr not empty on success: $(cat "$T/$f.err")"
done
same_tree "$T/src" "$T/in"
note "0- and 1-byte files arrived with mode and mtime"

# the text summary, and --quiet
run_send summary --remote-dir s "$T/src/one" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "summary send: exit $SEND_RC"
grep -Eq '^1 file, 1 B in [0-9.]+ s: [0-9.]+ Mbit/s goodput, [0-9.]+% retransmitted$' \
	"$T/summary.out" || fail "summary line not as documented: $(cat "$T/summary.out")"
run_send quiet --quiet --remote-dir q "$T/src/one" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "quiet send: exit $SEND_RC"
[ ! -s "$T/quiet.out" ] && [ ! -s "$T/quiet.err" ] || fail "--quiet printed something"
cmp "$T/src/one" "$T/in/s/one" && cmp "$T/src/one" "$T/in/q/one" || fail "--remote-dir copies differ"

# 1 GiB
make_file "$T/src/big" 1024
start=$(date +%s)
run_send big --json --rate-policy fixed --rate 3gbit --block-size 4MiB --threads 4 "$T/src/big" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "1 GiB: exit $SEND_RC: $(cat "$T/big.err")"
cmp "$T/src/big" "$T/in/big" || fail "1 GiB file differs"
note "1 GiB in $(($(date +%s) - start)) s, $(jget "$T/big.out" goodput_mbps) Mbit/s," \
	"retx $(jget "$T/big.out" retx_pct)%, sender peak RSS $(($(jget "$T/big.out" peak_rss_bytes) >> 20)) MiB"
[ "$(jget "$T/big.out" engine block_bytes)" = 4194304 ] || fail "engine did not use --block-size"
[ "$(jget "$T/big.out" engine threads)" = 4 ] || fail "engine did not use --threads"
[ "$(jget "$T/big.out" engine rate_bps)" = 3000000000 ] || fail "engine did not use --rate"
budget=$((4 * 4 * 1024 * 1024 + 64 * 1024 * 1024))
rss=$(jget "$T/big.out" peak_rss_bytes)
[ "$rss" -gt 0 ] && [ "$rss" -lt "$budget" ] ||
	fail "sender peak RSS $rss bytes, want 0 < RSS < $budget (16 MiB blocks + 64 MiB)"

stop_recv
[ "$(jget "$RECV_OUT" files)" -ge 5 ] || fail "receiver --json counts $(jget "$RECV_OUT" files) files, want 5"
grep -q 'one' "$RECV_LOG" || fail "receiver logged no line for file 'one'"
note ok
