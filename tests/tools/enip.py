#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small EtherNet/IP (CIP explicit messaging) responder and client for
the end-to-end tests, and a pcap writer.

  enip.py server PORT LOG STATE
      Answer RegisterSession, ListIdentity and SendRRData on TCP PORT: Read
      Tag and Write Tag of DINT tags, Get_Attribute_Single, Stop and Start
      of the controller, Set_Attribute_Single, Multiple_Service_Packet and
      Unconnected_Send (the requests they carry are run). Every CIP request
      it runs is a line "request 0xSS [TAG]" in LOG; after each request the
      tags and the controller's mode are written to STATE ("NAME=VALUE",
      "mode=run|stop").
  enip.py client ADDR PORT OP [ARGS]
      One connection: RegisterSession, then one request; prints the answer
      and exits 0, or exits 3 when no answer comes within 2 s. OP: identity,
      read TAG, write TAG VALUE, get-attr, set-attr, stop, msp-write TAG
      VALUE, msp-read TAG TAG, us-read TAG, us-write TAG VALUE.
  enip.py pcap OUT CAPTURE [--reads-only]
      A conversation HMI -> PLC on 44818, with valid checksums and sequence
      numbers, in which the Stop request of CAPTURE (its first TCP payload,
      a SendUnitData) is sent after a RegisterSession and a Read Tag, then
      a Write Tag. Requests the gate must refuse do not move the client's
      sequence: the next request reuses it, as after a drop. With
      --reads-only: the RegisterSession and the reads alone.
