// SPDX-License-Identifier: GPL-2.0
/*
 * stream-receiver: a TCP server that reports what its Linux stack delivered,
 * for the end-to-end evasion tests (tests/e2e/test_evasion.sh).
 *
 *	stream-receiver [--modbus-port N] [--s7-port N] [--log FILE]
 *			[--seconds S] [--stall-port N] [--stall-ms MS]
 *
 * It listens on TCP 502 (Modbus/TCP) and 102 (TPKT + COTP + S7comm), on
 * every IPv4 and IPv6 address (a port of 0 turns that protocol off), reads
 * the byte stream each connection delivers and parses it the way a PLC
 * would: whole Modbus ADUs by their MBAP length, whole TPKTs by their
 * length. It writes one line per delivered request to FILE (default
 * stdout), flushed at once:
 *
 *	modbus port=P tid=T unit=U fc=F [reg=R value=V | reg=R count=N]
 *	s7 port=P job=0xFF ref=R | s7 port=P userdata group=G
 *	s7 port=P proto=0xXX | s7 port=P rosctr=N
 *	cotp port=P type=0xE0
 *	error port=P WHAT          (the stream cannot be parsed; closed)
 *	open port=P / close port=P
 *
 * P is the peer's TCP port, so a test can tell its connections apart. The
 * urgent byte is left out of the stream, as by default (no SO_OOBINLINE).
 * It answers so that real clients proceed: Modbus FC 1-4 with data
 * (holding register i = 1000 + i, input register i = 2000 + i), FC 5, 6,
 * 15, 16 with the usual echo, anything else with exception 1; COTP CR with
 * a CC; S7 setup communication and read variable with an ack-data. It exits
 * on SIGINT or SIGTERM, or after S seconds (default 300).
 *
 * --stall-port N serves Modbus on N too, with a 4 KiB receive buffer, and
 * reads nothing from a connection there for MS milliseconds (default 2000)
 * after accepting it: a client that sends more than the window meets a
 * zero window, probes it, and must go on when the window opens. Answers
 * are sent blocking, for at most a second each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUF_SIZE 8192

enum proto { P_MODBUS, P_S7 };

struct conn {
	int fd;
	enum proto proto;
	unsigned int port;
	struct timespec resume; /* read nothing before (stall port) */
	size_t len;
	uint8_t buf[BUF_SIZE];
};

static volatile sig_atomic_t stop;
static FILE *out;
static struct conn *conns[MAX_CONNS];

static void on_signal(int sig)
{
	stop = 1;
}

static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void reply(struct conn *c, const uint8_t *b, size_t n)
{
	/*
	 * Blocking, bounded by SO_SNDTIMEO: a client that does not read
	 * (the attacker never acknowledges) loses its answers.
	 */
	if (send(c->fd, b, n, MSG_NOSIGNAL) < 0)
		return;
}

/* One Modbus ADU of n bytes (n = 6 + MBAP length): log it and answer. */
static void modbus_request(struct conn *c, const uint8_t *a, size_t n)
{
	unsigned int fc = a[7], addr = 0, qty = 0, i;
	uint8_t r[260];
	size_t rn = 0;

	if (n >= 12) {
		addr = be16(a + 8);
		qty = be16(a + 10);
	}
	if ((fc == 5 || fc == 6) && n >= 12)
		logf_("modbus port=%u tid=%u unit=%u fc=%u reg=%u value=%u",
		      c->port, be16(a), a[6], fc, addr, qty);
	else if ((fc == 15 || fc == 16) && n >= 12)
		logf_("modbus port=%u tid=%u unit=%u fc=%u reg=%u count=%u",
		      c->port, be16(a), a[6], fc, addr, qty);
	else
		logf_("modbus port=%u tid=%u unit=%u fc=%u", c->port, be16(a),
		      a[6], fc);

	memcpy(r, a, 8);
	switch (fc) {
	case 1:
	case 2:
		if (n < 12 || qty < 1 || qty > 2000)
			goto exception;
		r[8] = (qty + 7) / 8;
		memset(r + 9, 0, r[8]);
		rn = 9 + r[8];
		break;
	case 3:
	case 4:
		if (n < 12 || qty < 1 || qty > 125)
			goto exception;
		r[8] = 2 * qty;
		for (i = 0; i < qty; i++)
			put16(r + 9 + 2 * i,
			      (fc == 3 ? 1000 : 2000) + ((addr + i) & 0xffff));
		rn = 9 + r[8];
		break;
	case 5:
	case 6:
	case 15:
	case 16:
		if (n < 12)
			goto exception;
		memcpy(r + 8, a + 8, 4);
		rn = 12;
		break;
	default:
		goto exception;
	}
	put16(r + 4, rn - 6);
	reply(c, r, rn);
	return;
exception:
	r[7] = fc | 0x80;
	r[8] = 1;
	put16(r + 4, 3);
	reply(c, r, 9);
}

