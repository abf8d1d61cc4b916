// SPDX-License-Identifier: GPL-2.0
/*
 * The mutation test's frames and judging (mutate.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "mutate.h"

const char mut_fixed_policy[] =
	"version: 1\n"
	"name: mutate\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [gw0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  control:\n"
	"    interfaces: [gw1]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  drives:\n"
	"    interfaces: [gw1]\n"
	"    vlans: [100, 101]\n"
	"    networks: [198.18.22.0/24]\n"
	"  cctv:\n"
	"    interfaces: [gw2]\n"
	"    networks: [198.18.21.0/24]\n"
	"  mgmt:\n"
	"    interfaces: [gw3]\n"
	"    networks: [198.18.30.0/24, 2001:2:0:30::/64]\n"
	"hosts:\n"
	"  hmi: 198.18.10.5\n"
	"  plc: {address: 198.18.20.11, mac: \"02:00:c6:12:14:0b\"}\n"
	"flows:\n"
	"  - name: hmi-polls-plcs\n"
	"    from: hmi\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n"
	"  - name: hmi-pings-plcs\n"
	"    from: hmi\n"
	"    to: control\n"
	"    proto: icmp\n"
	"  - name: plc-to-drives\n"
	"    from: plc\n"
	"    to: drives\n"
	"    proto: udp\n"
	"    ports: [2222]\n"
	"  - name: mgmt-programs-plcs\n"
	"    from: mgmt\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [102]\n"
	"    s7comm: read-only\n"
	"  - name: mgmt-ssh\n"
	"    from: mgmt\n"
	"    to: [control, cctv]\n"
	"    proto: tcp\n"
	"    ports: [22]\n"
	"  - name: v6-pings\n"
	"    from: 2001:2:0:10::/64\n"
	"    to: control\n"
	"    proto: icmpv6\n"
	"  - name: v6-mgmt\n"
	"    from: 2001:2:0:30::/64\n"
	"    to: 2001:2:0:20::/64\n"
	"    proto: any\n"
	"  - name: cctv-streams\n"
	"    from: cctv\n"
	"    to: hmi\n"
	"    proto: udp\n"
	"    ports: [\"5000-5010\"]\n";

bool mut_verbose;
unsigned long mut_reported;
unsigned long mut_total_frames, mut_total_mismatches,
	mut_total_mismatches_known;

/* ------------------------------------------------------------ frames */

void mut_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t mut_modbus_adu(uint8_t *b, uint16_t tid, uint8_t fc, const uint8_t *data,
		      size_t dlen)
{
	mut_put16(b, tid);
	mut_put16(b + 2, 0);
	mut_put16(b + 4, (uint16_t)(2 + dlen));
	b[6] = 1;
	b[7] = fc;
	memcpy(b + 8, data, dlen);
	return 8 + dlen;
}

/* TPKT + COTP DT + S7 header + parameters. */
size_t mut_s7_pdu(uint8_t *b, uint8_t rosctr, const uint8_t *param, size_t plen)
{
	size_t len = 4 + 3 + 10 + plen;

	b[0] = 3;
	b[1] = 0;
	mut_put16(b + 2, (uint16_t)len);
	b[4] = 2;
	b[5] = 0xf0;
	b[6] = 0x80;
	b[7] = 0x32;
	b[8] = rosctr;
	mut_put16(b + 9, 0);
	mut_put16(b + 11, 1);
	mut_put16(b + 13, (uint16_t)plen);
	mut_put16(b + 15, 0);
	memcpy(b + 17, param, plen);
	return len;
}

size_t mut_cotp_cr(uint8_t *b)
{
	static const uint8_t cr[] = {0x03, 0x00, 0x00, 0x16, 0x11, 0xe0,
				     0x00, 0x00, 0x00, 0x01, 0x00, 0xc1,
				     0x02, 0x01, 0x00, 0xc2, 0x02, 0x01,
				     0x02, 0xc0, 0x01, 0x0a};

	memcpy(b, cr, sizeof(cr));
	return sizeof(cr);
}

