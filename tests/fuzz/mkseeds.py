#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the seed corpus of the pcap fuzz target (tests/fuzz/corpus/pcap).

Every seed is made here, from scratch: no capture from elsewhere is copied
into the tree. The frames follow the fuzz target's built-in policy
(tests/fuzz/fuzz_pcap.c) so that the fuzzer starts from frames that reach
deep into the judgement (flows, replies, ICS inspection, fragments), and
the containers cover what libpcap reads: pcap in both byte orders, with
micro- and nanosecond stamps, pcapng with enhanced and simple packet
blocks, other link types, and broken files.

    tests/fuzz/mkseeds.py [DIR]     (default tests/fuzz/corpus/pcap)

The output is deterministic; rerun it after changing a seed and commit
the result.
"""
import os
import struct
import sys

HMI, VMS, PLC, DRIVE, CAM, MGT = ("198.18.10.5", "198.18.10.40", "198.18.20.11",
                                  "198.18.22.7", "198.18.21.7", "198.18.30.9")
HMI6, PLC6, MGT6 = "2001:2:0:10::5", "2001:2:0:20::11", "2001:2:0:30::9"


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def station(addr):
    """The MAC convention of the tests: 02:00 + the last four address bytes."""
    return b"\x02\x00" + addr[-4:]


def eth(src_addr, etype, vlans=(), tpid=0x8100):
    e = b"\x02\x00\x00\x00\x00\x01" + station(src_addr)
    for v in vlans:
        e += struct.pack("!HH", tpid, v)
    return e + struct.pack("!H", etype)


def tcp(sport, dport, flags, payload=b"", seq=1000, ack=0):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                       65535, 0, 0) + payload


def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(t, code, ident=1, seq=1, payload=b""):
    h = struct.pack("!BBHHH", t, code, 0, ident, seq) + payload
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def v4(src, dst, proto, l4, ident=1, frag=0, mf=False, vlans=(), opts=b""):
    s, d = ip4(src), ip4(dst)
    ihl = 5 + len(opts) // 4
    off = frag | (0x2000 if mf else 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(l4), ident,
                    off, 64, proto, 0, s, d) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return eth(s, 0x0800, vlans) + h + l4


def v6(src, dst, nh, l4, ext=b"", hlim=64, vlans=()):
    s, d = ip6(src), ip6(dst)
    h = struct.pack("!IHBB", 6 << 28, len(ext) + len(l4), nh, hlim) + s + d
    return eth(s, 0x86DD, vlans) + h + ext + l4


def ext_hdr(nh, length=0):
    """A hop-by-hop / destination options header of (length + 1) * 8 bytes."""
    body = bytes([nh, length]) + b"\x01" + bytes([4 + 8 * length]) + b"\0" * (4 + 8 * length)
    return body[:(length + 1) * 8]


def frag6(nh, off, more, ident):
    return struct.pack("!BBHI", nh, 0, (off << 3) | (1 if more else 0), ident)


def arp(sender, target, op=1):
    s, t = ip4(sender), ip4(target)
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + station(s) + s + b"\0" * 6 + t
    return eth(s, 0x0806) + body


def mbap(tid, fc, data=b"", unit=1):
    pdu = bytes([unit, fc]) + data
    return struct.pack("!HHH", tid, 0, len(pdu)) + pdu


def tpkt(cotp, s7=b""):
    body = cotp + s7
    return struct.pack("!BBH", 3, 0, 4 + len(body)) + body


COTP_DT = b"\x02\xf0\x80"
COTP_CR = b"\x11\xe0\x00\x00\x00\x01\x00\xc1\x02\x01\x00\xc2\x02\x01\x02\xc0\x01\x0a"


def s7_job(fn, param_extra=b"", data=b""):
    param = bytes([fn]) + param_extra
    return struct.pack("!BBHHHH", 0x32, 1, 0, 1, len(param), len(data)) + param + data


def s7_userdata(group):
    param = b"\x00\x01\x12\x04" + bytes([0x11, 0x40 | group, 0x01, 0x00])
    return struct.pack("!BBHHHH", 0x32, 7, 0, 1, len(param), 0) + param


SYN, ACK, PSH, FIN, RST = 2, 16, 8, 1, 4

# ------------------------------------------------------------ frames


def conversation_modbus():
    return [
        v4(HMI, PLC, 6, tcp(40000, 502, SYN)),
        v4(PLC, HMI, 6, tcp(502, 40000, SYN | ACK)),
        v4(HMI, PLC, 6, tcp(40000, 502, ACK)),
        v4(HMI, PLC, 6, tcp(40000, 502, PSH | ACK, mbap(1, 3, b"\x00\x00\x00\x0a"))),
        v4(PLC, HMI, 6, tcp(502, 40000, PSH | ACK, mbap(1, 3, b"\x02\x00\x01"))),
        v4(HMI, PLC, 6, tcp(40000, 502, PSH | ACK, mbap(2, 6, b"\x00\x01\x00\x02"))),
        v4(HMI, PLC, 6, tcp(40000, 502, PSH | ACK, mbap(3, 43, b"\x0e\x01\x00"))),
        v4(HMI, PLC, 6, tcp(40000, 502, PSH | ACK,
                            mbap(4, 1, b"\0\0\0\1") + mbap(5, 4, b"\0\0\0\1"))),
        v4(HMI, PLC, 6, tcp(40000, 502, FIN | ACK)),
    ]


def conversation_s7():
    return [
        v4(MGT, PLC, 6, tcp(40001, 102, SYN)),
        v4(PLC, MGT, 6, tcp(102, 40001, SYN | ACK)),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_CR))),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_DT, s7_job(0xF0, b"\0\0\1\0\1\3\xc0")))),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_DT, s7_job(0x04, b"\1\x12\x0a\x10\2\0\1\0\1\x84\0\0\0")))),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_DT, s7_job(0x29, b"\0\0\0\0\0\x09P_PROGRAM")))),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_DT, s7_userdata(4)))),
        v4(MGT, PLC, 6, tcp(40001, 102, PSH | ACK, tpkt(COTP_DT, b"\x72\x01\x00\x10" + b"\0" * 12))),
        v4(MGT, PLC, 6, tcp(40001, 1102, PSH | ACK, tpkt(COTP_DT, s7_job(0x05)))),
    ]


def misc_v4():
    return [
        v4(HMI, PLC, 1, icmp(8, 0, 7, 1, b"ping")),
        v4(PLC, HMI, 1, icmp(0, 0, 7, 1, b"ping")),
        v4(PLC, DRIVE, 17, udp(2222, 2222, b"io"), vlans=(100,)),
        v4(DRIVE, PLC, 17, udp(2222, 2222, b"io"), vlans=(100,)),
        v4(DRIVE, PLC, 17, udp(2222, 2222, b"io"), vlans=(100, 7)),
        v4(DRIVE, PLC, 17, udp(2222, 2222, b"io"), vlans=(300,)),
        v4(CAM, VMS, 6, tcp(40002, 554, SYN)),
        v4(CAM, VMS, 6, tcp(40002, 8005, SYN)),
        v4("198.18.99.1", PLC, 17, udp(1, 2)),
        v4(PLC, HMI, 6, tcp(40003, 22, SYN)),
        arp(HMI, "198.18.10.1"),
        arp(PLC, "198.18.20.1", op=2),
        v4(HMI, PLC, 17, udp(5000, 5000, b"x" * 40), opts=b"\x01\x01\x01\x00"),
    ]


def fragments():
    l4 = udp(6000, 2222, b"F" * 32)
    return [
        v4(PLC, DRIVE, 17, l4[:24], ident=77, mf=True),
        v4(PLC, DRIVE, 17, l4[24:], ident=77, frag=3),
        v4(PLC, DRIVE, 17, l4[16:], ident=77, frag=2),   # overlap
        v4(PLC, DRIVE, 17, l4[24:], ident=78, frag=3),   # no first
        v4(HMI, PLC, 6, tcp(40004, 502, PSH | ACK, mbap(9, 3, b"\0\0\0\1"))[:24], ident=79, mf=True),
        v4(HMI, PLC, 6, b"\0" * 16, ident=79, frag=3),
    ]


def misc_v6():
    hbh = ext_hdr(58)
    chain = b""
    for i in range(9):          # past the walk limit of 8
        chain += ext_hdr(60 if i < 8 else 58)
    routing = bytes([58, 0, 4, 1]) + b"\0" * 4
    ns = struct.pack("!BBHI", 135, 0, 0, 0) + ip6("2001:2:0:10::1")
    return [
        v6(HMI6, PLC6, 58, icmp(128, 0, 9, 1)),
        v6(PLC6, HMI6, 58, icmp(129, 0, 9, 1)),
        v6(HMI6, "ff02::1:ff00:1", 58, ns, hlim=255),
        v6(HMI6, PLC6, 0, icmp(128, 0, 9, 2), ext=hbh),
        v6(HMI6, PLC6, 60, icmp(128, 0, 9, 3), ext=chain),
        v6(HMI6, PLC6, 43, icmp(128, 0, 9, 4), ext=routing),
        v6(MGT6, PLC6, 44, tcp(40005, 22, SYN)[:8], ext=frag6(6, 0, True, 5)),
        v6(MGT6, PLC6, 44, tcp(40005, 22, SYN)[8:], ext=frag6(6, 1, False, 5)),
        v6(MGT6, PLC6, 51, tcp(40006, 22, SYN), ext=bytes([6, 1]) + b"\0" * 10),
    ]


def broken():
    good = v4(HMI, PLC, 6, tcp(40000, 502, SYN))
    lied = bytearray(good)
    lied[16:18] = struct.pack("!H", 1500)          # IPv4 total length lies
    ihl = bytearray(good)
    ihl[14] = 0x4f                                 # IHL past the frame
    doff = bytearray(good)
    doff[14 + 20 + 12] = 0xf0                      # TCP data offset 15
    ulen = bytearray(v4(HMI, PLC, 17, udp(1, 2, b"abc")))
    ulen[14 + 20 + 4:14 + 20 + 6] = struct.pack("!H", 4)
    mb = bytearray(v4(HMI, PLC, 6, tcp(40000, 502, PSH | ACK, mbap(1, 3, b"\0\0\0\1"))))
    mb[-8:-6] = struct.pack("!H", 200)             # MBAP length lies
    return [good[:13], good[:14], good[:20], good[:34], good[:40], bytes(lied),
            bytes(ihl), bytes(doff), bytes(ulen), bytes(mb),
            eth(ip4(HMI), 0x88CC) + b"\0" * 30,
            eth(ip4(HMI), 0x8100) + b"\x00",
            eth(ip4(HMI), 0x0800, vlans=(0,), tpid=0x88a8) + b"\x45" + b"\0" * 19]


# ------------------------------------------------------------ containers


def pcap(frames, endian="<", nsec=False, linktype=1, snaplen=65535, lie=False):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, f in enumerate(frames):
        caplen = len(f)
        orig = caplen + (100 if lie and i % 2 else 0)
        out += struct.pack(endian + "IIII", 1700000000 + i, i * 1000, caplen, orig) + f
    return out


def pcapng(frames, simple=False, linktype=1):
    def block(btype, body):
        pad = (-len(body)) % 4
        length = 12 + len(body) + pad
        return struct.pack("<II", btype, length) + body + b"\0" * pad + struct.pack("<I", length)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", linktype, 0, 0))
    out = shb + idb
    for i, f in enumerate(frames):
        if simple:
            out += block(3, struct.pack("<I", len(f)) + f)
        else:
            out += block(6, struct.pack("<IIIII", 0, 0, i, len(f), len(f)) + f)
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "pcap")
    os.makedirs(d, exist_ok=True)
    seeds = {
        "modbus.pcap": pcap(conversation_modbus()),
        "modbus-be.pcap": pcap(conversation_modbus(), endian=">"),
        "s7comm.pcap": pcap(conversation_s7()),
        "s7comm-nsec.pcap": pcap(conversation_s7(), nsec=True),
        "v4-misc.pcap": pcap(misc_v4()),
        "fragments.pcap": pcap(fragments()),
        "v6.pcap": pcap(misc_v6()),
        "broken-frames.pcap": pcap(broken(), lie=True),
        "mixed.pcapng": pcapng(conversation_modbus()[:4] + misc_v6()[:3] + fragments()[:2]),
        "simple.pcapng": pcapng(misc_v4()[:4], simple=True),
        "s7comm.pcapng": pcapng(conversation_s7()),
        "linktype-raw.pcap": pcap([f[14:] for f in misc_v4()[:3]], linktype=101),
        "linktype-raw.pcapng": pcapng([f[14:] for f in misc_v4()[:3]], linktype=101),
        "snaplen-64.pcap": pcap([f[:64] for f in conversation_s7()], snaplen=64),
        "empty.pcap": pcap([]),
        "truncated-header.pcap": pcap(misc_v4())[:20],
        "truncated-record.pcap": pcap(misc_v4())[:-7],
        "one-arp.pcap": pcap([arp(HMI, "198.18.10.1")]),
        "vlan-qinq.pcap": pcap([misc_v4()[4], misc_v4()[5], broken()[-1]]),
    }
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), d))


if __name__ == "__main__":
    main()
