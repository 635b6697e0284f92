/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl.h - rate limiting by GCRA (a token bucket in one word) over a
 * fixed-capacity table in caller-provided memory.
 *
 * The library is pure C: no nginx headers, no logging, no clock, no
 * allocation, no globals.  The caller passes the memory (nginx shared
 * memory, an mmap, malloc), the current time (a monotonic clock in
 * nanoseconds) and the hash of each limit key.  Any number of processes
 * and threads may call xrl_table_take() on one table at once: every
 * shared word is changed with an atomic operation, never under a lock.
 *
 * Typical use:
 *
 *     xrl_conf_t    conf = { capacity, 8, 50, 1000000000, 100,
 *                            XRL_FULL_ALLOW, seed };
 *     size_t        size = xrl_table_size_for(conf.capacity);
 *     xrl_table_t  *t;
 *     xrl_init_t    how;
 *
 *     xrl_table_init(mem, size, &conf, &t, &how);      once, one process
 *
 *     key.hash = xrl_table_hash(t, ip, ip_len);         per request
 *     key.text = ip; key.len = ip_len;
 *     xrl_table_take(t, &key, events, now_ns, 0, &d);
 *     if (!d.allowed) 429 with Retry-After from d.retry_after_ns
 *
 * rate_limit/README.md holds the algorithm with its integer math, the
 * memory layout and the concurrency argument.
 */

#ifndef XRL_H
#define XRL_H

#include <stddef.h>
#include <stdint.h>


#define XRL_VERSION          2

/* Bytes of key text kept per slot for reports (an IPv6 address fits). */
#define XRL_KEY_TEXT_MAX     47

/* Slots examined per key when the configuration says 0, and at most. */
#define XRL_PROBE_DEFAULT    8
#define XRL_PROBE_DENY_DEFAULT  64      /* full=deny */
#define XRL_PROBE_MAX        64

/* retry_after_ns of a cost the bucket can never hold (cost > burst). */
#define XRL_RETRY_NEVER      UINT64_MAX

/* Seconds of per-second decision counts a table keeps. */
#define XRL_RECENT_MAX       63

/* xrl_table_take() flags */
#define XRL_DRY_RUN          0x1    /* never deny; count would-be denials */


typedef enum {
    XRL_OK = 0,
    XRL_ERR_NULL,               /* a required pointer is NULL */
    XRL_ERR_RATE,               /* rate, period or burst is 0 */
    XRL_ERR_RANGE,              /* burst x interval or rate too large */
    XRL_ERR_CAPACITY,           /* capacity 0 or too large */
    XRL_ERR_PROBE,              /* probe over XRL_PROBE_MAX */
    XRL_ERR_FULL_ACTION,        /* on_full is not an xrl_full_action_t */
    XRL_ERR_ALIGN,              /* memory not 8-byte aligned */
    XRL_ERR_SIZE,               /* memory smaller than size_for(capacity) */
    XRL_STATUS_MAX
} xrl_status_t;

/* A stable snake_case code for a status ("size", ...).  Never NULL. */
const char *xrl_strerror(xrl_status_t s);


/* What a decision was; also the index of the per-result counters. */
typedef enum {
    XRL_PASSED = 0,             /* admitted, cost taken from the bucket */
    XRL_REJECTED,               /* denied */
    XRL_REJECTED_DRY_RUN,       /* would be denied; let through, nothing
                                   taken (XRL_DRY_RUN) */
    XRL_TABLE_FULL,             /* no slot for the key; the answer is the
                                   table's on_full action */
    XRL_RESULT_MAX
} xrl_result_t;

/* Stable snake_case name of a result ("passed", ...), for metric labels. */
const char *xrl_result_name(xrl_result_t r);


typedef enum {
    XRL_FULL_ALLOW = 0,         /* fail open: let the request through */
    XRL_FULL_DENY               /* fail closed: deny it */
} xrl_full_action_t;


/*
 * A table's configuration.  rate events per period_ns, up to burst at
 * once: 600 per minute with a burst of 50 is { 600, 60000000000, 50 }.
 * The emission interval period_ns / rate need not be a whole number of
 * nanoseconds: the arithmetic is exact (README.md).
 */
typedef struct {
    uint64_t            capacity;   /* slots, i.e. keys tracked at once */
    uint32_t            probe;      /* slots examined per key, 0: default */
    uint64_t            rate;       /* events per period, >= 1 */
    uint64_t            period_ns;  /* >= 1 */
    uint64_t            burst;      /* bucket size in events, >= 1 */
    xrl_full_action_t   on_full;    /* answer when the key finds no slot */
    uint64_t            seed;       /* SipHash key of a fresh table, */
    uint64_t            seed_hi;    /* 128 random bits */
} xrl_conf_t;

