/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outcome.c - the one name table of request outcomes (xf_outcome.h).
 */

#include "xf_outcome.h"


static const xf_outcome_info_t  xf_outcomes[XF_OUTCOME_MAX] = {
    [XF_OUTCOME_ACCEPTED] =
        { "accepted", "the events were accepted", 0, 0 },
    [XF_OUTCOME_METHOD_NOT_ALLOWED] =
        { "method_not_allowed", "send events with POST", 0, 0 },
    [XF_OUTCOME_RATE_LIMITED] =
        { "rate_limited", "over a rate limit", 1, 1 },
    [XF_OUTCOME_SPOOL_FULL] =
        { "spool_full", "the local spool is full", 1, 0 },
    [XF_OUTCOME_QUEUE_FULL] =
        { "queue_full", "Kafka producer queue is full", 1, 0 },
    [XF_OUTCOME_DECODED_IN_FLIGHT] =
        { "decoded_in_flight",
          "the gateway holds too many decoded bodies, retry", 1, 0 },
    [XF_OUTCOME_DELIVERY_FAILED] =
        { "delivery_failed", "Kafka did not take the events", 1, 0 },
    [XF_OUTCOME_ACK_TIMEOUT] =
        { "ack_timeout", "Kafka did not acknowledge in time", 1, 0 },
};


const xf_outcome_info_t *
xf_outcome_info(xf_outcome_t o)
{
    if ((unsigned) o >= XF_OUTCOME_MAX) {
        o = XF_OUTCOME_ACCEPTED;
    }

    return &xf_outcomes[o];
}


const char *
xf_outcome_name(xf_outcome_t o)
{
    return xf_outcome_info(o)->name;
}
