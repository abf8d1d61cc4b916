#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: TCP evasion of `modbus: read-only` and `s7comm: read-only`
# (issue 12). A raw-socket attacker (tests/tools/tcp-attack, AF_PACKET) in
# the HMI's namespace, whose kernel is kept from answering the server (an
# nft rule there drops incoming TCP to the attacker's ports 20000-20999),
# does the handshake by hand to the PLC's address and sends crafted
# segments. Behind the gate a real Linux TCP receiver
# (tests/tools/stream-receiver) parses the byte stream its stack delivers,
# Modbus/TCP on 502 and TPKT/COTP/S7comm on 102, and logs each request it
# got, with the attacker's port. Every check is on that log: what the
# receiver got, not what the gate counted.
#
# Each connection opens with an allowed read, alone and in order. Then
# each mode sends an allowed read R at sequence S and hides H, a request
# outside read-only (Modbus FC 6 write register 1 := 42; S7 job 0x29 PLC
# stop), so that a gate judging each segment from its own first byte sees
# only allowed requests (see tcp-attack.c for the bytes):
#   plain         R alone: nothing hidden. With the opening read checked
#                 everywhere, the test cannot pass by blocking everything.
#   hidden        H alone in its own segment after R (the gate refuses it).
#   overlap-fwd   a segment at S+La-k, overlapping R's tail, that opens an
#                 allowed request covering H; the receiver trims the
#                 overlap and gets H (the issue's example for Modbus).
#   overlap-bwd   the same segment first, out of order, then R.
#   rewrite-retx  R, then a "retransmission" at S with other bytes whose
#                 tail beyond R is H.
#   reorder       three segments, last first; the receiver's out-of-order
#                 queue keeps the lower sequence for the overlap.
#   ttl1          insertion: a read with id 7 (Modbus transaction id, S7
#                 PDU reference) at S with IPv4 TTL 1 / IPv6 hop limit 1,
#                 which the gateway does not forward; a read with id 3 at
#                 S; H at S+La; then the overlapping segment of
#                 overlap-fwd.
#   badsum        the same with a bad TCP checksum on the inserted read.
#   oow           the same with the inserted read 1 MiB beyond the window.
#   badack        the same with the inserted read acknowledging 1 MiB the
#                 server never sent (Linux discards the segment).
#   noack         the same with the inserted read lacking the ACK flag
#                 (Linux discards data without it on an open connection).
#   badip         the same with an IP layer the far side discards: a bad
#                 IPv4 header checksum (the gateway drops it), an IPv6
#                 destination option of type 0x7E (discard).
#   zwin          (Modbus, to the receiver's stall port 1502) insertion
#                 into a zero window: allowed requests (FC 20) fill the
#                 stalled receiver's window, the read with id 7 goes to
#                 the closed window, and once the receiver reads again the
#                 read with id 3, H and the overlap follow.
#   one-byte      R, then H one byte per segment.
#   split         R, then H split before its function byte.
#   urg           R, then a segment with URG whose urgent byte the receiver
#                 takes out of the stream: an allowed read with it, H
#                 without it.
# For every mode, family (IPv4, IPv6) and protocol it asserts: the opening
# read was delivered (the connection worked) and no request outside
# read-only ever was; for the insertion modes also that the read sent at S
# after the inserted one was delivered: a gate whose view the inserted
# segment advanced would refuse it as a rewriting retransmission. Before
# the gate goes up, every hiding mode is run once over each family without
# it and must deliver H (the attack is real), and the insertion modes must
# deliver the read with id 3, not the inserted one with id 7 (the receiver
# discards TTL-1, bad-checksum, out-of-window, bad-ACK, no-ACK and bad-IP
# segments, and data sent into a zero window).
#
# Legitimate traffic: a libmodbus client (tests/tools/modbus-load) against
# the same receiver through the gate, with an nft `numgen random mod 10`
# rule in the gateway's forward hook dropping 10 % of the port-502
# segments after the gate: per family 100 sequential reads, 10 rounds of
# 8 pipelined reads and 12 more connections (SYN and FIN retransmits),
# every one answered. Before the loss rule, reads across a keepalive pause
# (probes every second; the connection dies after two unanswered ones),
# and 4000 pipelined reads that meet a zero window (the receiver stalls),
# probe it and go on in segments that cut through ADUs. TAP output.
#
# Against the gate without a TCP normalizer (issue 12), these fail until
# it lands: the "no request outside read-only" check of overlap-fwd,
# overlap-bwd, rewrite-retx, reorder, ttl1, badsum, oow, badack, noack,
# badip (through their closing overlap) and urg, for both protocols and
# families, and of zwin for Modbus (46), and the zero-window check of
# legitimate traffic (the gate refuses segments that end inside an ADU).