bool mut_build(struct frame *f, struct cg_frame_spec *s, const char *ifname,
	       const char *what)
{
	f->ifname = ifname;
	snprintf(f->what, sizeof(f->what), "%s", what);
	f->len = cg_frame_build_layout(s, f->buf, sizeof(f->buf), &f->lay);
	f->has_lay = s->kind == CG_FRAME_IP;
	if (f->len)
		cg_frame_station_mac(f->buf, f->len);
	else if (strcmp(what, "frag4") && strcmp(what, "frag6") &&
		 strcmp(what, "ext6"))
		printf("# cannot build the frame '%s'\n", what);
	return f->len > 0;
}

/*
 * The valid frames every class starts from: at least one per verdict
 * reason the fixed policy can give, and every header kind.
 */
size_t mut_base_frames(struct frame *out, size_t cap)
{
	static uint8_t pay[16][128];
	static const uint8_t read_regs[] = {0, 0, 0, 10};
	static const uint8_t write_reg[] = {0, 1, 0, 2};
	static const uint8_t mei14[] = {14, 1, 0};
	static const uint8_t s7_setup[] = {0xf0, 0, 0, 1, 0, 1, 3, 0xc0};
	static const uint8_t s7_read[] = {0x04, 1, 0x12, 0x0a, 0x10, 2, 0,
					  1,	0, 1,	 0x84, 0,    0, 0};
	static const uint8_t s7_stop[] = {0x29, 0, 0, 0, 0, 0, 9, 'P', '_'};
	static const uint8_t s7_ud[] = {0, 1, 0x12, 4, 0x11, 0x44, 1, 0};
	struct cg_frame_spec s;
	size_t n = 0, pl;

#define ADD(ifn, what)                                                         \
	do {                                                                   \
		if (n < cap && mut_build(&out[n], &s, (ifn), (what)))          \
			n++;                                                   \
	} while (0)
#define ADD_ICS(ifn, what, kind)                                               \
	do {                                                                   \
		if (n < cap && mut_build(&out[n], &s, (ifn), (what)))          \
			out[n++].ics = (kind);                                 \
	} while (0)

	/*
	 * The requests follow their SYN in order (README step 11a): each
	 * starts where the last one that passed ended (the write is
	 * refused, so the next starts where it did).
	 */
	cg_frame_tcp(&s, HMI, PLC, 40000, 502, CG_TCP_SYN);
	s.tcp_seq = 999;
	ADD("gw0", "tcp syn hmi->plc:502");
	cg_frame_tcp(&s, PLC, HMI, 502, 40000, CG_TCP_SYN | CG_TCP_ACK);
	s.tcp_ack = 1000;
	ADD("gw1", "tcp syn-ack plc->hmi");
	pl = mut_modbus_adu(pay[0], 1, 3, read_regs, sizeof(read_regs));
	cg_frame_tcp(&s, HMI, PLC, 40000, 502, CG_TCP_PSH | CG_TCP_ACK);
	s.payload = pay[0];
	s.payload_len = pl;
	ADD_ICS("gw0", "modbus read", ICS_MODBUS);
	s.tcp_seq += (uint32_t)pl;
	pl = mut_modbus_adu(pay[1], 2, 6, write_reg, sizeof(write_reg));
	s.payload = pay[1];
	s.payload_len = pl;
	ADD_ICS("gw0", "modbus write", ICS_MODBUS);
	pl = mut_modbus_adu(pay[2], 3, 43, mei14, sizeof(mei14));
	pl += mut_modbus_adu(pay[2] + pl, 4, 4, read_regs, sizeof(read_regs));
	s.payload = pay[2];
	s.payload_len = pl;
	ADD_ICS("gw0", "modbus two adus", ICS_MODBUS);
	cg_frame_tcp(&s, PLC, HMI, 502, 40000, CG_TCP_PSH | CG_TCP_ACK);
	s.payload = pay[0];
	s.payload_len = 11;
	ADD("gw1", "modbus response");

	cg_frame_tcp(&s, MGT, PLC, 40001, 102, CG_TCP_SYN);
	s.tcp_seq = 999;
	ADD("gw3", "tcp syn mgmt->plc:102");
	cg_frame_tcp(&s, MGT, PLC, 40001, 102, CG_TCP_PSH | CG_TCP_ACK);
	s.payload = pay[3];
	s.payload_len = mut_cotp_cr(pay[3]);
	ADD_ICS("gw3", "cotp connection request", ICS_S7);
	s.tcp_seq += (uint32_t)s.payload_len;
	s.payload = pay[4];
	s.payload_len = mut_s7_pdu(pay[4], 1, s7_setup, sizeof(s7_setup));
	ADD_ICS("gw3", "s7 setup communication", ICS_S7);
	s.tcp_seq += (uint32_t)s.payload_len;
	s.payload = pay[5];
	s.payload_len = mut_s7_pdu(pay[5], 1, s7_read, sizeof(s7_read));
	ADD_ICS("gw3", "s7 read variable", ICS_S7);
	s.tcp_seq += (uint32_t)s.payload_len;
	s.payload = pay[6];
	s.payload_len = mut_s7_pdu(pay[6], 1, s7_stop, sizeof(s7_stop));
	ADD_ICS("gw3", "s7 plc stop", ICS_S7);
	s.payload = pay[7];
	s.payload_len = mut_s7_pdu(pay[7], 7, s7_ud, sizeof(s7_ud));
	ADD_ICS("gw3", "s7 userdata szl", ICS_S7);

	cg_frame_icmp(&s, HMI, PLC, 8, 0, 7);
	ADD("gw0", "icmp echo request");
	cg_frame_icmp(&s, PLC, HMI, 0, 0, 7);
	ADD("gw1", "icmp echo reply");
	cg_frame_udp(&s, PLC, DRIVE, 2222, 2222);
	s.payload = (const uint8_t *)"io-data";
	s.payload_len = 7;
	ADD("gw1", "udp plc->drive");
	cg_frame_udp(&s, DRIVE, PLC, 2222, 2222);
	s.n_tags = 1;
	s.tags[0].tci = 100;
	ADD("gw1", "udp drive->plc vlan 100");
	/* An ICMP error from the drive quoting the datagram above. */
	{
		struct frame q;
		struct cg_frame_spec qs;

		cg_frame_udp(&qs, PLC, DRIVE, 2222, 2222);
		if (mut_build(&q, &qs, "gw1", "quoted")) {
			memcpy(pay[8], q.buf + q.lay.l3_off, 28);
			cg_frame_icmp(&s, DRIVE, PLC, 3, 3, 0);
			s.n_tags = 1;
			s.tags[0].tci = 100;
			s.payload = pay[8];
			s.payload_len = 28;
			ADD("gw1", "icmp port unreachable vlan 100");
		}
	}
	cg_frame_udp(&s, CAM, HMI, 40002, 5005);
	s.ip4_opts_len = 8;
	ADD("gw2", "udp cctv->hmi, ipv4 options");
	cg_frame_tcp(&s, PLC, HMI, 40003, 22, CG_TCP_SYN);
	ADD("gw1", "tcp syn plc->hmi:22 (no-rule)");
	cg_frame_tcp(&s, "198.18.99.9", PLC, 40004, 502, CG_TCP_SYN);
	ADD("gw0", "spoofed source");
	cg_frame_tcp(&s, MGT, PLC, 40005, 22, CG_TCP_SYN);
	ADD("gw0", "multi-homed (mgmt address on gw0)");
	cg_frame_arp(&s, HMI, "198.18.10.1");
	ADD("gw0", "arp hmi");
	cg_frame_arp(&s, PLC, "198.18.20.1");
	ADD("gw1", "arp plc");

	cg_frame_icmp(&s, HMI6, PLC6, 128, 0, 9);
	ADD("gw0", "icmpv6 echo request");
	cg_frame_icmp(&s, HMI6, "ff02::1:ff00:1", 135, 0, 0);
	s.ttl = 255;
	s.payload = pay[9];
	s.payload_len = 16;
	ADD("gw0", "neighbour solicitation");
	cg_frame_tcp(&s, MGT6, PLC6, 40006, 8080, CG_TCP_SYN);
	s.n_ext = 2;
	s.ext[0].type = 0;
	s.ext[1].type = 60;
	s.ext[1].len = 1;
	ADD("gw3", "ipv6 tcp with hop-by-hop and destination options");
	cg_frame_udp(&s, MGT6, PLC6, 40007, 53);
	s.n_ext = 1;
	s.ext[0].type = 51;
	s.ext[0].len = 1;
	ADD("gw3", "ipv6 udp with ah");
	cg_frame_init(&s);
	s.kind = CG_FRAME_RAW;
	s.ethertype = 0x88cc;
	s.payload = pay[10];
	s.payload_len = 40;
	ADD("gw2", "lldp (ethertype)");
	cg_frame_tcp(&s, HMI, PLC, 40008, 502, CG_TCP_SYN);
	ADD("gw9", "unknown interface");
#undef ADD
#undef ADD_ICS
	return n;
}

