// SPDX-License-Identifier: GPL-2.0
/*
 * Crafted frames through the real XDP program (BPF_PROG_TEST_RUN): time-
 * boxed flows (valid:) opening, cutting and refusing at the kernel's
 * clock, and traffic to the gateway itself (self).
 */
#include "gatetest.h"

CG_TEST_GLOBALS;

/* A Unix time as RFC 3339 in UTC. */
static const char *rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

enum {
	T_ENDED,
	T_NOT_YET,
	T_OPEN,
	T_CLOSED_FIRST,
	T_OPEN_SECOND,
	T_FALLBACK,
	T_UDP_ENDED,
	T_UDP_FALLBACK,
	T_ANY_ENDED,
	T_TCP_PORT,
	T_SHORT,
};

/*
 * Time-boxed flows (`valid:`): before, in and after the window; falling
 * through to the next covering flow (within one lookup kind, and across
 * kinds); and an established connection cut when its window ends, for
 * both directions, on the fast path.
 */
static void test_timed(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	char t[8][32], *text = NULL;
	const char *hmi = "198.18.10.5", *plc = "198.18.20.11";
	time_t now = time(NULL), end = now + 8;
	size_t len;
	int n;

	rfc3339(now - 7200, t[0], sizeof(t[0]));
	rfc3339(now + 7200, t[1], sizeof(t[1]));
	rfc3339(now + 3600, t[2], sizeof(t[2]));
	rfc3339(now + 10800, t[3], sizeof(t[3]));
	rfc3339(now - 3600, t[4], sizeof(t[4]));
	rfc3339(end, t[5], sizeof(t[5]));
	n = asprintf(
		&text,
		"version: 1\n"
		"name: timed\n"
		"zones:\n"
		"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
		"  control: {interfaces: [crane0], networks: "
		"[198.18.20.0/24]}\n"
		"hosts: {hmi: 198.18.10.5, plc: 198.18.20.11}\n"
		"flows:\n"
		"  - {name: ended, from: hmi, to: plc, proto: tcp, ports: "
		"[8080], valid: {until: %s}}\n"
		"  - {name: not-yet, from: hmi, to: plc, proto: tcp, ports: "
		"[8081], valid: {from: %s}}\n"
		"  - {name: open, from: hmi, to: plc, proto: tcp, ports: "
		"[8082], valid: {from: %s, until: %s}}\n"
		"  - {name: closed-first, from: hmi, to: plc, proto: tcp, "
		"ports: [8083], valid: {from: %s, until: %s}}\n"
		"  - {name: open-second, from: hmi, to: plc, proto: tcp, "
		"ports: [8083, 8084], valid: {until: %s}}\n"
		"  - {name: fallback, from: hmi, to: plc, proto: tcp, ports: "
		"[\"8083-8085\"]}\n"
		"  - {name: udp-ended, from: hmi, to: plc, proto: udp, ports: "
		"[9000], valid: {from: %s, until: %s}}\n"
		"  - {name: udp-fallback, from: business, to: control, proto: "
		"udp, ports: [9000]}\n"
		"  - {name: any-ended, from: hmi, to: plc, proto: any, valid: "
		"{until: %s}}\n"
		"  - {name: tcp-port, from: hmi, to: plc, proto: tcp, ports: "
		"[8086]}\n"
		"  - {name: short, from: hmi, to: plc, proto: tcp, ports: "
		"[8090], valid: {until: %s}}\n",
		t[0], t[1], t[0], t[1], t[2], t[1], t[3], t[0], t[4], t[4],
		t[5]);
	if (!ASSERT_TRUE(n > 0, "timed: policy text"))
		return;
	c.g = load(text, &p, &cp);
	if (!c.g)
		goto out;
	ASSERT_TRUE(cp->n_chains > 0, "timed: the compiler made chains");

#define TIMED(name, sport, dport, flags, verdict, reason, flow)                \
	do {                                                                   \
		cg_frame_tcp(&s, hmi, plc, sport, dport, flags);               \
		len = build(&s, buf);                                          \
		expect(&c, name, "biz0", buf, len, verdict, reason, flow);     \
	} while (0)

	TIMED("timed: after the window: no-rule", 40000, 8080, CG_TCP_SYN, DROP,
	      CG_R_NO_RULE, NONE);
	TIMED("timed: before the window: no-rule", 40000, 8081, CG_TCP_SYN,
	      DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: in the window: allowed", 40000, 8082, CG_TCP_SYN, PASS,
	      CG_R_ALLOWED, T_OPEN);
	TIMED("timed: falls through to the next open flow", 40000, 8083,
	      CG_TCP_SYN, PASS, CG_R_ALLOWED, T_OPEN_SECOND);
	TIMED("timed: later port of the second flow", 40000, 8084, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_OPEN_SECOND);
	TIMED("timed: untimed flow on its own port", 40000, 8085, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_FALLBACK);
	TIMED("timed: a closed proto-any flow yields to a port flow", 40000,
	      8086, CG_TCP_SYN, PASS, CG_R_ALLOWED, T_TCP_PORT);
	cg_frame_udp(&s, hmi, plc, 40000, 9000);
	len = build(&s, buf);
	expect(&c, "timed: falls through to a later untimed flow", "biz0", buf,
	       len, PASS, CG_R_ALLOWED, T_UDP_FALLBACK);
	cg_frame_icmp(&s, hmi, plc, 8, 0, 7);
	len = build(&s, buf);
	expect(&c, "timed: closed proto-any flow, nothing else: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);

	/*
	 * A connection in the window, established, then cut at its end. The
	 * window must outlast the load (the verifier takes seconds on a busy
	 * machine).
	 */
	if (!ASSERT_TRUE(time(NULL) + 2 <= end,
			 "timed: loaded well before the short window ends"))
		goto out;
	TIMED("timed: short window opens a connection", 41000, 8090, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_SHORT);
	cg_frame_tcp(&s, plc, hmi, 8090, 41000, CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "timed: reply in the window", "crane0", buf, len, PASS,
	       CG_R_REPLY, T_SHORT);
	TIMED("timed: established, in the window", 41000, 8090, CG_TCP_ACK,
	      PASS, CG_R_ALLOWED, T_SHORT);
	/* Past the end (whole seconds; a margin for the clocks' rounding). */
	while (time(NULL) <= end)
		usleep(100000);
	usleep(200000);
	cg_frame_tcp(&s, plc, hmi, 8090, 41000, CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "timed: reply after the window: cut", "crane0", buf, len,
	       DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: established after the window: cut", 41000, 8090,
	      CG_TCP_ACK, DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: no new connection after the window", 41001, 8090,
	      CG_TCP_SYN, DROP, CG_R_NO_RULE, NONE);
#undef TIMED
out:
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	free(text);
}

/*
 * The gateway itself (`self`, README "The gateway itself"): its addresses,
 * learned from the sandbox's biz0 as apply learns them, are reached only
 * through `to: self`; ARP and ND still pass; a frame from them is spoofed;
 * a reply to a connection the gateway opened (a real socket in this
 * namespace) passes along a `from: self` flow only.
 */
static const char *self_text =
	"version: 1\n"
	"name: bpf-self\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24, "
	"\"2001:2:0:10::/64\"]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"  mgmt: {interfaces: [mgmt0], networks: [198.18.30.0/24]}\n"
	"flows:\n"
	"  - {name: mgmt-ssh-gw, from: mgmt, to: self, proto: tcp, ports: "
	"[22]}\n"
	"  - {name: gw-fetch, from: self, to: business, proto: tcp, ports: "
	"[8080]}\n"
	"  - {name: ping-gw, from: business, to: self, proto: icmp}\n";

/* A socket of the gateway connecting to ADDR:PORT; its local port, or 0. */
static uint16_t gw_connect(const char *addr, uint16_t port, int *fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port)};
	socklen_t sl = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return 0;
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		return 0;
	if (getsockname(*fd, (struct sockaddr *)&sa, &sl))
		return 0;
	return ntohs(sa.sin_port);
}

