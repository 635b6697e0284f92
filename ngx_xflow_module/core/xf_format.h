/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format.h - SDK upload formats: from one HTTP request (method, path,
 * query, a few headers and the body after Content-Encoding decoding) to a
 * list of events with the fields the rest of xflow needs.
 *
 *   request --> [format adapter] --> upload: events[] + request fields
 *                 | form fields, base64, gzip inside a field, wrappers
 *                 | ({api_key,batch}, {writeKey,batch}, {schema,data})
 *                 v
 *   each event: raw JSON bytes (byte for byte as sent, after the
 *   transport layers are peeled), name, distinct id, app, and an error
 *   code when it must go to the dead-letter topic instead.
 *
 * Adapters never drop an event silently: an event that is not an object,
 * too large, missing what its format requires, or undecodable is returned
 * with its error set and its raw bytes, for the dead-letter topic.  A
 * request that cannot be decoded at all returns an error status.
 */

#ifndef XF_FORMAT_H
#define XF_FORMAT_H

#include "xf_core.h"
#include "xf_json.h"
#include "xf_hashref.h"


typedef enum {
    XF_FMT_AUTO = 0,
    XF_FMT_JSON,
    XF_FMT_SENSORS,
    XF_FMT_POSTHOG,
    XF_FMT_SEGMENT,
    XF_FMT_SNOWPLOW,
    XF_FMT_MIXPANEL,
    XF_FMT_AMPLITUDE,
    XF_FMT_MAX
} xf_format_t;


typedef struct {
    const u_char   *data;
    size_t          len;
} xf_str_t;


typedef enum {
    XF_METHOD_OTHER = 0,
    XF_METHOD_GET,
    XF_METHOD_POST,
    XF_METHOD_PUT
} xf_method_t;


/* What the glue hands an adapter; strings point into the request. */
typedef struct {
    xf_format_t     format;         /* configured; AUTO picks (see .c) */
    xf_method_t     method;
    xf_str_t        path;           /* URI path, not decoded */
    xf_str_t        query;          /* raw query string, no '?' */
    xf_str_t        content_type;
    xf_str_t        authorization;  /* Authorization header value */
    xf_str_t        cookie;         /* Cookie header value */
    const u_char   *body;           /* after Content-Encoding decoding */
    size_t          body_len;
    xf_hashref_t   *hash_key;       /* xflow_hash_key, or NULL: what a
                                       credential's app is keyed under */
} xf_request_t;


typedef struct {
    size_t          max_decoded;    /* all nested layers together */
    size_t          max_events;
    size_t          max_event_size;
    unsigned        max_depth;
} xf_limits_t;


typedef struct {
    const u_char   *p;              /* event JSON, or raw bytes if error */
    size_t          len;
    xf_str_t        name;           /* event name, unescaped, may be empty */
    xf_str_t        distinct_id;    /* user/device id, unescaped, may be
                                       empty: the Kafka message key */
    xf_str_t        app;            /* app/project/token, unescaped; the
                                       request's when the event has none */
    xf_status_t     error;          /* XF_OK or the dead-letter reason */
} xf_event_t;


/* How the SDK expects to be answered. */
typedef enum {
    XF_REPLY_JSON = 0,              /* {"accepted":N,"rejected":M} */
    XF_REPLY_POSTHOG,               /* exactly 200 {"status":1} */
    XF_REPLY_GIF,                   /* 1x1 GIF, not cacheable */
    XF_REPLY_POSTHOG_CONFIG,        /* remote config: not an upload */
    XF_REPLY_SEGMENT,               /* 200 {"success":true} */
    XF_REPLY_MIXPANEL,              /* 200 1 */
    XF_REPLY_MIXPANEL_VERBOSE,      /* 200 {"status":1,"error":null} */
    XF_REPLY_AMPLITUDE,             /* 200 {"code":200,...}; errors carry
                                       "code" too */
    XF_REPLY_POSTHOG_V1             /* 200 {"results":{uuid:{"result":
                                       ...}}}: PostHog's v1 capture */
} xf_reply_t;


typedef struct {
    xf_format_t     format;         /* resolved: never AUTO */
    xf_reply_t      reply;
    xf_event_t     *events;
    size_t          n;
    size_t          cap;
    xf_str_t        app;            /* request-level app/project/token */
    xf_str_t        token;          /* posthog config.js: the token */
    size_t          decoded;        /* bytes produced by nested layers */
    size_t          final;          /* bytes of the layer the events were
                                       read from (the JSON split, the
                                       event built from a query), each
                                       once: 0 when none was reached */
    size_t          rejected;       /* events with error != XF_OK */
    void           *blocks;         /* allocator-owned buffers the events
                                       point into: xf_format_free() */
} xf_upload_t;


/*
 * The format's name, as the xflow_format directive spells it: "auto",
 * "json", "sensors", "posthog", "segment", "snowplow", "mixpanel",
 * "amplitude"; "unknown" out of range.  A static string.
 */
const char *xf_format_name(xf_format_t f);

/*
 * The format named p..len (exactly, case-sensitive) into *f: XF_OK, or
 * XF_ERR_FORM for no such name.
 */
xf_status_t xf_format_parse_name(const u_char *p, size_t len,
    xf_format_t *f);

