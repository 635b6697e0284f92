/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_bench_baseline_module.c - the fair baseline for `make bench`.
 *
 * `bench_read_body;` reads the whole request body into memory (or a temp
 * file past client_body_buffer_size, as any body-reading module would) and
 * answers 204 without looking at it.  `return 204;` discards the body
 * unread, so it is not a fair reference for a module that reads bodies.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


static char *ngx_http_bench_read_body(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_bench_baseline_handler(ngx_http_request_t *r);
static void ngx_http_bench_baseline_body(ngx_http_request_t *r);


static ngx_command_t  ngx_http_bench_baseline_commands[] = {

    { ngx_string("bench_read_body"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bench_read_body,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_bench_baseline_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_bench_baseline_module = {
    NGX_MODULE_V1,
    &ngx_http_bench_baseline_module_ctx,   /* module context */
    ngx_http_bench_baseline_commands,      /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_bench_read_body(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_bench_baseline_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_bench_baseline_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    /* GET and OPTIONS too: the real mix has beacons and preflights */
    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_GET|NGX_HTTP_OPTIONS))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_bench_baseline_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* the body handler finishes the request, now or when the body is in */
    return NGX_DONE;
}


static void
ngx_http_bench_baseline_body(ngx_http_request_t *r)
{
    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;
    r->headers_out.content_length_n = 0;

    ngx_http_finalize_request(r, ngx_http_send_header(r));
}
