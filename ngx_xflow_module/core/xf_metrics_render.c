/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics_render.c - the Prometheus text exposition (format 0.0.4) of
 * the shared cells: every family combined over the workers' slots.
 */

#include "xf_metrics_impl.h"
#include "xf_realloc.h"


static xf_status_t
xf_mbuf_reserve(xf_buf_t *out, const xf_alloc_t *a, size_t n)
{
    return xf_buf_reserve(a, out, n, 4096);
}


/* Callers reserve first: the put functions do not check room. */
static void
xf_mbuf_put(xf_buf_t *out, const void *p, size_t len)
{
    memcpy(out->p + out->len, p, len);
    out->len += len;
}

#define xf_mbuf_puts(out, s)  xf_mbuf_put(out, s, strlen(s))


static void
xf_mbuf_put_u64(xf_buf_t *out, uint64_t v)
{
    u_char   tmp[20];
    size_t   n;

    n = 0;

    do {
        tmp[n++] = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    while (n) {
        out->p[out->len++] = tmp[--n];
    }
}


/* v / scale in decimal; scale is a power of 10. */
static void
xf_mbuf_put_scaled(xf_buf_t *out, uint64_t v, uint64_t scale)
{
    uint64_t  frac, d;

    xf_mbuf_put_u64(out, v / scale);

    if (scale <= 1) {
        return;
    }

    out->p[out->len++] = '.';
    frac = v % scale;

    for (d = scale / 10; d; d /= 10) {
        out->p[out->len++] = (u_char) ('0' + frac / d % 10);
    }
}


/* A label value: \ " and newline escaped, as 0.0.4 requires. */
static void
xf_mbuf_put_label(xf_buf_t *out, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (p[i]) {
        case '\\':
            xf_mbuf_put(out, "\\\\", 2);
            break;
        case '"':
            xf_mbuf_put(out, "\\\"", 2);
            break;
        case '\n':
            xf_mbuf_put(out, "\\n", 2);
            break;
        default:
            out->p[out->len++] = p[i];
        }
    }
}


/* Room for one sample line: name, two escaped labels, le, value. */
#define XF_LINE_MAX  (128 + 2 * (32 + 2 * XF_METRICS_VALUE_MAX) + 64)


typedef struct {
    const char     *name[3];
    const u_char   *value[3];
    size_t          len[3];
    size_t          n;
} xf_labels_t;


/* What every family of one exposition is rendered from and into. */
typedef struct {
    const xf_metrics_t  *m;
    const void          *mem;
    size_t               nworkers;
    xf_buf_t            *out;
    const xf_alloc_t    *a;
} xf_metrics_render_t;


static xf_status_t
xf_metrics_sample(xf_buf_t *out, const xf_alloc_t *a,
    const char *name, const char *suffix, const xf_labels_t *l, uint64_t v,
    uint64_t scale)
{
    size_t  i;

    if (xf_mbuf_reserve(out, a, XF_LINE_MAX) != XF_OK) {
        return XF_ERR_NOMEM;
    }

    xf_mbuf_puts(out, name);
    xf_mbuf_puts(out, suffix);

    for (i = 0; i < l->n; i++) {
        out->p[out->len++] = i ? ',' : '{';
        xf_mbuf_puts(out, l->name[i]);
        xf_mbuf_put(out, "=\"", 2);
        xf_mbuf_put_label(out, l->value[i], l->len[i]);
        out->p[out->len++] = '"';
    }

    if (l->n) {
        out->p[out->len++] = '}';
    }

    out->p[out->len++] = ' ';
    xf_mbuf_put_scaled(out, v, scale);
    out->p[out->len++] = '\n';

    return XF_OK;
}


static xf_status_t
xf_metrics_head(xf_buf_t *out, const xf_alloc_t *a,
    const xf_metric_def_t *def)
{
    static const char *const  types[] = { "counter", "gauge", "histogram" };

    if (xf_mbuf_reserve(out, a, 2 * strlen(def->name) + strlen(def->help)
                                + 32)
        != XF_OK)
    {
        return XF_ERR_NOMEM;
    }

    /* help texts are compiled in: no \ or newline to escape */
    xf_mbuf_puts(out, "# HELP ");
    xf_mbuf_puts(out, def->name);
    out->p[out->len++] = ' ';
    xf_mbuf_puts(out, def->help);
    xf_mbuf_puts(out, "\n# TYPE ");
    xf_mbuf_puts(out, def->name);
    out->p[out->len++] = ' ';
    xf_mbuf_puts(out, types[def->type]);
    out->p[out->len++] = '\n';

    return XF_OK;
}


