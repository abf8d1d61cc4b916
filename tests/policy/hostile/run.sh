#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The hostile policy corpus: broken, absurd and malicious policy files,
# each of which must be refused
#
#   1. by `cranegate check`: exit status 1, the expected first error at
#      its FILE:LINE:COL (tests/policy/hostile/expected), every line of
#      stderr a diagnostic, within CG_HOSTILE_SECONDS (5) of wall time and
#      CG_HOSTILE_MEM_MB (512) of address space (ulimit -v);
#   2. by `cranegate apply` against a running gate (a network namespace of
#      our own with two veth pairs): exit status non-zero, and the gate
#      untouched: the same program attached to the same interfaces, the
#      same pins, and the same contents in every map of the pinned program
#      and every pinned map (a digest of bpftool's dumps, before and after).
#
# The files in this directory are committed. The big ones are generated
# here at test time, never committed: 10 MB of flows with an error at the
# end, 100,000 flows naming unknown zones, a file over the 16 MiB limit,
# 100,000 levels of nesting, a 1 MiB line, 2.2 million YAML nodes, 300,000
# unknown keys, a number of 100,000 digits, 5,000 zones, and a flow that
# expands past the compiler's key limit. Part 2 adds failures that only
# apply can meet: an interface that does not exist, and an interface that
# already carries another XDP program (after an interface was switched,
# so that the switch back is tested).
#
# TAP output. Environment: CRANEGATE (default build/cranegate),
# CG_HOSTILE_SECONDS, CG_HOSTILE_MEM_MB, CG_HOSTILE_NO_APPLY=1 (part 1 only),
# CG_HOSTILE_ONLY=PATTERN (only the files whose path contains PATTERN).

set -u -o pipefail

cd "$(dirname "$0")/../../.." || exit 1

cg=${CRANEGATE:-build/cranegate}
dir=tests/policy/hostile
limit_s=${CG_HOSTILE_SECONDS:-5}
limit_mb=${CG_HOSTILE_MEM_MB:-512}
P=cgh$$
PIN_ROOT=/sys/fs/bpf/cg-$P
NS=${P}ns

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | head -c 2000 | sed 's/^/# /'
	done
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

tmp=
ns_made=
cleanup() {
	trap - EXIT
	if [ -n "$ns_made" ]; then
		timeout 30 nsenter --net="/var/run/netns/$NS" "$cg" detach \
			--pin-root "$PIN_ROOT" --state-dir "$tmp/state" >/dev/null 2>&1
		ip netns del "$NS" 2>/dev/null
	fi
	[ -e "$PIN_ROOT" ] && rm -rf "$PIN_ROOT"
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -x "$cg" ]; then
	echo "1..1"
	echo "not ok 1 - $cg is not built (run make)"
	exit 1
fi
tmp=$(mktemp -d /tmp/cranegate-hostile.XXXXXX) || exit 1
gen=$tmp/gen
mkdir -p "$gen"

# ---------------------------------------------------------------- generated
# Writes the big files and appends their expectations to $tmp/expected;
# "*" matches any line or column, "-" means no position (the error is
# about the whole file).
"${PYTHON:-python3}" - "$gen" "$tmp/expected.gen" <<'EOF'
import sys
gen, exp = sys.argv[1], open(sys.argv[2], "w")
HEAD = ("version: 1\nname: big\nzones:\n  business:\n    interfaces: [biz0]\n"
        "    networks: [198.18.10.0/24]\n  crane-control:\n"
        "    interfaces: [crane0]\n    networks: [198.18.20.0/24]\nflows:\n")

def out(name, pos, msg):
    exp.write("gen-%s.yaml\t%s\t%s\n" % (name, pos, msg))
    return open("%s/gen-%s.yaml" % (gen, name), "w")

# 10 MB of valid flows, and one bad proto in the very last.
lines = HEAD.count("\n")
chunks, size, i = [HEAD], len(HEAD), 0
while size < 10 << 20:
    s = ("  - name: flow-%07d\n    from: business\n    to: crane-control\n"
         "    proto: tcp\n    ports: [%d]\n" % (i, i % 65536))
    chunks.append(s)
    size += len(s)
    lines += 5
    i += 1
