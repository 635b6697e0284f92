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

#include <sys/random.h>


/*
 * Slots for every process that may count at once: the workers, and
 * during a reload the old ones too.  A process that is gone frees its
 * slot for the next.
 */
#define NGX_HTTP_XFLOW_LEDGER_SLOTS  256


/* A configuration's zone, as its init left it (the zone's data). */
typedef struct {
    xf_ledger_t        *ledger;
    ngx_array_t        *locs;       /* of ngx_http_xflow_ledger_loc_t * */
    unsigned            fresh:1;    /* the zone was created, not kept */
} ngx_http_xflow_ledger_zone_t;


/* The count at start: events on the spool, per series. */
typedef struct {
    xf_ledger_t        *ledger;
    int64_t             n[XF_LEDGER_SERIES];
} ngx_http_xflow_ledger_found_t;


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
static void ngx_http_xflow_ledger_name(xf_ledger_t *l, ngx_array_t *locs);
static void ngx_http_xflow_ledger_found_one(void *data,
    const xf_spool_record_t *r);


static ngx_http_xflow_ledger_ctx_t  ngx_http_xflow_ledger = { NULL, -1 };


ngx_http_xflow_ledger_loc_t *
ngx_http_xflow_ledger_location(ngx_conf_t *cf, ngx_array_t **locs,
    ngx_str_t *name, xf_format_t format)
{
    ngx_http_xflow_ledger_loc_t  *loc, **p;

    if (*locs == NULL) {
        *locs = ngx_array_create(cf->pool, 4,
                                 sizeof(ngx_http_xflow_ledger_loc_t *));
        if (*locs == NULL) {
            return NULL;
        }
    }

    loc = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_ledger_loc_t));
    p = ngx_array_push(*locs);

    if (loc == NULL || p == NULL) {
        return NULL;
    }

    loc->name = *name;
    loc->format = format;
    *p = loc;

    return loc;
}


ngx_int_t
ngx_http_xflow_ledger_zone(ngx_conf_t *cf, ngx_shm_zone_t **zone,
    ngx_array_t *locs)
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

    lz->locs = locs;
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
    uint64_t                       gen;
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

    /*
     * A new count's generation (kept by a reload): the spool's segments
     * say which counts have their events, so that a start, or a binary
     * upgrade beside the old binary's workers, counts each once.
     */
    if (getrandom(&gen, sizeof(gen), 0) != (ssize_t) sizeof(gen)) {
        gen = (uint64_t) ngx_pid << 32 ^ (uint64_t) ngx_time();
    }

    gen &= ~((uint64_t) 1 << 63);
    gen += gen == 0;

    lz->ledger = xf_ledger_init(shpool->data, size, gen, &fresh);
    lz->fresh = fresh;

    if (lz->ledger == NULL) {
        return NGX_ERROR;
    }

    ngx_http_xflow_ledger_name(lz->ledger, lz->locs);

    return NGX_OK;
}


/*
 * The master, before the workers fork: each location's series, by its
 * name and the formats it takes (a reload finds those it had).
 */
static void
ngx_http_xflow_ledger_name(xf_ledger_t *l, ngx_array_t *locs)
{
    ngx_uint_t                    i;
    xf_format_t                   f;
    const char                   *fmt;
    ngx_http_xflow_ledger_loc_t  *loc, **p;

    if (locs == NULL) {
        return;
    }

    p = locs->elts;

    for (i = 0; i < locs->nelts; i++) {
        loc = p[i];

        for (f = XF_FMT_AUTO + 1; f < XF_FMT_MAX; f++) {
            loc->series[f] = 0;

            if (loc->format != XF_FMT_AUTO && loc->format != f) {
                continue;
            }

            fmt = xf_format_name(f);
            loc->series[f] = xf_ledger_series(l, loc->name.data,
                                              loc->name.len,
                                              (const u_char *) fmt,
                                              ngx_strlen(fmt));
        }
    }
}


int32_t
ngx_http_xflow_ledger_series(ngx_http_xflow_ledger_loc_t *loc,
    xf_format_t format)
{
    if (loc == NULL || (unsigned) format >= XF_FMT_MAX) {
        return 0;
    }

    return loc->series[format];
}


size_t
ngx_http_xflow_ledger_origin(int32_t series, u_char *buf)
{
    if (ngx_http_xflow_ledger.ledger == NULL) {
        return 0;
    }

    return xf_ledger_origin(ngx_http_xflow_ledger.ledger, series, buf,
                            XF_LEDGER_ORIGIN_MAX);
}


uint64_t
ngx_http_xflow_ledger_generation(void)
{
    return ngx_http_xflow_ledger.ledger
           ? xf_ledger_generation(ngx_http_xflow_ledger.ledger) : 0;
}


