/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stream rule: TCP checksums, the normalizer's hash of what the
 * receiver will see, the records walk over a segment, and inspect().
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_STREAM_H
#define CRANEGATE_BPF_STREAM_H

/*
 * The stream rule's judgement runs as a global function: the verifier
 * checks it once, on its own, instead of once for every way a frame can
 * reach step 12, and its walks keep their state in the per-CPU scratch
 * (struct cg_stream_buf), so that the stack of the whole call chain stays
 * within 512 bytes. The bpf_loop callbacks get this pointer pair.
 */
struct stream_walk {
	struct cg_stream_buf *ms;
	const struct cg_stream *s;
};

/* One step of the checksum: 512 bytes (bpf_csum_diff's most) at 512 * i. */
static long csum_step(__u64 i, void *data)
{
	struct cg_stream_buf *ms = ((struct stream_walk *)data)->ms;
	__u64 o, n;

	if (i >= CG_STREAM_MAX / 512)
		return 1;
	o = i << 9;
	if (o >= ms->cw_padded)
		return 1;
	n = ms->cw_padded - o;
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(n));
	if (n > 512)
		n = 512;
	if (n == 0)
		return 1;
	ms->cw_sum =
		bpf_csum_diff(NULL, 0, (__be32 *)(ms->b + o), n, ms->cw_sum);
	return ms->cw_sum < 0;
}

/*
 * Is the TCP checksum of the segment in ms->b[0, seglen) right? The
 * buffer has room for the zero padding to a multiple of 4.
 */
static __always_inline bool tcp_csum_ok(const struct frame *f,
					struct stream_walk *w, __u32 seglen)
{
	struct cg_stream_buf *ms = w->ms;
	__u32 fold;

	if (seglen > CG_STREAM_MAX)
		return false;
	ms->b[seglen] = 0;
	ms->b[seglen + 1] = 0;
	ms->b[seglen + 2] = 0;
	ms->cw_padded = (seglen + 3) & ~3u;
	__builtin_memset(ms->ph, 0, sizeof(ms->ph));
	if (f->family == 4) {
		/* src, dst, zero, protocol, TCP length: 12 bytes. */
		__builtin_memcpy(ms->ph, f->src, 4);
		__builtin_memcpy(ms->ph + 4, f->dst, 4);
		ms->ph[9] = IPPROTO_TCP_;
		ms->ph[10] = seglen >> 8;
		ms->ph[11] = seglen & 0xff;
		ms->cw_sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 12, 0);
	} else {
		/* src, dst, TCP length (32 bits), 3 zeros, next header. */
		__builtin_memcpy(ms->ph, f->src, 16);
		__builtin_memcpy(ms->ph + 16, f->dst, 16);
		ms->ph[34] = seglen >> 8;
		ms->ph[35] = seglen & 0xff;
		ms->ph[39] = IPPROTO_TCP_;
		ms->cw_sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 40, 0);
	}
	if (ms->cw_sum < 0)
		return false;
	bpf_loop(CG_STREAM_MAX / 512, csum_step, w, 0);
	if (ms->cw_sum < 0)
		return false;
	fold = (__u32)ms->cw_sum;
	fold = (fold & 0xffff) + (fold >> 16);
	fold = (fold & 0xffff) + (fold >> 16);
	return fold == 0xffff;
}

/* One step of the stream hashes: the 16-bit word at hs_off + 2 * i. */
static long stream_hash_step(__u64 i, void *data)
{
	struct cg_stream_buf *ms = ((struct stream_walk *)data)->ms;
	__u64 pos = ms->hs_off + 2 * i;
	__u32 w;

	if (pos >= ms->hs_end || pos >= CG_STREAM_MAX)
		return 1;
	/* The bound again, on the register that indexes. */
	asm volatile("%[p] &= 0xfff" : [p] "+r"(pos));
	w = (__u32)ms->b[pos] << 8;
	if (pos + 1 < ms->hs_end)
		w |= ms->b[pos + 1];
	ms->hs_h1 = mod_p31((__u64)ms->hs_h1 * ms->hs_k1 + w + 1);
	ms->hs_h2 = mod_p31((__u64)ms->hs_h2 * ms->hs_k2 + w + 1);
	return 0;
}

/*
 * The two keyed hashes of ms->b[off, off + len), into hs_h1 and hs_h2:
 * polynomials in the keys over the data's 16-bit words (the last one
 * padded with a zero byte), then its length, mod 2^31 - 1.
 */