chunks.append("  - name: last\n    from: business\n    to: crane-control\n    proto: tcpp\n")
with out("10mb-late-error", "%d:12" % (lines + 4), "unknown proto 'tcpp'") as f:
    f.write("".join(chunks))

# 100,000 flows, every one naming zones that do not exist: 200,000 errors,
# of which the first 1,000 are kept.
with out("100k-unknown-names", "12:11", "unknown zone or host 'nowhere-0'") as f:
    f.write(HEAD + "".join(
        "  - name: f%d\n    from: nowhere-%d\n    to: crane-contrl\n    proto: udp\n" % (i, i)
        for i in range(100000)))

# Over the 16 MiB limit: refused before it is parsed.
with out("17mb-too-big", "-", "the policy is larger than 16 MiB") as f:
    f.write(HEAD + ("# " + "x" * 1021 + "\n") * (17 << 10))

# 100,000 levels of nesting: refused at level 33.
with out("deep-100k", "3:39", "the policy nests deeper than 32 levels") as f:
    f.write("version: 1\nname: deep\nzones: " + "[" * 100000 + "]" * 100000 + "\n")

# A name of 1 MiB on one line.
with out("long-line-1mb", "2:7", "the policy name is 1048576 characters long") as f:
    f.write("version: 1\nname: " + "n" * (1 << 20) +
            "\nzones:\n  business:\n    interfaces: [biz0]\n    networks: [198.18.10.0/24]\n")

# 2.2 million YAML nodes in 4.4 MB.
with out("2m-nodes", "3:*", "the policy has more than 2097152 YAML nodes") as f:
    f.write("version: 1\nname: nodes\nzones: [" + "1," * 2200000 + "1]\n")

# 300,000 unknown keys at the top level.
with out("key-flood", "5:1", "unknown key 'k0' at the top level") as f:
    f.write("version: 1\nname: keys\nzones:\n  a: {interfaces: [a0], networks: [198.18.1.0/24]}\n" +
            "".join("k%d: 1\n" % i for i in range(300000)))

# A number of 100,000 digits.
with out("huge-number", "1:10", "expected version 1 (the number)") as f:
    f.write("version: " + "9" * 100000 +
            "\nname: n\nzones: {a: {interfaces: [a0], networks: [198.18.1.0/24]}}\n")

