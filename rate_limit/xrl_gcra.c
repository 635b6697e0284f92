/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_gcra.c - the generic cell rate algorithm on one 64-bit word, in
 * exact integer arithmetic; status and result names.
 *
 * Time is counted in ticks of 1/tick ns, where rate / period_ns reduced
 * to lowest terms is tick / interval.  The emission interval, period_ns /
 * rate ns, is then exactly `interval` ticks, so a bucket never gains or
 * loses a fraction of an event however long it runs.
 *
 * The state is the theoretical arrival time (TAT) in ticks, modulo 2^64,
 * and is only ever compared with now through their difference:
 *
 *           idle                   active                 idle
 *   ... ----------|==========================|------------------- ...
 *                now                   now + limit         (signed
 *                  <- TAT - now in (0, limit]: debt ->      difference)
 *
 * A debt above limit (burst intervals plus XRL_SKEW_NS) cannot come from
 * an admission, so it is a TAT left so long ago that the difference
 * wrapped, and it is idle too.  README.md has the full argument.
 */

#include "xrl.h"


#define XRL_TICKS_MAX  (1ULL << 61)


static const char *xrl_status_codes[XRL_STATUS_MAX] = {
    [XRL_OK]               = "ok",
    [XRL_ERR_NULL]         = "null_argument",
    [XRL_ERR_RATE]         = "zero_rate",
    [XRL_ERR_RANGE]        = "out_of_range",
    [XRL_ERR_CAPACITY]     = "bad_capacity",
    [XRL_ERR_PROBE]        = "bad_probe",
    [XRL_ERR_FULL_ACTION]  = "bad_full_action",
    [XRL_ERR_ALIGN]        = "misaligned",
    [XRL_ERR_SIZE]         = "too_small",
};

static const char *xrl_result_names[XRL_RESULT_MAX] = {
    [XRL_PASSED]           = "passed",
    [XRL_REJECTED]         = "rejected",
    [XRL_REJECTED_DRY_RUN] = "rejected_dry_run",
    [XRL_TABLE_FULL]       = "table_full",
};


const char *
xrl_strerror(xrl_status_t s)
{
    if ((unsigned) s >= XRL_STATUS_MAX) {
        return "unknown";
    }

    return xrl_status_codes[s];
}


const char *
xrl_result_name(xrl_result_t r)
{
    if ((unsigned) r >= XRL_RESULT_MAX) {
        return "unknown";
    }

    return xrl_result_names[r];
}


static uint64_t
xrl_gcd(uint64_t a, uint64_t b)
{
    uint64_t  r;

    while (b != 0) {
        r = a % b;
        a = b;
        b = r;
    }

    return a;
}


xrl_status_t
xrl_gcra_init(xrl_gcra_t *g, uint64_t rate, uint64_t period_ns,
    uint64_t burst)
{
    uint64_t  gcd, tick, interval;

    if (g == NULL) {
        return XRL_ERR_NULL;
    }

    if (rate == 0 || period_ns == 0 || burst == 0) {
        return XRL_ERR_RATE;
    }

    gcd = xrl_gcd(rate, period_ns);
    tick = rate / gcd;
    interval = period_ns / gcd;

    /*
     * horizon and the skew allowance stay under 2^61 ticks each, so the
     * limit stays under 2^62 and no sum below overflows.
     */

    if (burst > XRL_TICKS_MAX / interval
        || tick > XRL_TICKS_MAX / XRL_SKEW_NS)
    {
        return XRL_ERR_RANGE;
    }

    g->rate = rate;
    g->period_ns = period_ns;
    g->burst = burst;
    g->tick = tick;
    g->interval = interval;
    g->horizon = burst * interval;
    g->limit = g->horizon + XRL_SKEW_NS * tick;

    return XRL_OK;
}


uint64_t
xrl_gcra_idle(const xrl_gcra_t *g, uint64_t now_ns)
{
    /* wraps modulo 2^64 by design: only differences are compared */
    return now_ns * g->tick;
}


/* TAT - now in ticks when the bucket is not full, else 0. */
static uint64_t
xrl_gcra_debt(const xrl_gcra_t *g, uint64_t state, uint64_t now_ns)
{
    uint64_t  debt;

    debt = state - now_ns * g->tick;

    return debt <= g->limit ? debt : 0;
}


int
xrl_gcra_active(const xrl_gcra_t *g, uint64_t state, uint64_t now_ns)
{
    return xrl_gcra_debt(g, state, now_ns) != 0;
}


/* ticks to ns, rounded up; ticks < 2^63 */
static uint64_t
xrl_gcra_ns(const xrl_gcra_t *g, uint64_t ticks)
{
    return ticks / g->tick + (ticks % g->tick != 0);
}


xrl_result_t
xrl_gcra_take(const xrl_gcra_t *g, uint64_t *state, uint64_t cost,
    uint64_t now_ns, xrl_decision_t *d)
{
    uint64_t  debt, need;

    debt = xrl_gcra_debt(g, *state, now_ns);

    /* a debt over the horizon is a caller whose clock lags (skew) */

    d->remaining = debt < g->horizon ? (g->horizon - debt) / g->interval
                                     : 0;
    d->reset_ns = xrl_gcra_ns(g, debt);
    d->retry_after_ns = 0;

    if (cost == 0) {
        d->result = XRL_PASSED;
        d->allowed = 1;
        return XRL_PASSED;
    }

    if (cost > g->burst) {
        d->result = XRL_REJECTED;
        d->allowed = 0;
        d->retry_after_ns = XRL_RETRY_NEVER;
        return XRL_REJECTED;
    }

    /* need <= horizon < 2^61 and debt <= limit < 2^62: no overflow */

    need = cost * g->interval;

    if (debt + need > g->horizon) {
        d->result = XRL_REJECTED;
        d->allowed = 0;
        d->retry_after_ns = xrl_gcra_ns(g, debt + need - g->horizon);
        return XRL_REJECTED;
    }

    /* TAT' = max(TAT, now) + cost * T, with max(TAT, now) = now + debt */

    *state = now_ns * g->tick + debt + need;

    d->result = XRL_PASSED;
    d->allowed = 1;
    d->remaining = (g->horizon - debt - need) / g->interval;
    d->reset_ns = xrl_gcra_ns(g, debt + need);

    return XRL_PASSED;
}
