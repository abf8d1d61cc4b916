// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the capture side of `cranegate replay` and `diff --pcap`,
 * without the kernel. The input is a capture file's bytes (pcap or
 * pcapng, any link type); libpcap reads it from memory (fmemopen +
 * pcap_fopen_offline) as replay reads a file, and every frame goes
 * through the pure-userspace helpers replay and the tests use:
 *
 *  - cg_replay_source_iface(), replay --by-source's choice of interface;
 *  - the reference evaluator, cg_ref_eval(), against one fixed policy
 *    that uses every feature (VLANs, IPv6, MAC bindings, ICS inspection,
 *    fragments), with connection state carried from frame to frame;
 *  - the event printers of output.c, on the reference's verdict and on
 *    an event whose every field comes from the frame's bytes (events come
 *    from the kernel, but a printer must survive any value).
 *
 * Built with libFuzzer for `make fuzz` and with regress_main.c for the
 * regression replay in `make test`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "compile.h"
#include "output.h"
#include "policy.h"
#include "reference.h"
#include "replay.h"

/* Frames judged per input: enough for sequences, bounded in time. */
#define MAX_FRAMES 2000

static const char policy_yaml[] =
	"version: 1\n"
	"name: fuzz-pcap\n"
	"fragments: track\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  crane-control:\n"
	"    interfaces: [crane0]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  crane-drives:\n"
	"    interfaces: [crane0]\n"
	"    vlans: [100, 101]\n"
	"    networks: [198.18.22.0/24]\n"
	"  crane-cctv:\n"
	"    interfaces: [cctv0]\n"
	"    networks: [198.18.21.0/24]\n"
	"  crane-mgmt:\n"
	"    interfaces: [mgmt0]\n"
	"    networks: [198.18.30.0/24, 2001:2:0:30::/64]\n"
	"hosts:\n"
	"  scada-hmi: 198.18.10.5\n"
	"  vms: 198.18.10.40\n"
	"  plc-hoist: {address: 198.18.20.11, mac: \"02:00:c6:12:14:0b\"}\n"
	"flows:\n"
	"  - name: scada-polls-plcs\n"
	"    from: scada-hmi\n"
	"    to: crane-control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n"
	"  - name: hmi-writes-hoist\n"
	"    from: scada-hmi\n"
	"    to: plc-hoist\n"
	"    proto: tcp\n"
	"    ports: [503]\n"
	"    modbus: [3, 6, 16]\n"
	"  - name: hmi-pings-plcs\n"
	"    from: scada-hmi\n"
	"    to: crane-control\n"
	"    proto: icmp\n"
	"  - name: cctv-to-vms\n"
	"    from: crane-cctv\n"
	"    to: vms\n"
	"    proto: tcp\n"
	"    ports: [554, \"8000-8010\"]\n"
	"  - name: plc-programming\n"
	"    from: crane-mgmt\n"
	"    to: crane-control\n"
	"    proto: tcp\n"
	"    ports: [102]\n"
	"    s7comm: read-only\n"
	"    log: true\n"
	"  - name: plc-jobs\n"
	"    from: crane-mgmt\n"
	"    to: plc-hoist\n"
	"    proto: tcp\n"
	"    ports: [1102]\n"
	"    s7comm: [4, 5]\n"
	"    modbus: any\n"
	"  - name: hoist-plc-to-drives\n"
	"    from: plc-hoist\n"
	"    to: crane-drives\n"
	"    proto: udp\n"
	"    ports: [2222]\n"
	"  - name: mgmt-any\n"
	"    from: crane-mgmt\n"
	"    to: [crane-cctv, 198.18.40.0/24]\n"
	"    proto: any\n"
	"    ports: [22, \"8000-8100\"]\n"
	"  - name: v6-ops\n"
	"    from: 2001:2:0:10::/64\n"
	"    to: crane-control\n"
	"    proto: icmpv6\n"
	"  - name: v6-mgmt-all\n"
	"    from: crane-mgmt\n"
	"    to: 2001:2:0:20::/64\n"
	"    proto: any\n";

static struct cg_policy *policy;
static FILE *devnull;

/* Interfaces a frame may arrive on: the policy's, and one it does not name. */
static const char *const ifnames[] = {"biz0", "crane0", "cctv0", "mgmt0",
				      "gw9"};
#define N_IFNAMES (sizeof(ifnames) / sizeof(ifnames[0]))

static const char *namer_zone(void *ctx, unsigned id)
{
	return id < policy->n_zones ? policy->zones[id].name : NULL;
}