/* Parse what the stack delivered; false when the stream is broken. */
static bool modbus_parse(struct conn *c)
{
	size_t pos = 0, n;

	while (c->len - pos >= 7) {
		const uint8_t *a = c->buf + pos;
		unsigned int len = be16(a + 4);

		if (be16(a + 2) != 0 || len < 2 || len > 254) {
			logf_("error port=%u modbus header pid=%u len=%u",
			      c->port, be16(a + 2), len);
			return false;
		}
		n = 6 + len;
		if (c->len - pos < n)
			break;
		modbus_request(c, a, n);
		pos += n;
	}
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	return true;
}

/* An S7 ack-data to the job `j` (its S7 header at j), with param p. */
static void s7_ack(struct conn *c, const uint8_t *j, const uint8_t *p,
		   size_t pn, const uint8_t *d, size_t dn)
{
	uint8_t r[128];
	size_t n = 4 + 3 + 12 + pn + dn;

	r[0] = 3;
	r[1] = 0;
	put16(r + 2, n);
	r[4] = 2;
	r[5] = 0xf0;
	r[6] = 0x80;
	r[7] = 0x32;
	r[8] = 3;
	r[9] = 0;
	r[10] = 0;
	r[11] = j[4];
	r[12] = j[5];
	put16(r + 13, pn);
	put16(r + 15, dn);
	r[17] = 0;
	r[18] = 0;
	memcpy(r + 19, p, pn);
	memcpy(r + 19 + pn, d, dn);
	reply(c, r, n);
}

/* One TPKT of n bytes: log what it carries and answer. */
static bool s7_tpkt(struct conn *c, const uint8_t *t, size_t n)
{
	unsigned int li = t[4], type = t[5] & 0xf0;
	const uint8_t *s;
	size_t slen;

	if (li < 1 || 5 + li > n) {
		logf_("error port=%u cotp li=%u tpkt=%zu", c->port, li, n);
		return false;
	}
	if (type != 0xf0) {
		logf_("cotp port=%u type=0x%02X", c->port, type);
		if (type == 0xe0 && li >= 6) {
			/* CC: our reference 1, theirs echoed, class 0. */
			uint8_t cc[11] = {3,	0,    0, 11, 6, 0xd0,
					  t[8], t[9], 0, 1,  0};

			reply(c, cc, sizeof(cc));
		}
		return true;
	}
	s = t + 5 + li;
	slen = n - 5 - li;
	if (slen == 0)
		return true; /* an empty data TPDU */
	if (s[0] != 0x32) {
		logf_("s7 port=%u proto=0x%02X", c->port, s[0]);
		return true;
	}
	if (slen < 10 || 10 + (size_t)be16(s + 6) + be16(s + 8) > slen) {
		logf_("error port=%u s7 header len=%zu", c->port, slen);
		return false;
	}
	if (s[1] == 1 && be16(s + 6) >= 1) {
		unsigned int fn = s[10];

		logf_("s7 port=%u job=0x%02X ref=%u", c->port, fn, be16(s + 4));
		if (fn == 0xf0 && be16(s + 6) >= 8) {
			uint8_t p[8] = {0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0};

			s7_ack(c, s, p, sizeof(p), NULL, 0);
		} else if (fn == 0x04) {
			uint8_t p[2] = {0x04, 1};
			uint8_t d[6] = {0xff, 0x04, 0, 8, 0x2a, 0};

			s7_ack(c, s, p, sizeof(p), d, 5);
		} else {
			uint8_t p[2] = {(uint8_t)fn, 0};

			s7_ack(c, s, p, sizeof(p), NULL, 0);
		}
	} else if (s[1] == 7 && be16(s + 6) >= 8) {
		logf_("s7 port=%u userdata group=%u", c->port, s[15] & 15);
	} else {
		logf_("s7 port=%u rosctr=%u", c->port, s[1]);
	}
	return true;
}

static bool s7_parse(struct conn *c)
{
	size_t pos = 0, n;

	while (c->len - pos >= 4) {
		const uint8_t *t = c->buf + pos;

		n = be16(t + 2);
		if (t[0] != 3 || t[1] != 0 || n < 7) {
			logf_("error port=%u tpkt %02x %02x len=%zu", c->port,
			      t[0], t[1], n);
			return false;
		}
		if (c->len - pos < n)
			break;
		if (!s7_tpkt(c, t, n))
			return false;
		pos += n;
	}
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	return true;
}

