#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: faults under a running gate. TAP output.
#
#  1. SIGKILL of `cranegate apply` while it swaps between two policies A
#     and B that disagree on HMI -> PLC UDP 5000 (A allows, B drops) and
#     5001 (B allows, A drops):
#     - at random points: CG_FAULT_KILLS (6) applies killed after a random
#       delay within the time one apply takes;
#     - at every step of the switch: with strace(1), apply is killed on
#       entering each of its XDP swaps (netlink RTM_SETLINK, one per
#       interface), the first request after the last swap, the first
#       bpf() calls after it (the commit: one write of the `live` map), its
#       re-pin (unlink, pin, rename), and at the start and middle of the
#       instance build (its bpf() calls).
#     After every kill the gate must enforce all of A or all of B: the
#     active policy (status --json) has the sha256 of A or of B, every
#     interface carries one instance of this gate (a program in one of its
#     hand-off slots, which judges or hands the frame to the one that
#     does: maps/cranegate.h), and UDP 5000/5001 cross as that policy
#     says; and the next apply must succeed.
#  2. An interface removed and re-added under the gate: apply alone
#     leaves it unguarded until the next apply; `run` (watching rtnetlink)
#     guards it again by itself, shown with traffic that enters on it.
#  3. The pin root removed (rm -rf) under a running gate, and bpffs
#     unmounted in a private mount namespace: enforcement continues.
#  4. The connection and MAC tables full: `limits: connections: 1024` and
#     `macs: 1024`, then 3,000 distinct allowed connections and 3,000 new
#     source MACs as raw frames; no crash, every frame counted, new
#     connections still pass, the tables stay at their size.
#
# Environment: CG_FAULT_KILLS (random kills, default 6).

. "$(dirname "$0")/lib.sh"

# Pins of this run under /sys/fs/bpf/cg-PREFIX.
CG_PIN_ROOT=/sys/fs/bpf/cg-$P

sandbox_up
T=$CG_TMP
KILLS=${CG_FAULT_KILLS:-6}
IFACES=(biz0 crane0 cctv0 mgmt0)
faults=0     # faults injected
mishandled=0 # faults after which the gate was not whole A or whole B

# ---------------------------------------------------------------- policies
policy() { # NAME ALLOWED_UDP_PORT
	cat <<EOF
version: 1
name: $1
EOF
	topo_zones
	cat <<EOF
hosts:
  scada-hmi: 198.18.10.5
  plc-hoist: 198.18.20.11
flows:
  - name: hmi-pings-plcs
    from: scada-hmi
    to: crane-control
    proto: icmp
  - name: hmi-to-hoist-$2
    from: scada-hmi
    to: plc-hoist
    proto: udp
    ports: [$2]
EOF
}
policy faults-a 5000 >"$T/a.yaml"
policy faults-b 5001 >"$T/b.yaml"
SHA_A=$(sha256sum <"$T/a.yaml" | cut -c1-64)
SHA_B=$(sha256sum <"$T/b.yaml" | cut -c1-64)

# ---------------------------------------------------------------- probes
# One receiver on the PLC for the whole test logs every datagram on UDP
# 5000 and 5001 as "PORT PAYLOAD".
cat >"$T/recv.py" <<'EOF'
import select, socket, sys, time
socks = {}
for port in (5000, 5001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.20.11", port))
    socks[s] = port
out = open(sys.argv[1], "a", buffering=1)
open(sys.argv[2], "w").close()
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    r, _, _ = select.select(list(socks), [], [], 0.5)
    for s in r:
        data = s.recv(2048)
        out.write("%d %s\n" % (socks[s], data.decode(errors="replace")))
EOF
bg_in_ns 900 plc "$PYTHON" "$T/recv.py" "$T/recv.log" "$T/recv.ready" 890
wait_until 5 test -e "$T/recv.ready" || diag "the UDP receiver did not start"

# probe: which of UDP 5000 and 5001 get from HMI to the PLC? Prints
# "5000:yes 5001:no" and the like (two datagrams each, 0.3 s to arrive).
# It runs in command substitutions: the tag must not depend on a counter.
probe() {
	local tag port a
	tag="p$(date +%s%N)"
	in_ns biz timeout 5 "$PYTHON" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2):
    for p in (5000, 5001):
        s.sendto(b'$tag', ('$PLC', p))
    time.sleep(0.02)
" 2>/dev/null
	sleep 0.3
	for port in 5000 5001; do
		if grep -q "^$port $tag\$" "$T/recv.log"; then a=yes; else a=no; fi
		printf '%s:%s ' "$port" "$a"
	done
}

