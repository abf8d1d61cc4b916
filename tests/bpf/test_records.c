// SPDX-License-Identifier: GPL-2.0
/*
 * Counting on the connection entry (struct cg_conn_count), through the
 * real program: frames and bytes that pass from each end, when the
 * connection started, how it ended (FIN, RST), and on an inspected flow
 * its requests per function class, the refused ones and the functions
 * named. Dropped frames are not counted; a gate built without counting
 * (cfg_conn_count = 0) counts nothing.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "frames.h"
#include "gate.h"
#include "harness.h"
#include "ics.h"

CG_TEST_GLOBALS;

#define HMI "198.18.10.5"
#define PLC "198.18.20.10"

static char ifnames[2][CG_IFNAME_MAX] = {"biz0", "crane0"};

static const char *policy =
	"version: 1\nname: records\nzones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - {name: web, from: business, to: control, proto: tcp, ports: "
	"[80]}\n"
	"  - {name: stream, from: business, to: control, proto: udp, ports: "
	"[5004]}\n"
	"  - {name: mb, from: business, to: control, proto: tcp, ports: "
	"[502], modbus: read-only}\n";

struct inst {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
	int conns;
};

static bool load(struct inst *in, bool no_count)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.record = true, .no_conn_count = no_count};
	int err;

	err = cg_policy_parse("test.yaml", policy, strlen(policy), &in->p, &d);
	if (!err)
		err = cg_compile(in->p, &in->c, &d);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return false;
	if (!ASSERT_OK(cg_gate_load(in->c, &o, &in->g), "instance loads"))
		return false;
	in->conns = cg_gate_map_fd(in->g, "conns");
	return ASSERT_TRUE(in->conns >= 0, "conns map");
}

static void unload(struct inst *in)
{
	cg_gate_free(in->g);
	cg_compiled_free(in->c);
	cg_policy_free(in->p);
}

/* A TCP segment; its reason (or -1), and its length in *len. */
static int tcp(struct inst *in, bool from_hmi, uint16_t hport, uint16_t pport,
	       uint8_t flags, const uint8_t *pl, size_t n, size_t *len)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_event ev;
	int action;

	if (from_hmi)
		cg_frame_tcp(&s, HMI, PLC, hport, pport, flags);
	else
		cg_frame_tcp(&s, PLC, HMI, pport, hport, flags);
	/* The opener's stream: sequence numbers that follow on. */
	s.tcp_seq = (from_hmi ? 1000 : 5000) + !(flags & CG_TCP_SYN);
	s.tcp_ack = from_hmi ? 5001 : 1001;
	s.payload = pl;
	s.payload_len = n;
	*len = cg_frame_build(&s, buf, sizeof(buf));
	cg_frame_station_mac(buf, *len);
	if (cg_gate_test_run(in->g,
			     if_nametoindex(from_hmi ? "biz0" : "crane0"), buf,
			     *len, &ev, &action))
		return -1;
	return ev.reason;
}

/* The entry of the connection HMI:hport <-> PLC:pport (proto). */
static bool entry(struct inst *in, uint8_t proto, uint16_t hport,
		  uint16_t pport, struct cg_conn_val *v, int *hmi_end)
{
	struct cg_conn_key k, prev;
	bool first = true;

	while (!bpf_map_get_next_key(in->conns, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (k.proto != proto)
			continue;
		if (k.aport == hport && k.bport == pport)
			*hmi_end = 0;
		else if (k.aport == pport && k.bport == hport)
			*hmi_end = 1;
		else
			continue;
		return !bpf_map_lookup_elem(in->conns, &k, v);
	}
	return false;
}

static void test_tcp(struct inst *in)
{
	uint8_t data[100] = {0}, big[300] = {0};
	unsigned long long fwd_b = 0, rev_b = 0;
	struct cg_conn_val v;
	size_t len;
	int he;

	ASSERT_EQ(tcp(in, true, 40000, 80, CG_TCP_SYN, NULL, 0, &len),
		  CG_R_ALLOWED, "tcp: SYN allowed");
	fwd_b += len;
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_SYN | CG_TCP_ACK, NULL, 0,
		      &len),
		  CG_R_REPLY, "tcp: SYN-ACK reply");
	rev_b += len;
	ASSERT_EQ(
		tcp(in, true, 40000, 80, CG_TCP_ACK, data, sizeof(data), &len),
		CG_R_ALLOWED, "tcp: data allowed");
	fwd_b += len;
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_ACK, big, sizeof(big), &len),
		  CG_R_REPLY, "tcp: reply data");
	rev_b += len;
	/* A reply that opens is no reply: dropped, not counted. */
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_SYN, NULL, 0, &len),
		  CG_R_NO_RULE, "tcp: a SYN back is no-rule");
	if (!ASSERT_TRUE(entry(in, 6, 40000, 80, &v, &he), "tcp: entry"))
		return;
	ASSERT_EQ(v.opener, he, "tcp: the HMI opened it");
	ASSERT_EQ(v.cnt.packets[he], 2, "tcp: 2 frames from the opener");
	ASSERT_EQ(v.cnt.packets[!he], 2, "tcp: 2 frames from the responder");
	ASSERT_EQ(v.cnt.bytes[he], fwd_b, "tcp: the opener's bytes");
	ASSERT_EQ(v.cnt.bytes[!he], rev_b, "tcp: the responder's bytes");
	ASSERT_TRUE(v.cnt.start != 0 && v.cnt.start <= v.last,
		    "tcp: start time set, not after the last frame");
	ASSERT_EQ(v.closing, 0, "tcp: not ended yet");
	ASSERT_EQ(tcp(in, true, 40000, 80, CG_TCP_FIN | CG_TCP_ACK, NULL, 0,
		      &len),
		  CG_R_ALLOWED, "tcp: FIN allowed");
	entry(in, 6, 40000, 80, &v, &he);
	ASSERT_EQ(v.closing, CG_CLOSE_FIN, "tcp: FIN seen");
	ASSERT_EQ(v.cnt.packets[he], 3, "tcp: the FIN counted");
	ASSERT_EQ(tcp(in, false, 40000, 80, CG_TCP_RST, NULL, 0, &len),
		  CG_R_REPLY, "tcp: RST reply");
	entry(in, 6, 40000, 80, &v, &he);
	ASSERT_EQ(v.closing, CG_CLOSE_FIN | CG_CLOSE_RST, "tcp: RST seen");
}