"""
import socket
import struct
import sys
import threading

# ---- CIP encoding ----------------------------------------------------------


def encap(cmd, data, session=0):
    return struct.pack("<HHII8sI", cmd, len(data), session, 0, b"cgtest\0\0", 0) + data


def cpf_rr(cip):
    """SendRRData: interface handle, timeout, null address + unconnected data."""
    return struct.pack("<IHHHHHH", 0, 10, 2, 0, 0, 0xB2, len(cip)) + cip


def tag_path(tag):
    t = tag.encode()
    p = bytes([0x91, len(t)]) + t + (b"\0" if len(t) % 2 else b"")
    return bytes([len(p) // 2]) + p


def class_path(cls, inst=1, attr=None):
    p = bytes([0x20, cls, 0x24, inst]) + (bytes([0x30, attr]) if attr is not None else b"")
    return bytes([len(p) // 2]) + p


def read_tag(tag):
    return bytes([0x4C]) + tag_path(tag) + struct.pack("<H", 1)


def write_tag(tag, value):
    return bytes([0x4D]) + tag_path(tag) + struct.pack("<HHi", 0xC4, 1, value)


def msp(reqs):
    off = 2 + 2 * len(reqs)
    offs = []
    for r in reqs:
        offs.append(off)
        off += len(r)
    body = struct.pack("<H", len(reqs)) + b"".join(struct.pack("<H", o) for o in offs)
    return bytes([0x0A]) + class_path(0x02) + body + b"".join(reqs)


def unconnected_send(inner):
    d = struct.pack("<BBH", 0x0A, 0x0E, len(inner)) + inner
    if len(inner) % 2:
        d += b"\0"
    d += bytes([1, 0, 0x01, 0x00])  # route: port 1, slot 0
    return bytes([0x52]) + class_path(0x06) + d


# ---- server -----------------------------------------------------------------


class Plc:
    def __init__(self, log, state):
        self.log, self.state = log, state
        self.tags = {"Hoist_Setpoint": 10, "Trolley_Pos": 250}
        self.mode = "run"
        self.lock = threading.Lock()
        self.save()

    def save(self):
        with open(self.state + ".tmp", "w") as f:
            for k, v in sorted(self.tags.items()):
                f.write("%s=%d\n" % (k, v))
            f.write("mode=%s\n" % self.mode)
        import os
        os.replace(self.state + ".tmp", self.state)

    def note(self, svc, what=""):
        with open(self.log, "a") as f:
            f.write(("request 0x%02x %s" % (svc, what)).rstrip() + "\n")

    def run(self, m):
        """One CIP request: its response."""
        svc, words = m[0], m[1]
        path, data = m[2:2 + 2 * words], m[2 + 2 * words:]
        tag = None
        if path[:1] == b"\x91":
            tag = path[2:2 + path[1]].decode(errors="replace")
        self.note(svc, tag or "")
        ok = bytes([svc | 0x80, 0, 0, 0])
        if svc == 0x4C and tag in self.tags:
            return ok + struct.pack("<Hi", 0xC4, self.tags[tag])
        if svc == 0x4D and tag is not None:
            self.tags[tag] = struct.unpack("<i", data[4:8])[0]
            return ok
        if svc == 0x07:
            self.mode = "stop"
            return ok
        if svc == 0x06:
            self.mode = "run"
            return ok
        if svc in (0x0E, 0x01):
            return ok + b"\x01\x00"
        if svc == 0x10:
            return ok
        if svc == 0x0A:
            n = struct.unpack("<H", data[:2])[0]
            offs = [struct.unpack("<H", data[2 + 2 * i:4 + 2 * i])[0] for i in range(n)] + [len(data)]
            out = [self.run(data[offs[i]:offs[i + 1]]) for i in range(n)]
            o = 2 + 2 * n
            hdr = struct.pack("<H", n)
            for r in out:
                hdr += struct.pack("<H", o)
                o += len(r)
            return ok + hdr + b"".join(out)
        if svc == 0x52 and path[:2] == b"\x20\x06":
            size = struct.unpack("<H", data[2:4])[0]
            return self.run(data[4:4 + size])
        return bytes([svc | 0x80, 0, 0x08, 0])  # service not supported

    def serve(self, conn):
        conn.settimeout(30)
        buf = b""
        try:
            while True:
                while len(buf) < 24 or len(buf) < 24 + struct.unpack("<H", buf[2:4])[0]:
                    d = conn.recv(4096)
                    if not d:
                        return
                    buf += d
                n = 24 + struct.unpack("<H", buf[2:4])[0]
                pkt, buf = buf[:n], buf[n:]
                cmd, _, session = struct.unpack("<HHI", pkt[:8])
                body = pkt[24:]
                with self.lock:
                    if cmd == 0x65:
                        conn.sendall(encap(0x65, body, 0x1234))
                    elif cmd == 0x63:
                        conn.sendall(encap(0x63, struct.pack("<HHH", 1, 0x0C, 2) + b"\x01\x00"))
                    elif cmd == 0x6F:
                        cip = body[16:16 + struct.unpack("<H", body[14:16])[0]]
                        rsp = self.run(cip)
                        self.save()
                        conn.sendall(encap(0x6F, cpf_rr(rsp), session))
        except (OSError, struct.error, IndexError):
            return
        finally:
            conn.close()


def server(port, log, state):
    plc = Plc(log, state)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=plc.serve, args=(c,), daemon=True).start()


# ---- client -----------------------------------------------------------------


def recv_packet(s):
    buf = b""
    while len(buf) < 24 or len(buf) < 24 + struct.unpack("<H", buf[2:4])[0]:
        d = s.recv(4096)
        if not d:
            raise EOFError
        buf += d
    return buf


def client(addr, port, op, args):
    s = socket.create_connection((addr, port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(encap(0x65, struct.pack("<HH", 1, 0)))
    session = struct.unpack("<I", recv_packet(s)[4:8])[0]
    if op == "identity":
        req = encap(0x63, b"")
    else:
        if op == "read":
            cip = read_tag(args[0])
        elif op == "write":
            cip = write_tag(args[0], int(args[1]))
        elif op == "get-attr":
            cip = bytes([0x0E]) + class_path(0x01, 1, 7)
        elif op == "set-attr":
            cip = bytes([0x10]) + class_path(0xF5, 1, 6) + b"\x05\x00crane"
        elif op == "stop":
            cip = bytes([0x07]) + class_path(0x8E)
        elif op == "msp-read":
            cip = msp([read_tag(t) for t in args])
        elif op == "msp-write":
            cip = msp([read_tag(args[0]), write_tag(args[0], int(args[1]))])
        elif op == "us-read":
            cip = unconnected_send(read_tag(args[0]))
        elif op == "us-write":
            cip = unconnected_send(write_tag(args[0], int(args[1])))
        else:
            sys.exit("unknown op " + op)
        req = encap(0x6F, cpf_rr(cip), session)
    s.sendall(req)
    s.settimeout(2)
    try:
        rsp = recv_packet(s)
    except (socket.timeout, EOFError):
        print("no answer")
        sys.exit(3)
    if op == "identity":
        print("identity")
        return
    cip = rsp[24 + 16:]
    if op in ("read", "us-read") and len(cip) >= 10 and cip[2] == 0:
        print(struct.unpack("<i", cip[6:10])[0])
    else:
        print("answered 0x%02x status %d" % (cip[0], cip[2]))


# ---- pcap ---------------------------------------------------------------------


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


HMI = ("198.18.10.5", "02:00:00:00:10:05")
PLC = ("198.18.20.11", "02:00:00:00:20:11")
GW = "02:00:00:00:00:01"


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def pcap(out, capture, reads_only=False):
    with open(capture, "rb") as f:
        d = f.read()
    link = struct.unpack("<I", d[20:24])[0]
    first = d[24 + 16:24 + 16 + struct.unpack("<I", d[24 + 8:24 + 12])[0]]
    assert link == 1, "an Ethernet capture"
    ip = first[14:]
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:]
    stop = ip[ihl + (tcp[12] >> 4) * 4:struct.unpack("!H", ip[2:4])[0]]
    frames = []

    def frame(src, dst, seg):
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0x4000, 64, 6, 0,
                          ip4(src[0]), ip4(dst[0]))
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        frames.append(bytes.fromhex(GW.replace(":", "")) + bytes.fromhex(src[1].replace(":", "")) +
                      b"\x08\x00" + iph + seg)

    def tcp_seg(src, dst, sport, dport, seq, ack, flags, data=b""):
        h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        ph = ip4(src[0]) + ip4(dst[0]) + struct.pack("!BBH", 0, 6, len(h) + len(data))
        c = csum(ph + h + data)
        frame(src, dst, h[:16] + struct.pack("!H", c) + h[18:] + data)

    SYN, ACK, PSH = 0x02, 0x10, 0x08
    c, s, sp = 1000, 7000, 49271
    tcp_seg(HMI, PLC, sp, 44818, c, 0, SYN)
    tcp_seg(PLC, HMI, 44818, sp, s, c + 1, SYN | ACK)
    c, s = c + 1, s + 1
    tcp_seg(HMI, PLC, sp, 44818, c, s, ACK)
    for req, rsp, passes in ((encap(0x65, b"\x01\x00\x00\x00"), encap(0x65, b"\x01\x00\x00\x00", 0x2A), True),
                             (encap(0x6F, cpf_rr(read_tag("Hoist_Setpoint")), 0x2A),
                              encap(0x6F, cpf_rr(b"\xcc\x00\x00\x00\xc4\x00\x0a\x00\x00\x00"), 0x2A), True),
                             (stop, None, False),
                             (encap(0x6F, cpf_rr(write_tag("Hoist_Setpoint", 99)), 0x2A), None, False),
                             (encap(0x6F, cpf_rr(read_tag("Trolley_Pos")), 0x2A), None, True)):
        if reads_only and not passes:
            continue
        tcp_seg(HMI, PLC, sp, 44818, c, s, ACK | PSH, req)
        if passes:
            c += len(req)
        if rsp:
            tcp_seg(PLC, HMI, 44818, sp, s, c, ACK | PSH, rsp)
            s += len(rsp)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1796200000 + i, 0, len(fr), len(fr)) + fr)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
    elif sys.argv[1] == "pcap":
        pcap(sys.argv[2], sys.argv[3], "--reads-only" in sys.argv[4:])
