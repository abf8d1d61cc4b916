// SPDX-License-Identifier: GPL-2.0
/*
 * A sender with VLAN offload, for tests/e2e/test_vlan.sh: a tc egress
 * program that tags IPv4 frames by source address with
 * bpf_skb_vlan_push. With tx VLAN offload on (txvlan on), the kernel keeps
 * the tag in skb metadata, and a veth hands it to the peer there: the
 * receiving XDP program finds no tag in the frame, as behind a NIC with
 * rx VLAN offload. Sources in 198.18.22.0/24 get VLAN 100, sources in
 * 198.18.24.0/24 get VLAN 300; every other frame leaves untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 src;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(0x0800))
		return 0; /* TC_ACT_OK */
	src = bpf_ntohl(ip->saddr) & 0xffffff00;
	if (src == 0xc6121600) /* 198.18.22.0/24 */
		bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100);
	else if (src == 0xc6121800) /* 198.18.24.0/24 */
		bpf_skb_vlan_push(skb, bpf_htons(0x8100), 300);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
