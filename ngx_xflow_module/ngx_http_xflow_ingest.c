/*
 * ngx_http_xflow_ingest.c - from a decoded request to Kafka messages.
 *
 *   body --> xf_format_parse() --> events[] --> outbox --> batch --> Kafka
 *                                   |  valid: topic, key = distinct id
 *                                   |  error: dead-letter topic + reason
 *
 * The outbox is the list of messages a request will produce.  It is
 * planned first (topic, key, per-event members, event bytes), then every
 * envelope is rendered into one batch allocation that librdkafka
 * references without copying, then messages are produced topic by topic
 * with one rd_kafka_produce_batch() call each.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_metrics_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_privacy_module.h"


typedef struct {
    ngx_uint_t          topic;          /* index into the worker's topics */
    xf_str_t            key;
    ngx_str_t           member;         /* ",\"app\":...", may be empty */
    const u_char       *event;
    size_t              event_len;
    ngx_int_t           copy_of;        /* same envelope as that one, or -1 */
    unsigned            raw:1;          /* event is the whole message */
    u_char             *payload;        /* rendered envelope */
    size_t              payload_len;
} ngx_http_xflow_out_t;


typedef struct {
    ngx_http_xflow_out_t   *out;
    ngx_uint_t              n;
    ngx_uint_t              nalloc;
} ngx_http_xflow_outbox_t;


static ngx_int_t ngx_http_xflow_outbox_init(ngx_http_request_t *r,
    ngx_http_xflow_outbox_t *ob, ngx_uint_t n);
static ngx_http_xflow_out_t *ngx_http_xflow_outbox_add(
    ngx_http_request_t *r, ngx_http_xflow_outbox_t *ob);
static ngx_int_t ngx_http_xflow_route_event(ngx_http_request_t *r,
    ngx_http_xflow_outbox_t *ob, xf_event_t *ev, xf_format_t format,
    ngx_uint_t overflow);
static ngx_int_t ngx_http_xflow_dead_letter(ngx_http_request_t *r,
    ngx_http_xflow_out_t *o, xf_event_t *ev, const char *reason,
    ngx_str_t *request);
static ngx_int_t ngx_http_xflow_member(ngx_http_request_t *r,
    ngx_str_t *member, xf_str_t *app, const char *error,
    ngx_str_t *request);
static ngx_int_t ngx_http_xflow_ingest_send(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, ngx_http_xflow_outbox_t *ob,
    ngx_uint_t wait);
static void ngx_http_xflow_build_request(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_request_t *req, const u_char *body,
    size_t len);
static u_char *ngx_http_xflow_escape(ngx_http_request_t *r, u_char *p,
    const u_char *s, size_t len);


/*
 * Returns NGX_DONE while an ack=kafka request waits for its delivery
 * reports, or the result of the answer sent.
 */
