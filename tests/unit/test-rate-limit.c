/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-rate-limit.c - rate_limit/: exact GCRA decisions against a
 * simulated clock, no drift over 10^6 simulated seconds, the table
 * (claims, eviction, table full, reload, reports), the hash, and
 * processes hammering one shared mapping in real time.
 */

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "xrl.h"
#include "xrl_table.h"      /* white-box: busy slots */


#define MS       1000000ULL
#define SEC      1000000000ULL
#define MINUTE   (60 * SEC)

/* a clock that is far from 0, like a machine's monotonic clock */
#define BASE     (1000 * SEC)

__extension__ typedef unsigned __int128  u128_t;


/* A table in malloc'ed memory, freed by tbl_free(). */

typedef struct {
    void         *mem;
    size_t        size;
    xrl_table_t  *t;
} tbl_t;


static void
tbl_new(tbl_t *tb, uint64_t capacity, uint32_t probe, uint64_t rate,
    uint64_t period_ns, uint64_t burst, xrl_full_action_t on_full)
{
    xrl_conf_t  conf;
    xrl_init_t  how;

    memset(&conf, 0, sizeof(conf));
    conf.capacity = capacity;
    conf.probe = probe;
    conf.rate = rate;
    conf.period_ns = period_ns;
    conf.burst = burst;
    conf.on_full = on_full;
    conf.seed = 0x5eed;

    tb->size = xrl_table_size_for(capacity);
    ck_assert_uint_ne(tb->size, 0);

    tb->mem = calloc(1, tb->size);
    ck_assert_ptr_nonnull(tb->mem);

    ck_assert_int_eq(xrl_table_init(tb->mem, tb->size, &conf, &tb->t, &how),
                     XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_FRESH);
}


static void
tbl_free(tbl_t *tb)
{
    free(tb->mem);
}


static xrl_result_t
take(xrl_table_t *t, const char *name, uint64_t cost, uint64_t now,
    unsigned flags, xrl_decision_t *d)
{
    xrl_key_t  key;

    key.hash = xrl_table_hash(t, name, strlen(name));
    key.text = name;
    key.len = strlen(name);

    return xrl_table_take(t, &key, cost, now, flags, d);
}


/* Admitted events: b + floor(elapsed * rate / period), in 128 bits. */
static uint64_t
ideal(uint64_t burst, uint64_t elapsed_ns, uint64_t rate, uint64_t period)
{
    return burst + (uint64_t) ((u128_t) elapsed_ns * rate / period);
}


/* ------------------------------------------------------------- gcra */

START_TEST(test_gcra_init)
{
    xrl_gcra_t  g;

    ck_assert_int_eq(xrl_gcra_init(&g, 0, SEC, 1), XRL_ERR_RATE);
    ck_assert_int_eq(xrl_gcra_init(&g, 1, 0, 1), XRL_ERR_RATE);
    ck_assert_int_eq(xrl_gcra_init(&g, 1, SEC, 0), XRL_ERR_RATE);
    ck_assert_int_eq(xrl_gcra_init(NULL, 1, SEC, 1), XRL_ERR_NULL);

    /* burst x interval over 2^61 ticks */
    ck_assert_int_eq(xrl_gcra_init(&g, 1, 3600 * SEC, 1000000000),
                     XRL_ERR_RANGE);
    /* a rate so fine that one second of skew is over 2^61 ticks */
    ck_assert_int_eq(xrl_gcra_init(&g, 4000000001ULL, 3, 1),
                     XRL_ERR_RANGE);

    /* rates are reduced to lowest terms */

    ck_assert_int_eq(xrl_gcra_init(&g, 600, MINUTE, 50), XRL_OK);
    ck_assert_uint_eq(g.tick, 1);
    ck_assert_uint_eq(g.interval, 100 * MS);
    ck_assert_uint_eq(g.horizon, 50 * 100 * MS);

    ck_assert_int_eq(xrl_gcra_init(&g, 7, MINUTE, 1), XRL_OK);
    ck_assert_uint_eq(g.tick, 7);
    ck_assert_uint_eq(g.interval, MINUTE);

    ck_assert_int_eq(xrl_gcra_init(&g, 20000, SEC, 1), XRL_OK);
    ck_assert_uint_eq(g.tick, 1);
    ck_assert_uint_eq(g.interval, 50000);
    ck_assert_uint_eq(g.limit, 50000 + SEC);
}
END_TEST


START_TEST(test_names)
{
    int  i;

    for (i = 0; i < XRL_STATUS_MAX; i++) {
        ck_assert_ptr_nonnull(xrl_strerror((xrl_status_t) i));
        ck_assert_str_ne(xrl_strerror((xrl_status_t) i), "unknown");
    }

    ck_assert_str_eq(xrl_strerror(XRL_OK), "ok");
    ck_assert_str_eq(xrl_strerror(XRL_STATUS_MAX), "unknown");
    ck_assert_str_eq(xrl_result_name(XRL_PASSED), "passed");
    ck_assert_str_eq(xrl_result_name(XRL_REJECTED), "rejected");
    ck_assert_str_eq(xrl_result_name(XRL_REJECTED_DRY_RUN),
                     "rejected_dry_run");
    ck_assert_str_eq(xrl_result_name(XRL_TABLE_FULL), "table_full");
    ck_assert_str_eq(xrl_result_name(XRL_RESULT_MAX), "unknown");
}
END_TEST


/*
 * One key, 50 per second (T = 20 ms), burst 5: each step is a request at
 * BASE + at, and the whole answer expected.
 */

typedef struct {
    uint64_t    at;
    uint64_t    cost;
    unsigned    allowed;
    uint64_t    remaining;
    uint64_t    retry_after;
    uint64_t    reset;
} step_t;

static const step_t  steps_50s[] = {
    {    0 * MS, 1, 1, 4, 0,      20 * MS },
    {    0 * MS, 1, 1, 3, 0,      40 * MS },
    {    0 * MS, 3, 1, 0, 0,     100 * MS },
    {    0 * MS, 1, 0, 0, 20 * MS, 100 * MS },
    {   10 * MS, 1, 0, 0, 10 * MS,  90 * MS },
    {   20 * MS, 1, 1, 0, 0,     100 * MS },     /* debt 80 + 20 */
    {   60 * MS, 2, 1, 0, 0,     100 * MS },
    {  100 * MS, 5, 0, 2, 60 * MS,  60 * MS },
    {  160 * MS, 5, 1, 0, 0,     100 * MS },
    { 1000 * MS, 6, 0, 5, XRL_RETRY_NEVER, 0 },  /* cost > burst */
    { 1000 * MS, 0, 1, 5, 0,       0 },          /* cost 0 looks */
    { 1000 * MS, 5, 1, 0, 0,     100 * MS },
    { 1019 * MS, 1, 0, 0, 1 * MS,   81 * MS },
    { 1020 * MS - 1, 1, 0, 0, 1,    80 * MS + 1 },
    { 1020 * MS, 1, 1, 0, 0,     100 * MS },
};


