#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw frames for tests/e2e/test_nd.sh, from a host's eth0 (AF_PACKET).

  nd IFACE DST_MAC SRC DST TYPE BODY_LEN MARKER
      one ICMPv6 ND message (hop limit 255), its body MARKER repeated
  sniff IFACE SECONDS MARKER
      count the frames received on IFACE whose bytes hold MARKER
  fragwrite IFACE DST_MAC SRC DST ID REG VALUE
      issue 19, 1: a complete two-fragment datagram to DST:80 with IP id
      ID; then a real Modbus connection to DST:502 (a read answered), and
      on it a segment fragmented with the same id: the first fragment the
      TCP header and a read, the second an FC 6 write of REG := VALUE.
      Prints what happened; exits 0 when the frames were sent.
"""
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def sock(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s


def own_mac(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return mac(f.read().strip())


def nd(iface, dst_mac, src, dst, typ, body_len, marker):
    s6 = socket.inet_pton(socket.AF_INET6, src)
    d6 = socket.inet_pton(socket.AF_INET6, dst)
    body = (marker.encode() * (body_len // len(marker) + 1))[:body_len]
    icmp = struct.pack("!BBHI", typ, 0, 0, 0) + body
    pseudo = s6 + d6 + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + s6 + d6
    eth = mac(dst_mac) + own_mac(iface) + b"\x86\xdd"
    sock(iface).send(eth + ip6 + icmp)


def sniff(iface, seconds, marker):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    s.settimeout(0.2)
    end = time.time() + seconds
    n = 0
    m = marker.encode()
    while time.time() < end:
        try:
            f = s.recv(65535)
        except socket.timeout:
            continue
        if m in f:
            n += 1
    print(n)


def ip4(src, dst, ident, flags_off, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                    flags_off, 64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(src, dst, sport, dport, seq, ack, flags, data):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                    65535, 0, 0)
    pseudo = (socket.inet_aton(src) + socket.inet_aton(dst) +
              struct.pack("!BBH", 0, 6, len(h) + len(data)))
    c = csum(pseudo + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def send_fragments(s, eth, src, dst, ident, segment, split):
    """Two IPv4 fragments of `segment`: bytes [0, split) and the rest."""
    assert split % 8 == 0
    s.send(eth + ip4(src, dst, ident, 0x2000, 6, segment[:split]))
    time.sleep(0.05)
    s.send(eth + ip4(src, dst, ident, split // 8, 6, segment[split:]))


def fragwrite(iface, dst_mac, src, dst, ident, reg, value):
    raw = sock(iface)
    eth = mac(dst_mac) + own_mac(iface) + b"\x08\x00"
    ident = int(ident)

    # 1. A complete datagram to :80 with that id (the PLC answers RST).
    seg = tcp(src, dst, 40080, 80, 1, 0, 0x18, b"GET / HTTP/1.0\r\n\r\n....")
    send_fragments(raw, eth, src, dst, ident, seg, 32)
    print("sent a two-fragment datagram to :80 with id %d" % ident)
    time.sleep(0.2)

    # 2. A real Modbus connection; watch our own frames for its sequence
    # numbers.
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    cap.bind((iface, 0))
    cap.settimeout(0.2)
    c = socket.create_connection((dst, 502), timeout=3)
    sport = c.getsockname()[1]
    read = struct.pack("!HHHBBHH", 1, 0, 6, 1, 3, 0, 1)
    c.sendall(read)
    answer = c.recv(256)
    print("read answered: %s" % answer.hex())
    time.sleep(0.2)
    nxt = ack = None
    end = time.time() + 1
    while time.time() < end:
        try:
            f, addr = cap.recvfrom(65535)
        except socket.timeout:
            break
        if f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        if len(ip) < 40 or ip[9] != 6:
            continue
        hl = (ip[0] & 15) * 4
        tot = struct.unpack("!H", ip[2:4])[0]
        t = ip[hl:tot]
        sp, dp, seq, a = struct.unpack("!HHII", t[:12])
        dlen = len(t) - (t[12] >> 4) * 4
        if sp == sport and dp == 502:  # ours
            nxt = (seq + dlen) & 0xFFFFFFFF
        elif sp == 502 and dp == sport:  # the PLC's
            ack = (seq + dlen + (1 if t[13] & 0x03 else 0)) & 0xFFFFFFFF
    if nxt is None or ack is None:
        print("could not follow the connection")
        return 1

    # 3. The segment: TCP header + read in the first fragment (32 bytes),
    # the FC 6 write in the second, same IP id as the :80 datagram.
    write = struct.pack("!HHHBBHH", 2, 0, 6, 1, 6, int(reg), int(value))
    seg = tcp(src, dst, sport, 502, nxt, ack, 0x18,
              struct.pack("!HHHBBHH", 3, 0, 6, 1, 3, 0, 1) + write)
    send_fragments(raw, eth, src, dst, ident, seg, 32)
    print("sent the fragmented read + write on port %d, id %d" % (sport, ident))
    time.sleep(0.5)
    c.close()
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "nd":
        nd(argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7]),
           argv[8])
        return 0
    if cmd == "sniff":
        sniff(argv[2], float(argv[3]), argv[4])
        return 0
    if cmd == "fragwrite":
        return fragwrite(*argv[2:9])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