ngx_int_t
ngx_http_xflow_ingest(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    const u_char *body, size_t len)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i, overflow;
    xf_event_t                 *ev;
    xf_str_t                    app;
    xf_status_t                 st;
    xf_limits_t                 lim;
    xf_upload_t                 up;
    xf_request_t                req;
    ngx_http_xflow_out_t       *o;
    ngx_http_xflow_outbox_t     ob;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    ngx_http_xflow_build_request(r, ctx, &req, body, len);

    /*
     * Every nested layer shares one budget with the body itself: the
     * core counts the body (len) against the whole cap, so the whole cap
     * is passed, not what the body left of it.
     */
    lim.max_decoded = lcf->max_decoded;
    lim.max_events = lcf->max_events;
    lim.max_event_size = lcf->max_event_size;
    lim.max_depth = lcf->max_depth;

    ngx_memzero(&up, sizeof(xf_upload_t));

    st = xf_format_parse(&req, &lim, &ctx->alloc, &up);

    ctx->format = up.format;
    ctx->reply = up.reply;
    ctx->decoded = len + up.decoded;

    if (up.app.len) {
        ctx->app.data = (u_char *) up.app.data;
        ctx->app.len = up.app.len;

    } else if (up.n && up.events[0].app.len) {
        /* plain JSON carries the app per event: the first one's names
           the request ($xflow_app, limit keys), as stripping leaves it */
        app = up.events[0].app;

        if (ngx_http_xflow_privacy_value(r, up.events[0].p, up.events[0].len,
                                         &app)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->app.data = (u_char *) app.data;
        ctx->app.len = app.len;
    }

    if (st != XF_OK) {
        if (req.method == XF_METHOD_GET && up.format == XF_FMT_JSON) {
            /* no beacon or pixel format recognised the GET */
            return ngx_http_xflow_reply_not_allowed(r, ctx);
        }

        return ngx_http_xflow_reject_request(r, ctx, st, body,
                                             ngx_min(len, lcf->dl_max_raw));
    }

    if (up.reply == XF_REPLY_POSTHOG_CONFIG) {
        return ngx_http_xflow_reply_posthog_config(r, &up.token,
                   up.token.len && req.path.len > 3
                   && ngx_strncmp(req.path.data + req.path.len - 3, ".js", 3)
                      == 0);
    }

    if (up.n == 0) {
        return ngx_http_xflow_reply_accepted(r, ctx);
    }

    /*
     * Event limits: refuse the request, or send its events elsewhere.
     * Every event costs, dead-lettered ones too: each is a message.
     */

    overflow = NGX_CONF_UNSET_UINT;

    rc = ngx_http_xflow_limit_events(r, up.n, &overflow);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->error = "rate_limited";
        return ngx_http_xflow_reply_retry(r, 1, "rate_limited",
                                          "over an event rate limit");
    }

    if (ngx_http_xflow_outbox_init(r, &ob, up.n) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < up.n; i++) {
        ev = &up.events[i];

        if (ev->error != XF_OK) {
            ctx->rejected++;
            ngx_http_xflow_metric_add(XF_M_EVENTS_REJECTED,
                                      xf_metrics_status_index(ev->error), 0,
                                      1);

            o = ngx_http_xflow_outbox_add(r, &ob);
            if (o == NULL
                || ngx_http_xflow_dead_letter(r, o, ev,
                                              xf_strerror(ev->error), NULL)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            o->topic = lcf->dl_topic_index;
            continue;
        }

        ctx->accepted++;

        if (ngx_http_xflow_route_event(r, &ob, ev, up.format, overflow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    rc = ngx_http_xflow_ingest_send(r, ctx, &ob,
                             lcf->ack == NGX_HTTP_XFLOW_ACK_KAFKA);

    if (rc == NGX_DECLINED) {
        ctx->error = "queue_full";
        return ngx_http_xflow_reply_retry(r, 0, "queue_full",
                                          "Kafka producer queue is full");
    }

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_xflow_reply_accepted(r, ctx);
}


/*
 * A request that cannot be used at all: answer with its status and keep
 * its first bytes (raw, may be empty) on the dead-letter topic, so a
 * broken SDK release can be diagnosed from Kafka.  The dead letter is
 * best effort: nobody waits for its delivery report.
 */
ngx_int_t
ngx_http_xflow_reject_request(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st, const u_char *raw,
    size_t raw_len)
{
    u_char                     *p;
    size_t                      uri_len;
    ngx_str_t                   request, *ct, *ce;
    xf_event_t                  ev;
    ngx_http_xflow_out_t       *o;
    ngx_http_xflow_outbox_t     ob;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    ctx->error = xf_strerror(st);

    if (st == XF_ERR_NOMEM && ctx->inflight_refused) {
        /* the worker holds xflow_max_decoded_in_flight: come back later */
        ctx->error = "decoded_in_flight";

        if (r->reading_body) {
            r->keepalive = 0;
        }

        return ngx_http_xflow_reply_retry(r, 0, "decoded_in_flight",
                   "the gateway holds too many decoded bodies, retry");
    }

    if (st == XF_ERR_NOMEM) {
        return ngx_http_xflow_reply_status(r, st);
    }

    ct = ngx_http_xflow_header_in(r, "Content-Type", sizeof("Content-Type") - 1);
    ce = ngx_http_xflow_header_in(r, "Content-Encoding",
                               sizeof("Content-Encoding") - 1);

    /*
     * With fields stripped, a body that is not one event object (an
     * array, NDJSON, a wrapper, a form, bytes cut at the raw limit)
     * cannot be stripped like an event: its dead letter keeps none of
     * it, and no query string (a GET beacon's payload), only the path.
     */
    uri_len = r->unparsed_uri.len;

    if (ngx_http_xflow_privacy_strips(r)) {
        p = ngx_strlchr(r->unparsed_uri.data,
                        r->unparsed_uri.data + r->unparsed_uri.len, '?');
        if (p != NULL) {
            uri_len = p - r->unparsed_uri.data;
        }
    }

    /* what the request was, for whoever reads the dead letter */
    request.data = ngx_pnalloc(r->pool,
                       sizeof(",\"request\":{\"method\":\"\",\"uri\":\"\","
                              "\"content_type\":\"\","
                              "\"content_encoding\":\"\"}")
                       + xf_json_escape_bound(r->method_name.len
                                              + uri_len
                                              + (ct ? ct->len : 0)
                                              + (ce ? ce->len : 0)));
    if (request.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(request.data, ",\"request\":{\"method\":\"",
                   sizeof(",\"request\":{\"method\":\"") - 1);
    p = ngx_http_xflow_escape(r, p, r->method_name.data, r->method_name.len);
    p = ngx_cpymem(p, "\",\"uri\":\"", sizeof("\",\"uri\":\"") - 1);
    p = ngx_http_xflow_escape(r, p, r->unparsed_uri.data, uri_len);
    p = ngx_cpymem(p, "\",\"content_type\":\"",
                   sizeof("\",\"content_type\":\"") - 1);
    if (ct) {
        p = ngx_http_xflow_escape(r, p, ct->data, ct->len);
    }
    p = ngx_cpymem(p, "\",\"content_encoding\":\"",
                   sizeof("\",\"content_encoding\":\"") - 1);
    if (ce) {
        p = ngx_http_xflow_escape(r, p, ce->data, ce->len);
    }
    p = ngx_cpymem(p, "\"}", 2);
    request.len = p - request.data;

    ngx_memzero(&ev, sizeof(xf_event_t));
    ev.p = raw ? raw : (const u_char *) "";
    ev.len = raw_len;
    ev.app.data = ctx->app.data;
    ev.app.len = ctx->app.len;

    if (ngx_http_xflow_outbox_init(r, &ob, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o = ngx_http_xflow_outbox_add(r, &ob);

    if (o == NULL
        || ngx_http_xflow_dead_letter(r, o, &ev, ctx->error, &request)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->topic = lcf->dl_topic_index;

    /* a full queue loses only this diagnostic copy, never an event */
    (void) ngx_http_xflow_ingest_send(r, ctx, &ob, 0);

    return ngx_http_xflow_reply_status(r, st);
}


static ngx_int_t
ngx_http_xflow_outbox_init(ngx_http_request_t *r, ngx_http_xflow_outbox_t *ob,
    ngx_uint_t n)
{
    ob->out = ngx_pcalloc(r->pool, n * sizeof(ngx_http_xflow_out_t));
    if (ob->out == NULL) {
        return NGX_ERROR;
    }

    ob->n = 0;
    ob->nalloc = n;

    return NGX_OK;
}


static ngx_http_xflow_out_t *
ngx_http_xflow_outbox_add(ngx_http_request_t *r, ngx_http_xflow_outbox_t *ob)
{
    ngx_http_xflow_out_t  *out, *o;

    if (ob->n == ob->nalloc) {
        /* copies of routed events: more messages than events */
        out = ngx_palloc(r->pool,
                         2 * ob->nalloc * sizeof(ngx_http_xflow_out_t));
        if (out == NULL) {
            return NULL;
        }

        ngx_memcpy(out, ob->out, ob->n * sizeof(ngx_http_xflow_out_t));
        ob->out = out;
        ob->nalloc *= 2;
    }

    o = &ob->out[ob->n++];
    ngx_memzero(o, sizeof(ngx_http_xflow_out_t));
    o->copy_of = -1;

    return o;
}


/*
 * Plan the messages of one valid event: its topics from the location's
 * routing rules (the default topic when none matches), each with the
 * key its rule asks for.  Copies share one envelope, id included.  An
 * overflow topic (an event limit's overflow=) replaces the rules.
 */
static ngx_int_t
ngx_http_xflow_route_event(ngx_http_request_t *r, ngx_http_xflow_outbox_t *ob,
    xf_event_t *ev, xf_format_t format, ngx_uint_t overflow)
{
    size_t                      i, n;
    xf_str_t                    id, app;
    ngx_int_t                   first;
    xf_route_event_t            re;
    xf_route_target_t           t[XF_ROUTE_MAX_TARGETS];
    ngx_http_xflow_out_t       *o;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    n = 0;

    if (overflow != NGX_CONF_UNSET_UINT) {
        t[0].topic = overflow;
        t[0].key = XF_ROUTE_KEY_DISTINCT;
        n = 1;

    } else if (lcf->route_table) {
        re.name = ev->name;
        re.app = ev->app;
        re.format = format;
        re.event = ev->p;
        re.event_len = ev->len;

        n = xf_route_match(lcf->route_table, &re, t);
    }

    if (n == 0) {
        t[0].topic = lcf->topic_index;
        t[0].key = XF_ROUTE_KEY_DISTINCT;
        n = 1;
    }

    /*
     * The key and the envelope come from the event as stripped: what a
     * rule hashed or dropped in the event is hashed or dropped here too.
     */
    id = ev->distinct_id;
    app = ev->app;

    if (ngx_http_xflow_privacy_value(r, ev->p, ev->len, &id) != NGX_OK
        || ngx_http_xflow_privacy_value(r, ev->p, ev->len, &app) != NGX_OK)
    {
        return NGX_ERROR;
    }

    first = ob->n;

    for (i = 0; i < n; i++) {
        o = ngx_http_xflow_outbox_add(r, ob);
        if (o == NULL) {
            return NGX_ERROR;
        }

        o->topic = t[i].topic;
        o->key = t[i].key == XF_ROUTE_KEY_DISTINCT ? id
                 : t[i].key == XF_ROUTE_KEY_APP ? app
                 : (xf_str_t) { NULL, 0 };

        if (i > 0) {
            o->copy_of = first;
            continue;
        }

        o->event = ev->p;
        o->event_len = ev->len;

        /* xflow_strip_field: the other bytes stay as they came */
        if (ngx_http_xflow_privacy_event(r, &o->event, &o->event_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_xflow_member(r, &o->member, &app, NULL, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Plan the dead letter of one event: its bytes as they are when they are
 * valid JSON (a non-object, an event over the size limit), base64 in a
 * JSON string otherwise, with "raw":"base64" saying so.
 */
static ngx_int_t
ngx_http_xflow_dead_letter(ngx_http_request_t *r, ngx_http_xflow_out_t *o,
    xf_event_t *ev, const char *reason, ngx_str_t *request)
{
    size_t          end, err;
    u_char         *p;
    xf_str_t        app;
    ngx_str_t       src, dst;
    ngx_uint_t      walk;
    xf_json_span_t  span;

    walk = ev->len
           && xf_json_scan_value(ev->p, ev->len, 1024, &span, &end, &err)
              == XF_OK
           && span.off == 0 && end == ev->len;

    app = ev->app;

    if (walk && span.type == XF_JSON_OBJECT
        && ngx_http_xflow_privacy_value(r, ev->p, ev->len, &app) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (walk && span.type == XF_JSON_OBJECT
        && (request == NULL || !ngx_http_xflow_privacy_strips(r)))
    {
        /* a dead letter that can be walked is stripped like any event */
        o->event = ev->p;
        o->event_len = ev->len;

        if (ngx_http_xflow_privacy_event(r, &o->event, &o->event_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_xflow_member(r, &o->member, &app, reason, request);
    }

    if (ev->len && ngx_http_xflow_privacy_strips(r)) {
        /*
         * Fields are stripped, and these bytes are not one event object
         * the rules can walk (an array, a string, undecodable bytes, or
         * a whole request body, whose events may sit in a wrapper the
         * rules do not name): they are withheld; the dead letter says
         * why and how many there were.
         */
        o->event = (u_char *) "null";
        o->event_len = 4;

        if (ngx_http_xflow_member(r, &o->member, &app, reason, request)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = ngx_sprintf(o->member.data + o->member.len,
                        ",\"raw\":\"withheld\",\"raw_len\":%uz", ev->len);
        o->member.len = p - o->member.data;

        return NGX_OK;
    }

    if (walk) {
        o->event = ev->p;
        o->event_len = ev->len;

        return ngx_http_xflow_member(r, &o->member, &app, reason, request);
    }

    src.data = (u_char *) ev->p;
    src.len = ev->len;

    p = ngx_pnalloc(r->pool, ngx_base64_encoded_length(ev->len) + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = '"';
    dst.data = p + 1;
    ngx_encode_base64(&dst, &src);
    p[dst.len + 1] = '"';

    o->event = p;
    o->event_len = dst.len + 2;

    if (ngx_http_xflow_member(r, &o->member, &app, reason, request)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the member was allocated with room for this suffix */
    p = ngx_cpymem(o->member.data + o->member.len, ",\"raw\":\"base64\"",
                   sizeof(",\"raw\":\"base64\"") - 1);
    o->member.len = p - o->member.data;

    return NGX_OK;
}


/* ,"app":"...",["error":"...",][request] */
static ngx_int_t
ngx_http_xflow_member(ngx_http_request_t *r, ngx_str_t *member,
    xf_str_t *app, const char *error, ngx_str_t *request)
{
    size_t   len;
    u_char  *p;

    if (app->len == 0 && error == NULL) {
        member->len = 0;
        return NGX_OK;
    }

    len = sizeof(",\"app\":\"\"") - 1 + xf_json_escape_bound(app->len)
          + sizeof(",\"error\":\"\"") - 1 + (error ? ngx_strlen(error) : 0)
          + (request ? request->len : 0)
          + sizeof(",\"raw\":\"withheld\",\"raw_len\":") - 1
          + NGX_SIZE_T_LEN;

    member->data = ngx_pnalloc(r->pool, len);
    if (member->data == NULL) {
        return NGX_ERROR;
    }

    p = member->data;

    if (app->len) {
        p = ngx_cpymem(p, ",\"app\":\"", sizeof(",\"app\":\"") - 1);
        p += xf_json_escape(p, app->data, app->len);
        *p++ = '"';
    }

    if (error) {
        p = ngx_sprintf(p, ",\"error\":\"%s\"", error);
    }

    if (request) {
        p = ngx_cpymem(p, request->data, request->len);
    }

    member->len = p - member->data;

    return NGX_OK;
}


static u_char *
ngx_http_xflow_escape(ngx_http_request_t *r, u_char *p, const u_char *s,
    size_t len)
{
    return p + xf_json_escape(p, s, len);
}


/*
 * Render every planned message into one batch and produce them, one
 * rd_kafka_produce_batch() per topic; what Kafka does not take goes to
 * the spool.  wait: the request waits for the delivery reports
 * (ack=kafka).  Returns NGX_OK (answer now), NGX_AGAIN (the request
 * waits for its reports or for the spool), NGX_DECLINED when some
 * messages were taken by neither (the client must retry), or
 * NGX_HTTP_INTERNAL_SERVER_ERROR.
 */
static ngx_int_t
ngx_http_xflow_ingest_send(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    ngx_http_xflow_outbox_t *ob, ngx_uint_t wait)
{
    size_t                       head_len, total;
    u_char                      *head, *d;
    u_char                       id[XF_ID_HEX_LEN];
    ngx_str_t                   *topics;
    ngx_uint_t                   i, j, t, ntopics, queued, room;
    ngx_uint_t                  *count, *next;
    ngx_time_t                  *tp;
    rd_kafka_message_t          *msgs, *m;
    xf_envelope_req_t            req;
    ngx_http_xflow_privacy_t     pv;
    rd_kafka_resp_err_t          err;
    ngx_http_xflow_out_t        *o;
    ngx_http_xflow_batch_t      *batch;
    ngx_http_xflow_main_conf_t  *mcf;
    ngx_http_xflow_loc_conf_t   *lcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    /* no room in librdkafka's queue: the spool takes the request whole */
    room = ngx_http_xflow_kafka_has_room(ob->n);

    if (!room && !ngx_http_xflow_spool_enabled()) {
        return NGX_DECLINED;
    }

    /* what every envelope of this request shares, rendered once */

    if (ngx_http_xflow_privacy_request(r, &pv) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pv.ua_ref.len) {
        /* a User-Agent this gateway publishes for the first time */
        o = ngx_http_xflow_outbox_add(r, ob);
        if (o == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        o->raw = 1;
        o->topic = pv.ua_topic;
        o->key.data = pv.ua_ref.data;
        o->key.len = pv.ua_ref.len;
        o->event = pv.ua_value.data;
        o->event_len = pv.ua_value.len;
    }

    tp = ngx_timeofday();
    req.ts_ms = (uint64_t) tp->sec * 1000 + tp->msec;
    req.src = xf_format_name(ctx->format);
    req.ip = pv.ip.data;
    req.ip_len = pv.ip.len;
    req.extra = pv.extra.data;
    req.extra_len = pv.extra.len;

    head = ngx_pnalloc(r->pool, xf_envelope_head_size(&req));
    if (head == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head_len = xf_envelope_head(head, &req);

    ntopics = mcf->topics.nelts;
    count = ngx_pcalloc(r->pool, 2 * ntopics * sizeof(ngx_uint_t));
    msgs = ngx_pcalloc(r->pool, ob->n * sizeof(rd_kafka_message_t));

    if (count == NULL || msgs == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    total = 0;
    for (i = 0; i < ob->n; i++) {
        o = &ob->out[i];

        if (o->raw) {
            total += o->event_len;

        } else if (o->copy_of < 0) {
            total += xf_envelope_size(head_len, o->member.len, o->event_len);
        }

        count[o->topic]++;
    }

    batch = ngx_alloc(sizeof(ngx_http_xflow_batch_t) + total,
                      r->connection->log);
    if (batch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    batch->kind = NGX_HTTP_XFLOW_OPAQUE_BATCH;
    batch->r = NULL;
    batch->pending = 0;
    batch->failed = 0;
    batch->spooled = 0;
    batch->spool_id = 0;
    batch->ts = req.ts_ms;
    batch->dl_topic = lcf->dl_topic_index;
    batch->waiting = 0;
    batch->last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    batch->size = total;

    /* envelopes first: a copy needs the envelope of the event it copies */

    d = batch->data;

    for (i = 0; i < ob->n; i++) {
        o = &ob->out[i];

        if (o->copy_of >= 0) {
            o->payload = ob->out[o->copy_of].payload;
            o->payload_len = ob->out[o->copy_of].payload_len;
            continue;
        }

        if (o->raw) {
            /* a message of its own (the UA dictionary): copied as is,
               since the batch, not the request, outlives the delivery */
            o->payload = d;
            d = ngx_cpymem(d, o->event, o->event_len);
            o->payload_len = o->event_len;
            continue;
        }

        ngx_http_xflow_kafka_next_id(id);

        o->payload = d;
        d = xf_envelope_write(d, id, head, head_len, o->member.data,
                              o->member.len, o->event, o->event_len);
        o->payload_len = d - o->payload;
    }

    /* messages grouped by topic, in request order within a topic */

    next = count + ntopics;
    for (t = 1; t < ntopics; t++) {
        next[t] = next[t - 1] + count[t - 1];
    }

    for (t = 0; t < ntopics; t++) {
        /* $xflow_topic: the events' topics, not the UA dictionary's */
        if (count[t] && !(pv.ua_ref.len && t == pv.ua_topic
                          && count[t] == 1))
        {
            ctx->topic = t;
            ctx->topics++;
        }
    }

    for (i = 0; i < ob->n; i++) {
        o = &ob->out[i];
        m = &msgs[next[o->topic]++];

        m->payload = o->payload;
        m->len = o->payload_len;

        /* librdkafka copies keys */
        m->key = (void *) o->key.data;
        m->key_len = o->key.len;
    }

    m = msgs;
    topics = mcf->topics.elts;

    for (t = 0; t < ntopics; t++) {
        if (count[t] == 0) {
            continue;
        }

        queued = room ? ngx_http_xflow_kafka_produce(batch,
                                              ngx_http_xflow_kafka_topic(t),
                                              m, count[t], &err)
                      : 0;

        if (queued < count[t]) {
            /* what Kafka did not take goes to the spool, if there is one;
               the topic names come from the config: NUL-terminated */
            for (j = 0; j < count[t]; j++) {
                if (!room || m[j].err) {
                    ngx_http_xflow_batch_spool(batch,
                                               (char *) topics[t].data,
                                               m[j].key, m[j].key_len,
                                               m[j].payload, m[j].len,
                                               room ? m[j].err
                                               : RD_KAFKA_RESP_ERR__QUEUE_FULL);
                }
            }

            if (batch->failed) {
                batch->last_err = room ? err : RD_KAFKA_RESP_ERR__QUEUE_FULL;
            }
        }

        m += count[t];
    }

    if (batch->failed) {
        /* neither Kafka nor the spool took some: the client must retry */
        ngx_http_xflow_batch_release(batch);
        return NGX_DECLINED;
    }

    if (!wait) {
        /* delivery reports free the batch; nobody waits for them */
        ngx_http_xflow_batch_release(batch);
        return NGX_OK;
    }

    /* ack=kafka: answer from the last delivery report, or the spool */

    batch->r = r;
    ctx->batch = batch;

    if (batch->pending == 0 && ngx_http_xflow_spool_wait(batch) != NGX_OK) {
        /* all of it spooled and already durable */
        batch->r = NULL;
        ctx->batch = NULL;
        ngx_http_xflow_batch_release(batch);
        return NGX_OK;
    }

    ctx->ack_timer.handler = ngx_http_xflow_ack_timeout;
    ctx->ack_timer.data = r;
    ctx->ack_timer.log = r->connection->log;
    ngx_add_timer(&ctx->ack_timer, ngx_http_xflow_ack_deadline(r, lcf));

    /* notice a client that goes away while we wait */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


static void
ngx_http_xflow_build_request(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    xf_request_t *req, const u_char *body, size_t len)
{
    ngx_str_t  sp;

    ngx_memzero(req, sizeof(xf_request_t));

    req->format = ctx->format;
    req->method = r->method == NGX_HTTP_GET ? XF_METHOD_GET
                  : r->method == NGX_HTTP_HEAD ? XF_METHOD_GET
                  : r->method == NGX_HTTP_POST ? XF_METHOD_POST
                  : r->method == NGX_HTTP_PUT ? XF_METHOD_PUT
                  : XF_METHOD_OTHER;

    req->path.data = r->uri.data;
    req->path.len = r->uri.len;
    req->query.data = r->args.data;
    req->query.len = r->args.len;

    if (r->headers_in.content_type) {
        req->content_type.data = r->headers_in.content_type->value.data;
        req->content_type.len = r->headers_in.content_type->value.len;
    }

    if (r->headers_in.authorization) {
        req->authorization.data = r->headers_in.authorization->value.data;
        req->authorization.len = r->headers_in.authorization->value.len;
    }

    /*
     * Adapters never see raw cookies: Snowplow's network user id ("sp")
     * is handed over as its keyed reference, or not at all.
     */
    if (ctx->format == XF_FMT_SNOWPLOW || ctx->format == XF_FMT_AUTO) {
        if (ngx_http_xflow_privacy_cookie(r, "sp", &sp) == NGX_OK) {
            req->cookie.data = sp.data;
            req->cookie.len = sp.len;
        }
    }

    req->body = body;
    req->body_len = len;
}