# 5,000 zones: past the compiler's 4,096.
with out("5000-zones", "*", "policy needs 5000 zones; the limit is 4096") as f:
    f.write("version: 1\nname: zones\nzones:\n" + "".join(
        "  z%d:\n    interfaces: [e%d]\n    networks: [198.19.%d.%d/32]\n" % (i, i, i // 256, i % 256)
        for i in range(5000)))

# 2,100 hosts on each side of one zone-to-zone flow: 4.4 million flow keys,
# past the compiler's limit of 4,194,304; a small file, a big expansion.
hosts = "".join("  a%d: 198.18.%d.%d\n" % (i, 16 + i // 256, i % 256) for i in range(2100))
hosts += "".join("  b%d: 198.19.%d.%d\n" % (i, 16 + i // 256, i % 256) for i in range(2100))
with out("key-expansion", "*", "flow-table entries; the limit is 4194304") as f:
    f.write("version: 1\nname: expand\nzones:\n"
            "  a:\n    interfaces: [a0]\n    networks: [198.18.0.0/16]\n"
            "  b:\n    interfaces: [b0]\n    networks: [198.19.0.0/16]\n"
            "hosts:\n" + hosts +
            "flows:\n  - name: a-to-b\n    from: a\n    to: b\n    proto: any\n")
exp.close()
EOF
[ $? -eq 0 ] || not_ok "generate the big hostile files"

# ---------------------------------------------------------------- part 1
files=("$dir"/*.yaml "$gen"/*.yaml)
if [ -n "${CG_HOSTILE_ONLY:-}" ]; then
	sel=()
	for f in "${files[@]}"; do
		[[ $f == *"$CG_HOSTILE_ONLY"* ]] && sel+=("$f")
	done
	files=("${sel[@]}")
fi
declare -A want_pos want_msg
while IFS=$'\t' read -r f pos msg; do
	case "$f" in '' | '#'*) continue ;; esac
	want_pos[$f]=$pos
	want_msg[$f]=$msg
done < <(cat "$dir/expected" "$tmp/expected.gen" 2>/dev/null)

echo "# part 1: cranegate check on ${#files[@]} hostile files, ${limit_s} s and ${limit_mb} MiB each"
check_total_ms=0
slowest=0 slowest_f=
for f in "${files[@]}"; do
	b=$(basename "$f")
	start=$(date +%s%N)
	(
		ulimit -v $((limit_mb * 1024))
		exec timeout -k 1 "$limit_s" "$cg" check --insecure --state-dir "$tmp/no-state" "$f"
	) >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	check_total_ms=$((check_total_ms + ms))
	[ "$ms" -gt "$slowest" ] && slowest=$ms slowest_f=$b
	first=$(grep -a -m1 ': error: ' "$tmp/err")
	why=
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="took longer than ${limit_s} s"
	elif [ "$rc" -ne 1 ]; then
		why="exit status $rc, expected 1"
	elif [ -z "${want_pos[$b]+set}" ]; then
		why="no expectation for $b in $dir/expected"
	else
		pos=${want_pos[$b]} msg=${want_msg[$b]}
		case "$pos" in
		-) prefix="$f: error: " ;;
		*)
			line=${pos%%:*} col=${pos#*:}
			[ "$pos" = "*" ] && col="*"
			[ "$line" = "*" ] && line="[0-9]*"
			[ "$col" = "*" ] && col="[0-9]*"
			prefix="$f:$line:$col: error: "
			;;
		esac
		# shellcheck disable=SC2053 # the prefix is a pattern on purpose
		if [[ $first != $prefix* ]]; then
			why="first error is not at ${pos}"
		elif [[ $first != *"$msg"* ]]; then
			why="first error does not say: $msg"
		elif grep -a -v -E "^$f(:[0-9]+:[0-9]+)?: (error|warning|note): " "$tmp/err" | grep -q .; then
			why="stderr has lines that are not diagnostics"
		elif [ -s "$tmp/out" ]; then
			why="stdout is not empty"
		fi
	fi
	if [ -z "$why" ]; then
		ok "check refuses $b (${ms} ms): ${first#"$f":}"
	else
		not_ok "check refuses $b: $why" "got (${ms} ms): $first" "$(head -5 "$tmp/err")"
	fi
done
echo "# part 1: ${#files[@]} files in $((check_total_ms / 1000)).$((check_total_ms % 1000 / 100)) s, slowest $slowest_f ${slowest} ms"

# ---------------------------------------------------------------- part 2
if [ -n "${CG_HOSTILE_NO_APPLY:-}" ]; then
	skip "apply of every hostile file leaves a running gate untouched" "CG_HOSTILE_NO_APPLY is set"
	echo "1..$n"
	exit $((failed > 0))
fi
why=
[ "$(id -u)" -eq 0 ] || why="needs root"
mountpoint -q /sys/fs/bpf || why=${why:-"bpffs is not mounted"}
for tool in ip nsenter bpftool jq sha256sum; do
	command -v "$tool" >/dev/null || why=${why:-"$tool is missing"}
done
if [ -n "$why" ]; then
	skip "apply of every hostile file leaves a running gate untouched" "$why"
	echo "1..$n"
	exit $((failed > 0))
fi

# A namespace with three veth pairs: hg0/hg1 carry the gate, hg2 carries a
# foreign XDP program (an empty one) that apply must not take over.
in_ns() { ip netns exec "$NS" "$@"; }
cgn() { # SUBCOMMAND ARGS...: the CLI in our namespace, our pins and state
	local sub=$1
	shift
	timeout -k 2 60 nsenter --net="/var/run/netns/$NS" "$cg" "$sub" \
		--pin-root "$PIN_ROOT" --state-dir "$tmp/state" "$@"
}
setup_ns() {
	ip netns add "$NS" || return 1
	ns_made=1
	# A silent namespace: without IPv6 (router solicitations, MLD) and
	# without addresses nothing crosses the gate, so its counters and
	# tables change only if apply changes them.
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip -n "$NS" link set lo up &&
		ip -n "$NS" link add hg0 type veth peer name hp0 &&
		ip -n "$NS" link add hg1 type veth peer name hp1 &&
		ip -n "$NS" link add hg2 type veth peer name hp2 || return 1
	local d
	for d in hg0 hp0 hg1 hp1 hg2 hp2; do
		ip -n "$NS" link set "$d" up || return 1
	done
	ip -n "$NS" link set dev hg2 xdpgeneric obj build/empty.bpf.o sec xdp 2>/dev/null ||
		ip -n "$NS" link set dev hg2 xdpgeneric obj build/empty.bpf.o 2>/dev/null
}
mkdir -p "$tmp/state"
cat >"$tmp/good.yaml" <<'EOF'
version: 1
name: hostile-baseline
zones:
  inside:
    interfaces: [hg0]
    networks: [198.18.60.0/24, 2001:2:0:60::/64]
  outside:
    interfaces: [hg1]
    networks: [198.18.61.0/24]
hosts:
  engineer: 198.18.61.9
flows:
  - name: engineer-ssh
    from: engineer
    to: inside
    proto: tcp
    ports: [22]
    log: true
  - name: inside-pings-out
    from: inside
    to: outside
    proto: icmp
EOF
# Valid policies that only apply can refuse.
sed 's/interfaces: \[hg1\]/interfaces: [hg1, hgmissing0]/; s/^name: .*/name: hostile-missing-iface/' \
	"$tmp/good.yaml" >"$gen/apply-missing-interface.yaml"
sed 's/interfaces: \[hg1\]/interfaces: [hg1, hg2]/; s/^name: .*/name: hostile-foreign-xdp/' \
	"$tmp/good.yaml" >"$gen/apply-foreign-xdp.yaml"

if ! setup_ns; then
	not_ok "set up a namespace for the running gate"
	echo "1..$n"
	exit 1
fi
if ! out=$(cgn apply "$tmp/good.yaml" 2>&1); then
	not_ok "apply the baseline policy" "$out"
	echo "1..$n"
	exit 1
fi
ok "apply the baseline policy to hg0 and hg1"
foreign=$(ip -n "$NS" -j link show dev hg2 | jq -r '.[0].xdp.prog.id // empty')
[ -n "$foreign" ] || diag_foreign="(could not attach the empty program to hg2: that case tests nothing)"

# The digest of the running gate: the XDP program on each interface, the
# pinned program, the names under the pin root, the identity and metadata
# (id, type, name, size, memory, frozen, pins) of every map of the pinned
# program and every pinned map, and the contents of the pinned (state)
# maps, as bpftool's JSON dumps in one bpftool process. `digest full`
# adds the contents of the program's policy maps: they are written only
# while apply builds an instance (a new one, with new map ids, which the
# identities would show), and dumping them takes most of the time, so the
# full digests are taken before and after the whole run. `digest ids`
# stops before the contents: the state maps are dumped after every
# eighth file and after every file that gets past the parser (those that
# load an instance and open the pinned state maps), the identities after
# every file. Ring buffers have no contents to dump.
digest() {
	local full=${1:-} prog d
	(
		ip -n "$NS" -j -d link show |
			jq -c '.[] | select(.ifname | startswith("hg")) | [.ifname, .xdp.mode, .xdp.prog.id]'
		(cd "$PIN_ROOT" && find . | LC_ALL=C sort)
		prog=$(bpftool -j prog show pinned "$PIN_ROOT/prog" 2>/dev/null || echo '{}')
		jq -c '["prog", .id, .tag, .map_ids]' <<<"$prog"
		# The maps: those of the pinned program and those pinned
		# under the pin root, from one listing.
		bpftool -j -f map show |
			jq -c --arg root "$PIN_ROOT/" --argjson ids "$(jq -c '.map_ids // []' <<<"$prog")" \
				'.[] | select((.id as $i | $ids | index($i)) or
					([.pinned[]? | startswith($root)] | any)) |
				[.id, .type, .name, .max_entries, .bytes_memlock, .frozen, .pinned]' >"$tmp/maps"
		cat "$tmp/maps"
		[ "$full" = ids ] && return
		jq -r --arg full "$full" 'select(.[1] != "ringbuf" and .[1] != "user_ringbuf" and
				($full != "" or .[6] != null)) | "map dump id \(.[0])"' \
			"$tmp/maps" >"$tmp/batch"
		bpftool -j batch file "$tmp/batch" 2>&1 | sha256sum
	) >"$tmp/digest.txt" 2>&1
	sha256sum <"$tmp/digest.txt" | cut -c1-64
}

full_before=$(digest full)
cp "$tmp/digest.txt" "$tmp/digest.full"
t0=$(date +%s%N)
before=$(digest)
echo "# one digest of $(wc -l <"$tmp/maps") maps takes $((($(date +%s%N) - t0) / 1000000)) ms (the full one more)"
cp "$tmp/digest.txt" "$tmp/digest.before"
before_ids=$(digest ids)
cp "$tmp/digest.txt" "$tmp/digest.ids"
apply_files=("${files[@]}" "$gen/apply-missing-interface.yaml" "$gen/apply-foreign-xdp.yaml")
echo "# part 2: cranegate apply of ${#apply_files[@]} hostile files against a running gate (digest ${before:0:16})"
apply_ms=0
for f in "${apply_files[@]}"; do
	b=$(basename "$f")
	start=$(date +%s%N)
	# --insecure: refused for what they hold, not for the checkout's modes.
	out=$(cgn apply --insecure "$f" 2>&1 </dev/null)
	rc=$?
	apply_ms=$((apply_ms + ($(date +%s%N) - start) / 1000000))
	i_file=$((${i_file:-0} + 1))
	# Past the parser: apply printed no FILE:LINE:COL diagnostics.
	if [ $((i_file % 8)) -eq 0 ] || ! grep -q ":[0-9]*:[0-9]*: error: " <<<"$out"; then
		after=$(digest)
		cmp=$before what=digest
	else
		after=$(digest ids)
		cmp=$before_ids what="digest (identities)"
	fi
	if [ "$rc" -eq 0 ]; then
		not_ok "apply refuses $b" "apply succeeded:" "$out"
	elif [ "$rc" -ge 124 ]; then
		not_ok "apply refuses $b" "exit status $rc (timeout or signal)" "$out"
	elif [ "$after" != "$cmp" ]; then
		not_ok "apply of $b leaves the running gate untouched" \
			"$(diff "$tmp/digest.before" "$tmp/digest.txt" | head -20)"
		before=$(digest)
		cp "$tmp/digest.txt" "$tmp/digest.before"
		before_ids=$(digest ids)
	else
		ok "apply refuses $b (exit $rc) and the gate's $what is unchanged"
	fi
done
echo "# part 2: ${#apply_files[@]} applies in $((apply_ms / 1000)) s ${diag_foreign:-}"
full_after=$(digest full)
if [ "$full_after" = "$full_before" ]; then
	ok "the full digest (every map's contents) is the same after all $((${#apply_files[@]})) applies"
else
	not_ok "the full digest (every map's contents) is the same after all applies" \
		"$(diff "$tmp/digest.full" "$tmp/digest.txt" | head -20)"
fi
status=$(cgn status --json 2>/dev/null)
name=$(jq -r '.policy.name // empty' <<<"$status")
if [ "$name" = hostile-baseline ]; then
	ok "after every hostile apply, status still shows the baseline policy"
else
	not_ok "after every hostile apply, status still shows the baseline policy" "got: '$name'"
fi
now=$(ip -n "$NS" -j link show dev hg2 | jq -r '.[0].xdp.prog.id // empty')
if [ "$now" = "$foreign" ]; then
	ok "the foreign XDP program on hg2 is still there (id ${foreign:-none})"
else
	not_ok "the foreign XDP program on hg2 is still there" "was ${foreign:-none}, now ${now:-none}"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
