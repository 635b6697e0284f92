/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_envelope.h - envelope v1: the JSON object each Kafka message holds.
 *
 *   {"v":1,"id":"<32 hex>","ts":<ms>,"src":"<format>","ip":"<addr>"
 *    [,<request members>][,<event members>],"event":<event bytes>}
 *
 * Everything between the id and the event is the same for every event of
 * a request except the optional per-event members, so it is rendered once
 * per request (the "head") and copied per event.  The event bytes are
 * embedded as they arrived: they are validated JSON, never re-serialised.
 * docs/envelope.md holds the JSON Schema.
 */

#ifndef XF_ENVELOPE_H
#define XF_ENVELOPE_H

#include "xf_core.h"


#define XF_ENVELOPE_VERSION  1
#define XF_ID_HEX_LEN        32


/* A 128-bit event id: a per-process random prefix and a counter. */
typedef struct {
    u_char      prefix_hex[16];     /* 64 random bits, hex */
    uint64_t    seq;
} xf_id_gen_t;

/* Seed a generator with 64 random bits (the caller reads them from the
 * OS: ids must stay unique across workers and restarts). */
void xf_id_init(xf_id_gen_t *g, uint64_t random_prefix);

/* Write the next id as XF_ID_HEX_LEN lowercase hex characters. */
void xf_id_next(xf_id_gen_t *g, u_char *dst);


/* Members that are the same for every event of one request. */
typedef struct {
    uint64_t        ts_ms;          /* receive time, ms since the epoch */
    const char     *src;            /* format name, plain ASCII */
    const u_char   *ip;             /* client address text; NULL: none */
    size_t          ip_len;
    const u_char   *extra;          /* ",\"app\":...": pre-rendered JSON */
    size_t          extra_len;      /* members starting with a comma */
} xf_envelope_req_t;

/* Upper bound of the head's size. */
size_t xf_envelope_head_size(const xf_envelope_req_t *req);

/*
 * Render the head: everything after the id up to (not including) the
 * event: "\",\"ts\":...,\"src\":\"json\",\"ip\":\"...\"" + extra.
 * The ip is JSON-escaped.  Returns the length written; dst has room for
 * xf_envelope_head_size(req) bytes.
 */
size_t xf_envelope_head(u_char *dst, const xf_envelope_req_t *req);

/* Size of one envelope given the head and the per-event parts. */
#define xf_envelope_size(head_len, member_len, event_len)                    \
    (sizeof("{\"v\":1,\"id\":\"") - 1 + XF_ID_HEX_LEN + (head_len)          \
     + (member_len) + sizeof(",\"event\":}") - 1 + (event_len))

/*
 * Write one envelope at dst: id, head, per-event members (pre-rendered,
 * starting with a comma, may be empty) and the raw event.  Returns the
 * byte past the end.  dst has room for xf_envelope_size(...) bytes.
 */
u_char *xf_envelope_write(u_char *dst, const u_char *id,
    const u_char *head, size_t head_len, const u_char *member,
    size_t member_len, const u_char *event, size_t event_len);

#endif /* XF_ENVELOPE_H */
