// SPDX-License-Identifier: GPL-2.0
/* Event fan-out from `run` to local subscribers: see fanout.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fanout.h"

int cg_fanout_path(const struct cg_env *env, char *buf, size_t len)
{
	char root[PATH_MAX];
	const char *p;
	uint32_t h = 2166136261u; /* FNV-1a */
	int n;

	if (!realpath(env->pin_root, root))
		snprintf(root, sizeof(root), "%s", env->pin_root);
	for (p = root; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	n = snprintf(buf, len, "%s/events-%08x.sock", env->state_dir, h);
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* Root, or the user run runs as, may subscribe; nobody else. */
static bool peer_trusted(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

struct subscriber {
	int fd;
	char *buf; /* queued bytes: buf[off .. off + len) */
	size_t off, len;
	uint64_t lost; /* not yet reported to the subscriber */
	bool want_out; /* EPOLLOUT armed */
};

struct cg_fanout {
	int listen_fd, epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct subscriber subs[CG_FANOUT_MAX_SUBSCRIBERS];
};

static int bind_at(const char *path, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Created 0600 from the start, not chmod-ed after a window. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = -errno;
	umask(old);
	if (!err && listen(fd, CG_FANOUT_MAX_SUBSCRIBERS))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

int cg_fanout_open(const struct cg_env *env, struct cg_fanout **out)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ~0ull};
	struct cg_fanout *f;
	int err, fd, i;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->listen_fd = f->epfd = -1;
	for (i = 0; i < CG_FANOUT_MAX_SUBSCRIBERS; i++)
		f->subs[i].fd = -1;
	if ((err = cg_fanout_path(env, f->path, sizeof(f->path))))
		goto fail;
	err = bind_at(f->path, &f->listen_fd);
	if (err == -EADDRINUSE) {
		/* A run that was killed leaves its socket: nobody answers. */
		fd = cg_fanout_connect(env);
		if (fd >= 0 || fd == -EPROTO) {
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		unlink(f->path);
		err = bind_at(f->path, &f->listen_fd);
	}
	if (err)
		goto fail;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f->epfd < 0 ||
	    epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->listen_fd, &ev)) {
		err = -errno;
		unlink(f->path);
		goto fail;
	}
	*out = f;
	return 0;
fail:
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->epfd >= 0)
		close(f->epfd);
	free(f);
	return err;
}

int cg_fanout_fd(const struct cg_fanout *f)
{
	return f->epfd;
}

static void drop(struct cg_fanout *f, struct subscriber *s)
{
	epoll_ctl(f->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Append one record if it fits whole; false if it does not. */
static bool put(struct subscriber *s, uint32_t type, const void *p,
		uint32_t len)
{
	struct cg_fanout_hdr h = {.type = type, .len = len};

	if (s->len + sizeof(h) + len > CG_FANOUT_BUF)
		return false;
	if (s->off + s->len + sizeof(h) + len > CG_FANOUT_BUF) {
		memmove(s->buf, s->buf + s->off, s->len);
		s->off = 0;
	}
	memcpy(s->buf + s->off + s->len, &h, sizeof(h));
	memcpy(s->buf + s->off + s->len + sizeof(h), p, len);
	s->len += sizeof(h) + len;
	return true;
}

static void arm(struct cg_fanout *f, struct subscriber *s, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)(s - f->subs),
	};

	if (s->want_out == out)
		return;
	if (!epoll_ctl(f->epfd, EPOLL_CTL_MOD, s->fd, &ev))
		s->want_out = out;
}

/*
 * Write what the socket takes; false when the subscriber is gone. A loss
 * is reported as soon as there is room for the record that says so.
 */
