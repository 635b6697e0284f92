/*
 * ngx_http_xflow_reply.c - small JSON answers, and error-log lines that
 * stay readable when a broken SDK release sends thousands of bad
 * requests a second.
 */

#include "ngx_http_xflow_module.h"


/* One log line per second per kind; the rest are counted. */
typedef struct {
    time_t          sec;
    ngx_uint_t      suppressed;
} ngx_http_xflow_log_slot_t;


static ngx_int_t ngx_http_xflow_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);


static ngx_http_xflow_log_slot_t  ngx_http_xflow_log_slots[6];


static ngx_int_t
ngx_http_xflow_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_xflow_reply_accepted(ngx_http_request_t *r, ngx_uint_t accepted)
{
    u_char  *body, *last;

    body = ngx_pnalloc(r->pool, sizeof("{\"accepted\":}") + NGX_INT_T_LEN);
    if (body == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(body, "{\"accepted\":%ui}", accepted);

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, body, last - body);
}


ngx_int_t
ngx_http_xflow_reply_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail)
{
    size_t            dlen;
    u_char           *body, *p;
    ngx_table_elt_t  *h;

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        /* SDKs that retry honour it; Traefik and WAFs log it */
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Retry-After");
        ngx_str_set(&h->value, "1");
    }

    dlen = ngx_strlen(detail);

    body = ngx_pnalloc(r->pool, sizeof("{\"error\":\"\",\"detail\":\"\"}")
                                + ngx_strlen(code)
                                + xf_json_escape_bound(dlen));
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(body, "{\"error\":\"%s\",\"detail\":\"", code);
    p += xf_json_escape(p, (const u_char *) detail, dlen);
    p = ngx_cpymem(p, "\"}", 2);

    return ngx_http_xflow_send_json(r, status, body, p - body);
}


void
ngx_http_xflow_log_throttled(ngx_log_t *log, ngx_uint_t level,
    ngx_uint_t status, const char *code, const char *detail)
{
    time_t                      now;
    ngx_uint_t                  slot;
    ngx_http_xflow_log_slot_t  *s;

    if (log->log_level < level) {
        return;
    }

    /* 4xx and 5xx of each cause share a few slots: coarse, but bounded */
    slot = (status / 100 == 5) ? 5 : status % 5;
    s = &ngx_http_xflow_log_slots[slot];

    now = ngx_time();

    if (s->sec == now) {
        s->suppressed++;
        return;
    }

    s->sec = now;

    if (s->suppressed) {
        ngx_log_error(level, log, 0,
                      "xflow: %ui %s: %s (%ui similar lines suppressed)",
                      status, code, detail, s->suppressed);
        s->suppressed = 0;
        return;
    }

    ngx_log_error(level, log, 0, "xflow: %ui %s: %s", status, code, detail);
}
