/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_util.c - the bottom of the glue: request headers,
 * sending an answer, throttled error-log lines and the core's
 * allocators over nginx memory (ngx_http_xflow_util.h).  Nothing here
 * calls another part of the glue or reads a module's configuration.
 */

#include "ngx_http_xflow_module.h"


/* The first request header called name (nginx 1.22 has no Origin field). */
ngx_str_t *
ngx_http_xflow_header_in(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }
}


ngx_int_t
ngx_http_xflow_add_header(ngx_http_request_t *r, char *key, size_t key_len,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = key_len;
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}

ngx_int_t
ngx_http_xflow_read_only(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}


ngx_int_t
ngx_http_xflow_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    return ngx_http_xflow_send_lit(r, status, "application/json", body, len);
}


ngx_int_t
ngx_http_xflow_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, size_t type_len, u_char *body, size_t len)
{
    const char   *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = type_len;
    r->headers_out.content_type_lowcase = NULL;

    /* the type without its parameters, as the charset filter reads it */
    p = memchr(type, ';', type_len);
    r->headers_out.content_type_len = p ? (size_t) (p - type) : type_len;

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


static ngx_http_xflow_throttle_t  ngx_http_xflow_log_slots[6];


ngx_uint_t
ngx_http_xflow_throttle(ngx_http_xflow_throttle_t *t, ngx_uint_t *suppressed)
{
    time_t  now;

    now = ngx_time();

    if (t->sec == now) {
        t->suppressed++;
        return 0;
    }

    t->sec = now;
    *suppressed = t->suppressed;
    t->suppressed = 0;

    return 1;
}


void
ngx_http_xflow_log_throttled(ngx_log_t *log, ngx_uint_t level,
    ngx_uint_t status, const char *code, const char *detail)
{
    ngx_log_t   bare;
    ngx_uint_t  slot, suppressed;

    if (log->log_level < level) {
        return;
    }

    /*
     * Without the log's handler: a request's appends the client address
     * and the request line, whose query is a GET beacon's whole payload,
     * whatever xflow_client_ip and the strip rules say.
     */
    bare = *log;
    bare.handler = NULL;
    bare.data = NULL;
    log = &bare;

    /* 4xx and 5xx of each cause share a few slots: coarse, but bounded */
    slot = (status / 100 == 5) ? 5 : status % 5;

    if (!ngx_http_xflow_throttle(&ngx_http_xflow_log_slots[slot],
                                 &suppressed))
    {
        return;
    }

    if (suppressed) {
        ngx_log_error(level, log, 0,
                      "xflow: %ui %s: %s (%ui similar lines suppressed)",
                      status, code, detail, suppressed);
        return;
    }

    ngx_log_error(level, log, 0, "xflow: %ui %s: %s", status, code, detail);
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


void
ngx_http_xflow_pool_allocator(xf_alloc_t *a, ngx_pool_t *pool)
{
    a->alloc = ngx_http_xflow_pool_alloc;
    a->free = ngx_http_xflow_pool_free;
    a->data = pool;
}


ngx_int_t
ngx_http_xflow_read_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_pool_t *pool, const char *what, u_char **buf, size_t *len)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open %s \"%V\"", what, name);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *name;
    file.log = cf->log;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read %s \"%V\"", what, name);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    *buf = ngx_pnalloc(pool, ngx_file_size(&fi) + 1);
    if (*buf == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_file(&file, *buf, ngx_file_size(&fi), 0);
    (void) ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read %s \"%V\"", what, name);
        return NGX_ERROR;
    }

    *len = (size_t) n;

    return NGX_OK;
}


ngx_int_t
ngx_http_xflow_pool_array(ngx_pool_t *pool, ngx_array_t **array,
    ngx_uint_t n, size_t size)
{
    if (*array != NULL && *array != NGX_CONF_UNSET_PTR) {
        return NGX_OK;
    }

    *array = ngx_array_create(pool, n, size);

    return *array ? NGX_OK : NGX_ERROR;
}


static void *
ngx_http_xflow_heap_alloc(void *data, size_t size)
{
    return ngx_alloc(size, ngx_cycle->log);
}


static void
ngx_http_xflow_heap_free(void *data, void *p)
{
    ngx_free(p);
}


const xf_alloc_t  ngx_http_xflow_heap_allocator = {
    ngx_http_xflow_heap_alloc, ngx_http_xflow_heap_free, NULL
};


const xf_ip_t *
ngx_http_xflow_client_ip(ngx_http_request_t *r)
{
    ngx_str_t             *text;
    ngx_http_xflow_ctx_t  *ctx;

    static xf_ip_t         ip;

    text = &r->connection->addr_text;
    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (ctx == NULL) {
        return xf_ip_parse(text->data, text->len, &ip) ? &ip : NULL;
    }

    if (!ctx->ip_parsed) {
        ctx->ip_ok = xf_ip_parse(text->data, text->len, &ctx->client_ip)
                     ? 1 : 0;
        ctx->ip_parsed = 1;
    }

    return ctx->ip_ok ? &ctx->client_ip : NULL;
}