/*
 * Parse one request into events.  out must be zeroed.  Memory for events
 * and for bytes peeled from nested layers (base64, gzip in a field, form
 * decoding) comes from a; every nested layer counts against
 * lim->max_decoded together with the body (body_len + out->decoded <=
 * max_decoded): the body itself is part of the budget, so pass the
 * whole cap, never what is left of it.  max_decoded is always a limit (0
 * allows no body at all; SIZE_MAX is the way to ask for none), and
 * max_events / max_event_size 0 are no limit.  docs/formats.md describes
 * each format, the automatic choice and the dead-letter reasons.
 *
 * Returns XF_OK when the request was understood (some events may carry
 * errors), or the status that makes the whole request unusable:
 * XF_ERR_JSON_*, XF_ERR_EMPTY, XF_ERR_TOO_LARGE, XF_ERR_TOO_MANY_EVENTS,
 * XF_ERR_CORRUPT, XF_ERR_TRUNCATED (gzip inside a field), XF_ERR_BASE64,
 * XF_ERR_FORM, XF_ERR_ENCODING_UNKNOWN (PostHog lz64), XF_ERR_NOMEM.
 * out->format and out->reply are set on errors too, so that the answer
 * suits the SDK; events already found are left in out (free them).
 */
xf_status_t xf_format_parse(const xf_request_t *req, const xf_limits_t *lim,
    const xf_alloc_t *a, xf_upload_t *out);

/*
 * Return everything xf_format_parse() allocated for out (after success or
 * failure) with a->free; out is zeroed.  Needless when a's free is a
 * no-op, as with a request pool.
 */
void xf_format_free(xf_upload_t *out, const xf_alloc_t *a);


/*
 * Per-format facts for the glue, from the adapter table (xf_format.c);
 * f may be any value (XF_FMT_AUTO: before a format is known; a value out
 * of range gets what plain JSON gets).  They allocate nothing.
 */

/*
 * The HTTP status that makes the format's SDK send again later: 503 for
 * SDKs that drop a batch on any 4xx (Sensors, PostHog) and for auto (the
 * format is not known yet: what every SDK retries), 429 for those that
 * retry it and honour x-ratelimit-reset (Segment, Snowplow); else 429
 * when throttle (a rate limit said no: the client sends too much) and
 * 503 when the gateway is overloaded.
 */
unsigned xf_format_retry_status(xf_format_t f, unsigned throttle);

/*
 * 1 when an error body must carry the HTTP status as "code" (Amplitude's
 * SDKs read it from the body and retry a JSON answer without it), else 0.
 */
unsigned xf_format_error_code(xf_format_t f);

/*
 * 1 when a GET (or HEAD) may be an upload (a beacon, a pixel, remote
 * config), so that GET belongs in Allow; 0 for plain JSON.
 */
unsigned xf_format_takes_get(xf_format_t f);

/*
 * The name of the cookie the format's adapter reads from
 * xf_request_t.cookie ("sp", Snowplow's network user id; auto too, as it
 * may pick Snowplow), or NULL when it reads none: the glue need not hand
 * any cookie over.  A static string.
 */
const char *xf_format_cookie(xf_format_t f);


/*
 * The fields of a format's events that identify a person, a device or a
 * session, or describe the device, as its SDKs send them: what
 * xflow_privacy standard treats (docs/privacy.md lists them per family;
 * tests/unit/test-privacy-doc.c compares that list with this one).
 */
typedef enum {
    XF_FIELD_ID = 0,    /* an id kept in a cookie or storage, a user id,
                           a session id: a keyed reference, or the
                           cookieless id without consent */
    XF_FIELD_UA,        /* a User-Agent string: its dictionary reference */
    XF_FIELD_HINT,      /* client hints and other device fingerprints:
                           a keyed reference */
    XF_FIELD_IP,        /* a client address: dropped (the envelope's ip
                           follows xflow_client_ip) */
    XF_FIELD_KEY        /* a credential (a write key): a keyed reference,
                           consent or not */
} xf_field_kind_t;

typedef struct {
    const char         *path;       /* dotted, as xflow_strip_field */
    xf_field_kind_t     kind;
    const char         *cookie;     /* XF_FIELD_ID: the cookie the SDK
                                       keeps the same id in, bare, or
                                       NULL; the reference is then that
                                       cookie's (xflow_cookie_ref) */
} xf_format_field_t;

/*
 * The fields of format f, terminated by an entry whose path is NULL:
 * never NULL itself (auto and out-of-range values have none).  Static.
 */
const xf_format_field_t *xf_format_fields(xf_format_t f);

/*
 * The time fields of format f's events, as dotted paths ("timestamp",
 * "properties.time"): the event's own time first, then the others the
 * SDK sends (when it sent the event, from which a clock is corrected).
 * NULL-ended, never NULL itself (auto has none).  Static.
 */
const char *const *xf_format_times(xf_format_t f);

/*
 * The fields format f's events carry a distinct id in, as dotted paths,
 * in the order the adapter reads them (the first present is the
 * event's distinct id), then the anonymous ids beside it.  NULL-ended,
 * never NULL itself.  Static.
 */
const char *const *xf_format_ids(xf_format_t f);

/* "id", "ua", "hint", "ip", "key": a static string. */
const char *xf_format_field_kind_name(xf_field_kind_t kind);

#endif /* XF_FORMAT_H */
