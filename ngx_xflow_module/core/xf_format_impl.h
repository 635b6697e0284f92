/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_impl.h - the inside of the format layer: the adapter table's
 * entry type and the xf_fmt_* toolkit the adapters share.  Only
 * xf_format*.c include it; the glue sees xf_format.h alone.
 *
 *   xf_format_parse() --> xf_fmt_adapters[format] --> adapter->parse(ctx)
 *         |                                              | xf_fmt_* helpers
 *         | AUTO: adapter->route(), then adapter->sniff()  v
 *         v                                          ctx->up->events[]
 *   the adapter's reply, retry status, cookie, ... (xf_format.h accessors)
 *
 * An adapter finds the layers of its format, charges every byte a nested
 * layer produces with xf_fmt_charge() (through the helpers), and adds
 * events with xf_fmt_event(), which applies the per-event checks and
 * calls the adapter's fields callback for the name, distinct id and app.
 *
 * Memory: every helper that produces bytes returns them in a buffer kept
 * on ctx->up->blocks (xf_fmt_alloc), owned by the upload and returned by
 * xf_format_free(); a string a helper returns either points there or
 * into the request, never into a temporary.
 */

#ifndef XF_FORMAT_IMPL_H
#define XF_FORMAT_IMPL_H

#include "xf_format.h"


typedef struct xf_fmt_ctx_s  xf_fmt_ctx_t;

/*
 * Set (or check) ev->name, ev->distinct_id and ev->app from the event
 * object at ev->p, after xf_fmt_event() has filled them and ctx->outs
 * from ctx->keys, if the format set any.  Returns XF_OK,
 * XF_ERR_MISSING_FIELD (the event goes to the dead-letter topic) or
 * XF_ERR_NOMEM (the request fails).  The strings point into the event or
 * into buffers of the upload (xf_fmt_alloc).
 */
typedef xf_status_t (*xf_fmt_fields_pt)(xf_fmt_ctx_t *ctx, xf_event_t *ev);

/*
 * The roles of ctx->keys: the event's fields first, then up to
 * XF_FMT_MAX_ROLES in all of the format's own (XF_FMT_NROLES, ...).
 */
enum { XF_FMT_NAME = 0, XF_FMT_ID, XF_FMT_APP, XF_FMT_NROLES };

#define XF_FMT_MAX_ROLES  8

struct xf_fmt_ctx_s {
    const xf_request_t  *req;
    const xf_limits_t   *lim;
    const xf_alloc_t    *a;
    xf_upload_t         *up;
    xf_fmt_fields_pt     fields;    /* NULL: the keys' findings only */
    xf_status_t          force;     /* not XF_OK: every event's error */
    xf_str_t             route;     /* segment: type implied by the path */
    xf_str_t             nuid;      /* snowplow: network user id */

    /*
     * The members that give every event its fields, set by the format:
     * keys[k] fills outs[roles[k]], the first usable key of a role wins
     * (xf_fmt_texts), and outs[XF_FMT_NAME], [XF_FMT_ID], [XF_FMT_APP]
     * become ev->name, ev->distinct_id, ev->app; xf_fmt_event does it
     * before the fields callback, which may read the other outs.  A
     * JSON split finds them while it validates (xf_json_split_t.keys):
     * while xf_fmt_event runs for an event of such a split, values and
     * found are that event's findings.
     */
    const xf_json_key_t *keys;
    const uint8_t       *roles;
    size_t               nkeys;
    const xf_json_span_t *values;
    uint32_t             found;
    xf_str_t             outs[XF_FMT_MAX_ROLES];
};


/* ---------------------------------------------------------- the table */

/*
 * Whether the adapter claims a request for XF_FMT_AUTO: 1 or 0.  Reads
 * the request only (no allocation, nothing kept).
 */
typedef int (*xf_fmt_claim_pt)(const xf_request_t *req);

/*
 * Parse ctx->req into ctx->up (see xf_format_parse()): adds the events,
 * sets the request's app and refines ctx->up->reply, which holds the
 * entry's reply on entry.  Returns XF_OK or the request's error status;
 * everything it allocated is owned by ctx->up (xf_format_free()).
 */
typedef xf_status_t (*xf_fmt_parse_pt)(xf_fmt_ctx_t *ctx);

/*
 * One format: what it claims, how it parses, and the per-format facts of
 * its answer, which hold before the body is read (so that a request
 * refused early is still answered the way its SDK expects).  The table
 * (xf_fmt_adapters in xf_format.c) is const and static: nothing in it is
 * ever freed.
 */
