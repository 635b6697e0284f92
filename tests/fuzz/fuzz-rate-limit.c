/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-rate-limit.c - libFuzzer target for rate_limit/ (xrl_*).
 *
 * Invariant: random operation sequences with a monotone clock never
 * crash; never admit more than rate x elapsed + burst for any key (from
 * its first admission); give exactly the answers of an independent exact
 * GCRA model held in 128-bit absolute ticks (result, remaining,
 * retry_after, reset); answer "table full" only for a key without an
 * active bucket while at least probe other keys have one; and keep the
 * counters consistent: totals and the last 60 s equal the model's counts,
 * used slots = claimed - evicted, active slots = the model's active keys,
 * and the top-N report agrees with the keys' states.
 *
 * Input: a 16-byte header (rate, period, burst, capacity, probe, on_full,
 * key hashing, start time), then 4-byte operations:
 *
 *   op & 7   0..3  take: key, cost (0 looks), op & 0x80 dry run
 *            4     advance the clock by a few units (ns .. s)
 *            5     advance by whole intervals, +- a few ns
 *            6     re-initialise: same configuration (reused), a larger
 *                  burst (reused), or another rate (fresh)
 *            7     report: check every counter
 *
 * The clock moves less than 2^62 ticks in all, where modular ticks read
 * exactly like absolute ones (README.md: the tick clock).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xrl.h"
#include "fuzz.h"


#define FZ_KEYS      16
#define FZ_LOG       4096
#define FZ_SEC       1000000000ULL

__extension__ typedef unsigned __int128  u128_t;

typedef struct {
    int         seen;           /* admitted at least once */
    uint64_t    first_pass;     /* now_ns of the first admission */
    uint64_t    units;          /* events admitted since then */
    u128_t      tat;            /* absolute ticks; 0: never */
    uint64_t    passed;         /* decisions, lifetime */
    uint64_t    rejected;
    uint64_t    rejected_dry_run;
    char        name[16];
    uint64_t    hash;
} fz_key_t;

typedef struct {
    xrl_conf_t  conf;
    xrl_gcra_t  g;
    xrl_table_t *t;
    void        *mem;
    size_t      size;
    uint64_t    start;
    uint64_t    now;
    uint64_t    max_elapsed;
    uint32_t    probe;
    uint64_t    counts[XRL_RESULT_MAX];
    uint64_t    log_sec[FZ_LOG];
    int         log_res[FZ_LOG];
    size_t      nlog;
    fz_key_t    keys[FZ_KEYS];
} fz_t;

static const uint64_t  fz_periods[8] = {
    1000000ULL, FZ_SEC, 7 * FZ_SEC, 60 * FZ_SEC, 3600 * FZ_SEC,
    FZ_SEC + 7, 1000003ULL, 17 * FZ_SEC
};

static const uint64_t  fz_units[4] = { 1, 1000, 1000000, FZ_SEC };


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, int key);
static void fz_init(fz_t *f, int expect_fresh);
static void fz_take(fz_t *f, int k, uint64_t cost, unsigned flags);
static void fz_advance(fz_t *f, uint64_t ns);
static void fz_report(fz_t *f);
static int fz_active(const fz_t *f, const fz_key_t *key);
static uint64_t fz_ident(uint64_t hash);


static void
fz_fail(const char *what, int key)
{
    fprintf(stderr, "fuzz-rate-limit: %s (key %d)\n", what, key);
    abort();
}


static uint64_t
fz_read64(const uint8_t *p)
{
    uint64_t  v;

    memcpy(&v, p, sizeof(v));

    return v;
}


static uint64_t
fz_ns_up(const xrl_gcra_t *g, u128_t ticks)
{
    return (uint64_t) ((ticks + g->tick - 1) / g->tick);
}


/* what a slot stores of a hash (xrl_table.h) */
static uint64_t
fz_ident(uint64_t hash)
{
    hash &= ~(1ULL << 63);

    return hash != 0 ? hash : 1;
}


static int
fz_active(const fz_t *f, const fz_key_t *key)
{
    return key->tat > (u128_t) f->now * f->g.tick;
}