static const char *namer_flow(void *ctx, unsigned id)
{
	return id < policy->n_flows ? policy->flows[id].name : NULL;
}

static const char *namer_iface(void *ctx, unsigned ifindex)
{
	return ifindex < N_IFNAMES ? ifnames[ifindex] : NULL;
}

static const struct cg_namer namer = {namer_zone, namer_flow, namer_iface,
				      NULL};

static int setup(void)
{
	struct cg_diags d = {.file = "fuzz-pcap.yaml"};
	struct cg_compiled *c = NULL;
	int err;

	devnull = fopen("/dev/null", "w");
	err = cg_policy_parse("fuzz-pcap.yaml", policy_yaml,
			      sizeof(policy_yaml) - 1, &policy, &d);
	if (!err)
		err = cg_compile(policy, &c, &d);
	if (err)
		cg_diags_print(&d, stderr);
	cg_diags_free(&d);
	cg_compiled_free(c);
	if (err || !devnull) {
		fprintf(stderr, "fuzz_pcap: the built-in policy is refused\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return setup();
}

/* An event as the program would emit it for the reference's verdict. */
static void print_ref_event(const struct cg_ref_result *res, unsigned ifi,
			    const uint8_t *f, size_t len)
{
	struct cg_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ifindex = ifi;
	ev.verdict = res->verdict;
	ev.reason = res->reason;
	ev.would = res->would;
	ev.flow = res->flow;
	ev.zone_from = res->zone_from;
	ev.zone_to = res->zone_to;
	ev.function = res->function;
	ev.pkt_len = (uint32_t)len;
	ev.cap_len = len < CG_EVENT_DATA ? (uint32_t)len : CG_EVENT_DATA;
	memcpy(ev.data, f, ev.cap_len);
	if (len >= 12)
		memcpy(ev.src_mac, f + 6, 6);
	fputc('{', devnull);
	cg_event_json_fields(devnull, &ev, &namer, 0);
	fputs("}\n", devnull);
	cg_event_text(devnull, &ev, &namer, 0);
}

/* An event made of the frame's bytes: any value in any field. */
static void print_raw_event(const uint8_t *f, size_t len)
{
	struct cg_event ev;

	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, f, len < sizeof(ev) ? len : sizeof(ev));
	/* What the loader guarantees before anything prints an event. */
	if (ev.cap_len > CG_EVENT_DATA)
		ev.cap_len = 0;
	fputc('{', devnull);
	cg_event_json_fields(devnull, &ev, &namer, 1000000000ll);
	fputs("}\n", devnull);
	cg_event_text(devnull, &ev, &namer, 0);
	cg_event_brief(devnull, &ev, &namer);
	fputc('\n', devnull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct cg_refeval *ref;
	struct pcap_pkthdr *h;
	const u_char *frame;
	unsigned long n = 0;
	pcap_t *pc;
	FILE *f;

	if (!policy)
		setup();
	/* glibc's fmemopen refuses a zero size; so would a file of 0 bytes. */
	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	pc = pcap_fopen_offline(f, errbuf);
	if (!pc) {
		/* On failure the FILE stays the caller's. */
		fclose(f);
		return 0;
	}
	ref = cg_ref_new(policy);
	if (!ref) {
		pcap_close(pc);
		return 0;
	}
	/* replay refuses other link types; the helpers below must not care. */
	(void)pcap_datalink(pc);
	while (n < MAX_FRAMES && pcap_next_ex(pc, &h, &frame) == 1) {
		struct cg_ref_result res;
		const char *ifname;
		unsigned ifi;

		n++;
		ifname = cg_replay_source_iface(policy, frame, h->caplen);
		if (!ifname)
			ifname = ifnames[n % N_IFNAMES];
		for (ifi = 0; ifi < N_IFNAMES; ifi++)
			if (!strcmp(ifname, ifnames[ifi]))
				break;
		/* replay's bounds: what a test run can take. */
		if (h->caplen >= 14 && h->caplen <= CG_TEST_RUN_MAX) {
			cg_ref_eval(ref, ifname, frame, h->caplen, &res);
			if (res.verdict > CG_V_DROP || res.reason >= CG_R_MAX ||
			    res.would >= CG_R_MAX)
				__builtin_trap();
			print_ref_event(&res, ifi, frame, h->caplen);
		}
		print_raw_event(frame, h->caplen);
	}
	cg_ref_free(ref);
	pcap_close(pc);
	return 0;
}
