/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_dedup.c - the dedup table's zone
 * (ngx_http_xflow_dedup.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_xflow_dedup.h"

#include <sys/random.h>


static ngx_int_t ngx_http_xflow_dedup_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static uint64_t ngx_http_xflow_dedup_now(void);


/* This worker's: its configuration's table (set at init_process). */
static xf_dedup_t  *ngx_http_xflow_dedup_table;


ngx_int_t
ngx_http_xflow_dedup_zone(ngx_conf_t *cf, size_t size, ngx_shm_zone_t **zone)
{
    ngx_str_t     name;
    xf_dedup_t  **table;

    *zone = NULL;

    if (size == 0) {
        return NGX_OK;
    }

    /* the zone's data: where its init leaves this configuration's table */
    table = ngx_pcalloc(cf->pool, sizeof(xf_dedup_t *));
    if (table == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&name, "xflow_dedup");

    *zone = ngx_shared_memory_add(cf, &name, size,
                                  &ngx_http_xflow_dedup_table);
    if (*zone == NULL) {
        return NGX_ERROR;
    }

    (*zone)->init = ngx_http_xflow_dedup_init_zone;
    (*zone)->data = table;

    return NGX_OK;
}


void
ngx_http_xflow_dedup_init_process(ngx_shm_zone_t *zone)
{
    xf_dedup_t  **table;

    table = zone ? zone->data : NULL;

    ngx_http_xflow_dedup_table = table ? *table : NULL;
}


/*
 * The table in the zone's slab pool.  xf_dedup_init keeps a table of the
 * same layout: a reload with the same size keeps the window.
 */
static ngx_int_t
ngx_http_xflow_dedup_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t            size;
    uint64_t          key[2];
    xf_dedup_t      **table;
    ngx_slab_pool_t  *shpool;

    table = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* the slab pool keeps its header and page table in the zone */
    size = shm_zone->shm.size - shm_zone->shm.size / 64 - 8 * ngx_pagesize;

    if (shpool->data == NULL || (data == NULL && !shm_zone->shm.exists)) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    /* a secret key: nobody can choose ids that share a slot or a key */
    if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, ngx_errno,
                      "xflow: getrandom() failed");
        return NGX_ERROR;
    }

    *table = xf_dedup_init(shpool->data, size, key[0], key[1]);

    return *table ? NGX_OK : NGX_ERROR;
}


uint64_t
ngx_http_xflow_dedup_key(ngx_uint_t f, const u_char *app, size_t app_len,
    const u_char *p, size_t len)
{
    if (ngx_http_xflow_dedup_table == NULL) {
        return 0;
    }

    return xf_dedup_event_key(ngx_http_xflow_dedup_table, (xf_format_t) f,
                              app, app_len, p, len, NULL);
}


ngx_uint_t
ngx_http_xflow_dedup_seen(uint64_t key)
{
    if (ngx_http_xflow_dedup_table == NULL || key == 0) {
        return 0;
    }

    return xf_dedup_seen(ngx_http_xflow_dedup_table, key,
                         ngx_http_xflow_dedup_now())
           == XF_DEDUP_AGAIN;
}


void
ngx_http_xflow_dedup_set(const uint64_t *keys, ngx_uint_t n,
    ngx_msec_t window)
{
    uint64_t    now;
    ngx_uint_t  i;

    if (ngx_http_xflow_dedup_table == NULL) {
        return;
    }

    now = ngx_http_xflow_dedup_now();

    for (i = 0; i < n; i++) {
        xf_dedup_set(ngx_http_xflow_dedup_table, keys[i], now, window);
    }
}


/* Wall-clock ms: the same for every worker, and across a reload. */
static uint64_t
ngx_http_xflow_dedup_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