static void test_self(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_diags d = {.file = "self.yaml"};
	struct cg_gate_opts o = {.record = true, .learn_self = true};
	struct cg_frame_spec s;
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(22)};
	uint8_t buf[CG_FRAME_MAX], body[64];
	int lfd = -1, fd1 = -1, fd2 = -1, one = 1, err;
	uint16_t p1, p2;
	size_t len, n;

	/* The gateway's addresses on biz0, and a route for its connections. */
	if (!ASSERT_OK(system("ip link set lo up && ip link set biz0 up && "
			      "ip link set cgp0 up && "
			      "ip addr add 198.18.10.1/24 dev biz0 && "
			      "ip addr add 2001:2:0:10::1/64 dev biz0 nodad"),
		       "self: addresses on biz0"))
		return;
	err = cg_policy_parse("self.yaml", self_text, strlen(self_text), &p,
			      &d);
	if (!err)
		err = cg_compile(p, &cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "self: policy compiles") ||
	    !ASSERT_OK(cg_gate_load(cp, &o, &c.g),
		       "self: instance loads and learns biz0's addresses"))
		goto out;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> its gateway's address, TCP 22: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.77", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> another business host: intra-zone",
	       "biz0", buf, len, PASS, CG_R_INTRA_ZONE, NONE);
	cg_frame_tcp(&s, "198.18.30.5", "198.18.10.1", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: mgmt -> the gateway, TCP 22: allowed (to: self)",
	       "mgmt0", buf, len, PASS, CG_R_ALLOWED, 0);
	cg_frame_tcp(&s, "198.18.30.5", "198.18.10.1", 40000, 23, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: mgmt -> the gateway, TCP 23: no-rule", "mgmt0", buf,
	       len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_icmp(&s, "198.18.10.5", "198.18.10.1", 8, 0, 7);
	len = build(&s, buf);
	expect(&c, "self: business pings the gateway: allowed (ping-gw)",
	       "biz0", buf, len, PASS, CG_R_ALLOWED, 2);
	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:10::1", 40000, 22,
		     CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> the gateway over IPv6: no-rule", "biz0",
	       buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.1", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c,
	       "self: a frame from the gateway's address coming in: "
	       "spoofed-source",
	       "biz0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	cg_frame_arp(&s, "198.18.10.5", "198.18.10.1");
	len = build(&s, buf);
	expect(&c, "self: ARP for the gateway passes", "biz0", buf, len, PASS,
	       CG_R_ARP, NONE);
	n = nd_body(body, "2001:2:0:10::1", 1, 0x05);
	c.keep_mac = true;
	len = nd_frame(buf, "2001:2:0:10::5", "ff02::1:ff00:1", 135, body, n,
		       0x05);
	expect(&c, "self: neighbour solicitation for the gateway passes",
	       "biz0", buf, len, PASS, CG_R_ND, NONE);
	c.keep_mac = false;

	/* The gateway's own connections: real sockets in this namespace. */
	p1 = gw_connect("198.18.10.5", 8080, &fd1);
	p2 = gw_connect("198.18.10.5", 8081, &fd2);
	if (!ASSERT_NEQ(p1, 0, "self: the gateway connects to :8080") ||
	    !ASSERT_NEQ(p2, 0, "self: the gateway connects to :8081"))
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1,
		     CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c,
	       "self: the SYN-ACK to the gateway's connection: reply "
	       "(from: self)",
	       "biz0", buf, len, PASS, CG_R_REPLY, 1);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8081, p2,
		     CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "self: a reply on a port no from: self flow names: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: a bare SYN to the connection's port is no reply",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1 ^ 1,
		     CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "self: an ACK to a port with no socket: no-rule", "biz0",
	       buf, len, DROP, CG_R_NO_RULE, NONE);

	/* A service: a listener bound to its port is reached by to: self
	 * only, whatever the frame's flags. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "198.18.10.1", &la.sin_addr);
	if (!ASSERT_OK(bind(lfd, (struct sockaddr *)&la, sizeof(la)) ||
			       listen(lfd, 4),
		       "self: a service listens on 198.18.10.1:22"))
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, 22, CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c,
	       "self: an ACK from :8080 to the service's port: no-rule "
	       "(a service is no connection of the gateway)",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
out:
	if (lfd >= 0)
		close(lfd);
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
}

int main(void)
{
	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 4), "private namespace"))
		return cg_test_done();
	test_timed();
	test_self();
	return cg_test_done();
}