. "$(dirname "$0")/lib.sh"

RECEIVER=$CG_TOP/build/tests/tools/stream-receiver
ATTACK=$CG_TOP/build/tests/tools/tcp-attack
LOAD=$CG_TOP/build/tests/tools/modbus-load
for tool in "$RECEIVER" "$ATTACK" "$LOAD"; do
	[ -x "$tool" ] || tap_skip_all "$tool is not built (run make)"
done

MODES="plain hidden overlap-fwd overlap-bwd rewrite-retx reorder ttl1 badsum oow badack noack badip one-byte split urg"
# The modes of each protocol: zwin needs the receiver's stall port, which
# speaks Modbus.
declare -A MODES_OF=([modbus]="$MODES zwin" [s7]="$MODES")
INSERTIONS=" ttl1 badsum oow badack noack badip zwin "

policy_text() {
	cat <<EOF
version: 1
name: e2e-evasion
zones:
  business:
    interfaces: [biz0]
    networks: [198.18.10.0/24, 2001:2:0:10::/64]
  crane-control:
    interfaces: [crane0]
    networks: [198.18.20.0/24, 2001:2:0:20::/64]
hosts:
  scada-hmi: $HMI
  scada-hmi6: $HMI6/128
flows:
  - name: hmi-modbus
    from: [scada-hmi, scada-hmi6]
    to: crane-control
    proto: tcp
    ports: [502, 1502]
    modbus: read-only
  - name: hmi-s7
    from: [scada-hmi, scada-hmi6]
    to: crane-control
    proto: tcp
    ports: [102]
    s7comm: read-only
EOF
}

sandbox_up nft
POLICY=$CG_TMP/evasion.yaml
policy_text >"$POLICY"
cp "$RECEIVER" "$ATTACK" "$LOAD" "$CG_TMP/" || {
	echo "Bail out! cannot copy the test tools"
	exit 1
}
RECEIVER=$CG_TMP/stream-receiver
ATTACK=$CG_TMP/tcp-attack
LOAD=$CG_TMP/modbus-load
RLOG=$CG_TMP/receiver.log

# Frames between the hosts carry whole TCP checksums, as on a wire: with
# veth's default tx checksum offload a host's own segments cross the
# gateway with only the pseudo-header sum in the field, and a gate that
# verifies checksums (to refuse bad-checksum insertion) could not tell
# them from the attacker's. The attacker's frames (AF_PACKET) are complete
# either way.
for ns in biz plc; do
	in_ns $ns ethtool -K eth0 tx off >/dev/null 2>&1 || {
		echo "Bail out! cannot turn tx checksum offload off in $ns"
		exit 1
	}
done

# The attacker's namespace must not answer the server: its kernel has no
# socket for the hand-made connections and would reset them.
in_ns biz nft -f - <<'EOF' || {
table inet cg_evasion {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 20000-20999 drop
	}
}
EOF
	echo "Bail out! cannot install the attacker's nft rule"
	exit 1
}

bg_in_ns 280 plc "$RECEIVER" --log "$RLOG" --seconds 270 \
	--stall-port 1502 --stall-ms 1500
if ! wait_until 5 _listening plc 502 || ! wait_until 5 _listening plc 102; then
	echo "Bail out! the receiver did not start: $(head -c 500 "$RLOG")"
	exit 1
