#!/bin/bash
# One bad entry does not stop a tree: a file whose name the protocol
# refuses (a newline), a folder so named, an unreadable file, an
# unreadable folder, symlinks (to a file and to a folder) and a FIFO are
# each skipped with a reason, the rest of the tree arrives intact, and
# the send exits 9 ("partial": entries could not be read); the log, the progress line, the summary
# and --json (skipped: [{path, reason, detail}], counts by reason) name
# every skipped path.  Without the unreadable entries (symlinks, a FIFO
# and bad names only, all skipped on purpose) the send exits 0, the
# skips still listed.  A path given on the command line that cannot be
# read is still an immediate error (exit 6).  The sender runs as nobody
# (setpriv), since root reads a mode-000 file.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

command -v setpriv >/dev/null || fail "setpriv (util-linux) missing"
chmod 755 "$T"
src=$T/src/tree
mkdir -p "$src/ok/deeper" "$T/in" "$T/want/tree/ok/deeper"
printf 'one\n' >"$src/ok/one"
printf 'two\n' >"$src/ok/deeper/two"
head -c 1048576 /dev/urandom >"$src/ok/big"
printf 'fine\n' >"$src/fine"
printf 'bad\n' >"$src/new"$'\n'"line"
mkdir "$src/bad"$'\n'"folder"
printf 'inside\n' >"$src/bad"$'\n'"folder/inside"
printf 'secret\n' >"$src/secret"
chmod 000 "$src/secret"
mkdir "$src/closed"
printf 'hidden\n' >"$src/closed/hidden"
chmod 000 "$src/closed"
ln -s ok/one "$src/link-file"
ln -s ok "$src/link-dir"
mkfifo "$src/fifo"
cp -a "$src/ok" "$T/want/tree/"
cp -a "$src/fine" "$T/want/tree/"
chmod -R a+rX "$T/src/tree/ok" "$src/fine" "$src/new"$'\n'"line" "$src/bad"$'\n'"folder"

start_recv "$T/in"
# nobody_send NAME ARGS...: run_send as user nobody, with a HOME of its
# own for its key and known hosts
mkdir -p "$T/nobody-home"
chown 65534:65534 "$T/nobody-home"
nobody_send() {
	SEND_PREFIX=(setpriv --reuid=65534 --regid=65534 --clear-groups
		env HOME="$T/nobody-home")
	run_send "$@"
	SEND_PREFIX=()
}

SEND_BIN=$SALVO_ASAN nobody_send json --json "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 9 ] || fail "exit $SEND_RC with skipped entries, want 9 (partial): $(cat "$T/json.err")"
python3 - "$T/json.out" "$src" <<'PYEOF' || fail "--json skipped list: $(cat "$T/json.out")"
import json, sys
j = json.load(open(sys.argv[1]))
src = sys.argv[2]
want = {
    src + "/new\nline": "bad_name",
    src + "/bad\nfolder": "bad_name",
    src + "/secret": "unreadable",
    src + "/closed": "unreadable",
    src + "/link-file": "symlink",
    src + "/link-dir": "symlink",
    src + "/fifo": "special",
}
got = {e["path"]: e["reason"] for e in j["skipped"]}
assert got == want, ("skipped", got)
assert all(e["detail"] for e in j["skipped"]), j["skipped"]
assert j["result"] == "partial" and j["exit_code"] == 9, j["result"]
assert j["skipped_count"] == 7, j["skipped_count"]
assert j["skipped_by_reason"] == {"symlink": 2, "special": 1, "unreadable": 2,
                                  "bad_name": 2}, j["skipped_by_reason"]
assert j["files"] == 4 and j["dirs"] == 3, (j["files"], j["dirs"])
PYEOF
same_tree "$T/want/tree" "$T/in/tree"
note "json: $(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['result'], j['skipped_count'], j['skipped_by_reason'])" "$T/json.out")"

# people's output: a log line per skipped path, the count on the
# progress line, the summary with each path and its reason
rm -rf "$T/in/tree"
nobody_send text --progress --rate-policy fixed --rate 20mbit "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 9 ] || fail "exit $SEND_RC, want 9: $(cat "$T/text.err")"
for p in "link-file: symlink" "fifo: special file" "secret: unreadable" "closed: unreadable"; do
	grep -q "skipped '$src/${p%%: *}': ${p#*: }" "$T/text.err" ||
		fail "no log line for ${p%%: *}: $(cat "$T/text.err")"
	grep -q "$src/${p%%: *}: ${p#*: }" "$T/text.out" ||
		fail "the summary does not list ${p%%: *}: $(cat "$T/text.out")"
done
grep -q "skipped 7" "$T/text.err" || fail "the progress line lacks 'skipped 7': $(cat "$T/text.err")"
grep -q "^4 files, 3 folders, " "$T/text.out" &&
	grep -qx "skipped 7: 2 symlinks, 1 special file, 2 unreadable, 2 bad names" "$T/text.out" &&
	grep -qxF "  $src/new\x0aline: bad name (control character in path)" "$T/text.out" ||
	fail "summary: $(cat "$T/text.out")"
tr '\r' '\n' <"$T/text.err" | sed 's/\x1b\[K//g' | grep -q "^salvo send: sent all but 7 entries" ||
	fail "no partial line: $(cat "$T/text.err")"
same_tree "$T/want/tree" "$T/in/tree"
note "summary: $(head -2 "$T/text.out" | tr '\n' ' ')"

# skipped on purpose only (no unreadable entry): exit 0, still listed
chmod 644 "$src/secret"
chmod 755 "$src/closed"
mv "$src/secret" "$src/closed" "$T/src/"
rm -rf "$T/in/tree"
nobody_send skipsonly --json "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "symlinks, a FIFO and bad names skipped: exit $SEND_RC, want 0: $(cat "$T/skipsonly.err")"
python3 - "$T/skipsonly.out" <<'PYEOF' || fail "--json: $(cat "$T/skipsonly.out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["result"] == "ok" and j["exit_code"] == 0, j["result"]
assert j["skipped_by_reason"] == {"symlink": 2, "special": 1, "unreadable": 0,
                                  "bad_name": 2}, j["skipped_by_reason"]
PYEOF
same_tree "$T/want/tree" "$T/in/tree"
mv "$T/src/secret" "$T/src/closed" "$src/"
chmod 000 "$src/secret" "$src/closed"
note "skipped on purpose only: exit 0, 5 entries listed"

# named on the command line: an immediate error, nothing sent
nobody_send named "$src/secret" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 6 ] && grep -q "secret.*Permission denied" "$T/named.err" ||
	fail "an unreadable PATH: exit $SEND_RC, $(cat "$T/named.err")"
nobody_send nameddir "$src/closed" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 6 ] && grep -q "closed.*Permission denied" "$T/nameddir.err" ||
	fail "an unreadable folder PATH: exit $SEND_RC, $(cat "$T/nameddir.err")"
[ ! -e "$T/in/secret" ] && [ ! -e "$T/in/closed" ] || fail "an unreadable PATH arrived"

# every entry sent: exit 0
run_send clean "$src/ok" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "a clean tree: exit $SEND_RC: $(cat "$T/clean.err")"
stop_recv
note ok
