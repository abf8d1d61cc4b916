#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: captures that cannot be read to their end are trouble, never
# "no change". A real capture (sv-modbus.pcap: an HMI polling PLCs; the
# first frame whose verdict changes between the two policies below is
# frame 29) cut inside an early frame, inside the frame that changes the
# verdict and inside a later one; a pcapng whose second interface is raw
# IP; a pcapng with two Ethernet interfaces (judged like the pcap). `diff
# --pcap` and `replay` print what they judged, then exit 2 naming the file
# and the frame where reading stopped. TAP output.

. "$(dirname "$0")/lib.sh"

CAPTURES=${CG_CAPTURES:-$CG_TOP/../shared/captures}
CAP=$CAPTURES/sv-modbus.pcap
[ -r "$CAP" ] || tap_skip_all "$CAP is missing (set CG_CAPTURES)"
sandbox_up
T=$CG_TMP

cap_policy() { # NAME TO
	cat <<EOF
version: 1
name: $1
zones:
  scada:
    interfaces: [biz0]
    networks: [10.0.0.48/28]
  plcs:
    interfaces: [crane0]
    networks: [10.0.0.0/28]
hosts:
  plc-3: 10.0.0.3
flows:
  - name: hmi-polls
    from: scada
    to: $2
    proto: tcp
    ports: [502]
EOF
}
cap_policy all-plcs plcs >"$T/old.yaml"
cap_policy plc-3-only plc-3 >"$T/new.yaml"

# cut.py CAPTURE N OUT: CAPTURE (pcap) cut 10 bytes into frame N's data.
# pcapng.py CAPTURE OUT (mixed | two-ethernet): the frames of CAPTURE in a
#   pcapng; "mixed" adds a second interface of link type 101 (raw IP)
#   before the first frame and sends every second frame through it,
#   "two-ethernet" has two Ethernet interfaces and alternates.
cat >"$T/cut.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
n, off = int(sys.argv[2]), 24
for _ in range(n - 1):
    off += 16 + struct.unpack("<I", d[off + 8:off + 12])[0]
open(sys.argv[3], "wb").write(d[:off + 16 + 10])
EOF
cat >"$T/pcapng.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
frames, off = [], 24
while off < len(d):
    cl = struct.unpack("<I", d[off + 8:off + 12])[0]
    frames.append(d[off + 16:off + 16 + cl])
    off += 16 + cl
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
def idb(linktype):
    return block(1, struct.pack("<HHI", linktype, 0, 65535))
def epb(iface, f):
    return block(6, struct.pack("<IIIII", iface, 0, 0, len(f), len(f)) + f)
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
out += idb(1) + idb(101 if sys.argv[3] == "mixed" else 1)
for i, f in enumerate(frames):
    out += epb(i % 2, f[14:] if sys.argv[3] == "mixed" and i % 2 else f)
open(sys.argv[2], "wb").write(out)
EOF

# The whole capture: 99 frames, 3 conversations change (exit 1).
out=$(cg diff "$T/old.yaml" "$T/new.yaml" --pcap "$CAP" --by-source 2>&1)
expect "diff --pcap of the whole capture: exit 1" "$?" -eq 1
expect "... first change at frame 29" "$(grep -c 'first: frame 29)' <<<"$out")" -eq 1

# diff_cut N WHAT: diff --pcap on the capture cut inside frame N.
diff_cut() {
	local n=$1 what=$2 out rc
	"$PYTHON" "$T/cut.py" "$CAP" "$n" "$T/cut$n.pcap"
	out=$(cg diff "$T/old.yaml" "$T/new.yaml" --pcap "$T/cut$n.pcap" --by-source 2>"$T/cut$n.err")
	rc=$?
	expect "diff --pcap cut inside frame $n ($what): exit 2" "$rc" -eq 2
	expect "... names the file and frame $n" \
		"$(grep -c "cut$n.pcap: reading stopped at frame $n: " "$T/cut$n.err")" -eq 1
	expect "... after printing the $((n - 1)) frames judged" \
		"$(grep -c "cut$n.pcap: $((n - 1)) frames" <<<"$out")" -eq 1
	json=$(cg diff --json "$T/old.yaml" "$T/new.yaml" --pcap "$T/cut$n.pcap" --by-source 2>/dev/null)
	rc=$?
	expect "... --json: exit 2, complete false, stopped at frame $n" \
		"$rc $(jq -r '"\(.frames) \(.complete) \(.stopped_at)"' <<<"$json")" = "2 $((n - 1)) false $n"
}
diff_cut 10 "before any change"
diff_cut 29 "the frame that changes the verdict"
diff_cut 80 "after changes"