static void
check_steps(int backend, const step_t *steps, size_t n, uint64_t rate,
    uint64_t period, uint64_t burst)
{
    size_t          i;
    uint64_t        state;
    xrl_gcra_t      g;
    xrl_decision_t  d;
    xrl_result_t    r;
    tbl_t           tb;

    ck_assert_int_eq(xrl_gcra_init(&g, rate, period, burst), XRL_OK);
    state = xrl_gcra_idle(&g, BASE);

    if (backend == 1) {
        tbl_new(&tb, 16, 4, rate, period, burst, XRL_FULL_DENY);
    }

    for (i = 0; i < n; i++) {
        memset(&d, 0xaa, sizeof(d));

        if (backend == 0) {
            r = xrl_gcra_take(&g, &state, steps[i].cost, BASE + steps[i].at,
                              &d);
        } else {
            r = take(tb.t, "10.0.0.1", steps[i].cost, BASE + steps[i].at, 0,
                     &d);
        }

        ck_assert_msg(d.allowed == steps[i].allowed,
                      "step %zu: allowed %u, expected %u", i, d.allowed,
                      steps[i].allowed);
        ck_assert_int_eq(r, d.result);
        ck_assert_int_eq(r, steps[i].allowed ? XRL_PASSED : XRL_REJECTED);
        ck_assert_uint_eq(d.remaining, steps[i].remaining);
        ck_assert_uint_eq(d.retry_after_ns, steps[i].retry_after);
        ck_assert_uint_eq(d.reset_ns, steps[i].reset);
    }

    if (backend == 1) {
        tbl_free(&tb);
    }
}


/* _i: 0 the bare state word, 1 the same through a table */
START_TEST(test_decisions_50s)
{
    check_steps(_i, steps_50s, sizeof(steps_50s) / sizeof(steps_50s[0]),
                50, SEC, 5);
}
END_TEST


/*
 * 3 per second, burst 2: T = 333333333.33 ns is no whole number of ns.
 * A client that comes 1 ns too early is told to wait 1 ns, and the
 * fraction it arrives late by is not lost while the bucket is not full.
 */
static const step_t  steps_3s[] = {
    {          0, 2, 1, 0, 0, 666666667 },
    {  333333333, 1, 0, 0, 1, 333333334 },
    {  333333334, 1, 1, 0, 0, 666666666 },
    {  666666666, 1, 0, 0, 1, 333333334 },
    {  666666667, 1, 1, 0, 0, 666666667 },
    {  999999999, 1, 0, 0, 1, 333333335 },
    { 1000000000, 1, 1, 0, 0, 666666667 },  /* 3 T = 1 s exactly */
};


START_TEST(test_decisions_fractional)
{
    check_steps(_i, steps_3s, sizeof(steps_3s) / sizeof(steps_3s[0]),
                3, SEC, 2);
}
END_TEST


START_TEST(test_burst)
{
    int             i;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 64, 8, 10, SEC, 7, XRL_FULL_DENY);

    for (i = 0; i < 7; i++) {
        ck_assert_int_eq(take(tb.t, "a", 1, BASE, 0, &d), XRL_PASSED);
        ck_assert_uint_eq(d.remaining, (uint64_t) (6 - i));
    }

    ck_assert_int_eq(take(tb.t, "a", 1, BASE, 0, &d), XRL_REJECTED);
    ck_assert_uint_eq(d.retry_after_ns, 100 * MS);
    ck_assert_uint_eq(d.reset_ns, 700 * MS);

    /* another key has its own bucket */
    ck_assert_int_eq(take(tb.t, "b", 7, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "b", 1, BASE, 0, &d), XRL_REJECTED);

    /* one interval later, one more */
    ck_assert_int_eq(take(tb.t, "a", 1, BASE + 100 * MS, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "a", 1, BASE + 100 * MS, 0, &d),
                     XRL_REJECTED);

    /* long idle: the bucket is full again, never more */
    ck_assert_int_eq(take(tb.t, "a", 0, BASE + 3600 * SEC, 0, &d),
                     XRL_PASSED);
    ck_assert_uint_eq(d.remaining, 7);
    ck_assert_uint_eq(d.reset_ns, 0);

    tbl_free(&tb);
}
END_TEST


START_TEST(test_cost_batch)
{
    xrl_decision_t  d;
    tbl_t           tb;

    /* 20000 per second, burst 100: a batch of 50 events costs 50 */

    tbl_new(&tb, 64, 8, 20000, SEC, 100, XRL_FULL_DENY);

    ck_assert_int_eq(take(tb.t, "app", 50, BASE, 0, &d), XRL_PASSED);
    ck_assert_uint_eq(d.remaining, 50);
    ck_assert_int_eq(take(tb.t, "app", 50, BASE, 0, &d), XRL_PASSED);
    ck_assert_uint_eq(d.remaining, 0);
    ck_assert_uint_eq(d.reset_ns, 5 * MS);

    ck_assert_int_eq(take(tb.t, "app", 50, BASE, 0, &d), XRL_REJECTED);
    ck_assert_uint_eq(d.retry_after_ns, 2500000);

    ck_assert_int_eq(take(tb.t, "app", 50, BASE + 2499999, 0, &d),
                     XRL_REJECTED);
    ck_assert_uint_eq(d.retry_after_ns, 1);
    ck_assert_int_eq(take(tb.t, "app", 1, BASE + 2499999, 0, &d),
                     XRL_PASSED);

    /* the event taken just now pushes the batch back by one interval */
    ck_assert_int_eq(take(tb.t, "app", 50, BASE + 2500000, 0, &d),
                     XRL_REJECTED);
    ck_assert_uint_eq(d.retry_after_ns, 50000);
    ck_assert_int_eq(take(tb.t, "app", 50, BASE + 2549999, 0, &d),
                     XRL_REJECTED);
    ck_assert_int_eq(take(tb.t, "app", 50, BASE + 2550000, 0, &d),
                     XRL_PASSED);

    tbl_free(&tb);
}
END_TEST


START_TEST(test_cost_over_burst)
{
    int               i;
    xrl_stats_t       st;
    xrl_decision_t    d;
    xrl_key_report_t  top[4];
    tbl_t             tb;

    tbl_new(&tb, 64, 8, 100, SEC, 10, XRL_FULL_DENY);

    /* never admissible, however long the key waits */

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(take(tb.t, "batch", 11, BASE + i * 3600 * SEC, 0,
                              &d), XRL_REJECTED);
        ck_assert_uint_eq(d.allowed, 0);
        ck_assert_uint_eq(d.retry_after_ns, XRL_RETRY_NEVER);
        ck_assert_uint_eq(d.remaining, 10);
    }

    /* and it takes nothing from the bucket */
    ck_assert_int_eq(take(tb.t, "batch", 10, BASE + 4 * 3600 * SEC, 0, &d),
                     XRL_PASSED);

    ck_assert_int_eq(take(tb.t, "batch", 11, BASE + 5 * 3600 * SEC,
                          XRL_DRY_RUN, &d), XRL_REJECTED_DRY_RUN);
    ck_assert_uint_eq(d.allowed, 1);
    ck_assert_uint_eq(d.retry_after_ns, XRL_RETRY_NEVER);

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.results[XRL_REJECTED], 5);
    ck_assert_uint_eq(st.results[XRL_REJECTED_DRY_RUN], 1);
    ck_assert_uint_eq(st.results[XRL_PASSED], 1);

    ck_assert_uint_eq(xrl_table_top(tb.t, BASE, top, 4), 1);
    ck_assert_str_eq(top[0].text, "batch");
    ck_assert_uint_eq(top[0].rejected, 5);
    ck_assert_uint_eq(top[0].rejected_dry_run, 1);
    ck_assert_uint_eq(top[0].passed, 1);

    tbl_free(&tb);
}
END_TEST