pinned_prog_id() {
	bpftool -j prog show pinned "$CG_PIN_ROOT/prog" 2>/dev/null | jq -r '.id // empty'
}

# The programs in the hand-off slots (maps/cranegate.h), one id a line.
slot_prog_ids() {
	bpftool -j map dump pinned "$CG_PIN_ROOT/progs" 2>/dev/null |
		jq -r '.[].formatted.value'
}

# whole WHAT: the gate enforces all of A or all of B. Prints nothing and
# succeeds, or prints what is wrong.
whole() {
	local st sha slots dev ids want got
	st=$(cg_status_json)
	sha=$(jq -r '.policy.sha256 // empty' <<<"$st")
	slots=" $(slot_prog_ids | tr '\n' ' ')"
	case "$sha" in
	"$SHA_A") want="5000:yes 5001:no " ;;
	"$SHA_B") want="5000:no 5001:yes " ;;
	*)
		echo "the active policy is neither A nor B (sha256 '${sha:-none}')"
		return 1
		;;
	esac
	# Each interface carries an instance of this gate (one that judges
	# or hands every frame to the one that does) or a front of it (which
	# hands every frame to the live instance); nothing else, and not
	# nothing.
	for dev in "${IFACES[@]}"; do
		ids=$(gate_ids "$dev" | tr '\n' ' ')
		if [ "$(wc -w <<<"$ids")" != 1 ] ||
			{ [ "$ids" != "front " ] && [[ $slots != *" $ids"* ]]; }; then
			echo "$dev carries program(s) '${ids% }', the gate's slots hold${slots% } ($([ "$sha" = "$SHA_A" ] && echo A || echo B))"
			return 1
		fi
	done
	got=$(probe)
	if [ "$got" != "$want" ]; then
		echo "traffic says '$got', policy $([ "$sha" = "$SHA_A" ] && echo A || echo B) says '$want'"
		return 1
	fi
}

check "apply A" cg apply "$T/a.yaml"
expect "policy A: UDP 5000 passes, 5001 drops" "$(probe)" = "5000:yes 5001:no "
check "apply B" cg apply "$T/b.yaml"
expect "policy B: UDP 5000 drops, 5001 passes" "$(probe)" = "5000:no 5001:yes "

# How long does an apply take? The random kills spread over that.
start=$(date +%s%N)
cg apply "$T/a.yaml" >/dev/null 2>&1
apply_ms=$((($(date +%s%N) - start) / 1000000))
diag "one apply takes ${apply_ms} ms"

# after_kill WHAT: the checks after one fault; recovers with a plain apply.
after_kill() {
	local what=$1 why out
	faults=$((faults + 1))
	if why=$(whole); then
		ok "$what: the gate enforces all of $(cg_policy_field name)"
	else
		mishandled=$((mishandled + 1))
		not_ok "$what: the gate enforces all of A or all of B" "$why"
	fi
	if out=$(cg apply "$T/b.yaml" 2>&1) && why=$(whole); then
		ok "$what: the next apply recovers (B active)"
	else
		not_ok "$what: the next apply recovers" "$out" "${why:-}"
		# Leave a clean gate for the next fault, whatever it takes.
		for dev in "${IFACES[@]}"; do
			ip -n "${P}gw" link set dev "$dev" xdp off 2>/dev/null
		done
		cg detach >/dev/null 2>&1
		cg apply "$T/b.yaml" >/dev/null 2>&1
	fi
}

# ---- 1a. random kills
exec 3>&2 2>/dev/null # bash reports every killed job on stderr
for ((i = 1; i <= KILLS; i++)); do
	if ((i % 2)); then p=a; else p=b; fi
	delay_ms=$((RANDOM % (apply_ms + 1)))
	nsenter --net="/var/run/netns/${P}gw" "$CG_BIN" apply "$T/$p.yaml" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" >/dev/null 2>&1 &
	pid=$!
	sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then
		how="killed after ${delay_ms} ms"
	else
		how="finished before ${delay_ms} ms"
	fi
	wait "$pid" 2>/dev/null
	exec 2>&3
	after_kill "random kill $i: apply $p $how"
	exec 2>/dev/null