/* ------------------------------------------------------------ judging */

const char *mut_reason_name(unsigned int r)
{
	return r < CG_R_MAX ? cg_reason_names[r] : "?";
}

bool mut_agrees(const struct cg_event *ev, int action,
		const struct cg_ref_result *res)
{
	/* deny: reset answers a refused request with a RST (XDP_TX). */
	int want_action = res->reset		      ? XDP_TX
			  : res->verdict == CG_V_PASS ? XDP_PASS
						      : XDP_DROP;

	if (ev->verdict != res->verdict || ev->reason != res->reason ||
	    ev->would != res->would || ev->flow != res->flow ||
	    action != want_action || !!(ev->flags & CG_EV_RESET) != res->reset)
		return false;
	if (ev->zone_from != CG_ZONE_NONE && res->zone_from != CG_ZONE_NONE &&
	    ev->zone_from != res->zone_from)
		return false;
	if (ev->zone_to != CG_ZONE_NONE && res->zone_to != CG_ZONE_NONE &&
	    ev->zone_to != res->zone_to)
		return false;
	return true;
}

int mut_run_begin(struct run *r, const char *policy_name, struct cg_policy *p,
		  const char *cls, uint64_t seed)
{
	struct cg_gate_opts go = {.record = true};
	struct cg_diags d = {.file = policy_name};
	struct cg_compiled *c = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	r->policy_name = policy_name;
	r->cls = cls;
	r->seed = seed;
	r->policy = p;
	err = cg_compile(p, &c, &d);
	if (!err)
		err = cg_gate_load(c, &go, &r->gate);
	if (err)
		cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	cg_compiled_free(c);
	if (!err) {
		r->ref = cg_ref_new(p);
		if (!r->ref)
			err = -ENOMEM;
	}
	if (err) {
		printf("# %s / %s: cannot load the instance: %s\n", policy_name,
		       cls, strerror(-err));
		r->failed = true;
	}
	return err;
}

