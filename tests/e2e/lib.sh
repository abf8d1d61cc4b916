# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/e2e/lib.sh: the sandbox topology of the end-to-end tests and the
# demo, after xdp-tools' test runner. Source it, call cg_trap_cleanup, then
# topo_up; everything this library creates is named with a per-run prefix
# and removed by name in topo_down, on every exit path.
#
#   namespace  host end   gateway end (in ${P}gw)  network
#   ${P}biz    eth0  ----  biz0     198.18.10.0/24, 2001:2:0:10::/64
#                                   scada-hmi .5 (and ::5), vms .40
#   ${P}plc    eth0  ----  crane0   198.18.20.0/24, 2001:2:0:20::/64, plc .11
#                                   (MTU 1600; VLAN 100 = crane-drives
#                                   198.18.22.0/24, raw tagged frames only)
#   ${P}cam    eth0  ----  cctv0    198.18.21.0/24, camera .7
#   ${P}mgt    eth0  ----  mgmt0    198.18.30.0/24, 2001:2:0:30::/64, laptop .9
#
# The gateway ends carry the interface names of policies/example.yaml; each
# namespace has its own names, so parallel runs do not collide. The gateway
# has .1 (and ::1) in every network; the hosts route through it.
#
# Only addresses from the benchmarking ranges 198.18.0.0/15 and 2001:2::/48
# are used, and only inside the namespaces created here.

CG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CRANEGATE=${CRANEGATE:-$CG_TOP/build/cranegate}
# What cg runs: a copy of $CRANEGATE taken by topo_up, so that a rebuild of
# the tree during a run (the BPF object is inside the binary) cannot swap
# the program, or leave no binary at all, halfway through a test.
CG_BIN=$CRANEGATE
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# Short: the prefix goes into namespace names. Interface names do not carry
# it (each namespace has its own), so the 15-character limit is not a worry.
P=${CG_PREFIX:-cg$$}
CG_PIN_ROOT=/sys/fs/bpf/cranegate-$P
CG_TMP=
CG_STATE_DIR=
CG_NAMESPACES=(gw biz plc cam mgt)
CG_CREATED_NS=()
CG_PIDS=()

# Addresses of the topology.
HMI=198.18.10.5
VMS=198.18.10.40
PLC=198.18.20.11
CAM=198.18.21.7
MGT=198.18.30.9
HMI6=2001:2:0:10::5
PLC6=2001:2:0:20::11
MGT6=2001:2:0:30::9
GW_BIZ=198.18.10.1
GW_CRANE=198.18.20.1
GW_CCTV=198.18.21.1
GW_MGMT=198.18.30.1
GW_BIZ6=2001:2:0:10::1
GW_CRANE6=2001:2:0:20::1
GW_MGMT6=2001:2:0:30::1

# ---------------------------------------------------------------- TAP

TAP_N=0
TAP_FAILED=0

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

# not_ok DESCRIPTION [DIAGNOSTIC LINE...]
not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	diag "$@"
}

# todo DESCRIPTION REASON [DIAGNOSTIC LINE...]: a check of a known gap
# that fails (TAP "# TODO": counted as skipped, not as a failure).
todo() {
	TAP_N=$((TAP_N + 1))
	echo "not ok $TAP_N - $1 # TODO $2"
	shift 2
	diag "$@"
}

# skip DESCRIPTION REASON
skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# diag LINE... (each line of each argument becomes a "# " line)
diag() {
	local arg
	for arg in "$@"; do
		printf '%s\n' "$arg" | sed 's/^/# /'
	done
}

# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "\`$*\` exited with $rc" "${out:0:2000}"
	fi
	return $rc
}

# check_fails DESCRIPTION COMMAND...: ok if the command fails.
check_fails() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "\`$*\` succeeded but should have failed" "${out:0:2000}"
	return 1
}