done
exec 2>&3 3>&-

# ---- 1b. a kill at every step of the switch
if command -v strace >/dev/null; then
	# Count the steps of one apply of A over B.
	cg apply "$T/b.yaml" >/dev/null 2>&1
	nsenter --net="/var/run/netns/${P}gw" strace -f -qq -o "$T/trace" \
		-e trace=sendto,rename,unlink,bpf "$CG_BIN" apply "$T/a.yaml" \
		--pin-root "$CG_PIN_ROOT" --state-dir "$CG_STATE_DIR" >/dev/null 2>&1
	n_send=$(grep -c 'sendto(' "$T/trace")
	n_bpf=$(grep -c 'bpf(' "$T/trace")
	diag "one apply makes $n_send netlink requests and $n_bpf bpf() calls"
	# The ordinal (among sendto calls) of each XDP swap, and of the
	# first request after the last one.
	mapfile -t swaps < <(grep 'sendto(' "$T/trace" | grep -n 'RTM_SETLINK' | cut -d: -f1)
	points=()
	for k in "${swaps[@]}"; do
		points+=("sendto:$k")
	done
	last=0
	[ "${#swaps[@]}" -gt 0 ] && last=${swaps[${#swaps[@]} - 1]}
	[ "$last" -gt 0 ] && [ "$last" -lt "$n_send" ] && points+=("sendto:$((last + 1))")
	points+=("unlink:1" "bpf:$n_bpf" "rename:1" "bpf:1" "bpf:$((n_bpf / 2))")
	# The commit (one write of the `live` map) is among the first bpf()
	# calls after the last swap: kill on each of the first three.
	if [ "$last" -gt 0 ]; then
		line=$(grep -n 'RTM_SETLINK' "$T/trace" | tail -1 | cut -d: -f1)
		before=$(head -n "${line:-0}" "$T/trace" | grep -c 'bpf(')
		for k in 1 2 3; do
			[ $((before + k)) -le "$n_bpf" ] && points+=("bpf:$((before + k))")
		done
	fi
	# Where fronts (user/kernel/rxvlan.h) stay attached there is no swap: the
	# commit is one of the map writes after the new instance is loaded.
	# Kill on each of them, batches (the policy's maps) included.
	mapfile -t writes < <(grep 'bpf(' "$T/trace" | grep -n 'BPF_PROG_LOAD\|BPF_MAP_UPDATE_ELEM\|BPF_MAP_UPDATE_BATCH' |
		awk -F: '/BPF_PROG_LOAD/ {n = 0; delete w; next} {w[n++] = $1} END {for (i = 0; i < n; i++) print w[i]}')
	for k in "${writes[@]}"; do
		points+=("bpf:$k")
	done
	diag "kill points: ${points[*]} (the XDP swaps are sendto calls ${swaps[*]:-(none)}; the map writes after the last load are bpf calls ${writes[*]:-(none)})"
	cg apply "$T/b.yaml" >/dev/null 2>&1
	for pt in "${points[@]}"; do
		sc=${pt%%:*} k=${pt#*:}
		nsenter --net="/var/run/netns/${P}gw" strace -f -qq -o /dev/null \
			-e trace="$sc" -e inject="$sc:signal=SIGKILL:when=$k" \
			"$CG_BIN" apply "$T/a.yaml" --pin-root "$CG_PIN_ROOT" \
			--state-dir "$CG_STATE_DIR" >"$T/kill.out" 2>&1
		rc=$?
		case "$rc" in
		137) how="killed entering $sc call $k" ;;
		0) how="finished before $sc call $k" ;;
		*) how="exit $rc at $sc call $k" ;;
		esac
		after_kill "step kill: apply A over B, $how"
	done
else
	skip "apply killed at every step of the switch" "strace is missing"
fi

diag "SIGKILL faults: $faults injected, $mishandled left a mix or nothing"

# ---- 2. an interface removed and re-added under the gate
check "apply A before removing an interface" cg apply "$T/a.yaml"
pid=$(pinned_prog_id)
# crane0 and its peer as topo_up made them, with new ifindexes.
recreate_crane0() {
	ip -n "${P}gw" link add crane0 mtu 1600 type veth peer name eth0 mtu 1600 netns "${P}plc"
	in_ns gw ethtool -K crane0 rxvlan off txvlan off >/dev/null 2>&1
	in_ns plc ethtool -K eth0 rxvlan off txvlan off >/dev/null 2>&1
	_addr gw crane0 $GW_CRANE/24 && _addr gw crane0 $GW_CRANE6/64
	_addr plc eth0 $PLC/24 && _addr plc eth0 $PLC6/64
	ip -n "${P}gw" link set dev crane0 up
	ip -n "${P}plc" link set dev eth0 up
	_routes plc $GW_CRANE $GW_CRANE6
	wait_until 5 _link_up gw crane0
	in_ns gw sysctl -qw net.ipv4.conf.crane0.rp_filter=0
}
ip -n "${P}gw" link del crane0
faults=$((faults + 1))
recreate_crane0
# The receiver's sockets survive the veth (its addresses came back).
st=$(cg_status_json)
if [ -n "$st" ]; then
	ok "status works after crane0 was removed and re-added"
else
	not_ok "status works after crane0 was removed and re-added"
fi
att=$(jq -r '[.attached[]?.iface] | join(",")' <<<"$st")
diag "after crane0 came back: attached to '$att'; crane0 carries '$(xdp_prog_ids crane0 | tr '\n' ' ')'"
# A front (user/kernel/rxvlan.h) where the driver reports VLAN tags, else the
# pinned program.
expect "the other interfaces still carry the gate (a front or the pinned program)" \
	"$(for d in biz0 cctv0 mgmt0; do gate_ids "$d"; done | sed "s/^$pid\$/front/" | sort -u | tr '\n' ' ')" = "front "
expect "the re-added crane0 carries no program (defined: the kernel drops XDP with its interface)" \
	"$(xdp_prog_ids crane0 | wc -l)" -eq 0
expect "status no longer lists crane0 as attached" "$(jq -r '[.attached[]?.iface] | index("crane0") // "absent"' <<<"$st")" = absent
got=$(probe)
diag "with crane0 unguarded: ingress on biz0 still judged: $got"
expect "ingress on biz0 is still judged by A (UDP 5001 drops)" "$got" = "5000:yes 5001:no "
check "apply re-attaches the re-added interface" cg apply "$T/a.yaml"
why=$(whole) && ok "after the re-apply the gate enforces all of A" ||
	not_ok "after the re-apply the gate enforces all of A" "$why"

# ---- 2b. the same under `cranegate run`, which guards crane0 again
# run watches rtnetlink: when crane0 comes back, it applies the active
# policy again (compiled against the new ifindex). Frames that enter on
# crane0 tell: the PLC's answers to the HMI's pings pass as replies only
# if crane0 is in its zone again, and UDP from the PLC to the HMI (no
# flow) drops as no-rule; without the gate on crane0 both would cross.
has_record() { # LOG JQ_FILTER
	jq -e -s "[.[] | $2] | length > 0" "$1" >/dev/null 2>&1
}
guarded_again() { # the pinned program is on crane0
	local id
	id=$(pinned_prog_id)
	[ -n "$id" ] && { [ "$(xdp_prog_ids crane0)" = "$id" ] ||
		[ "$(gate_ids crane0)" = front ]; }
}
bg_in_ns 60 biz socat -u UDP4-RECV:7000,bind=$HMI "OPEN:$T/udp7000.out,creat,append"
cg_bg 120 "$T/run.log" run "$T/a.yaml" --summary 0
if wait_until 20 has_record "$T/run.log" 'select(.type == "apply" and .ok == true)'; then
	ok "run applied A"
else
	not_ok "run applied A" "$(cat "$T/run.log" "$T/run.log.err")"
fi
old_ifindex=$(ip -n "${P}gw" -j link show dev crane0 | jq -r '.[0].ifindex')
ip -n "${P}gw" link del crane0
faults=$((faults + 1))
wait_until 5 has_record "$T/run.log" 'select(.type == "link" and .state == "gone")' &&
	ok "run logs that crane0 is gone" || not_ok "run logs that crane0 is gone" "$(tail -n 3 "$T/run.log")"
t0=$(date +%s%N)
recreate_crane0
if wait_until 10 guarded_again; then
	ok "run guards the re-created crane0 again"
	t1=$(jq -r -s '[.[] | select(.type == "apply" and .trigger == "link")][0].time // empty' "$T/run.log")
	t1=$(date -d "$t1" +%s%N 2>/dev/null || echo "$t0")
	diag "crane0 re-created (ifindex $old_ifindex -> $(ip -n "${P}gw" -j link show dev crane0 | jq -r '.[0].ifindex')); guarded again $(((t1 - t0) / 1000000)) ms after \`ip link add\`"
else
	not_ok "run guards the re-created crane0 again" "$(tail -n 5 "$T/run.log" "$T/run.log.err")"
fi
expect "run logged the re-guard (link record, apply with trigger link)" \
	"$(jq -s -c '[.[] | select(.type == "link" and .state == "unguarded") | .iface] + [.[] | select(.type == "apply" and .trigger == "link") | .ok]' "$T/run.log")" = '["crane0",true]'
why=$(whole) && ok "after the re-guard the gate enforces all of A" ||
	not_ok "after the re-guard the gate enforces all of A" "$why"
expect "allowed: HMI's pings to the PLC are answered (the replies enter on crane0)" \
	"$(pings biz $PLC 5 && echo yes)" = yes
before=$(cg_reason no-rule)
in_ns plc timeout 5 "$PYTHON" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b'from-plc', ('$HMI', 7000))
    time.sleep(0.02)