static void
fz_init(fz_t *f, int expect_fresh)
{
    int         k;
    xrl_init_t  how;

    if (xrl_table_init(f->mem, f->size, &f->conf, &f->t, &how) != XRL_OK) {
        fz_fail("init", -1);
    }

    if ((how == XRL_INIT_FRESH) != expect_fresh) {
        fz_fail("init: fresh or reused unexpected", -1);
    }

    if (xrl_gcra_init(&f->g, f->conf.rate, f->conf.period_ns,
                      f->conf.burst) != XRL_OK)
    {
        fz_fail("gcra init", -1);
    }

    f->probe = f->conf.probe ? f->conf.probe : XRL_PROBE_DEFAULT;
    if (f->probe > f->conf.capacity) {
        f->probe = (uint32_t) f->conf.capacity;
    }

    if (!expect_fresh) {
        return;
    }

    /*
     * States are new from here: the clock may travel 2^62 ticks, where
     * modular ticks read exactly like absolute ones.
     */

    f->start = f->now;
    f->max_elapsed = (1ULL << 62) / f->g.tick;
    if (f->max_elapsed > UINT64_MAX - f->now) {
        f->max_elapsed = UINT64_MAX - f->now;
    }

    memset(f->counts, 0, sizeof(f->counts));
    f->nlog = 0;

    for (k = 0; k < FZ_KEYS; k++) {
        f->keys[k].seen = 0;
        f->keys[k].units = 0;
        f->keys[k].tat = 0;
        f->keys[k].passed = 0;
        f->keys[k].rejected = 0;
        f->keys[k].rejected_dry_run = 0;
    }
}


static void
fz_take(fz_t *f, int k, uint64_t cost, unsigned flags)
{
    int              others, j, pass;
    u128_t           now, debt, need, h, after;
    fz_key_t        *key;
    xrl_key_t        xk;
    xrl_decision_t   d;
    xrl_result_t     r;
    const xrl_gcra_t *g;

    key = &f->keys[k];
    g = &f->g;

    xk.hash = key->hash;
    xk.text = key->name;
    xk.len = strlen(key->name);

    r = xrl_table_take(f->t, &xk, cost, f->now, flags, &d);

    if (r != d.result) {
        fz_fail("returned result differs from d.result", k);
    }

    if (r == XRL_TABLE_FULL) {
        if (cost == 0) {
            fz_fail("a look found the table full", k);
        }

        if (fz_active(f, key)) {
            fz_fail("table full for a key with an active bucket", k);
        }

        others = 0;
        for (j = 0; j < FZ_KEYS; j++) {
            others += j != k && fz_active(f, &f->keys[j]);
        }

        if (others < (int) f->probe) {
            fz_fail("table full with fewer active keys than the probe", k);
        }

        if (d.allowed != (f->conf.on_full == XRL_FULL_ALLOW
                          || (flags & XRL_DRY_RUN) != 0))
        {
            fz_fail("table full: allowed is not the on_full action", k);
        }

        goto counted;
    }

    /* the model: exact GCRA in absolute 128-bit ticks */

    now = (u128_t) f->now * g->tick;
    debt = key->tat > now ? key->tat - now : 0;
    h = g->horizon;
    need = (u128_t) cost * g->interval;

    if (cost == 0) {
        if (r != XRL_PASSED || !d.allowed
            || d.remaining != (uint64_t) ((h - debt) / g->interval)
            || d.reset_ns != fz_ns_up(g, debt) || d.retry_after_ns != 0)
        {
            fz_fail("look differs from the model", k);
        }

        return;
    }

    pass = cost <= g->burst && debt + need <= h;

    if (pass) {
        after = debt + need;

        if (r != XRL_PASSED || !d.allowed || d.retry_after_ns != 0
            || d.remaining != (uint64_t) ((h - after) / g->interval)
            || d.reset_ns != fz_ns_up(g, after))
        {
            fz_fail("admission differs from the model", k);
        }

        key->tat = now + after;

        if (!key->seen) {
            key->seen = 1;
            key->first_pass = f->now;
        }

        key->units += cost;
        key->passed++;

        /* rate x elapsed + burst, from the first admission */

        if ((u128_t) key->units
            > g->burst + (u128_t) (f->now - key->first_pass) * g->rate
                         / g->period_ns)
        {
            fz_fail("admitted more than rate x elapsed + burst", k);
        }

    } else {
        if (r != ((flags & XRL_DRY_RUN) ? XRL_REJECTED_DRY_RUN
                                         : XRL_REJECTED)
            || d.allowed != ((flags & XRL_DRY_RUN) != 0)
            || d.remaining != (uint64_t) ((h - debt) / g->interval)
            || d.reset_ns != fz_ns_up(g, debt)
            || d.retry_after_ns != (cost > g->burst
                                    ? XRL_RETRY_NEVER
                                    : fz_ns_up(g, debt + need - h)))
        {
            fz_fail("denial differs from the model", k);
        }

        if (flags & XRL_DRY_RUN) {
            key->rejected_dry_run++;
        } else {
            key->rejected++;
        }
    }

counted:

    f->counts[r]++;

    if (f->nlog < FZ_LOG) {
        f->log_sec[f->nlog] = f->now / FZ_SEC;
        f->log_res[f->nlog] = r;
        f->nlog++;
    }
}