/* One cell combined over slots [0, n), by the family's aggregation. */
static uint64_t
xf_metrics_combine(const xf_metrics_t *m, const void *mem, size_t n,
    xf_metric_agg_t agg, size_t cell)
{
    size_t     s;
    uint64_t   v, r;

    r = 0;

    for (s = 0; s < n; s++) {
        v = __atomic_load_n(xf_metrics_cells(m, mem, s) + cell,
                            __ATOMIC_RELAXED);

        if (agg == XF_AGG_MAX) {
            r = v > r ? v : r;
        } else {
            r += v;
        }
    }

    return r;
}


static xf_status_t
xf_metrics_render_histogram(const xf_metrics_render_t *r,
    const xf_metric_def_t *def, size_t base)
{
    size_t             i;
    uint64_t           count;
    xf_labels_t        l;
    xf_buf_t          *out = r->out;
    const xf_alloc_t  *a = r->a;

    l.n = 1;
    l.name[0] = "le";
    count = 0;

    for (i = 0; i <= def->nbounds; i++) {
        count += xf_metrics_combine(r->m, r->mem, r->m->nslots, XF_AGG_SUM,
                                    base + i);

        l.value[0] = (const u_char *) (i < def->nbounds ? def->le[i] : "+Inf");
        l.len[0] = strlen((const char *) l.value[0]);

        if (xf_metrics_sample(out, a, def->name, "_bucket", &l, count, 1)
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    l.n = 0;

    if (xf_metrics_sample(out, a, def->name, "_sum", &l,
                          xf_metrics_combine(r->m, r->mem, r->m->nslots,
                                             XF_AGG_SUM,
                                             base + def->nbounds + 1),
                          def->scale)
        != XF_OK
        || xf_metrics_sample(out, a, def->name, "_count", &l, count, 1)
           != XF_OK)
    {
        return XF_ERR_NOMEM;
    }

    return XF_OK;
}


/* Broker slot o is in use, and by the broker of slot b. */
static int
xf_metrics_broker_same(const xf_metrics_broker_t *o,
    const xf_metrics_broker_t *b)
{
    return __atomic_load_n(&o->state, __ATOMIC_ACQUIRE) == XF_BROKER_READY
           && o->len == b->len && memcmp(o->name, b->name, b->len) == 0;
}


/*
 * Gauges by broker: slots of equal names are one series, shown while a
 * current worker lists the broker (its up cell is not 0): a broker that
 * moved or left the cluster goes with librdkafka's statistics.
 */
static xf_status_t
xf_metrics_render_brokers(const xf_metrics_render_t *r,
    const xf_metric_def_t *def, size_t base)
{
    size_t                      i, j, up;
    uint64_t                    v, sum, listed;
    xf_labels_t                 l;
    const xf_metrics_hdr_t     *hdr = r->mem;
    const xf_metrics_broker_t  *b;

    l.n = 1;
    l.name[0] = def->label[0];
    up = r->m->base[XF_M_KAFKA_BROKER_UP];

    for (i = 0; i < XF_METRICS_BROKERS_MAX; i++) {
        b = &hdr->brokers[i];

        if (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != XF_BROKER_READY) {
            continue;
        }

        for (j = 0; j < i; j++) {
            if (xf_metrics_broker_same(&hdr->brokers[j], b)) {
                break;
            }
        }

        if (j < i) {
            /* shown with the first slot of that name */
            continue;
        }

        sum = 0;
        listed = 0;

        for (j = i; j < XF_METRICS_BROKERS_MAX; j++) {
            if (j != i && !xf_metrics_broker_same(&hdr->brokers[j], b)) {
                continue;
            }

            v = xf_metrics_combine(r->m, r->mem, r->nworkers, def->agg,
                                   base + j);
            sum = def->agg == XF_AGG_MAX ? (v > sum ? v : sum) : sum + v;

            v = xf_metrics_combine(r->m, r->mem, r->nworkers, XF_AGG_MAX,
                                   up + j);
            listed = v > listed ? v : listed;
        }

        if (listed == 0) {
            continue;
        }

        if (base == up) {
            sum = sum == XF_BROKER_LISTED_UP;
        }

        l.value[0] = b->name;
        l.len[0] = b->len;

        if (xf_metrics_sample(r->out, r->a, def->name, "", &l, sum,
                              def->scale)
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}


static xf_status_t
xf_metrics_render_family(const xf_metrics_render_t *r,
    const xf_metric_def_t *def, size_t base)
{
    size_t               i0, i1, n0, n1, s, nslots;
    unsigned             sparse;
    u_char               num[24];
    uint64_t             v;
    xf_labels_t          l;
    xf_buf_t            *out = r->out;
    const xf_alloc_t    *a = r->a;
    const xf_metrics_t  *m = r->m;

    if (def->type == XF_METRIC_HISTOGRAM) {
        return xf_metrics_render_histogram(r, def, base);
    }

    if (def->dim[0] == XF_DIM_BROKER) {
        return xf_metrics_render_brokers(r, def, base);
    }

    if (def->agg == XF_AGG_WORKER) {
        l.n = 1;
        l.name[0] = def->label[0];
        l.value[0] = num;

        for (s = 0; s < r->nworkers; s++) {
            xf_buf_t          nb = { num, 0, sizeof(num) };

            xf_mbuf_put_u64(&nb, s);
            l.len[0] = nb.len;

            v = __atomic_load_n(xf_metrics_cells(m, r->mem, s) + base,
                                __ATOMIC_RELAXED);

            if (xf_metrics_sample(out, a, def->name, "", &l, v, def->scale)
                != XF_OK)
            {
                return XF_ERR_NOMEM;
            }
        }

        return XF_OK;
    }

    /* counters keep the counts of slots no worker uses any more */
    nslots = def->type == XF_METRIC_COUNTER ? m->nslots : r->nworkers;

    /*
     * Labels of configured sets: every combination can occur.  Others
     * (formats, codes, results, reasons): from the first count on.
     */
    sparse = def->type == XF_METRIC_COUNTER && def->label[0] != NULL
             && def->dim[0] != XF_DIM_TOPIC && def->dim[0] != XF_DIM_ZONE
             && def->dim[1] != XF_DIM_TOPIC && def->dim[1] != XF_DIM_ZONE;

    n0 = xf_metrics_dim_size(m, def->dim[0]);
    n1 = xf_metrics_dim_size(m, def->dim[1]);

    l.n = (def->label[0] != NULL) + (def->label[1] != NULL);
    l.name[0] = def->label[0];
    l.name[1] = def->label[1];

    for (i0 = 0; i0 < n0; i0++) {
        l.value[0] = xf_metrics_dim_value(m, def->dim[0], i0, &l.len[0]);

        for (i1 = 0; i1 < n1; i1++) {
            l.value[1] = xf_metrics_dim_value(m, def->dim[1], i1, &l.len[1]);

            v = xf_metrics_combine(m, r->mem, nslots, def->agg,
                                   base + i0 * n1 + i1);

            if (v == 0 && sparse) {
                continue;
            }

            if (xf_metrics_sample(out, a, def->name, "", &l, v, def->scale)
                != XF_OK)
            {
                return XF_ERR_NOMEM;
            }
        }
    }

    return XF_OK;
}


xf_status_t
xf_metrics_render(const xf_metrics_t *m, const void *mem, size_t nworkers,
    xf_buf_t *out, const xf_alloc_t *a)
{
    size_t                  f;
    xf_metrics_render_t     r;
    const xf_metric_def_t  *def;

    if (nworkers == 0 || nworkers > m->nslots) {
        nworkers = m->nslots;
    }

    r.m = m;
    r.mem = mem;
    r.nworkers = nworkers;
    r.out = out;
    r.a = a;

    for (f = 0; f < XF_M_MAX; f++) {
        def = &xf_metric_defs[f];

        if (xf_metrics_head(out, a, def) != XF_OK
            || xf_metrics_render_family(&r, def, m->base[f]) != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}

