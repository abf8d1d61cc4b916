// SPDX-License-Identifier: GPL-2.0
/*
 * modbus-load: many Modbus/TCP requests on long-lived connections, for
 * the end-to-end tests of legitimate traffic through a normalizing gate.
 *
 *	modbus-load [--timeout S] [--requests N] [--pipeline M] [--rounds R]
 *		    [--keepalive-pause S] [--connections C]
 *		    [--zero-window Z --zw-port P] ADDR PORT
 *
 * 1. N FC 3 reads of registers i % 32 .. +3 through Debian's libmodbus, one
 *    connection, one request at a time; each answer is checked (holding
 *    register i = 1000 + i, as modbus-server and stream-receiver serve).
 * 2. With --keepalive-pause S: TCP keepalive on that connection (idle 1 s,
 *    interval 1 s, 2 probes), S seconds idle, then one more read: if the
 *    probes or their answers are lost, the kernel resets the connection
 *    and that read fails.
 * 3. R rounds of M pipelined FC 3 reads on a second connection (a plain
 *    socket: libmodbus waits for each answer): M ADUs in one write, then
 *    M answers read back and matched by transaction id.
 * 4. C more connections through libmodbus, one read each (under loss:
 *    SYN, FIN and request retransmissions).
 * 5. With --zero-window Z: Z reads (12 bytes each) written at once on a
 *    connection to port P (stream-receiver --stall-port, which reads
 *    nothing for a while, from a 4 KiB buffer), with a 4 KiB send buffer,
 *    while the answers are read as they come: the sender meets a zero
 *    window, probes it, and must go on when it opens; all within 4 times
 *    the timeout. "zw_send_ms" is how long the writing took.
 *
 * Prints one JSON object: {"requests": N, "answered": .., "keepalive":
 * "ok"|"failed"|"off", "pipelined": R*M, "pipelined_answered": ..,
 * "connections": C, "connections_answered": .., "zero_window": Z,
 * "zw_answered": .., "zw_send_ms": ..}.
 * Exit 0 when every request was answered correctly, 1 otherwise, 2 on bad
 * usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <modbus/modbus.h>

static int timeout_s = 5;

static bool read_ok(modbus_t *ctx, int addr)
{
	uint16_t regs[4];
	int i;

	if (modbus_read_registers(ctx, addr, 4, regs) != 4) {
		/* Whatever half answer is left must not shift the next one. */
		modbus_flush(ctx);
		return false;
	}
	for (i = 0; i < 4; i++)
		if (regs[i] != 1000 + addr + i)
			return false;
	return true;
}

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Read exactly n bytes within the timeout. */
static bool read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, timeout_s * 1000) <= 0)
			return false;
		r = recv(fd, b + got, n - got, 0);
		if (r <= 0)
			return false;
		got += r;
	}
	return true;
}

/* R rounds of M pipelined reads; the number answered correctly. */
static int pipelined(const char *host, const char *port, int rounds, int m)
{
	uint8_t req[64 * 12], ans[13];
	int fd, r, i, good = 0;
	uint16_t tid = 1;

	fd = tcp_connect(host, port);
	if (fd < 0)
		return 0;
	for (r = 0; r < rounds; r++) {
		uint16_t first = tid;

		for (i = 0; i < m; i++, tid++) {
			uint8_t *q = req + 12 * i;

			q[0] = tid >> 8;
			q[1] = tid & 0xff;
			q[2] = q[3] = q[4] = 0;
			q[5] = 6;
			q[6] = 1;
			q[7] = 3;
			q[8] = 0;
			q[9] = i;
			q[10] = 0;
			q[11] = 2;
		}
		if (send(fd, req, 12 * m, MSG_NOSIGNAL) != 12 * m)
			break;
		/* Each answer: MBAP + 03 + byte count 4 + two registers. */
		for (i = 0; i < m; i++) {
			uint16_t t = first + i;

			if (!read_full(fd, ans, 13))
				goto out;
			if ((ans[0] << 8 | ans[1]) == t && ans[7] == 3 &&
			    ans[8] == 4 &&
			    (ans[9] << 8 | ans[10]) == 1000 + i &&
			    (ans[11] << 8 | ans[12]) == 1001 + i)
				good++;
		}
	}
out:
	close(fd);
	return good;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Z reads written at once through a small send buffer, answers read as
 * they come; the number answered correctly, *send_ms the writing time.
 */
static int zero_window(const char *host, const char *port, int z, long *send_ms)
{
	size_t total = (size_t)z * 12, sent = 0, got = 0;
	uint8_t *req, ans[11 * 64];
	int fd, small = 4096, good = 0, i;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	struct timespec t0;
	size_t have = 0;

	*send_ms = 0;
	if (getaddrinfo(host, port, &hints, &ai))
		return 0;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		freeaddrinfo(ai);
		close(fd);
		return 0;
	}
	freeaddrinfo(ai);
	req = malloc(total);
	if (!req) {
		close(fd);
		return 0;
	}
	for (i = 0; i < z; i++) {
		uint8_t *q = req + 12 * i;
		uint16_t tid = i + 1;

		q[0] = tid >> 8;
		q[1] = tid & 0xff;
		q[2] = q[3] = q[4] = 0;
		q[5] = 6;
		q[6] = 1;
		q[7] = 3;
		q[8] = 0;
		q[9] = i % 32;
		q[10] = 0;
		q[11] = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Each answer: MBAP + 03 + byte count 2 + one register. */
	while (got < (size_t)z && ms_since(&t0) < 4000L * timeout_s) {
		struct pollfd p = {.fd = fd,
				   .events = POLLIN |
					     (sent < total ? POLLOUT : 0)};
		ssize_t r;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (p.revents & POLLOUT) {
			r = send(fd, req + sent, total - sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0) {
				sent += r;
				if (sent == total)
					*send_ms = ms_since(&t0);
			}
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = recv(fd, ans + have, sizeof(ans) - have, MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN)
				continue;
			break;
		}
		have += r;
		while (have >= 11) {
			uint16_t tid = got + 1;

			if ((ans[0] << 8 | ans[1]) == tid && ans[7] == 3 &&
			    ans[8] == 2 &&
			    (ans[9] << 8 | ans[10]) == 1000 + (int)(got % 32))
				good++;
			got++;
			memmove(ans, ans + 11, have - 11);
			have -= 11;
		}
	}
	free(req);
	close(fd);
	return good;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: modbus-load [--timeout S] [--requests N] "
		"[--pipeline M] [--rounds R]\n"
		"                   [--keepalive-pause S] [--connections C]\n"
		"                   [--zero-window Z --zw-port P] ADDR PORT\n");
}