# expect DESCRIPTION ACTUAL OP EXPECTED (OP: -eq -ne -ge -gt -le -lt = !=)
expect() {
	local desc=$1 actual=$2 op=$3 expected=$4
	local holds=1
	# Numeric operators need a number on the left, or test(1) complains.
	if [[ $op != -* || $actual =~ ^-?[0-9]+$ ]] && test "$actual" "$op" "$expected"; then
		holds=0
	fi
	if [ $holds -eq 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "expected: $op $expected" "got: $actual"
	return 1
}

# End the TAP stream; the exit status says whether anything failed.
tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

tap_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# require_env [TOOL...]: skip the whole program unless it can run: root,
# bpffs, the CLI built, the tools every test uses and the TOOLs given.
require_env() {
	[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root"
	[ -x "$CRANEGATE" ] || tap_skip_all "$CRANEGATE is not built (run make)"
	mountpoint -q /sys/fs/bpf || tap_skip_all "bpffs is not mounted at /sys/fs/bpf"
	local tool
	for tool in ip nsenter socat ping jq ethtool timeout ss "$PYTHON" "$@"; do
		command -v "$tool" >/dev/null ||
			tap_skip_all "$tool is missing (run tests/lib/deps.sh)"
	done
}

# sandbox_up [TOOL...]: what every end-to-end test starts with: the
# environment checked, with the test's own tools (or the whole test
# skipped), cleanup on every exit, the topology built (or the test bailed
# out).
sandbox_up() {
	require_env "$@"
	cg_trap_cleanup
	topo_up || {
		echo "Bail out! cannot build the sandbox topology"
		exit 1
	}
}

# ---------------------------------------------------------------- running

# in_ns NS COMMAND...: run a command in one of our namespaces (short name).
# For traffic tools only: `ip netns exec` remounts /sys and hides bpffs.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$P$ns" "$@"
}

# cg SUBCOMMAND ARGS...: the CLI in the gateway namespace, with this run's
# own pin root and state directory. nsenter joins only the network
# namespace, so bpffs stays visible.
cg() {
	local sub=$1
	shift
	nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" "$sub" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$@"
}

# cg_bg SECONDS OUTFILE SUBCOMMAND ARGS...: a long-running subcommand
# (events, run) in the background for at most SECONDS, stopped with SIGINT.
# Its stdout goes to OUTFILE (line-buffered), stderr to OUTFILE.err. The pid
# is left in CG_LAST_PID and cleaned up by topo_down.
cg_bg() {
	local secs=$1 out=$2 sub=$3
	shift 3
	timeout -s INT -k 5 "$secs" \
		nsenter --net="/var/run/netns/${P}gw" \
		stdbuf -oL -eL "$CG_BIN" "$sub" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$@" \
		>"$out" 2>"$out.err" </dev/null &
	CG_LAST_PID=$!
	CG_PIDS+=("$CG_LAST_PID")
}

# start_run OUT ARGS...: `cranegate run ARGS` in the gateway's network
# namespace and a private mount namespace whose /dev is $CG_TMP/dev (with
# the device nodes it needs bound in, and /dev/log only if the test put a
# syslog socket there: otherwise run's syslog lines go nowhere, not to this
# machine's log). Output to OUT and OUT.err. RUN_PID is cranegate's own pid.
start_run() {
	local out=$1 T=$CG_TMP
	shift
	mkdir -p "$T/dev"
	timeout -s INT -k 5 200 nsenter --net="/var/run/netns/${P}gw" \
		unshare --mount --propagation private sh -c '
			d=$1
			shift
			for n in null zero full random urandom; do
				[ -e "$d/$n" ] || touch "$d/$n"
				mount --bind "/dev/$n" "$d/$n" || exit 97
			done
			mount --rbind "$d" /dev || exit 97
			exec "$@"' sh "$T/dev" \
		stdbuf -oL -eL "$CRANEGATE" run \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" "$@" \
		>"$out" 2>"$out.err" </dev/null &
	local tpid=$!
	CG_PIDS+=("$tpid")
	RUN_TIMEOUT_PID=$tpid
	RUN_PID=
	wait_until 5 bash -c "ps -o pid= --ppid $tpid | grep -q ." || return 1
	RUN_PID=$(ps -o pid= --ppid "$tpid" | tr -d ' ')
}

# log_has JQ_FILTER [FILE]: does some line of the log satisfy the filter?
log_has() {
	jq -e -s "any(.[]; $1)" "${2:-$LOG}" >/dev/null 2>&1
}

# bg_in_ns SECONDS NS COMMAND...: a background command in a namespace,
# bounded in time; pid in CG_LAST_PID, cleaned up by topo_down.
bg_in_ns() {
	local secs=$1 ns=$2
	shift 2
	timeout -k 5 "$secs" ip netns exec "$P$ns" "$@" </dev/null &
	CG_LAST_PID=$!
	CG_PIDS+=("$CG_LAST_PID")
}

# wait_until SECONDS COMMAND...: poll every 0.1 s until the command succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- topology

# Set up the traps that call topo_down. Call before topo_up. A signal
# ends the script through exit, so that the EXIT trap runs (SIGPIPE too:
# `make demo | head` must not leave namespaces behind).
cg_trap_cleanup() {
	trap topo_down EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

_ns_add() {
	ip netns add "$P$1" || return 1
	CG_CREATED_NS+=("$P$1")
	ip -n "$P$1" link set lo up
}

# _veth GW_IFACE HOST_NS MTU: a veth pair from the gateway to a host; the
# host end is eth0. VLAN offload off on both ends, so that tags stay in the
# frame where XDP can see them. The host sends whole checksums (tx offload
# off, as on a wire): over veth a host's own TCP segments otherwise carry
# only the pseudo-header's partial sum, and the gate verifies the TCP
# checksum of inspected streams.
_veth() {
	local gwif=$1 host=$2 mtu=$3
	ip -n "${P}gw" link add "$gwif" mtu "$mtu" type veth \
		peer name eth0 mtu "$mtu" netns "$P$host" || return 1
	ip netns exec "${P}gw" ethtool -K "$gwif" rxvlan off txvlan off >/dev/null 2>&1
	ip netns exec "$P$host" ethtool -K eth0 rxvlan off txvlan off tx off >/dev/null 2>&1
	return 0
}

# _addr NS DEV ADDRESS/LEN
_addr() {
	case "$3" in
	*:*) ip -n "$P$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$P$1" addr add "$3" dev "$2" ;;
	esac
}

# _routes NS GW4 [GW6]: default routes via the gateway.
_routes() {
	ip -n "$P$1" route add default via "$2" || return 1
	[ -z "${3:-}" ] || ip -n "$P$1" -6 route add default via "$3"
}

topo_up() {
	CG_TMP=$(mktemp -d "/tmp/cranegate-$P.XXXXXX") || return 1
	CG_STATE_DIR=$CG_TMP/state
	mkdir -p "$CG_STATE_DIR"
	_write_helpers
	if [ -x "$CRANEGATE" ]; then
		cp "$CRANEGATE" "$CG_TMP/cranegate" || return 1
		CG_BIN=$CG_TMP/cranegate
	fi

	local ns
	for ns in "${CG_NAMESPACES[@]}"; do
		_ns_add "$ns" || return 1
	done

	_veth biz0 biz 1500 &&
		_veth crane0 plc 1600 &&
		_veth cctv0 cam 1500 &&
		_veth mgmt0 mgt 1500 || return 1

	# The gateway: .1 in every network, forwarding on, reverse-path filter
	# off so that whatever drops a frame here is the gate.
	_addr gw biz0 $GW_BIZ/24 && _addr gw biz0 $GW_BIZ6/64 &&
		_addr gw crane0 $GW_CRANE/24 && _addr gw crane0 $GW_CRANE6/64 &&
		_addr gw cctv0 $GW_CCTV/24 &&
		_addr gw mgmt0 $GW_MGMT/24 && _addr gw mgmt0 $GW_MGMT6/64 || return 1
	in_ns gw sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return 1
	local dev
	for dev in biz0 crane0 cctv0 mgmt0; do
		in_ns gw sysctl -qw "net.ipv4.conf.$dev.rp_filter=0"
	done

	# The hosts. vms is a second address of the business host.
	_addr biz eth0 $HMI/24 && _addr biz eth0 $VMS/24 && _addr biz eth0 $HMI6/64 &&
		_addr plc eth0 $PLC/24 && _addr plc eth0 $PLC6/64 &&
		_addr cam eth0 $CAM/24 &&
		_addr mgt eth0 $MGT/24 && _addr mgt eth0 $MGT6/64 || return 1

	for ns in "${CG_NAMESPACES[@]}"; do
		ip -n "$P$ns" link set dev lo up
		if [ "$ns" = gw ]; then
			for dev in biz0 crane0 cctv0 mgmt0; do
				ip -n "$P$ns" link set dev "$dev" up || return 1
			done
		else
			ip -n "$P$ns" link set dev eth0 up || return 1
		fi
	done

	_routes biz $GW_BIZ $GW_BIZ6 &&
		_routes plc $GW_CRANE $GW_CRANE6 &&
		_routes cam $GW_CCTV &&
		_routes mgt $GW_MGMT $GW_MGMT6 || return 1

	# Carrier comes up asynchronously on veth.
	for dev in biz0 crane0 cctv0 mgmt0; do
		wait_until 5 _link_up gw "$dev" || return 1
	done
	return 0
}

_link_up() {
	ip -n "$P$1" link show dev "$2" | grep -q 'state UP'
}

# Remove everything topo_up and the tests created, by name. Safe to call
# twice and after a partial topo_up.
topo_down() {
	local pid ns i
	trap - EXIT
	# Cleaning up must not be cut short by a reader that went away.
	trap '' PIPE
	# Background commands we started, then anything left running inside
	# our own namespaces (all of it started by this run).
	for pid in "${CG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for ns in "${CG_CREATED_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	for pid in "${CG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${CG_CREATED_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
	done
	CG_PIDS=()

	# The gate: detach cleanly while the interfaces still exist, then
	# make sure no pin of this run survives.
	if [ -e "$CG_PIN_ROOT" ] && [ -e "/var/run/netns/${P}gw" ] && [ -x "$CG_BIN" ]; then
		timeout 30 nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" detach \
			--pin-root "$CG_PIN_ROOT" --state-dir "${CG_STATE_DIR:-/nonexistent}" \
			>/dev/null 2>&1
	fi
	[ -e "$CG_PIN_ROOT" ] && rm -rf "$CG_PIN_ROOT"

	for ((i = ${#CG_CREATED_NS[@]} - 1; i >= 0; i--)); do
		ip netns del "${CG_CREATED_NS[$i]}" 2>/dev/null
	done
	CG_CREATED_NS=()

	[ -n "$CG_TMP" ] && rm -rf "$CG_TMP"
	CG_TMP=
}

# ---------------------------------------------------------------- helpers

# The zones of the sandbox topology, as a policy's `zones:` block: the
# interfaces and networks topo_up builds (policies/example.yaml's zones).
topo_zones() {
	cat <<'EOF'
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, 2001:2:0:10::/64]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, 2001:2:0:20::/64]
  crane-drives:
    interfaces: [crane0]
    vlans: [100]
    networks: [198.18.22.0/24]
  crane-cctv:
    interfaces: [cctv0]
    networks: [198.18.21.0/24]
  crane-mgmt:
    interfaces: [mgmt0]
    networks: [198.18.30.0/24, 2001:2:0:30::/64]
EOF
}

gw_mac() {
	ip -n "${P}gw" -j link show dev "$1" | jq -r '.[0].address'
}

host_mac() {
	ip -n "$P$1" -j link show dev eth0 | jq -r '.[0].address'
}

# send_frame NS ARGS...: send hand-made frames from a host's eth0 with a raw
# AF_PACKET socket. ARGS are frame.py's: --dst-mac MAC [--src-mac MAC]
# [--vlan ID]... --src IP --dst IP [--proto udp|tcp|icmp] [--sport N]
# [--dport N] [--tcp-flags S] [--payload TEXT|--payload-hex HEX]
# [--count N] [--interval SECONDS].
send_frame() {
	local ns=$1
	shift
	in_ns "$ns" timeout 30 "$PYTHON" "$CG_TMP/frame.py" --iface eth0 "$@"
}

# The gate's counters, from status --json.
cg_status_json() {
	cg status --json 2>/dev/null
}

# _number: pass a non-negative integer through; anything else becomes 0, so
# that callers can do arithmetic on the result.
_number() {
	local v
	read -r v
	[[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# cg_reason REASON [JSON]: packets counted for a verdict reason (0 if none).
cg_reason() {
	local json=${2:-$(cg_status_json)}
	jq -r --arg r "$1" '(.reasons[$r].packets // 0)' <<<"$json" 2>/dev/null | _number
}

# cg_flow FLOW [JSON]: packets counted for a flow (0 if none).
cg_flow() {
	local json=${2:-$(cg_status_json)}
	jq -r --arg f "$1" '([.flows[]? | select(.name == $f) | .packets] | add) // 0' \
		<<<"$json" 2>/dev/null | _number
}

# cg_policy_field FIELD: .policy.FIELD from status --json.
cg_policy_field() {
	cg_status_json | jq -r --arg f "$1" '.policy[$f] // empty'
}

# xdp_attached IFACE: does the gateway interface carry an XDP program?
xdp_attached() {
	ip -n "${P}gw" -j link show dev "$1" | jq -e '.[0].xdp != null' >/dev/null
}

# xdp_prog_ids IFACE: the XDP program ids on a gateway interface.
xdp_prog_ids() {
	ip -n "${P}gw" -j -d link show dev "$1" |
		jq -r '.[0].xdp // {} | (.prog.id // empty), (.attached[]?.prog.id // empty)' |
		sort -u
}

# is_front ID: is XDP program ID a VLAN-tag front of this run's gate (a
# device-bound program that hands frames to the live instance through the
# pinned `progs` map; user/kernel/rxvlan.h)?
is_front() {
	local progs
	progs=$(bpftool -j map show pinned "$CG_PIN_ROOT/progs" 2>/dev/null | jq -r '.id // empty')
	[ -n "$progs" ] && [ -n "$1" ] &&
		bpftool -j prog show id "$1" 2>/dev/null |
		jq -e --argjson m "$progs" '.name == "cranegate_front" and ((.map_ids // []) | index($m) != null)' >/dev/null
}

# gate_ids IFACE: the XDP program on a gateway interface as this gate sees
# it: "front" for a front of this gate, else its id(s).
gate_ids() {
	local id
	for id in $(xdp_prog_ids "$1"); do
		if is_front "$id"; then echo front; else echo "$id"; fi
	done
}

pins_left() {
	[ -d "$CG_PIN_ROOT" ] && find "$CG_PIN_ROOT" -mindepth 1 | head -20
}

_listening() {
	[ -n "$(ip netns exec "$P$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]
}

# tcp_echo_server NS PORT [SECONDS]: socat echoing every connection back,
# over IPv4 and IPv6.
tcp_echo_server() {
	bg_in_ns "${3:-300}" "$1" socat -T 10 "TCP6-LISTEN:$2,ipv6only=0,reuseaddr,fork" EXEC:cat
	wait_until 5 _listening "$1" "$2"
}

# tcp_roundtrip NS ADDR PORT INFILE OUTFILE: connect, send INFILE, half
# close, read the echo into OUTFILE; true if it came back whole.
tcp_roundtrip() {
	in_ns "$1" timeout 10 socat -t 3 -T 6 - "TCP:$(_sockaddr "$2"):$3,connect-timeout=3" \
		<"$4" >"$5" 2>/dev/null && cmp -s "$4" "$5"
}

# tcp_connects NS ADDR PORT: does a new TCP connection get established?
tcp_connects() {
	in_ns "$1" timeout 6 socat -T 2 /dev/null "TCP:$(_sockaddr "$2"):$3,connect-timeout=3" 2>/dev/null
}

# socat wants IPv6 addresses in brackets.
_sockaddr() {
	case "$1" in
	*:*) echo "[$1]" ;;
	*) echo "$1" ;;
	esac
}

# pings NS ADDR [COUNT]: do all echo requests come back?
pings() {
	in_ns "$1" timeout 15 ping -q -n -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null 2>&1
}

# A Modbus/TCP request (MBAP + PDU) as hex: modbus_hex TID FC DATA_HEX.
modbus_hex() {
	local pdu
	pdu="01$(printf '%02x' "$2")$3"
	printf '%04x0000%04x%s' "$1" $((${#pdu} / 2)) "$pdu"
}

# modbus_exchange NS ADDR HEX: in one connection to ADDR:502, send a Modbus
# read (FC 3) and wait for its echo, then send the request HEX. Prints two
# lines: "read echoed" (or "read garbled"), then "echoed", "closed" or
# "dropped" (no answer within 2 s) for HEX. Needs an echo server on 502.
modbus_exchange() {
	in_ns "$1" timeout 20 "$PYTHON" - "$2" "$3" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 502), timeout=3)
read = bytes.fromhex("000100000006010300000001")
s.sendall(read)
got = b""
while len(got) < len(read):
    got += s.recv(64)
print("read echoed" if got == read else "read garbled")
s.sendall(bytes.fromhex(sys.argv[2]))
s.settimeout(2)
try:
    print("echoed" if s.recv(64) else "closed")
except socket.timeout:
    print("dropped")
EOF
}

# ---------------------------------------------------------------- helper programs

_write_helpers() {
	cat >"$CG_TMP/frame.py" <<'EOF'
# Send hand-made Ethernet frames through a raw AF_PACKET socket: VLAN tags,
# any source address, IPv4 or IPv6, UDP, TCP or ICMP with valid checksums.
import argparse, ipaddress, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def mac(s):
    return bytes.fromhex(s.replace(":", ""))

ap = argparse.ArgumentParser()
ap.add_argument("--iface", required=True)
ap.add_argument("--dst-mac", required=True)
ap.add_argument("--src-mac")
ap.add_argument("--vlan", type=int, action="append", default=[])
ap.add_argument("--src", required=True)
ap.add_argument("--dst", required=True)
ap.add_argument("--proto", default="udp", choices=["udp", "tcp", "icmp"])
ap.add_argument("--sport", type=int, default=40000)
ap.add_argument("--dport", type=int, default=9)
ap.add_argument("--tcp-flags", default="S")
ap.add_argument("--payload", default="cranegate-test")
ap.add_argument("--payload-hex")
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--interval", type=float, default=0.01)
a = ap.parse_args()

src = ipaddress.ip_address(a.src)
dst = ipaddress.ip_address(a.dst)
v6 = src.version == 6
payload = bytes.fromhex(a.payload_hex) if a.payload_hex else a.payload.encode()

if a.proto == "udp":
    proto, off = 17, 6
    l4 = struct.pack("!HHHH", a.sport, a.dport, 8 + len(payload), 0) + payload
elif a.proto == "tcp":
    proto, off = 6, 16
    flags = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in a.tcp_flags)
    ack = 1 if flags & 16 else 0
    l4 = struct.pack("!HHIIBBHHH", a.sport, a.dport, 1000, ack, 5 << 4, flags,
                     65535, 0, 0) + payload
else:
    proto, off = (58, 2) if v6 else (1, 2)
    l4 = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, a.sport, 1) + payload

if v6:
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", len(l4), proto)
else:
    pseudo = src.packed + dst.packed + struct.pack("!xBH", proto, len(l4))
c = csum(l4) if (proto == 1) else csum(pseudo + l4)
if proto == 17 and c == 0:
    c = 0xFFFF
l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]

if v6:
    ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + src.packed + dst.packed
    etype = 0x86DD
else:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                     src.packed, dst.packed)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    etype = 0x0800

if a.src_mac:
    smac = mac(a.src_mac)
else:
    with open("/sys/class/net/%s/address" % a.iface) as f:
        smac = mac(f.read().strip())
eth = mac(a.dst_mac) + smac
for vid in a.vlan:
    eth += struct.pack("!HH", 0x8100, vid & 0xFFF)
eth += struct.pack("!H", etype)
frame = eth + ip + l4

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((a.iface, 0))
for i in range(a.count):
    s.send(frame)
    if i + 1 < a.count:
        time.sleep(a.interval)
EOF

	cat >"$CG_TMP/udpseq.py" <<'EOF'
# Numbered UDP datagrams, to count losses exactly.
#   udpseq.py send DST PORT [--denied-port P] [--interval S] [--stop-file F]
#                 [--max-time S] [--count N]
#     sends "seq N" to PORT (and to the denied port, if given) until the
#     stop file appears, N datagrams went out or max-time passed; then
#     "end N" a few times. Prints {"sent": N}.
#   udpseq.py recv BIND PORT [--denied-port P] [--max-time S] [--ready F]
#     counts until "end N" arrives or max-time passes. Prints
#     {"received": .., "missing": .., "end": .., "denied": ..}.
import argparse, json, os, select, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["send", "recv"])
ap.add_argument("addr")
ap.add_argument("port", type=int)
ap.add_argument("--denied-port", type=int)
ap.add_argument("--interval", type=float, default=0.002)
ap.add_argument("--stop-file")
ap.add_argument("--max-time", type=float, default=60)
ap.add_argument("--count", type=int, default=0)
ap.add_argument("--ready")
a = ap.parse_args()
fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
deadline = time.monotonic() + a.max_time

if a.mode == "send":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    seq = 0
    while time.monotonic() < deadline:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        if a.count and seq >= a.count:
            break
        seq += 1
        s.sendto(b"seq %d" % seq, (a.addr, a.port))
        if a.denied_port:
            s.sendto(b"seq %d" % seq, (a.addr, a.denied_port))
        time.sleep(a.interval)
    time.sleep(0.2)
    for _ in range(5):
        s.sendto(b"end %d" % seq, (a.addr, a.port))
        time.sleep(0.05)
    print(json.dumps({"sent": seq}))
    sys.exit(0)

socks = []
allowed = socket.socket(fam, socket.SOCK_DGRAM)
allowed.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
allowed.bind((a.addr, a.port))
socks.append(allowed)
denied = None
if a.denied_port:
    denied = socket.socket(fam, socket.SOCK_DGRAM)
    denied.bind((a.addr, a.denied_port))
    socks.append(denied)
if a.ready:
    open(a.ready, "w").close()
seen, ndenied, end = set(), 0, None
while end is None:
    left = deadline - time.monotonic()
    if left <= 0:
        break
    r, _, _ = select.select(socks, [], [], min(left, 0.5))
    for s in r:
        data = s.recv(2048)
        if s is denied:
            ndenied += 1
        elif data.startswith(b"seq "):
            seen.add(int(data[4:]))
        elif data.startswith(b"end "):
            end = int(data[4:])
# Whatever is still queued.
for s in socks:
    s.setblocking(False)
    try:
        while True:
            data = s.recv(2048)
            if s is denied:
                ndenied += 1
            elif data.startswith(b"seq "):
                seen.add(int(data[4:]))
    except BlockingIOError:
        pass
top = end if end is not None else (max(seen) if seen else 0)
missing = sorted(set(range(1, top + 1)) - seen)
print(json.dumps({"received": len(seen), "end": end, "missing": len(missing),
                  "first_missing": missing[:20], "denied": ndenied}))
EOF
}
