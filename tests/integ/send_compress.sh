#!/bin/bash
# LZ4 on the fly (--compress, docs/PROTOCOL.md "Compression"): 20 MiB of
# zeros and a 20 MB text log cross loopback as far fewer wire bytes than
# file bytes and arrive byte-identical; random data goes raw (auto) and is
# neither inflated nor slowed against --compress off; a receiver with
# compression off refuses the capability and the sender sends raw; the
# hot folder logs the ratio and both goodputs of each batch.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in" "$T/in2"
head -c $((20 << 20)) /dev/zero >"$T/src/zeros"
python3 "$(dirname "$0")/../../perf/genlog.py" 20000000 >"$T/src/log.txt"
head -c $((20 << 20)) /dev/urandom >"$T/src/random"
RECV_BIN=$SALVO_ASAN start_recv "$T/in" --json

# zeros and text: wire bytes far below the file size (zeros with the
# sanitizer build of the sender: slow enough that AUTO weighs its CPU)
for f in zeros log.txt; do
	bin=$SALVO
	[ "$f" = zeros ] && bin=$SALVO_ASAN
	SEND_BIN=$bin run_send "$f" --json --rate 2gbit "$T/src/$f" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "$f: exit $SEND_RC: $(cat "$T/$f.err")"
	cmp "$T/src/$f" "$T/in/$f" || fail "$f arrived different"
	[ "$(jget "$T/$f.out" compress)" = auto ] || fail "$f: compress is not auto by default"
	[ "$(jget "$T/$f.out" compress_agreed)" = True ] || fail "$f: receiver did not agree to LZ4"
	size=$(stat -c %s "$T/src/$f")
	wire=$(jget "$T/$f.out" wire_bytes)
	ratio=$(jget "$T/$f.out" compress_ratio)
	note "$f: $size file bytes, $wire wire bytes, DATA ratio $ratio"
	case $f in
	zeros) [ "$wire" -lt $((size / 20)) ] || fail "zeros: $wire wire bytes, want < 1/20 of $size" ;;
	*) [ "$wire" -lt $((size * 10 / 25)) ] || fail "text: $wire wire bytes, want < 40 % of $size" ;;
	esac
done

# random: auto sends it raw (no LZ4 piece, the same file bytes per wire
# byte as off: retransmissions aside, loopback under load drops some) and
# not slower than off (within 15 %: loopback timing is noisy)
for mode in off auto; do
	run_send "rnd-$mode" --json --compress "$mode" --rate 2gbit --remote-dir "$mode" \
		"$T/src/random" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "random $mode: exit $SEND_RC: $(cat "$T/rnd-$mode.err")"
	cmp "$T/src/random" "$T/in/$mode/random" || fail "random ($mode) arrived different"
done
roff=$(jget "$T/rnd-off.out" compress_ratio)
rauto=$(jget "$T/rnd-auto.out" compress_ratio)
soff=$(jget "$T/rnd-off.out" seconds)
sauto=$(jget "$T/rnd-auto.out" seconds)
note "random: off $roff file bytes per wire byte in $soff s, auto $rauto in $sauto s"
[ "$(jget "$T/rnd-auto.out" lz4_datagrams)" = 0 ] || fail "random: auto sent LZ4 pieces"
python3 -c "import sys; sys.exit(0 if $rauto >= $roff - 0.0005 else 1)" ||
	fail "random: auto carried $rauto file bytes per wire byte, off $roff"
python3 -c "import sys; sys.exit(0 if $sauto <= $soff * 1.15 + 0.2 else 1)" ||
	fail "random: auto took $sauto s, off $soff s"
[ "$(jget "$T/rnd-off.out" lz4_datagrams)" = 0 ] || fail "--compress off sent LZ4 datagrams"
stop_recv
pieces=$(jget "$RECV_OUT" lz4_pieces)
[ "$pieces" -gt 0 ] || fail "receiver --json counts $pieces LZ4 pieces"
[ "$(jget "$RECV_OUT" lz4_bad)" = 0 ] || fail "receiver dropped LZ4 pieces on loopback"

# the hot folder logs each batch's ratio and both goodputs
. "$(dirname "$0")/../helpers/watch_lib.sh"
mkdir -p "$T/hot" "$T/inhot"
start_recv "$T/inhot"
start_watch hot "$T/hot" "127.0.0.1:$PORT" --settle 200ms --post keep
head -c 3000000 "$T/src/log.txt" >"$T/hot/part.log"
wait_until 30 '[ "$(wstat "$T/hot" sent)" = 1 ]' || fail "hot folder: part.log not sent"
stop_watch
cmp "$T/hot/part.log" "$T/inhot/part.log" || fail "hot folder: part.log differs"
grep -Eq 'sent 1 file .* in [0-9.]+ s, compressed [0-9.]+x: [0-9.]+ Mbit/s of file data over [0-9.]+ Mbit/s on the wire' \
	"$T/hot.log" || fail "hot folder logged no compression figures: $(grep sent "$T/hot.log")"
stop_recv

# a receiver with compression off refuses it: the sender goes raw
RECV_BIN=$SALVO start_recv "$T/in2" --compress off
run_send refused --json --compress lz4 "$T/src/log.txt" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "to a refusing receiver: exit $SEND_RC: $(cat "$T/refused.err")"
cmp "$T/src/log.txt" "$T/in2/log.txt" || fail "log differs (refusing receiver)"
[ "$(jget "$T/refused.out" compress_agreed)" = False ] || fail "a receiver with --compress off agreed"
[ "$(jget "$T/refused.out" lz4_datagrams)" = 0 ] || fail "LZ4 sent to a receiver that refused it"
stop_recv
note ok