static void
fz_advance(fz_t *f, uint64_t ns)
{
    if (ns > f->max_elapsed - (f->now - f->start)) {
        ns = f->max_elapsed - (f->now - f->start);
    }

    f->now += ns;
}


static void
fz_report(fz_t *f)
{
    int               k, r, active;
    size_t            n, i;
    u128_t            debt;
    uint64_t          sec, recent[XRL_RESULT_MAX], want[XRL_RESULT_MAX];
    fz_key_t         *key;
    xrl_stats_t       st;
    xrl_usage_t       u;
    xrl_key_report_t  top[FZ_KEYS + 1];

    xrl_table_stats(f->t, &st);

    for (r = 0; r < XRL_RESULT_MAX; r++) {
        if (st.results[r] != f->counts[r]) {
            fz_fail("total by result differs", r);
        }
    }

    xrl_table_usage(f->t, f->now, &u);

    active = 0;
    for (k = 0; k < FZ_KEYS; k++) {
        active += fz_active(f, &f->keys[k]);
    }

    if (u.used != st.claimed - st.evicted || u.used > u.capacity
        || u.busy != 0 || u.active != (uint64_t) active
        || st.evicted > st.claimed)
    {
        fz_fail("slot usage inconsistent", -1);
    }

    /* the last 60 s, when the log holds every decision */

    if (f->nlog < FZ_LOG) {
        sec = f->now / FZ_SEC;
        memset(want, 0, sizeof(want));

        for (i = 0; i < f->nlog; i++) {
            if (f->log_sec[i] + 60 > sec) {
                want[f->log_res[i]]++;
            }
        }

        xrl_table_recent(f->t, f->now, 60, recent);

        for (r = 0; r < XRL_RESULT_MAX; r++) {
            if (recent[r] != want[r]) {
                fz_fail("last 60 s differ", r);
            }
        }
    }

    n = xrl_table_top(f->t, f->now, top, FZ_KEYS + 1);

    for (i = 0; i < n; i++) {
        if (i > 0 && top[i].rejected + top[i].rejected_dry_run
                     > top[i - 1].rejected + top[i - 1].rejected_dry_run)
        {
            fz_fail("top not sorted", (int) i);
        }

        if (top[i].rejected + top[i].rejected_dry_run == 0) {
            fz_fail("top lists a key without denials", (int) i);
        }

        for (k = 0; k < FZ_KEYS; k++) {
            if (strcmp(f->keys[k].name, top[i].text) == 0) {
                break;
            }
        }

        if (k == FZ_KEYS) {
            fz_fail("top lists an unknown key", (int) i);
        }

        key = &f->keys[k];

        /* counters since the claim: at most the key's lifetime ones */

        if (top[i].passed > key->passed || top[i].rejected > key->rejected
            || top[i].rejected_dry_run > key->rejected_dry_run
            || top[i].hash != fz_ident(key->hash)
            || top[i].claimed_ns > f->now)
        {
            fz_fail("top counters exceed the key's", k);
        }

        debt = fz_active(f, key) ? key->tat - (u128_t) f->now * f->g.tick
                                 : 0;

        if (top[i].reset_ns != fz_ns_up(&f->g, debt)
            || top[i].remaining
               != (uint64_t) ((f->g.horizon - debt) / f->g.interval))
        {
            fz_fail("top state differs from the model", k);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         k;
    size_t      i;
    uint8_t     op, a, b, c;
    uint64_t    rate;
    fz_t       *f;
    xrl_gcra_t  g2;

    if (size < 16) {
        return 0;
    }

    f = calloc(1, sizeof(fz_t));
    if (f == NULL) {
        return 0;
    }

    rate = 1 + ((uint64_t) data[0] | (uint64_t) data[1] << 8);
    if (data[2] & 0x80) {
        rate *= 1 + data[3];        /* up to about 16.8 million */
    }

    f->conf.rate = rate;
    f->conf.period_ns = fz_periods[data[2] & 7];
    f->conf.burst = 1 + data[4] % 64;
    f->conf.capacity = 1 + data[5] % 24;
    f->conf.probe = data[6] % 10;
    f->conf.on_full = (data[7] & 1) ? XRL_FULL_DENY : XRL_FULL_ALLOW;
    f->conf.seed = data[7];

    if (xrl_conf_check(&f->conf) != XRL_OK) {
        free(f);
        return 0;
    }

    f->size = xrl_table_size_for(f->conf.capacity);
    f->mem = malloc(f->size);
    if (f->mem == NULL) {
        free(f);
        return 0;
    }

    memset(f->mem, data[7], f->size);   /* not zeroed: init must cope */

    f->now = fz_read64(data + 8) >> 1;
    fz_init(f, 1);

    for (k = 0; k < FZ_KEYS; k++) {
        snprintf(f->keys[k].name, sizeof(f->keys[k].name), "key-%d", k);

        /* bit 1: keys crowd into three homes */
        f->keys[k].hash = (data[7] & 2)
                          ? ((uint64_t) (k % 3) << 62) | (uint64_t) k
                          : xrl_table_hash(f->t, f->keys[k].name,
                                           strlen(f->keys[k].name));
    }

    for (i = 16; i + 4 <= size; i += 4) {
        op = data[i];
        a = data[i + 1];
        b = data[i + 2];
        c = data[i + 3];

        switch (op & 7) {

        case 4:
            fz_advance(f, ((uint64_t) b << 8 | c) * fz_units[a & 3]);
            break;

        case 5:
            fz_advance(f, (uint64_t) a * f->conf.period_ns / f->conf.rate
                          + (b & 7));
            break;

        case 6:
            if (a % 3 == 0) {
                fz_init(f, 0);

            } else if (a % 3 == 1) {
                /* a larger bucket keeps every state's meaning */
                f->conf.burst += 1 + b % 8;
                if (xrl_conf_check(&f->conf) != XRL_OK) {
                    f->conf.burst -= 1 + b % 8;
                }
                fz_init(f, 0);

            } else if (f->conf.rate > 1) {
                /* rate - 1 over the same period: a new time scale */
                f->conf.rate--;
                if (xrl_conf_check(&f->conf) != XRL_OK) {
                    f->conf.rate++;
                    break;
                }

                (void) xrl_gcra_init(&g2, f->conf.rate, f->conf.period_ns,
                                     f->conf.burst);
                fz_init(f, g2.tick != f->g.tick
                           || g2.interval != f->g.interval);
            }

            break;

        case 7:
            fz_report(f);
            break;

        default:
            fz_take(f, a % FZ_KEYS, b % (f->conf.burst + 3),
                    (op & 0x80) ? XRL_DRY_RUN : 0);
            break;
        }
    }

    fz_report(f);

    free(f->mem);
    free(f);

    return 0;
}