START_TEST(test_dry_run)
{
    int             i;
    xrl_stats_t     st;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 64, 8, 1, SEC, 2, XRL_FULL_DENY);

    ck_assert_int_eq(take(tb.t, "k", 2, BASE, XRL_DRY_RUN, &d), XRL_PASSED);

    /* would-be denials pass and leave the bucket as it is */

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(take(tb.t, "k", 1, BASE, XRL_DRY_RUN, &d),
                         XRL_REJECTED_DRY_RUN);
        ck_assert_uint_eq(d.allowed, 1);
        ck_assert_uint_eq(d.retry_after_ns, SEC);
    }

    ck_assert_int_eq(take(tb.t, "k", 1, BASE + SEC, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "k", 1, BASE + SEC, 0, &d), XRL_REJECTED);
    ck_assert_uint_eq(d.allowed, 0);

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.results[XRL_PASSED], 2);
    ck_assert_uint_eq(st.results[XRL_REJECTED], 1);
    ck_assert_uint_eq(st.results[XRL_REJECTED_DRY_RUN], 3);
    ck_assert_uint_eq(st.results[XRL_TABLE_FULL], 0);

    tbl_free(&tb);
}
END_TEST


/*
 * No drift: a client that wakes at irregular times, at most (burst - 1)
 * intervals apart so that its bucket is never full and loses nothing,
 * and takes all it may each time, has had exactly
 * burst + floor(elapsed * rate / period) events after 10^6 simulated
 * seconds, at rates whose interval is no whole number of ns.
 */

typedef struct {
    uint64_t    rate;
    uint64_t    period;
    uint64_t    burst;
    uint64_t    max_wake;       /* <= (burst - 1) * period / rate */
} drift_t;

static const drift_t  drifts[] = {
    { 7, MINUTE, 3, 9970 * MS },
    { 13, 17 * SEC, 9, 9970 * MS },
    { 3, SEC, 31, 9970 * MS },
    { 600, MINUTE, 101, 9970 * MS },
    { 20000, SEC, 200000, 9970 * MS },
    { 1000003, 7 * SEC, 1425000, 9970 * MS },
    { 999983, SEC, 10000000, 9970 * MS },
};

#define DRIFT_N     (sizeof(drifts) / sizeof(drifts[0]))
#define DRIFT_SPAN  (1000000 * SEC)


/* _i: drifts[_i % DRIFT_N], on the state word (< DRIFT_N) or a table */
START_TEST(test_no_drift)
{
    int             table;
    uint64_t        now, start, admitted, state, i, step, n, bad;
    xrl_gcra_t      g;
    xrl_decision_t  d;
    const drift_t  *p;
    tbl_t           tb;

    p = &drifts[_i % DRIFT_N];
    table = _i >= (int) DRIFT_N;

    ck_assert_int_eq(xrl_gcra_init(&g, p->rate, p->period, p->burst),
                     XRL_OK);
    ck_assert_uint_le(p->max_wake * p->rate, (p->burst - 1) * p->period);

    if (table) {
        tbl_new(&tb, 16, 4, p->rate, p->period, p->burst, XRL_FULL_DENY);
    }

    start = BASE + 123456789;
    state = xrl_gcra_idle(&g, start);
    admitted = 0;
    now = start;
    step = 0;
    bad = 0;

    for (i = 0; now - start <= DRIFT_SPAN; i++) {

        /* look, then take all there is */

        if (table) {
            take(tb.t, "drift", 0, now, 0, &d);
        } else {
            xrl_gcra_take(&g, &state, 0, now, &d);
        }

        n = d.remaining;

        /* no ck_assert in the loop: each one writes to check's pipe */

        if (n != 0) {
            if ((table ? take(tb.t, "drift", n, now, 0, &d)
                       : xrl_gcra_take(&g, &state, n, now, &d)) != XRL_PASSED
                || d.remaining != 0)
            {
                bad++;
            }

            admitted += n;
        }

        /* irregular steps, 5 to 10 s: odd ms and odd ns */
        step = p->max_wake - (i * 7919 % 500) * 10 * MS - i % 13;
        now += step;
    }

    now -= step;

    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(admitted,
                      ideal(p->burst, now - start, p->rate, p->period));

    if (table) {
        tbl_free(&tb);
    }
}
END_TEST


/*
 * The same through retry_after: a client that comes back exactly when
 * told (rounded up to whole ns) keeps the exact pace for 10^6 s.
 */
START_TEST(test_no_drift_retry)
{
    uint64_t        now, start, admitted, state, rate, period;
    xrl_gcra_t      g;
    xrl_decision_t  d;

    rate = _i == 0 ? 7 : 13;
    period = _i == 0 ? MINUTE : 17 * SEC;

    ck_assert_int_eq(xrl_gcra_init(&g, rate, period, 2), XRL_OK);

    start = BASE + 1;
    state = xrl_gcra_idle(&g, start);
    admitted = 0;
    now = start;

    for ( ;; ) {
        if (xrl_gcra_take(&g, &state, 1, now, &d) == XRL_PASSED) {
            admitted++;
            continue;
        }

        if (d.retry_after_ns == 0) {
            break;
        }

        if (now + d.retry_after_ns - start > DRIFT_SPAN) {
            break;
        }

        now += d.retry_after_ns;
    }

    /* every admission came at the earliest ns it could */
    ck_assert_uint_gt(d.retry_after_ns, 0);
    ck_assert_uint_eq(admitted, ideal(2, DRIFT_SPAN, rate, period));
}
END_TEST


/* The tick clock wraps (now * tick passes 2^64): nothing changes. */
START_TEST(test_tick_wrap)
{
    uint64_t        now, start, admitted, state;
    xrl_gcra_t      g;
    xrl_decision_t  d;

    ck_assert_int_eq(xrl_gcra_init(&g, 7, MINUTE, 2), XRL_OK);

    start = UINT64_MAX / 7 - 30 * SEC;
    state = xrl_gcra_idle(&g, start);
    admitted = 0;

    for (now = start; now < start + 20 * MINUTE; now += 333 * MS) {
        while (xrl_gcra_take(&g, &state, 1, now, &d) == XRL_PASSED) {
            admitted++;
        }
    }

    now -= 333 * MS;
    ck_assert_uint_eq(admitted, ideal(2, now - start, 7, MINUTE));
}
END_TEST


/*
 * State and now only meet through their difference modulo 2^64 ticks.
 * An idle key is idle for 2^63 ticks and beyond, except when its idle
 * time comes within `limit` ticks of a multiple of 2^64: then it reads
 * as a bucket not quite full, once, for at most limit ticks.
 */
START_TEST(test_tick_alias)
{
    uint64_t        state, t1, alias;
    xrl_gcra_t      g;
    xrl_decision_t  d;

    ck_assert_int_eq(xrl_gcra_init(&g, 7, MINUTE, 2), XRL_OK);

    t1 = 5 * SEC;
    state = xrl_gcra_idle(&g, t1);
    ck_assert_int_eq(xrl_gcra_take(&g, &state, 2, t1, &d), XRL_PASSED);

    /* 2^63 ticks and more later: idle */
    ck_assert_int_eq(xrl_gcra_active(&g, state, t1 + (1ULL << 63) / 7 + 1),
                     0);
    ck_assert_int_eq(xrl_gcra_active(&g, state, t1 + (3ULL << 62) / 7), 0);

    /* 2^64 - 2 ticks later (2^64 is no multiple of 7): read as active */
    alias = t1 + UINT64_MAX / 7;
    ck_assert_int_eq(xrl_gcra_active(&g, state, alias), 1);
    ck_assert_int_eq(xrl_gcra_take(&g, &state, 1, alias, &d), XRL_REJECTED);
    ck_assert_uint_le(d.retry_after_ns, g.limit / 7 + 1);

    /* and idle again once past the limit */
    ck_assert_int_eq(xrl_gcra_active(&g, state, alias + g.limit / 7 + 1), 0);
}
END_TEST


/*
 * Processes' clocks may lag each other: a lagging caller sees a larger
 * debt and decides stricter, up to XRL_SKEW_NS.  A caller lagging by
 * more reads the state as idle.
 */
