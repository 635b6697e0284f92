/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_ledger.c - the ledger's slots (xf_ledger.h).
 *
 *     +--------------------------+  offset 0
 *     | magic "XFLEDGER"         |
 *     | version | nslots         |
 *     | nseries | generation   |
 *     | names[XF_LEDGER_SERIES]  |  location and format of each series
 *     +--------------------------+
 *     | slot 0 | slot 1 | ...    |
 *     +--------------------------+
 *
 *     slot   = pid | series[XF_LEDGER_SERIES]
 *     series = seq | cells[2]         current copy: cells[seq & 1]
 *
 * The owner writes copy (seq + 1) & 1 from copy seq & 1 plus the delta,
 * then stores seq + 1 (release).  A reader loads seq, reads that copy and
 * loads seq again: the owner writes into the copy being read only after
 * publishing seq + 1, so an unchanged seq proves the read whole.  Each
 * series of a slot has its own sequence: a move stays within a series
 * (an event keeps its location and format), so every series balances on
 * its own, and a change costs one series' cells, not the slot's.
 *
 * Names are appended only, by one writer (the master, at configuration
 * and at start), each published by storing nseries after it: a reader
 * sees a name whole or not at all.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xf_ledger.h"
#include "xf_realloc.h"


#define XF_LEDGER_MAGIC    0x52454744454c4658ULL     /* "XFLEDGER" */
/* 3: series per location and format (2: spooled the fate on disk) */
#define XF_LEDGER_VERSION  3
#define XF_LEDGER_TRIES    10000


typedef struct {
    uint64_t            seq;
    xf_ledger_cells_t   copy[2];
} xf_ledger_series_t;


typedef struct {
    int64_t             pid;            /* 0: free */
    uint64_t            reserved;
    xf_ledger_series_t  series[XF_LEDGER_SERIES];
} xf_ledger_slot_t;


typedef struct {
    uint8_t             location_len;
    uint8_t             format_len;
    char                location[XF_LEDGER_LOCATION_MAX + 1];
    char                format[XF_LEDGER_FORMAT_MAX + 1];
} xf_ledger_name_t;


struct xf_ledger_s {
    uint64_t            magic;
    uint32_t            version;
    uint32_t            nslots;
    uint32_t            nseries;        /* names published */
    uint32_t            reserved;
    uint64_t            generation;     /* this count's, from the caller */
    xf_ledger_name_t    names[XF_LEDGER_SERIES];
    xf_ledger_slot_t    slots[];
};


static const char *const  xf_ledger_fates[XF_LEDGER_FATES] = {
    "delivered", "spooled", "dead_lettered", "duplicate", "dropped",
    "refused", "failed", "orphaned"
};


const char *
xf_ledger_fate_name(xf_ledger_cell_t fate)
{
    return (unsigned) fate < XF_LEDGER_FATES ? xf_ledger_fates[fate] : NULL;
}


int64_t
xf_ledger_unbalanced(const xf_ledger_cells_t *c)
{
    int      i;
    int64_t  v;

    v = c->v[XF_LEDGER_RECEIVED] - c->v[XF_LEDGER_IN_FLIGHT];

    for (i = 0; i < XF_LEDGER_FATES; i++) {
        v -= c->v[i];
    }

    return v;
}


void
xf_ledger_move(xf_ledger_cells_t *d, xf_ledger_cell_t from,
    xf_ledger_cell_t to, int64_t n)
{
    if ((from != XF_LEDGER_RECEIVED && from != XF_LEDGER_IN_FLIGHT
         && from != XF_LEDGER_SPOOLED)
        || ((unsigned) to >= XF_LEDGER_FATES && to != XF_LEDGER_IN_FLIGHT)
        || from == to)
    {
        return;
    }

    d->v[from] += from == XF_LEDGER_RECEIVED ? n : -n;
    d->v[to] += n;

    if (to == XF_LEDGER_SPOOLED) {
        d->v[XF_LEDGER_SPOOL_ENTERED] += n;
    }
}


int
xf_ledger_empty(const xf_ledger_cells_t *c)
{
    int  i;

    for (i = 0; i < XF_LEDGER_CELLS; i++) {
        if (c->v[i] != 0) {
            return 0;
        }
    }

    return 1;
}


size_t
xf_ledger_size(uint32_t nslots)
{
    return sizeof(xf_ledger_t) + (size_t) nslots * sizeof(xf_ledger_slot_t);
}