static __always_inline void stream_hash(struct stream_walk *w, __u32 off,
					__u32 len, const struct cg_stream *s)
{
	struct cg_stream_buf *ms = w->ms;

	ms->hs_off = off;
	ms->hs_end = off + len;
	ms->hs_k1 = s->k1;
	ms->hs_k2 = s->k2;
	ms->hs_h1 = 0;
	ms->hs_h2 = 0;
	bpf_loop((len + 1) / 2, stream_hash_step, w, 0);
	ms->hs_h1 = mod_p31((__u64)ms->hs_h1 * ms->hs_k1 + len);
	ms->hs_h2 = mod_p31((__u64)ms->hs_h2 * ms->hs_k2 + len);
}

/* The record of the stream that starts at `seq`, or NULL. */
static __always_inline const struct cg_stream_rec *
stream_rec(const struct cg_stream *s, __u32 seq)
{
	int i;

	for (i = 0; i < CG_STREAM_RECS; i++)
		if (s->rec[i].len && s->rec[i].start == seq)
			return &s->rec[i];
	return NULL;
}

/*
 * One step of the walk over passed data sent again: the record that starts
 * where the walk stands (w_pos) must lie within what is left and hash the
 * same.
 */
static long rec_step(__u64 i, void *data)
{
	struct stream_walk *w = data;
	struct cg_stream_buf *ms = w->ms;
	const struct cg_stream_rec *r;

	if (ms->w_pos == ms->w_stop)
		return 1;
	r = stream_rec(w->s, ms->w_pos);
	if (!r || r->len > ms->w_stop - ms->w_pos) {
		ms->w_bad = 1;
		return 1;
	}
	stream_hash(w, ms->w_poff + (ms->w_pos - ms->w_seq), r->len, w->s);
	if (ms->hs_h1 != r->h1 || ms->hs_h2 != r->h2) {
		ms->w_bad = 1;
		return 1;
	}
	ms->w_pos += r->len;
	return 0;
}

/*
 * The stream rule (README step 12) for a TCP frame from the opener of an
 * inspected connection (`key`; `exists`: the connection is live) or from
 * a frame that opens one, that a flow allowed. Returns CG_R_STREAM or
 * CG_R_ALLOWED. Writes no state: it leaves in the scratch where the new
 * data starts (payload_off), or that the frame is an exact copy of passed
 * data (retrans: nothing to inspect), and what stream_commit() needs.
 */