START_TEST(test_skew)
{
    uint64_t        state, s;
    xrl_gcra_t      g;
    xrl_decision_t  d;

    ck_assert_int_eq(xrl_gcra_init(&g, 10, SEC, 5), XRL_OK);

    state = xrl_gcra_idle(&g, BASE);
    ck_assert_int_eq(xrl_gcra_take(&g, &state, 5, BASE, &d), XRL_PASSED);

    s = state;
    ck_assert_int_eq(xrl_gcra_take(&g, &s, 1, BASE - 900 * MS, &d),
                     XRL_REJECTED);
    ck_assert_uint_eq(d.retry_after_ns, 1000 * MS);
    ck_assert_uint_eq(d.remaining, 0);
    ck_assert_uint_eq(s, state);

    s = state;
    ck_assert_int_eq(xrl_gcra_take(&g, &s, 1, BASE - 2 * SEC, &d),
                     XRL_PASSED);
}
END_TEST


/* ------------------------------------------------------------- table */

START_TEST(test_sizes)
{
    uint64_t  c;
    size_t    s;

    ck_assert_uint_eq(xrl_table_size_for(0), 0);
    ck_assert_uint_eq(xrl_table_size_for(UINT64_MAX), 0);
    ck_assert_uint_eq(xrl_table_capacity_for(0), 0);
    ck_assert_uint_eq(xrl_table_capacity_for(100), 0);

    for (c = 1; c < 3000; c += 7) {
        s = xrl_table_size_for(c);
        ck_assert_uint_eq(s % 64, 0);
        ck_assert_uint_eq(xrl_table_capacity_for(s), c);
        ck_assert_uint_eq(
            xrl_table_capacity_for(xrl_table_size_for(c + 1) - 1), c);
        ck_assert_uint_lt(xrl_table_capacity_for(s - 1), c);
    }

    /* 10 MiB of shared memory holds over 100000 keys */
    ck_assert_uint_gt(xrl_table_capacity_for(10 << 20), 100000);
}
END_TEST


START_TEST(test_init_errors)
{
    void          *mem;
    size_t         size;
    xrl_conf_t     conf;
    xrl_init_t     how;
    xrl_table_t   *t;

    memset(&conf, 0, sizeof(conf));
    conf.capacity = 16;
    conf.rate = 10;
    conf.period_ns = SEC;
    conf.burst = 1;

    size = xrl_table_size_for(16);
    mem = calloc(1, size + 8);
    ck_assert_ptr_nonnull(mem);

    ck_assert_int_eq(xrl_table_init(NULL, size, &conf, &t, &how),
                     XRL_ERR_NULL);
    ck_assert_int_eq(xrl_table_init(mem, size, NULL, &t, &how),
                     XRL_ERR_NULL);
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, NULL, &how),
                     XRL_ERR_NULL);
    ck_assert_int_eq(xrl_table_init(mem, size - 1, &conf, &t, &how),
                     XRL_ERR_SIZE);
    ck_assert_int_eq(xrl_table_init((char *) mem + 4, size, &conf, &t,
                                    &how), XRL_ERR_ALIGN);

    conf.probe = XRL_PROBE_MAX + 1;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how),
                     XRL_ERR_PROBE);
    conf.probe = 0;

    conf.on_full = (xrl_full_action_t) 7;
    ck_assert_int_eq(xrl_conf_check(&conf), XRL_ERR_FULL_ACTION);
    conf.on_full = XRL_FULL_DENY;

    conf.capacity = 0;
    ck_assert_int_eq(xrl_conf_check(&conf), XRL_ERR_CAPACITY);
    conf.capacity = 16;

    conf.burst = 0;
    ck_assert_int_eq(xrl_conf_check(&conf), XRL_ERR_RATE);
    conf.burst = 1;

    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_ptr_eq(t, mem);

    free(mem);
}
END_TEST


/* capacity 4, probe 4, one event per hour: keys stay active all along */
START_TEST(test_table_full)
{
    int             i;
    char            name[16];
    xrl_stats_t     st;
    xrl_usage_t     u;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 4, 4, 1, 3600 * SEC, 1,
            _i == 0 ? XRL_FULL_ALLOW : XRL_FULL_DENY);

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "key%d", i);
        ck_assert_int_eq(take(tb.t, name, 1, BASE + i * SEC, 0, &d),
                         XRL_PASSED);
    }

    /* known keys still get their own answers */
    ck_assert_int_eq(take(tb.t, "key2", 1, BASE + 10 * SEC, 0, &d),
                     XRL_REJECTED);

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(take(tb.t, "newcomer", 1, BASE + 10 * SEC, 0, &d),
                         XRL_TABLE_FULL);
        ck_assert_uint_eq(d.allowed, _i == 0);
        ck_assert_uint_eq(d.remaining, 0);

        /* when the oldest slot frees: key0's bucket, 1 h after it */
        ck_assert_uint_eq(d.retry_after_ns, _i == 0 ? 0 : 3590 * SEC);
    }

    /* dry run never denies, even when full */
    ck_assert_int_eq(take(tb.t, "newcomer", 1, BASE + 10 * SEC, XRL_DRY_RUN,
                          &d), XRL_TABLE_FULL);
    ck_assert_uint_eq(d.allowed, 1);

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.results[XRL_TABLE_FULL], 4);
    ck_assert_uint_eq(st.results[XRL_PASSED], 4);
    ck_assert_uint_eq(st.results[XRL_REJECTED], 1);
    ck_assert_uint_eq(st.claimed, 4);
    ck_assert_uint_eq(st.evicted, 0);

    xrl_table_usage(tb.t, BASE + 10 * SEC, &u);
    ck_assert_uint_eq(u.capacity, 4);
    ck_assert_uint_eq(u.used, 4);
    ck_assert_uint_eq(u.active, 4);
    ck_assert_uint_eq(u.busy, 0);

    /* key0's bucket is full again at BASE + 3600 s: its slot is free */
    ck_assert_int_eq(take(tb.t, "newcomer", 1, BASE + 3600 * SEC, 0, &d),
                     XRL_PASSED);

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.claimed, 5);
    ck_assert_uint_eq(st.evicted, 1);

    tbl_free(&tb);
}
END_TEST


/*
 * full=deny with the default window: distinct active keys are all
 * admitted until the table is nearly full (with an 8-slot window the
 * first refusal came at about 43%).
 */
START_TEST(test_deny_occupancy)
{
    int             i, first;
    char            name[16];
    xrl_usage_t     u;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 4096, 0, 1, 3600 * SEC, 1, XRL_FULL_DENY);

    first = -1;

    for (i = 0; i < 8192; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        if (take(tb.t, name, 1, BASE, 0, &d) == XRL_TABLE_FULL
            && first == -1)
        {
            first = i;
        }
    }

    xrl_table_usage(tb.t, BASE, &u);
    fprintf(stderr, "full=deny: first refusal at %d, %llu of 4096 slots "
            "used after 8192 keys\n", first, (unsigned long long) u.used);
    ck_assert_int_ge(first, 4096 / 2);
    ck_assert_uint_ge(u.used, 4096 * 95 / 100);

    tbl_free(&tb);
}
END_TEST


/* A probe window smaller than the table: keys compete only within it. */
START_TEST(test_probe_window)
{
    int             i, full, passed;
    char            name[16];
    xrl_usage_t     u;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 64, 2, 1, 3600 * SEC, 1, XRL_FULL_DENY);

    full = 0;
    passed = 0;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        switch (take(tb.t, name, 1, BASE, 0, &d)) {
        case XRL_PASSED:
            passed++;
            break;
        case XRL_TABLE_FULL:
            full++;
            break;
        default:
            ck_abort_msg("unexpected result");
        }
    }

    xrl_table_usage(tb.t, BASE, &u);

    /* every slot taken once the windows fill, none twice */
    ck_assert_uint_eq(u.used, (uint64_t) passed);
    ck_assert_uint_eq(u.used, 64);
    ck_assert_int_eq(full, 1000 - 64);

    tbl_free(&tb);
}
END_TEST


