/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_metrics.h - the xflow metric registry and its Prometheus renderer.
 *
 * Every metric family, its label names and the values each label may take
 * are known when the configuration is read: static sets (formats, HTTP
 * codes, results, status codes) are compiled in; dynamic sets (Kafka
 * topics, rate-limit zones) are registered before the layout is frozen.
 * Two label sets are filled at run time in fixed slots: Kafka brokers
 * (names claimed in the shared header) and worker processes.
 *
 * Which series are shown (xf_metrics_render): a counter whose labels
 * include a configured set (topic, zone) shows every combination, since
 * the configuration makes each possible and alerts divide by them; any
 * other labelled counter shows a series from its first count on, so
 * that the scrape holds what happened, not every code of every format.
 * A broker shows while some current worker's librdkafka lists it.
 *
 * Counters live in caller-provided memory (nginx shared memory), one
 * flat array of uint64_t per worker slot; each process adds to its own
 * slot with relaxed atomic adds, the renderer sums the slots:
 *
 *   mem: +--------+----------------+----------------+-----+
 *        | header | slot 0 cells   | slot 1 cells   | ... |
 *        +--------+----------------+----------------+-----+
 *   header: magic, layout hash, nslots, ncells, broker name table
 *   cells:  family 0 [l0 x l1] | family 1 [...] | ... (same in every slot)
 *   histogram cells: one per bucket (not cumulative), +Inf, then sum
 *
 * Values are integers in a base unit: durations in microseconds, sizes
 * in bytes.  A family's scale turns the base unit into the exposed one
 * (1000000 for microseconds -> seconds).
 *
 * How worker slots combine when rendered (xf_metric_agg_t):
 *   SUM     counters over all slots (a slot beyond the current worker
 *           count keeps its counts, so totals never go down), gauges
 *           over the slots of current workers;
 *   MAX     the highest value among current workers (broker state, rtt);
 *   WORKER  one series per current worker, labelled worker="N".
 *
 * Nothing here logs, allocates outside the caller's allocator, reads a
 * clock or keeps global state.  xf_metrics_add/set/observe and
 * xf_metrics_broker_index are safe to call from several processes at
 * once on the same memory; the registry itself is read-only after
 * xf_metrics_layout().
 */

#ifndef XF_METRICS_H
#define XF_METRICS_H

#include "xf_core.h"


typedef enum {
    XF_M_HTTP_REQUESTS = 0,         /* {format,code} */
    XF_M_EVENTS,                    /* {format,result} */
    XF_M_EVENTS_REJECTED,           /* {reason} */
    XF_M_DECODE_ERRORS,             /* {kind} */
    XF_M_RECEIVED_BYTES,
    XF_M_DECODED_BYTES,
    XF_M_KAFKA_PRODUCED_BYTES,
    XF_M_KAFKA_MESSAGES,            /* {topic,result} */
    XF_M_KAFKA_RETRIES,
    XF_M_KAFKA_TX_BYTES,
    XF_M_KAFKA_INFLIGHT,            /* gauge */
    XF_M_KAFKA_QUEUE_BYTES,         /* gauge */
    XF_M_KAFKA_BROKER_UP,           /* gauge {broker} */
    XF_M_KAFKA_BROKER_RTT,          /* gauge {broker}, microseconds */
    XF_M_SPOOL_BYTES,               /* gauge */
    XF_M_SPOOL_RECORDS,             /* gauge */
    XF_M_SPOOL_REPLAYED,
    XF_M_SPOOL_ADOPTED,
    XF_M_SPOOL_CORRUPT,
    XF_M_RATELIMIT_DECISIONS,       /* {zone,result} */
    XF_M_REQUEST_DURATION,          /* histogram, microseconds */
    XF_M_BATCH_EVENTS,              /* histogram, events */
    XF_M_WORKER_RSS,                /* gauge {worker} */
    XF_M_SPOOLING,                  /* gauge: workers spooling */
    XF_M_DECODED_INFLIGHT,          /* gauge, all workers */
    XF_M_DECODED_INFLIGHT_REFUSED,
    XF_M_RATE_LIMITED,              /* {format,code}: requests */
    XF_M_CATALOG_ENTRIES,           /* gauge: the catalog's entries */
    XF_M_CATALOG_EVICTED,
    XF_M_BOT_REQUESTS,              /* {decision} */
    XF_M_MAX
} xf_metric_id_t;


