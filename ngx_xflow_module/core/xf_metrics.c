/*
 * xf_metrics.c - metric families, the shared counter layout, the
 * Prometheus text renderer and the librdkafka statistics reader.
 */

#include <string.h>

#include "xf_metrics.h"
#include "xf_format.h"
#include "xf_json.h"


#define XF_METRICS_MAGIC   0x31304d4652544658ULL    /* "XFTRFM01" */

#define XF_BROKER_FREE     0
#define XF_BROKER_WRITING  1
#define XF_BROKER_READY    2


/* A broker name claimed in the shared header. */
typedef struct {
    uint32_t        state;
    uint32_t        len;
    u_char          name[XF_METRICS_NAME_MAX];
} xf_metrics_broker_t;

/* The start of the caller's memory; cells follow, 8-byte aligned. */
typedef struct {
    uint64_t             magic;
    uint64_t             hash;
    uint64_t             nslots;
    uint64_t             ncells;
    xf_metrics_broker_t  brokers[XF_METRICS_BROKERS_MAX];
} xf_metrics_hdr_t;


typedef struct {
    u_char         *data;
    size_t          len;
} xf_metrics_str_t;

typedef struct {
    xf_metrics_str_t  *v;
    size_t             n;
    size_t             cap;
} xf_metrics_dyn_t;

struct xf_metrics_s {
    xf_alloc_t          alloc;
    xf_metrics_dyn_t    topics;
    xf_metrics_dyn_t    zones;
    size_t              base[XF_M_MAX];     /* first cell of each family */
    size_t              ncells;             /* per slot */
    size_t              nslots;
    uint64_t            hash;
    unsigned            frozen:1;
};


/* ------------------------------------------------------------ families */

static const uint64_t  xf_duration_bounds[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000
};

static const char *const  xf_duration_le[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5"
};

static const uint64_t  xf_batch_bounds[] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000
};

static const char *const  xf_batch_le[] = {
    "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"
};

#define XF_NB(a)  (uint32_t) (sizeof(a) / sizeof(a[0]))

#define XF_C0(n, h)                                                       \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { NULL, NULL },                \
      { XF_DIM_NONE, XF_DIM_NONE }, NULL, NULL, 0, 1 }
#define XF_C1(n, h, l, d)                                                 \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { l, NULL },                   \
      { d, XF_DIM_NONE }, NULL, NULL, 0, 1 }
#define XF_C2(n, h, l0, d0, l1, d1)                                       \
    { n, h, XF_METRIC_COUNTER, XF_AGG_SUM, { l0, l1 }, { d0, d1 },        \
      NULL, NULL, 0, 1 }
#define XF_G(n, h, agg, l, d, scale)                                      \
    { n, h, XF_METRIC_GAUGE, agg, { l, NULL }, { d, XF_DIM_NONE },        \
      NULL, NULL, 0, scale }
#define XF_H(n, h, b, le, scale)                                          \
    { n, h, XF_METRIC_HISTOGRAM, XF_AGG_SUM, { NULL, NULL },              \
      { XF_DIM_NONE, XF_DIM_NONE }, b, le, XF_NB(b), scale }

