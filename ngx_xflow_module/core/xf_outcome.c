/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_outcome.c - the one table of request outcomes (xf_outcome.h).
 */

#include "xf_outcome.h"


static const xf_outcome_info_t  xf_outcomes[XF_OUTCOME_UNUSABLE] = {
    [XF_OUTCOME_NONE] =
        { "none", "", 0, 0, 0 },
    [XF_OUTCOME_ACCEPTED] =
        { "accepted", "the events were accepted", 200, 0, 0 },
    [XF_OUTCOME_METHOD_NOT_ALLOWED] =
        { "method_not_allowed", "send events with POST", 405, 0, 0 },
    [XF_OUTCOME_RATE_LIMITED] =
        { "rate_limited", "over a rate limit", 0, 1, 1 },
    [XF_OUTCOME_SPOOL_FULL] =
        { "spool_full", "the local spool is full", 0, 1, 0 },
    [XF_OUTCOME_QUEUE_FULL] =
        { "queue_full", "Kafka producer queue is full", 0, 1, 0 },
    [XF_OUTCOME_DECODED_IN_FLIGHT] =
        { "decoded_in_flight",
          "the gateway holds too many decoded bodies, retry", 0, 1, 0 },
    [XF_OUTCOME_DELIVERY_FAILED] =
        { "delivery_failed", "Kafka did not take the events", 0, 1, 0 },
    [XF_OUTCOME_ACK_TIMEOUT] =
        { "ack_timeout", "Kafka did not acknowledge in time", 0, 1, 0 },
    [XF_OUTCOME_BOT] =
        { "bot", "the events were accepted", 200, 0, 0 },
};


/*
 * A body the core could not use, by its status; a status without a row
 * (JSON syntax and the rest) is answered as invalid JSON.  The names are
 * xf_strerror()'s.
 */
static const xf_outcome_info_t  xf_outcome_unusables[XF_STATUS_MAX] = {
    [XF_ERR_TOO_LARGE] =
        { NULL, "over a configured size or count limit", 413, 0, 0 },
    [XF_ERR_EVENT_TOO_LARGE] =
        { NULL, "over a configured size or count limit", 413, 0, 0 },
    [XF_ERR_TOO_MANY_EVENTS] =
        { NULL, "over a configured size or count limit", 413, 0, 0 },
    [XF_ERR_ENCODING_UNKNOWN] =
        { NULL,
          "Content-Encoding must be gzip, deflate, zstd, br or identity",
          415, 0, 0 },
    [XF_ERR_NOMEM] =
        { NULL, "out of memory", 500, 0, 0 },
    [XF_ERR_CORRUPT] =
        { NULL, "the compressed body cannot be decoded", 400, 0, 0 },
    [XF_ERR_TRUNCATED] =
        { NULL, "the compressed body cannot be decoded", 400, 0, 0 },
    [XF_ERR_BASE64] =
        { NULL, "a base64 field cannot be decoded", 400, 0, 0 },
    [XF_ERR_FORM] =
        { NULL, "the form or query cannot be decoded", 400, 0, 0 },
    [XF_ERR_EMPTY] =
        { NULL, "the request holds no event", 400, 0, 0 },
    [XF_ERR_NOT_OBJECT] =
        { NULL, "every event must be a JSON object", 400, 0, 0 },
    [XF_ERR_JSON_UTF8] =
        { NULL, "the body is not valid UTF-8", 400, 0, 0 },
    [XF_ERR_JSON_DEPTH] =
        { NULL, "the body nests deeper than xflow_max_depth", 400, 0, 0 },
};

static const xf_outcome_info_t  xf_outcome_invalid_json =
    { NULL, "the body is not valid JSON", 400, 0, 0 };


xf_status_t
xf_outcome_status(xf_outcome_t o)
{
    if ((unsigned) o < XF_OUTCOME_UNUSABLE || (unsigned) o >= XF_OUTCOME_MAX)
    {
        return XF_OK;
    }

    return (xf_status_t) (o - XF_OUTCOME_UNUSABLE);
}


const xf_outcome_info_t *
xf_outcome_info(xf_outcome_t o)
{
    xf_status_t  st;

    if ((unsigned) o >= XF_OUTCOME_MAX) {
        o = XF_OUTCOME_NONE;
    }

    if (o < XF_OUTCOME_UNUSABLE) {
        return &xf_outcomes[o];
    }

    st = xf_outcome_status(o);

    if (xf_outcome_unusables[st].detail == NULL) {
        return &xf_outcome_invalid_json;
    }

    return &xf_outcome_unusables[st];
}


const char *
xf_outcome_name(xf_outcome_t o)
{
    if ((unsigned) o >= XF_OUTCOME_UNUSABLE && (unsigned) o < XF_OUTCOME_MAX)
    {
        return xf_strerror(xf_outcome_status(o));
    }

    return xf_outcome_info(o)->name;
}


const char *
xf_outcome_error(xf_outcome_t o)
{
    if (o == XF_OUTCOME_NONE || o == XF_OUTCOME_ACCEPTED
        || (unsigned) o >= XF_OUTCOME_MAX)
    {
        return "";
    }

    return xf_outcome_name(o);
}