static void conn_close(int i)
{
	logf_("close port=%u", conns[i]->port);
	close(conns[i]->fd);
	free(conns[i]);
	conns[i] = NULL;
}

static int listen_on(unsigned int port, int rcvbuf)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	int fd, one = 1, zero = 0;

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/* Before listen: accepted sockets inherit it, and the window. */
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	a.sin6_port = htons(port);
	a.sin6_addr = in6addr_any;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_on(int lfd, enum proto proto, int stall_ms)
{
	struct timeval tv = {.tv_sec = 1};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	int fd, i;

	fd = accept(lfd, (struct sockaddr *)&ss, &sl);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS && conns[i]; i++)
		;
	c = i < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->proto = proto;
	clock_gettime(CLOCK_MONOTONIC, &c->resume);
	c->resume.tv_sec += stall_ms / 1000;
	c->resume.tv_nsec += (stall_ms % 1000) * 1000000L;
	if (c->resume.tv_nsec >= 1000000000L) {
		c->resume.tv_sec++;
		c->resume.tv_nsec -= 1000000000L;
	}
	c->port = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	conns[i] = c;
	logf_("open port=%u", c->port);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: stream-receiver [--modbus-port N] [--s7-port N] "
		   "[--log FILE] [--seconds S]\n"
		   "                       [--stall-port N] [--stall-ms MS]\n");
}

int main(int argc, char **argv)
{
	unsigned int mport = 502, sport = 102, zport = 0;
	int seconds = 300, stall_ms = 2000, lm = -1, ls = -1, lz = -1, i;
	const char *log = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	time_t end;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--modbus-port") && i + 1 < argc)
			mport = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--s7-port") && i + 1 < argc)
			sport = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stall-port") && i + 1 < argc)
			zport = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stall-ms") && i + 1 < argc)
			stall_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (mport > 65535 || sport > 65535 || zport > 65535 || seconds <= 0 ||
	    stall_ms < 0 || stall_ms > 60000 || (!mport && !sport && !zport)) {
		usage(stderr);
		return 2;
	}
	out = log ? fopen(log, "a") : stdout;
	if (!out) {
		fprintf(stderr, "stream-receiver: %s: %s\n", log,
			strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((mport && (lm = listen_on(mport, 0)) < 0) ||
	    (sport && (ls = listen_on(sport, 0)) < 0) ||
	    (zport && (lz = listen_on(zport, 4096)) < 0)) {
		fprintf(stderr, "stream-receiver: cannot listen: %s\n",
			strerror(errno));
		return 1;
	}
	end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct pollfd p[MAX_CONNS + 3];
		int idx[MAX_CONNS + 3], n = 0;
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		p[n] = (struct pollfd){.fd = lm, .events = POLLIN};
		idx[n++] = -1;
		p[n] = (struct pollfd){.fd = ls, .events = POLLIN};
		idx[n++] = -2;
		p[n] = (struct pollfd){.fd = lz, .events = POLLIN};
		idx[n++] = -3;
		for (i = 0; i < MAX_CONNS; i++) {
			if (!conns[i])
				continue;
			if (now.tv_sec < conns[i]->resume.tv_sec ||
			    (now.tv_sec == conns[i]->resume.tv_sec &&
			     now.tv_nsec < conns[i]->resume.tv_nsec))
				continue; /* stalled */
			p[n] = (struct pollfd){.fd = conns[i]->fd,
					       .events = POLLIN};
			idx[n++] = i;
		}
		if (poll(p, n, 50) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			struct conn *c;
			ssize_t r;
			bool good;

			if (!p[i].revents)
				continue;
			if (idx[i] == -1) {
				accept_on(lm, P_MODBUS, 0);
				continue;
			}
			if (idx[i] == -2) {
				accept_on(ls, P_S7, 0);
				continue;
			}
			if (idx[i] == -3) {
				accept_on(lz, P_MODBUS, stall_ms);
				continue;
			}
			c = conns[idx[i]];
			if (c->len == BUF_SIZE) {
				logf_("error port=%u buffer full", c->port);
				conn_close(idx[i]);
				continue;
			}
			r = recv(c->fd, c->buf + c->len, BUF_SIZE - c->len,
				 MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				conn_close(idx[i]);
				continue;
			}
			c->len += r;
			good = c->proto == P_MODBUS ? modbus_parse(c)
						    : s7_parse(c);
			if (!good)
				conn_close(idx[i]);
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i])
			conn_close(i);
	return 0;
}
