#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# user/dist/synopsis.sh CRANEGATE PAGE.md: rewrite the SYNOPSIS section of
# cranegate(8)'s Markdown from the usage lines of `CRANEGATE --help`, the
# one source of every command's usage (the command table of user/cli/main.c).
# With --check, change nothing and exit 1 if the section differs.

set -euo pipefail
check=
[ "${1:-}" = --check ] && check=1 && shift
cg=$1 page=$2

synopsis() {
	echo "# SYNOPSIS"
	echo
	"$cg" --help | sed -n 's/^  cranegate //p' | while IFS= read -r u; do
		# A line block: one line per command, Markdown's specials escaped.
		u=$(printf '%s' "$u" | sed -e 's/[][\\*_<>`]/\\&/g')
		printf '| **cranegate** %s\n' "$u"
	done
	echo
}

new=$(mktemp)
trap 'rm -f "$new"' EXIT
awk -v syn="$(synopsis)" '
	/^# SYNOPSIS$/ { print syn; skip = 1; next }
	skip && /^# / { skip = 0 }
	!skip { print }
' "$page" >"$new"
if [ -n "$check" ]; then
	cmp -s "$new" "$page" || { diff -u "$page" "$new" | head -20; exit 1; }
else
	cmp -s "$new" "$page" || cat "$new" >"$page"
fi