fi
# Both families reach the PLC before any check (IPv6 neighbour discovery
# on fresh links can cost the first SYN a retransmission).
if ! wait_until 10 pings biz "$PLC" 1 || ! wait_until 10 pings biz "$PLC6" 1; then
	echo "Bail out! the HMI cannot reach the PLC"
	exit 1
fi
GWMAC=$(gw_mac biz0)

# attack_all FAMILY PROTO MODE...: the modes at once, each on its own
# source port from 20000 up (PORT_OF[MODE]); each one's output and exit
# status in $CG_TMP/atk.PORT and atk.PORT.rc. Bounded by tcp-attack's own
# 3 s handshake timeout and a 10 s timeout around it. zwin goes to the
# receiver's stall port, 1502, which stalls 1.5 s after accepting.
NEXT_PORT=20000
declare -A PORT_OF
attack_all() {
	local fam=$1 proto=$2 src=$HMI dst=$PLC dport mode pids=()
	shift 2
	[ "$fam" = 6 ] && src=$HMI6 dst=$PLC6
	for mode in "$@"; do
		local port=$NEXT_PORT
		dport=502
		[ "$proto" = s7 ] && dport=102
		[ "$mode" = zwin ] && dport=1502
		NEXT_PORT=$((NEXT_PORT + 1))
		PORT_OF[$mode]=$port
		(
			in_ns biz timeout 10 "$ATTACK" --iface eth0 --dst-mac "$GWMAC" \
				--src "$src" --dst "$dst" --sport "$port" --dport "$dport" \
				--proto "$proto" --mode "$mode" --gap-ms 20 \
				>"$CG_TMP/atk.$port" 2>&1
			echo $? >"$CG_TMP/atk.$port.rc"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
	# The receiver logs as it reads; the attacker waited 300 ms already.
	sleep 0.1
}

# delivered PORT: the receiver's lines for one connection.
delivered() {
	grep -E "^(modbus|s7|cotp|error) port=$1( |$)" "$RLOG"
}

# got_read PROTO LINES [ID]: a read with that id (Modbus transaction id,
# S7 PDU reference) was delivered. Id 1: the read every connection opens
# with, before the mode's segments; id 3: the read an insertion mode sends
# after the inserted one.
got_read() {
	case "$1" in
	modbus) grep -qE "^modbus port=[0-9]+ tid=${3:-1} unit=1 fc=3$" <<<"$2" ;;
	s7) grep -qE "^s7 port=[0-9]+ job=0x04 ref=${3:-1}$" <<<"$2" ;;
	esac
}

# Requests outside read-only (contract: ICS function classes).
forbidden() {
	case "$1" in
	modbus)
		grep -E '^modbus ' <<<"$2" |
			grep -vE ' fc=(1|2|3|4|7|11|12|17|20|24|43)( |$)'
		;;
	s7)
		grep -E '^s7 ' <<<"$2" |
			grep -vE ' job=0x(04|F0) | userdata group=(3|4)$'
		;;
	esac
}

declare -A HIDDEN=([modbus]="Modbus write (FC 6)" [s7]="S7 PLC stop (0x29)")

