#!/bin/bash
# Settings reach the engine from a YAML file and from flags, a flag
# overriding the file; --json reports the configured values with their
# sources, the options the engine was given ("options", built by
# conf/engine_opts.c) and what it used ("engine").  An auto datagram is
# handed over as 0 with the MTU, and the engine derives it from the
# address family.  The receiver takes its settings the same way.  Flags
# that do not act are refused by name: old spellings, another command's
# flag, a policy not built yet.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src" "$T/in"
printf 'cfg\n' >"$T/src/f"
cat >"$T/send.yaml" <<YAML
network:
  mtu: 9000
  batch: 16
  send_sockets: 2
transfer:
  block_size: 1MiB
  threads: 3
  rate: 300mbit
  min_rate: 20mbit
  rate_policy: adaptive
  timeout: 4s
YAML
cat >"$T/recv.yaml" <<YAML
receiver:
  root: $T/in
  idle_timeout: 3s
network:
  recv_sockets: 3
YAML
PORT=$(free_port)
# --dir comes from the file; the port from a flag
"$SALVO_ASAN" recv --config "$T/recv.yaml" --port "$PORT" --bind 127.0.0.1 --json --allow-anonymous \
	>"$T/recv.out" 2>"$T/recv.log" &
RECV_PID=$!
RECV_LOG=$T/recv.log
RECV_OUT=$T/recv.out
BG_PIDS+=("$RECV_PID")
wait_line "$RECV_LOG" "^listening on 127.0.0.1:$PORT, writing below $T/in" 20 "$RECV_PID" ||
	fail "receiver with --config did not start"

run_send cfg --config "$T/send.yaml" --threads 2 --mtu 1500 --json "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send with --config: exit $SEND_RC: $(cat "$T/cfg.err")"
e() { jget "$T/cfg.out" engine "$1"; }
op() { jget "$T/cfg.out" options "$1"; }
[ "$(op mtu_bytes)" = 1500 ] || fail "options.mtu_bytes $(op mtu_bytes), want 1500 from --mtu"
[ "$(op datagram_bytes)" = 0 ] || fail "options.datagram_bytes $(op datagram_bytes), want 0 (auto)"
[ "$(op min_rate_bps)" = 20000000 ] || fail "options.min_rate_bps $(op min_rate_bps), want 20mbit from the file"
[ "$(op rate_policy)" = adaptive ] || fail "options.rate_policy $(op rate_policy), want adaptive from the file"
[ "$(op timeout_ns)" = 4000000000 ] || fail "options.timeout_ns $(op timeout_ns)"
[ "$(e rate_policy)" = adaptive ] || fail "engine rate_policy $(e rate_policy), want adaptive from the file"
[ "$(e block_bytes)" = 1048576 ] || fail "block_bytes $(e block_bytes), want 1MiB from the file"
[ "$(e threads)" = 2 ] || fail "threads $(e threads), want 2 from the flag"
[ "$(e datagram_bytes)" = 1472 ] || fail "datagram $(e datagram_bytes), want 1500 - 28 from --mtu"
[ "$(e batch)" = 16 ] || fail "batch $(e batch), want 16 from the file"
[ "$(e sockets)" = 2 ] || fail "sockets $(e sockets), want 2 from the file"
[ "$(e rate_bps)" = 300000000 ] || fail "rate $(e rate_bps), want 300mbit from the file"
src=$(jget "$T/cfg.out" config sources transfer.threads)
[[ $src == *--threads ]] || fail "threads source '$src'"
src=$(jget "$T/cfg.out" config sources transfer.block_size)
[[ $src == "$T/send.yaml:"* ]] || fail "block_size source '$src'"
[ "$(jget "$T/cfg.out" config transfer timeout_ns)" = 4000000000 ] || fail "timeout from the file"
for k in files dirs bytes seconds goodput_mbps datagrams wire_bytes retx_bytes \
	peak_rss_bytes srtt_ms result message; do
	jget "$T/cfg.out" "$k" >/dev/null || fail "--json lacks '$k'"
done
[ "$(jget "$T/cfg.out" datagrams)" -gt 0 ] || fail "--json datagrams is 0"

# a bad value in the file, and a bad flag: exit 2, each named
printf 'transfer:\n  threads: 99\n' >"$T/bad.yaml"
run_send bad --config "$T/bad.yaml" --rate 5XB "$T/src/f" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 2 ] || fail "bad config: exit $SEND_RC, want 2"
grep -q "bad.yaml:2:12: transfer.threads" "$T/bad.err" && grep -q -- "--rate" "$T/bad.err" ||
	fail "bad config: $(cat "$T/bad.err")"

# accepted means it acts: everything else is refused, naming what to use
refused() { # name pattern args...
	local name=$1 pat=$2
	shift 2
	run_send "$name" "$@" "$T/src/f" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 2 ] || fail "$name: exit $SEND_RC, want 2"
	grep -q -- "$pat" "$T/$name.err" || fail "$name: $(cat "$T/$name.err")"
}
refused dest "^salvo send: --dest: renamed; allowed: --remote-dir" --dest x
refused compression "^salvo send: --compression: renamed; allowed: --compress" --compression lz4
printf 'transfer:\n  compression: none\n' >"$T/none.yaml"
refused none "none.yaml:2:16: transfer.compression: 'none' is not a known value; allowed: off, auto, lz4" \
	--config "$T/none.yaml"
refused fixed "transfer.rate_policy: 'fixed' needs transfer.rate (--rate)" --rate-policy fixed
refused bind "^salvo send: --bind: network.bind is a setting of salvo recv" --bind 127.0.0.1
refused logf "logging.file: cannot open '/nonexistent/x.log'" --log-file /nonexistent/x.log
"$SALVO" recv --dir "$T/in" --mtu 9000 >"$T/rmtu.out" 2>"$T/rmtu.err" && fail "recv --mtu accepted"
grep -q "network.mtu is a setting of salvo send, watch and plan; salvo recv does not take it" "$T/rmtu.err" ||
	fail "recv --mtu: $(cat "$T/rmtu.err")"

stop_recv
[ "$(jget "$RECV_OUT" engine sockets)" = 3 ] || fail "receiver sockets not from its file"
[ "$(jget "$RECV_OUT" engine idle_timeout_ns)" = 3000000000 ] || fail "receiver idle timeout"
[ "$(jget "$RECV_OUT" files)" = 1 ] || fail "receiver --json files"
note ok
