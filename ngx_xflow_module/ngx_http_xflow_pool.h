/*
 * ngx_http_xflow_pool.h - nginx pools for the glue's parts: an xf_alloc_t
 * over a pool, for the core libraries, and the lazily created arrays of
 * the list directives (xflow_limit, xflow_cookie_ref, xflow_strip_field).
 *
 * A bottom file: it calls no other glue file.  Every function runs in
 * the one thread nginx has, at config time (the master or nginx -t
 * reading the configuration) or in a worker's event loop.
 */

#ifndef NGX_HTTP_XFLOW_POOL_H
#define NGX_HTTP_XFLOW_POOL_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "xf_core.h"


/**
 * @brief Fills @p a so that the core libraries allocate from @p pool.
 *
 * a->alloc is ngx_palloc; a->free is ngx_pfree, which gives a large block
 * back at once and leaves a small one to go with the pool.
 *
 * Memory: @p a is the caller's; what is allocated through it belongs to
 * @p pool and lives as long as it does.
 *
 * Called from: config time (cf->pool) or a worker (r->pool).
 */
void ngx_http_xflow_pool_allocator(xf_alloc_t *a, ngx_pool_t *pool);

/**
 * @brief Makes *@p array an empty array of @p n elements of @p size
 *        bytes when it is NULL or NGX_CONF_UNSET_PTR, the state of a list
 *        directive's array before its first use in this level; leaves an
 *        existing array as it is.
 *
 * @returns NGX_OK, or NGX_ERROR without memory.
 *
 * Memory: the array is allocated from @p pool (cf->pool).
 *
 * Called from: config time, a directive handler.
 */
ngx_int_t ngx_http_xflow_pool_array(ngx_pool_t *pool, ngx_array_t **array,
    ngx_uint_t n, size_t size);

#endif /* NGX_HTTP_XFLOW_POOL_H */
