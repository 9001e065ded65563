#!/bin/bash
# LZ4 on the fly (--compress, docs/PROTOCOL.md "Compression"): 20 MiB of
# zeros and a 20 MB text log cross loopback as far fewer wire bytes than
# file bytes and arrive byte-identical; random data goes raw (auto) and is
# neither inflated nor slowed against --compress off; a receiver with
# compression off refuses the capability and the sender sends raw.
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

# random: auto sends it raw (at most 1 % more wire bytes than off) and
# not slower than off (within 15 %: loopback timing is noisy)
for mode in off auto; do
	run_send "rnd-$mode" --json --compress "$mode" --rate 2gbit --remote-dir "$mode" \
		"$T/src/random" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "random $mode: exit $SEND_RC: $(cat "$T/rnd-$mode.err")"
	cmp "$T/src/random" "$T/in/$mode/random" || fail "random ($mode) arrived different"
done
woff=$(jget "$T/rnd-off.out" wire_bytes)
wauto=$(jget "$T/rnd-auto.out" wire_bytes)
soff=$(jget "$T/rnd-off.out" seconds)
sauto=$(jget "$T/rnd-auto.out" seconds)
note "random: off $woff wire bytes in $soff s, auto $wauto in $sauto s"
[ "$wauto" -le $((woff + woff / 100)) ] || fail "random: auto put $wauto bytes on the wire, off $woff"
python3 -c "import sys; sys.exit(0 if $sauto <= $soff * 1.15 + 0.2 else 1)" ||
	fail "random: auto took $sauto s, off $soff s"
[ "$(jget "$T/rnd-off.out" lz4_datagrams)" = 0 ] || fail "--compress off sent LZ4 datagrams"
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
