// SPDX-License-Identifier: GPL-2.0
/*
 * replay: every frame of a capture, in order, through the real XDP program
 * (BPF_PROG_TEST_RUN) of a private instance, so that connection state
 * carries from frame to frame and the running gate is never touched. The
 * instance lives in a private network namespace holding one veth per
 * interface the policy names: the kernel insists on a real ingress
 * ifindex for test runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "output.h"
#include "replay.h"

struct replay_names {
	const struct cg_policy *p;
	char ifname[IF_NAMESIZE];
};

static const char *rn_zone(void *ctx, unsigned id)
{
	const struct replay_names *n = ctx;

	return id < n->p->n_zones ? n->p->zones[id].name : NULL;
}

static const char *rn_flow(void *ctx, unsigned id)
{
	const struct replay_names *n = ctx;

	return id < n->p->n_flows ? n->p->flows[id].name : NULL;
}

static const char *rn_iface(void *ctx, unsigned ifindex)
{
	struct replay_names *n = ctx;

	return if_indextoname(ifindex, n->ifname);
}

const char *cg_replay_source_iface(const struct cg_policy *p, const uint8_t *f,
				   size_t len)
{
	size_t off = 12, z, k;
	uint16_t type;
	uint8_t addr[16];
	int family = 0;

	if (len < 14)
		return NULL;
	type = f[off] << 8 | f[off + 1];
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		off += 4;
		type = f[off] << 8 | f[off + 1];
	}
	off += 2;
	if (type == 0x0800 && len >= off + 20) {
		family = 4;
		memcpy(addr, f + off + 12, 4);
	} else if (type == 0x86dd && len >= off + 40) {
		family = 6;
		memcpy(addr, f + off + 8, 16);
	} else if (type == 0x0806 && len >= off + 18) {
		family = 4;
		memcpy(addr, f + off + 14, 4);
	}
	for (z = 0; family && z < p->n_zones; z++)
		for (k = 0; k < p->zones[z].n_nets; k++)
			if (cg_prefix_has_addr(&p->zones[z].nets[k].prefix,
					       family, addr) &&
			    p->zones[z].n_ifaces)
				return p->zones[z].ifaces[0].name;
	return NULL;
}

/*
 * --by-source for replay: frames whose source is in no zone, or that
 * carry no address, go to the policy's first interface.
 */
static const char *iface_by_source(const struct cg_compiled *c,
				   const uint8_t *f, size_t len)
{
	const char *ifname = cg_replay_source_iface(c->policy, f, len);

	return ifname ? ifname : c->ifnames[0];
}

int cg_replay_frame(struct cg_gate *g, const char *ifname, const uint8_t *f,
		    size_t len, struct cg_event *ev, int *action)
{
	unsigned ifindex;

	if (len < 14 || len > CG_TEST_RUN_MAX)
		return -EMSGSIZE;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	return cg_gate_test_run(g, ifindex, f, len, ev, action);
}

int cg_capture_open(const char *path, pcap_t **out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);

	*out = NULL;
	if (!pc) {
		fprintf(stderr, "cranegate: %s: %s\n", path, errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(pcap_datalink(pc));

		fprintf(stderr,
			"cranegate: %s: link type %s (%d) is not Ethernet; "
			"only Ethernet captures can be replayed\n",
			path, name ? name : "unknown", pcap_datalink(pc));
		pcap_close(pc);
		return -EINVAL;
	}
	*out = pc;
	return 0;
}

bool cg_capture_ended(const char *path, pcap_t *pc, int rc, uint64_t frames)
{
	const char *why = rc == PCAP_ERROR ? pcap_geterr(pc) : "no more frames";
	int linktype;

	if (rc == PCAP_ERROR_BREAK)
		return true;
	/*
	 * libpcap reads every interface of a pcapng with the first one's
	 * link type: an interface description block of another type is a
	 * read error, met where the block lies in the file. Name the type.
	 */
	if (rc == PCAP_ERROR &&
	    sscanf(why, "an interface has a type %d different", &linktype) ==
		    1 &&
	    linktype != DLT_EN10MB) {
		/*
		 * The number is the file's LINKTYPE_ value; it is the DLT_
		 * value but for a few, raw IP (101) the common one.
		 */
		const char *name =
			linktype == 101 ? "RAW"
					: pcap_datalink_val_to_name(linktype);

		fprintf(stderr,
			"cranegate: %s: reading stopped at frame %llu: an "
			"interface has link type %s (%d), which is not "
			"Ethernet; only Ethernet interfaces can be judged\n",
			path, (unsigned long long)frames + 1,
			name ? name : "unknown", linktype);
	} else {
		fprintf(stderr,
			"cranegate: %s: reading stopped at frame %llu: %s\n",
			path, (unsigned long long)frames + 1, why);
	}
	fprintf(stderr,
		"cranegate: %s: only the %llu frames before it were judged\n",
		path, (unsigned long long)frames);
	return false;
}