"
sleep 0.3
expect "denied: UDP from the PLC to the HMI drops on crane0 (no-rule +5)" \
	"$(($(cg_reason no-rule) - before))" -eq 5
expect "denied: none of it reached the HMI" "$(wc -c <"$T/udp7000.out" 2>/dev/null || echo 0)" -eq 0
kill -TERM "$(pgrep -P "$CG_LAST_PID" | head -1)" 2>/dev/null
wait "$CG_LAST_PID" 2>/dev/null

# ---- 3. the pin root removed under a running gate
check "apply B before removing the pins" cg apply "$T/b.yaml"
ids=$(for d in "${IFACES[@]}"; do xdp_prog_ids "$d"; done | tr '\n' ' ')
# With fronts (user/kernel/rxvlan.h) the policy is reachable only through the
# program array `progs`, and the kernel empties a program array when its
# last user reference (fd or pin) goes: the fronts then drop every frame
# (closed). The gate attached itself judges alone and keeps enforcing B.
if [ "$(gate_ids biz0)" = front ]; then
	after_rm="5000:no 5001:no "
	what="nothing crosses (fronts with an emptied program array drop)"
else
	after_rm="5000:no 5001:yes "
	what="B is still enforced (UDP 5000 drops, 5001 passes)"
fi
rm -rf "$CG_PIN_ROOT"
faults=$((faults + 1))
expect "after rm -rf of the pin root, every interface keeps its program ($ids)" \
	"$(for d in "${IFACES[@]}"; do xdp_prog_ids "$d"; done | tr '\n' ' ')" = "$ids"
