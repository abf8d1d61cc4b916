// SPDX-License-Identifier: GPL-2.0
/*
 * The event stream (loader.h: cg_event_stream_*, cg_events_run): the
 * ring buffer, or run's fan-out while a run serves the gate, with the
 * names of zones, flows and interfaces resolved through the instance that
 * judged each frame.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fanout.h"
#include "gate.h"
#include "loader.h"
#include "output.h"

/*
 * The event stream. The namer resolves zone and flow ids through the
 * active instance, reopened when an event names another policy (a reload
 * happened), so that names always belong to the policy that judged the
 * frame, as long as it is still the active one.
 */
struct cg_event_stream {
	const struct cg_env *env;
	struct cg_active *active;
	struct cg_active *shadow;  /* the candidate of shadow events */
	unsigned long long rev_id; /* the policy id rev belongs to */
	unsigned rev;
	struct ring_buffer *rb;
	int map_fd;
	/*
	 * A subscriber reads run's fan-out (sub_fd >= 0) while a run serves
	 * the gate, the ring buffer otherwise; the owner (run) always reads
	 * the ring buffer. See fanout.h.
	 */
	bool owner;
	int sub_fd;
	long long next_try; /* when to look for a run again (ms) */
	bool said_proto;    /* "another build" said once */
	char *sub_buf;	    /* bytes read from run, up to a whole record */
	size_t sub_len;
	unsigned long long sub_lost;
	cg_event_fn fn;
	void *ctx;
	long long off;
	char ifname[IF_NAMESIZE];
#define CG_NAME_CACHE 8
	struct {
		unsigned ifindex;
		char name[IF_NAMESIZE];
	} names[CG_NAME_CACHE];
	int n_names;
};

static const char *ev_zone(void *ctx, unsigned id)
{
	return cg_active_zone(((struct cg_event_stream *)ctx)->active, id);
}

static const char *ev_flow(void *ctx, unsigned id)
{
	return cg_active_flow(((struct cg_event_stream *)ctx)->active, id);
}

static const char *ev_shadow_flow(void *ctx, unsigned id)
{
	return cg_active_flow(((struct cg_event_stream *)ctx)->shadow, id);
}

/* The history's revision of a policy id, looked up once per policy. */
static unsigned ev_revision(void *ctx, unsigned long long policy_id)
{
	struct cg_event_stream *s = ctx;

	if (policy_id != s->rev_id) {
		s->rev_id = policy_id;
		s->rev = cg_change_hooks()->rev_of_id
				 ? cg_change_hooks()->rev_of_id(s->env,
								policy_id)
				 : 0;
	}
	return s->rev;
}

/*
 * Interface names, cached for the current batch of events: the lookup is
 * three syscalls, and a flood names the same interface over and over. The
 * cache is dropped at every poll, so a renamed interface shows its new
 * name in the next batch.
 */
static const char *ev_iface(void *ctx, unsigned ifindex)
{
	struct cg_event_stream *s = ctx;
	int i;

	for (i = 0; i < s->n_names; i++)
		if (s->names[i].ifindex == ifindex)
			return s->names[i].name;
	if (!if_indextoname(ifindex, s->ifname))
		return NULL;
	if (s->n_names < CG_NAME_CACHE) {
		s->names[s->n_names].ifindex = ifindex;
		memcpy(s->names[s->n_names++].name, s->ifname, IF_NAMESIZE);
	}
	return s->ifname;
}