xf_ledger_t *
xf_ledger_init(void *mem, size_t size, uint64_t generation, int *fresh)
{
    size_t        n;
    xf_ledger_t  *l;

    if (size < xf_ledger_size(2)) {
        return NULL;
    }

    n = (size - sizeof(xf_ledger_t)) / sizeof(xf_ledger_slot_t);
    if (n > 0xffff) {
        n = 0xffff;
    }

    l = mem;

    if (l->magic == XF_LEDGER_MAGIC && l->version == XF_LEDGER_VERSION
        && l->nslots == n)
    {
        if (fresh) {
            *fresh = 0;
        }

        return l;
    }

    memset(l, 0, xf_ledger_size((uint32_t) n));
    l->version = XF_LEDGER_VERSION;
    l->nslots = (uint32_t) n;
    l->generation = generation;

    /* series 0: what no configured location and format names */
    memcpy(l->names[0].location, "unknown", 7);
    l->names[0].location_len = 7;
    memcpy(l->names[0].format, "unknown", 7);
    l->names[0].format_len = 7;
    l->nseries = 1;

    l->magic = XF_LEDGER_MAGIC;

    if (fresh) {
        *fresh = 1;
    }

    return l;
}


uint32_t
xf_ledger_nslots(const xf_ledger_t *l)
{
    return l->nslots;
}


uint64_t
xf_ledger_generation(const xf_ledger_t *l)
{
    return l->generation;
}


int32_t
xf_ledger_series_find(const xf_ledger_t *l, const u_char *location,
    size_t location_len, const u_char *format, size_t format_len)
{
    uint32_t                 i, n;
    const xf_ledger_name_t  *nm;

    location_len = xf_utf8_cut(location, location_len,
                                 XF_LEDGER_LOCATION_MAX);
    format_len = xf_utf8_cut(format, format_len, XF_LEDGER_FORMAT_MAX);

    n = __atomic_load_n(&l->nseries, __ATOMIC_ACQUIRE);

    for (i = 1; i < n; i++) {
        nm = &l->names[i];

        if (nm->location_len == location_len
            && nm->format_len == format_len
            && memcmp(nm->location, location, location_len) == 0
            && memcmp(nm->format, format, format_len) == 0)
        {
            return (int32_t) i;
        }
    }

    return 0;
}


int32_t
xf_ledger_series(xf_ledger_t *l, const u_char *location, size_t location_len,
    const u_char *format, size_t format_len)
{
    int32_t            i;
    xf_ledger_name_t  *nm;

    if (location_len == 0 || format_len == 0) {
        return 0;
    }

    i = xf_ledger_series_find(l, location, location_len, format, format_len);

    if (i > 0 || l->nseries == XF_LEDGER_SERIES) {
        return i;
    }

    location_len = xf_utf8_cut(location, location_len,
                                 XF_LEDGER_LOCATION_MAX);
    format_len = xf_utf8_cut(format, format_len, XF_LEDGER_FORMAT_MAX);

    nm = &l->names[l->nseries];
    memset(nm, 0, sizeof(xf_ledger_name_t));
    memcpy(nm->location, location, location_len);
    nm->location_len = (uint8_t) location_len;
    memcpy(nm->format, format, format_len);
    nm->format_len = (uint8_t) format_len;

    /* the name before its number: a reader sees it whole or not at all */
    __atomic_store_n(&l->nseries, l->nseries + 1, __ATOMIC_RELEASE);

    return (int32_t) l->nseries - 1;
}


int
xf_ledger_series_name(const xf_ledger_t *l, int32_t series,
    const char **location, size_t *location_len, const char **format,
    size_t *format_len)
{
    const xf_ledger_name_t  *nm;

    if (series < 0
        || (uint32_t) series >= __atomic_load_n(&l->nseries,
                                                __ATOMIC_ACQUIRE))
    {
        return 0;
    }

    nm = &l->names[series];
    *location = nm->location;
    *location_len = nm->location_len;
    *format = nm->format;
    *format_len = nm->format_len;

    return 1;
}


size_t
xf_ledger_origin(const xf_ledger_t *l, int32_t series, u_char *buf,
    size_t size)
{
    size_t       ll, fl;
    const char  *loc, *fmt;

    if (series <= 0 || !xf_ledger_series_name(l, series, &loc, &ll, &fmt, &fl)
        || fl + 1 + ll > size)
    {
        return 0;
    }

    memcpy(buf, fmt, fl);
    buf[fl] = ' ';
    memcpy(buf + fl + 1, loc, ll);

    return fl + 1 + ll;
}


