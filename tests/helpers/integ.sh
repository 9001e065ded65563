# Shared helpers for tests/integ/send_*.sh: real salvo processes on
# loopback (or in namespaces a test creates).  Sourced, not run; it lives
# outside tests/integ/ so tests/run-integ does not run it as a test.
#
#   $SALVO, $SALVO_ASAN   release and sanitizer binaries (make test-integ)
#   T                     this test's scratch folder, removed on exit
#   fail MESSAGE          print, show the logs, exit 1
#   free_port             an unused UDP port on 127.0.0.1
#   start_recv DIR [ARGS] salvo recv on 127.0.0.1:$PORT (or $RECV_BIND),
#                         --allow-anonymous unless RECV_ANON=0 (then
#                         run_send stops naming its key, see there),
#                         run through the command in array RECV_PREFIX if
#                         any (ip netns exec NS, unshare ...), binary
#                         $RECV_BIN (default $SALVO_ASAN); sets PORT,
#                         RECV_PID, RECV_LOG (stderr), RECV_OUT (stdout)
#   run_send NAME ARGS... salvo send ARGS ($SEND_BIN, default $SALVO;
#                         through array SEND_PREFIX) within
#                         $SEND_TIME_LIMIT s; sets SEND_RC, output in
#                         $T/NAME.out and $T/NAME.err
#   wait_exit PID SECS    waits for a background process; sets WAIT_RC
#   same_tree A B         same contents (diff -r), types, modes, mtimes;
#                         B's .salvo/ (a receiver's private folder, when
#                         B is its root) is not part of the tree
#   jget FILE KEY...      a value from a JSON file ("engine" "threads")
#   veth_namespaces       two namespaces joined by a veth pair, removed
#                         on exit: NSA (VA, IPA) and NSB (VB, IPB)
#   make_tree DIR N       a tree of N small files, nested and empty
#                         folders, spaces and unicode names, varied modes
#                         and mtimes (deterministic)
#
# Every process a test starts is killed on exit; every wait is bounded.
# The machine's salvo.yaml files are not read (SALVO_NO_USER_CONFIG=1,
# SALVO_SYSCONFDIR is $T/etc, empty), so results do not depend on it; the
# key files salvo makes on first use (as root: SYSCONFDIR/salvo) land there.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SALVO=${SALVO:-$ROOT/build/release/salvo}
SALVO_ASAN=${SALVO_ASAN:-$SALVO}
export SALVO_NO_USER_CONFIG=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${SALVO_TEST_TMP:-/tmp}/salvo-$TEST_NAME-XXXXXX")
export SALVO_SYSCONFDIR=$T/etc
mkdir -p "$SALVO_SYSCONFDIR"
BG_PIDS=()
CLEANUP_CMDS=()
RECV_PREFIX=()
SEND_PREFIX=()
RECV_BIND=127.0.0.1
PORT=
RECV_PID=
RECV_LOG=
RECV_OUT=