typedef struct xrl_table_s  xrl_table_t;

typedef enum {
    XRL_INIT_FRESH = 0,         /* the memory was (re)initialised */
    XRL_INIT_REUSED             /* a compatible table was there: kept */
} xrl_init_t;


/* Bytes a table of capacity slots needs (a multiple of 64). 0: too big. */
size_t xrl_table_size_for(uint64_t capacity);

/* The largest capacity whose table fits in size bytes (0: none). */
uint64_t xrl_table_capacity_for(size_t size);

/* Check a configuration without touching memory (for config parsing). */
xrl_status_t xrl_conf_check(const xrl_conf_t *conf);

/*
 * Make mem (size bytes, 8-byte aligned, zeroed or holding an earlier
 * table) a table for conf, and set *table to it.
 *
 * A table already there with the same layout version, capacity and time
 * scale (rate / period reduced to lowest terms) is kept with its keys and
 * counters: *how is XRL_INIT_REUSED, and burst, probe and on_full are
 * updated in place.  Anything else, zeroed memory included, is
 * initialised: *how is XRL_INIT_FRESH.  The hash seed of a reused table
 * is the old one: always hash with xrl_table_hash().
 *
 * Call it from one process while no other initialises the same memory.
 * Other processes may go on using a reused table meanwhile; a table
 * re-initialised under them only loses its state.
 */
xrl_status_t xrl_table_init(void *mem, size_t size, const xrl_conf_t *conf,
    xrl_table_t **table, xrl_init_t *how);


/*
 * SipHash-2-4 fed in pieces: any split of an input gives the hash of the
 * whole.  The state is the caller's (a stack variable).
 */
typedef struct {
    uint64_t        v[4];
    uint64_t        tail;           /* the bytes of an unfinished word */
    size_t          len;            /* bytes fed so far */
    int             wide;
} xrl_sip_t;

/* Start a hash under the key k0, k1; wide picks the 128-bit variant. */
void xrl_sip_init(xrl_sip_t *s, uint64_t k0, uint64_t k1, int wide);

/* Feed p[0..len) (any alignment) to the hash. */
void xrl_sip_update(xrl_sip_t *s, const void *p, size_t len);

/*
 * Finish the hash: its first 64 bits (the reference's output read
 * little-endian); a wide hash writes the next 64 to *hi when hi is not
 * NULL.  The state is then spent.
 */
uint64_t xrl_sip_final(xrl_sip_t *s, uint64_t *hi);

/* SipHash-2-4 of len bytes at p (any alignment) under the key k0, k1. */
uint64_t xrl_siphash24(const void *p, size_t len, uint64_t k0, uint64_t k1);

/* xrl_siphash24() under the key (seed, 0). */
uint64_t xrl_hash_seeded(const void *p, size_t len, uint64_t seed);

/* xrl_siphash24() under the key (0, 0). */
uint64_t xrl_hash(const void *p, size_t len);

/*
 * xrl_siphash24() under the table's 128-bit key (seed, seed_hi): the hash
 * to look keys up by.
 */
uint64_t xrl_table_hash(const xrl_table_t *t, const void *p, size_t len);


/* A limit key: its hash and, for reports, its text (may be NULL). */
typedef struct {
    uint64_t        hash;
    const void     *text;       /* stored truncated to XRL_KEY_TEXT_MAX */
    size_t          len;
} xrl_key_t;

/*
 * The answer to one request.  Times are nanoseconds from now, rounded
 * up; in headers, round them up to whole seconds.
 */
typedef struct {
    xrl_result_t    result;
    unsigned        allowed;        /* 1: let the request through */
    uint64_t        remaining;      /* events of cost 1 admissible now,
                                       after this decision */
    uint64_t        retry_after_ns; /* 0 when allowed; when the same cost
                                       would pass; XRL_RETRY_NEVER if
                                       cost > burst */
    uint64_t        reset_ns;       /* until the bucket is full again */
} xrl_decision_t;

/*
 * Decide whether key may spend cost events at now_ns, and if so take
 * them from its bucket.  now_ns is a monotonic clock; calls from
 * different processes may disagree by up to XRL_SKEW_NS without effect.
 *
 * cost 0 only looks: no slot is claimed, nothing is counted, and
 * d->remaining / d->reset_ns describe the key's bucket.
 * XRL_DRY_RUN in flags turns a denial into XRL_REJECTED_DRY_RUN with
 * allowed 1 and leaves the bucket as it was.
 *
 * The key's slot also counts the decision (see xrl_table_top()), and the
 * table counts it by result, in total and per second.  Returns
 * d->result.
 */
