// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's rule set: n flows between single hosts of two zones,
 * written as a cranegate policy and as the equivalent nftables rules
 * (linear, and as one lookup in a concatenated set). A flow between whole
 * zones would multiply in cranegate's compiler (it expands to every class
 * inside them; see README, "Policy size"), so the benchmark names hosts.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_flow(unsigned i, struct bench_flow *f)
{
	unsigned s = i % BENCH_HOSTS, d = (i / 3) % BENCH_HOSTS;

	f->src[0] = 198;
	f->src[1] = 18;
	f->src[2] = s / 256;
	f->src[3] = s % 256;
	f->dst[0] = 198;
	f->dst[1] = 19;
	f->dst[2] = d / 256;
	f->dst[3] = d % 256;
	f->port = 1024 + (i % 40000);
}

void bench_addr_str(const uint8_t a[4], char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void write_yaml(const struct bench_rules *r, FILE *out)
{
	char src[16], dst[16];
	struct bench_flow f;
	unsigned i;

	fprintf(out,
		"version: 1\nname: %s\nzones:\n"
		"  business: {interfaces: [%s], networks: [" BENCH_BIZ_NET
		"]}\n"
		"  crane: {interfaces: [%s], networks: [" BENCH_CRANE_NET "]}\n"
		"flows:\n",
		r->name, r->ifaces[0], r->ifaces[1]);
	for (i = 0; i < r->n; i++) {
		bench_flow(i, &f);
		bench_addr_str(f.src, src, sizeof(src));
		bench_addr_str(f.dst, dst, sizeof(dst));
		fprintf(out,
			"  - {name: f%u, from: %s, to: %s, proto: %s, ports: "
			"[%u]%s}\n",
			i, src, dst, r->proto, f.port,
			r->timed ? ", valid: {from: 2000-01-01T00:00:00Z, "
				   "until: 2999-01-01T00:00:00Z}"
				 : "");
	}
	/* One Modbus flow, read-only, between hosts no other flow names. */
	fprintf(out, "  - {name: modbus, from: " BENCH_MODBUS_SRC
		     ", to: " BENCH_MODBUS_DST
		     ", proto: tcp, ports: [502], modbus: read-only}\n");
	fprintf(out,
		"  - name: modbus-rules\n    from: " BENCH_MODBUS_SRC
		"\n    to: " BENCH_MODBUS_DST
		"\n    proto: tcp\n    ports: [%u]\n    modbus:\n"
		"      allow:\n",
		BENCH_MODBUS_RULES_PORT);
	for (i = 1; i <= 8; i++) {
		unsigned j;

		fprintf(out, "        - {functions: [16], units: [1], "
			     "addresses: [");
		for (j = 0; j < 8; j++)
			fprintf(out, "%s%u-%u", j ? ", " : "",
				1000 * i + 10 * j, 1000 * i + 10 * j + 4);
		fprintf(out, "]}\n");
	}
	/* The same, answering a refused request with a TCP RST. */
	fprintf(out,
		"  - {name: modbus-reset, from: " BENCH_MODBUS_SRC
		", to: " BENCH_MODBUS_DST ", proto: tcp, ports: [%u], modbus: "
		"read-only, deny: reset}\n",
		BENCH_MODBUS_RESET_PORT);
	fprintf(out, "  - {name: s7, from: " BENCH_MODBUS_SRC
		     ", to: " BENCH_MODBUS_DST
		     ", proto: tcp, ports: [102], s7comm: read-only}\n");
	fprintf(out, "  - {name: enip, from: " BENCH_MODBUS_SRC
		     ", to: " BENCH_MODBUS_DST
		     ", proto: tcp, ports: [44818], enip: read-only}\n");
}

/*
 * nftables in the netdev ingress hook of the business interface: accept
 * what a flow allows, count and drop the rest (the hook sees frames
 * before the IP stack, as close to XDP as nftables gets).
 */
static void write_nft(const struct bench_rules *r, bool set, FILE *out)
{
	char src[16], dst[16];
	struct bench_flow f;
	unsigned i;

	fprintf(out, "table netdev %s {\n", r->name);
	if (set) {
		fprintf(out, "\tset flows {\n"
			     "\t\ttype ipv4_addr . ipv4_addr . inet_service\n"
			     "\t\telements = {\n");
		for (i = 0; i < r->n; i++) {
			bench_flow(i, &f);
			bench_addr_str(f.src, src, sizeof(src));
			bench_addr_str(f.dst, dst, sizeof(dst));
			fprintf(out, "\t\t\t%s . %s . %u%s\n", src, dst, f.port,
				i + 1 < r->n ? "," : "");
		}
		fprintf(out, "\t\t}\n\t}\n");
	}
	fprintf(out,
		"\tchain ingress {\n"
		"\t\ttype filter hook ingress device \"%s\" priority 0; policy "
		"accept;\n",
		r->ifaces[0]);
	if (set) {
		fprintf(out,
			"\t\tip saddr . ip daddr . %s dport @flows accept\n",
			r->proto);
	} else {
		for (i = 0; i < r->n; i++) {
			bench_flow(i, &f);
			bench_addr_str(f.src, src, sizeof(src));
			bench_addr_str(f.dst, dst, sizeof(dst));
			fprintf(out,
				"\t\tip saddr %s ip daddr %s %s dport %u "
				"accept\n",
				src, dst, r->proto, f.port);
		}
	}
	fprintf(out, "\t\tcounter drop\n\t}\n}\n");
}

int bench_rules_write(const struct bench_rules *r, enum bench_format fmt,
		      FILE *out)
{
	switch (fmt) {
	case BENCH_YAML:
		write_yaml(r, out);
		break;
	case BENCH_NFT_LINEAR:
		write_nft(r, false, out);
		break;
	case BENCH_NFT_SET:
		write_nft(r, true, out);
		break;
	}
	return ferror(out) ? -1 : 0;
}

char *bench_policy_yaml(const struct bench_rules *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	write_yaml(r, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