int32_t
xf_ledger_origin_series(const xf_ledger_t *l, const u_char *p, size_t len,
    int add)
{
    const u_char  *sp;

    /* the format has no space; the location may */
    sp = len ? memchr(p, ' ', len) : NULL;

    if (sp == NULL) {
        return 0;
    }

    if (add) {
        return xf_ledger_series((xf_ledger_t *) (uintptr_t) l, sp + 1,
                                (size_t) (p + len - sp - 1), p,
                                (size_t) (sp - p));
    }

    return xf_ledger_series_find(l, sp + 1, (size_t) (p + len - sp - 1), p,
                                 (size_t) (sp - p));
}


/* Publish the current copy plus delta: the owner's only way to write. */
static void
xf_ledger_write(xf_ledger_series_t *s, const xf_ledger_cells_t *delta)
{
    int                 i;
    uint64_t            seq;
    int64_t             v;
    xf_ledger_cells_t  *cur, *next;

    seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    cur = &s->copy[seq & 1];
    next = &s->copy[(seq + 1) & 1];

    for (i = 0; i < XF_LEDGER_CELLS; i++) {
        v = __atomic_load_n(&cur->v[i], __ATOMIC_RELAXED) + delta->v[i];
        __atomic_store_n(&next->v[i], v, __ATOMIC_RELAXED);
    }

    __atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELEASE);
}


/*
 * The slot's process is gone and we own it now: what it had in flight
 * will never be reported.
 */
static void
xf_ledger_settle(xf_ledger_slot_t *slot)
{
    int                  k;
    int64_t              n;
    xf_ledger_cells_t    d;
    xf_ledger_series_t  *s;

    for (k = 0; k < XF_LEDGER_SERIES; k++) {
        s = &slot->series[k];
        n = __atomic_load_n(&s->copy[__atomic_load_n(&s->seq,
                                                     __ATOMIC_ACQUIRE)
                                     & 1].v[XF_LEDGER_IN_FLIGHT],
                            __ATOMIC_RELAXED);

        if (n == 0) {
            continue;
        }

        memset(&d, 0, sizeof(d));
        d.v[XF_LEDGER_IN_FLIGHT] = -n;
        d.v[XF_LEDGER_ORPHANED] = n;

        xf_ledger_write(s, &d);
    }
}


