/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_util.h - the bottom of the glue: helpers every other
 * part may call and that call no other part.
 *
 *   request headers    ngx_http_xflow_header_in()
 *   answers            ngx_http_xflow_send(), _send_json(), _add_header()
 *   error-log lines    ngx_http_xflow_log_throttled()
 *   core allocators    ngx_http_xflow_pool_allocator(), _heap_allocator
 *
 * Names keep the bare ngx_http_xflow_ prefix, as nginx's own
 * ngx_string.c and ngx_palloc.c do for what everything uses.
 */

#ifndef NGX_HTTP_XFLOW_UTIL_H
#define NGX_HTTP_XFLOW_UTIL_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_core.h"
#include "xf_ip.h"


/**
 * @brief The value of the first request header called \p name (any case).
 *
 * nginx 1.22 keeps no field for Origin and a few others: this walks the
 * header list.
 *
 * @returns the value, owned by the request, or NULL when there is none.
 * Worker event loop, any request phase after the headers were read.
 */
ngx_str_t *ngx_http_xflow_header_in(ngx_http_request_t *r,
    const char *name, size_t len);


/**
 * @brief Add a response header.  \p key and \p value are not copied:
 * they must live as long as the request (literals or its pool).
 *
 * @returns NGX_OK or NGX_ERROR (no memory).  Worker event loop.
 */
ngx_int_t ngx_http_xflow_add_header(ngx_http_request_t *r, char *key,
    size_t key_len, u_char *value, size_t len);

#define ngx_http_xflow_header_lit(r, k, v)                                   \
    ngx_http_xflow_add_header(r, k, sizeof(k) - 1, (u_char *) v,            \
                              sizeof(v) - 1)


/**
 * @brief The start of a content handler that only answers (health,
 * metrics, reports): GET and HEAD only, any body discarded.
 * @returns NGX_OK, or the status to return (405, or what discarding the
 * body returned).  Worker event loop.
 */
ngx_int_t ngx_http_xflow_read_only(ngx_http_request_t *r);


/**
 * @brief Send a whole answer: \p status, Content-Type \p type (a literal
 * or pool memory), Content-Length and \p body, which is not copied and
 * must live in the request's pool or longer.
 *
 * @returns what ngx_http_output_filter() returns, for the caller to pass
 * to ngx_http_finalize_request() (or return from a content handler).
 * Worker event loop.
 */
ngx_int_t ngx_http_xflow_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, size_t type_len, u_char *body, size_t len);

#define ngx_http_xflow_send_lit(r, status, type, body, len)                 \
    ngx_http_xflow_send(r, status, type, sizeof(type) - 1, body, len)

/* A report's static page (a char array): 200, text/html. */
#define ngx_http_xflow_send_page(r, page)                                   \
    ngx_http_xflow_send_lit(r, NGX_HTTP_OK, "text/html; charset=utf-8",    \
                            (u_char *) (page), sizeof(page) - 1)

/** @brief ngx_http_xflow_send() with application/json. */
ngx_int_t ngx_http_xflow_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len);


/**
 * @brief An error-log line that stays readable when a broken SDK release
 * sends thousands of bad requests a second: at most one line per second
 * per kind (4xx by status, 5xx together); the lines suppressed meanwhile
 * are counted in the next one.
 *
 * Worker event loop (the slots are the worker's own).
 */
void ngx_http_xflow_log_throttled(ngx_log_t *log, ngx_uint_t level,
    ngx_uint_t status, const char *code, const char *detail);


/**
 * @brief One kind of error-log line, throttled to one per second (the
 * caller's own static memory, zeroed): the spool's write errors, each of
 * librdkafka's facilities.
 */
typedef struct {
    time_t                      sec;
    ngx_uint_t                  suppressed;
} ngx_http_xflow_throttle_t;

/**
 * @brief 1 when a line of kind \p t may be written now; *suppressed then
 * holds the lines of that kind held back since the last one written.
 * 0: hold this one back (counted).
 */
ngx_uint_t ngx_http_xflow_throttle(ngx_http_xflow_throttle_t *t,
    ngx_uint_t *suppressed);


/**
 * @brief The core's allocator (xf_alloc_t) over an nginx pool: free
 * gives large blocks back at once, small ones go with the pool.
 * \p a must live as long as what allocates through it.
 */
void ngx_http_xflow_pool_allocator(xf_alloc_t *a, ngx_pool_t *pool);

/**
 * @brief Read a file a directive names (\p name, made absolute from the
 * prefix in place) whole into *buf (from \p pool, one byte more than
 * *len), for a parser that reports its own lines.
 * @returns NGX_OK, or NGX_ERROR once it said at emerg which \p what
 * ("tracking plan") it could not open or read.  Configuration time.
 */
ngx_int_t ngx_http_xflow_read_conf_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_pool_t *pool, const char *what, u_char **buf, size_t *len);

/**
 * @brief Create *array (n elements of size) from pool unless a directive
 * already did: for lists that several directives append to.
 * @returns NGX_OK or NGX_ERROR.  Configuration time.
 */
ngx_int_t ngx_http_xflow_pool_array(ngx_pool_t *pool, ngx_array_t **array,
    ngx_uint_t n, size_t size);

/** @brief The core's allocator over ngx_alloc()/ngx_free(), for what
 * outlives every pool (the spool). */
extern const xf_alloc_t  ngx_http_xflow_heap_allocator;


/**
 * @brief The client's address, parsed from the connection's text once
 *        per request and kept in the collection ctx (GeoIP, the
 *        privacy rules and the bot check all read it).
 *
 * @returns the address, owned by the request's ctx (or by a static of
 *          the worker for a request without one, valid until the next
 *          call), or NULL when it does not parse.
 * Worker event loop.
 */
const xf_ip_t *ngx_http_xflow_client_ip(ngx_http_request_t *r);


#endif /* NGX_HTTP_XFLOW_UTIL_H */