expect "... and $what" "$(probe)" = "$after_rm"
out=$(cg status --json 2>&1)
rc=$?
diag "status without pins (exit $rc): $(jq -c '{policy, attached}' <<<"$out" 2>/dev/null || echo "${out:0:300}")"
expect "status without pins does not crash" "$rc" -lt 128
out=$(cg apply "$T/a.yaml" 2>&1)
rc=$?
diag "apply A without pins (exit $rc): ${out:0:400}"
if [ "$rc" -eq 0 ]; then
	why=$(whole) && ok "apply after the pins were removed takes the gate over" ||
		not_ok "apply after the pins were removed takes the gate over" "$why"
else
	# Defined, and safe: the orphaned program keeps enforcing B, and
	# apply refuses to replace a program it cannot prove is its own.
	expect "apply refuses to replace the orphaned program(s): still $what" \
		"$(probe)" = "$after_rm"
	for dev in "${IFACES[@]}"; do
		ip -n "${P}gw" link set dev "$dev" xdp off 2>/dev/null
	done
	check "after ip link set xdp off, apply takes the interfaces again" cg apply "$T/a.yaml"
fi

# bpffs unmounted: only in a private mount namespace of our own, so that
# nothing else on this machine loses /sys/fs/bpf.
check "apply B before unmounting bpffs" cg apply "$T/b.yaml"
out=$(unshare -m --propagation private sh -c "umount /sys/fs/bpf && ! mountpoint -q /sys/fs/bpf && echo unmounted" 2>&1)
faults=$((faults + 1))
expect "bpffs unmounted in a private mount namespace" "$out" = unmounted
expect "the gate still enforces B (it never needed the mount)" "$(probe)" = "5000:no 5001:yes "
out=$(unshare -m --propagation private sh -c "umount /sys/fs/bpf; nsenter --net=/var/run/netns/${P}gw $CG_BIN status --json --pin-root $CG_PIN_ROOT --state-dir $CG_STATE_DIR" 2>&1)
rc=$?
diag "status with bpffs unmounted (exit $rc): ${out:0:300}"
expect "status with bpffs unmounted does not crash" "$rc" -lt 128

