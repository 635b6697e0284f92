/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_collect.c - the xflow_collect content handler: the HTTP
 * side of a request.
 *
 *   1. CORS preflight; method, Content-Length, Content-Encoding (405/413/
 *      415)
 *   2. read the body unbuffered, feeding each chunk to the core decoder
 *      as it arrives: no temp files, the caps apply while reading (413)
 *   3. hand the decoded body to ngx_http_xflow_ingest() (formats, events,
 *      Kafka), which answers at once (ack=local) or returns NGX_DONE
 *   4. ack=kafka: answer from the last delivery report of the batch; with
 *      a spool, what Kafka has not acknowledged within xflow_spool_after
 *      is spooled and answered once durable; 503 when one failed or none
 *      came within xflow_ack_timeout
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_collect.h"
#include "ngx_http_xflow_reply.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_spool.h"
#include "ngx_http_xflow_ingest.h"


/* A body waiting for more bytes while it holds over this much charged
 * memory, and over this many times what it sent, waits only
 * xflow_hoard_timeout (a bomb's prefix, a zstd frame header). */
#define NGX_HTTP_XFLOW_HOARD_MIN    (1024 * 1024)
#define NGX_HTTP_XFLOW_HOARD_RATIO  64


static void ngx_http_xflow_collect_body_ready(ngx_http_request_t *r);
static void ngx_http_xflow_collect_read_body(ngx_http_request_t *r);
static void ngx_http_xflow_collect_hoard(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static xf_status_t ngx_http_xflow_collect_consume(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static ngx_int_t ngx_http_xflow_collect_consume_whole(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t *st);
static xf_status_t ngx_http_xflow_collect_feed(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, u_char *p, size_t len, ngx_uint_t whole);
static xf_status_t ngx_http_xflow_collect_ratio(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static ngx_int_t ngx_http_xflow_collect_body_done(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);
static ngx_int_t ngx_http_xflow_collect_body_error(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st);
static ngx_int_t ngx_http_xflow_collect_encoding(ngx_http_request_t *r,
    xf_encoding_t *enc);
static void ngx_http_xflow_collect_cleanup(void *data);
static void *ngx_http_xflow_collect_alloc(void *data, size_t size);
static void ngx_http_xflow_collect_free(void *data, void *p);


ngx_int_t
ngx_http_xflow_collect_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    xf_encoding_t               enc;
    ngx_pool_cleanup_t         *cln;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_xflow_reply_preflight(r);
    }

    if (ngx_http_xflow_reply_cors(r) == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
     *     ctx->raw = NULL;
     *     ctx->wait = { 0 };
     *     ctx->outcome = XF_OUTCOME_NONE;
     *     ctx->events = NULL;
     *     ctx->nevents = 0;
     */

    ctx->format = lcf->format;
    ctx->alloc.alloc = ngx_http_xflow_collect_alloc;
    ctx->alloc.free = ngx_http_xflow_collect_free;
    ctx->alloc.data = ctx;
    ctx->request = r;
    ctx->pool = r->pool;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_xflow_collect_cleanup;
    cln->data = r;

    ngx_http_set_ctx(r, ctx, ngx_http_xflow_module);

    /* request limits first: a refused request costs no body reading */
    rc = ngx_http_xflow_limit_requests(r);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->outcome = XF_OUTCOME_RATE_LIMITED;
        return ngx_http_xflow_reply_outcome(r, ctx,
                                            "over a request rate limit");
    }

    if (ngx_http_xflow_spool_full()) {
        /* backpressure: what is accepted must fit somewhere */
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->outcome = XF_OUTCOME_SPOOL_FULL;
        return ngx_http_xflow_reply_outcome(r, ctx, NULL);
    }

    if (r->method == NGX_HTTP_GET || r->method == NGX_HTTP_HEAD) {
        /* image beacons, pixels and remote config carry no body */

        if (!xf_format_takes_get(lcf->format)) {
            goto not_allowed;
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_xflow_limit_inflight_body_read(r);

        rc = ngx_http_xflow_ingest(r, ctx, NULL, 0);

        if (rc == NGX_DONE) {
            /* waiting for delivery reports: as reading a body would */
            r->main->count++;
        }

        return rc;
    }

    if (r->method != NGX_HTTP_POST && r->method != NGX_HTTP_PUT) {
        goto not_allowed;
    }

    if (r->headers_in.content_length_n > (off_t) lcf->max_body) {
        r->keepalive = 0;

        /* no "100 Continue" for a body that is refused whatever it is */
        r->expect_tested = 1;

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_xflow_ingest_reject(r, ctx, XF_ERR_TOO_LARGE,
                                             NULL, 0);
    }

    if (ngx_http_xflow_collect_encoding(r, &enc) != NGX_OK) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_xflow_ingest_reject(r, ctx, XF_ERR_ENCODING_UNKNOWN,
                                             NULL, 0);
    }

    ctx->encoding = enc;

    /* stream the body through the decoder: nothing goes to temp files */
    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_xflow_collect_body_ready);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* a malformed chunked body or no memory */
        return rc;
    }

    return NGX_DONE;

