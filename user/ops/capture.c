// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate capture`: events from the ring buffer, filtered, written as
 * pcap records through libpcap (pcap_open_dead + pcap_dump), one record
 * per event: caplen is the event's cap_len (at most CG_EVENT_DATA bytes
 * from the start of the frame), len the frame's length.
 *
 * The ring buffer has one consumer position: events taken here are not
 * seen by `events` or `run` running at the same time, and the other way
 * round. Events that do not match the filters are consumed all the same.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "output.h"

struct cap {
	const struct cg_capture_opts *o;
	int reason; /* -1: any */
	pcap_t *pd;
	pcap_dumper_t *dump;
	long long written, seen;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static bool wanted(const struct cap *c, const struct cg_event *e,
		   const struct cg_namer *n)
{
	const struct cg_capture_opts *o = c->o;
	const char *name;

	/* The live drop was logged on its own; a disagreement repeats it. */
	if (e->flags & CG_EV_SHADOW)
		return false;
	if (!o->all && e->verdict != CG_V_DROP && e->reason != CG_R_MONITOR)
		return false;
	if (c->reason >= 0 && e->reason != c->reason && e->would != c->reason)
		return false;
	if (o->flow) {
		name = e->flow == CG_FLOW_NONE ? NULL
					       : n->flow(n->ctx, e->flow);
		if (!name || strcmp(name, o->flow))
			return false;
	}
	if (o->zone) {
		const char *from = e->zone_from == CG_ZONE_NONE
					   ? NULL
					   : n->zone(n->ctx, e->zone_from);
		const char *to = e->zone_to == CG_ZONE_NONE ? NULL
				 : e->zone_to == CG_ZONE_SELF
					 ? "self"
					 : n->zone(n->ctx, e->zone_to);

		if (!(from && !strcmp(from, o->zone)) &&
		    !(to && !strcmp(to, o->zone)))
			return false;
	}
	return true;
}

static void on_event(void *ctx, const struct cg_event *e,
		     const struct cg_namer *n, long long off)
{
	struct cap *c = ctx;
	struct pcap_pkthdr h = {};
	long long ns = (long long)e->ts_ns + off;

	c->seen++;
	if (stop || !e->cap_len || !wanted(c, e, n))
		return;
	h.ts.tv_sec = ns / 1000000000ll;
	h.ts.tv_usec = (ns % 1000000000ll) / 1000;
	h.caplen = e->cap_len;
	h.len = e->pkt_len > e->cap_len ? e->pkt_len : e->cap_len;
	pcap_dump((u_char *)c->dump, &h, e->data);
	/* Flushed per frame: a capture that is killed stays readable. */
	pcap_dump_flush(c->dump);
	c->written++;
	if (c->o->count && c->written >= c->o->count)
		stop = 1;
}

int cg_capture_run(const struct cg_env *env, const struct cg_capture_opts *o)
{
	struct cap c = {.o = o, .reason = -1};
	struct cg_event_stream *s = NULL;
	time_t end = o->timeout_s > 0 ? time(NULL) + o->timeout_s : 0;
	int err, r;

	if (!o->path) {
		fprintf(stderr, "cranegate capture: needs -w FILE (or -w - for "
				"stdout)\n");
		return -EINVAL;
	}
	if (o->reason) {
		for (r = 0; r < CG_R_MAX; r++)
			if (!strcmp(o->reason, cg_reason_name(r)))
				c.reason = r;
		if (c.reason < 0) {
			fprintf(stderr,
				"cranegate capture: unknown reason '%s'; one "
				"of:",
				o->reason);
			for (r = CG_R_FIRST_DROP; r < CG_R_MAX; r++)
				fprintf(stderr, " %s", cg_reason_name(r));
			fputc('\n', stderr);
			return -EINVAL;
		}
	}
	if ((err = cg_event_stream_open(env, on_event, &c, &s)))
		return err;
	c.pd = pcap_open_dead(DLT_EN10MB, CG_EVENT_DATA);
	c.dump = c.pd ? pcap_dump_open(c.pd, o->path) : NULL;
	if (!c.dump) {
		fprintf(stderr, "cranegate capture: cannot write %s: %s\n",
			o->path, c.pd ? pcap_geterr(c.pd) : "out of memory");
		err = -EIO;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (strcmp(o->path, "-"))
		fprintf(stderr,
			"cranegate: capturing dropped frames to %s (first %d "
			"bytes of each)\n",
			o->path, CG_EVENT_DATA);
	while (!stop && (!end || time(NULL) < end)) {
		err = cg_event_stream_poll(s, 200);
		if (err == -EINTR)
			continue;
		if (err < 0)
			goto out;
	}
	err = 0;
	if (strcmp(o->path, "-"))
		fprintf(stderr,
			"cranegate: %lld frames written to %s (%lld events "
			"read, %llu lost by falling behind run)\n",
			c.written, o->path, c.seen, cg_event_stream_lost(s));
out:
	if (c.dump)
		pcap_dump_close(c.dump);
	if (c.pd)
		pcap_close(c.pd);
	cg_event_stream_close(s);
	return err;
}
