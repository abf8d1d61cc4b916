#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a pcap of a crane's traffic across its boundary (for `learn`).

  crane_pcap.py OUT.pcap [--extra-connection] [--unseen-write]

The HMI polls the hoist PLC over Modbus/TCP (reads: FC 3, FC 4) on two
connections and pings it; a camera streams to the video management system
(RTSP, TCP 554); an engineering laptop reads the PLC over S7comm (setup
communication, read variable); the PLC sends syslog (UDP 514) to the VMS;
two PLCs talk within their zone. --extra-connection adds the camera
opening TCP 22 on the PLC; --unseen-write adds a Modbus write (FC 6) on
a third HMI connection. Every frame has valid checksums and sequence
numbers that follow on, as a mirror port would see them.
"""
import struct
import sys

HOSTS = {
    "hmi": ("198.18.10.5", "02:00:00:00:10:05"),
    "vms": ("198.18.10.40", "02:00:00:00:10:40"),
    "plc": ("198.18.20.11", "02:00:00:00:20:11"),
    "plc2": ("198.18.20.12", "02:00:00:00:20:12"),
    "cam": ("198.18.21.7", "02:00:00:00:21:07"),
    "laptop": ("198.18.30.9", "02:00:00:00:30:09"),
}
GW = "02:00:00:00:00:01"
T0 = 1796200000.0  # 2026-12-02T...Z

frames = []
clock = [T0]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def mac(m):
    return bytes.fromhex(m.replace(":", ""))


def frame(src, dst, proto, l4):
    s, d = HOSTS[src], HOSTS[dst]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64,
                     proto, 0, ip4(s[0]), ip4(d[0]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    clock[0] += 0.01
    frames.append((clock[0], mac(GW) + mac(s[1]) + b"\x08\x00" + ip + l4))


def l4sum(src, dst, proto, l4):
    ph = ip4(HOSTS[src][0]) + ip4(HOSTS[dst][0]) + struct.pack("!BBH", 0, proto, len(l4))
    return csum(ph + l4)


def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    seg = h + data
    c = l4sum(src, dst, 6, seg)
    frame(src, dst, 6, seg[:16] + struct.pack("!H", c) + seg[18:])


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4sum(src, dst, 17, seg) or 0xFFFF
    frame(src, dst, 17, seg[:6] + struct.pack("!H", c) + seg[8:])


def icmp_echo(src, dst, typ, ident, seq):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + b"ping"
    frame(src, dst, 1, m[:2] + struct.pack("!H", csum(m)) + m[4:])


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def session(cli, srv, sport, dport, exchanges):
    """A TCP connection: handshake, request/response pairs, close."""
    c, s = 1000, 5000
    tcp(cli, srv, sport, dport, c, 0, SYN)
    tcp(srv, cli, dport, sport, s, c + 1, SYN | ACK)
    c += 1
    s += 1
    tcp(cli, srv, sport, dport, c, s, ACK)
    for req, rsp in exchanges:
        if req:
            tcp(cli, srv, sport, dport, c, s, ACK | PSH, req)
            c += len(req)
        if rsp:
            tcp(srv, cli, dport, sport, s, c, ACK | PSH, rsp)
            s += len(rsp)
    tcp(cli, srv, sport, dport, c, s, FIN | ACK)
    tcp(srv, cli, dport, sport, s, c + 1, FIN | ACK)
    tcp(cli, srv, sport, dport, c + 1, s + 1, ACK)


def mb(tid, fc, body=b"\x00\x00\x00\x01"):
    pdu = bytes([fc]) + body
    return struct.pack("!HHHB", tid, 0, len(pdu) + 1, 1) + pdu


def s7(func, rosctr=1):
    param = bytes([func, 0x00, 0x00, 0x01, 0x00, 0xF0, 0x00, 0x00]) if func == 0xF0 else \
        bytes([func, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00])
    hdr = struct.pack("!BBHHHH", 0x32, rosctr, 0, 1, len(param), 0)
    pdu = b"\x02\xf0\x80" + hdr + param  # COTP DT
    return struct.pack("!BBH", 3, 0, 4 + len(pdu)) + pdu


def cotp_cr():
    pdu = bytes([0x11, 0xE0, 0, 0, 0, 1, 0, 0xC0, 1, 0x0A, 0xC1, 2, 1, 0, 0xC2, 2, 1, 2])
    return struct.pack("!BBH", 3, 0, 4 + len(pdu)) + pdu


def main():
    out = sys.argv[1]
    extra = "--extra-connection" in sys.argv
    write = "--unseen-write" in sys.argv
    session("hmi", "plc", 40001, 502, [(mb(1, 3), mb(1, 3, b"\x02\x00\x07")),
                                       (mb(2, 4), mb(2, 4, b"\x02\x00\x01"))])
    icmp_echo("hmi", "plc", 8, 77, 1)
    icmp_echo("plc", "hmi", 0, 77, 1)
    session("cam", "vms", 50000, 554, [(b"OPTIONS rtsp://vms/ RTSP/1.0\r\n\r\n",
                                        b"RTSP/1.0 200 OK\r\n\r\n")])
    session("laptop", "plc", 41000, 102, [(cotp_cr(), None), (s7(0xF0), None),
                                          (s7(0x04), None)])
    udp("plc", "vms", 514, 514, b"<13>hoist: brake released")
    udp("plc", "vms", 514, 514, b"<13>hoist: brake applied")
    session("plc", "plc2", 43000, 502, [(mb(9, 3), None)])
    session("hmi", "plc", 40002, 502, [(mb(3, 3), mb(3, 3, b"\x02\x00\x07"))])
    if extra:
        session("cam", "plc", 50100, 22, [(b"SSH-2.0-x\r\n", None)])
    if write:
        session("hmi", "plc", 40003, 502, [(mb(4, 6, b"\x00\x01\x00\x2a"), None)])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in frames:
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(fr), len(fr)))
            f.write(fr)


main()
