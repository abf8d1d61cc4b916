/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection records (cranegate(8), "Connection records and learning a
 * policy"): `run` sweeps the connection table once a second and writes
 * one record per connection when it ends, and interim records of long
 * ones, as JSON lines in its log and, with --ipfix, as IPFIX (RFC 7011,
 * biflow RFC 5103).
 */
#ifndef CRANEGATE_RECORDS_H
#define CRANEGATE_RECORDS_H

#include <stdio.h>

#include "loader.h"
#include "policy.h"

struct cg_records;

/*
 * `ipfix`: "HOST:PORT" (UDP) or "tcp://HOST:PORT", or NULL for JSON only.
 * The exporter connects lazily; a collector that is down costs records,
 * never the sweep.
 */
int cg_records_open(const struct cg_env *env, const char *ipfix,
		    struct cg_records **out);
/* The timeouts and the record interval of the policy now applied. */
void cg_records_limits(struct cg_records *r, const struct cg_limits *l);
/*
 * One sweep: records of the connections that ended, vanished or are due
 * an interim record, written to `log` (JSON lines) and the collector.
 * Returns the records written.
 */
int cg_records_sweep(struct cg_records *r, FILE *log);
void cg_records_close(struct cg_records *r);

/* Records sent to the collector, and those it could not take. */
unsigned long long cg_records_exported(const struct cg_records *r);

#endif
