/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_catalog_module.c - the event catalog's directives, its
 * shared zone and the recording of each request's events
 * (ngx_http_xflow_catalog_module.h).
 *
 *   xflow_catalog_zone 4m;     (http: the table; no zone, no catalog)
 *   xflow_catalog;             (location: the JSON and the page)
 *
 * The table lives in the zone's slab pool and survives a reload with the
 * same zone size (xf_catalog_init keeps a table of the same layout).
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"
#include "ngx_http_xflow_metrics_module.h"

#include <sys/random.h>


static char *ngx_http_xflow_catalog_zone_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_catalog_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_xflow_catalog_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_xflow_catalog_create_main_conf(ngx_conf_t *cf);


static ngx_command_t  ngx_http_xflow_catalog_commands[] = {

    { ngx_string("xflow_catalog_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_catalog_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_catalog"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_xflow_catalog_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_catalog_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_xflow_catalog_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_xflow_catalog_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_catalog_module_ctx,    /* module context */
    ngx_http_xflow_catalog_commands,       /* module directives */
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


static void *
ngx_http_xflow_catalog_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_catalog_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->shm_zone = NULL;
     *     cmcf->cat = NULL;
     */

    return cmcf;
}


/* xflow_catalog_zone SIZE: one zone per http{}, named xflow_catalog. */
static char *
ngx_http_xflow_catalog_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_catalog_main_conf_t *cmcf = conf;

    ssize_t     size;
    ngx_str_t  *value, name;

    if (cmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid catalog zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* the slab pool's own pages, and room for at least a few entries */
    if (size < (ssize_t) (16 * ngx_pagesize
                          + xf_catalog_size_for(16)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "catalog zone \"%V\" is too small, at least %uzk",
                           &value[1],
                           (16 * ngx_pagesize + xf_catalog_size_for(16))
                           / 1024 + 1);
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "xflow_catalog");

    cmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_xflow_catalog_module);
    if (cmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    cmcf->shm_zone->init = ngx_http_xflow_catalog_init_zone;
    cmcf->shm_zone->data = cmcf;

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_catalog_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_xflow_catalog_handler;

    return NGX_CONF_OK;
}


/*
 * The table in the zone's slab pool: a reload hands the old zone's
 * memory over (its table is kept when the layout matches), an existing
 * zone is seen again, or the memory is fresh.
 */
static ngx_int_t
ngx_http_xflow_catalog_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_xflow_catalog_main_conf_t *ocmcf = data;

    size_t                               size;
    uint64_t                             seed;
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* the slab pool's header and page table stay in the zone */
    size = shm_zone->shm.size - shm_zone->shm.size / 64 - 8 * ngx_pagesize;
    size = xf_catalog_size_for(xf_catalog_capacity_for(size));

    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t) sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, ngx_errno,
                      "xflow_catalog_zone: getrandom() failed");
        return NGX_ERROR;
    }

    if ((ocmcf == NULL || ocmcf->cat == NULL) && !shm_zone->shm.exists) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "xflow_catalog_zone: no room for %uz bytes",
                          size);
            return NGX_ERROR;
        }

        /* fresh memory is not a table: no stale header to mistake */
        ngx_memzero(shpool->data, size);
    }

    cmcf->cat = xf_catalog_init(shpool->data, size, seed, ngx_time());

    if (cmcf->cat == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "xflow_catalog_zone is too small");
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_xflow_catalog_record(ngx_http_request_t *r, xf_format_t format,
    const xf_event_t *events, size_t n, const xf_catalog_plan_t *plan)
{
    size_t                               i;
    time_t                               now;
    uint32_t                             used;
    ngx_uint_t                           evicted;
    ngx_slab_pool_t                     *shpool;
    xf_catalog_event_t                   ev;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);

    if (cmcf->cat == NULL || n == 0) {
        return;
    }

    shpool = (ngx_slab_pool_t *) cmcf->shm_zone->shm.addr;
    now = ngx_time();
    evicted = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < n; i++) {
        ev.app = events[i].app;
        ev.name = events[i].name;
        ev.format = format;
        ev.p = events[i].p;
        ev.len = events[i].len;
        ev.error = events[i].error;
        ev.plan = plan ? plan[i] : XF_CATALOG_PLAN_NONE;

        evicted += xf_catalog_record(cmcf->cat, &ev, (uint64_t) now);
    }

    used = xf_catalog_used(cmcf->cat);

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_xflow_metric_set(XF_M_CATALOG_ENTRIES, 0, 0, used);

    if (evicted) {
        ngx_http_xflow_metric_add(XF_M_CATALOG_EVICTED, 0, 0, evicted);
    }
}
