/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICS payload builders for tests: Modbus/TCP ADUs, and S7comm over TPKT
 * (RFC 1006) and COTP (ISO 8073), laid out as real clients and PLCs send
 * them. The result is a TCP payload (cg_frame_spec.payload).
 *
 * Every builder appends at buf and returns the bytes it wrote, or 0 when
 * they do not fit in `cap`; several calls one after another make a
 * segment that carries several ADUs or TPKTs:
 *
 *	n = cg_modbus_request(buf, cap, 1, 1, 3, 0);
 *	n += cg_modbus_request(buf + n, cap - n, 2, 1, 6, 0);
 */
#ifndef CG_TEST_ICS_H
#define CG_TEST_ICS_H

#include <stddef.h>
#include <stdint.h>

#define CG_MODBUS_PORT 502
#define CG_S7_PORT 102

/* COTP TPDU codes (the high nibble of the byte after the length indicator). */
#define CG_COTP_CR 0xe0 /* connection request */
#define CG_COTP_CC 0xd0 /* connection confirm */
#define CG_COTP_DR 0x80 /* disconnect request */
#define CG_COTP_DC 0xc0 /* disconnect confirm */
#define CG_COTP_DT 0xf0 /* data */

/* S7comm ROSCTR values and protocol ids. */
#define CG_S7_JOB 1
#define CG_S7_ACK 2
#define CG_S7_ACK_DATA 3
#define CG_S7_USERDATA 7
#define CG_S7_PROTO 0x32
#define CG_S7_PROTO_PLUS 0x72

/* Userdata parameter type (high nibble of parameter byte 5). */
#define CG_S7_UD_PUSH 0
#define CG_S7_UD_REQUEST 4
#define CG_S7_UD_RESPONSE 8

/*
 * One Modbus/TCP ADU: the MBAP header (transaction id, protocol id 0,
 * length = 2 + data_len, unit id), the function code, then `data`.
 */
size_t cg_modbus_adu(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
		     uint8_t fc, const uint8_t *data, size_t data_len);

/*
 * A request of function `fc` with the body a client sends for it: reads
 * (1-4, 24) an address and a quantity, writes (5, 6, 15, 16, 22, 23) an
 * address and values, 8 a sub-function, 20 and 21 a file sub-request, 43
 * the MEI type `mei` (14: read device identification) and its arguments;
 * 7, 11, 12, 17 and every other code nothing (or a few bytes for codes a
 * test invents).
 */
size_t cg_modbus_request(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
			 uint8_t fc, uint8_t mei);

/*
 * A Modbus request with addresses, its fields given (for `allow:` rules):
 * `fc` 1-6 write start and quantity (5, 6: start and the value `qty`);
 * 15, 16: start, quantity, the byte count `bc` and `n_data` bytes of
 * values; 22: start and two masks; 23: read start and quantity, write
 * start (`start2`) and quantity (`qty2`), `bc` and `n_data` bytes. The
 * byte counts and lengths are what the caller says, right or wrong.
 */
size_t cg_modbus_addr_request(uint8_t *buf, size_t cap, uint16_t tid,
			      uint8_t unit, uint8_t fc, uint16_t start,
			      uint16_t qty, uint16_t start2, uint16_t qty2,
			      uint8_t bc, size_t n_data);

/* The byte count a well-formed 15, 16 or 23 carries for its quantity. */
uint8_t cg_modbus_byte_count(uint8_t fc, uint16_t qty, uint16_t qty2);

/* A server's answer to `fc`: a short normal response, or an exception. */
size_t cg_modbus_response(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
			  uint8_t fc, int exception);

/*
 * TPKT + a COTP TPDU without data: CR and CC carry the class, TPDU size and
 * TSAP parameters a PLC connection uses; DR a reason; DC nothing more.
 */
size_t cg_cotp_tpdu(uint8_t *buf, size_t cap, uint8_t code);

/*
 * TPKT + COTP data TPDU (last data unit) + an S7 PDU with protocol id
 * `proto` and ROSCTR `rosctr`: the 10-byte header (12 for ROSCTR 2 and 3,
 * which carry an error class and code), the parameters and the data.
 */
size_t cg_s7_pdu(uint8_t *buf, size_t cap, uint8_t proto, uint8_t rosctr,
		 uint16_t pdu_ref, const uint8_t *param, size_t plen,
		 const uint8_t *data, size_t dlen);

/*
 * An S7 job request of function `func`, with the parameters (and data)
 * a programming tool or HMI sends: 0xF0 setup communication, 0x04 read
 * variable, 0x05 write variable, 0x1A-0x1F download and upload, 0x28 PLC
 * control (start), 0x29 PLC stop; other codes get a few bytes of
 * parameters.
 */
size_t cg_s7_job(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t func);

/* An S7 userdata PDU: `type` (CG_S7_UD_*), function group, subfunction. */
size_t cg_s7_userdata(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t type,
		      uint8_t group, uint8_t subfunc);

/* An S7 acknowledgement with data (ROSCTR 3) to a job of `func`. */
size_t cg_s7_ack_data(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t func);

/* TPKT + COTP DT + an S7comm-plus (protocol id 0x72) frame with `opcode`. */
size_t cg_s7plus(uint8_t *buf, size_t cap, uint8_t opcode);

#endif