START_TEST(test_eviction)
{
    int               i;
    char              name[16];
    xrl_stats_t       st;
    xrl_decision_t    d;
    xrl_key_report_t  top[8];
    tbl_t             tb;

    /* 1 per second, burst 2: a key idles 2 s after using its burst */

    tbl_new(&tb, 4, 4, 1, SEC, 2, XRL_FULL_DENY);

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "old%d", i);
        ck_assert_int_eq(take(tb.t, name, 2, BASE, 0, &d), XRL_PASSED);
        ck_assert_int_eq(take(tb.t, name, 1, BASE, 0, &d), XRL_REJECTED);
    }

    ck_assert_int_eq(take(tb.t, "new0", 1, BASE + 2 * SEC - 1, 0, &d),
                     XRL_TABLE_FULL);
    ck_assert_uint_eq(d.retry_after_ns, 1);

    /* at BASE + 2 s every bucket is full: new keys take the slots */

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "new%d", i);
        ck_assert_int_eq(take(tb.t, name, 1, BASE + 2 * SEC, 0, &d),
                         XRL_PASSED);
        ck_assert_uint_eq(d.remaining, 1);
    }

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.claimed, 8);
    ck_assert_uint_eq(st.evicted, 4);

    /* the slots are the new keys' now: text and counters start over */
    ck_assert_uint_eq(xrl_table_top(tb.t, BASE + 2 * SEC, top, 8), 0);

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "new%d", i);
        ck_assert_int_eq(take(tb.t, name, 2, BASE + 2 * SEC, 0, &d),
                         XRL_REJECTED);
    }

    ck_assert_uint_eq(xrl_table_top(tb.t, BASE + 2 * SEC, top, 8), 4);

    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(strncmp(top[i].text, "new", 3), 0);
        ck_assert_uint_eq(top[i].passed, 1);
        ck_assert_uint_eq(top[i].rejected, 1);
        ck_assert_uint_eq(top[i].remaining, 1);
    }

    /* an evicted key comes back with a full bucket, as if it had stayed */
    ck_assert_int_eq(take(tb.t, "old0", 2, BASE + 4 * SEC, 0, &d),
                     XRL_PASSED);

    tbl_free(&tb);
}
END_TEST


/* A slot is not evicted while its key has debt, even by one tick. */
START_TEST(test_no_eviction_while_active)
{
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 1, 1, 3, SEC, 1, XRL_FULL_DENY);

    ck_assert_int_eq(take(tb.t, "a", 1, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "b", 1, BASE + 333333333, 0, &d),
                     XRL_TABLE_FULL);
    ck_assert_uint_eq(d.retry_after_ns, 1);
    ck_assert_int_eq(take(tb.t, "b", 1, BASE + 333333334, 0, &d),
                     XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "a", 1, BASE + 333333334, 0, &d),
                     XRL_TABLE_FULL);

    tbl_free(&tb);
}
END_TEST


START_TEST(test_reload)
{
    void            *mem, *junk;
    size_t           size;
    xrl_conf_t       conf;
    xrl_init_t       how;
    xrl_stats_t      st;
    xrl_table_t     *t;
    xrl_decision_t   d;
    uint64_t         seed;

    memset(&conf, 0, sizeof(conf));
    conf.capacity = 100;
    conf.rate = 600;
    conf.period_ns = MINUTE;
    conf.burst = 3;
    conf.seed = 42;

    size = xrl_table_size_for(200);
    mem = calloc(1, size);
    ck_assert_ptr_nonnull(mem);

    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_FRESH);
    seed = xrl_table_hash(t, "x", 1);

    ck_assert_int_eq(take(t, "x", 3, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(t, "x", 1, BASE, 0, &d), XRL_REJECTED);

    /* same configuration: everything kept */

    conf.seed = 43;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_REUSED);
    ck_assert_uint_eq(xrl_table_hash(t, "x", 1), seed);
    ck_assert_int_eq(take(t, "x", 1, BASE, 0, &d), XRL_REJECTED);

    xrl_table_stats(t, &st);
    ck_assert_uint_eq(st.results[XRL_PASSED], 1);
    ck_assert_uint_eq(st.results[XRL_REJECTED], 2);

    /* 10 per second is 600 per minute in the same ticks; burst 5 applies */

    conf.rate = 10;
    conf.period_ns = SEC;
    conf.burst = 5;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_REUSED);
    ck_assert_int_eq(take(t, "x", 2, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(t, "x", 1, BASE, 0, &d), XRL_REJECTED);

    /* another on_full and probe: kept too */

    conf.on_full = XRL_FULL_DENY;
    conf.probe = 16;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_REUSED);
    ck_assert_int_eq(take(t, "x", 1, BASE, 0, &d), XRL_REJECTED);

    /* another time scale: the states would mean something else */

    conf.rate = 11;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_FRESH);
    ck_assert_uint_ne(xrl_table_hash(t, "x", 1), seed);
    ck_assert_int_eq(take(t, "x", 5, BASE, 0, &d), XRL_PASSED);
    xrl_table_stats(t, &st);
    ck_assert_uint_eq(st.results[XRL_REJECTED], 0);

    /* another capacity in the same memory */

    conf.capacity = 200;
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_FRESH);
    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_REUSED);

    /* memory holding anything else */

    junk = malloc(size);
    ck_assert_ptr_nonnull(junk);
    memset(junk, 0x5a, size);
    ck_assert_int_eq(xrl_table_init(junk, size, &conf, &t, &how), XRL_OK);
    ck_assert_int_eq(how, XRL_INIT_FRESH);
    ck_assert_int_eq(take(t, "x", 5, BASE, 0, &d), XRL_PASSED);

    free(junk);
    free(mem);
}
END_TEST


START_TEST(test_key_text)
{
    int               i;
    char              longkey[100];
    xrl_key_t         key;
    xrl_decision_t    d;
    xrl_key_report_t  top[4];
    tbl_t             tb;

    tbl_new(&tb, 16, 8, 1, SEC, 1, XRL_FULL_DENY);

    memset(longkey, 'q', sizeof(longkey));
    longkey[10] = '\0';             /* any byte, NUL included */

    key.hash = xrl_table_hash(tb.t, longkey, sizeof(longkey));
    key.text = longkey;
    key.len = sizeof(longkey);

    for (i = 0; i < 3; i++) {
        xrl_table_take(tb.t, &key, 1, BASE, 0, &d);
    }

    key.hash = 12345;
    key.text = NULL;
    key.len = 99;
    xrl_table_take(tb.t, &key, 1, BASE, 0, &d);
    xrl_table_take(tb.t, &key, 1, BASE, 0, &d);

    take(tb.t, "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255", 1, BASE, 0,
         &d);
    take(tb.t, "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255", 1, BASE, 0,
         &d);

    ck_assert_uint_eq(xrl_table_top(tb.t, BASE, top, 4), 3);

    ck_assert_uint_eq(top[0].rejected, 2);
    ck_assert_uint_eq(top[0].text_len, XRL_KEY_TEXT_MAX);
    ck_assert_mem_eq(top[0].text, longkey, XRL_KEY_TEXT_MAX);
    ck_assert_int_eq(top[0].text[XRL_KEY_TEXT_MAX], '\0');

    /* equal denials: larger hash last; 12345 is the smaller one */
    ck_assert_uint_eq(top[1].hash, 12345);
    ck_assert_uint_eq(top[1].text_len, 0);
    ck_assert_str_eq(top[1].text, "");
    ck_assert_str_eq(top[2].text,
                     "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255");

    tbl_free(&tb);
}
END_TEST