int cg_replay(const struct cg_replay_opts *o)
{
	struct cg_diags d = {.file = o->policy_path};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_gate *g = NULL;
	struct cg_gate_opts go = {.record = true, .verbose = o->verbose};
	struct replay_names rn = {};
	struct cg_namer namer = {rn_zone, rn_flow, rn_iface, &rn};
	uint64_t *per_reason = NULL, *per_flow = NULL, frames = 0, errors = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc = NULL;
	bool complete;
	size_t i;
	int err, rc;

	err = cg_policy_load(o->policy_path, &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stderr);
	if (err)
		goto out;
	rn.p = p;
	if (o->iface) {
		for (i = 0; i < c->n_ifnames; i++)
			if (!strcmp(c->ifnames[i], o->iface))
				break;
		if (i == c->n_ifnames) {
			fprintf(stderr,
				"cranegate: the policy names no interface "
				"'%s'\n",
				o->iface);
			err = -EINVAL;
			goto out;
		}
	}
	if (cg_capture_open(o->capture, &pc)) {
		err = CG_EXIT_TROUBLE;
		goto out;
	}
	if ((err = cg_sandbox_enter(c->ifnames, c->n_ifnames)) ||
	    (err = cg_gate_load(c, &go, &g)))
		goto out;

	per_reason = calloc(CG_R_MAX, sizeof(*per_reason));
	per_flow = calloc(p->n_flows + 1, sizeof(*per_flow));
	if (!per_reason || !per_flow) {
		err = -ENOMEM;
		goto out;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		const char *ifname =
			o->iface ? o->iface
				 : iface_by_source(c, data, h->caplen);
		struct cg_event ev;
		int action;

		frames++;
		err = cg_replay_frame(g, ifname, data, h->caplen, &ev, &action);
		if (err == -EMSGSIZE) {
			/* Outside what a test run takes: say so, judge nothing.
			 */
			errors++;
			if (o->json)
				printf("{\"frame\": %llu, \"verdict\": null, "
				       "\"reason\": null, \"rule\": null, "
				       "\"error\": \"frame of %u bytes cannot "
				       "be test-run\"}\n",
				       (unsigned long long)frames, h->caplen);
			else
				printf("%6llu  error: frame of %u bytes cannot "
				       "be test-run\n",
				       (unsigned long long)frames, h->caplen);
			continue;
		}
		if (err) {
			fprintf(stderr,
				"cranegate: test run of frame %llu failed: "
				"%s\n",
				(unsigned long long)frames, strerror(-err));
			goto out;
		}
		per_reason[ev.reason < CG_R_MAX ? ev.reason : 0]++;
		/* Per flow: what it passed, as the gate's own counters. */
		if (ev.flow < p->n_flows && ev.verdict == CG_V_PASS)
			per_flow[ev.flow]++;
		if (o->json) {
			printf("{\"frame\": %llu, ",
			       (unsigned long long)frames);
			cg_event_json_fields(stdout, &ev, &namer, 0);
			printf("}\n");
		} else {
			printf("%6llu  ", (unsigned long long)frames);
			cg_event_text(stdout, &ev, &namer, 0);
		}
	}
	complete = rc == PCAP_ERROR_BREAK;

	/* The summary goes to stderr under --json, to keep stdout JSON lines.
	 */
	{
		FILE *s = o->json ? stderr : stdout;

		fprintf(s, "%llu frames", (unsigned long long)frames);
		if (errors)
			fprintf(s, " (%llu not judged)",
				(unsigned long long)errors);
		if (!complete)
			fprintf(s, ", then the capture could not be read on");
		fprintf(s, "\nby reason:\n");
		for (i = 0; i < CG_R_MAX; i++)
			if (per_reason[i])
				fprintf(s, "  %-15s %8llu  %s\n",
					cg_reason_name(i),
					(unsigned long long)per_reason[i],
					i >= CG_R_FIRST_DROP ? "drop" : "pass");
		fprintf(s, "by flow:\n");
		for (i = 0; i < p->n_flows; i++)
			if (per_flow[i])
				fprintf(s, "  %-24s %8llu\n", p->flows[i].name,
					(unsigned long long)per_flow[i]);
		fflush(s);
	}
	/* What was judged is printed; now the trouble, and exit 2. */
	err = cg_capture_ended(o->capture, pc, rc, frames) ? 0
							   : CG_EXIT_TROUBLE;
out:
	free(per_reason);
	free(per_flow);
	if (pc)
		pcap_close(pc);
	cg_gate_free(g);
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
	return err;
}
