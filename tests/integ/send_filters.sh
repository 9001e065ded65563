#!/bin/bash
# Symlinks and globs inside sent folders (issue 13): by default a symlink
# is skipped and reported; --links follow sends what it points to, and
# skips, as a symlink with the reason, one that points nowhere and one
# that leads back to a folder being sent (a loop walked forever before);
# --include sends only matching files, --exclude leaves out files and
# whole folders (a glob with '/' matches the path below the named
# folder), counted in --json "excluded" and not as skipped; YAML lists
# work as the flags do.  Failed before: --links, --include and --exclude
# were unknown to salvo send.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

src=$T/src/tree
mkdir -p "$src/docs/old" "$src/.git" "$src/media" "$T/in" "$T/elsewhere"
printf 'a\n' >"$src/docs/a.txt"
printf 'b\n' >"$src/docs/b.md"
printf 'o\n' >"$src/docs/old/o.txt"
printf 'g\n' >"$src/.git/HEAD"
printf 'clip\n' >"$src/media/clip.mov"
printf 'far\n' >"$T/elsewhere/far.txt"
ln -s ../../elsewhere/far.txt "$src/far-link.txt"
ln -s "$T/elsewhere" "$src/dir-link"
ln -s missing "$src/dangling"
ln -s .. "$src/docs/up"
start_recv "$T/in"
tree_of() { (cd "$1" && find . -mindepth 1 ! -path './.salvo*' | sort | tr '\n' ' '); }

# default: every symlink skipped, reported, exit 0 (as rsync)
run_send skip --json "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "default: exit $SEND_RC, want 0: $(cat "$T/skip.err")"
[ "$(jget "$T/skip.out" skipped_by_reason symlink)" = 4 ] || fail "default: symlinks not all reported"
[ ! -e "$T/in/tree/far-link.txt" ] || fail "default: a symlink was followed"
rm -rf "$T/in/tree"
note "default: 4 symlinks skipped and reported (exit 0)"

# follow: targets sent; the dangling link and the loop skipped with reasons
run_send follow --json --links follow "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "follow: exit $SEND_RC, want 0: $(cat "$T/follow.err")"
cmp "$T/elsewhere/far.txt" "$T/in/tree/far-link.txt" || fail "follow: linked file not sent"
cmp "$T/elsewhere/far.txt" "$T/in/tree/dir-link/far.txt" || fail "follow: linked folder not sent"
[ ! -L "$T/in/tree/far-link.txt" ] || fail "follow: arrived as a link"
python3 - "$T/follow.out" "$src" <<'EOF' || fail "follow: skipped list: $(cat "$T/follow.out")"
import json, sys
j = json.load(open(sys.argv[1])); src = sys.argv[2]
got = {e["path"]: (e["reason"], e["detail"]) for e in j["skipped"]}
assert set(got) == {src + "/dangling", src + "/docs/up"}, got
assert "points nowhere" in got[src + "/dangling"][1], got
assert "loop" in got[src + "/docs/up"][1], got
EOF
rm -rf "$T/in/tree"
note "follow: targets sent; dangling and loop links skipped with reasons"

# globs: include *.txt (a '/'-glob too), exclude a folder and a path
run_send globs --json --include '*.txt' --include 'media/*' --exclude .git \
	--exclude 'docs/old' "$src" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "globs: exit $SEND_RC: $(cat "$T/globs.err")"
want="./docs ./docs/a.txt ./media ./media/clip.mov "
[ "$(tree_of "$T/in/tree")" = "$want" ] || fail "globs: got $(tree_of "$T/in/tree"), want $want"
# excluded: b.md, docs/old, .git, and the links whose names match no
# include (dir-link, dangling, docs/up); far-link.txt matches *.txt, so
# it is still a symlink not followed: skipped, reported
[ "$(jget "$T/globs.out" excluded)" = 6 ] || fail "globs: excluded $(jget "$T/globs.out" excluded), want 6"
[ "$(jget "$T/globs.out" skipped_count)" = 1 ] || fail "globs: skipped $(jget "$T/globs.out" skipped_count), want 1 (far-link.txt)"
rm -rf "$T/in/tree"
note "globs: include/exclude picked docs/a.txt and media/clip.mov; 6 excluded, 1 symlink skipped"

# the same from YAML lists; and a named path is sent whatever the globs
cat >"$T/f.yaml" <<'EOF'
transfer:
  include: ["*.txt", "media/*"]
  exclude: [".git", "docs/old"]
EOF
run_send yaml --json --config "$T/f.yaml" "$src" "$src/docs/b.md" "127.0.0.1:$PORT"
[ "$SEND_RC" = 0 ] || fail "yaml: exit $SEND_RC: $(cat "$T/yaml.err")"
[ "$(tree_of "$T/in/tree")" = "$want" ] || fail "yaml: got $(tree_of "$T/in/tree")"
cmp "$src/docs/b.md" "$T/in/b.md" || fail "yaml: a named file was filtered"
note "YAML lists act as the flags; a named path is always sent"

# recv does not take them
rc=0
"$SALVO" recv --dir "$T/in" --include '*.txt' >/dev/null 2>"$T/recv.err" || rc=$?
[ "$rc" = 2 ] && grep -q "is a setting of salvo send" "$T/recv.err" ||
	fail "recv --include: exit $rc: $(cat "$T/recv.err")"
note ok
