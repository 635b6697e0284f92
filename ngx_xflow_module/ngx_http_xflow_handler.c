/*
 * ngx_http_xflow_handler.c - the xflow_collect content handler.
 *
 * One request:
 *   1. check method, Content-Length and Content-Encoding (405/413/415)
 *   2. read the body unbuffered, feeding each chunk to the core decoder
 *      as it arrives: no temp files, the caps apply while reading (413)
 *   3. split the decoded upload into events (core JSON scanner, 400)
 *   4. render one envelope per event into a single batch allocation and
 *      hand them to librdkafka without copying
 *   5. answer: ack=local at once; ack=kafka when the last delivery report
 *      of the batch arrives (or 503 when one failed or none came in time)
 */

#include "ngx_http_xflow_module.h"


static void ngx_http_xflow_body_ready(ngx_http_request_t *r);
static void ngx_http_xflow_read_body(ngx_http_request_t *r);
static xf_status_t ngx_http_xflow_consume(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static xf_status_t ngx_http_xflow_feed(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, u_char *p, size_t len);
static ngx_int_t ngx_http_xflow_body_done(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static ngx_int_t ngx_http_xflow_process(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, const u_char *p, size_t len);
static ngx_int_t ngx_http_xflow_reply_status(ngx_http_request_t *r,
    xf_status_t st);
static ngx_int_t ngx_http_xflow_content_encoding(ngx_http_request_t *r,
    xf_encoding_t *enc);
static void ngx_http_xflow_cleanup(void *data);
static void ngx_http_xflow_ack_timeout(ngx_event_t *ev);
static void *ngx_http_xflow_pool_alloc(void *data, size_t size);
static void ngx_http_xflow_pool_free(void *data, void *p);


ngx_int_t
ngx_http_xflow_collect_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    xf_encoding_t               enc;
    ngx_table_elt_t            *h;
    ngx_pool_cleanup_t         *cln;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (r->method != NGX_HTTP_POST && r->method != NGX_HTTP_PUT) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST, PUT");

        return ngx_http_xflow_reply_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed",
                                          "send events with POST");
    }

    if (r->headers_in.content_length_n > (off_t) lcf->max_body) {
        r->keepalive = 0;
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_xflow_reply_status(r, XF_ERR_TOO_LARGE);
    }

    if (ngx_http_xflow_content_encoding(r, &enc) != NGX_OK) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_xflow_reply_status(r, XF_ERR_ENCODING_UNKNOWN);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_xflow_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->decoder = NULL;
     *     ctx->received = 0;
     *     ctx->batch = NULL;
     */

    ctx->encoding = enc;
    ctx->alloc.alloc = ngx_http_xflow_pool_alloc;
    ctx->alloc.free = ngx_http_xflow_pool_free;
    ctx->alloc.data = r->pool;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_xflow_cleanup;
    cln->data = r;

    ngx_http_set_ctx(r, ctx, ngx_http_xflow_module);

    /* stream the body through the decoder: nothing goes to temp files */
    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_xflow_body_ready);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* a malformed chunked body or no memory */
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_xflow_content_encoding(ngx_http_request_t *r, xf_encoding_t *enc)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *enc = XF_ENC_IDENTITY;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Content-Encoding") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Encoding",
                               sizeof("Content-Encoding") - 1) == 0)
        {
            if (xf_encoding_parse(h[i].value.data, h[i].value.len, enc)
                != XF_OK)
            {
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}


static void
ngx_http_xflow_body_ready(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    xf_status_t            st;
    ngx_http_xflow_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    st = ngx_http_xflow_consume(r, ctx);

    if (st != XF_OK) {
        ngx_http_finalize_request(r, ngx_http_xflow_reply_status(r, st));
        return;
    }

    if (r->reading_body) {
        /* the rest of the body arrives through the read event */
        r->read_event_handler = ngx_http_xflow_read_body;
        ngx_http_xflow_read_body(r);
        return;
    }

    rc = ngx_http_xflow_body_done(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static void
ngx_http_xflow_read_body(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    xf_status_t            st;
    ngx_http_xflow_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    for ( ;; ) {
        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            /* client went away (400), timed out (408), or bad chunking */
            ngx_http_finalize_request(r, rc);
            return;
        }

        if (r->request_body->bufs == NULL && r->reading_body) {
            /* nothing new: wait for the next read event */
            return;
        }

        st = ngx_http_xflow_consume(r, ctx);

        if (st != XF_OK) {
            ngx_http_finalize_request(r, ngx_http_xflow_reply_status(r, st));
            return;
        }

        if (!r->reading_body) {
            break;
        }
    }

    r->read_event_handler = ngx_http_block_reading;

    rc = ngx_http_xflow_body_done(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * Feed every buffer the body filters produced to the decoder and mark it
 * consumed, so nginx can reuse its body buffer for what comes next.
 */
static xf_status_t
ngx_http_xflow_consume(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx)
{
    size_t        len;
    ssize_t       n;
    u_char        buf[4096];
    ngx_buf_t    *b;
    ngx_chain_t  *cl;
    xf_status_t   st;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* only when buffering was forced back on: read it back */
            while (b->file_pos < b->file_last) {
                len = ngx_min((off_t) sizeof(buf), b->file_last - b->file_pos);
                n = ngx_read_file(b->file, buf, len, b->file_pos);
                if (n <= 0) {
                    return XF_ERR_NOMEM;
                }

                b->file_pos += n;

                st = ngx_http_xflow_feed(r, ctx, buf, n);
                if (st != XF_OK) {
                    return st;
                }
            }

            continue;
        }

        if (b->last > b->pos) {
            st = ngx_http_xflow_feed(r, ctx, b->pos, b->last - b->pos);
            if (st != XF_OK) {
                return st;
            }
        }

        b->pos = b->last;
    }

    r->request_body->bufs = NULL;

    return XF_OK;
}


static xf_status_t
ngx_http_xflow_feed(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    u_char *p, size_t len)
{
    xf_status_t                 st;
    xf_encoding_t               enc;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    ctx->received += len;

    if (ctx->received > (off_t) lcf->max_body) {
        return XF_ERR_TOO_LARGE;
    }

    if (ctx->decoder == NULL) {
        enc = ctx->encoding;

        if (enc == XF_ENC_IDENTITY) {
            /* some SDKs send gzip without saying so */
            enc = xf_encoding_sniff(p, len);
            ctx->encoding = enc;
        }

        st = xf_decoder_create(&ctx->decoder, enc, lcf->max_decoded,
                               &ctx->alloc);
        if (st != XF_OK) {
            return st;
        }
    }

    return xf_decoder_feed(ctx->decoder, p, len);
}


static ngx_int_t
ngx_http_xflow_body_done(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx)
{
    size_t        len;
    xf_status_t   st;
    const u_char *p;

    if (ctx->decoder == NULL) {
        return ngx_http_xflow_reply_status(r, XF_ERR_EMPTY);
    }

    st = xf_decoder_finish(ctx->decoder, &p, &len);

    if (st != XF_OK) {
        return ngx_http_xflow_reply_status(r, st);
    }

    return ngx_http_xflow_process(r, ctx, p, len);
}


/*
 * Split, envelope and produce.  Returns NGX_DONE while waiting for
 * delivery reports, or the result of the answer sent.
 */
static ngx_int_t
ngx_http_xflow_process(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    const u_char *p, size_t len)
{
    size_t                      head_len, total;
    u_char                     *head, *d;
    u_char                      id[XF_ID_HEX_LEN];
    ngx_uint_t                  i, n, queued;
    ngx_time_t                 *tp;
    xf_status_t                 st;
    xf_json_span_t             *s;
    xf_json_split_t             split;
    rd_kafka_message_t         *msgs;
    xf_envelope_req_t           req;
    rd_kafka_resp_err_t         err;
    xf_json_split_conf_t        sc;
    ngx_http_xflow_batch_t     *batch;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    sc.max_depth = lcf->max_depth;
    sc.max_events = lcf->max_events;
    ngx_memzero(&split, sizeof(xf_json_split_t));

    st = xf_json_split(p, len, &sc, &ctx->alloc, &split);

    if (st != XF_OK) {
        return ngx_http_xflow_reply_status(r, st);
    }

    n = split.n;
    s = split.spans;

    if (n == 0) {
        return ngx_http_xflow_reply_accepted(r, 0);
    }

    for (i = 0; i < n; i++) {
        if (s[i].type != XF_JSON_OBJECT) {
            return ngx_http_xflow_reply_status(r, XF_ERR_NOT_OBJECT);
        }

        if (s[i].len > lcf->max_event_size) {
            return ngx_http_xflow_reply_status(r, XF_ERR_EVENT_TOO_LARGE);
        }
    }

    if (!ngx_http_xflow_kafka_has_room(n)) {
        return ngx_http_xflow_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "queue_full",
                                          "Kafka producer queue is full");
    }

    /* what every envelope of this request shares, rendered once */

    tp = ngx_timeofday();
    req.ts_ms = (uint64_t) tp->sec * 1000 + tp->msec;
    req.src = "json";
    req.ip = r->connection->addr_text.data;
    req.ip_len = r->connection->addr_text.len;
    req.extra = NULL;
    req.extra_len = 0;

    head = ngx_pnalloc(r->pool, xf_envelope_head_size(&req));
    if (head == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head_len = xf_envelope_head(head, &req);

    total = 0;
    for (i = 0; i < n; i++) {
        total += xf_envelope_size(head_len, 0, s[i].len);
    }

    batch = ngx_alloc(sizeof(ngx_http_xflow_batch_t) + total,
                      r->connection->log);
    msgs = ngx_pcalloc(r->pool, n * sizeof(rd_kafka_message_t));

    if (batch == NULL || msgs == NULL) {
        if (batch) {
            ngx_free(batch);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    batch->r = NULL;
    batch->pending = 0;
    batch->failed = 0;
    batch->last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    batch->size = total;

    d = batch->data;

    for (i = 0; i < n; i++) {
        ngx_http_xflow_kafka_next_id(id);

        msgs[i].payload = d;
        d = xf_envelope_write(d, id, head, head_len, NULL, 0,
                              p + s[i].off, s[i].len);
        msgs[i].len = d - (u_char *) msgs[i].payload;
    }

    queued = ngx_http_xflow_kafka_produce(batch,
                                 ngx_http_xflow_kafka_topic(lcf->topic_index),
                                 msgs, n, &err);

    if (queued < n) {
        /* the has_room check makes this rare: a byte limit, not a count */
        ngx_http_xflow_batch_release(batch);

        ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_WARN,
                                     NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "produce", rd_kafka_err2str(err));

        return ngx_http_xflow_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "queue_full",
                                          rd_kafka_err2str(err));
    }

    ctx->accepted = n;

    if (lcf->ack == NGX_HTTP_XFLOW_ACK_LOCAL) {
        /* delivery reports free the batch; nobody waits for them */
        return ngx_http_xflow_reply_accepted(r, n);
    }

    /* ack=kafka: answer from the last delivery report */

    batch->r = r;
    ctx->batch = batch;

    ctx->ack_timer.handler = ngx_http_xflow_ack_timeout;
    ctx->ack_timer.data = r;
    ctx->ack_timer.log = r->connection->log;
    ngx_add_timer(&ctx->ack_timer, lcf->ack_timeout);

    /* notice a client that goes away while we wait */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;
}


/* Called from the delivery report that completed the batch. */
void
ngx_http_xflow_batch_done(ngx_http_xflow_batch_t *batch)
{
    ngx_int_t              rc;
    ngx_uint_t             failed;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    rd_kafka_resp_err_t    err;
    ngx_http_xflow_ctx_t  *ctx;

    r = batch->r;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    failed = batch->failed;
    err = batch->last_err;

    ctx->batch = NULL;
    batch->r = NULL;
    ngx_http_xflow_batch_release(batch);

    if (ctx->ack_timer.timer_set) {
        ngx_del_timer(&ctx->ack_timer);
    }

    if (failed) {
        rc = ngx_http_xflow_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        "delivery_failed",
                                        rd_kafka_err2str(err));
    } else {
        rc = ngx_http_xflow_reply_accepted(r, ctx->accepted);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_xflow_ack_timeout(ngx_event_t *ev)
{
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_xflow_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    /* the batch lives on until its last report; the request does not */
    if (ctx->batch) {
        ctx->batch->r = NULL;
        ngx_http_xflow_batch_release(ctx->batch);
        ctx->batch = NULL;
    }

    ngx_http_xflow_log_throttled(c->log, NGX_LOG_WARN,
                                 NGX_HTTP_SERVICE_UNAVAILABLE, "ack_timeout",
                                 "no delivery report within xflow_ack_timeout");

    rc = ngx_http_xflow_reply_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "ack_timeout",
                                    "Kafka did not acknowledge in time");

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_xflow_cleanup(void *data)
{
    ngx_http_request_t *r = data;

    ngx_http_xflow_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);
    if (ctx == NULL) {
        return;
    }

    if (ctx->ack_timer.timer_set) {
        ngx_del_timer(&ctx->ack_timer);
    }

    /* the client went away first: the reports will find r == NULL */
    if (ctx->batch) {
        ctx->batch->r = NULL;
        ngx_http_xflow_batch_release(ctx->batch);
        ctx->batch = NULL;
    }

    if (ctx->decoder) {
        xf_decoder_free(ctx->decoder);
        ctx->decoder = NULL;
    }
}


/* Map a core status to its HTTP answer. */
static ngx_int_t
ngx_http_xflow_reply_status(ngx_http_request_t *r, xf_status_t st)
{
    ngx_uint_t   status;
    const char  *detail;

    switch (st) {

    case XF_ERR_TOO_LARGE:
    case XF_ERR_EVENT_TOO_LARGE:
    case XF_ERR_TOO_MANY_EVENTS:
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        detail = "over a configured size or count limit";
        break;

    case XF_ERR_ENCODING_UNKNOWN:
        status = NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
        detail = "Content-Encoding must be gzip, deflate, zstd or identity";
        break;

    case XF_ERR_NOMEM:
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        detail = "out of memory";
        break;

    case XF_ERR_CORRUPT:
    case XF_ERR_TRUNCATED:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "the compressed body cannot be decoded";
        break;

    case XF_ERR_EMPTY:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "the body holds no event";
        break;

    case XF_ERR_NOT_OBJECT:
        status = NGX_HTTP_BAD_REQUEST;
        detail = "every event must be a JSON object";
        break;

    default: /* JSON errors */
        status = NGX_HTTP_BAD_REQUEST;
        detail = "the body is not valid JSON";
        break;
    }

    ngx_http_xflow_log_throttled(r->connection->log, NGX_LOG_INFO, status,
                                 xf_strerror(st), detail);

    return ngx_http_xflow_reply_error(r, status, xf_strerror(st), detail);
}


static void *
ngx_http_xflow_pool_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


static void
ngx_http_xflow_pool_free(void *data, void *p)
{
    /* gives large blocks back at once; small ones go with the pool */
    (void) ngx_pfree(data, p);
}
