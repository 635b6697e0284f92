/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outcome.h - how a request ended, as one value.
 *
 * The code that decides a request's fate sets its outcome: accepted, a
 * refusal the gateway decided, or a body the core could not use (one
 * outcome per xf_status_t).  Everything else is derived from it through
 * the one table here: the answer's status and default text, the "error"
 * code of the JSON answer, the $xflow_error variable, the error-log
 * line and the dead letter's reason, so they never disagree; the
 * metrics count by the outcome, never by the status answered.
 */

#ifndef XF_OUTCOME_H
#define XF_OUTCOME_H

#include "xf_core.h"


typedef enum {
    XF_OUTCOME_NONE = 0,            /* nothing decided: no upload (a
                                       config fetch), the handler failed,
                                       or it is still running */
    XF_OUTCOME_ACCEPTED,            /* the events were accepted */
    XF_OUTCOME_METHOD_NOT_ALLOWED,  /* a method the format does not take */
    XF_OUTCOME_RATE_LIMITED,        /* over a request or event limit */
    XF_OUTCOME_SPOOL_FULL,          /* backpressure: nowhere to keep it */
    XF_OUTCOME_QUEUE_FULL,          /* librdkafka's queue, and no spool */
    XF_OUTCOME_DECODED_IN_FLIGHT,   /* xflow_max_decoded_in_flight */
    XF_OUTCOME_DELIVERY_FAILED,     /* neither Kafka nor the spool took it */
    XF_OUTCOME_ACK_TIMEOUT,         /* no delivery report in time */
    XF_OUTCOME_BOT,                 /* a bot's request, its events
                                       dropped by xflow_bots drop:
                                       answered as accepted */
    XF_OUTCOME_UNUSABLE,            /* a body the core could not use:
                                       plus its xf_status_t, see
                                       xf_outcome_unusable() */
    XF_OUTCOME_MAX = XF_OUTCOME_UNUSABLE + XF_STATUS_MAX
} xf_outcome_t;


typedef struct {
    const char     *name;           /* the code: "rate_limited"; NULL for
                                       an unusable body (xf_outcome_name
                                       gives its xf_strerror) */
    const char     *detail;         /* what the answer says by default */
    unsigned        http;           /* the answer's status; 0 with retry:
                                       the status the SDK retries */
    unsigned        retry:1;        /* the client should try again later */
    unsigned        throttle:1;     /* because it sends too much (429) */
} xf_outcome_info_t;


/*
 * The outcome of a body the core could not use because of st (not
 * XF_OK).
 */
#define xf_outcome_unusable(st)  ((xf_outcome_t) (XF_OUTCOME_UNUSABLE + (st)))

/*
 * Why the body of an XF_OUTCOME_UNUSABLE + st outcome was unusable: st;
 * XF_OK for every other outcome.
 */
xf_status_t xf_outcome_status(xf_outcome_t o);

/* The facts of an outcome; out of range gives NONE's. Static data. */
const xf_outcome_info_t *xf_outcome_info(xf_outcome_t o);

/*
 * The outcome's code: its row's name, or xf_strerror() of an unusable
 * body's status.  Static data.
 */
const char *xf_outcome_name(xf_outcome_t o);

/*
 * What $xflow_error says: the code of a refusal or an unusable body, ""
 * for NONE and ACCEPTED.  Static data.
 */
const char *xf_outcome_error(xf_outcome_t o);

#endif /* XF_OUTCOME_H */
