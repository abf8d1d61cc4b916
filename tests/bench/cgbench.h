/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside cgbench: what its commands share. cgbench.c has the options, the
 * frame classes and their frames, `cost`, `gen` and `attach`; shadow.c
 * `shadow`; ops.c `ops` and `phases`; first2.c `first2`.
 */
#ifndef CG_CGBENCH_H
#define CG_CGBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compile.h"
#include "frames.h"
#include "gate.h"

#define MAX_SAMPLES 31
#define MAX_FIRST 512 /* distinct frames per sample */

struct opts {
	unsigned repeat;
	unsigned samples;
	unsigned first; /* distinct frames per sample, first-packet classes */
	unsigned sizes[8];
	unsigned n_sizes;
	bool max; /* also the largest policy that fits */
	const char *csv;
	const char *proto;
	const char *ifaces[2];
	const char *name;
	bool verbose;
	bool timed; /* every benchmark flow time-boxed (valid:, open now) */
	const char *cls; /* cost: only these frame classes (A,B,..) */
};

struct stat3 {
	double median, min, max;
};

/*
 * The frame classes. `first` classes are measured on distinct frames with
 * repeat = 1 (see the top of the file); the others are one frame repeated.
 * Modbus/TCP read and write frames join this table with the ICS issue.
 */
enum cls_mode {
	CLS_REPEAT,
	CLS_FIRST,
	CLS_FIRST_REPLY,
};

struct cls {
	const char *name;
	enum cls_mode mode;
	int iface;	 /* 0 business (bench0), 1 crane (bench1) */
	unsigned reason; /* what the gate must say, checked once */
	const char *what;
};

enum {
	C_FIRST,
	C_REPLY,
	C_ESTABLISHED,
	C_ESTABLISHED_REPLY,
	C_NO_RULE,
	C_SPOOFED,
	C_MULTI_HOMED,
	C_MALFORMED,
	C_MODBUS_READ,
	C_MODBUS_WRITE,
	C_MODBUS_NEW,
	C_S7_NEW,
	C_S7_READ,
	C_MODBUS_RULES,
	C_MODBUS_RULES_NEW,
	C_MODBUS_WRITE_NEW,
	C_MODBUS_WRITE_RESET,
	C_ENIP_READ_NEW,
	C_ENIP_MSP_WRITE,
	C_N
};

struct frame {
	uint8_t buf[1024];
	size_t len;
};

struct sized {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
	char *yaml;
};

extern const struct cls classes[C_N];
extern int ifindex[2];

void build(int c, unsigned n_flows, unsigned k, struct frame *fr,
	   struct frame *fwd);
FILE *csv_open(const char *path, const char *header);
double median(double *v, unsigned n);
double run_once(int prog_fd, int ifi, const void *frame, size_t len,
		unsigned repeat, int *retval);
void sized_free(struct sized *z);
int sized_make(const struct opts *o, unsigned n, bool load, struct sized *z,
	       char *why, size_t why_len);
struct stat3 stat3(const double *v, unsigned n);
void tcp_frame(struct frame *fr, const uint8_t src[4], const uint8_t dst[4],
	       uint16_t sport, uint16_t dport, uint8_t flags);

/* The commands besides cost, gen and attach. */
int cmd_shadow(const struct opts *o);
int cmd_ops(const struct opts *o);
int cmd_phases(const struct opts *o);
int cmd_first2(const struct opts *o);
int cmd_lines(unsigned id);

#endif
