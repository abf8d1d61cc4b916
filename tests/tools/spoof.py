#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Frames that claim a bound host's address from another MAC, for
# tests/e2e/test_bindings.sh. Raw AF_PACKET; addresses come from the test.
#
#   spoof.py arp IFACE FAKE_MAC HRD SENDER_IP TARGET_IP
#       an ARP request (hardware type HRD: 1 Ethernet, 6 IEEE 802) from
#       FAKE_MAC claiming SENDER_IP, asking for TARGET_IP, broadcast
#   spoof.py na IFACE FAKE_MAC DST_MAC SRC_IP6 DST_IP6 TARGET_IP6
#       an unsolicited neighbour advertisement (override set, hop limit
#       255) from FAKE_MAC for TARGET_IP6 with FAKE_MAC in its target
#       link-layer address option

import socket
import struct
import sys


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def send(iface, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)


def arp(iface, fake, hrd, sender, target):
    body = struct.pack("!HHBBH", int(hrd), 0x0800, 6, 4, 1)
    body += mac(fake) + socket.inet_aton(sender)
    body += b"\0" * 6 + socket.inet_aton(target)
    send(iface, b"\xff" * 6 + mac(fake) + b"\x08\x06" + body + b"\0" * 18)


def na(iface, fake, dst_mac, src, dst, target):
    s6 = socket.inet_pton(socket.AF_INET6, src)
    d6 = socket.inet_pton(socket.AF_INET6, dst)
    t6 = socket.inet_pton(socket.AF_INET6, target)
    # Type 136, override (0x20000000), the target, option 2 (8 bytes).
    icmp = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + t6
    icmp += struct.pack("!BB", 2, 1) + mac(fake)
    pseudo = s6 + d6 + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + s6 + d6
    send(iface, mac(dst_mac) + mac(fake) + b"\x86\xdd" + ip6 + icmp)


def main(argv):
    if argv[1] == "arp":
        arp(*argv[2:7])
    elif argv[1] == "na":
        na(*argv[2:8])
    else:
        print("usage: spoof.py arp|na ...", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