xrl_result_t xrl_table_take(xrl_table_t *t, const xrl_key_t *key,
    uint64_t cost, uint64_t now_ns, unsigned flags, xrl_decision_t *d);

/* How far the clocks of processes sharing a table may disagree. */
#define XRL_SKEW_NS  1000000000ULL


/* Decisions and slot use since the table was initialised. */
typedef struct {
    uint64_t        results[XRL_RESULT_MAX];
    uint64_t        claimed;        /* slots taken by a key */
    uint64_t        evicted;        /* of those, from another, idle key */
} xrl_stats_t;

/* Copy the table's counters into *st. */
void xrl_table_stats(const xrl_table_t *t, xrl_stats_t *st);

/*
 * Decisions by result in the last window_s seconds (at most
 * XRL_RECENT_MAX): the current second, counted so far, and the
 * window_s - 1 seconds before it.  Seconds are now_ns / 10^9.
 */
void xrl_table_recent(const xrl_table_t *t, uint64_t now_ns,
    unsigned window_s, uint64_t results[XRL_RESULT_MAX]);

/* How the slots are used now: an O(capacity) scan. */
typedef struct {
    uint64_t        capacity;
    uint64_t        used;           /* slots holding a key */
    uint64_t        active;         /* of those, with a bucket not full */
    uint64_t        busy;           /* being claimed (or lost: README.md) */
} xrl_usage_t;

/* Scan the slots at now_ns into *u. */
void xrl_table_usage(const xrl_table_t *t, uint64_t now_ns,
    xrl_usage_t *u);

/* One key in a report. */
typedef struct {
    uint64_t        hash;           /* low 63 bits of the key's hash */
    uint64_t        passed;         /* decisions since the slot was claimed */
    uint64_t        rejected;
    uint64_t        rejected_dry_run;
    uint64_t        remaining;      /* as xrl_decision_t, now */
    uint64_t        reset_ns;
    uint64_t        claimed_ns;     /* now_ns of the claim */
    size_t          text_len;
    char            text[XRL_KEY_TEXT_MAX + 1];  /* NUL-terminated; may
                                                    hold any byte */
} xrl_key_report_t;

/*
 * The n keys with the most denials (rejected + rejected_dry_run; keys
 * without any are left out), most first, into out[0..n).  Returns how
 * many were written.  An O(capacity log n) scan that takes no lock: a key
 * claimed or evicted during the scan may be missed.
 */
size_t xrl_table_top(const xrl_table_t *t, uint64_t now_ns,
    xrl_key_report_t *out, size_t n);


/*
 * GCRA on one state word, without a table: what xrl_table_take() does
 * inside a slot, for callers that keep the word themselves and for
 * tests.  The state's first value is any idle state, e.g. the result of
 * xrl_gcra_idle(g, now_ns).
 */
typedef struct {
    uint64_t        rate;           /* as configured */
    uint64_t        period_ns;
    uint64_t        burst;
    uint64_t        tick;           /* ticks per ns: rate / gcd */
    uint64_t        interval;       /* emission interval in ticks:
                                       period_ns / gcd */
    uint64_t        horizon;        /* burst * interval */
    uint64_t        limit;          /* horizon + XRL_SKEW_NS * tick */
} xrl_gcra_t;

/*
 * Set g up for rate per period_ns with a burst.  XRL_OK; XRL_ERR_NULL,
 * XRL_ERR_RATE (a zero), XRL_ERR_RANGE (the ticks would overflow).
 */
xrl_status_t xrl_gcra_init(xrl_gcra_t *g, uint64_t rate, uint64_t period_ns,
    uint64_t burst);

/* A state meaning "bucket full" at now_ns (and until much later). */
uint64_t xrl_gcra_idle(const xrl_gcra_t *g, uint64_t now_ns);

/* 1 if the state holds a bucket that is not full at now_ns. */
int xrl_gcra_active(const xrl_gcra_t *g, uint64_t state, uint64_t now_ns);

/*
 * Decide cost at now_ns from *state; on XRL_PASSED with cost > 0, *state
 * becomes the new state.  Fills d (result XRL_PASSED or XRL_REJECTED;
 * allowed accordingly).
 */
xrl_result_t xrl_gcra_take(const xrl_gcra_t *g, uint64_t *state,
    uint64_t cost, uint64_t now_ns, xrl_decision_t *d);

#endif /* XRL_H */