typedef struct {
    const char         *name;       /* xf_format_name(), the directive's */
    xf_fmt_claim_pt     route;      /* by path and method; NULL: never */
    xf_fmt_claim_pt     sniff;      /* by content; NULL: never */
    xf_fmt_parse_pt     parse;      /* NULL for auto only */
    xf_reply_t          reply;      /* the answer to a request with a
                                       body, until parse refines it */
    xf_reply_t          reply_empty; /* ... to one without (a beacon) */
    unsigned            retry_status; /* "try later": 503, 429, or 0 for
                                       429 throttled, 503 overloaded */
    const char         *cookie;     /* the cookie the adapter reads from
                                       xf_request_t.cookie, or NULL */
    const xf_format_field_t *fields; /* xf_format_fields() */
    const char *const  *times;      /* xf_format_times() */
    const char *const  *ids;        /* xf_format_ids() */
    unsigned            takes_get:1;  /* a GET (HEAD) can be an upload */
    unsigned            error_code:1; /* error bodies carry "code" */
} xf_fmt_adapter_t;

/*
 * The adapters (xf_format_<name>.c), the table's callbacks.  Parsers
 * (xf_fmt_parse_pt) are named after their format; route and sniff
 * callbacks (xf_fmt_claim_pt) after what they read.
 */
xf_status_t xf_format_json(xf_fmt_ctx_t *ctx);

/* Each adapter's privacy fields (xf_format_fields()), in its own file. */
extern const xf_format_field_t  xf_format_json_fields[];
extern const xf_format_field_t  xf_format_sensors_fields[];
extern const xf_format_field_t  xf_format_posthog_fields[];
extern const xf_format_field_t  xf_format_segment_fields[];
extern const xf_format_field_t  xf_format_snowplow_fields[];
extern const xf_format_field_t  xf_format_mixpanel_fields[];
extern const xf_format_field_t  xf_format_amplitude_fields[];

/* Each adapter's time and id fields (xf_format_times(), _ids()). */
extern const char *const  xf_format_json_times[];
extern const char *const  xf_format_sensors_times[];
extern const char *const  xf_format_posthog_times[];
extern const char *const  xf_format_segment_times[];
extern const char *const  xf_format_snowplow_times[];
extern const char *const  xf_format_mixpanel_times[];
extern const char *const  xf_format_amplitude_times[];
extern const char *const  xf_format_json_ids[];
extern const char *const  xf_format_sensors_ids[];
extern const char *const  xf_format_posthog_ids[];
extern const char *const  xf_format_segment_ids[];
extern const char *const  xf_format_snowplow_ids[];
extern const char *const  xf_format_mixpanel_ids[];
extern const char *const  xf_format_amplitude_ids[];