not_allowed:

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->outcome = XF_OUTCOME_METHOD_NOT_ALLOWED;
    return ngx_http_xflow_reply_outcome(r, ctx, NULL);
}


static ngx_int_t
ngx_http_xflow_collect_encoding(ngx_http_request_t *r, xf_encoding_t *enc)
{
    ngx_str_t  *v;

    *enc = XF_ENC_IDENTITY;

    v = ngx_http_xflow_header_in(r, "Content-Encoding",
                                 sizeof("Content-Encoding") - 1);

    if (v && xf_encoding_parse(v->data, v->len, enc) != XF_OK) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_xflow_collect_body_ready(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    xf_status_t            st;
    ngx_http_xflow_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    st = ngx_http_xflow_collect_consume(r, ctx);

    if (st != XF_OK) {
        ngx_http_finalize_request(r,
            ngx_http_xflow_collect_body_error(r, ctx, st));
        return;
    }

    if (r->reading_body) {
        /* the rest of the body arrives through the read event */
        r->read_event_handler = ngx_http_xflow_collect_read_body;
        ngx_http_xflow_collect_read_body(r);
        return;
    }

    rc = ngx_http_xflow_collect_body_done(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static void
ngx_http_xflow_collect_read_body(ngx_http_request_t *r)
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
            ngx_http_xflow_collect_hoard(r, ctx);
            return;
        }

        st = ngx_http_xflow_collect_consume(r, ctx);

        if (st != XF_OK) {
            ngx_http_finalize_request(r,
                ngx_http_xflow_collect_body_error(r, ctx, st));
            return;
        }

        if (!r->reading_body) {
            break;
        }
    }

    r->read_event_handler = ngx_http_block_reading;

    rc = ngx_http_xflow_collect_body_done(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * The body waits for more bytes while it holds decoded memory many
 * times what it sent: a few bytes of a zstd frame header or a bomb's
 * prefix must not hold their charge for client_body_timeout.  The body
 * read armed that timer; a shorter one replaces it.
 */
static void
ngx_http_xflow_collect_hoard(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx)
{
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    if (lcf->hoard_timeout == 0
        || !r->connection->read->timer_set
        || ctx->inflight < NGX_HTTP_XFLOW_HOARD_MIN
        || ctx->inflight / NGX_HTTP_XFLOW_HOARD_RATIO
           < (size_t) ctx->received)
    {
        return;
    }

    if (r->connection->read->timer.key
        > ngx_current_msec + lcf->hoard_timeout)
    {
        ngx_add_timer(r->connection->read, lcf->hoard_timeout);
    }
}


/*
 * Feed every buffer the body filters produced to the decoder and mark it
 * consumed, so nginx can reuse its body buffer for what comes next.
 */
static xf_status_t
ngx_http_xflow_collect_consume(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx)
{
    size_t        len;
    ssize_t       n;
    u_char        buf[4096];
    ngx_buf_t    *b;
    ngx_chain_t  *cl;
    xf_status_t   st;

    if (ngx_http_xflow_collect_consume_whole(r, ctx, &st) == NGX_OK) {
        return st;
    }

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

                st = ngx_http_xflow_collect_feed(r, ctx, buf, n, 0);
                if (st != XF_OK) {
                    return st;
                }
            }

            continue;
        }

        if (b->last > b->pos) {
            st = ngx_http_xflow_collect_feed(r, ctx, b->pos,
                                             b->last - b->pos, 0);
            if (st != XF_OK) {
                return st;
            }
        }

        b->pos = b->last;
    }

    r->request_body->bufs = NULL;

    return XF_OK;
}


