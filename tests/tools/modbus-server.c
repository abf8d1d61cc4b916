// SPDX-License-Identifier: GPL-2.0
/*
 * modbus-server: a Modbus/TCP server (Debian's libmodbus) standing in for
 * a PLC in the end-to-end tests.
 *
 *	modbus-server [--bind ADDR] [--port N] [--state FILE] [--seconds S]
 *		      [--items N]
 *
 * It serves N (default 64) coils, discrete inputs, holding and input
 * registers, to any unit id;
 * holding register i starts as 1000 + i, input register i as 2000 + i.
 * Every request it receives is logged on stdout ("request fc N unit U"),
 * and after each one, on SIGUSR1 and on exit it writes the holding
 * registers and coils to FILE (written whole, then renamed into place):
 * one "hr[I]=V" and one "coil[I]=V" line each. It serves any number of
 * clients, one select() loop, and exits on SIGINT or SIGTERM, or after S
 * seconds (default 300), so that a test cannot leave it behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
#include <modbus/modbus.h>

#define N_ITEMS_MAX 4096

static int n_items = 64;

static volatile sig_atomic_t stop, dump_now;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_now = 1;
	else
		stop = 1;
}

static int dump(const modbus_mapping_t *m, const char *path)
{
	char tmp[4096];
	FILE *f;
	int i;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < n_items; i++)
		fprintf(f, "hr[%d]=%u\n", i, m->tab_registers[i]);
	for (i = 0; i < n_items; i++)
		fprintf(f, "coil[%d]=%u\n", i, m->tab_bits[i]);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: modbus-server [--bind ADDR] [--port N] "
		     "[--state FILE] [--seconds S] [--items N]\n");
}

int main(int argc, char **argv)
{
	const char *bind_addr = NULL, *state = NULL;
	int port = 502, seconds = 300, listener = -1, fdmax, i, rc, ret = 1;
	uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
	modbus_mapping_t *map = NULL;
	modbus_t *ctx = NULL;
	struct sigaction sa;
	fd_set all;
	time_t end;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bind") && i + 1 < argc)
			bind_addr = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--state") && i + 1 < argc)
			state = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--items") && i + 1 < argc &&
			 atoi(argv[i + 1]) > 0 &&
			 atoi(argv[i + 1]) <= N_ITEMS_MAX)
			n_items = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	ctx = modbus_new_tcp(bind_addr, port);
	map = modbus_mapping_new(n_items, n_items, n_items, n_items);
	if (!ctx || !map) {
		fprintf(stderr, "modbus-server: %s\n", modbus_strerror(errno));
		goto out;
	}
	for (i = 0; i < n_items; i++) {
		map->tab_registers[i] = (uint16_t)(1000 + i);
		map->tab_input_registers[i] = (uint16_t)(2000 + i);
	}
	listener = modbus_tcp_listen(ctx, 8);
	if (listener < 0) {
		fprintf(stderr, "modbus-server: listen on %s:%d: %s\n",
			bind_addr ? bind_addr : "*", port,
			modbus_strerror(errno));
		goto out;
	}
	if (dump(map, state))
		fprintf(stderr, "modbus-server: cannot write %s\n", state);
	printf("listening on %s:%d\n", bind_addr ? bind_addr : "*", port);

	FD_ZERO(&all);
	FD_SET(listener, &all);
	fdmax = listener;
	end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
		fd_set ready = all;
		int fd;

		if (dump_now) {
			dump_now = 0;
			dump(map, state);
		}
		rc = select(fdmax + 1, &ready, NULL, NULL, &tv);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			perror("modbus-server: select");
			goto out;
		}
		for (fd = 0; fd <= fdmax; fd++) {
			if (!FD_ISSET(fd, &ready))
				continue;
			if (fd == listener) {
				int s = modbus_tcp_accept(ctx, &listener);

				if (s < 0)
					continue;
				FD_SET(s, &all);
				if (s > fdmax)
					fdmax = s;
				printf("connection %d\n", s);
				continue;
			}
			modbus_set_socket(ctx, fd);
			rc = modbus_receive(ctx, query);
			if (rc > 0) {
				int hl = modbus_get_header_length(ctx);

				printf("request fc %u unit %u\n", query[hl],
				       query[hl - 1]);
				modbus_reply(ctx, query, rc, map);
				dump(map, state);
			} else if (rc < 0) {
				/* The client went away (or sent garbage). */
				printf("connection %d closed\n", fd);
				close(fd);
				FD_CLR(fd, &all);
			}
		}
	}
	ret = 0;
out:
	if (map && dump(map, state))
		fprintf(stderr, "modbus-server: cannot write %s\n", state);
	if (listener >= 0)
		close(listener);
	if (map)
		modbus_mapping_free(map);
	if (ctx)
		modbus_free(ctx);
	return ret;
}
