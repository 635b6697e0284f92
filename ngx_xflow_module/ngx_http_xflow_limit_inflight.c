/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit_inflight.c - xflow_max_decoded_in_flight: the
 * decoded bytes this worker's requests hold, bounded; and each client's
 * share of them, for all workers (xflow_max_decoded_per_client; the
 * directives are the limit module's, see ngx_http_xflow_limit_module.h).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_metrics_module.h"

#include "xrl_share.h"


/* Decoded bytes held by this worker's requests in progress. */
static size_t  ngx_http_xflow_limit_inflight;


static size_t ngx_http_xflow_limit_inflight_client(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, u_char *conn);
static ngx_int_t ngx_http_xflow_limit_inflight_share(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, size_t n, size_t share);


/*
 * Decoded bytes in flight: what this worker's requests hold of decoded
 * bodies and nested layers, from the first decoded byte to the end of
 * the request.  A slow client that sent a small compressed body holds
 * its decoded bytes while it drips the rest: many of them could hold the
 * worker's memory.  NGX_DECLINED: over xflow_max_decoded_in_flight or
 * over the client's share, the request is to be refused with the retry
 * status.
 */
ngx_int_t
ngx_http_xflow_limit_inflight_charge(ngx_http_request_t *r, size_t n,
    size_t share)
{
    ngx_http_xflow_ctx_t              *ctx;
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (lmcf->max_inflight != 0
        && n > lmcf->max_inflight - ngx_min(ngx_http_xflow_limit_inflight,
                                                  lmcf->max_inflight))
    {
        ngx_http_xflow_metric_add(XF_M_DECODED_INFLIGHT_REFUSED, 0, 0, 1);
        return NGX_DECLINED;
    }

    if (ctx && !ctx->share_off) {
        if (ngx_http_xflow_limit_inflight_share(r, ctx, n, share)
            != NGX_OK)
        {
            ngx_http_xflow_metric_add(XF_M_DECODED_INFLIGHT_REFUSED, 0, 0,
                                      1);
            return NGX_DECLINED;
        }
    }

    ngx_http_xflow_limit_inflight += n;
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_limit_inflight);

    return NGX_OK;
}


void
ngx_http_xflow_limit_inflight_release(ngx_http_request_t *r, size_t n)
{
    u_char                             conn[9];
    ngx_http_xflow_ctx_t              *ctx;
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    ngx_http_xflow_limit_inflight -= ngx_min(n, ngx_http_xflow_limit_inflight);
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_limit_inflight);

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (lmcf->share == NULL || ctx == NULL || ctx->shared == 0) {
        return;
    }

    n = ngx_min(n, ctx->shared);
    ctx->shared -= n;

    (void) ngx_http_xflow_limit_inflight_client(r, ctx, conn);

    xrl_share_release(lmcf->share, ctx->client, ctx->client_len, n);
    xrl_share_release(lmcf->share, conn, sizeof(conn), n);
}


/*
 * The body is read: what the request holds from now on is bounded by
 * how long it may wait (xflow_ack_timeout, xflow_spool_after), not by
 * how slowly its client sends.  Its bytes leave the client's share (an
 * SDK proxy sending a thousand requests a second from one address while
 * Kafka is slow is no attack) and stay in the worker's budget.
 */
void
ngx_http_xflow_limit_inflight_body_read(ngx_http_request_t *r)
{
    u_char                             conn[9];
    ngx_http_xflow_ctx_t              *ctx;
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (ctx == NULL) {
        return;
    }

    ctx->share_off = 1;

    if (lmcf->share == NULL || ctx->shared == 0) {
        return;
    }

    (void) ngx_http_xflow_limit_inflight_client(r, ctx, conn);

    xrl_share_release(lmcf->share, ctx->client, ctx->client_len,
                      ctx->shared);
    xrl_share_release(lmcf->share, conn, sizeof(conn), ctx->shared);
    ctx->shared = 0;
}


/*
 * Bytes the worker holds for requests beyond their decoded bodies: the
 * stripped copies of events (until the request ends) and the batches of
 * rendered envelopes (until their last delivery report).  Counted
 * whatever the bound, since they exist already; what they hold is what
 * later requests cannot decode.
 */
void
ngx_http_xflow_limit_inflight_hold(size_t n)
{
    ngx_http_xflow_limit_inflight += n;
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_limit_inflight);
}


void
ngx_http_xflow_limit_inflight_unhold(size_t n)
{
    ngx_http_xflow_limit_inflight -= ngx_min(n, ngx_http_xflow_limit_inflight);
    ngx_http_xflow_metric_set(XF_M_DECODED_INFLIGHT, 0, 0,
                              ngx_http_xflow_limit_inflight);
}


/*
 * The client's share: its address (an IPv6 client by its /64, which one
 * host holds whole) and its connection (an HTTP/2 connection's streams
 * together) each may hold xflow_max_decoded_per_client, by default the
 * location's share (four of its largest bodies, xflow_max_decoded, and
 * two zstd windows: the caller's) for an address and three quarters of
 * that for a connection.  Set on the first charge
 * and kept in the ctx, so that what is given back goes to the same
 * counters whatever realip does to the connection's address meanwhile.
 */
static ngx_int_t
ngx_http_xflow_limit_inflight_share(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, size_t n, size_t share)
{
    size_t                             max;
    u_char                             conn[9];
    ngx_http_xflow_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_limit_module);

    if (lmcf->share == NULL) {
        return NGX_OK;
    }

    if (ctx->client_len == 0) {
        ctx->client_len = ngx_http_xflow_limit_inflight_client(r, ctx, conn);
    } else {
        (void) ngx_http_xflow_limit_inflight_client(r, ctx, conn);
    }

    max = lmcf->per_client;

    if (max == NGX_CONF_UNSET_SIZE) {
        max = share;
    }

    if (xrl_share_charge(lmcf->share, ctx->client, ctx->client_len, n, max)
        != 0)
    {
        return NGX_DECLINED;
    }

    /* three quarters: a body and a nested layer at the cap, while the
     * decoder's buffer grows, fit one connection; four bodies do not */
    if (xrl_share_charge(lmcf->share, conn, sizeof(conn), n, max - max / 4)
        != 0)
    {
        xrl_share_release(lmcf->share, ctx->client, ctx->client_len, n);
        return NGX_DECLINED;
    }

    ctx->shared += n;

    return NGX_OK;
}


/*
 * Fills the client's key in the ctx when it has none yet, and the
 * connection's in conn: 'c' and the connection's number (an HTTP/2
 * stream's log carries its connection's).  Returns the client key's
 * length.
 */
static size_t
ngx_http_xflow_limit_inflight_client(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, u_char *conn)
{
    uint64_t              number;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    u_char               *p;
    struct sockaddr_in6  *sin6;
#endif

    conn[0] = 'c';
    number = r->connection->log->connection;
    ngx_memcpy(conn + 1, &number, sizeof(number));

    if (ctx->client_len) {
        return ctx->client_len;
    }

    switch (r->connection->sockaddr->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        p = sin6->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ctx->client[0] = '4';
            ngx_memcpy(ctx->client + 1, p + 12, 4);
            return 5;
        }

        ctx->client[0] = '6';
        ngx_memcpy(ctx->client + 1, p, 8);
        return 9;
#endif

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        ctx->client[0] = '4';
        ngx_memcpy(ctx->client + 1, &sin->sin_addr.s_addr, 4);
        return 5;

    default:
        /* a unix socket: its clients are all one */
        ctx->client[0] = 'u';
        return 1;
    }
}