/* Judge one frame on both sides; false on a harness failure. */
bool mut_judge(struct run *r, const char *ifname, const uint8_t *buf,
	       size_t len, const char *what)
{
	struct cg_ref_result res;
	struct cg_event ev;
	int action = -1, err;

	if (r->failed)
		return false;
	/* BPF_PROG_TEST_RUN takes an Ethernet header at least, and a page
	 * at most (what replay skips too). */
	if (len < 14 || len > 3500) {
		r->skipped++;
		return true;
	}
	memset(&ev, 0, sizeof(ev));
	err = cg_gate_test_run(r->gate, (int)if_nametoindex(ifname), buf, len,
			       &ev, &action);
	if (err) {
		printf("# %s / %s: test run failed (%s) on %s\n",
		       r->policy_name, r->cls, strerror(-err), what);
		r->failed = true;
		return false;
	}
	cg_ref_eval(r->ref, ifname, buf, len, &res);
	r->frames++;
	if (res.would < CG_R_MAX)
		r->hits[res.would]++;
	if (mut_agrees(&ev, action, &res))
		return true;
	r->mismatches++;
	if (mut_verbose || mut_reported++ < MAX_REPORTED) {
		printf("# mismatch: %s / %s (seed %llu) on %s: %s\n",
		       r->policy_name, r->cls, (unsigned long long)r->seed,
		       ifname, what);
		printf("#   bpf:       verdict %u reason %s would %s flow %d "
		       "zones %d->%d action %d\n",
		       ev.verdict, mut_reason_name(ev.reason),
		       mut_reason_name(ev.would), (int)ev.flow,
		       ev.zone_from == CG_ZONE_NONE ? -1 : ev.zone_from,
		       ev.zone_to == CG_ZONE_NONE ? -1 : ev.zone_to, action);
		printf("#   reference: verdict %u reason %s would %s flow %d "
		       "zones %d->%d\n",
		       res.verdict, mut_reason_name(res.reason),
		       mut_reason_name(res.would), (int)res.flow,
		       res.zone_from == CG_ZONE_NONE ? -1 : res.zone_from,
		       res.zone_to == CG_ZONE_NONE ? -1 : res.zone_to);
		cg_frame_hexdump(stdout, "#   ", buf, len);
	}
	return true;
}
