/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_ledger.c - the ledger's zone and this worker's slot
 * (ngx_http_xflow_ledger.h).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_xflow_ledger.h"
#include "ngx_http_xflow_util.h"
#include "xf_spool.h"


/*
 * Slots for every process that may count at once: the workers, and
 * during a reload the old ones too.  A process that is gone frees its
 * slot for the next.
 */
#define NGX_HTTP_XFLOW_LEDGER_SLOTS  256


/* A configuration's zone, as its init left it (the zone's data). */
typedef struct {
    xf_ledger_t        *ledger;
    unsigned            fresh:1;    /* the zone was created, not kept */
} ngx_http_xflow_ledger_zone_t;


/*
 * This process's: the ledger of the configuration it runs (set at
 * init_process from its cycle's zone, so that a reload that fails
 * leaves the workers the master forks later on the zone of theirs).
 */
typedef struct {
    xf_ledger_t        *ledger;
    int32_t             slot;
} ngx_http_xflow_ledger_ctx_t;


static ngx_int_t ngx_http_xflow_ledger_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static int ngx_http_xflow_ledger_alive(int64_t pid, void *data);


static ngx_http_xflow_ledger_ctx_t  ngx_http_xflow_ledger = { NULL, -1 };


ngx_int_t
ngx_http_xflow_ledger_zone(ngx_conf_t *cf, ngx_shm_zone_t **zone)
{
    size_t                         size;
    ngx_str_t                      name;
    ngx_http_xflow_ledger_zone_t  *lz;

    ngx_str_set(&name, "xflow_ledger");

    /* the slab pool's own pages, and the ledger */
    size = 8 * ngx_pagesize
           + ngx_align(xf_ledger_size(NGX_HTTP_XFLOW_LEDGER_SLOTS),
                       ngx_pagesize);

    lz = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_ledger_zone_t));
    if (lz == NULL) {
        return NGX_ERROR;
    }

    *zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_xflow_ledger);
    if (*zone == NULL) {
        return NGX_ERROR;
    }

    (*zone)->init = ngx_http_xflow_ledger_init_zone;
    (*zone)->data = lz;

    return NGX_OK;
}


/*
 * A reload with the same zone hands the old ledger over (xf_ledger_init
 * keeps it): old and new workers count in it together.
 */
static ngx_int_t
ngx_http_xflow_ledger_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    int                            fresh;
    size_t                         size;
    ngx_slab_pool_t               *shpool;
    ngx_http_xflow_ledger_zone_t  *lz;

    lz = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    size = xf_ledger_size(NGX_HTTP_XFLOW_LEDGER_SLOTS);

    if (shpool->data == NULL || (data == NULL && !shm_zone->shm.exists)) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    lz->ledger = xf_ledger_init(shpool->data, size, &fresh);
    lz->fresh = fresh;

    return lz->ledger ? NGX_OK : NGX_ERROR;
}


void
ngx_http_xflow_ledger_found(ngx_cycle_t *cycle, ngx_shm_zone_t *zone,
    ngx_str_t *dir)
{
    ngx_http_xflow_ledger_zone_t  *lz;

    u_char             *path;
    int32_t             slot;
    uint64_t            n;
    xf_alloc_t          a;
    xf_spool_rc_t       rc;
    xf_ledger_cells_t   d;

    lz = zone ? zone->data : NULL;

    if (lz == NULL || lz->ledger == NULL || !lz->fresh) {
        return;
    }

    /* once per zone: a reload that follows finds it counted */
    lz->fresh = 0;

    ngx_http_xflow_pool_allocator(&a, cycle->pool);

    path = ngx_pnalloc(cycle->pool, dir->len + 1);
    if (path == NULL) {
        return;
    }

    ngx_memcpy(path, dir->data, dir->len);
    path[dir->len] = '\0';

    rc = xf_spool_dir_marked((char *) path, &a, &n);

    if (rc != XF_SPOOL_OK) {
        /* the spool check that follows says what is wrong with it */
        return;
    }

    if (n == 0) {
        return;
    }

    /* the master's own slot, for this one count: no worker runs yet */
    slot = xf_ledger_claim(lz->ledger, ngx_pid, ngx_http_xflow_ledger_alive,
                           NULL);
    if (slot < 0) {
        return;
    }

    ngx_memzero(&d, sizeof(xf_ledger_cells_t));
    xf_ledger_move(&d, XF_LEDGER_RECEIVED, XF_LEDGER_SPOOLED, (int64_t) n);
    xf_ledger_commit(lz->ledger, slot, &d);
    xf_ledger_release(lz->ledger, slot, ngx_pid);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "xflow: ledger: %uL events found on the spool", n);
}


void
ngx_http_xflow_ledger_init_process(ngx_cycle_t *cycle, ngx_shm_zone_t *zone)
{
    ngx_http_xflow_ledger_zone_t  *lz;

    lz = zone ? zone->data : NULL;

    ngx_http_xflow_ledger.ledger = lz ? lz->ledger : NULL;
    ngx_http_xflow_ledger.slot = -1;

    if (ngx_http_xflow_ledger.ledger == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    ngx_http_xflow_ledger.slot = xf_ledger_claim(ngx_http_xflow_ledger.ledger,
                                                 ngx_pid,
                                                 ngx_http_xflow_ledger_alive,
                                                 NULL);

    if (ngx_http_xflow_ledger.slot < 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "xflow: ledger: no free slot among %d: this worker's "
                      "events are not counted",
                      NGX_HTTP_XFLOW_LEDGER_SLOTS);
    }
}


void
ngx_http_xflow_ledger_exit_process(void)
{
    if (ngx_http_xflow_ledger.ledger == NULL
        || ngx_http_xflow_ledger.slot < 0)
    {
        return;
    }

    xf_ledger_release(ngx_http_xflow_ledger.ledger, ngx_http_xflow_ledger.slot,
                      ngx_pid);
    ngx_http_xflow_ledger.slot = -1;
}


void
ngx_http_xflow_ledger_move(xf_ledger_cell_t from, xf_ledger_cell_t to,
    ngx_uint_t n)
{
    xf_ledger_cells_t  d;

    if (ngx_http_xflow_ledger.ledger == NULL
        || ngx_http_xflow_ledger.slot < 0 || n == 0)
    {
        return;
    }

    ngx_memzero(&d, sizeof(xf_ledger_cells_t));
    xf_ledger_move(&d, from, to, (int64_t) n);
    xf_ledger_commit(ngx_http_xflow_ledger.ledger, ngx_http_xflow_ledger.slot,
                     &d);
}


ngx_int_t
ngx_http_xflow_ledger_render(xf_metrics_buf_t *out, const xf_alloc_t *a)
{
    xf_ledger_cells_t  sum;

    if (ngx_http_xflow_ledger.ledger == NULL) {
        return NGX_OK;
    }

    (void) xf_ledger_total(ngx_http_xflow_ledger.ledger, &sum);

    return xf_ledger_render(&sum, out, a) == XF_OK ? NGX_OK : NGX_ERROR;
}


/* A pid that no process has any more; EPERM: someone else's, alive. */
static int
ngx_http_xflow_ledger_alive(int64_t pid, void *data)
{
    return kill((pid_t) pid, 0) == 0 || ngx_errno == NGX_EPERM;
}