/*
 * The whole body has been read and is in memory in one buffer: the
 * decoder takes it without a copy (a small gzip or deflate body is
 * decoded at once).  NGX_DECLINED when it is not all there or not in
 * one buffer: it is then fed buffer by buffer, and the decoder holds a
 * small compressed body until its end, so the answer is the same.
 */
static ngx_int_t
ngx_http_xflow_collect_consume_whole(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t *st)
{
    size_t        len;
    u_char       *p;
    ngx_buf_t    *b;
    ngx_uint_t    n;
    ngx_chain_t  *cl;

    if (ctx->decoder != NULL || r->reading_body) {
        return NGX_DECLINED;
    }

    len = 0;
    n = 0;
    p = NULL;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            return NGX_DECLINED;
        }

        if (b->last > b->pos) {
            len += b->last - b->pos;
            p = b->pos;
            n++;
        }
    }

    if (n != 1) {
        return NGX_DECLINED;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
    }

    r->request_body->bufs = NULL;

    *st = ngx_http_xflow_collect_feed(r, ctx, p, len, 1);

    return NGX_OK;
}


static xf_status_t
ngx_http_xflow_collect_feed(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx,
    u_char *p, size_t len, ngx_uint_t whole)
{
    size_t                      n;
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

        st = xf_decoder_set_window_max(ctx->decoder, lcf->zstd_window);
        if (st != XF_OK) {
            return st;
        }
    }

    if (ctx->encoding != XF_ENC_IDENTITY && ctx->raw_len < lcf->dl_max_raw) {
        /*
         * The decoder keeps what it decoded, not what it was given: the
         * first bytes of a compressed body are kept for the dead-letter
         * topic in case it turns out undecodable.
         */
        if (ctx->raw == NULL) {
            ctx->raw = ngx_pnalloc(r->pool, lcf->dl_max_raw);
            if (ctx->raw == NULL) {
                return XF_ERR_NOMEM;
            }
        }

        n = ngx_min(len, lcf->dl_max_raw - ctx->raw_len);
        ngx_memcpy(ctx->raw + ctx->raw_len, p, n);
        ctx->raw_len += n;
    }

    st = whole ? xf_decoder_feed_whole(ctx->decoder, p, len)
               : xf_decoder_feed(ctx->decoder, p, len);

    if (st != XF_OK) {
        return st;
    }

    return ngx_http_xflow_collect_ratio(r, ctx);
}


/*
 * Past a size, a body may not decode to more than xflow_max_decode_ratio
 * times what it sent: a batch of the same event compressed hundreds of
 * times over is refused before it reaches Kafka.  Checked as the body
 * streams and once it is decoded (a small gzip or deflate body is
 * decoded at its end).
 */
static xf_status_t
ngx_http_xflow_collect_ratio(ngx_http_request_t *r, ngx_http_xflow_ctx_t *ctx)
{
    size_t                      n;
    ngx_http_xflow_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);

    n = xf_decoder_size(ctx->decoder);

    if (lcf->decode_ratio
        && n > lcf->decode_ratio_from
        && n / lcf->decode_ratio >= (size_t) ctx->received)
    {
        return XF_ERR_TOO_LARGE;
    }

    return XF_OK;
}


static ngx_int_t
ngx_http_xflow_collect_body_done(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx)
{
    size_t        len;
    xf_status_t   st;
    const u_char *p;

    if (ctx->decoder == NULL) {
        /* no body at all: the adapter decides (a GET-style upload) */
        ngx_http_xflow_limit_inflight_body_read(r);
        return ngx_http_xflow_ingest(r, ctx, NULL, 0);
    }

    /* a small gzip or deflate body is decoded here, under the client's
     * share as a streamed one is */
    st = xf_decoder_finish(ctx->decoder, &p, &len);

    if (st == XF_OK) {
        st = ngx_http_xflow_collect_ratio(r, ctx);
    }

    /* the client can hold nothing more by sending slowly */
    ngx_http_xflow_limit_inflight_body_read(r);

    if (st != XF_OK) {
        return ngx_http_xflow_collect_body_error(r, ctx, st);
    }

    return ngx_http_xflow_ingest(r, ctx, p, len);
}


