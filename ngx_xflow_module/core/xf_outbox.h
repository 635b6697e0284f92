/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outbox.h - the messages one request will produce, planned before
 * anything is sent.
 *
 *   events --> xf_outbox_event() / xf_outbox_dead_letter() / _raw()
 *                  |  topic, key, per-event members, event bytes
 *                  v
 *              xf_outbox_size()  --> one buffer the caller allocates
 *              xf_outbox_render() --> every envelope written into it
 *              xf_outbox_group()  --> messages ordered topic by topic
 *
 * The outbox plans and renders; it does not send.  The glue allocates the
 * buffer where librdkafka can reference the envelopes without copying
 * and produces each topic's messages with one call.  Copies of a routed
 * event share its envelope, id included.  Event bytes are referenced,
 * not copied: they must live until xf_outbox_render() returns.
 */

#ifndef XF_OUTBOX_H
#define XF_OUTBOX_H

#include "xf_core.h"
#include "xf_envelope.h"
#include "xf_format.h"
#include "xf_route.h"


/* One planned message. */
typedef struct {
    uint32_t        topic;          /* the caller's topic index */
    xf_str_t        key;            /* may be empty; referenced */
    xf_str_t        member;         /* ",\"app\":...", may be empty */
    const u_char   *event;
    size_t          event_len;
    ptrdiff_t       copy_of;        /* same envelope as that one, or -1 */
    unsigned        raw:1;          /* event is the whole message */
    unsigned        counted:1;      /* an event's message: in the ledger */
    u_char         *payload;        /* rendered: in the render buffer */
    size_t          payload_len;
} xf_out_t;


typedef struct {
    xf_out_t           *out;
    size_t              n;
    size_t              nalloc;
    const xf_alloc_t   *a;          /* the outbox's own memory */
} xf_outbox_t;


/*
 * What the caller's privacy rules do to an event, so that dead letters
 * are stripped like events: strip_event rewrites an event object (its
 * bytes stay the caller's), strip_value the value of one of its fields
 * (the app, the distinct id) as the rules leave it.  strips: some field
 * rule is configured, so bytes the rules cannot walk are withheld.
 */
typedef struct {
    xf_status_t   (*strip_event)(void *data, const u_char **p, size_t *len);
    xf_status_t   (*strip_value)(void *data, const u_char *event,
                                 size_t len, xf_str_t *value);
    void           *data;
    unsigned        strips:1;
} xf_outbox_strip_t;


/*
 * Start an outbox sized for n messages (it grows: copies of routed
 * events add more).  Its memory comes from a and is freed with
 * xf_outbox_free() or with a's pool.  XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_outbox_init(xf_outbox_t *ob, size_t n, const xf_alloc_t *a);
void xf_outbox_free(xf_outbox_t *ob);

/*
 * Plan one valid event to the n >= 1 targets its routing chose: the
 * first message carries the envelope (the event as given, with app as
 * its "app" member), the others copy it with their own topic and key.
 * Each is counted (the ledger owes each of them to Kafka); dead letters
 * and raw messages are not.
 * id and app are the event's distinct id and app as the privacy rules
 * leave them; each target's key is one of them (or none) as its rule
 * asks.  XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_outbox_event(xf_outbox_t *ob, const xf_route_target_t *t,
    size_t n, const xf_str_t *id, const xf_str_t *app, const u_char *event,
    size_t event_len);

/*
 * Plan the dead letter of bytes that are not a usable event, to topic:
 * the bytes as they are when they are one JSON value (stripped first
 * when they are an object), base64 in a JSON string otherwise with
 * "raw":"base64"; with fields stripped, bytes the rules cannot walk are
 * withheld ("raw":"withheld","raw_len":N).  reason is a plain ASCII
 * code; request (may be NULL) a pre-rendered ",\"request\":{...}"
 * member, for a whole request's dead letter.  XF_OK, XF_ERR_NOMEM, or
 * what the strip callbacks return.
 */
xf_status_t xf_outbox_dead_letter(xf_outbox_t *ob, uint32_t topic,
    const u_char *bytes, size_t len, const xf_str_t *app, const char *reason,
    const xf_str_t *request, const xf_outbox_strip_t *strip);

/* Plan a message that is not an envelope (value copied as is at render).
   XF_OK or XF_ERR_NOMEM. */
xf_status_t xf_outbox_raw(xf_outbox_t *ob, uint32_t topic,
    const xf_str_t *key, const u_char *value, size_t len);


/* What a whole request was, for its dead letter. */
typedef struct {
    xf_str_t        method;
    xf_str_t        uri;
    xf_str_t        content_type;
    xf_str_t        content_encoding;
} xf_outbox_request_t;

/*
 * Render ",\"request\":{\"method\":...,\"uri\":...,\"content_type\":...,
 * \"content_encoding\":...}" with every value JSON-escaped, into memory
 * from a.  XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_outbox_request_member(const xf_outbox_request_t *req,
    const xf_alloc_t *a, xf_str_t *member);


/* Bytes xf_outbox_render() writes, for a head of head_len bytes. */
size_t xf_outbox_size(const xf_outbox_t *ob, size_t head_len);

/*
 * Write every message's payload into buf (xf_outbox_size() bytes):
 * envelopes with a fresh id each from ids, copies pointing at the
 * envelope they copy, raw messages copied.  Returns the byte past the
 * end.  Every xf_out_t's payload points into buf from here on.
 */
u_char *xf_outbox_render(xf_outbox_t *ob, u_char *buf, const u_char *head,
    size_t head_len, xf_id_gen_t *ids);

/*
 * Order the messages topic by topic, in plan order within a topic:
 * count[t] is set to the number of messages to topic t < ntopics, and
 * order[0..n) to indexes into ob->out.  XF_ERR_BUFFER when a message
 * names a topic >= ntopics.
 */
xf_status_t xf_outbox_group(const xf_outbox_t *ob, size_t ntopics,
    size_t *count, size_t *order);


/*
 * The event id of a rendered envelope (it starts {"v":1,"id":"<hex>"):
 * XF_OK with *id pointing into value, else XF_ERR_MISSING_FIELD.
 */
xf_status_t xf_outbox_envelope_id(const u_char *value, size_t len,
    xf_str_t *id);

/*
 * The dead letter of a message Kafka refused for good (too large, an
 * invalid record): what happened and to which event, without the bytes.
 * {"v":1,"id":"<id or empty>","ts":..,"error":"<error>","topic":"..",
 *  "size":..}.  Returns the length written into dst (at most size; the
 * topic and error are plain ASCII names, cut to fit).
 */
size_t xf_outbox_refused(u_char *dst, size_t size, const u_char *value,
    size_t value_len, uint64_t ts_ms, const char *error, const char *topic);

#endif /* XF_OUTBOX_H */
