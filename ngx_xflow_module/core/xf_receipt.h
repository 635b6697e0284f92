/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_receipt.h - per-event receipts: what became of each event of one
 * request, rendered in the shape its client reads.
 *
 *   ingest: one xf_receipt_t per event, in request order (ok, invalid
 *           with its reason) --> batch: the delivery report's topic,
 *           partition and offset (ack=kafka), retry for what neither
 *           Kafka nor the spool took --> xf_receipts_render()
 *
 * Two shapes:
 *
 *   XF_RECEIPTS_JSON     {"accepted":N,"rejected":M,"receipts":[
 *                          {"result":"ok","topic":"t","partition":0,
 *                           "offset":41}, {"result":"invalid",
 *                           "reason":"missing_field"}, ...]}
 *   XF_RECEIPTS_POSTHOG  PostHog's v1 capture answer, keyed by the
 *                        events' uuid: {"results":{"<uuid>":
 *                        {"result":"ok",...}, "<uuid>":{"result":"drop",
 *                        "details":"missing_field"}}}
 */

#ifndef XF_RECEIPT_H
#define XF_RECEIPT_H

#include "xf_core.h"
#include "xf_format.h"


typedef enum {
    XF_RECEIPT_OK = 0,      /* in Kafka (ack=kafka: at its position), on
                               the spool, or handed to the producer
                               (ack=local) */
    XF_RECEIPT_RETRY,       /* not kept: send it again */
    XF_RECEIPT_INVALID,     /* never usable: on the dead-letter topic */
    XF_RECEIPT_DUPLICATE,   /* a copy of an event already taken: not
                               produced again (the dedup window) */
    XF_RECEIPT_DROPPED      /* dropped on purpose (a kill switch): taken,
                               not produced, nothing to send again */
} xf_receipt_fate_t;


typedef struct {
    xf_receipt_fate_t   fate;
    const char         *reason;     /* plain ASCII code, or NULL */
    xf_str_t            id;         /* the event's id as its JSON string
                                       holds it (escapes kept), or empty */
    xf_str_t            topic;      /* empty: no Kafka position */
    int32_t             partition;
    int64_t             offset;
    unsigned            spooled:1;  /* ok: on the spool, not yet in Kafka */
} xf_receipt_t;


typedef enum {
    XF_RECEIPTS_JSON = 0,
    XF_RECEIPTS_POSTHOG
} xf_receipts_shape_t;


/* "ok", "retry", "invalid", "duplicate", "dropped"; "unknown" out of
   range.  The names of xflow's own shape (PostHog's are "ok", "retry",
   "drop"). */
const char *xf_receipt_fate_name(xf_receipt_fate_t fate);

/*
 * The raw text of the top-level string member name of the validated
 * event object p..len (its escapes kept, without the quotes): XF_OK,
 * or XF_ERR_EMPTY when there is none or it is not a string.  *id points
 * into p.
 */
xf_status_t xf_receipt_id(const u_char *p, size_t len, const char *name,
    xf_str_t *id);

/*
 * At most the bytes xf_receipts_render() writes for these n receipts.
 * Topics and reasons are plain ASCII names (Kafka's topic alphabet),
 * written as they are.
 */
size_t xf_receipts_size(xf_receipts_shape_t shape, const xf_receipt_t *r,
    size_t n);

/*
 * Write the answer body of shape for receipts r[0..n) into dst (at least
 * xf_receipts_size() bytes), in request order; accepted and rejected are
 * the counts of the JSON shape.  The PostHog shape names each event by
 * its id and leaves out events without one (PostHog's SDKs take an
 * event missing from "results" as dropped); invalid and dropped are its
 * "drop", a duplicate its "ok" with "details":"duplicate", the reason its
 * "details".  Returns the byte past the end.
 */
u_char *xf_receipts_render(u_char *dst, xf_receipts_shape_t shape,
    const xf_receipt_t *r, size_t n, size_t accepted, size_t rejected);

#endif /* XF_RECEIPT_H */
