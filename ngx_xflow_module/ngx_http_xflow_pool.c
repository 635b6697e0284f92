/*
 * ngx_http_xflow_pool.c - nginx pools for the glue's parts (see the .h).
 */

#include "ngx_http_xflow_pool.h"


static void *ngx_http_xflow_pool_alloc(void *data, size_t size);
static void ngx_http_xflow_pool_free(void *data, void *p);


void
ngx_http_xflow_pool_allocator(xf_alloc_t *a, ngx_pool_t *pool)
{
    a->alloc = ngx_http_xflow_pool_alloc;
    a->free = ngx_http_xflow_pool_free;
    a->data = pool;
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
