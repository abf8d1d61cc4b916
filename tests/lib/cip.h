/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EtherNet/IP payload builders for tests: encapsulation packets (24-byte
 * little endian header), the Common Packet Format of SendRRData and
 * SendUnitData, and CIP requests, laid out as Logix clients send them.
 * Each builder writes at buf and returns the bytes written, or 0 when
 * they do not fit in `cap`; calls can follow each other in one buffer.
 */
#ifndef CG_TEST_CIP_H
#define CG_TEST_CIP_H

#include <stddef.h>
#include <stdint.h>

#define CG_ENIP_TEST_PORT 44818
#define CG_CIP_NO_CLASS (-1)

/* An encapsulation packet: command, length = dlen, session, then data. */
size_t cg_enip_encap(uint8_t *buf, size_t cap, uint16_t cmd, uint32_t session,
		     const uint8_t *data, size_t dlen);

/*
 * SendRRData (0x6F) carrying `cip` in an unconnected data item (0xB2)
 * after a null address item.
 */
size_t cg_enip_rr(uint8_t *buf, size_t cap, const uint8_t *cip, size_t len);

/*
 * SendUnitData (0x70): a connected address item (0xA1, the connection
 * id) and a connected data item (0xB1: sequence count, then `cip`).
 */
size_t cg_enip_unit(uint8_t *buf, size_t cap, uint16_t seq, const uint8_t *cip,
		    size_t len);

/*
 * A CIP request: service, path size, a path of class `cls` (8-bit segment
 * 0x20 below 256, else 0x21 with a pad byte; CG_CIP_NO_CLASS: none) and
 * instance 1 (0x24 0x01), then `dlen` bytes of data.
 */
size_t cg_cip_request(uint8_t *buf, size_t cap, uint8_t svc, int cls,
		      const uint8_t *data, size_t dlen);

/* A CIP request to a tag: an ANSI extended symbol segment (0x91). */
size_t cg_cip_tag_request(uint8_t *buf, size_t cap, uint8_t svc,
			  const char *tag, const uint8_t *data, size_t dlen);

/* Unconnected_Send (0x52 on class 6) carrying `inner`, routed to slot 0. */
size_t cg_cip_unconnected_send(uint8_t *buf, size_t cap, const uint8_t *inner,
			       size_t ilen);

/* Multiple_Service_Packet (0x0A to the message router) of `n` requests. */
size_t cg_cip_msp(uint8_t *buf, size_t cap, const uint8_t *const *reqs,
		  const size_t *lens, size_t n);

#endif
