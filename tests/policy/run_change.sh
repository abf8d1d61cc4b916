#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Golden tests of change control, run from the top of the tree (the
# idiom of tests/policy/run.sh):
#
#   lint/NN.yaml         `cranegate check` must exit 0 and print exactly
#                        NN.err on stderr (the lint's warnings; empty file:
#                        none)
#   lint/NN.strict.err   `cranegate check --strict` must exit 1 and print
#                        exactly this (every warning as an error)
#   diff/NN.old.yaml, diff/NN.new.yaml
#                        `cranegate diff OLD NEW` must print exactly NN.out
#                        and exit with the status in NN.rc (0 same,
#                        1 different); with NN.json, `diff --json` must
#                        print exactly that
#   policies/*.yaml      the shipped policies pass `check --strict`; a
#                        known gap is stated in lint/shipped.todo (TAP TODO)
#
# One TAP line per check; a mismatch prints a diff as TAP comments.
# To refresh a golden file after an intended change, e.g.:
#   build/cranegate check tests/policy/lint/01.yaml 2> tests/policy/lint/01.err
#   build/cranegate diff tests/policy/diff/01.{old,new}.yaml > tests/policy/diff/01.out
# and read the diff before committing it.
#
# Environment: CRANEGATE, the binary to run (default build/cranegate).

set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 1

cg=${CRANEGATE:-build/cranegate}
dir=tests/policy

shopt -s nullglob
lints=("$dir"/lint/[0-9]*.yaml)
stricts=("$dir"/lint/[0-9]*.strict.err)
diffs=("$dir"/diff/[0-9]*.old.yaml)
jsons=("$dir"/diff/[0-9]*.json)
shipped=(policies/*.yaml)

echo "1..$((${#lints[@]} + ${#stricts[@]} + ${#diffs[@]} + ${#jsons[@]} + ${#shipped[@]}))"

n=0
failed=0

if [ ! -x "$cg" ]; then
	echo "Bail out! $cg is not built (run make)"
	exit 1
fi

tmp=$(mktemp -d /tmp/cranegate-change.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

compare() { # WHAT EXPECTED ACTUAL
	if ! diff -u --label "expected $2" --label "actual $1" "$2" "$3" \
		>"$tmp/diff"; then
		sed 's/^/# /' "$tmp/diff"
		return 1
	fi
	return 0
}

report() { # OK NAME [WHY] [TODO]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	elif [ -n "${4:-}" ]; then
		echo "not ok $n - $2${3:+: $3} # TODO $4"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2${3:+: $3}"
	fi
}

for f in "${lints[@]}"; do
	name=${f#"$dir"/}
	"$cg" check --insecure "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	if [ "$rc" -ne 0 ]; then
		ok=0 why="exit status $rc, expected 0"
		sed 's/^/# stderr: /' "$tmp/err"
	elif [ ! -f "${f%.yaml}.err" ]; then
		ok=0 why="${f%.yaml}.err is missing"
	elif ! compare "$name" "${f%.yaml}.err" "$tmp/err"; then
		ok=0 why="warnings differ from ${name%.yaml}.err"
	fi
	report "$ok" "check $name: the lint's warnings" "$why"
done

for g in "${stricts[@]}"; do
	f=${g%.strict.err}.yaml
	name=${f#"$dir"/}
	"$cg" check --insecure --strict "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	if [ "$rc" -ne 1 ]; then
		ok=0 why="exit status $rc, expected 1"
	elif [ -s "$tmp/out" ]; then
		ok=0 why="stdout not empty: a strict failure is no valid policy"
	elif ! compare "$name --strict" "$g" "$tmp/err"; then
		ok=0 why="errors differ from ${g#"$dir"/}"
	fi
	report "$ok" "check --strict $name: warnings become errors" "$why"
done

for old in "${diffs[@]}"; do
	base=${old%.old.yaml}
	new=$base.new.yaml
	name=${base#"$dir"/}
	"$cg" diff "$old" "$new" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	want_rc=$(cat "$base.rc" 2>/dev/null)
	if [ ! -f "$base.out" ] || [ -z "$want_rc" ]; then
		ok=0 why="$base.out or $base.rc is missing"
	elif [ "$rc" != "$want_rc" ]; then
		ok=0 why="exit status $rc, expected $want_rc"
		sed 's/^/# stderr: /' "$tmp/err"
	elif ! compare "$name" "$base.out" "$tmp/out"; then
		ok=0 why="output differs from ${name}.out"
	fi
	report "$ok" "diff $name: the semantic diff" "$why"
done

for j in "${jsons[@]}"; do
	base=${j%.json}
	name=${base#"$dir"/}
	"$cg" diff --json "$base.old.yaml" "$base.new.yaml" >"$tmp/out" \
		2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	if [ "$rc" -gt 1 ]; then
		ok=0 why="exit status $rc"
	elif command -v jq >/dev/null && ! jq -e . "$tmp/out" >/dev/null 2>&1; then
		ok=0 why="not one JSON document"
	elif ! compare "$name --json" "$j" "$tmp/out"; then
		ok=0 why="output differs from ${name}.json"
	fi
	report "$ok" "diff --json $name" "$why"
done

todo=
[ -f "$dir/lint/shipped.todo" ] && todo=$(head -n1 "$dir/lint/shipped.todo")
for f in "${shipped[@]}"; do
	"$cg" check --insecure --strict "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then
		report 1 "check --strict $f: the shipped policy draws no warning"
	else
		sed 's/^/# /' "$tmp/err"
		report 0 "check --strict $f: the shipped policy draws no warning" \
			"exit status $rc" "$todo"
	fi
done

echo "# $n checks, $failed failed"
[ "$failed" -eq 0 ]