/*
 * The body could not be read or decoded: answer, and keep what we have of
 * it (the compressed bytes, or what was decoded of an identity body) for
 * the dead-letter topic.
 */
static ngx_int_t
ngx_http_xflow_collect_body_error(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st)
{
    size_t                      len;
    const u_char               *p;
    ngx_http_xflow_loc_conf_t  *lcf;

    if (r->reading_body) {
        /* the rest of the body is not read: this connection is done */
        r->keepalive = 0;
    }

    if (ctx->raw) {
        return ngx_http_xflow_ingest_reject(r, ctx, st, ctx->raw,
                                             ctx->raw_len);
    }

    p = NULL;
    len = 0;

    if (ctx->decoder) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_xflow_module);
        p = xf_decoder_data(ctx->decoder);
        len = ngx_min(xf_decoder_size(ctx->decoder), lcf->dl_max_raw);
    }

    return ngx_http_xflow_ingest_reject(r, ctx, st, p, len);
}


static void
ngx_http_xflow_collect_cleanup(void *data)
{
    ngx_http_request_t *r = data;

    ngx_http_xflow_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);
    if (ctx == NULL) {
        return;
    }

    /* the client went away first, or the answer was sent */
    ngx_http_xflow_batch_abandon(&ctx->wait);

    if (ctx->decoder) {
        xf_decoder_free(ctx->decoder);
        ctx->decoder = NULL;
    }

    /* what the pool still holds goes with it */
    ngx_http_xflow_limit_inflight_release(r, ctx->inflight);
    ctx->inflight = 0;

    ngx_http_xflow_limit_inflight_unhold(ctx->held);
    ctx->held = 0;
}


/*
 * The allocator of the decoder and the format layers: the request pool,
 * every block charged to the worker's decoded bytes in flight
 * (xflow_max_decoded_in_flight) until it is freed or the request ends.
 * A block starts with its charged size, so that free can give it back.
 */

#define NGX_HTTP_XFLOW_BLOCK_HEAD  16

static void *
ngx_http_xflow_collect_alloc(void *data, size_t size)
{
    ngx_http_xflow_ctx_t *ctx = data;

    u_char                     *p;
    ngx_http_xflow_loc_conf_t  *lcf;

    if (size > NGX_MAX_SIZE_T_VALUE - NGX_HTTP_XFLOW_BLOCK_HEAD) {
        return NULL;
    }

    size += NGX_HTTP_XFLOW_BLOCK_HEAD;
    lcf = ngx_http_get_module_loc_conf(ctx->request, ngx_http_xflow_module);

    if (ngx_http_xflow_limit_inflight_charge(ctx->request, size,
                                             lcf->client_share)
        != NGX_OK)
    {
        /* answered with the retry status, not as out of memory */
        ctx->inflight_refused = 1;
        return NULL;
    }

    p = ngx_palloc(ctx->pool, size);
    if (p == NULL) {
        ngx_http_xflow_limit_inflight_release(ctx->request, size);
        return NULL;
    }

    ctx->inflight += size;
    *(size_t *) p = size;

    return p + NGX_HTTP_XFLOW_BLOCK_HEAD;
}


static void
ngx_http_xflow_collect_free(void *data, void *p)
{
    ngx_http_xflow_ctx_t *ctx = data;

    u_char  *b;
    size_t   size;

    if (p == NULL) {
        return;
    }

    b = (u_char *) p - NGX_HTTP_XFLOW_BLOCK_HEAD;
    size = *(size_t *) b;

    /* gives large blocks back at once; small ones go with the pool */
    if (ngx_pfree(ctx->pool, b) == NGX_OK) {
        size = ngx_min(size, ctx->inflight);
        ctx->inflight -= size;
        ngx_http_xflow_limit_inflight_release(ctx->request, size);
    }
}