static bool flush_one(struct cg_fanout *f, struct subscriber *s)
{
	for (;;) {
		ssize_t n;

		if (s->lost && put(s, CG_FAN_LOST, &s->lost, sizeof(s->lost)))
			s->lost = 0;
		if (!s->len)
			break;
		n = send(s->fd, s->buf + s->off, s->len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		s->off += n;
		s->len -= n;
	}
	if (!s->len)
		s->off = 0;
	arm(f, s, s->len != 0);
	return true;
}

static void accept_one(struct cg_fanout *f)
{
	uint32_t hello[2] = {CG_FANOUT_MAGIC, sizeof(struct cg_event)};
	struct subscriber *s = NULL;
	struct epoll_event ev = {.events = EPOLLIN};
	int fd, i;

	fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CG_FANOUT_MAX_SUBSCRIBERS && !s; i++)
		if (f->subs[i].fd < 0)
			s = &f->subs[i];
	if (!s || !peer_trusted(fd)) {
		close(fd);
		return;
	}
	s->buf = malloc(CG_FANOUT_BUF);
	ev.data.u64 = (uint64_t)(s - f->subs);
	if (!s->buf || epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(s->buf);
		s->buf = NULL;
		close(fd);
		return;
	}
	s->fd = fd;
	put(s, CG_FAN_HELLO, hello, sizeof(hello));
	if (!flush_one(f, s))
		drop(f, s);
}

void cg_fanout_service(struct cg_fanout *f)
{
	struct epoll_event evs[CG_FANOUT_MAX_SUBSCRIBERS + 1];
	int n, i;

	if (!f)
		return;
	n = epoll_wait(f->epfd, evs, CG_FANOUT_MAX_SUBSCRIBERS + 1, 0);
	for (i = 0; i < n; i++) {
		struct subscriber *s;
		char junk[64];

		if (evs[i].data.u64 == ~0ull) {
			accept_one(f);
			continue;
		}
		s = &f->subs[evs[i].data.u64];
		if (s->fd < 0)
			continue;
		/* Subscribers send nothing: readable means gone. */
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			ssize_t r =
				recv(s->fd, junk, sizeof(junk), MSG_DONTWAIT);

			if (r == 0 ||
			    (r < 0 && errno != EAGAIN && errno != EINTR)) {
				drop(f, s);
				continue;
			}
		}
		if ((evs[i].events & EPOLLOUT) && !flush_one(f, s))
			drop(f, s);
	}
}

void cg_fanout_event(struct cg_fanout *f, const struct cg_event *e)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < CG_FANOUT_MAX_SUBSCRIBERS; i++) {
		struct subscriber *s = &f->subs[i];

		if (s->fd < 0)
			continue;
		/* A loss is reported before the next event that fits. */
		if (s->lost && put(s, CG_FAN_LOST, &s->lost, sizeof(s->lost)))
			s->lost = 0;
		if (s->lost || !put(s, CG_FAN_EVENT, e, sizeof(*e)))
			s->lost++;
	}
}

void cg_fanout_flush(struct cg_fanout *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < CG_FANOUT_MAX_SUBSCRIBERS; i++)
		if (f->subs[i].fd >= 0 && f->subs[i].len &&
		    !flush_one(f, &f->subs[i]))
			drop(f, &f->subs[i]);
}

void cg_fanout_close(struct cg_fanout *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < CG_FANOUT_MAX_SUBSCRIBERS; i++)
		if (f->subs[i].fd >= 0) {
			/* What is queued still goes out, as far as it can. */
			flush_one(f, &f->subs[i]);
			drop(f, &f->subs[i]);
		}
	unlink(f->path);
	close(f->listen_fd);
	close(f->epfd);
	free(f);
}

int cg_fanout_connect(const struct cg_env *env)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct {
		struct cg_fanout_hdr h;
		uint32_t hello[2];
	} m;
	struct pollfd pfd;
	struct stat st;
	size_t got = 0;
	int fd, err;

	if ((err = cg_fanout_path(env, sa.sun_path, sizeof(sa.sun_path))))
		return err;
	if (lstat(sa.sun_path, &st))
		return -errno;
	/* Only root's (or our own) socket, and nobody else may write it. */
	if (!S_ISSOCK(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0077))
		return -EPERM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto fail;
	}
	if (!peer_trusted(fd)) {
		err = -EPERM;
		goto fail;
	}
	/* The hello comes at once; a run that does not say it is stuck. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < sizeof(m)) {
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0) {
			err = -ETIMEDOUT;
			goto fail;
		}
		n = recv(fd, (char *)&m + got, sizeof(m) - got, 0);
		if (n <= 0) {
			err = n ? -errno : -ECONNRESET;
			goto fail;
		}
		got += n;
	}
	if (m.h.type != CG_FAN_HELLO || m.h.len != sizeof(m.hello) ||
	    m.hello[0] != CG_FANOUT_MAGIC ||
	    m.hello[1] != sizeof(struct cg_event)) {
		err = -EPROTO;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}
