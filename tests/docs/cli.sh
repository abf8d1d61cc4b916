#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The command line: each command takes only its own options (another
# command's option, or an unknown one, is a usage error: exit 2 and that
# command's usage), numbers are range-checked, and every command's usage
# line has one source, the command table behind --help, from which
# cranegate(8)'s SYNOPSIS is made and which README.md's command table
# quotes. TAP output.

set -u -o pipefail
cd "$(dirname "$0")/../.." || exit 1
CG=${CRANEGATE:-build/cranegate}

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
if [ ! -x "$CG" ]; then
	echo "1..0 # SKIP $CG is not built"
	exit 0
fi
tmp=$(mktemp -d /tmp/cranegate-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# expect_usage DESCRIPTION NEEDLE ARGS...: exit 2, NEEDLE and the usage
# of the command on stderr, nothing on stdout, and no state written.
expect_usage() {
	local d=$1 needle=$2 rc
	shift 2
	"$CG" --pin-root "$tmp/pins" --state-dir "$tmp/state" "$@" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "$needle" "$tmp/err" &&
		grep -q "^usage: cranegate $1" "$tmp/err" && [ ! -s "$tmp/out" ] &&
		[ ! -e "$tmp/state" ] && [ ! -e "$tmp/pins" ]; then
		ok "$d"
	else
		not_ok "$d" "exit $rc" "$(head -3 "$tmp/err")" "$(head -2 "$tmp/out")"
	fi
}

mapfile -t usages < <("$CG" --help | sed -n 's/^  cranegate //p')
commands=()
for u in "${usages[@]}"; do commands+=("${u%% *}"); done
[ ${#commands[@]} -ge 14 ] && ok "--help lists ${#commands[@]} commands" ||
	not_ok "--help lists every command" "${commands[*]}"

# Every long option some command takes.
all_opts=$(printf '%s\n' "${usages[@]}" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
for u in "${usages[@]}"; do
	c=${u%% *}
	"$CG" "$c" --help >"$tmp/help" 2>&1
	if [ $? -eq 0 ] && [ "$(head -1 "$tmp/help")" = "usage: cranegate $u" ]; then
		ok "$c --help starts with the usage line of --help"
	else
		not_ok "$c --help starts with the usage line of --help" "$(head -1 "$tmp/help")"
	fi
	# Options of other commands are refused by this one.
	foreign=
	for o in $all_opts; do
		grep -qF -- "$o" <<<"$u" && continue
		"$CG" "$c" "$o" x >/dev/null 2>"$tmp/err" </dev/null
		rc=$?
		if [ "$rc" -ne 2 ] || ! grep -q "^usage: cranegate $c" "$tmp/err"; then
			foreign+=" $o(exit $rc)"
		fi
	done
	if [ -z "$foreign" ]; then
		ok "$c refuses every other command's option with exit 2 and its usage"
	else
		not_ok "$c refuses every other command's option with exit 2 and its usage" "taken:$foreign"
	fi
	expect_usage "$c refuses an unknown option" "unrecognized option" "$c" --no-such-option
done

expect_usage "status --count is refused as another command's option" \
	"--count is not an option of this command" status --count 3
expect_usage "check --json is refused" "--json is not an option" check --json x.yaml
for bad in 0 -1 x 3x 99999999999999999999 ""; do
	expect_usage "events --count '$bad' is refused" "--count wants a whole number" events --count "$bad"
done
for bad in 0 x 2147483648; do
	expect_usage "capture --timeout '$bad' is refused" "--timeout wants a whole number" \
		capture --timeout "$bad" -w "$tmp/x.pcap"
done
expect_usage "top --count 1.5 is refused" "--count wants a whole number" top --count 1.5
expect_usage "run --summary 99999999999 is refused" "--summary wants a whole number from 0" \
	run x.yaml --summary 99999999999
expect_usage "a missing argument is refused" "requires an argument" events --count
expect_usage "a missing POLICY is refused" "" check

# One source: the SYNOPSIS of cranegate(8) is made from --help ...
if out=$(user/dist/synopsis.sh --check "$CG" user/dist/cranegate.8.md 2>&1); then
	ok "cranegate(8)'s SYNOPSIS is the usage lines of --help (make man)"
else
	not_ok "cranegate(8)'s SYNOPSIS is the usage lines of --help (make man)" "$out"
fi
# ... and README.md's command table quotes each usage line.
missing=
for u in "${usages[@]}"; do
	row="| \`cranegate ${u//|/\\|}\` |"
	grep -qF -- "$row" README.md || missing+=" [${u%% *}]"
done
if [ -z "$missing" ]; then ok "README.md's command table has every usage line of --help"; else not_ok "README.md's command table has every usage line of --help" "missing or different:$missing"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