typedef enum {
    XF_METRIC_COUNTER = 0,
    XF_METRIC_GAUGE,
    XF_METRIC_HISTOGRAM
} xf_metric_type_t;


typedef enum {
    XF_AGG_SUM = 0,
    XF_AGG_MAX,
    XF_AGG_WORKER
} xf_metric_agg_t;


/* Label value sets. */
typedef enum {
    XF_DIM_NONE = 0,
    XF_DIM_FORMAT,          /* xf_format_t: index = format, AUTO: unknown */
    XF_DIM_CODE,            /* xf_metrics_code_index(status) */
    XF_DIM_EVENT_RESULT,    /* XF_METRICS_EVENT_* */
    XF_DIM_STATUS,          /* xf_metrics_status_index(st): xf_strerror */
    XF_DIM_TOPIC,           /* dynamic: registration order */
    XF_DIM_KAFKA_RESULT,    /* XF_METRICS_KAFKA_* */
    XF_DIM_ZONE,            /* dynamic: registration order */
    XF_DIM_LIMIT_RESULT,    /* XF_METRICS_LIMIT_* */
    XF_DIM_BROKER,          /* slots: xf_metrics_broker_index() */
    XF_DIM_WORKER,          /* the worker slot itself */
    XF_DIM_BOT_DECISION,    /* XF_METRICS_BOT_* */
    XF_DIM_MAX
} xf_metric_dim_t;


/*
 * XF_DIM_EVENT_RESULT: what became of events, one count per event.
 * What refuses a whole request is counted per request elsewhere: a rate
 * limit in xflow_rate_limited_total, a body that could not be used in
 * xflow_decode_errors_total.
 */
#define XF_METRICS_EVENT_ACCEPTED        0
#define XF_METRICS_EVENT_DEAD_LETTERED   1
#define XF_METRICS_EVENT_OVERFLOWED      2
#define XF_METRICS_EVENT_DROPPED         3   /* a kill switch: answered
                                                as accepted, not sent */
#define XF_METRICS_EVENT_BOT             4   /* xflow_bots drop: answered
                                                as accepted, not sent */

/* XF_DIM_BOT_DECISION: what xflow_bots decided for a bot's request */
#define XF_METRICS_BOT_MARK              0
#define XF_METRICS_BOT_ROUTE             1
#define XF_METRICS_BOT_DROP              2
#define XF_METRICS_BOT_DRY_RUN           3   /* + the above: not done */

/* XF_DIM_CODE: the exact status, 100 to 599; "000" for anything else */
#define XF_METRICS_CODES                 501

/* XF_DIM_KAFKA_RESULT */
#define XF_METRICS_KAFKA_DELIVERED       0
#define XF_METRICS_KAFKA_FAILED          1   /* lost, or refused for good */
#define XF_METRICS_KAFKA_SPOOLED         2   /* not delivered, kept on disk */

/* XF_DIM_LIMIT_RESULT */
#define XF_METRICS_LIMIT_PASSED          0
#define XF_METRICS_LIMIT_REJECTED        1
#define XF_METRICS_LIMIT_REJECTED_DRY    2
#define XF_METRICS_LIMIT_OVERFLOW        3
#define XF_METRICS_LIMIT_TABLE_FULL      4

/* Fixed slots for brokers; a broker name longer than this is cut. */
#define XF_METRICS_BROKERS_MAX           16
#define XF_METRICS_NAME_MAX              128

/* Values a dynamic label set may hold, and their length. */
#define XF_METRICS_DYN_MAX               256
#define XF_METRICS_VALUE_MAX             255