static void deliver(struct cg_event_stream *s, const void *data, size_t size)
{
	struct cg_namer n = {ev_zone, ev_flow,	      ev_iface,
			     s,	      ev_shadow_flow, ev_revision};
	struct cg_event e = {};

	memcpy(&e, data, size < sizeof(e) ? size : sizeof(e));
	if (e.cap_len > CG_EVENT_DATA)
		e.cap_len = 0;
	if (!s->active || e.policy_id != cg_active_policy_id(s->active)) {
		cg_active_close(s->active);
		s->active = NULL;
		cg_active_open(s->env, &s->active);
	}
	if ((e.flags & CG_EV_SHADOW) &&
	    (!s->shadow ||
	     e.shadow_policy_id != cg_active_policy_id(s->shadow))) {
		cg_active_close(s->shadow);
		s->shadow = NULL;
		cg_instance_open(
			cg_gate_slot_prog(s->env, CG_SLOT_SHADOW, NULL),
			&s->shadow);
		/* Replaced since: its flow names are not this event's. */
		if (s->shadow &&
		    e.shadow_policy_id != cg_active_policy_id(s->shadow)) {
			cg_active_close(s->shadow);
			s->shadow = NULL;
		}
	}
	s->fn(s->ctx, &e, &n, s->off);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	deliver(ctx, data, size);
	return 0;
}

#define SUB_BUF (64 * 1024)
/*
 * How often a reader of the ring buffer looks for a run (a stat of the
 * socket): the window in which both read the ring buffer when run starts.
 */
#define SUB_RETRY_MS 200

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* While a run serves the gate, take its events instead of the ring's. */
static void subscribe(struct cg_event_stream *s)
{
	int fd;

	s->next_try = mono_ms() + SUB_RETRY_MS;
	fd = cg_fanout_connect(s->env);
	if (fd == -EPROTO && !s->said_proto) {
		s->said_proto = true;
		fprintf(stderr,
			"cranegate: the running `run` is another build; "
			"reading the ring buffer (restart run to share its "
			"events)\n");
	}
	if (fd < 0)
		return;
	s->sub_fd = fd;
	s->sub_len = 0;
	if (s->env->verbose)
		fprintf(stderr, "cranegate: reading events from run\n");
}

static void unsubscribe(struct cg_event_stream *s, const char *why)
{
	close(s->sub_fd);
	s->sub_fd = -1;
	s->sub_len = 0;
	s->next_try = mono_ms() + SUB_RETRY_MS;
	fprintf(stderr, "cranegate: %s; reading the ring buffer\n", why);
}

/* Events from run's fan-out: the records that arrived whole. */
static int sub_poll(struct cg_event_stream *s, int timeout_ms)
{
	struct pollfd pfd = {.fd = s->sub_fd, .events = POLLIN};
	size_t at = 0;
	ssize_t n;
	int count = 0;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (!n)
		return 0;
	n = recv(s->sub_fd, s->sub_buf + s->sub_len, SUB_BUF - s->sub_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		unsubscribe(s, "run stopped");
		return 0;
	}
	s->sub_len += n;
	while (s->sub_len - at >= sizeof(struct cg_fanout_hdr)) {
		struct cg_fanout_hdr h;
		const char *p = s->sub_buf + at + sizeof(h);

		memcpy(&h, s->sub_buf + at, sizeof(h));
		if (h.len > SUB_BUF - sizeof(h)) {
			unsubscribe(s, "run sent a record too long to be one");
			return count;
		}
		if (s->sub_len - at - sizeof(h) < h.len)
			break;
		if (h.type == CG_FAN_EVENT) {
			deliver(s, p, h.len);
			count++;
		} else if (h.type == CG_FAN_LOST && h.len == sizeof(uint64_t)) {
			uint64_t lost;

			memcpy(&lost, p, sizeof(lost));
			s->sub_lost += lost;
			fprintf(stderr,
				"cranegate: %llu events lost: this reader fell "
				"behind run (run's log has them)\n",
				(unsigned long long)lost);
		}
		at += sizeof(h) + h.len;
	}
	memmove(s->sub_buf, s->sub_buf + at, s->sub_len - at);
	s->sub_len -= at;
	return count;
}