__noinline int cg_stream_judge(struct xdp_md *ctx, const struct frame *f,
			       const struct cg_conn_key *key, int exists)
{
	struct stream_walk w = {};
	struct cg_stream_buf *ms;
	struct cg_conn_val *v;
	const struct cg_stream *s = NULL;
	__u32 seglen, poff, L, E, next, zero = 0;
	__u8 state = CG_ST_NONE, fl;
	__u64 seg;
	__s32 d;

	if (!f || !key)
		return CG_R_STREAM;
	if (exists) {
		v = conn_get(f->family, key);
		if (!v)
			return CG_R_STREAM;
		s = &v->stream;
		state = s->state;
	}
	fl = f->tcp_flags;
	if (f->hop_limit <= 1 || (fl & TCP_URG))
		return CG_R_STREAM;
	/* IPv6 extension headers and IPv4 options: the receiver may discard
	 * or reroute what the gate would take for the stream. */
	if (f->family == 6 ? f->ip6_ext : f->l4_off - f->l3_off != 20)
		return CG_R_STREAM;
	/* Linux discards a segment without ACK (but a SYN or RST), and one
	 * that acknowledges what the responder never sent, or long ago. */
	if (!(fl & TCP_SYN)) {
		if (!(fl & (TCP_ACK | TCP_RST)))
			return CG_R_STREAM;
		if ((fl & TCP_ACK) && s && (s->flags & CG_STF_RSP) &&
		    ((__s32)(f->tcp_ack - s->rsp_next) > 0 ||
		     s->rsp_next - f->tcp_ack > CG_STREAM_ACK_OLD))
			return CG_R_STREAM;
	}
	seg = f->payload_end - f->l4_off;
	/* 64 bits, masked in asm: the verifier needs the bounds on the very
	 * register that is passed to the helper. */
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(seg));
	if (f->payload_end - f->l4_off > CG_STREAM_MAX || seg < 20 ||
	    seg > CG_STREAM_MAX)
		return CG_R_STREAM;
	seglen = seg;
	ms = bpf_map_lookup_elem(&stream_buf, &zero);
	if (!ms)
		return CG_R_STREAM;
	w.ms = ms;
	w.s = s;
	ms->retrans = 0;
	ms->next = 0;
	ms->payload_off = f->payload_off;
	/* The IPv4 header checksum (20 bytes: options were refused). */
	if (f->family == 4) {
		__s64 sum;
		__u32 fold;

		if (bpf_xdp_load_bytes(ctx, f->l3_off, ms->ph, 20))
			return CG_R_STREAM;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 20, 0);
		fold = (__u32)sum;
		fold = (fold & 0xffff) + (fold >> 16);
		fold = (fold & 0xffff) + (fold >> 16);
		if (sum < 0 || fold != 0xffff)
			return CG_R_STREAM;
	}
	if (bpf_xdp_load_bytes(ctx, f->l4_off, ms->b, seg) ||
	    !tcp_csum_ok(f, &w, seglen))
		return CG_R_STREAM;
	L = f->payload_end - f->payload_off;
	poff = f->payload_off - f->l4_off;
	ms->len = L;

	if (fl & TCP_SYN) {
		if ((fl & (TCP_ACK | TCP_FIN | TCP_RST)) || L)
			return CG_R_STREAM;
		if (state == CG_ST_NONE || state == CG_ST_CLOSED ||
		    (state == CG_ST_SYN && s && f->tcp_seq == s->isn))
			return CG_R_ALLOWED;
		return CG_R_STREAM;
	}
	if (!s || state == CG_ST_NONE || state == CG_ST_UNSYNCED ||
	    state == CG_ST_CLOSED)
		return L ? CG_R_STREAM : CG_R_ALLOWED;
	next = (__u32)s->next;
	ms->next = next;
	if (state == CG_ST_SYN && f->tcp_seq != next)
		return CG_R_STREAM;
	if (L == 0)
		return CG_R_ALLOWED;
	d = (__s32)(f->tcp_seq - next);
	if (d > 0)
		return CG_R_STREAM;
	E = f->tcp_seq + L;
	if ((s->flags & CG_STF_WND) && (__s32)(E - s->wnd_end) > 0)
		return CG_R_STREAM;
	if (d < 0) {
		/* Passed data again: whole records, the same bytes. */
		ms->w_seq = f->tcp_seq;
		ms->w_poff = poff;
		ms->w_pos = f->tcp_seq;
		ms->w_stop = (__s32)(E - next) < 0 ? E : next;
		ms->w_bad = 0;
		bpf_loop(CG_STREAM_RECS, rec_step, &w, 0);
		if (ms->w_bad || ms->w_pos != ms->w_stop)
			return CG_R_STREAM;
		if (ms->w_stop == E) {
			ms->retrans = 1;
			return CG_R_ALLOWED;
		}
		ms->payload_off = f->payload_off + (next - f->tcp_seq);
	}
	/* New data, [next, E): recorded if step 12 lets it pass. */
	stream_hash(&w, poff + (next - f->tcp_seq), E - next, s);
	ms->h1 = ms->hs_h1;
	ms->h2 = ms->hs_h2;
	return CG_R_ALLOWED;
}

/*
 * Apply the stream rule's effect for a frame of an existing connection
 * that passes (it re-derives what stream_judge decided). Returns false
 * when another CPU moved the stream first (two frames for the same bytes
 * at once): this frame then drops.
 */
static __always_inline bool stream_commit(struct xdp_md *ctx, struct frame *f,
					  struct conn *c,
					  const struct cg_stream_buf *ms)
{
	struct cg_stream *s;
	__u8 fl = f->tcp_flags, state;
	__u32 E, h;

	if (!c->val || is_shadow())
		return true; /* a new connection: conn_open starts it */
	s = &c->val->stream;
	state = s->state;
	if (fl & TCP_SYN) {
		if (state != CG_ST_SYN)
			stream_start(s, f, tcp_wscale(ctx, f));
		return true;
	}
	if (state == CG_ST_NONE) {
		stream_start(s, f, -1);
		return true;
	}
	if (state != CG_ST_SYN && state != CG_ST_SYNCED)
		return true;
	if (ms->len == 0) {
		s->state = (fl & (TCP_FIN | TCP_RST)) && f->tcp_seq == ms->next
				   ? CG_ST_CLOSED
				   : CG_ST_SYNCED;
		return true;
	}
	/* New data [st_next, E). */
	E = f->tcp_seq + ms->len;
	if (__sync_val_compare_and_swap(&s->next, (__u64)ms->next, (__u64)E) !=
	    ms->next)
		return false;
	h = s->head & (CG_STREAM_RECS - 1);
	s->rec[h].start = ms->next;
	s->rec[h].len = E - ms->next;
	s->rec[h].h1 = ms->h1;
	s->rec[h].h2 = ms->h2;
	s->head = (h + 1) & (CG_STREAM_RECS - 1);
	s->state = (fl & (TCP_FIN | TCP_RST)) ? CG_ST_CLOSED : CG_ST_SYNCED;
	return true;
}

