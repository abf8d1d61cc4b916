// SPDX-License-Identifier: GPL-2.0
/*
 * modbus-client: one Modbus/TCP request (Debian's libmodbus) on a fresh
 * connection, for the end-to-end tests.
 *
 *	modbus-client [--timeout S] [--unit N] ADDR PORT read ADDR COUNT (FC 3)
 *	modbus-client ... ADDR PORT read-input ADDR COUNT         (FC 4)
 *	modbus-client ... ADDR PORT read-coils ADDR COUNT         (FC 1)
 *	modbus-client ... ADDR PORT write ADDR VALUE              (FC 6)
 *	modbus-client ... ADDR PORT write-multi ADDR VALUE...     (FC 16)
 *	modbus-client ... ADDR PORT write-coil ADDR 0|1           (FC 5)
 *
 * --unit N sets the unit id (default: libmodbus's for TCP, 255).
 *
 * Reads print the values, space-separated, on one line. Exit 0 when the
 * server answered, 1 when the request failed (no connection, no answer
 * within the timeout, default 2 s, or an exception), 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <modbus/modbus.h>

#define MAX_VALUES 123 /* what one FC 3 or FC 16 request can carry */

static void usage(FILE *out)
{
	fprintf(out, "usage: modbus-client [--timeout S] [--unit N] ADDR PORT "
		     "OP ARGS...\n"
		     "  OP: read ADDR COUNT | read-input ADDR COUNT | "
		     "read-coils ADDR COUNT\n"
		     "      write ADDR VALUE | write-multi ADDR VALUE... | "
		     "write-coil ADDR 0|1\n");
}

int main(int argc, char **argv)
{
	uint16_t regs[MAX_VALUES];
	uint8_t bits[MAX_VALUES];
	int timeout = 2, i = 1, addr, n = 0, rc, k, unit = -1;
	const char *op;
	modbus_t *ctx;

	while (argc - i > 1 &&
	       (!strcmp(argv[i], "--timeout") || !strcmp(argv[i], "--unit"))) {
		if (!strcmp(argv[i], "--timeout"))
			timeout = atoi(argv[i + 1]);
		else
			unit = atoi(argv[i + 1]);
		i += 2;
	}
	if (argc - i < 4) {
		usage(stderr);
		return 2;
	}
	op = argv[i + 2];
	addr = atoi(argv[i + 3]);
	ctx = modbus_new_tcp(argv[i], atoi(argv[i + 1]));
	if (!ctx) {
		fprintf(stderr, "modbus-client: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_set_response_timeout(ctx, (uint32_t)timeout, 0);
	if (unit >= 0)
		modbus_set_slave(ctx, unit);
	if (modbus_connect(ctx) < 0) {
		fprintf(stderr, "modbus-client: connect to %s:%s: %s\n",
			argv[i], argv[i + 1], modbus_strerror(errno));
		modbus_free(ctx);
		return 1;
	}

	i += 4;
	if (!strcmp(op, "read") || !strcmp(op, "read-input") ||
	    !strcmp(op, "read-coils")) {
		n = i < argc ? atoi(argv[i]) : 1;
		if (n < 1 || n > MAX_VALUES) {
			usage(stderr);
			rc = -2;
		} else if (!strcmp(op, "read-coils")) {
			rc = modbus_read_bits(ctx, addr, n, bits);
		} else if (!strcmp(op, "read")) {
			rc = modbus_read_registers(ctx, addr, n, regs);
		} else {
			rc = modbus_read_input_registers(ctx, addr, n, regs);
		}
		if (rc > 0) {
			for (k = 0; k < rc; k++)
				printf("%s%u", k ? " " : "",
				       !strcmp(op, "read-coils")
					       ? (unsigned int)bits[k]
					       : (unsigned int)regs[k]);
			printf("\n");
		}
	} else if (!strcmp(op, "write") && i < argc) {
		rc = modbus_write_register(ctx, addr, (uint16_t)atoi(argv[i]));
	} else if (!strcmp(op, "write-coil") && i < argc) {
		rc = modbus_write_bit(ctx, addr, atoi(argv[i]) != 0);
	} else if (!strcmp(op, "write-multi") && i < argc) {
		for (; i < argc && n < MAX_VALUES; i++)
			regs[n++] = (uint16_t)atoi(argv[i]);
		rc = modbus_write_registers(ctx, addr, n, regs);
	} else {
		usage(stderr);
		rc = -2;
	}
	if (rc == -1)
		fprintf(stderr, "modbus-client: %s: %s\n", op,
			modbus_strerror(errno));
	modbus_close(ctx);
	modbus_free(ctx);
	return rc == -2 ? 2 : rc < 0 ? 1 : 0;
}