/* A family's definition: compiled in, see xf_metrics.c. */
typedef struct {
    const char             *name;
    const char             *help;
    xf_metric_type_t        type;
    xf_metric_agg_t         agg;
    const char             *label[2];       /* NULL: fewer labels */
    xf_metric_dim_t         dim[2];
    const uint64_t         *bounds;         /* histogram, base units */
    const char *const      *le;             /* their exposed text */
    uint32_t                nbounds;
    uint32_t                scale;          /* base units per exposed unit */
} xf_metric_def_t;

/* The definition of family id, NULL for an id out of range. */
const xf_metric_def_t *xf_metrics_def(xf_metric_id_t id);


typedef struct xf_metrics_s  xf_metrics_t;


/*
 * Create an empty registry with every family of xf_metric_id_t; its
 * memory comes from a (xf_metrics_destroy gives it back).  Returns
 * XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_metrics_create(xf_metrics_t **m, const xf_alloc_t *a);
void xf_metrics_destroy(xf_metrics_t *m);

/*
 * Register a value of a dynamic label set (XF_DIM_TOPIC, XF_DIM_ZONE)
 * before xf_metrics_layout.  A value already registered gets its old
 * index.  *index receives the label index to pass to xf_metrics_add.
 * The bytes are copied.  Returns XF_OK; XF_ERR_TOO_LARGE for a value
 * longer than XF_METRICS_VALUE_MAX or more than XF_METRICS_DYN_MAX
 * values; XF_ERR_BUFFER for a static set or a frozen registry;
 * XF_ERR_NOMEM.
 */
xf_status_t xf_metrics_add_label(xf_metrics_t *m, xf_metric_dim_t dim,
    const u_char *p, size_t len, size_t *index);

/*
 * Freeze the registry for nslots worker slots (at least 1): cell offsets
 * and the layout hash are computed.  Returns XF_OK, XF_ERR_TOO_LARGE when
 * nslots is 0 or the layout overflows, XF_ERR_BUFFER when already frozen.
 */
xf_status_t xf_metrics_layout(xf_metrics_t *m, size_t nslots);

/* After layout: bytes of memory needed, and the layout's identity. */
size_t xf_metrics_size(const xf_metrics_t *m);
uint64_t xf_metrics_hash(const xf_metrics_t *m);
size_t xf_metrics_nslots(const xf_metrics_t *m);

/* The number of values of a label set (brokers: slots, workers: nslots). */
size_t xf_metrics_dim_size(const xf_metrics_t *m, xf_metric_dim_t dim);

/*
 * Zero xf_metrics_size(m) bytes at mem (8-byte aligned) and write the
 * header.
 */
void xf_metrics_init_mem(const xf_metrics_t *m, void *mem);

/* 1 if mem was written by xf_metrics_init_mem for the same layout. */
int xf_metrics_mem_matches(const xf_metrics_t *m, const void *mem);

/*
 * Carry counters and histograms over from another layout (a reload that
 * added a topic, a zone or workers): each cell is matched by family name
 * and label values; slots beyond m's are folded into slot i % nslots.
 * Gauges and broker names are not carried (they are refreshed).  mem and
 * old_mem must not overlap.
 */
void xf_metrics_migrate(const xf_metrics_t *m, void *mem,
    const xf_metrics_t *old, const void *old_mem);


/*
 * The hot path: add n to a counter (or a histogram's bucket, see
 * observe), set a gauge, in the given worker slot.  Label indexes out of
 * range, a slot out of range or a family of another type are ignored.
 * Families with one label take l1 = 0, without labels l0 = l1 = 0.
 * Relaxed atomics: a reader sees each cell whole, not a snapshot.
 */
void xf_metrics_add(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t n);
void xf_metrics_set(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, size_t l0, size_t l1, uint64_t v);
/* v in the family's base unit (microseconds, events). */
void xf_metrics_observe(const xf_metrics_t *m, void *mem, size_t slot,
    xf_metric_id_t id, uint64_t v);

