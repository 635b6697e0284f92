/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics_registry.c - the registry (label values, the layout of the
 * shared cells and its hash, migration across reloads) and the hot path
 * that counts, sets and observes into the cells.
 */

#include "xf_metrics_impl.h"
#include "xf_realloc.h"


/* ------------------------------------------------------------ registry */

xf_status_t
xf_metrics_create(xf_metrics_t **m, const xf_alloc_t *a)
{
    size_t         i, c;
    xf_metrics_t  *r;

    r = a->alloc(a->data, sizeof(xf_metrics_t));
    if (r == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(r, 0, sizeof(xf_metrics_t));
    r->alloc = *a;

    /* the code label's text, kept here: the core holds no globals */
    for (i = 0; i < XF_METRICS_CODES; i++) {
        c = i < XF_METRICS_CODES - 1 ? i + 100 : 0;
        r->codes[i][0] = (u_char) ('0' + c / 100);
        r->codes[i][1] = (u_char) ('0' + c / 10 % 10);
        r->codes[i][2] = (u_char) ('0' + c % 10);
    }

    *m = r;

    return XF_OK;
}


static void
xf_metrics_dyn_free(xf_metrics_t *m, xf_metrics_dyn_t *d)
{
    size_t  i;

    for (i = 0; i < d->n; i++) {
        m->alloc.free(m->alloc.data, d->v[i].data);
    }

    if (d->v) {
        m->alloc.free(m->alloc.data, d->v);
    }
}


void
xf_metrics_destroy(xf_metrics_t *m)
{
    if (m == NULL) {
        return;
    }

    xf_metrics_dyn_free(m, &m->topics);
    xf_metrics_dyn_free(m, &m->zones);
    m->alloc.free(m->alloc.data, m);
}


xf_status_t
xf_metrics_add_label(xf_metrics_t *m, xf_metric_dim_t dim, const u_char *p,
    size_t len, size_t *index)
{
    size_t             i, cap;
    xf_metrics_dyn_t  *d;
    xf_metrics_str_t  *v;

    if (m->frozen) {
        return XF_ERR_BUFFER;
    }

    switch (dim) {
    case XF_DIM_TOPIC:
        d = &m->topics;
        break;
    case XF_DIM_ZONE:
        d = &m->zones;
        break;
    default:
        return XF_ERR_BUFFER;
    }

    for (i = 0; i < d->n; i++) {
        if (d->v[i].len == len && memcmp(d->v[i].data, p, len) == 0) {
            *index = i;
            return XF_OK;
        }
    }

    if (len > XF_METRICS_VALUE_MAX || d->n >= XF_METRICS_DYN_MAX) {
        return XF_ERR_TOO_LARGE;
    }

    if (d->n == d->cap) {
        cap = d->cap ? d->cap * 2 : 8;

        v = xf_realloc(&m->alloc, d->v, d->n * sizeof(xf_metrics_str_t),
                       cap * sizeof(xf_metrics_str_t));
        if (v == NULL) {
            return XF_ERR_NOMEM;
        }

        d->v = v;
        d->cap = cap;
    }

    v = &d->v[d->n];

    /* one byte more, so that an empty value is not a zero-size alloc */
    v->data = m->alloc.alloc(m->alloc.data, len + 1);
    if (v->data == NULL) {
        return XF_ERR_NOMEM;
    }

    memcpy(v->data, p, len);
    v->len = len;

    *index = d->n++;

    return XF_OK;
}


/* FNV-1a, 64 bits: the identity of a layout, not a security measure. */
static uint64_t
xf_fnv(uint64_t h, const void *p, size_t len)
{
    const u_char  *s = p;
    size_t         i;

    for (i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static uint64_t
xf_fnv_str(uint64_t h, const u_char *p, size_t len)
{
    uint64_t  n = len;

    h = xf_fnv(h, &n, sizeof(n));
    return xf_fnv(h, p, len);
}


static size_t
xf_metrics_family_cells(const xf_metrics_t *m, const xf_metric_def_t *def)
{
    if (def->type == XF_METRIC_HISTOGRAM) {
        return def->nbounds + 2;                /* buckets, +Inf, sum */
    }

    return xf_metrics_dim_size(m, def->dim[0])
           * xf_metrics_dim_size(m, def->dim[1]);
}


xf_status_t
xf_metrics_layout(xf_metrics_t *m, size_t nslots)
{
    size_t                  f, k, i, n, len, ncells;
    uint64_t                h, v;
    const u_char           *p;
    const xf_metric_def_t  *def;

    if (m->frozen) {
        return XF_ERR_BUFFER;
    }

    if (nslots == 0 || nslots > 65536) {
        return XF_ERR_TOO_LARGE;
    }

    h = 0xcbf29ce484222325ULL;
    v = nslots;
    h = xf_fnv(h, &v, sizeof(v));
    v = XF_METRICS_BROKERS_MAX;
    h = xf_fnv(h, &v, sizeof(v));

    ncells = 0;

    for (f = 0; f < XF_M_MAX; f++) {
        def = &xf_metric_defs[f];

        m->base[f] = ncells;
        ncells += xf_metrics_family_cells(m, def);

        h = xf_fnv_str(h, (const u_char *) def->name, strlen(def->name));
        v = (uint64_t) def->type << 32 | def->nbounds;
        h = xf_fnv(h, &v, sizeof(v));

        for (k = 0; k < 2 && def->label[k]; k++) {
            h = xf_fnv_str(h, (const u_char *) def->label[k],
                           strlen(def->label[k]));

            n = xf_metrics_dim_size(m, def->dim[k]);
            v = n;
            h = xf_fnv(h, &v, sizeof(v));

            if (def->dim[k] == XF_DIM_BROKER || def->dim[k] == XF_DIM_WORKER) {
                continue;
            }

            for (i = 0; i < n; i++) {
                p = xf_metrics_dim_value(m, def->dim[k], i, &len);
                h = xf_fnv_str(h, p, len);
            }
        }
    }

    m->ncells = ncells;
    m->nslots = nslots;
    m->hash = h;
    m->frozen = 1;

    return XF_OK;
}


size_t
xf_metrics_size(const xf_metrics_t *m)
{
    return sizeof(xf_metrics_hdr_t) + m->nslots * m->ncells * sizeof(uint64_t);
}


uint64_t
xf_metrics_hash(const xf_metrics_t *m)
{
    return m->hash;
}


size_t
xf_metrics_nslots(const xf_metrics_t *m)
{
    return m->nslots;
}


void
xf_metrics_init_mem(const xf_metrics_t *m, void *mem)
{
    xf_metrics_hdr_t  *hdr = mem;

    memset(mem, 0, xf_metrics_size(m));

    hdr->magic = XF_METRICS_MAGIC;
    hdr->hash = m->hash;
    hdr->nslots = m->nslots;
    hdr->ncells = m->ncells;
}


int
xf_metrics_mem_matches(const xf_metrics_t *m, const void *mem)
{
    const xf_metrics_hdr_t  *hdr = mem;

    return hdr->magic == XF_METRICS_MAGIC
           && hdr->hash == m->hash
           && hdr->nslots == m->nslots
           && hdr->ncells == m->ncells;
}


/* The index of a label value of a registry-held set in m, or -1. */
static ssize_t
xf_metrics_dim_find(const xf_metrics_t *m, xf_metric_dim_t dim,
    const u_char *p, size_t len)
{
    size_t         i, n, l;
    const u_char  *s;

    n = xf_metrics_dim_size(m, dim);

    if (dim == XF_DIM_NONE) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        s = xf_metrics_dim_value(m, dim, i, &l);
        if (l == len && memcmp(s, p, len) == 0) {
            return i;
        }
    }

    return -1;
}


void
xf_metrics_migrate(const xf_metrics_t *m, void *mem, const xf_metrics_t *old,
    const void *old_mem)
{
    size_t                  f, g, s, i0, i1, c, n0, n1, on1, len;
    ssize_t                 j0, j1;
    uint64_t               *dst;
    const u_char           *p;
    const uint64_t         *src;
    const xf_metric_def_t  *def, *odef;

    for (f = 0; f < XF_M_MAX; f++) {
        def = &xf_metric_defs[f];

        if (def->type == XF_METRIC_GAUGE) {
            continue;
        }

        /* the same family: same name, type, labels and buckets */
        odef = NULL;        /* set: XF_M_MAX > 0; clang cannot tell */

        for (g = 0; g < XF_M_MAX; g++) {
            odef = &xf_metric_defs[g];
            if (strcmp(odef->name, def->name) == 0) {
                break;
            }
        }

        if (g == XF_M_MAX || odef->type != def->type
            || odef->nbounds != def->nbounds
            || odef->dim[0] != def->dim[0] || odef->dim[1] != def->dim[1])
        {
            continue;
        }

        if (def->type == XF_METRIC_HISTOGRAM) {
            for (s = 0; s < old->nslots; s++) {
                src = xf_metrics_cells(old, old_mem, s) + old->base[g];
                dst = xf_metrics_cells(m, mem, s % m->nslots) + m->base[f];

                for (c = 0; c < def->nbounds + 2u; c++) {
                    dst[c] += __atomic_load_n(&src[c], __ATOMIC_RELAXED);
                }
            }

            continue;
        }

        n0 = xf_metrics_dim_size(m, def->dim[0]);
        n1 = xf_metrics_dim_size(m, def->dim[1]);
        on1 = xf_metrics_dim_size(old, def->dim[1]);

        for (i0 = 0; i0 < n0; i0++) {
            p = xf_metrics_dim_value(m, def->dim[0], i0, &len);
            j0 = xf_metrics_dim_find(old, def->dim[0], p, len);
            if (j0 < 0) {
                continue;
            }

            for (i1 = 0; i1 < n1; i1++) {
                p = xf_metrics_dim_value(m, def->dim[1], i1, &len);
                j1 = xf_metrics_dim_find(old, def->dim[1], p, len);
                if (j1 < 0) {
                    continue;
                }

                for (s = 0; s < old->nslots; s++) {
                    src = xf_metrics_cells(old, old_mem, s) + old->base[g];
                    dst = xf_metrics_cells(m, mem, s % m->nslots)
                          + m->base[f];

                    dst[i0 * n1 + i1] += __atomic_load_n(&src[j0 * on1 + j1],
                                                         __ATOMIC_RELAXED);
                }
            }
        }
    }
}


/* ------------------------------------------------------------ hot path */

static uint64_t *
xf_metrics_cell(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, xf_metric_type_t type)
{
    size_t                  n0, n1;
    const xf_metric_def_t  *def;

    if ((unsigned) id >= XF_M_MAX || slot >= m->nslots) {
        return NULL;
    }

    def = &xf_metric_defs[id];

    if (def->type != type) {
        return NULL;
    }

    n0 = xf_metrics_dim_size(m, def->dim[0]);
    n1 = xf_metrics_dim_size(m, def->dim[1]);

    if (l0 >= n0 || l1 >= n1) {
        return NULL;
    }

    return xf_metrics_cells(m, mem, slot) + m->base[id] + l0 * n1 + l1;
}


uint64_t
xf_metrics_counter_sum(const xf_metrics_t *m, const void *mem,
    xf_metric_id_t id, size_t l0, size_t l1)
{
    size_t                  s, n1, cell;
    uint64_t                sum;
    const xf_metric_def_t  *def;

    if ((unsigned) id >= XF_M_MAX) {
        return 0;
    }

    def = &xf_metric_defs[id];
    n1 = xf_metrics_dim_size(m, def->dim[1]);

    if (def->type != XF_METRIC_COUNTER
        || l0 >= xf_metrics_dim_size(m, def->dim[0]) || l1 >= n1)
    {
        return 0;
    }

    cell = m->base[id] + l0 * n1 + l1;

    for (s = 0, sum = 0; s < m->nslots; s++) {
        sum += __atomic_load_n(xf_metrics_cells(m, mem, s) + cell,
                               __ATOMIC_RELAXED);
    }

    return sum;
}


/*
 * Add n to a counter's cell or store it in a gauge's: the family must be
 * of that type, or the call is ignored like any other out-of-range one.
 */
static void
xf_metrics_update(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, xf_metric_type_t type,
    uint64_t n)
{
    uint64_t  *c;

    c = xf_metrics_cell(m, mem, slot, id, l0, l1, type);

    if (c == NULL) {
        return;
    }

    if (type == XF_METRIC_COUNTER) {
        __atomic_fetch_add(c, n, __ATOMIC_RELAXED);

    } else {
        __atomic_store_n(c, n, __ATOMIC_RELAXED);
    }
}


void
xf_metrics_add(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t n)
{
    xf_metrics_update(m, mem, slot, id, l0, l1, XF_METRIC_COUNTER, n);
}


void
xf_metrics_set(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t v)
{
    xf_metrics_update(m, mem, slot, id, l0, l1, XF_METRIC_GAUGE, v);
}


void
xf_metrics_observe(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, uint64_t v)
{
    size_t                  i;
    uint64_t               *c;
    const xf_metric_def_t  *def;

    if ((unsigned) id >= XF_M_MAX || slot >= m->nslots) {
        return;
    }

    def = &xf_metric_defs[id];

    if (def->type != XF_METRIC_HISTOGRAM) {
        return;
    }

    c = xf_metrics_cells(m, mem, slot) + m->base[id];

    for (i = 0; i < def->nbounds; i++) {
        if (v <= def->bounds[i]) {
            break;
        }
    }

    /* i == nbounds: the +Inf bucket */
    __atomic_fetch_add(&c[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c[def->nbounds + 1], v, __ATOMIC_RELAXED);
}


/* Some slot's up cell of broker k is not 0: a worker lists it. */
static int
xf_metrics_broker_listed(const xf_metrics_t *m, const void *mem, size_t k)
{
    size_t  s, cell;

    cell = m->base[XF_M_KAFKA_BROKER_UP] + k;

    for (s = 0; s < m->nslots; s++) {
        if (__atomic_load_n(xf_metrics_cells(m, mem, s) + cell,
                            __ATOMIC_RELAXED))
        {
            return 1;
        }
    }

    return 0;
}


size_t
xf_metrics_broker_index(const xf_metrics_t *m, void *mem, const u_char *name,
    size_t len)
{
    size_t                i;
    uint32_t              state, expect;
    xf_metrics_hdr_t     *hdr = mem;
    xf_metrics_broker_t  *b;

    if (len > XF_METRICS_NAME_MAX) {
        len = XF_METRICS_NAME_MAX;
    }

    for (i = 0; i < XF_METRICS_BROKERS_MAX; i++) {
        b = &hdr->brokers[i];

        state = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);

        if (state == XF_BROKER_FREE) {
            expect = XF_BROKER_FREE;

            if (__atomic_compare_exchange_n(&b->state, &expect,
                                            XF_BROKER_WRITING, 0,
                                            __ATOMIC_ACQUIRE,
                                            __ATOMIC_ACQUIRE))
            {
                memcpy(b->name, name, len);
                b->len = (uint32_t) len;
                __atomic_store_n(&b->state, XF_BROKER_READY,
                                 __ATOMIC_RELEASE);
                return i;
            }

            state = expect;
        }

        /* a slot another process is writing is passed over */

        if (state == XF_BROKER_READY && b->len == len
            && memcmp(b->name, name, len) == 0)
        {
            return i;
        }
    }

    /*
     * Full: take over the name of a broker no worker lists any more (its
     * up cell is 0 in every slot), so that brokers that keep moving do
     * not use up the table.  A process that looked the old name up just
     * before may write one report under the new name; its next report
     * finds its broker again.
     */
    for (i = 0; i < XF_METRICS_BROKERS_MAX; i++) {
        b = &hdr->brokers[i];

        if (xf_metrics_broker_listed(m, mem, i)) {
            continue;
        }

        expect = XF_BROKER_READY;

        if (__atomic_compare_exchange_n(&b->state, &expect,
                                        XF_BROKER_WRITING, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        {
            memcpy(b->name, name, len);
            b->len = (uint32_t) len;
            __atomic_store_n(&b->state, XF_BROKER_READY, __ATOMIC_RELEASE);
            return i;
        }
    }

    return XF_METRICS_BROKERS_MAX;
}


