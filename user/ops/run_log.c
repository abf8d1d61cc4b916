// SPDX-License-Identifier: GPL-2.0
/*
 * `run`'s log (--log): opened line-buffered, event lines written a batch
 * at a time, and records (apply, summary, connection, ...) written whole
 * after the events before them, so that the log keeps their order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon_int.h"
#include "output.h"

static void iso_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/*
 * The event lines of a batch, whole lines in one write(2) (more when the
 * kernel takes part of it), after whatever stdio holds, so that the log
 * keeps the order of its records. 0 or an errno; on an error what was
 * not written of the batch is lost, as stdio loses it.
 */
static int events_out(struct run *r)
{
	size_t at = 0;
	int fd, err = 0;

	if (!r->evbuf.len)
		return 0;
	if (fflush(r->log) || ferror(r->log)) {
		err = errno ? errno : EIO;
		clearerr(r->log);
	}
	fd = fileno(r->log);
	while (at < r->evbuf.len) {
		ssize_t n = write(fd, r->evbuf.p + at, r->evbuf.len - at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		at += n;
	}
	r->evbuf.len = 0;
	return err;
}

/* Write out what the log holds; say once when that fails. */
void log_flush(struct run *r)
{
	int err = events_out(r);

	if (fflush(r->log) || ferror(r->log)) {
		err = errno ? errno : EIO;
		clearerr(r->log);
	}
	if (err) {
		if (!r->log_broken) {
			errno = err;
			syslog(LOG_ERR, "cannot write to the event log %s: %m",
			       r->o->log_path ? r->o->log_path : "(stdout)");
		}
		r->log_broken = true;
	} else {
		r->log_broken = false;
	}
}

/* Start a log record: `{"type": "TYPE", "time": "..."`. */
void rec_begin(struct run *r, const char *type)
{
	char t[64];

	if (r->evbuf.len) /* the events before it go first */
		log_flush(r);
	iso_now(t, sizeof(t));
	fprintf(r->log, "{\"type\": \"%s\", \"time\": \"%s\"", type, t);
}

void rec_end(struct run *r)
{
	fputs("}\n", r->log);
	log_flush(r);
}

int open_log(struct run *r)
{
	FILE *f;
	int fd;

	if (!r->o->log_path) {
		r->log = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return 0;
	}
	fd = open(r->o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		  0640);
	f = fd < 0 ? NULL : fdopen(fd, "a");
	if (!f) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		fprintf(stderr, "cranegate: cannot open the event log %s: %s\n",
			r->o->log_path, strerror(-err));
		syslog(LOG_ERR, "cannot open the event log %s: %s",
		       r->o->log_path, strerror(-err));
		return err;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (r->log && r->log != stdout)
		fclose(r->log);
	r->log = f;
	return 0;
}