# load_run NAME ARGS...: modbus-load over IPv4 and IPv6 at once, bounded;
# output and status in $CG_TMP/NAME.4, NAME.6 (and .rc).
load_run() {
	local name=$1 fam dst pids=()
	shift
	for fam in 4 6; do
		dst=$PLC
		[ $fam = 6 ] && dst=$PLC6
		(
			in_ns biz timeout 100 "$LOAD" "$@" "$dst" 502 \
				>"$CG_TMP/$name.$fam" 2>&1
			echo $? >"$CG_TMP/$name.$fam.rc"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# load_check NAME DESCRIPTION [JQ_CONDITION]: every request answered (the
# tool's exit status), and the condition on its JSON holds.
load_check() {
	local fam out summary
	for fam in 4 6; do
		out=$(cat "$CG_TMP/$1.$fam")
		summary=$(jq -r '[(select(.requests > 0) | "\(.answered)/\(.requests) reads answered"),
			(select(.keepalive != "off") | "keepalive \(.keepalive)"),
			(select(.pipelined > 0) | "\(.pipelined_answered)/\(.pipelined) pipelined answered"),
			(select(.connections > 0) | "\(.connections_answered)/\(.connections) connections answered"),
			(select(.zero_window > 0) | "\(.zw_answered)/\(.zero_window) answered, written in \(.zw_send_ms) ms")]
			| join(", ")' <<<"$out" 2>/dev/null)
		if [ "$(cat "$CG_TMP/$1.$fam.rc")" = 0 ] &&
			jq -e "${3:-true}" <<<"$out" >/dev/null 2>&1; then
			ok "IPv$fam: $2: $summary${4:+ # TODO $4}"
		elif [ -n "${4:-}" ]; then
			todo "IPv$fam: $2: every request answered${3:+, $3}" "$4" "$out"
		else
			not_ok "IPv$fam: $2: every request answered${3:+, $3}" "$out"
		fi
	done
}

# ---- without the gate: the attacks are real, and so is the zero window
load_run zw0 --timeout 2 --requests 0 --rounds 0 --zero-window 4000 --zw-port 1502
load_check zw0 "no gate: pipelined reads across a zero window" '.zw_send_ms >= 1000'
for fam in 4 6; do
	for proto in modbus s7; do
		modes=${MODES_OF[$proto]#plain }
		# shellcheck disable=SC2086 # a word list
		attack_all "$fam" "$proto" $modes
		for mode in $modes; do
			port=${PORT_OF[$mode]}
			got=$(delivered "$port")
			what="no gate: IPv$fam $proto $mode delivers the hidden ${HIDDEN[$proto]}"
			if [ -n "$(forbidden "$proto" "$got")" ]; then
				ok "$what"
			else
				not_ok "$what" "receiver got:" "$got" "$(cat "$CG_TMP/atk.$port")"
			fi
			case $INSERTIONS in
			*" $mode "*)
				what="no gate: IPv$fam $proto $mode: the receiver discards the inserted read"
				if got_read "$proto" "$got" 3 && ! got_read "$proto" "$got" 7; then
					ok "$what"
				else
					not_ok "$what" "receiver got (inserted: id 7, then id 3):" "$got"
				fi
				;;
			esac
		done
	done
done

# ---- the gate
if ! check "apply the policy" cg apply "$POLICY"; then
	echo "Bail out! cannot apply the policy"
	exit 1
fi

for fam in 4 6; do
	for proto in modbus s7; do
		# shellcheck disable=SC2086
		attack_all "$fam" "$proto" ${MODES_OF[$proto]}
		for mode in ${MODES_OF[$proto]}; do
			port=${PORT_OF[$mode]}
			rc=$(cat "$CG_TMP/atk.$port.rc" 2>/dev/null)
			got=$(delivered "$port")
			what="IPv$fam $proto $mode"
			if [ "$rc" = 0 ] && got_read "$proto" "$got"; then
				ok "$what: the opening read is delivered"
			else
				not_ok "$what: the opening read is delivered" \
					"tcp-attack exited ${rc:-?}" "$(cat "$CG_TMP/atk.$port")" \
					"receiver got:" "$got"
			fi
			case $INSERTIONS in
			*" $mode "*)
				if got_read "$proto" "$got" 3; then
					ok "$what: the read after the inserted one is delivered"
				else
					not_ok "$what: the read after the inserted one is delivered" \
						"receiver got:" "$got"
				fi
				;;
			esac
			bad=$(forbidden "$proto" "$got")
			if [ -z "$bad" ]; then
				ok "$what: no request outside read-only delivered"
			else
				not_ok "$what: no request outside read-only delivered" \
					"the receiver got (${HIDDEN[$proto]} hidden):" "$bad"
			fi
		done
	done
done

# s7_session ADDR: an S7 client's session, by hand (Debian packages no
# S7 client): COTP connection request, setup communication, 20 read-variable
# jobs, each answered before the next. Prints "ok" or what went wrong.
s7_session() {
	in_ns biz timeout 30 "$PYTHON" - "$1" <<'PY'
import socket, sys
def tpkt(s):
    h = b""
    while len(h) < 4:
        c = s.recv(4 - len(h))
        if not c:
            raise SystemExit("closed")
        h += c
    n = int.from_bytes(h[2:4], "big")
    b = h
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("closed")
        b += c
    return b
s = socket.create_connection((sys.argv[1], 102), timeout=5)
s.sendall(bytes.fromhex("0300001611e00000000100c0010ac1020100c2020102"))
if tpkt(s)[5] & 0xF0 != 0xD0:
    raise SystemExit("no COTP CC")
s.sendall(bytes.fromhex("0300001902f08032010000000100080000f0000001000101e0"))
a = tpkt(s)
if a[8] != 3 or a[19] != 0xF0:
    raise SystemExit("no ack-data to setup communication")
for i in range(20):
    ref = (i + 2).to_bytes(2, "big").hex()
    s.sendall(bytes.fromhex("0300001f02f080320100" + "00" + ref[0:2] + ref[2:4] +
                            "000e00000401120a10020001000184000000"))
    a = tpkt(s)
    if a[8] != 3 or a[19] != 0x04 or a[11:13] != bytes.fromhex(ref):
        raise SystemExit("read %d: no ack-data" % i)
print("ok")
PY
}

for fam in 4 6; do
	dst=$PLC
	[ $fam = 6 ] && dst=$PLC6
	out=$(s7_session "$dst" 2>&1)
	expect "IPv$fam: an S7 session (COTP, setup communication, 20 reads) is answered" \
		"$out" = ok
done

# ---- legitimate traffic: keepalives. 20 reads, then 4 s idle with probes
# every second; two unanswered probes and the kernel resets the connection,
# so the read after the pause fails.
load_run keepalive --timeout 3 --requests 20 --keepalive-pause 4 --rounds 0
load_check keepalive "libmodbus reads across a keepalive pause"

# ---- legitimate traffic: a zero window. 4000 pipelined reads (48 KB) to
# the receiver's stall port, which reads nothing for 1.5 s from a 4 KiB
# buffer: the window closes, the client probes it, and when it opens the
# rest goes out in segments cut at the window's edge, through ADUs (so
# this needs a gate that tracks ADUs across segments). Writing must have
# taken at least a second (the window did close). The gate drops an ADU
# cut across segments instead (README, the stream rule): a known gap, so
# this check is a TAP TODO until ADUs are tracked across segments.
load_run zw --timeout 2 --requests 0 --rounds 0 --zero-window 4000 --zw-port 1502
load_check zw "pipelined reads across a zero window" '.zw_send_ms >= 1000' \
	"ADUs cut across segments are dropped, not tracked"


# ---- legitimate traffic, 10 % of the segments lost after the gate
in_ns gw nft -f - <<'EOF' || not_ok "install the loss rule in the gateway"
table inet cg_loss {
	counter seen { }
	counter lost { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp sport 502 counter name seen
		tcp dport 502 counter name seen
		tcp sport 502 numgen random mod 10 == 0 counter name lost drop
		tcp dport 502 numgen random mod 10 == 0 counter name lost drop
	}
}
EOF
load_run loss --timeout 8 --requests 100 --pipeline 8 --rounds 10 --connections 12
load_check loss "libmodbus with 10 % loss"
seen=$(in_ns gw nft -j list counter inet cg_loss seen 2>/dev/null |
	jq -r '.nftables[] | .counter? // empty | .packets' | _number)
lost=$(in_ns gw nft -j list counter inet cg_loss lost 2>/dev/null |
	jq -r '.nftables[] | .counter? // empty | .packets' | _number)
diag "loss rule: $lost of $seen port-502 segments dropped after the gate"
expect "the loss rule dropped at least 5 % of the segments" \
	$((seen > 0 ? lost * 100 / seen : 0)) -ge 5

tap_done