int32_t
xf_ledger_claim(xf_ledger_t *l, int64_t pid, xf_ledger_alive_pt alive,
    void *data)
{
    int64_t            owner;
    uint32_t           i;
    xf_ledger_slot_t  *s;

    /* the slots of processes that are gone: settled and freed */

    for (i = 0; i < l->nslots; i++) {
        s = &l->slots[i];
        owner = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);

        if (owner == 0 || owner == pid || alive(owner, data)) {
            continue;
        }

        /* whoever wins the swap settles it; the others move on */
        if (__atomic_compare_exchange_n(&s->pid, &owner, pid, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        {
            xf_ledger_settle(s);
            __atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
        }
    }

    for (i = 0; i < l->nslots; i++) {
        s = &l->slots[i];
        owner = 0;

        if (__atomic_compare_exchange_n(&s->pid, &owner, pid, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        {
            /* released with events in flight: they are not ours */
            xf_ledger_settle(s);
            return (int32_t) i;
        }
    }

    return -1;
}


void
xf_ledger_release(xf_ledger_t *l, int32_t slot, int64_t pid)
{
    xf_ledger_slot_t  *s;

    if (slot < 0 || (uint32_t) slot >= l->nslots) {
        return;
    }

    s = &l->slots[slot];

    if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) != pid) {
        return;
    }

    xf_ledger_settle(s);
    __atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
}


void
xf_ledger_commit(xf_ledger_t *l, int32_t slot, int32_t series,
    const xf_ledger_cells_t *delta)
{
    if (slot < 0 || (uint32_t) slot >= l->nslots || series < 0
        || series >= XF_LEDGER_SERIES || xf_ledger_empty(delta))
    {
        return;
    }

    xf_ledger_write(&l->slots[slot].series[series], delta);
}


int
xf_ledger_read(const xf_ledger_t *l, int32_t slot, int32_t series,
    xf_ledger_cells_t *c)
{
    int                        i, tries;
    uint64_t                   seq, again;
    const xf_ledger_series_t  *s;

    memset(c, 0, sizeof(xf_ledger_cells_t));

    if (slot < 0 || (uint32_t) slot >= l->nslots || series < 0
        || series >= XF_LEDGER_SERIES)
    {
        return 1;
    }

    s = &l->slots[slot].series[series];

    for (tries = 0; tries < XF_LEDGER_TRIES; tries++) {
        seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

        for (i = 0; i < XF_LEDGER_CELLS; i++) {
            c->v[i] = __atomic_load_n(&s->copy[seq & 1].v[i],
                                      __ATOMIC_RELAXED);
        }

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        again = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

        if (again == seq) {
            return 1;
        }
    }

    return 0;
}


int
xf_ledger_series_total(const xf_ledger_t *l, int32_t series,
    xf_ledger_cells_t *sum)
{
    int                whole, k;
    uint32_t           i;
    xf_ledger_cells_t  c;

    memset(sum, 0, sizeof(xf_ledger_cells_t));
    whole = 1;

    for (i = 0; i < l->nslots; i++) {
        whole &= xf_ledger_read(l, (int32_t) i, series, &c);

        for (k = 0; k < XF_LEDGER_CELLS; k++) {
            sum->v[k] += c.v[k];
        }
    }

    return whole;
}


int
xf_ledger_total(const xf_ledger_t *l, xf_ledger_cells_t *sum)
{
    int                whole, k;
    int32_t            i;
    xf_ledger_cells_t  c;

    memset(sum, 0, sizeof(xf_ledger_cells_t));
    whole = 1;

    for (i = 0; i < XF_LEDGER_SERIES; i++) {
        whole &= xf_ledger_series_total(l, i, &c);

        for (k = 0; k < XF_LEDGER_CELLS; k++) {
            sum->v[k] += c.v[k];
        }
    }

    return whole;
}


/* printf at the end of out, grown until the line fits. */
static xf_status_t xf_ledger_line(xf_buf_t *out, const xf_alloc_t *a,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static xf_status_t
xf_ledger_line(xf_buf_t *out, const xf_alloc_t *a, const char *fmt,
    ...)
{
    int       n;
    va_list   args;

    for ( ;; ) {
        n = 0;

        if (out->cap > out->len) {
            va_start(args, fmt);
            n = vsnprintf((char *) out->p + out->len, out->cap - out->len,
                          fmt, args);
            va_end(args);

            if (n < 0) {
                return XF_ERR_BUFFER;
            }

            if ((size_t) n < out->cap - out->len) {
                out->len += (size_t) n;
                return XF_OK;
            }
        }

        /* vsnprintf's terminating NUL needs a byte too */
        if (xf_buf_reserve(a, out, (size_t) n + 1, 4096) != XF_OK) {
            return XF_ERR_NOMEM;
        }
    }
}


/* One family's HELP and TYPE lines, and its one sample if it has one. */
static xf_status_t
xf_ledger_family(xf_buf_t *out, const xf_alloc_t *a,
    const char *name, const char *help, const char *type, const int64_t *v)
{
    if (xf_ledger_line(out, a, "# HELP %s %s\n# TYPE %s %s\n", name, help,
                       name, type)
        != XF_OK)
    {
        return XF_ERR_NOMEM;
    }

    if (v == NULL) {
        return XF_OK;
    }

    return xf_ledger_line(out, a, "%s %" PRId64 "\n", name, *v);
}


/* p[0..len) as a label value: \\, \" and newline escaped (0.0.4). */
static void
xf_ledger_escape(const char *p, size_t len, char *buf)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] == '\\' || p[i] == '"') {
            *buf++ = '\\';
            *buf++ = p[i];

        } else if (p[i] == '\n') {
            *buf++ = '\\';
            *buf++ = 'n';

        } else {
            *buf++ = p[i];
        }
    }

    *buf = '\0';
}


/* The series a scrape shows, with their totals and escaped labels. */
typedef struct {
    int32_t             n;
    int32_t             index[XF_LEDGER_SERIES];
    xf_ledger_cells_t   sum[XF_LEDGER_SERIES];
    char                location[XF_LEDGER_SERIES]
                                [2 * XF_LEDGER_LOCATION_MAX + 1];
    char                format[XF_LEDGER_SERIES][2 * XF_LEDGER_FORMAT_MAX + 1];
} xf_ledger_view_t;


