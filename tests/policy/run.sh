#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Golden tests of the policy language (pfctl's regress idiom), run from the
# top of the tree:
#
#   failNN.yaml  `cranegate check` must exit 1 and print exactly failNN.err
#                on stderr (every error, each as FILE:LINE:COL: error: ...).
#   NN.yaml      `cranegate check` must exit 0; its stdout must equal NN.out
#                when that file exists, and its stderr must equal NN.err
#                (the expected warnings) or else be empty.
#   policies/*.yaml, the shipped policies, must check clean as well
#                (warnings aside: run_change.sh holds them to --strict).
#   NN.todo      (optional) a known gap: see report() below.
#
# One TAP line per file; a mismatch prints a diff as TAP comments.
#
# Environment: CRANEGATE, the binary to run (default build/cranegate).
# check runs with --insecure: the modes of the checkout are test_privs.sh's
# business, and a checkout owned by another user must pass here as well.
# To refresh a golden file after an intended change of wording:
#   build/cranegate check tests/policy/fail07.yaml 2> tests/policy/fail07.err
# and read the diff before committing it.

set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 1

cg=${CRANEGATE:-build/cranegate}
dir=tests/policy

shopt -s nullglob
fails=("$dir"/fail[0-9]*.yaml)
goods=("$dir"/[0-9]*.yaml policies/*.yaml)

echo "1..$((${#fails[@]} + ${#goods[@]}))"

if [ ! -x "$cg" ]; then
	n=0
	for f in "${fails[@]}" "${goods[@]}"; do
		n=$((n + 1))
		echo "not ok $n - ${f#"$dir"/}: $cg is not built (run make)"
	done
	exit 1
fi

tmp=$(mktemp -d /tmp/cranegate-policy.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0

# compare WHAT EXPECTED-FILE ACTUAL-FILE: diff as TAP comments on mismatch.
compare() {
	if ! diff -u --label "expected $2" --label "actual $1" "$2" "$3" \
		>"$tmp/diff"; then
		sed 's/^/# /' "$tmp/diff"
		return 1
	fi
	return 0
}

# A file with a NN.todo beside it states a known gap (the reason is the
# .todo file's first line): its failure is reported as TAP "# TODO" and
# not counted. Delete the .todo file when the gap is closed.
report() { # OK FILE NAME [WHY]
	local todo=
	n=$((n + 1))
	[ -f "${2%.yaml}.todo" ] && todo=" # TODO $(head -n1 "${2%.yaml}.todo")"
	if [ "$1" = 1 ]; then
		echo "ok $n - $3$todo"
	else
		[ -z "$todo" ] && failed=$((failed + 1))
		echo "not ok $n - $3${4:+: $4}$todo"
	fi
}

for f in "${fails[@]}"; do
	name=${f#"$dir"/}
	golden=${f%.yaml}.err
	"$cg" check --insecure "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	if [ "$rc" -ne 1 ]; then
		ok=0 why="exit status $rc, expected 1"
		sed 's/^/# stderr: /' "$tmp/err"
	elif [ ! -f "$golden" ]; then
		ok=0 why="$golden is missing"
		sed 's/^/# stderr: /' "$tmp/err"
	elif ! compare "$name" "$golden" "$tmp/err"; then
		ok=0 why="stderr differs from ${golden#"$dir"/}"
	fi
	report "$ok" "$f" "$name" "$why"
done

for f in "${goods[@]}"; do
	case "$f" in
	"$dir"/*) name=${f#"$dir"/} ;;
	*) name=$f ;;
	esac
	"$cg" check --insecure "$f" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ok=1 why=
	if [ "$rc" -ne 0 ]; then
		ok=0 why="exit status $rc, expected 0"
		sed 's/^/# stderr: /' "$tmp/err"
	else
		if [ -f "${f%.yaml}.out" ] &&
			! compare "$name (stdout)" "${f%.yaml}.out" "$tmp/out"; then
			ok=0 why="stdout differs from $(basename "${f%.yaml}.out")"
		fi
		if [ -f "${f%.yaml}.err" ]; then
			if ! compare "$name (stderr)" "${f%.yaml}.err" "$tmp/err"; then
				ok=0 why="stderr differs from $(basename "${f%.yaml}.err")"
			fi
		elif [ "$f" = "$name" ] && ! grep -qv ': warning: ' "$tmp/err"; then
			# A shipped policy: valid is what counts here; its
			# warnings are run_change.sh's (check --strict).
			sed 's/^/# /' "$tmp/err"
		elif [ -s "$tmp/err" ]; then
			ok=0 why="unexpected output on stderr"
			sed 's/^/# stderr: /' "$tmp/err"
		fi
	fi
	report "$ok" "$f" "$name" "$why"
done

echo "# $n files, $failed failed"
[ "$failed" -eq 0 ]