/*
 * A counter's cell summed over every slot: what all workers (and the
 * workers of earlier configurations, whose counts the zone keeps) have
 * counted.  0 for anything out of range or not a counter.
 */
uint64_t xf_metrics_counter_sum(const xf_metrics_t *m, const void *mem,
    xf_metric_id_t id, size_t l0, size_t l1);

/* Label indexes of the static sets. */
size_t xf_metrics_code_index(unsigned status);
#define xf_metrics_status_index(st)  ((size_t) (st) - 1)

/*
 * The slot of a broker name in the shared table, claimed if new; when
 * the table is full, the slot of a broker no worker lists any more is
 * taken over.  Returns XF_METRICS_BROKERS_MAX when every slot's broker
 * is listed.  Two processes
 * claiming the same new name at once may get two slots; the renderer
 * merges slots of equal names.
 */
size_t xf_metrics_broker_index(const xf_metrics_t *m, void *mem,
    const u_char *name, size_t len);


/*
 * Append the Prometheus text exposition format (0.0.4) of every family
 * to out, which may start zeroed.  nworkers is the number of current
 * worker processes (gauges of slots at or above it are stale and not
 * shown); it is capped at the slot count.  Returns XF_OK or
 * XF_ERR_NOMEM (out keeps what was written; free out->p with a).
 */
xf_status_t xf_metrics_render(const xf_metrics_t *m, const void *mem,
    size_t nworkers, xf_buf_t *out, const xf_alloc_t *a);


/* What xflow reads from one librdkafka statistics report. */
typedef struct {
    u_char          name[XF_METRICS_NAME_MAX];
    size_t          name_len;
    unsigned        up;             /* state == "UP" */
    uint64_t        rtt_us;         /* rtt.avg */
    uint64_t        txretries;
} xf_kafka_broker_stats_t;

typedef struct {
    uint64_t                  msg_cnt;      /* messages librdkafka holds */
    uint64_t                  msg_size;     /* their bytes */
    uint64_t                  txretries;    /* sum over all brokers */
    uint64_t                  txbytes;      /* sum over all brokers */
    size_t                    nbrokers;     /* at most BROKERS_MAX */
    xf_kafka_broker_stats_t   brokers[XF_METRICS_BROKERS_MAX];
} xf_kafka_stats_t;

/*
 * Parse librdkafka's statistics JSON (statistics.interval.ms, stats_cb):
 * top-level msg_cnt and msg_size; for each brokers.* entry its name,
 * state, rtt.avg (microseconds), txretries and txbytes.  Entries whose
 * source is "internal" or "logical" are not brokers and are skipped;
 * brokers beyond XF_METRICS_BROKERS_MAX are counted in txretries and
 * txbytes only.  Missing numbers read as 0.  Returns XF_OK, or a JSON
 * error status when the document is not a valid JSON object.
 */
xf_status_t xf_metrics_kafka_stats_parse(const u_char *p, size_t len,
    xf_kafka_stats_t *st);

/* A producer's counters in its previous report (zeroed for a new one). */
typedef struct {
    uint64_t                  txretries;
    uint64_t                  txbytes;
} xf_kafka_stats_last_t;

/*
 * Write a parsed report into a worker slot: inflight messages and queue
 * bytes; broker up and rtt (brokers this report does not list are not
 * this worker's any more: its up cell holds 0 for "not listed", 1 for
 * "listed, down", 2 for "listed, up"; the renderer shows up as 0 or 1
 * and drops a broker no current worker lists); and the growth of
 * txretries and txbytes since *last (the previous report of the same
 * producer) added to xflow_kafka_retries_total and
 * xflow_kafka_tx_bytes_total.  *last is updated.
 */
void xf_metrics_kafka_stats_apply(const xf_metrics_t *m, void *mem,
    size_t slot, const xf_kafka_stats_t *st, xf_kafka_stats_last_t *last);

#endif /* XF_METRICS_H */