static void
xf_ledger_view(const xf_ledger_t *l, xf_ledger_view_t *v,
    xf_ledger_cells_t *total)
{
    int32_t                  i, n;
    uint32_t                 k;
    const xf_ledger_name_t  *nm;

    memset(total, 0, sizeof(xf_ledger_cells_t));
    n = (int32_t) __atomic_load_n(&l->nseries, __ATOMIC_ACQUIRE);
    v->n = 0;

    for (i = 0; i < n; i++) {
        (void) xf_ledger_series_total(l, i, &v->sum[v->n]);

        for (k = 0; k < XF_LEDGER_CELLS; k++) {
            total->v[k] += v->sum[v->n].v[k];
        }

        /* configured series from the start; the rest once it counts */
        if (i == 0 && xf_ledger_empty(&v->sum[v->n])) {
            continue;
        }

        nm = &l->names[i];
        xf_ledger_escape(nm->location, nm->location_len,
                         v->location[v->n]);
        xf_ledger_escape(nm->format, nm->format_len, v->format[v->n]);
        v->index[v->n++] = i;
    }
}


/* A family with a sample per series shown: the cell's value. */
static xf_status_t
xf_ledger_samples(xf_buf_t *out, const xf_alloc_t *a,
    const xf_ledger_view_t *v, const char *name, const char *help,
    const char *type, xf_ledger_cell_t cell)
{
    int32_t  i;

    if (xf_ledger_family(out, a, name, help, type, NULL) != XF_OK) {
        return XF_ERR_NOMEM;
    }

    for (i = 0; i < v->n; i++) {
        if (xf_ledger_line(out, a,
                           "%s{location=\"%s\",format=\"%s\"} %" PRId64
                           "\n", name, v->location[i], v->format[i],
                           v->sum[i].v[cell])
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}


xf_status_t
xf_ledger_render(const xf_ledger_t *l, xf_buf_t *out,
    const xf_alloc_t *a)
{
    int                i, k;
    int64_t            unbalanced;
    xf_status_t        rc;
    xf_ledger_cells_t  total;
    xf_ledger_view_t  *v;

    v = a->alloc(a->data, sizeof(xf_ledger_view_t));
    if (v == NULL) {
        return XF_ERR_NOMEM;
    }

    xf_ledger_view(l, v, &total);
    rc = XF_ERR_NOMEM;

    if (xf_ledger_samples(out, a, v, "xflow_ledger_received_events_total",
                          "Events read from requests, and found on the "
                          "spool at start", "counter", XF_LEDGER_RECEIVED)
        != XF_OK
        || xf_ledger_family(out, a, "xflow_ledger_events_total",
                            "Events by final fate (the spooled fate is "
                            "xflow_ledger_spooled_events)", "counter", NULL)
           != XF_OK)
    {
        goto done;
    }

    for (i = 0; i < v->n; i++) {
        for (k = 0; k < XF_LEDGER_FATES; k++) {
            /* a gauge: a counter's series must never go down */
            if (k == XF_LEDGER_SPOOLED) {
                continue;
            }

            if (xf_ledger_line(out, a,
                               "xflow_ledger_events_total{location=\"%s\","
                               "format=\"%s\",fate=\"%s\"} %" PRId64 "\n",
                               v->location[i], v->format[i],
                               xf_ledger_fates[k], v->sum[i].v[k])
                != XF_OK)
            {
                goto done;
            }
        }
    }

    unbalanced = xf_ledger_unbalanced(&total);

    if (xf_ledger_samples(out, a, v, "xflow_ledger_spooled_events",
                          "Events whose fate is spooled: on the spool's "
                          "disk now, until a replay delivers them",
                          "gauge", XF_LEDGER_SPOOLED)
        != XF_OK
        || xf_ledger_samples(out, a, v,
                             "xflow_ledger_spool_entered_events_total",
                             "Events that went onto the spool (each leaves "
                             "it once, as delivered or failed)", "counter",
                             XF_LEDGER_SPOOL_ENTERED)
           != XF_OK
        || xf_ledger_samples(out, a, v, "xflow_ledger_in_flight_events",
                             "Events in the producer queue or waiting for "
                             "a delivery report", "gauge",
                             XF_LEDGER_IN_FLIGHT)
           != XF_OK
        || xf_ledger_family(out, a, "xflow_ledger_unbalanced_events",
                            "Received events minus every fate and in "
                            "flight: 0 unless the count lost an event",
                            "gauge", &unbalanced)
           != XF_OK)
    {
        goto done;
    }

    rc = XF_OK;

done:

    a->free(a->data, v);

    return rc;
}