START_TEST(test_top)
{
    int               i, j;
    char              name[16];
    xrl_decision_t    d;
    xrl_key_report_t  top[40];
    tbl_t             tb;

    tbl_new(&tb, 256, 8, 1, 3600 * SEC, 1, XRL_FULL_DENY);

    /* key i is denied i times; key 0 never */

    for (i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "k%02d", i);
        for (j = 0; j <= i; j++) {
            take(tb.t, name, 1, BASE, (i % 2) ? XRL_DRY_RUN : 0, &d);
        }
    }

    ck_assert_uint_eq(xrl_table_top(tb.t, BASE, top, 0), 0);
    ck_assert_uint_eq(xrl_table_top(tb.t, BASE, top, 5), 5);

    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "k%02d", 29 - i);
        ck_assert_str_eq(top[i].text, name);
        ck_assert_uint_eq(top[i].rejected + top[i].rejected_dry_run,
                          (uint64_t) (29 - i));
        ck_assert_uint_eq(top[i].passed, 1);
        ck_assert_uint_eq(top[i].remaining, 0);
        ck_assert_uint_eq(top[i].reset_ns, 3600 * SEC);
        ck_assert_uint_eq(top[i].claimed_ns, BASE);
    }

    ck_assert_uint_eq(top[0].rejected_dry_run, 29);
    ck_assert_uint_eq(top[1].rejected, 28);

    ck_assert_uint_eq(xrl_table_top(tb.t, BASE, top, 40), 29);
    ck_assert_str_eq(top[28].text, "k01");

    tbl_free(&tb);
}
END_TEST


START_TEST(test_recent)
{
    int             i, j;
    uint64_t        res[XRL_RESULT_MAX], t0;
    xrl_stats_t     st;
    xrl_decision_t  d;
    tbl_t           tb;

    /* 1 per hour, burst 1: a key passes once, then is rejected */

    tbl_new(&tb, 1024, 8, 1, 3600 * SEC, 1, XRL_FULL_DENY);
    t0 = 100 * SEC;

    /* second 100 + i: one pass and i rejections, for 70 seconds */

    for (i = 0; i < 70; i++) {
        char  name[16];

        snprintf(name, sizeof(name), "s%d", i);
        for (j = 0; j <= i; j++) {
            take(tb.t, name, 1, t0 + i * SEC + j * MS, 0, &d);
        }
    }

    xrl_table_recent(tb.t, t0 + 69 * SEC + 999 * MS, 60, res);

    /* seconds 110..169: i = 10..69 */
    ck_assert_uint_eq(res[XRL_PASSED], 60);
    ck_assert_uint_eq(res[XRL_REJECTED], (10 + 69) * 60 / 2);
    ck_assert_uint_eq(res[XRL_REJECTED_DRY_RUN], 0);
    ck_assert_uint_eq(res[XRL_TABLE_FULL], 0);

    xrl_table_recent(tb.t, t0 + 69 * SEC, 1, res);
    ck_assert_uint_eq(res[XRL_REJECTED], 69);

    /* windows over 63 s are 63 s */
    xrl_table_recent(tb.t, t0 + 69 * SEC, 1000, res);
    ck_assert_uint_eq(res[XRL_PASSED], 63);

    /* 30 s later, half the window is empty */
    xrl_table_recent(tb.t, t0 + 99 * SEC, 60, res);
    ck_assert_uint_eq(res[XRL_PASSED], 30);

    /* 64 s later the ring's words are another cycle's: none counts */
    xrl_table_recent(tb.t, t0 + 69 * SEC + 64 * SEC, 60, res);
    ck_assert_uint_eq(res[XRL_PASSED], 0);

    /* a new second replaces the word of the second 64 s before it */
    take(tb.t, "late", 1, t0 + 69 * SEC + 64 * SEC, 0, &d);
    xrl_table_recent(tb.t, t0 + 69 * SEC + 64 * SEC, 1, res);
    ck_assert_uint_eq(res[XRL_PASSED], 1);
    ck_assert_uint_eq(res[XRL_REJECTED], 0);

    /* a lagging clock's second, 64 s older, is left out of the ring */
    take(tb.t, "lag", 1, t0 + 69 * SEC, 0, &d);
    xrl_table_recent(tb.t, t0 + 69 * SEC + 64 * SEC, 1, res);
    ck_assert_uint_eq(res[XRL_PASSED], 1);
    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.results[XRL_PASSED], 72);

    tbl_free(&tb);
}
END_TEST


/*
 * A claimer that died inside its claim leaves a busy word.  An old one is
 * passed by at once; a recent one after a bounded wait; either way the
 * slot counts as busy, and a window of busy slots answers "table full".
 */
START_TEST(test_busy_slots)
{
    int             i;
    uint64_t        t0;
    xrl_hot_t      *hot;
    xrl_usage_t     u;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 4, 0, 10, SEC, 1, XRL_FULL_DENY);  /* probe 8 -> 4 */
    hot = (xrl_hot_t *) ((unsigned char *) tb.t + tb.t->off_hot);
    t0 = BASE;

    /* claimed 1 s before now: stale */
    for (i = 0; i < 4; i++) {
        hot[i].key = XRL_KEY_BUSY | (((t0 - SEC) >> 10) & ~XRL_KEY_BUSY);
    }

    ck_assert_int_eq(take(tb.t, "a", 1, t0, 0, &d), XRL_TABLE_FULL);
    ck_assert_uint_eq(d.allowed, 0);
    ck_assert_uint_eq(d.retry_after_ns, 100 * MS);   /* no debt known */

    xrl_table_usage(tb.t, t0, &u);
    ck_assert_uint_eq(u.busy, 4);
    ck_assert_uint_eq(u.used, 0);

    /* one slot free again; one claimed just now: waited on, passed by */
    hot[1].key = XRL_KEY_EMPTY;
    hot[2].key = XRL_KEY_BUSY | ((t0 >> 10) & ~XRL_KEY_BUSY);

    ck_assert_int_eq(take(tb.t, "a", 1, t0, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "a", 1, t0, 0, &d), XRL_REJECTED);

    xrl_table_usage(tb.t, t0, &u);
    ck_assert_uint_eq(u.busy, 3);
    ck_assert_uint_eq(u.used, 1);

    tbl_free(&tb);
}
END_TEST


/*
 * A claim must leave a state different from the one it found, even when
 * the first request is denied at the very tick the old key went idle.
 */
