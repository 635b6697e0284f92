/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outcome.h - why a request was not simply accepted, as one type.
 *
 * Every refusal the gateway itself decides (not a malformed body, which
 * an xf_status_t describes) has one outcome; its name is the "error"
 * code of the JSON answer, the $xflow_error variable and the error-log
 * line, so the three never disagree; the metrics count by the outcome.
 */

#ifndef XF_OUTCOME_H
#define XF_OUTCOME_H

#include "xf_core.h"


typedef enum {
    XF_OUTCOME_ACCEPTED = 0,
    XF_OUTCOME_METHOD_NOT_ALLOWED,  /* a method the format does not take */
    XF_OUTCOME_RATE_LIMITED,        /* over a request or event limit */
    XF_OUTCOME_SPOOL_FULL,          /* backpressure: nowhere to keep it */
    XF_OUTCOME_QUEUE_FULL,          /* librdkafka's queue, and no spool */
    XF_OUTCOME_DECODED_IN_FLIGHT,   /* xflow_max_decoded_in_flight */
    XF_OUTCOME_DELIVERY_FAILED,     /* neither Kafka nor the spool took it */
    XF_OUTCOME_ACK_TIMEOUT,         /* no delivery report in time */
    XF_OUTCOME_MAX
} xf_outcome_t;


typedef struct {
    const char     *name;           /* the code: "rate_limited" */
    const char     *detail;         /* what the answer says by default */
    unsigned        retry:1;        /* the client should try again later */
    unsigned        throttle:1;     /* because it sends too much (429) */
} xf_outcome_info_t;


/* The facts of an outcome; out of range gives ACCEPTED's. Static data. */
const xf_outcome_info_t *xf_outcome_info(xf_outcome_t o);

/* xf_outcome_info(o)->name. */
const char *xf_outcome_name(xf_outcome_t o);

#endif /* XF_OUTCOME_H */