static int stream_open(const struct cg_env *env, cg_event_fn fn, void *ctx,
		       bool owner, struct cg_event_stream **out)
{
	struct cg_event_stream *s;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->env = env;
	s->fn = fn;
	s->ctx = ctx;
	s->owner = owner;
	s->sub_fd = -1;
	cg_pin_path(env, "events", path, sizeof(path));
	s->map_fd = bpf_obj_get(path);
	if (s->map_fd < 0) {
		err = -errno;
		fprintf(stderr,
			"cranegate: no gate at %s (apply a policy first)\n",
			env->pin_root);
		free(s);
		return err;
	}
	cg_active_open(env, &s->active);
	s->off = cg_realtime_offset();
	s->rb = ring_buffer__new(s->map_fd, on_sample, s, NULL);
	if (!s->rb) {
		err = -errno;
		fprintf(stderr,
			"cranegate: cannot read the event ring buffer: %s\n",
			strerror(-err));
		cg_event_stream_close(s);
		return err;
	}
	if (!owner) {
		s->sub_buf = malloc(SUB_BUF);
		if (!s->sub_buf) {
			cg_event_stream_close(s);
			return -ENOMEM;
		}
		subscribe(s);
	}
	*out = s;
	return 0;
}

int cg_event_stream_open(const struct cg_env *env, cg_event_fn fn, void *ctx,
			 struct cg_event_stream **out)
{
	return stream_open(env, fn, ctx, false, out);
}

int cg_event_stream_open_owner(const struct cg_env *env, cg_event_fn fn,
			       void *ctx, struct cg_event_stream **out)
{
	return stream_open(env, fn, ctx, true, out);
}

void cg_event_stream_forget(struct cg_event_stream *s)
{
	cg_active_close(s->active);
	cg_active_close(s->shadow);
	s->active = s->shadow = NULL;
}

int cg_event_stream_fd(const struct cg_event_stream *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int cg_event_stream_poll(struct cg_event_stream *s, int timeout_ms)
{
	/* The wall clock may have been stepped since the last batch. */
	s->off = cg_realtime_offset();
	s->n_names = 0;
	if (!s->owner && s->sub_fd < 0 && mono_ms() >= s->next_try)
		subscribe(s);
	if (s->sub_fd >= 0)
		return sub_poll(s, timeout_ms);
	return ring_buffer__poll(s->rb, timeout_ms);
}

unsigned long long cg_event_stream_lost(const struct cg_event_stream *s)
{
	return s->sub_lost;
}

void cg_event_stream_close(struct cg_event_stream *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	cg_active_close(s->active);
	cg_active_close(s->shadow);
	if (s->map_fd >= 0)
		close(s->map_fd);
	if (s->sub_fd >= 0)
		close(s->sub_fd);
	free(s->sub_buf);
	free(s);
}

/* events: the ring buffer, as JSON lines or text, until signalled. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct ev_print {
	bool json;
	long long max, seen;
};

static void print_event(void *ctx, const struct cg_event *e,
			const struct cg_namer *n, long long off)
{
	struct ev_print *p = ctx;

	if (p->max && p->seen >= p->max)
		return;
	if (p->json) {
		fputc('{', stdout);
		cg_event_json_fields(stdout, e, n, off);
		fputs("}\n", stdout);
	} else {
		cg_event_text(stdout, e, n, off);
	}
	fflush(stdout);
	if (p->max && ++p->seen >= p->max)
		stop = 1;
}

int cg_events_run(const struct cg_env *env, long long max, int timeout_s)
{
	struct ev_print p = {.json = env->json, .max = max};
	struct cg_event_stream *s;
	time_t end = timeout_s > 0 ? time(NULL) + timeout_s : 0;
	int err;

	if ((err = cg_event_stream_open(env, print_event, &p, &s)))
		return err;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && (!end || time(NULL) < end)) {
		err = cg_event_stream_poll(s, 200);
		if (err == -EINTR)
			break;
		if (err < 0)
			goto out;
	}
	err = 0;
out:
	cg_event_stream_close(s);
	return err;
}