xf_status_t xf_format_sensors(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_posthog(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_segment(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_snowplow(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_mixpanel(xf_fmt_ctx_t *ctx);
xf_status_t xf_format_amplitude(xf_fmt_ctx_t *ctx);

int xf_format_sensors_route(const xf_request_t *req);
int xf_format_posthog_route(const xf_request_t *req);
int xf_format_posthog_sniff(const xf_request_t *req);
int xf_format_segment_route(const xf_request_t *req);
int xf_format_snowplow_route(const xf_request_t *req);
int xf_format_snowplow_sniff(const xf_request_t *req);
int xf_format_amplitude_route(const xf_request_t *req);


/* --------------------------------------------------------- the toolkit */

/* An xf_json_key_t for a string literal. */
#define xf_fmt_key(s)  { s, sizeof(s) - 1 }

/* The number of elements of an array. */
#define xf_fmt_nelts(a)  (sizeof(a) / sizeof((a)[0]))

/* Whether a string starts like a JSON object or array. */
#define xf_fmt_is_json(s)                                                    \
    ((s).len > 0 && ((s).data[0] == '{' || (s).data[0] == '['))

/*
 * A buffer of size bytes owned by the upload (freed by xf_format_free);
 * NULL when out of memory.  Not charged: callers charge what they
 * produce.
 */
void *xf_fmt_alloc(xf_fmt_ctx_t *ctx, size_t size);

/* Count n decoded bytes: XF_OK or XF_ERR_TOO_LARGE. */
xf_status_t xf_fmt_charge(xf_fmt_ctx_t *ctx, size_t n);

/*
 * The n bytes at p, which a nested layer produced into a buffer the
 * upload owns, become *s once charged: XF_OK, or XF_ERR_TOO_LARGE with
 * *s untouched.
 */
xf_status_t xf_fmt_produced(xf_fmt_ctx_t *ctx, xf_str_t *s,
    const u_char *p, size_t n);

/*
 * Field key of a form, percent-decoded into *out (pointing into the form
 * when nothing needed decoding, else into an upload buffer): XF_OK,
 * XF_ERR_EMPTY (absent), XF_ERR_FORM (bad or duplicate),
 * XF_ERR_TOO_LARGE, XF_ERR_NOMEM.  *out is untouched on errors.
 */
xf_status_t xf_fmt_form_field(xf_fmt_ctx_t *ctx, const u_char *form,
    size_t len, const char *key, unsigned flags, xf_str_t *out);

/*
 * The first of keys (NULL-terminated) present in the query becomes
 * ctx->up->app.  The query is not part of the format: a malformed one
 * names no app.  XF_OK (app set or cleared) or XF_ERR_NOMEM.
 */
xf_status_t xf_fmt_query_app(xf_fmt_ctx_t *ctx, const char *const *keys);

/* Replace *s by its base64 decoding, then gunzip it if it is gzip. */
xf_status_t xf_fmt_unbase64(xf_fmt_ctx_t *ctx, xf_str_t *s);

/*
 * Replace the form *s by its data= field as JSON: the field as sent when
 * it is plain JSON, else base64 (then gunzipped if gzip), as PostHog and
 * Mixpanel send it.  *was_base64 says which.  XF_ERR_FORM for a bad
 * form; the errors of xf_fmt_form_field and xf_fmt_unbase64.
 */
xf_status_t xf_fmt_data_field(xf_fmt_ctx_t *ctx, xf_str_t *s,
    int *was_base64);

/* Replace *s by its gunzipped bytes if it starts with the gzip magic. */
xf_status_t xf_fmt_gunzip(xf_fmt_ctx_t *ctx, xf_str_t *s);

/*
 * The JSON text of an upload that may be a data= form (PostHog,
 * Mixpanel) into *s: the query's data= field when there is no body (a
 * GET beacon); else the body, gunzipped if it is gzip, or its data=
 * field when the body is a form: when it starts with form ("data="),
 * or, form NULL, when it does not start like JSON.  *was_base64 and the
 * errors as xf_fmt_data_field's; those of xf_fmt_gunzip.
 */
xf_status_t xf_fmt_data_upload(xf_fmt_ctx_t *ctx, const char *form,
    xf_str_t *s, int *was_base64);

/*
 * Whether the request is a form that carries an SDK's data= or
 * data_list= field: the query of a request without a body, or a body
 * that is neither JSON nor gzip.  For the adapters' sniff callbacks.
 */
int xf_fmt_sniff_data_form(const xf_request_t *req);

/*
 * A top-level member as text: a string unescaped, a number as written;
 * XF_ERR_EMPTY when absent or of another type, XF_ERR_NOMEM.
 */
xf_status_t xf_fmt_text(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const char *key, xf_str_t *out);

/* The first of keys (NULL-terminated) xf_fmt_text() finds, in one pass. */
xf_status_t xf_fmt_text_any(xf_fmt_ctx_t *ctx, const u_char *obj,
    size_t len, const char *const *keys, xf_str_t *out);

/*
 * Several fields in one pass: keys[k] fills outs[roles[k]], the first
 * usable key of a role (in keys' order) wins; absent roles stay as they
 * are (a role found empty gets a non-NULL data).  At most 32 keys.
 * XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_fmt_texts(xf_fmt_ctx_t *ctx, const u_char *obj, size_t len,
    const xf_json_key_t *keys, const uint8_t *roles, size_t nkeys,
    xf_str_t *outs);

/*
 * The value of ctx->keys[k] in the event ev being made (from its fields
 * callback): the split's finding when the split found the event's keys,
 * else a lookup.  XF_OK and *v (offsets into ev->p), or XF_ERR_EMPTY.
 */
xf_status_t xf_fmt_found(xf_fmt_ctx_t *ctx, const xf_event_t *ev, size_t k,
    xf_json_span_t *v);

/*
 * Add an event with the given error and no fields; *ev points into
 * ctx->up->events until the next add.  XF_ERR_TOO_MANY_EVENTS,
 * XF_ERR_NOMEM.
 */
xf_status_t xf_fmt_add(xf_fmt_ctx_t *ctx, const u_char *p, size_t len,
    xf_status_t error, xf_event_t **ev);

/*
 * Add one validated JSON value as an event, with the per-event checks,
 * the fields of ctx->keys and the adapter's fields callback.  XF_OK, or
 * the errors of xf_fmt_add.
 */
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

/* xf_fmt_json() on the body, gunzipped first if it is gzip. */
xf_status_t xf_fmt_body_json(xf_fmt_ctx_t *ctx, const char *wrapper,
    const char *const *app_keys);

/* Whether a string equals a C string. */
int xf_fmt_eq(xf_str_t s, const char *c);

/*
 * Whether the path, without trailing slashes, ends in the segments of
 * suffix ("/e", "/i/v0/e"); _any: in one of suffixes (NULL-terminated).
 */
int xf_fmt_path_ends(xf_str_t path, const char *suffix);
int xf_fmt_path_ends_any(xf_str_t path, const char *const *suffixes);

#endif /* XF_FORMAT_IMPL_H */
