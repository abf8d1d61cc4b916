#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The documentation in its places: README.md short and linking every other
# document, the manual pages rendered from their Markdown and clean for
# groff, installed where man(1) finds them, the README's policy valid, and
# the top level as the design card has it. TAP output.

set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}
check() { # DESCRIPTION COMMAND...
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$out"; fi
}

DOCS=(user/dist/cranegate-policy.5.md user/dist/cranegate.8.md bpf/README.md
	user/README.md tests/README.md tests/bench/README.md)
PAGES=(user/dist/cranegate-policy.5 user/dist/cranegate.8)
CG=${CRANEGATE:-build/cranegate}
tmp=$(mktemp -d /tmp/cranegate-docs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

lines=$(wc -l <README.md)
if [ "$lines" -le 350 ]; then ok "README.md is $lines lines (at most 350)"; else not_ok "README.md is $lines lines (at most 350)"; fi

for d in "${DOCS[@]}"; do
	check "$d exists and README.md links it" grep -qF "($d)" README.md
	[ -s "$d" ] || not_ok "$d is not empty"
done
# Every Markdown document of the tree is one of them (or a test's data).
extra=$(git ls-files '*.md' 2>/dev/null | grep -v '^README.md$' | while read -r f; do
	printf '%s\n' "${DOCS[@]}" | grep -qxF "$f" || echo "$f"
done)
if [ -z "$extra" ]; then ok "no Markdown document is left unlinked"; else not_ok "no Markdown document is left unlinked" $extra; fi

for p in "${PAGES[@]}"; do
	w=$(groff -man -ww -z -Tutf8 "$p" 2>&1)
	if [ -z "$w" ]; then ok "$p renders without groff warnings"; else not_ok "$p renders without groff warnings" "$w"; fi
	if command -v pandoc >/dev/null; then
		pandoc -s -f markdown-smart -t man "$p.md" -o "$tmp/page"
		if cmp -s "$tmp/page" "$p"; then ok "$p is $p.md rendered (make man)"; else not_ok "$p is $p.md rendered (make man)" "run: make man"; fi
	else
		ok "$p is $p.md rendered # SKIP pandoc is not installed"
	fi
done

# make install puts both pages where man(1) finds them.
if [ -x "$CG" ]; then
	if make --no-print-directory install DESTDIR="$tmp/root" PREFIX=/usr >"$tmp/install.log" 2>&1; then
		check "man 5 cranegate-policy after make install" \
			sh -c "MANPATH='$tmp/root/usr/share/man' man -P cat 5 cranegate-policy | grep -q 'HOW A FRAME IS JUDGED'"
		check "man 8 cranegate after make install" \
			sh -c "MANPATH='$tmp/root/usr/share/man' man -P cat 8 cranegate | grep -q 'FAILURE MODES'"
	else
		not_ok "make install into a DESTDIR" "$(tail -5 "$tmp/install.log")"
	fi
	# The policy README.md shows is a valid one, without warnings.
	sed -n '/^```yaml$/,/^```$/p' README.md | sed '1d;$d' >"$tmp/readme.yaml"
	check "README.md's policy passes check --strict" "$CG" check --strict "$tmp/readme.yaml"
else
	ok "make install and the README's policy # SKIP $CG is not built"
fi

top=$(git ls-files | cut -d/ -f1 | sort -u | grep -v "^\.[a-z-]*$" | tr '\n' ' ')
[ -d .ci ] && top=".ci $top"
want=".ci Makefile README.md bpf maps policies tests user vmlinux "
if [ "$top" = "$want" ]; then ok "the top level is the design card's"; else not_ok "the top level is the design card's" "have: $top" "want: $want"; fi

# user/ in layers (user/README.md): a layer includes no header of a layer
# above it, and the product no test header.
up() { # LOWER-DIR HIGHER-DIR...: includes of a higher layer's headers
	local low=$1 hi h
	shift
	for hi in "$@"; do
		for h in user/"$hi"/*.h; do
			grep -l "#include \"$(basename "$h")\"" user/"$low"/*.[ch] 2>/dev/null | sed "s|\$| includes $h|"
		done
	done
}
bad=$( (up policy kernel ops cli; up kernel ops cli; up ops cli) | sort -u | tr '\n' ';')
if [ -z "$bad" ]; then ok "user/: no layer includes a header of a layer above it"; else not_ok "user/: no layer includes a header of a layer above it" "$bad"; fi
bad=$(grep -l '#include "harness.h"\|tests/lib' user/*/*.[ch] 2>/dev/null | tr '\n' ' ')
if [ -z "$bad" ]; then ok "user/: no test header in the product"; else not_ok "user/: no test header in the product" "$bad"; fi

check "user/ and bpf/: no circle of calls among files" python3 tests/docs/circles.py .
# No source file over 1,200 lines (vmlinux.h aside), so that each can be
# held in one's head.
bad=$(git ls-files -- '*.c' '*.h' '*.sh' '*.py' 2>/dev/null | grep -v '^vmlinux/' |
	while read -r f; do [ -f "$f" ] && [ "$(wc -l <"$f")" -gt 1200 ] && echo "$f"; done | tr '\n' ' ')
if [ -z "$bad" ]; then ok "no source file over 1,200 lines"; else not_ok "no source file over 1,200 lines" "$bad"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
