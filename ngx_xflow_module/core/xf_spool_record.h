/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_record.h - one spool record: a Kafka message that could not be
 * delivered (topic, key, headers, value) with the time it was first
 * accepted and the number of delivery attempts that failed, framed by a
 * length and CRC32C so that a reader can tell a whole record from a torn
 * or corrupt one.
 *
 *   +------------------- header, 20 bytes ---------------------+
 *   | "XFSR" | ver | flags | 0 0 | length | body crc | hdr crc |
 *   +--------+-----+-------+-----+--------+----------+---------+
 *   | body: timestamp | attempt | topic | key | headers | value |
 *   +----------------------------------------------------------+
 *   |<------------------------ length ------------------------>|
 *
 * Integers are little-endian.  The header CRC covers header bytes 0..15,
 * so a damaged length is reported as corrupt instead of sending the reader
 * off to wait for bytes that never come; the body CRC covers everything
 * after the header.  The byte layout is in docs/spool.md.
 *
 * Decoding never trusts a length: every field is checked against the
 * record's length, the record's length against the buffer and a maximum,
 * and a record must end exactly where its length says, so one record has
 * exactly one encoding (decode then encode gives the same bytes).
 *
 * Pure functions: no allocation, no I/O, no state.
 */

#ifndef XF_SPOOL_RECORD_H
#define XF_SPOOL_RECORD_H

#include "xf_core.h"
#include "xf_crc32c.h"


typedef enum {
    XF_SPOOL_OK = 0,
    XF_SPOOL_NEED_MORE,         /* record incomplete at the end of buffer */
    XF_SPOOL_CORRUPT,           /* bytes that are not a record */
    XF_SPOOL_TOO_LARGE,         /* record over the size limit */
    XF_SPOOL_INVALID,           /* bad argument: empty topic, too many
                                   headers, unknown replay position */
    XF_SPOOL_BUFFER,            /* caller's output buffer too small */
    XF_SPOOL_EMPTY,             /* nothing to replay now */
    XF_SPOOL_AGAIN,             /* stopped at a work limit: call again */
    XF_SPOOL_IO,                /* a system call failed: see errno */
    XF_SPOOL_NOMEM,
    XF_SPOOL_RC_MAX
} xf_spool_rc_t;


#define XF_SPOOL_RECORD_MAGIC    "XFSR"
#define XF_SPOOL_RECORD_VERSION  1
#define XF_SPOOL_RECORD_HEADER   20

/* body bytes of a record with a 1-byte topic and nothing else */
#define XF_SPOOL_RECORD_MIN      (XF_SPOOL_RECORD_HEADER + 8 + 4 + 2 + 1 \
                                  + 4 + 2 + 4)

/*
 * The largest record any reader accepts.  Writers may use a lower limit;
 * readers use this one so that a record written under a larger setting
 * is never cut as corrupt.
 */
#define XF_SPOOL_RECORD_MAX      ((size_t) 64 * 1024 * 1024)

#define XF_SPOOL_TOPIC_MAX       255
#define XF_SPOOL_MAX_HEADERS     32

/* a key, header value or value of this length field is absent (NULL) */
#define XF_SPOOL_NULL_LEN        0xffffffffu


typedef struct {
    const u_char        *name;
    size_t               name_len;      /* at most 65535 */
    const u_char        *value;         /* NULL: a header without value */
    size_t               value_len;
} xf_spool_header_t;


/*
 * A record's fields.  For encoding the caller points them at its bytes;
 * decoding points them into the decoded buffer (no copy), which must
 * outlive the record.  A NULL key or value is distinct from an empty one
 * and survives the round trip; a NULL pointer must come with length 0.
 */
typedef struct {
    uint64_t             timestamp;     /* ms since the epoch, first accept */
    uint32_t             attempt;       /* delivery attempts failed so far */
    const u_char        *topic;         /* 1..XF_SPOOL_TOPIC_MAX bytes */
    size_t               topic_len;
    const u_char        *key;           /* NULL: no key */
    size_t               key_len;
    const u_char        *value;         /* NULL: no value */
    size_t               value_len;
    size_t               nheaders;
    xf_spool_header_t    headers[XF_SPOOL_MAX_HEADERS];
} xf_spool_record_t;


/* A stable snake_case name for rc ("ok", "need_more", ...).  Never NULL. */
const char *xf_spool_strerror(xf_spool_rc_t rc);




/*
 * Bytes the encoding of r takes, or 0 when r cannot be encoded (see
 * xf_spool_record_encode for why).
 */
size_t xf_spool_record_size(const xf_spool_record_t *r);

/*
 * Encode r into buf[0..size).  On XF_SPOOL_OK *len is the record's size.
 * XF_SPOOL_INVALID: topic empty or longer than XF_SPOOL_TOPIC_MAX, more
 * than XF_SPOOL_MAX_HEADERS headers, a header name over 65535 bytes, or a
 * NULL pointer with a non-zero length.  XF_SPOOL_TOO_LARGE: the record
 * would exceed XF_SPOOL_RECORD_MAX.  XF_SPOOL_BUFFER: size too small
 * (nothing is written then).
 */
xf_spool_rc_t xf_spool_record_encode(const xf_spool_record_t *r, u_char *buf,
    size_t size, size_t *len);

/*
 * Decode the record at the start of p[0..len).  max is the largest record
 * accepted (0 or anything above XF_SPOOL_RECORD_MAX means that maximum).
 *
 *   XF_SPOOL_OK         *r holds the record, pointing into p, and *size
 *                       its length in bytes (the next record starts at
 *                       p + *size);
 *   XF_SPOOL_NEED_MORE  p is a valid beginning of a record that does not
 *                       end within len: *size is the length the record
 *                       needs (its total length once the header is
 *                       complete, the header's length before).  At the
 *                       end of a file this is a torn tail;
 *   XF_SPOOL_CORRUPT    p does not start with a record (*size is 0).
 *
 * Bytes after the first record are not looked at.
 */
xf_spool_rc_t xf_spool_record_decode(const u_char *p, size_t len, size_t max,
    xf_spool_record_t *r, size_t *size);

/*
 * Walk p[0..len) as a sequence of records.  *good is the length of the
 * longest prefix made of whole valid records (always a record boundary),
 * *records their number.  Returns XF_SPOOL_OK when the whole buffer is
 * records, else what decoding the record at *good returned: NEED_MORE
 * for a torn tail, CORRUPT for anything else.  max as for decode.
 */
xf_spool_rc_t xf_spool_record_scan(const u_char *p, size_t len, size_t max,
    size_t *good, uint64_t *records);

#endif /* XF_SPOOL_RECORD_H */
