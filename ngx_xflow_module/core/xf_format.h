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
    XF_REPLY_AMPLITUDE              /* 200 {"code":200,...}; errors carry
                                       "code" too */
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
    size_t          rejected;       /* events with error != XF_OK */
    void           *blocks;         /* allocator-owned buffers the events
                                       point into: xf_format_free() */
} xf_upload_t;


/* "auto", "json", "sensors", "posthog", "segment", "snowplow",
   "mixpanel", "amplitude". */
const char *xf_format_name(xf_format_t f);
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
 * For the adapters (xf_format*.c) only: the glue needs none of this.
 *
 * An adapter finds the layers of its format, charges every byte a nested
 * layer produces with xf_fmt_charge() (through the helpers), and adds
 * events with xf_fmt_event(), which applies the per-event checks and
 * calls the adapter's fields callback for the name, distinct id and app.
 */

typedef struct xf_fmt_ctx_s  xf_fmt_ctx_t;

/*
 * Set ev->name, ev->distinct_id and ev->app from the event object at
 * ev->p.  Returns XF_OK, XF_ERR_MISSING_FIELD (the event goes to the
 * dead-letter topic) or XF_ERR_NOMEM (the request fails).
 */
typedef xf_status_t (*xf_fmt_fields_pt)(xf_fmt_ctx_t *ctx, xf_event_t *ev);

struct xf_fmt_ctx_s {
    const xf_request_t  *req;
    const xf_limits_t   *lim;
    const xf_alloc_t    *a;
    xf_upload_t         *up;
    xf_fmt_fields_pt     fields;
    xf_status_t          force;     /* not XF_OK: every event's error */
    xf_str_t             route;     /* segment: type implied by the path */
    xf_str_t             nuid;      /* snowplow: network user id */

    /*
     * Members the format's fields callback wants from every JSON event,
     * found by the validating split itself (xf_json_split_t.keys): set by
     * the format, used by xf_fmt_json; while xf_fmt_event runs for an
     * event of such a split, values and found are that event's findings.
     */
    const xf_json_key_t *keys;
    size_t               nkeys;
    const xf_json_span_t *values;
    uint32_t             found;
};

/* A buffer freed with the upload; NULL when out of memory. */
void *xf_fmt_alloc(xf_fmt_ctx_t *ctx, size_t size);
/* Count n decoded bytes: XF_OK or XF_ERR_TOO_LARGE. */
xf_status_t xf_fmt_charge(xf_fmt_ctx_t *ctx, size_t n);
/* Field key of a form, percent-decoded: XF_OK, XF_ERR_EMPTY (absent),
   XF_ERR_FORM (bad or duplicate), XF_ERR_TOO_LARGE, XF_ERR_NOMEM. */
xf_status_t xf_fmt_form_field(xf_fmt_ctx_t *ctx, const u_char *form,
    size_t len, const char *key, unsigned flags, xf_str_t *out);
/* Replace *s by its base64 decoding, then gunzip it if it is gzip. */
xf_status_t xf_fmt_unbase64(xf_fmt_ctx_t *ctx, xf_str_t *s);
/* Replace the form *s by its data= field as JSON: the field as sent when
   it is plain JSON, else base64 (then gunzipped if gzip), as PostHog and
   Mixpanel send it.  *was_base64 says which.  XF_ERR_FORM for a bad
   form; the errors of xf_fmt_form_field and xf_fmt_unbase64. */
xf_status_t xf_fmt_data_field(xf_fmt_ctx_t *ctx, xf_str_t *s,
    int *was_base64);
/* Replace *s by its gunzipped bytes if it starts with the gzip magic. */
xf_status_t xf_fmt_gunzip(xf_fmt_ctx_t *ctx, xf_str_t *s);
/* A top-level member as text: a string unescaped, a number as written;
   XF_ERR_EMPTY when absent or of another type. */
xf_status_t xf_fmt_text(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const char *key, xf_str_t *out);
/* The first of keys (NULL-terminated) xf_fmt_text() finds, in one pass. */
xf_status_t xf_fmt_text_any(xf_fmt_ctx_t *ctx, const u_char *obj,
    size_t len, const char *const *keys, xf_str_t *out);
/* Several fields in one pass: keys[k] fills outs[roles[k]], the first
   usable key of a role (in keys' order) wins; absent roles stay as they
   are.  At most 32 keys.  XF_OK or XF_ERR_NOMEM. */
xf_status_t xf_fmt_texts(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const xf_json_key_t *keys, const uint8_t *roles, size_t nkeys,
    xf_str_t *outs);
/* Add an event with the given error and no fields. */
xf_status_t xf_fmt_add(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    xf_status_t error, xf_event_t **ev);
/* Add one validated JSON value as an event, with the per-event checks. */
xf_status_t xf_fmt_event(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    xf_json_type_t type);
/*
 * Split JSON text into events (object, array of events, NDJSON).  When
 * wrapper is not NULL and the text is one object with an array member of
 * that name, the array's elements are the events, and the first of
 * app_keys the object has becomes the request's app if it has none.
 */
xf_status_t xf_fmt_json(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    const char *wrapper, const char *const *app_keys);
/* Whether a string equals a C string. */
int xf_fmt_eq(xf_str_t s, const char *c);
/* Whether the path, without trailing slashes, ends in the segments of
   suffix ("/e", "/i/v0/e"). */
int xf_fmt_path_ends(xf_str_t path, const char *suffix);

xf_status_t xf_format_json(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_sensors(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_posthog(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_segment(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_snowplow(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_mixpanel(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_amplitude(xf_fmt_ctx_t *ctx);

/* Route tests for auto detection. */
int xf_format_posthog_route(const xf_request_t *req);
int xf_format_segment_route(const xf_request_t *req);
int xf_format_snowplow_route(const xf_request_t *req);
int xf_format_sensors_route(const xf_request_t *req);
int xf_format_mixpanel_route(const xf_request_t *req);
int xf_format_amplitude_route(const xf_request_t *req);

#endif /* XF_FORMAT_H */