# ---- 4. the connection table full
check "detach (limits take effect on a fresh gate)" cg detach
policy faults-full 5000 | sed 's/^zones:/limits:\n  connections: 1024\n  macs: 1024\nzones:/' >"$T/full.yaml"
check "apply a policy with limits: connections: 1024, macs: 1024" cg apply "$T/full.yaml"
before=$(cg_status_json)
expect "the IPv4 connection table has 1024 entries" "$(jq -r '.state.conns4.max // 0' <<<"$before")" -eq 1024
# flood MODE N: N allowed UDP datagrams HMI -> PLC:5000 as raw frames,
# each a new connection (source ports 20000..) or, with MODE macs, from a
# new source MAC (02:aa:..) on one connection.
flood() {
	in_ns biz timeout 60 "$PYTHON" - "$(gw_mac biz0)" "$(host_mac biz)" "$2" "$1" <<'EOF'
import socket, struct, sys
dst, src, n = bytes.fromhex(sys.argv[1].replace(":", "")), bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3])
macs = sys.argv[4] == "macs"
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
sip, dip = socket.inet_aton("198.18.10.5"), socket.inet_aton("198.18.20.11")
for i in range(n):
    sport = 19999 if macs else 20000 + i
    smac = b"\x02\xaa" + struct.pack("!I", i) if macs else src
    udp = struct.pack("!HHHH", sport, 5000, 12, 0) + b"full"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.send(dst + smac + b"\x08\x00" + ip + udp)
EOF
}
# 3,000 distinct allowed connections from the HMI: the gate opens one
# connection per datagram.
N_CONN=3000
flood conns $N_CONN
sleep 0.5
faults=$((faults + 1))
after=$(cg_status_json)
got=$(($(cg_reason allowed "$after") - $(cg_reason allowed "$before")))
expect "all $N_CONN datagrams were judged and counted as allowed (no crash, none lost)" "$got" -eq "$N_CONN"
entries=$(jq -r '.state.conns4.entries // 0' <<<"$after")
opened=$(jq -r '.state.connections_opened // 0' <<<"$after")
failed_c=$(jq -r '.state.connections_failed // 0' <<<"$after")
diag "connection table: $entries of 1024 entries; opened $opened, failed $failed_c"
expect "the table holds at most 1024 connections" "$entries" -le 1024
expect "every new connection was opened (the table evicts the oldest)" "$opened" -ge "$N_CONN"
expect "traffic still crosses as the policy says" "$(probe)" = "5000:yes 5001:no "
# 3,000 new source MACs in the business zone: the MAC table (1024) fills.
before=$(cg_status_json)
N_MAC=3000
flood macs $N_MAC
sleep 0.5
faults=$((faults + 1))
after=$(cg_status_json)
got=$(($(cg_reason allowed "$after") - $(cg_reason allowed "$before")))
expect "all $N_MAC frames from new MACs were judged and counted" "$got" -eq "$N_MAC"
entries=$(jq -r '.state.macs.entries // 0' <<<"$after")
learned=$(($(jq -r '.state.macs_learned // 0' <<<"$after") - $(jq -r '.state.macs_learned // 0' <<<"$before")))
diag "MAC table: $entries of 1024 entries; $learned learned during the flood"
expect "the MAC table holds at most 1024 MACs" "$entries" -le 1024
expect "every new MAC was learned (the table evicts the oldest)" "$learned" -ge "$N_MAC"
expect "traffic still crosses as the policy says after the MAC flood" "$(probe)" = "5000:yes 5001:no "
xdp_attached crane0 && ok "the gate is still attached" || not_ok "the gate is still attached"

diag "faults injected: $faults; mishandled: $mishandled"
check "detach" cg detach
left=$(pins_left)
expect "no pins left under the pin root" "${left:-none}" = none

tap_done