# replay of a cut capture: the frames before the cut, then exit 2.
out=$(cg replay --policy "$T/old.yaml" --by-source --json "$T/cut29.pcap" 2>"$T/replay29.err")
expect "replay of a capture cut inside frame 29: exit 2" "$?" -eq 2
expect "... prints the 28 frames it judged" "$(jq -s length <<<"$out")" -eq 28
expect "... names the file and frame 29" \
	"$(grep -c "cut29.pcap: reading stopped at frame 29: " "$T/replay29.err")" -eq 1
out=$(cg replay --policy "$T/old.yaml" --iface biz0 "$T/cut10.pcap" 2>&1)
expect "replay (text) of a capture cut inside frame 10: exit 2" "$?" -eq 2
expect "... with its summary of 9 frames" "$(grep -c '^9 frames' <<<"$out")" -eq 1
# A capture cut inside its file header is no capture at all.
head -c 20 "$CAP" >"$T/header.pcap"
out=$(cg replay --policy "$T/old.yaml" --iface biz0 "$T/header.pcap" 2>&1)
expect "replay of a capture cut inside its file header: exit 2" "$?" -eq 2
expect "... naming the file" "$(grep -c 'header.pcap: ' <<<"$out")" -ge 1

# A link type libpcap does not know: refused, exit 2, with its number.
"$PYTHON" -c "import struct, sys; sys.stdout.buffer.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 65000))" >"$T/unknown.pcap"
out=$(cg diff "$T/old.yaml" "$T/new.yaml" --pcap "$T/unknown.pcap" --iface biz0 2>&1)
expect "diff --pcap of a capture of an unknown link type: exit 2" "$?" -eq 2
expect "... naming the file and the type" "$(grep -c 'unknown.pcap: link type unknown (65000) is not Ethernet' <<<"$out")" -eq 1
out=$(cg replay --policy "$T/old.yaml" --iface biz0 "$T/unknown.pcap" 2>&1)
expect "replay of it: exit 2" "$?" -eq 2

# A pcapng whose second interface is raw IP: refused at that interface.
"$PYTHON" "$T/pcapng.py" "$CAP" "$T/mixed.pcapng" mixed
out=$(cg diff "$T/old.yaml" "$T/new.yaml" --pcap "$T/mixed.pcapng" --by-source 2>&1)
expect "diff --pcap of a pcapng with a raw-IP interface: exit 2" "$?" -eq 2
expect "... names the file, frame 1 and the link type" \
	"$(grep -c 'mixed.pcapng: reading stopped at frame 1: .*link type RAW.* is not Ethernet' <<<"$out")" -eq 1
out=$(cg replay --policy "$T/old.yaml" --by-source "$T/mixed.pcapng" 2>&1)
expect "replay of a pcapng with a raw-IP interface: exit 2" "$?" -eq 2
expect "... names the file, frame 1 and the link type" \
	"$(grep -c 'mixed.pcapng: reading stopped at frame 1: .*link type RAW.* is not Ethernet' <<<"$out")" -eq 1

# A pcapng with two Ethernet interfaces is judged frame by frame like the pcap.
"$PYTHON" "$T/pcapng.py" "$CAP" "$T/two.pcapng" two-ethernet
json=$(cg diff --json "$T/old.yaml" "$T/new.yaml" --pcap "$T/two.pcapng" --by-source)
expect "diff --pcap of a pcapng with two Ethernet interfaces: exit 1, 99 frames, 3 change" \
	"$? $(jq -r '"\(.frames) \(.changed) \(.complete)"' <<<"$json")" = "1 99 3 true"
out=$(cg replay --policy "$T/old.yaml" --by-source --json "$T/two.pcapng" 2>/dev/null)
expect "replay of it: exit 0, 99 frames" "$? $(jq -s length <<<"$out")" = "0 99"

tap_done