void
ngx_http_xflow_ledger_adopted(void *data, const xf_spool_record_t *r)
{
    int32_t                   series;
    const xf_spool_header_t  *h;

    h = xf_spool_record_header(r, XF_SPOOL_LEDGER_HEADER);
    series = h ? ngx_http_xflow_ledger_origin_series(h->value, h->value_len)
               : 0;

    ngx_http_xflow_ledger_move(series, XF_LEDGER_RECEIVED, XF_LEDGER_SPOOLED,
                               1);
}


int32_t
ngx_http_xflow_ledger_origin_series(const u_char *p, size_t len)
{
    if (ngx_http_xflow_ledger.ledger == NULL) {
        return 0;
    }

    return xf_ledger_origin_series(ngx_http_xflow_ledger.ledger, p, len, 0);
}


void
ngx_http_xflow_ledger_found(ngx_cycle_t *cycle, ngx_shm_zone_t *zone,
    ngx_str_t *dir)
{
    ngx_http_xflow_ledger_zone_t  *lz;

    u_char                         *path;
    int32_t                         slot, i;
    uint64_t                        n;
    xf_alloc_t                      a;
    xf_spool_rc_t                   rc;
    xf_ledger_cells_t               d;
    ngx_http_xflow_ledger_found_t  *found;

    lz = zone ? zone->data : NULL;

    if (lz == NULL || lz->ledger == NULL || !lz->fresh) {
        return;
    }

    /* once per zone: a reload that follows finds it counted */
    lz->fresh = 0;

    if (ngx_inherited) {
        /*
         * A binary upgrade: the old binary's workers still hold their
         * segments, and may adopt the orphans, and deliver them, in the
         * old ledger.  Ours counts each segment when one of our workers
         * adopts it (the spool's generations): none is counted now.
         */
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "xflow: ledger: binary upgrade: the spool is counted "
                      "as the new workers adopt it");
        return;
    }

    ngx_http_xflow_pool_allocator(&a, cycle->pool);

    path = ngx_pnalloc(cycle->pool, dir->len + 1);
    if (path == NULL) {
        return;
    }

    ngx_memcpy(path, dir->data, dir->len);
    path[dir->len] = '\0';

    found = ngx_pcalloc(cycle->pool, sizeof(ngx_http_xflow_ledger_found_t));
    if (found == NULL) {
        return;
    }

    found->ledger = lz->ledger;

    rc = xf_spool_dir_marked((char *) path, &a,
                             xf_ledger_generation(lz->ledger),
                             ngx_http_xflow_ledger_found_one, found, &n);

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

    for (i = 0; i < XF_LEDGER_SERIES; i++) {
        ngx_memzero(&d, sizeof(xf_ledger_cells_t));
        xf_ledger_move(&d, XF_LEDGER_RECEIVED, XF_LEDGER_SPOOLED,
                       found->n[i]);
        xf_ledger_commit(lz->ledger, slot, i, &d);
    }

    xf_ledger_release(lz->ledger, slot, ngx_pid);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "xflow: ledger: %uL events found on the spool", n);
}


/*
 * One event found on the spool: in the series its record's origin
 * names, added if this configuration has no such location any more (so
 * that its replay finds it), or series 0 (no origin: an earlier
 * version's record).
 */
static void
ngx_http_xflow_ledger_found_one(void *data, const xf_spool_record_t *r)
{
    ngx_http_xflow_ledger_found_t  *found = data;

    int32_t                   i;
    const xf_spool_header_t  *h;

    h = xf_spool_record_header(r, XF_SPOOL_LEDGER_HEADER);
    i = h ? xf_ledger_origin_series(found->ledger, h->value, h->value_len, 1)
          : 0;

    found->n[i]++;
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
ngx_http_xflow_ledger_move(int32_t series, xf_ledger_cell_t from,
    xf_ledger_cell_t to, ngx_uint_t n)
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
                     series, &d);
}


ngx_int_t
ngx_http_xflow_ledger_render(xf_buf_t *out, const xf_alloc_t *a)
{
    if (ngx_http_xflow_ledger.ledger == NULL) {
        return NGX_OK;
    }

    return xf_ledger_render(ngx_http_xflow_ledger.ledger, out, a) == XF_OK
           ? NGX_OK : NGX_ERROR;
}


/* A pid that no process has any more; EPERM: someone else's, alive. */
static int
ngx_http_xflow_ledger_alive(int64_t pid, void *data)
{
    return kill((pid_t) pid, 0) == 0 || ngx_errno == NGX_EPERM;
}
