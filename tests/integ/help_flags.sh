#!/bin/bash
# Each command's --help and the flag tables of its section of docs/CLI.md
# name the same flags
# (recv --mtu was documented and missing from --help), and every flag the
# help names is accepted: it does not fail as unknown or another command's.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

DOC=$ROOT/docs/CLI.md
section() { # command: the text of "## salvo CMD" up to the next "## "
	awk -v h="## salvo $1" '$0 == h {on = 1; next} /^## / {on = 0} on' "$DOC"
}
flags() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
for cmd in send recv watch; do
	"$SALVO" "$cmd" --help >"$T/$cmd.help"
	grep "^  -" "$T/$cmd.help" | flags >"$T/$cmd.hf"
	section "$cmd" | grep '^| `--' | flags >"$T/$cmd.df"
	# the general flags section lists --log-* for all three commands
	sed -n "/^### Logging/,/^## /p" "$DOC" | grep '^| `--' | flags >>"$T/$cmd.df"
	sort -u -o "$T/$cmd.df" "$T/$cmd.df"
	missing=$(comm -23 "$T/$cmd.df" "$T/$cmd.hf" | grep -v -x -e --dest -e --dest-dir || true)
	[ -z "$missing" ] || fail "salvo $cmd --help lacks what docs/CLI.md documents: $missing"
	extra=$(comm -13 "$T/$cmd.df" "$T/$cmd.hf")
	[ -z "$extra" ] || fail "docs/CLI.md (salvo $cmd) lacks what --help names: $extra"
	while read -r f; do
		case $f in --help | --config | --status | --json | --quiet | --once | \
			--progress | --no-progress | --verbose) continue ;; esac
		"$SALVO" "$cmd" "$f" x >"$T/x.out" 2>"$T/x.err" || true
		! grep -q -e "unknown" -e "does not take it" -e "renamed" "$T/x.err" ||
			fail "salvo $cmd $f: $(cat "$T/x.err")"
	done <"$T/$cmd.hf"
	note "salvo $cmd: $(wc -l <"$T/$cmd.hf") flags in --help and docs/CLI.md"
done
# config check takes --help and refuses other options instead of reading
# them as file names ("--help: cannot open" before)
"$SALVO" config check --help >"$T/cc.out" 2>"$T/cc.err" ||
	fail "salvo config check --help: exit $?: $(cat "$T/cc.err")"
grep -q "^usage: salvo config" "$T/cc.out" || fail "salvo config check --help: $(cat "$T/cc.out")"
rc=0
"$SALVO" config check --bogus >"$T/cc.out" 2>"$T/cc.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown option '--bogus'" "$T/cc.err" ||
	fail "salvo config check --bogus: exit $rc: $(cat "$T/cc.err")"
printf 'network:\n  port: 7500\n' >"$T/-dash.yaml"
(cd "$T" && "$SALVO" config check -- -dash.yaml >"$T/cc.out" 2>&1) ||
	fail "salvo config check -- -dash.yaml: $(cat "$T/cc.out")"
note "salvo config check: --help, unknown options, -- before a dash file"
note ok