START_TEST(test_claim_same_tick)
{
    xrl_stats_t     st;
    xrl_decision_t  d;
    tbl_t           tb;

    tbl_new(&tb, 1, 0, 10, SEC, 2, XRL_FULL_DENY);

    ck_assert_int_eq(take(tb.t, "a", 3, BASE, 0, &d), XRL_REJECTED);
    ck_assert_int_eq(take(tb.t, "b", 3, BASE, 0, &d), XRL_REJECTED);

    xrl_table_stats(tb.t, &st);
    ck_assert_uint_eq(st.claimed, 2);
    ck_assert_uint_eq(st.evicted, 1);

    /* b's bucket is full, a's key is gone */
    ck_assert_int_eq(take(tb.t, "b", 2, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(take(tb.t, "a", 1, BASE, 0, &d), XRL_TABLE_FULL);

    tbl_free(&tb);
}
END_TEST


/* ------------------------------------------------------------- hash */

START_TEST(test_hash)
{
    int            i, bit, flips, trials;
    uint64_t       h, h2, seen[256];
    unsigned char  buf[64 + 8], buf2[32];
    double         avg;

    ck_assert_uint_eq(xrl_hash("abc", 3), xrl_hash("abc", 3));
    ck_assert_uint_ne(xrl_hash("abc", 3), xrl_hash("abd", 3));
    ck_assert_uint_ne(xrl_hash("abc", 3), xrl_hash_seeded("abc", 3, 1));
    ck_assert_uint_eq(xrl_hash(NULL, 0), xrl_hash("", 0));
    ck_assert_uint_ne(xrl_hash("", 0), xrl_hash("\0", 1));

    /* the same bytes at any alignment */
    memcpy(buf + 1, "192.168.100.200-app-key", 23);
    memcpy(buf2 + 6, "192.168.100.200-app-key", 23);
    ck_assert_uint_eq(xrl_hash(buf + 1, 23), xrl_hash(buf2 + 6, 23));

    /* every prefix of a zeroed buffer differs: the length counts */
    memset(buf, 0, sizeof(buf));
    for (i = 0; i <= 64; i++) {
        seen[i] = xrl_hash(buf, (size_t) i);
        for (bit = 0; bit < i; bit++) {
            ck_assert_uint_ne(seen[i], seen[bit]);
        }
    }

    /* avalanche: one flipped input bit flips about half the output */

    flips = 0;
    trials = 0;

    for (i = 0; i < 64; i++) {
        memset(buf, 0, sizeof(buf));
        memcpy(buf, &i, sizeof(i));
        h = xrl_hash_seeded(buf, 24, 7);

        for (bit = 0; bit < 24 * 8; bit++) {
            buf[bit / 8] ^= (unsigned char) (1 << (bit % 8));
            h2 = xrl_hash_seeded(buf, 24, 7);
            buf[bit / 8] ^= (unsigned char) (1 << (bit % 8));

            flips += __builtin_popcountll(h ^ h2);
            trials++;

            ck_assert_int_ge(__builtin_popcountll(h ^ h2), 8);
        }
    }

    avg = (double) flips / trials;
    ck_assert_double_ge(avg, 31.0);
    ck_assert_double_le(avg, 33.0);
}
END_TEST


/*
 * SipHash-2-4 reference vectors (the paper's test.c, vectors_sip64): key
 * 00 01 .. 0f, message 00 01 .. n-1, for n = 0 .. 47.
 */
static const uint64_t  siphash_vectors[48] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
    0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
    0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
    0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
    0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
    0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
    0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
    0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
    0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
    0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
    0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
    0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
    0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL
};


START_TEST(test_siphash_vectors)
{
    int            n;
    unsigned char  msg[48 + 1];

    for (n = 0; n < 48; n++) {
        msg[n] = (unsigned char) n;
    }

    for (n = 0; n < 48; n++) {
        ck_assert_msg(xrl_siphash24(msg, (size_t) n, 0x0706050403020100ULL,
                                    0x0f0e0d0c0b0a0908ULL)
                      == siphash_vectors[n], "SipHash-2-4 of %d bytes", n);

        /* at any alignment */
        memmove(msg + 1, msg, 48);
        ck_assert_uint_eq(xrl_siphash24(msg + 1, (size_t) n,
                                        0x0706050403020100ULL,
                                        0x0f0e0d0c0b0a0908ULL),
                          siphash_vectors[n]);
        memmove(msg, msg + 1, 48);
    }
}
END_TEST


/*
 * Keys a client can choose do not share a bucket: two 16-byte keys whose
 * second words are equal collided under the old multiply-fold hash for
 * every seed (the fold of a block by that word was 0).  Under SipHash
 * they differ for each key tried, and in a table each keeps its own
 * budget.
 */
START_TEST(test_chosen_keys_apart)
{
    int             i;
    uint64_t        w;
    unsigned char   a[16], b[16];
    xrl_key_t       ka, kb;
    xrl_decision_t  d;
    tbl_t           tb;

    w = 0xa4093822299f31d1ULL;
    memcpy(a, "AAAAAAAA", 8);
    memcpy(b, "BBBBBBBB", 8);
    memcpy(a + 8, &w, 8);
    memcpy(b + 8, &w, 8);

    for (i = 0; i < 64; i++) {
        ck_assert_uint_ne(xrl_hash_seeded(a, 16, (uint64_t) i * 7919),
                          xrl_hash_seeded(b, 16, (uint64_t) i * 7919));
    }

    tbl_new(&tb, 64, 8, 1, SEC, 1, XRL_FULL_DENY);

    ka.hash = xrl_table_hash(tb.t, a, 16);
    ka.text = a;
    ka.len = 16;
    kb.hash = xrl_table_hash(tb.t, b, 16);
    kb.text = b;
    kb.len = 16;
    ck_assert_uint_ne(ka.hash, kb.hash);

    ck_assert_int_eq(xrl_table_take(tb.t, &ka, 1, BASE, 0, &d), XRL_PASSED);
    ck_assert_int_eq(xrl_table_take(tb.t, &ka, 1, BASE, 0, &d), XRL_REJECTED);

    /* b's budget is its own */
    ck_assert_int_eq(xrl_table_take(tb.t, &kb, 1, BASE, 0, &d), XRL_PASSED);

    tbl_free(&tb);
}
END_TEST


/* The table's key is 128 bits: its second half changes every hash. */
START_TEST(test_table_key_halves)
{
    xrl_conf_t   conf;
    xrl_init_t   how;
    xrl_table_t *t1, *t2;
    void        *m1, *m2;
    size_t       size;

    memset(&conf, 0, sizeof(conf));
    conf.capacity = 16;
    conf.rate = 1;
    conf.period_ns = SEC;
    conf.burst = 1;
    conf.seed = 1;
    conf.seed_hi = 2;

    size = xrl_table_size_for(16);
    m1 = calloc(1, size);
    m2 = calloc(1, size);
    ck_assert(m1 != NULL && m2 != NULL);

    ck_assert_int_eq(xrl_table_init(m1, size, &conf, &t1, &how), XRL_OK);
    conf.seed_hi = 3;
    ck_assert_int_eq(xrl_table_init(m2, size, &conf, &t2, &how), XRL_OK);

    ck_assert_uint_eq(xrl_table_hash(t1, "10.0.0.1", 8),
                      xrl_siphash24("10.0.0.1", 8, 1, 2));
    ck_assert_uint_ne(xrl_table_hash(t1, "10.0.0.1", 8),
                      xrl_table_hash(t2, "10.0.0.1", 8));

    free(m1);
    free(m2);
}
END_TEST



/* -------------------------------------------------------- processes */

/*
 * 4 processes take from one table in a MAP_SHARED mapping for 1.5 s of
 * real time.  Per key, what passed never exceeds what GCRA allows between
 * the first call and the last admission, and comes within 1% of
 * rate x time + burst.  _i = 0: one key for all; 1: 16 keys claimed by
 * all processes at once; 2: churn, 24 keys through 8 slots, each process
 * moving on to another key every 2000 calls, so that keys go idle and are
 * evicted while others still decide on them.
 */

#define PROCS      4
#define RUN_NS     (1500 * MS)
#define KEYS_MAX   24

typedef struct {
    volatile int    go;
    uint64_t        start;
    uint64_t        first[PROCS];
    uint64_t        last_pass[PROCS][KEYS_MAX];
    uint64_t        units[PROCS][KEYS_MAX];
    uint64_t        calls[PROCS];
    uint64_t        rejects[PROCS];
    uint64_t        fulls[PROCS];
} shared_t;


static uint64_t
mono_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * SEC + (uint64_t) ts.tv_nsec;
}