static void test_udp(struct inst *in)
{
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_conn_val v;
	struct cg_event ev;
	int action, he, i;
	size_t len;

	for (i = 0; i < 3; i++) {
		cg_frame_udp(&s, HMI, PLC, 41000, 5004);
		len = cg_frame_build(&s, buf, sizeof(buf));
		cg_frame_station_mac(buf, len);
		cg_gate_test_run(in->g, if_nametoindex("biz0"), buf, len, &ev,
				 &action);
	}
	if (!ASSERT_TRUE(entry(in, 17, 41000, 5004, &v, &he), "udp: entry"))
		return;
	ASSERT_EQ(v.cnt.packets[he], 3, "udp: 3 datagrams");
	ASSERT_EQ(v.cnt.bytes[he], 3 * len, "udp: their bytes");
	ASSERT_EQ(v.cnt.packets[!he], 0, "udp: none back");
}

static void test_modbus(struct inst *in)
{
	uint8_t rd[64], wr[64];
	size_t nr = cg_modbus_request(rd, sizeof(rd), 1, 1, 3, 0);
	size_t nw = cg_modbus_request(wr, sizeof(wr), 2, 1, 6, 0);
	struct cg_conn_val v;
	size_t len;
	int he;

	tcp(in, true, 42000, 502, CG_TCP_SYN, NULL, 0, &len);
	tcp(in, false, 42000, 502, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	ASSERT_EQ(tcp(in, true, 42000, 502, CG_TCP_ACK | CG_TCP_PSH, rd, nr,
		      &len),
		  CG_R_ALLOWED, "modbus: a read passes");
	/* Same sequence number, other bytes: the stream rule would drop a
	 * rewrite, so the write goes on a connection of its own. */
	tcp(in, true, 42001, 502, CG_TCP_SYN, NULL, 0, &len);
	tcp(in, false, 42001, 502, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	ASSERT_EQ(tcp(in, true, 42001, 502, CG_TCP_ACK | CG_TCP_PSH, wr, nw,
		      &len),
		  CG_R_ICS_DENIED, "modbus: a write is refused");
	if (ASSERT_TRUE(entry(in, 6, 42000, 502, &v, &he), "modbus: entry")) {
		ASSERT_EQ(v.cnt.requests[CG_FC_READ], 1, "modbus: 1 read");
		ASSERT_EQ(v.cnt.refused, 0, "modbus: none refused");
		ASSERT_EQ(v.cnt.ics_proto, CG_ICS_PROTO_MODBUS,
			  "modbus: protocol");
		ASSERT_EQ(v.cnt.functions[0], 1ull << 3,
			  "modbus: function 3 seen, no other");
		ASSERT_EQ(v.cnt.packets[he], 2, "modbus: SYN and read counted");
	}
	if (ASSERT_TRUE(entry(in, 6, 42001, 502, &v, &he), "modbus: entry 2")) {
		ASSERT_EQ(v.cnt.requests[CG_FC_WRITE], 1, "modbus: 1 write");
		ASSERT_EQ(v.cnt.refused, 1, "modbus: refused once");
		ASSERT_EQ(v.cnt.functions[0], 1ull << 6, "modbus: function 6");
		ASSERT_EQ(v.cnt.packets[he], 1,
			  "modbus: the refused write not counted as passed");
	}
}

static void test_off(void)
{
	struct inst in = {};
	struct cg_conn_val v;
	size_t len;
	int he;

	if (!load(&in, true))
		goto out;
	tcp(&in, true, 40000, 80, CG_TCP_SYN, NULL, 0, &len);
	tcp(&in, false, 40000, 80, CG_TCP_SYN | CG_TCP_ACK, NULL, 0, &len);
	if (ASSERT_TRUE(entry(&in, 6, 40000, 80, &v, &he), "off: entry"))
		ASSERT_EQ(v.cnt.packets[0] + v.cnt.packets[1] + v.cnt.start, 0,
			  "off: nothing counted");
out:
	unload(&in);
}

int main(void)
{
	struct inst in = {};

	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 2), "private namespace"))
		return cg_test_done();
	if (load(&in, false)) {
		test_tcp(&in);
		test_udp(&in);
		test_modbus(&in);
	}
	unload(&in);
	test_off();
	return cg_test_done();
}