integ_cleanup() {
	local pid i
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BG_PIDS[@]}"; do
		for i in $(seq 1 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ((i = ${#CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP_CMDS[$i]}" || true
	done
	rm -rf "$T"
}
trap integ_cleanup EXIT

# Runs a command (a string for eval) on exit, last registered first.
on_exit() { CLEANUP_CMDS+=("$1"); }

fail() {
	local f
	echo "FAIL ($TEST_NAME): $*" >&2
	for f in "$T"/*.err "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f"):" >&2
		tail -20 "$f" >&2
	done
	exit 1
}

note() { echo "$TEST_NAME: $*"; }

free_port() {
	local p used i
	used=$(ss -Hanu 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		grep -qx "$p" <<<"$used" || {
			echo "$p"
			return 0
		}
	done
	fail "no free UDP port found"
}

# Waits until FILE has a line matching PATTERN, PID still alive; bounded.
wait_line() { # file pattern seconds pid
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_recv() { # dir [extra args...]
	local dir=$1 bin=${RECV_BIN:-$SALVO_ASAN}
	shift
	PORT=$(free_port)
	RECV_LOG=$T/recv-$PORT.log
	RECV_OUT=$T/recv-$PORT.out
	# protocol 3 refuses senders the receiver has not authorised: tests
	# that are not about identities let any sender in (RECV_ANON=0: not)
	local anon=()
	[ "${RECV_ANON:-1}" = 0 ] || anon=(--allow-anonymous)
	"${RECV_PREFIX[@]}" "$bin" recv --dir "$dir" --port "$PORT" \
		--bind "$RECV_BIND" "${anon[@]}" "$@" >"$RECV_OUT" 2>"$RECV_LOG" &
	RECV_PID=$!
	BG_PIDS+=("$RECV_PID")
	wait_line "$RECV_LOG" "^listening on .*:$PORT, writing below " 20 "$RECV_PID" ||
		fail "salvo recv on port $PORT did not say it was listening within 20 s"
}

run_send() { # name args...
	local name=$1
	shift
	SEND_RC=0
	# tests not about identities name the local receiver's key, as a
	# configured sender would, instead of pinning it with a warning
	local rkey=()
	[ "${RECV_ANON:-1}" = 0 ] || [ ! -f "$SALVO_SYSCONFDIR/salvo/key.pub" ] ||
		rkey=(--receiver-key "$SALVO_SYSCONFDIR/salvo/key.pub")
	"${SEND_PREFIX[@]}" timeout -k 5 "${SEND_TIME_LIMIT:-110}" \
		"${SEND_BIN:-$SALVO}" send "${rkey[@]}" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" || SEND_RC=$?
	[ "$SEND_RC" -ne 124 ] || fail "salvo send ($name) still running after ${SEND_TIME_LIMIT:-110} s"
}

wait_exit() { # pid seconds
	local i
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && return 1
	WAIT_RC=0
	wait "$1" || WAIT_RC=$?
	return 0
}

# Stops the receiver with SIGTERM and checks that it exits 0 in time.
stop_recv() {
	kill -TERM "$RECV_PID" 2>/dev/null || true
	wait_exit "$RECV_PID" 20 || fail "salvo recv ignored SIGTERM for 20 s"
	[ "$WAIT_RC" -eq 0 ] || fail "salvo recv exited $WAIT_RC after SIGTERM, want 0"
}

jget() { # file key...
	python3 - "$@" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)
EOF
}

# One line per entry below DIR: type, mode, size (files), mtime in whole
# seconds, path; sorted.
tree_list() { # dir [name of a top folder to leave out]
	python3 - "$@" <<'EOF'
import os, stat, sys
root = sys.argv[1]
out = []
for d, dirs, files in os.walk(root):
    if d == root and len(sys.argv) > 2:
        dirs[:] = [n for n in dirs if n != sys.argv[2]]
    for name in dirs + files:
        p = os.path.join(d, name)
        st = os.lstat(p)
        kind = "d" if stat.S_ISDIR(st.st_mode) else \
            "l" if stat.S_ISLNK(st.st_mode) else "f"
        size = "-" if kind == "d" else str(st.st_size)
        out.append("%s %o %s %d %s" % (kind, stat.S_IMODE(st.st_mode), size,
                                       int(st.st_mtime), os.path.relpath(p, root)))
for line in sorted(out, key=lambda l: l.split(" ", 4)[4]):
    print(line)
EOF
}

same_tree() { # expected actual
	local skip=()
	# the receiver's private folder, unless the expected tree has one too
	[ -n "$(find "$1" -name .salvo -print -quit)" ] || skip=(-x .salvo)
	diff -r --no-dereference "${skip[@]}" "$1" "$2" >"$T/diff.log" 2>&1 ||
		fail "contents differ between $1 and $2: $(head -5 "$T/diff.log")"
	diff <(tree_list "$1") <(tree_list "$2" ${skip[@]:+.salvo}) >"$T/meta.log" ||
		fail "types, modes or mtimes differ (< sent, > received): $(head -8 "$T/meta.log")"
}

make_tree() { # dir nfiles
	python3 - "$1" "$2" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1234)
dirs = ["", "a", "a/b", "a/b/c", "a/b/c/d", "spaces in name", "café",
        "日本語 フォルダ", "deep/" + "/".join("l%d" % i for i in range(12))]
for d in dirs + ["empty", "a/empty too", "a/b/c/d/ε"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
names = ["file", "two words", "naïve", "データ", "emoji 🚀", "-dash", "x.y.z"]
for i in range(n):
    d = dirs[i % len(dirs)]
    name = "%s %04d%s" % (names[i % len(names)], i, ".txt" if i % 3 else "")
    p = os.path.join(root, d, name)
    size = rng.choice([0, 1, 7, 100, 1000, 4095, 4096, 4097, 70000])
    with open(p, "wb") as f:
        f.write(rng.randbytes(size))
    os.chmod(p, rng.choice([0o644, 0o600, 0o755, 0o640, 0o444]))
    t = 1500000000 + rng.randrange(200000000)
    os.utime(p, (t, t))
os.chmod(os.path.join(root, "a/b"), 0o750)
for d in dirs[1:] + ["empty", "a/empty too", "a/b/c/d/ε"]:
    os.utime(os.path.join(root, d), (1600000000, 1600000000))
EOF
}

# A file of MIB mebibytes with random-looking content, fast: one random
# MiB repeated, each copy starting with its index, so no two are equal.
make_file() { # path size-in-MiB
	python3 - "$1" "$2" <<'EOF'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
seed = os.urandom(1 << 20)
with open(path, "wb") as f:
    for i in range(mib):
        f.write(i.to_bytes(8, "little") + seed[8:])
EOF
}

command -v python3 >/dev/null || fail "python3 missing (apt-get install python3)"
[ -x "$SALVO" ] || fail "salvo binary $SALVO missing (make)"

veth_namespaces() {
	command -v ip >/dev/null || fail "ip (iproute2) missing"
	local id=$$ net=$(($$ % 200 + 20)) ns
	NSA=salvoS$id NSB=salvoR$id VA=vs$id VB=vr$id
	IPA=10.201.$net.1 IPB=10.201.$net.2
	ip netns add "$NSA" || fail "cannot create namespace $NSA (needs root)"
	on_exit "ip netns del $NSA"
	ip netns add "$NSB" || fail "cannot create namespace $NSB"
	on_exit "ip netns del $NSB"
	ip link add "$VA" type veth peer name "$VB" || fail "cannot create veth pair"
	ip link set "$VA" netns "$NSA"
	ip link set "$VB" netns "$NSB"
	ip -n "$NSA" addr add "$IPA/24" dev "$VA"
	ip -n "$NSB" addr add "$IPB/24" dev "$VB"
	for ns in "$NSA" "$NSB"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NSA" link set "$VA" up
	ip -n "$NSB" link set "$VB" up
	ip netns exec "$NSA" ping -c 1 -W 2 "$IPB" >/dev/null ||
		fail "no ping from $NSA to $IPB"
}