static const xf_metric_def_t  xf_metric_defs[XF_M_MAX] = {

    [XF_M_HTTP_REQUESTS] = XF_C2("xflow_http_requests_total",
        "Requests to xflow_collect locations by upload format and HTTP "
        "status.", "format", XF_DIM_FORMAT, "code", XF_DIM_CODE),

    [XF_M_EVENTS] = XF_C2("xflow_events_total",
        "Events by upload format and what became of them.",
        "format", XF_DIM_FORMAT, "result", XF_DIM_EVENT_RESULT),

    [XF_M_EVENTS_REJECTED] = XF_C1("xflow_events_rejected_total",
        "Events refused or dead-lettered, by reason.",
        "reason", XF_DIM_STATUS),

    [XF_M_DECODE_ERRORS] = XF_C1("xflow_decode_errors_total",
        "Requests whose body could not be decoded, by error.",
        "kind", XF_DIM_STATUS),

    [XF_M_RECEIVED_BYTES] = XF_C0("xflow_received_bytes_total",
        "Request body bytes received on the wire."),

    [XF_M_DECODED_BYTES] = XF_C0("xflow_decoded_bytes_total",
        "Request body bytes after Content-Encoding and format decoding."),

    [XF_M_KAFKA_PRODUCED_BYTES] = XF_C0("xflow_kafka_produced_bytes_total",
        "Payload bytes of messages delivered to Kafka."),

    [XF_M_KAFKA_MESSAGES] = XF_C2("xflow_kafka_messages_total",
        "Kafka messages by topic and delivery report.",
        "topic", XF_DIM_TOPIC, "result", XF_DIM_KAFKA_RESULT),

    [XF_M_KAFKA_RETRIES] = XF_C0("xflow_kafka_retries_total",
        "Requests to brokers that librdkafka retried."),

    [XF_M_KAFKA_INFLIGHT] = XF_G("xflow_kafka_inflight_messages",
        "Messages held by librdkafka awaiting delivery, all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_KAFKA_QUEUE_BYTES] = XF_G("xflow_kafka_queue_bytes",
        "Bytes of the messages held by librdkafka, all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_KAFKA_BROKER_UP] = XF_G("xflow_kafka_broker_up",
        "1 if some worker's producer has the broker connection up.",
        XF_AGG_MAX, "broker", XF_DIM_BROKER, 1),

    [XF_M_KAFKA_BROKER_RTT] = XF_G("xflow_kafka_broker_rtt_seconds",
        "Average broker round trip time, the highest among workers.",
        XF_AGG_MAX, "broker", XF_DIM_BROKER, 1000000),

    [XF_M_SPOOL_BYTES] = XF_G("xflow_spool_bytes",
        "Bytes in the on-disk spools of all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_SPOOL_RECORDS] = XF_G("xflow_spool_records",
        "Events waiting in the on-disk spools of all workers.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),

    [XF_M_SPOOL_REPLAYED] = XF_C0("xflow_spool_replayed_total",
        "Spooled events handed to Kafka again."),

    [XF_M_SPOOL_ADOPTED] = XF_C0("xflow_spool_adopted_total",
        "Spool segments adopted from workers that are gone."),

    [XF_M_SPOOL_CORRUPT] = XF_C0("xflow_spool_corrupt_total",
        "Spool records skipped because their length or CRC is bad."),

    [XF_M_RATELIMIT_DECISIONS] = XF_C2("xflow_ratelimit_decisions_total",
        "Rate limit decisions by zone.",
        "zone", XF_DIM_ZONE, "result", XF_DIM_LIMIT_RESULT),

    [XF_M_REQUEST_DURATION] = XF_H("xflow_request_duration_seconds",
        "Time from the request's first byte to its answer.",
        xf_duration_bounds, xf_duration_le, 1000000),

    [XF_M_BATCH_EVENTS] = XF_H("xflow_batch_events",
        "Events per accepted upload.",
        xf_batch_bounds, xf_batch_le, 1),

    [XF_M_WORKER_RSS] = XF_G("xflow_worker_rss_bytes",
        "Resident memory of each worker process.",
        XF_AGG_WORKER, "worker", XF_DIM_WORKER, 1),

    [XF_M_SPOOLING] = XF_G("xflow_spooling",
        "Workers sending events to the spool: Kafka acknowledged nothing "
        "within xflow_spool_after and has delivered nothing since.",
        XF_AGG_SUM, NULL, XF_DIM_NONE, 1),
};


/* ------------------------------------------------------ static labels */

static const char *const  xf_format_values[] = {
    [XF_FMT_AUTO]     = "unknown",
    [XF_FMT_JSON]     = "json",
    [XF_FMT_SENSORS]  = "sensors",
    [XF_FMT_POSTHOG]  = "posthog",
    [XF_FMT_SEGMENT]  = "segment",
    [XF_FMT_SNOWPLOW] = "snowplow",
    [XF_FMT_MIXPANEL] = "mixpanel",
    [XF_FMT_AMPLITUDE] = "amplitude",
};

_Static_assert(XF_NB(xf_format_values) == XF_FMT_MAX,
               "a label value for every xf_format_t");

static const unsigned  xf_codes[] = {
    200, 204, 400, 403, 405, 408, 413, 415, 429, 499, 500, 503
};

#define XF_NCODES  XF_NB(xf_codes)

static const char *const  xf_code_values[] = {
    "200", "204", "400", "403", "405", "408", "413", "415", "429", "499",
    "500", "503", "2xx", "3xx", "4xx", "5xx", "other"
};

_Static_assert(XF_NB(xf_code_values) == XF_NCODES + 5,
               "codes, then classes 2xx..5xx, then other");

static const char *const  xf_event_result_values[] = {
    "accepted", "rejected", "dead_lettered", "rate_limited", "overflowed"
};

static const char *const  xf_kafka_result_values[] = {
    "delivered", "failed"
};

static const char *const  xf_limit_result_values[] = {
    "passed", "rejected", "rejected_dry_run", "overflow"
};


size_t
xf_metrics_code_index(unsigned status)
{
    size_t  i;

    for (i = 0; i < XF_NCODES; i++) {
        if (xf_codes[i] == status) {
            return i;
        }
    }

    if (status >= 200 && status < 600) {
        return XF_NCODES + status / 100 - 2;
    }

    return XF_NCODES + 4;
}


const xf_metric_def_t *
xf_metrics_def(xf_metric_id_t id)
{
    if ((unsigned) id >= XF_M_MAX) {
        return NULL;
    }

    return &xf_metric_defs[id];
}


size_t
xf_metrics_dim_size(const xf_metrics_t *m, xf_metric_dim_t dim)
{
    switch (dim) {

    case XF_DIM_NONE:
    case XF_DIM_WORKER:         /* the slot is the label */
        return 1;

    case XF_DIM_FORMAT:
        return XF_FMT_MAX;

    case XF_DIM_CODE:
        return XF_NB(xf_code_values);

    case XF_DIM_EVENT_RESULT:
        return XF_NB(xf_event_result_values);

    case XF_DIM_STATUS:
        return XF_STATUS_MAX - 1;

    case XF_DIM_TOPIC:
        return m->topics.n;

    case XF_DIM_KAFKA_RESULT:
        return XF_NB(xf_kafka_result_values);

    case XF_DIM_ZONE:
        return m->zones.n;

    case XF_DIM_LIMIT_RESULT:
        return XF_NB(xf_limit_result_values);

    case XF_DIM_BROKER:
        return XF_METRICS_BROKERS_MAX;

    default:
        return 0;
    }
}


/*
 * The text of a label value of a registry-held set; brokers and workers
 * are not (they are in the shared header and the slot number).
 */
static const u_char *
xf_metrics_dim_value(const xf_metrics_t *m, xf_metric_dim_t dim, size_t i,
    size_t *len)
{
    const char  *s;

    switch (dim) {

    case XF_DIM_FORMAT:
        s = xf_format_values[i];
        break;

    case XF_DIM_CODE:
        s = xf_code_values[i];
        break;

    case XF_DIM_EVENT_RESULT:
        s = xf_event_result_values[i];
        break;

    case XF_DIM_STATUS:
        s = xf_strerror((xf_status_t) (i + 1));
        break;

    case XF_DIM_TOPIC:
        *len = m->topics.v[i].len;
        return m->topics.v[i].data;

    case XF_DIM_ZONE:
        *len = m->zones.v[i].len;
        return m->zones.v[i].data;

    case XF_DIM_KAFKA_RESULT:
        s = xf_kafka_result_values[i];
        break;

    case XF_DIM_LIMIT_RESULT:
        s = xf_limit_result_values[i];
        break;

    default:
        *len = 0;
        return (const u_char *) "";
    }

    *len = strlen(s);
    return (const u_char *) s;
}


/* ------------------------------------------------------------ registry */

xf_status_t
xf_metrics_create(xf_metrics_t **m, const xf_alloc_t *a)
{
    xf_metrics_t  *r;

    r = a->alloc(a->data, sizeof(xf_metrics_t));
    if (r == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(r, 0, sizeof(xf_metrics_t));
    r->alloc = *a;

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

        v = m->alloc.alloc(m->alloc.data, cap * sizeof(xf_metrics_str_t));
        if (v == NULL) {
            return XF_ERR_NOMEM;
        }

        if (d->n) {
            memcpy(v, d->v, d->n * sizeof(xf_metrics_str_t));
        }

        if (d->v) {
            m->alloc.free(m->alloc.data, d->v);
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


static uint64_t *
xf_metrics_cells(const xf_metrics_t *m, const void *mem, size_t slot)
{
    return (uint64_t *) ((u_char *) mem + sizeof(xf_metrics_hdr_t))
           + slot * m->ncells;
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


void
xf_metrics_add(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t n)
{
    uint64_t  *c;

    c = xf_metrics_cell(m, mem, slot, id, l0, l1, XF_METRIC_COUNTER);

    if (c) {
        __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
    }
}


void
xf_metrics_set(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t v)
{
    uint64_t  *c;

    c = xf_metrics_cell(m, mem, slot, id, l0, l1, XF_METRIC_GAUGE);

    if (c) {
        __atomic_store_n(c, v, __ATOMIC_RELAXED);
    }
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

    return XF_METRICS_BROKERS_MAX;
}


/* ------------------------------------------------------------ renderer */

static xf_status_t
xf_mbuf_reserve(xf_metrics_buf_t *out, const xf_alloc_t *a, size_t n)
{
    size_t   cap;
    u_char  *p;

    if (out->cap - out->len >= n) {
        return XF_OK;
    }

    cap = out->cap ? out->cap : 4096;
    while (cap - out->len < n) {
        cap *= 2;
    }

    p = a->alloc(a->data, cap);
    if (p == NULL) {
        return XF_ERR_NOMEM;
    }

    if (out->p) {
        memcpy(p, out->p, out->len);
        a->free(a->data, out->p);
    }

    out->p = p;
    out->cap = cap;

    return XF_OK;
}


/* Callers reserve first: the put functions do not check room. */
static void
xf_mbuf_put(xf_metrics_buf_t *out, const void *p, size_t len)
{
    memcpy(out->p + out->len, p, len);
    out->len += len;
}

#define xf_mbuf_puts(out, s)  xf_mbuf_put(out, s, strlen(s))


static void
xf_mbuf_put_u64(xf_metrics_buf_t *out, uint64_t v)
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
xf_mbuf_put_scaled(xf_metrics_buf_t *out, uint64_t v, uint64_t scale)
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
xf_mbuf_put_label(xf_metrics_buf_t *out, const u_char *p, size_t len)
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


static xf_status_t
xf_metrics_sample(xf_metrics_buf_t *out, const xf_alloc_t *a,
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
xf_metrics_head(xf_metrics_buf_t *out, const xf_alloc_t *a,
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
xf_metrics_render_histogram(const xf_metrics_t *m, const void *mem,
    const xf_metric_def_t *def, size_t base, xf_metrics_buf_t *out,
    const xf_alloc_t *a)
{
    size_t       i;
    uint64_t     count;
    xf_labels_t  l;

    l.n = 1;
    l.name[0] = "le";
    count = 0;

    for (i = 0; i <= def->nbounds; i++) {
        count += xf_metrics_combine(m, mem, m->nslots, XF_AGG_SUM, base + i);

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
                          xf_metrics_combine(m, mem, m->nslots, XF_AGG_SUM,
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


/* Gauges by broker: slots of equal names are one series. */
static xf_status_t
xf_metrics_render_brokers(const xf_metrics_t *m, const void *mem,
    size_t nworkers, const xf_metric_def_t *def, size_t base,
    xf_metrics_buf_t *out, const xf_alloc_t *a)
{
    size_t                      i, j;
    uint64_t                    v, r;
    xf_labels_t                 l;
    const xf_metrics_hdr_t     *hdr = mem;
    const xf_metrics_broker_t  *b, *o;

    l.n = 1;
    l.name[0] = def->label[0];

    for (i = 0; i < XF_METRICS_BROKERS_MAX; i++) {
        b = &hdr->brokers[i];

        if (__atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != XF_BROKER_READY) {
            continue;
        }

        for (j = 0; j < i; j++) {
            o = &hdr->brokers[j];
            if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE)
                == XF_BROKER_READY
                && o->len == b->len && memcmp(o->name, b->name, b->len) == 0)
            {
                break;
            }
        }

        if (j < i) {
            /* shown with the first slot of that name */
            continue;
        }

        r = 0;

        for (j = i; j < XF_METRICS_BROKERS_MAX; j++) {
            o = &hdr->brokers[j];
            if (j != i
                && (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE)
                    != XF_BROKER_READY
                    || o->len != b->len
                    || memcmp(o->name, b->name, b->len) != 0))
            {
                continue;
            }

            v = xf_metrics_combine(m, mem, nworkers, def->agg, base + j);
            r = def->agg == XF_AGG_MAX ? (v > r ? v : r) : r + v;
        }

        l.value[0] = b->name;
        l.len[0] = b->len;

        if (xf_metrics_sample(out, a, def->name, "", &l, r, def->scale)
            != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}


static xf_status_t
xf_metrics_render_family(const xf_metrics_t *m, const void *mem,
    size_t nworkers, const xf_metric_def_t *def, size_t base,
    xf_metrics_buf_t *out, const xf_alloc_t *a)
{
    size_t       i0, i1, n0, n1, s, nslots;
    u_char       num[24];
    uint64_t     v;
    xf_labels_t  l;

    if (def->type == XF_METRIC_HISTOGRAM) {
        return xf_metrics_render_histogram(m, mem, def, base, out, a);
    }

    if (def->dim[0] == XF_DIM_BROKER) {
        return xf_metrics_render_brokers(m, mem, nworkers, def, base, out, a);
    }

    if (def->agg == XF_AGG_WORKER) {
        l.n = 1;
        l.name[0] = def->label[0];
        l.value[0] = num;

        for (s = 0; s < nworkers; s++) {
            xf_metrics_buf_t  nb = { num, 0, sizeof(num) };

            xf_mbuf_put_u64(&nb, s);
            l.len[0] = nb.len;

            v = __atomic_load_n(xf_metrics_cells(m, mem, s) + base,
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
    nslots = def->type == XF_METRIC_COUNTER ? m->nslots : nworkers;

    n0 = xf_metrics_dim_size(m, def->dim[0]);
    n1 = xf_metrics_dim_size(m, def->dim[1]);

    l.n = (def->label[0] != NULL) + (def->label[1] != NULL);
    l.name[0] = def->label[0];
    l.name[1] = def->label[1];

    for (i0 = 0; i0 < n0; i0++) {
        l.value[0] = xf_metrics_dim_value(m, def->dim[0], i0, &l.len[0]);

        for (i1 = 0; i1 < n1; i1++) {
            l.value[1] = xf_metrics_dim_value(m, def->dim[1], i1, &l.len[1]);

            v = xf_metrics_combine(m, mem, nslots, def->agg,
                                   base + i0 * n1 + i1);

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
    xf_metrics_buf_t *out, const xf_alloc_t *a)
{
    size_t                  f;
    const xf_metric_def_t  *def;

    if (nworkers == 0 || nworkers > m->nslots) {
        nworkers = m->nslots;
    }

    for (f = 0; f < XF_M_MAX; f++) {
        def = &xf_metric_defs[f];

        if (xf_metrics_head(out, a, def) != XF_OK
            || xf_metrics_render_family(m, mem, nworkers, def, m->base[f],
                                        out, a)
               != XF_OK)
        {
            return XF_ERR_NOMEM;
        }
    }

    return XF_OK;
}


/* ------------------------------------------------- librdkafka stats */

static size_t
xf_json_ws(const u_char *p, size_t len, size_t i)
{
    while (i < len
           && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
    {
        i++;
    }

    return i;
}


/*
 * The next member of a validated object (p, len is the object's span);
 * *pos is 0 before the first call.  Returns 1 with the key (a string
 * span with quotes) and the value, 0 at the end.
 */
static int
xf_json_next_member(const u_char *p, size_t len, size_t *pos,
    xf_json_span_t *key, xf_json_span_t *val)
{
    size_t          i, end, err;
    xf_json_span_t  s;

    i = *pos;

    if (i == 0) {
        i = xf_json_ws(p, len, 0);
        if (i >= len || p[i] != '{') {
            return 0;
        }

        i++;
    }

    i = xf_json_ws(p, len, i);

    if (i < len && p[i] == ',') {
        i = xf_json_ws(p, len, i + 1);
    }

    if (i >= len || p[i] != '"') {
        return 0;
    }

    if (xf_json_scan_value(p + i, len - i, 1, &s, &end, &err) != XF_OK) {
        return 0;
    }

    key->off = (uint32_t) (i + s.off);
    key->len = s.len;
    key->type = s.type;

    i = xf_json_ws(p, len, i + end);
    if (i >= len || p[i] != ':') {
        return 0;
    }

    i++;

    if (xf_json_scan_value(p + i, len - i, XF_JSON_DEPTH_MAX, &s, &end, &err)
        != XF_OK)
    {
        return 0;
    }

    val->off = (uint32_t) (i + s.off);
    val->len = s.len;
    val->type = s.type;

    *pos = i + end;

    return 1;
}


/* A non-negative integer member; anything else reads as 0. */
static uint64_t
xf_json_u64(const u_char *p, size_t len, const char *key)
{
    size_t          i;
    uint64_t        v;
    xf_json_span_t  s;

    if (xf_json_object_get(p, len, key, strlen(key), &s) != XF_OK
        || s.type != XF_JSON_NUMBER)
    {
        return 0;
    }

    v = 0;

    for (i = s.off; i < (size_t) s.off + s.len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            break;
        }

        if (v > (UINT64_MAX - 9) / 10) {
            return UINT64_MAX;
        }

        v = v * 10 + (p[i] - '0');
    }

    return v;
}


/* 1 if the member key is the JSON string lit (given with its quotes). */
static int
xf_json_is(const u_char *p, size_t len, const char *key, const char *lit)
{
    size_t          n;
    xf_json_span_t  s;

    n = strlen(lit);

    return xf_json_object_get(p, len, key, strlen(key), &s) == XF_OK
           && s.type == XF_JSON_STRING && s.len == n
           && memcmp(p + s.off, lit, n) == 0;
}


xf_status_t
xf_metrics_kafka_stats_parse(const u_char *p, size_t len,
    xf_kafka_stats_t *st)
{
    size_t                    end, err, pos, n;
    u_char                    name[4 * XF_METRICS_NAME_MAX];
    xf_status_t               rc;
    const u_char             *o, *b;
    xf_json_span_t            span, key, val, s, rtt;
    xf_kafka_broker_stats_t  *bs;

    memset(st, 0, sizeof(xf_kafka_stats_t));

    rc = xf_json_scan_value(p, len, 64, &span, &end, &err);
    if (rc != XF_OK) {
        return rc;
    }

    if (span.type != XF_JSON_OBJECT) {
        return XF_ERR_NOT_OBJECT;
    }

    o = p + span.off;

    st->msg_cnt = xf_json_u64(o, span.len, "msg_cnt");
    st->msg_size = xf_json_u64(o, span.len, "msg_size");

    if (xf_json_object_get(o, span.len, "brokers", 7, &s) != XF_OK
        || s.type != XF_JSON_OBJECT)
    {
        return XF_OK;
    }

    b = o + s.off;
    pos = 0;

    while (xf_json_next_member(b, s.len, &pos, &key, &val)) {
        if (val.type != XF_JSON_OBJECT) {
            continue;
        }

        if (xf_json_is(b + val.off, val.len, "source", "\"internal\"")
            || xf_json_is(b + val.off, val.len, "source", "\"logical\""))
        {
            continue;
        }

        st->txretries += xf_json_u64(b + val.off, val.len, "txretries");

        if (st->nbrokers == XF_METRICS_BROKERS_MAX) {
            continue;
        }

        /* the member name is the broker's name ("host:port/id") */
        if (xf_json_string_unescape(b + key.off, key.len, name, sizeof(name),
                                    &n)
            != XF_OK)
        {
            continue;
        }

        bs = &st->brokers[st->nbrokers++];

        bs->name_len = xf_min(n, (size_t) XF_METRICS_NAME_MAX);
        memcpy(bs->name, name, bs->name_len);
        bs->up = xf_json_is(b + val.off, val.len, "state", "\"UP\"");
        bs->txretries = xf_json_u64(b + val.off, val.len, "txretries");

        if (xf_json_object_get(b + val.off, val.len, "rtt", 3, &rtt)
            == XF_OK
            && rtt.type == XF_JSON_OBJECT)
        {
            bs->rtt_us = xf_json_u64(b + val.off + rtt.off, rtt.len, "avg");
        }
    }

    return XF_OK;
}


void
xf_metrics_kafka_stats_apply(const xf_metrics_t *m, void *mem, size_t slot,
    const xf_kafka_stats_t *st, uint64_t *last_retries)
{
    size_t    i, k;
    u_char    seen[XF_METRICS_BROKERS_MAX];

    xf_metrics_set(m, mem, slot, XF_M_KAFKA_INFLIGHT, 0, 0, st->msg_cnt);
    xf_metrics_set(m, mem, slot, XF_M_KAFKA_QUEUE_BYTES, 0, 0, st->msg_size);

    memset(seen, 0, sizeof(seen));

    for (i = 0; i < st->nbrokers; i++) {
        k = xf_metrics_broker_index(m, mem, st->brokers[i].name,
                                    st->brokers[i].name_len);
        if (k == XF_METRICS_BROKERS_MAX) {
            continue;
        }

        seen[k] = 1;
        xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_UP, k, 0,
                       st->brokers[i].up);
        xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_RTT, k, 0,
                       st->brokers[i].rtt_us);
    }

    /* a broker this producer no longer lists is not up for it */
    for (k = 0; k < XF_METRICS_BROKERS_MAX; k++) {
        if (!seen[k]) {
            xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_UP, k, 0, 0);
            xf_metrics_set(m, mem, slot, XF_M_KAFKA_BROKER_RTT, k, 0, 0);
        }
    }

    /* librdkafka's counts start at 0 with each producer */
    xf_metrics_add(m, mem, slot, XF_M_KAFKA_RETRIES, 0, 0,
                   st->txretries >= *last_retries
                   ? st->txretries - *last_retries : st->txretries);

    *last_retries = st->txretries;
}