int main(int argc, char **argv)
{
	int n = 100, m = 8, rounds = 10, pause = 0, i, answered = 0, pgood;
	int conns = 0, cgood = 0, z = 0, zgood = 0;
	const char *host = NULL, *port = NULL, *ka = "off", *zport = NULL;
	long zms = 0;
	modbus_t *ctx;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pipeline") && i + 1 < argc)
			m = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keepalive-pause") && i + 1 < argc)
			pause = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
			conns = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--zero-window") && i + 1 < argc)
			z = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--zw-port") && i + 1 < argc)
			zport = argv[++i];
		else if (!host)
			host = argv[i];
		else if (!port)
			port = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!host || !port || timeout_s < 1 || timeout_s > 60 || n < 0 ||
	    n > 100000 || m < 1 || m > 64 || rounds < 0 || rounds > 10000 ||
	    pause < 0 || pause > 60 || conns < 0 || conns > 1000 || z < 0 ||
	    z > 60000 || (z && !zport)) {
		usage(stderr);
		return 2;
	}

	/* Reads and the keepalive pause: one libmodbus connection. */
	if (n || pause) {
		ctx = modbus_new_tcp_pi(host, port);
		if (!ctx) {
			fprintf(stderr, "modbus-load: %s\n",
				modbus_strerror(errno));
			return 1;
		}
		modbus_set_response_timeout(ctx, timeout_s, 0);
		modbus_set_slave(ctx, 1);
		if (modbus_connect(ctx) < 0) {
			fprintf(stderr, "modbus-load: connect: %s\n",
				modbus_strerror(errno));
			modbus_free(ctx);
			return 1;
		}
		for (i = 0; i < n; i++)
			answered += read_ok(ctx, i % 32);
		if (pause) {
			int fd = modbus_get_socket(ctx), one = 1, cnt = 2;

			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
				   sizeof(one));
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &one,
				   sizeof(one));
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &one,
				   sizeof(one));
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
				   sizeof(cnt));
			sleep(pause);
			ka = read_ok(ctx, 0) ? "ok" : "failed";
		}
		modbus_close(ctx);
		modbus_free(ctx);
	}
	pgood = rounds ? pipelined(host, port, rounds, m) : 0;
	for (i = 0; i < conns; i++) {
		ctx = modbus_new_tcp_pi(host, port);
		if (!ctx)
			continue;
		modbus_set_response_timeout(ctx, timeout_s, 0);
		modbus_set_slave(ctx, 1);
		if (modbus_connect(ctx) == 0)
			cgood += read_ok(ctx, i % 32);
		modbus_close(ctx);
		modbus_free(ctx);
	}
	if (z)
		zgood = zero_window(host, zport, z, &zms);
	printf("{\"requests\": %d, \"answered\": %d, \"keepalive\": \"%s\", "
	       "\"pipelined\": %d, \"pipelined_answered\": %d, "
	       "\"connections\": %d, \"connections_answered\": %d, "
	       "\"zero_window\": %d, \"zw_answered\": %d, "
	       "\"zw_send_ms\": %ld}\n",
	       n, answered, ka, rounds * m, pgood, conns, cgood, z, zgood, zms);
	if (answered != n || !strcmp(ka, "failed") || pgood != rounds * m ||
	    cgood != conns || zgood != z)
		return 1;
	return 0;
}