static void
child(xrl_table_t *t, shared_t *sh, int id, int keys, int churn)
{
    int             k;
    char            name[16];
    uint64_t        now, cost, n;
    xrl_key_t       key[KEYS_MAX];
    xrl_decision_t  d;
    static char     names[KEYS_MAX][16];

    for (k = 0; k < keys; k++) {
        snprintf(name, sizeof(name), "key-%d", k);
        memcpy(names[k], name, sizeof(name));
        key[k].hash = xrl_table_hash(t, names[k], strlen(names[k]));
        key[k].text = names[k];
        key[k].len = strlen(names[k]);
    }

    while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE)) {
        /* spin: all start together */
    }

    sh->first[id] = mono_ns();

    for (n = 0; ; n++) {
        now = mono_ns();
        if (now - sh->start >= RUN_NS) {
            break;
        }

        k = (int) ((churn ? n / 2000 + (uint64_t) id * 6 : n + (uint64_t) id)
                   % (uint64_t) keys);
        cost = 1 + (n + (uint64_t) id) % 3;

        switch (xrl_table_take(t, &key[k], cost, now, 0, &d)) {
        case XRL_PASSED:
            sh->units[id][k] += cost;
            sh->last_pass[id][k] = now;
            break;
        case XRL_TABLE_FULL:
            sh->fulls[id]++;
            break;
        default:
            sh->rejects[id]++;
        }
    }

    sh->calls[id] = n;

    _exit(0);
}


START_TEST(test_processes)
{
    int           i, k, keys, status, churn;
    pid_t         pids[PROCS];
    size_t        size;
    uint64_t      rate, burst, total, first, last, bound, calls;
    uint64_t      rejects, fulls;
    shared_t     *sh;
    xrl_conf_t    conf;
    xrl_init_t    how;
    xrl_stats_t   st;
    xrl_usage_t   u;
    xrl_table_t  *t;
    void         *mem;

    churn = _i == 2;
    keys = _i == 0 ? 1 : _i == 1 ? 16 : 24;
    rate = _i == 0 ? 200000 : _i == 1 ? 20000 : 1000;
    burst = churn ? 5 : rate / 4;   /* absorbs 250 ms without CPU */

    memset(&conf, 0, sizeof(conf));
    conf.capacity = churn ? 8 : 64;
    conf.probe = 8;
    conf.rate = rate;
    conf.period_ns = SEC;
    conf.burst = burst;
    conf.on_full = XRL_FULL_DENY;
    conf.seed = 99;

    size = xrl_table_size_for(conf.capacity);
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(mem, MAP_FAILED);
    sh = mmap(NULL, sizeof(shared_t), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(sh, MAP_FAILED);

    ck_assert_int_eq(xrl_table_init(mem, size, &conf, &t, &how), XRL_OK);

    for (i = 0; i < PROCS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);

        if (pids[i] == 0) {
            child(t, sh, i, keys, churn);
        }
    }

    sh->start = mono_ns();
    __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);

    for (i = 0; i < PROCS; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    first = UINT64_MAX;
    calls = 0;
    rejects = 0;
    fulls = 0;

    for (i = 0; i < PROCS; i++) {
        first = first < sh->first[i] ? first : sh->first[i];
        calls += sh->calls[i];
        rejects += sh->rejects[i];
        fulls += sh->fulls[i];
    }

    total = 0;

    for (k = 0; k < keys; k++) {
        uint64_t  units = 0;

        last = 0;

        for (i = 0; i < PROCS; i++) {
            units += sh->units[i][k];
            last = last > sh->last_pass[i][k] ? last : sh->last_pass[i][k];
        }

        /*
         * Between the first call and the last admission: GCRA's exact
         * bound above, and within 1% below while the processes keep the
         * bucket from filling (a machine too busy to run any of them for
         * 250 ms would lose some).
         */

        bound = ideal(burst, last - first, rate, SEC);

        ck_assert_msg(units <= bound, "key %d: %llu passed, bound %llu", k,
                      (unsigned long long) units,
                      (unsigned long long) bound);
        ck_assert_msg(churn || units * 100 >= bound * 99,
                      "key %d: %llu passed, expected about %llu", k,
                      (unsigned long long) units,
                      (unsigned long long) bound);
        ck_assert_msg(churn || last - first >= RUN_NS / 2,
                      "key %d: admissions over %llu ms only", k,
                      (unsigned long long) ((last - first) / MS));
        total += units;
    }

    /* the limiter was saturated, and counted every decision */

    ck_assert_uint_gt(rejects, total / 10);

    xrl_table_stats(t, &st);
    ck_assert_uint_eq(st.results[XRL_PASSED] + st.results[XRL_REJECTED]
                      + st.results[XRL_TABLE_FULL], calls);
    ck_assert_uint_eq(st.results[XRL_REJECTED], rejects);
    ck_assert_uint_eq(st.results[XRL_TABLE_FULL], fulls);

    xrl_table_usage(t, mono_ns(), &u);
    ck_assert_uint_eq(u.busy, 0);
    ck_assert_uint_eq(u.used, st.claimed - st.evicted);

    if (churn) {
        /*
         * Slots changed hands while other processes decided on them (how
         * often depends on how the processes were scheduled).
         */
        ck_assert_uint_gt(st.evicted, 0);
        ck_assert_uint_eq(u.used, 8);

    } else {
        /*
         * One slot per key: concurrent first requests claimed it once (a
         * double claim would leave keys + 1 slots used).  A machine busy
         * enough to run no process for 250 ms lets a bucket fill, and an
         * idle slot may then change hands by design: each such claim is
         * an eviction, never an extra slot.
         */
        ck_assert_uint_eq(u.used, (uint64_t) keys);
        ck_assert_uint_eq(st.claimed - st.evicted, (uint64_t) keys);
        ck_assert_uint_eq(fulls, 0);
    }

    munmap(sh, sizeof(shared_t));
    munmap(mem, size);
}
END_TEST


Suite *
make_rate_limit_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("rate_limit");

    tc = tcase_create("gcra");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gcra_init);
    tcase_add_test(tc, test_names);
    tcase_add_loop_test(tc, test_decisions_50s, 0, 2);
    tcase_add_loop_test(tc, test_decisions_fractional, 0, 2);
    tcase_add_test(tc, test_burst);
    tcase_add_test(tc, test_cost_batch);
    tcase_add_test(tc, test_cost_over_burst);
    tcase_add_test(tc, test_dry_run);
    tcase_add_loop_test(tc, test_no_drift, 0, 2 * DRIFT_N);
    tcase_add_loop_test(tc, test_no_drift_retry, 0, 2);
    tcase_add_test(tc, test_tick_wrap);
    tcase_add_test(tc, test_tick_alias);
    tcase_add_test(tc, test_skew);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_init_errors);
    tcase_add_loop_test(tc, test_table_full, 0, 2);
    tcase_add_test(tc, test_probe_window);
    tcase_add_test(tc, test_deny_occupancy);
    tcase_add_test(tc, test_eviction);
    tcase_add_test(tc, test_no_eviction_while_active);
    tcase_add_test(tc, test_reload);
    tcase_add_test(tc, test_key_text);
    tcase_add_test(tc, test_top);
    tcase_add_test(tc, test_recent);
    tcase_add_test(tc, test_busy_slots);
    tcase_add_test(tc, test_claim_same_tick);
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_siphash_vectors);
    tcase_add_test(tc, test_chosen_keys_apart);
    tcase_add_test(tc, test_table_key_halves);
    suite_add_tcase(s, tc);

    tc = tcase_create("processes");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_processes, 0, 3);
    suite_add_tcase(s, tc);

    return s;
}