/*
 * A reply on an inspected connection: what the responder's segments say
 * of the opener's stream. Its SYN-ACK gives the window scale, its ACKs
 * the right edge of its window and, for a stream picked up without its
 * SYN, where the stream stands; its RST ends the stream.
 *
 * A global function, verified once whatever state of the caller reaches
 * it: `v` is the connection entry as plain memory, `c_end` the frame's
 * end of it.
 */
__noinline int cg_stream_reply(struct xdp_md *ctx, struct frame *f,
			       struct cg_conn_val *v, __u32 c_end)
{
	struct cg_stream *s;
	struct tcphdr *th;
	__u8 fl;
	__u32 end;
	int ws;

	if (!ctx || !f || !v)
		return 0;
	fl = f->tcp_flags;
	if (f->proto != IPPROTO_TCP_ || is_shadow() || v->opener == c_end)
		return 0;
	s = &v->stream;
	if (s->state == CG_ST_NONE)
		return 0;
	/* Where the responder's own sequence numbers stand. */
	end = f->tcp_seq + (f->payload_end - f->payload_off) +
	      !!(fl & TCP_SYN) + !!(fl & TCP_FIN);
	if (!(s->flags & CG_STF_RSP) || (__s32)(end - s->rsp_next) > 0) {
		s->rsp_next = end;
		s->flags |= CG_STF_RSP;
	}
	if (fl & TCP_RST) {
		s->state = CG_ST_CLOSED;
		return 0;
	}
	if (fl & TCP_SYN) {
		if (fl & TCP_ACK) {
			ws = (s->flags & CG_STF_SYN_WS) ? tcp_wscale(ctx, f)
							: -1;
			s->shift = ws < 0 ? 0 : ws > 14 ? 14 : ws;
		}
		return 0;
	}
	if (!(fl & TCP_ACK))
		return 0;
	if (s->state == CG_ST_UNSYNCED) {
		__builtin_memset(s->rec, 0, sizeof(s->rec));
		s->next = f->tcp_ack;
		s->state = CG_ST_SYNCED;
		s->flags &= ~CG_STF_WND;
	}
	if (!(s->flags & CG_STF_SHIFT) ||
	    (s->state != CG_ST_SYN && s->state != CG_ST_SYNCED))
		return 0;
	th = frame_ptr(ctx, f->l4_off, 20);
	if (!th)
		return 0;
	end = f->tcp_ack + ((__u32)bpf_ntohs(th->window) << (s->shift & 15));
	if (!(s->flags & CG_STF_WND) || (__s32)(end - s->wnd_end) > 0) {
		s->wnd_end = end;
		s->flags |= CG_STF_WND;
	}
	return 0;
}

/*
 * Step 12 for a frame a flow allows, on the full judgement or the fast
 * path: looks up the flow's info (kept in *fip for the caller) and, on a
 * flow with modbus:/s7comm:, applies the stream rule to the opener's TCP
 * frames, then inspects the request and counts it. Returns the reason:
 * allowed, stream, fragment (an inspected flow is never passed
 * fragmented) or ics-denied.
 */
static __always_inline __u32 inspect(struct xdp_md *ctx, struct frame *f,
				     struct conn *c, struct cg_flow_info **fip,
				     __u64 now)
{
	struct cg_stream_buf *ms = NULL;
	struct cg_flow_info *fi;
	__u32 id = f->flow, r, zero = 0;
	bool refused;

	fi = bpf_map_lookup_elem(&flow_info, &id);
	*fip = fi;
	if (!fi || !(fi->flags & CG_FLOW_ICS))
		return CG_R_ALLOWED;
	if (f->proto == IPPROTO_TCP_ && (!c->val || c->val->opener == c->end)) {
		if (f->fragmented)
			return CG_R_FRAGMENT;
		f->st_touched = 1;
		r = cg_stream_judge(ctx, f, &c->key, c->val != NULL);
		if (r != CG_R_ALLOWED)
			return CG_R_STREAM;
		ms = bpf_map_lookup_elem(&stream_buf, &zero);
		if (!ms)
			return CG_R_STREAM;
		if (ms->retrans)
			return CG_R_ALLOWED;
		f->payload_off = ms->payload_off;
	}
	refused = ics_refused(ctx, f, fi);
	if (f->ics_proto && !is_shadow()) {
		ics_count(f, refused, now);
		if (cfg_conn_count && c->val)
			cg_conn_request(c->val, f->ics_proto, f->function,
					refused);
	}
	if (refused)
		return CG_R_ICS_DENIED;
	if (ms && !stream_commit(ctx, f, c, ms))
		return CG_R_STREAM;
	return CG_R_ALLOWED;
}

#endif /* CRANEGATE_BPF_STREAM_H */
