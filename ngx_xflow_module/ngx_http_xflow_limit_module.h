/*
 * ngx_http_xflow_limit_module.h - what the collection handler asks the
 * rate limits (see ngx_http_xflow_limit_module.c).
 */

#ifndef NGX_HTTP_XFLOW_LIMIT_MODULE_H
#define NGX_HTTP_XFLOW_LIMIT_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* $xflow_limit_status */
#define NGX_HTTP_XFLOW_LIMIT_NONE              0
#define NGX_HTTP_XFLOW_LIMIT_PASSED            1
#define NGX_HTTP_XFLOW_LIMIT_REJECTED          2
#define NGX_HTTP_XFLOW_LIMIT_REJECTED_DRY_RUN  3
#define NGX_HTTP_XFLOW_LIMIT_OVERFLOW          4


extern ngx_module_t  ngx_http_xflow_limit_module;


/*
 * Requests (r/s, r/m zones), before the body is read: NGX_OK, or
 * NGX_DECLINED when refused (Retry-After and the RateLimit fields are
 * set; the caller answers with the retry status), NGX_ERROR.
 */
ngx_int_t ngx_http_xflow_limit_requests(ngx_http_request_t *r);

/*
 * Events (e/s, e/m zones), n valid events of a decoded upload: NGX_OK,
 * NGX_DECLINED (refused, as above), NGX_BUSY (over a zone with
 * overflow=: every event goes to topic *overflow), NGX_ERROR.
 */
ngx_int_t ngx_http_xflow_limit_events(ngx_http_request_t *r, ngx_uint_t n,
    ngx_uint_t *overflow);

/* Seconds the refusing limit asks the client to wait; 0: none refused. */
uint64_t ngx_http_xflow_limit_retry_after(ngx_http_request_t *r);

/*
 * xflow_max_decoded_in_flight: charge n decoded bytes to this worker
 * (NGX_OK), or NGX_DECLINED when that would pass the bound; give them
 * back with release.
 */
ngx_int_t ngx_http_xflow_inflight_charge(ngx_http_request_t *r, size_t n);
void ngx_http_xflow_inflight_release(size_t n);

#endif /* NGX_HTTP_XFLOW_LIMIT_MODULE_H */
