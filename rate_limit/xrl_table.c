/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_table.c - init, lookup, claim and decide on a shared table.
 *
 * A key lives in the first slot of its probe window (probe slots from
 * home = hash * capacity / 2^64, wrapping) that was claimable when it
 * arrived: empty, or owned by a key whose bucket is full again (idle: a
 * full bucket is what a missing key means, so losing it loses nothing).
 *
 * Every change is a CAS on one word; the order of the words is what keeps
 * two processes from mixing up keys (README.md, "Concurrency"):
 *
 *   decide (owner)                    claim (of slot i for key k2)
 *   --------------                    ----------------------------
 *   s = tat[i]                        CAS key[i]: k1 -> busy
 *   key[i] == k1 ? else restart       t0 = tat[i]
 *   s' = gcra(s)                      t0 active ? key[i] = k1, give up
 *   CAS tat[i]: s -> s'               CAS tat[i]: t0 -> s2 (s2 != t0)
 *     failed: s = tat[i], loop          failed: t0 = tat[i], loop
 *                                     counters, text; key[i] = k2
 *
 * An owner's CAS from s succeeds only if no claim changed tat since the
 * owner checked the key after reading s; a claim's CAS succeeds only if
 * no owner admitted anything since the claim saw the bucket idle.
 */

#include <sched.h>
#include <string.h>

#include "xrl_table.h"


/*
 * A claim in progress is a few dozen instructions: spin on it, then give
 * the CPU away a few times (its claimer may be waiting for one), then
 * pass its slot by.
 */
#define XRL_BUSY_SPINS     1024
#define XRL_BUSY_YIELDS    64

/* a busy word older than this is a claimer that died: never wait on it */
#define XRL_BUSY_STALE_NS  10000000ULL

/* claims lost to other processes before the table counts as full */
#define XRL_CLAIM_TRIES    4

#define XRL_HEADER_SIZE    256
#define XRL_RING_SIZE      (XRL_RING * XRL_RESULT_MAX * sizeof(uint64_t))
#define XRL_SLOT_SIZE      (sizeof(xrl_hot_t) + sizeof(xrl_cold_t))
#define XRL_FIXED_SIZE     (XRL_HEADER_SIZE + XRL_RING_SIZE)

#define XRL_NONE           UINT64_MAX

#if defined(__x86_64__) || defined(__i386__)
#define xrl_cpu_relax()    __builtin_ia32_pause()
#elif defined(__aarch64__)
#define xrl_cpu_relax()    __asm__ __volatile__ ("yield" ::: "memory")
#else
#define xrl_cpu_relax()    __atomic_signal_fence(__ATOMIC_SEQ_CST)
#endif


/* a lock would not work across processes: the words must be lock-free */
#if !defined(__GCC_ATOMIC_LLONG_LOCK_FREE) || __GCC_ATOMIC_LLONG_LOCK_FREE != 2
#error "xrl needs lock-free 64-bit atomics"
#endif

/* compile-time checks: a negative array size stops the build */
typedef char xrl_check_header_size[
    sizeof(xrl_table_t) == XRL_HEADER_SIZE ? 1 : -1];
typedef char xrl_check_text[
    XRL_TEXT_WORDS * 8 == XRL_KEY_TEXT_MAX + 1 ? 1 : -1];


typedef struct {
    uint64_t     slot;          /* the key's slot, or XRL_NONE */
    uint64_t     cand;          /* first claimable slot, or XRL_NONE */
    uint64_t     cand_key;      /* its key word when seen */
    uint64_t     min_debt;      /* least debt of the other owned slots */
} xrl_find_t;


static uint64_t xrl_ident(uint64_t hash);
static uint64_t xrl_home(uint64_t hash, uint64_t capacity);
static uint64_t xrl_busy_word(uint64_t now_ns);
static int xrl_busy_stale(uint64_t k, uint64_t now_ns);
static uint64_t xrl_wait_busy(uint64_t *kp, uint64_t k, uint64_t now_ns);
static void xrl_find(xrl_table_t *t, const xrl_gcra_t *g, uint64_t hash,
    uint64_t ident, uint64_t now_ns, xrl_find_t *f);
static int xrl_decide(xrl_table_t *t, const xrl_gcra_t *g, uint64_t slot,
    uint64_t ident, uint64_t cost, uint64_t now_ns, xrl_decision_t *d);
static int xrl_claim(xrl_table_t *t, const xrl_gcra_t *g, uint64_t slot,
    uint64_t old_key, uint64_t ident, const xrl_key_t *key, uint64_t cost,
    uint64_t now_ns, unsigned flags, xrl_decision_t *d);
static void xrl_count(xrl_table_t *t, xrl_result_t r, uint64_t now_ns);
static void xrl_dry_run(xrl_decision_t *d, unsigned flags);


size_t
xrl_table_size_for(uint64_t capacity)
{
    uint64_t  size;

    if (capacity == 0
        || capacity > ((uint64_t) SIZE_MAX - XRL_FIXED_SIZE - 63)
                      / XRL_SLOT_SIZE)
    {
        return 0;
    }

    size = XRL_FIXED_SIZE + capacity * XRL_SLOT_SIZE;

    return (size_t) ((size + 63) & ~(uint64_t) 63);
}


uint64_t
xrl_table_capacity_for(size_t size)
{
    uint64_t  capacity;

    if (size < XRL_FIXED_SIZE + XRL_SLOT_SIZE) {
        return 0;
    }

    capacity = (size - XRL_FIXED_SIZE) / XRL_SLOT_SIZE;

    /* rounding up to 64 bytes may take the last slot's place */

    while (capacity != 0 && xrl_table_size_for(capacity) > size) {
        capacity--;
    }

    return capacity;
}


xrl_status_t
xrl_conf_check(const xrl_conf_t *conf)
{
    xrl_gcra_t    g;
    xrl_status_t  rc;

    if (conf == NULL) {
        return XRL_ERR_NULL;
    }

    rc = xrl_gcra_init(&g, conf->rate, conf->period_ns, conf->burst);
    if (rc != XRL_OK) {
        return rc;
    }

    if (xrl_table_size_for(conf->capacity) == 0) {
        return XRL_ERR_CAPACITY;
    }

    if (conf->probe > XRL_PROBE_MAX) {
        return XRL_ERR_PROBE;
    }

    if (conf->on_full != XRL_FULL_ALLOW && conf->on_full != XRL_FULL_DENY) {
        return XRL_ERR_FULL_ACTION;
    }

    return XRL_OK;
}


xrl_status_t
xrl_table_init(void *mem, size_t size, const xrl_conf_t *conf,
    xrl_table_t **table, xrl_init_t *how)
{
    size_t        need, i;
    uint32_t      probe;
    uint64_t     *w;
    xrl_gcra_t    g;
    xrl_table_t  *t;
    xrl_status_t  rc;

    if (mem == NULL || table == NULL || how == NULL) {
        return XRL_ERR_NULL;
    }

    rc = xrl_conf_check(conf);
    if (rc != XRL_OK) {
        return rc;
    }

    if ((uintptr_t) mem % sizeof(uint64_t) != 0) {
        return XRL_ERR_ALIGN;
    }

    need = xrl_table_size_for(conf->capacity);
    if (size < need) {
        return XRL_ERR_SIZE;
    }

    (void) xrl_gcra_init(&g, conf->rate, conf->period_ns, conf->burst);

    /*
     * With full=deny a key that finds its window full is refused: with 8
     * slots the first window fills at about 43% of the table.  A wider
     * window costs a longer scan only in a crowded table, and keeps new
     * keys admitted until it is nearly full.
     */
    probe = conf->probe ? conf->probe
            : conf->on_full == XRL_FULL_DENY ? XRL_PROBE_DENY_DEFAULT
            : XRL_PROBE_DEFAULT;
    if (probe > conf->capacity) {
        probe = (uint32_t) conf->capacity;
    }

    t = mem;

    if (t->magic == XRL_MAGIC
        && t->version == XRL_VERSION
        && t->header_size == sizeof(xrl_table_t)
        && t->size == need
        && t->capacity == conf->capacity
        && t->tick == g.tick
        && t->interval == g.interval)
    {
        /*
         * Same layout, same ticks: the states mean what they meant.
         * Processes still using the table read these one word at a time.
         */

        __atomic_store_n(&t->rate, g.rate, __ATOMIC_RELAXED);
        __atomic_store_n(&t->period_ns, g.period_ns, __ATOMIC_RELAXED);
        __atomic_store_n(&t->burst, g.burst, __ATOMIC_RELAXED);
        __atomic_store_n(&t->horizon, g.horizon, __ATOMIC_RELAXED);
        __atomic_store_n(&t->limit, g.limit, __ATOMIC_RELAXED);
        __atomic_store_n(&t->probe, probe, __ATOMIC_RELAXED);
        __atomic_store_n(&t->on_full, (uint32_t) conf->on_full,
                         __ATOMIC_RELAXED);

        *table = t;
        *how = XRL_INIT_REUSED;

        return XRL_OK;
    }

    /*
     * Fresh.  Word by word with atomic stores: a process of an earlier
     * configuration may still be deciding on this memory.
     */

    __atomic_store_n(&t->magic, 0, __ATOMIC_SEQ_CST);

    w = mem;

    for (i = 1; i < need / sizeof(uint64_t); i++) {
        __atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
    }

    t->version = XRL_VERSION;
    t->header_size = sizeof(xrl_table_t);
    t->size = need;
    t->capacity = conf->capacity;
    t->tick = g.tick;
    t->interval = g.interval;
    t->seed = conf->seed;
    t->seed_hi = conf->seed_hi;
    t->off_ring = XRL_HEADER_SIZE;
    t->off_hot = XRL_FIXED_SIZE;
    t->off_cold = XRL_FIXED_SIZE + conf->capacity * sizeof(xrl_hot_t);
    t->rate = g.rate;
    t->period_ns = g.period_ns;
    t->burst = g.burst;
    t->horizon = g.horizon;
    t->limit = g.limit;
    t->probe = probe;
    t->on_full = (uint32_t) conf->on_full;

    __atomic_store_n(&t->magic, XRL_MAGIC, __ATOMIC_SEQ_CST);

    *table = t;
    *how = XRL_INIT_FRESH;

    return XRL_OK;
}


uint64_t
xrl_table_hash(const xrl_table_t *t, const void *p, size_t len)
{
    return xrl_siphash24(p, len, t->seed, t->seed_hi);
}


void
xrl_table_gcra(const xrl_table_t *t, xrl_gcra_t *g)
{
    g->rate = xrl_load_relaxed(&t->rate);
    g->period_ns = xrl_load_relaxed(&t->period_ns);
    g->burst = xrl_load_relaxed(&t->burst);
    g->tick = t->tick;
    g->interval = t->interval;
    g->horizon = xrl_load_relaxed(&t->horizon);
    g->limit = xrl_load_relaxed(&t->limit);
}


xrl_result_t
xrl_table_take(xrl_table_t *t, const xrl_key_t *key, uint64_t cost,
    uint64_t now_ns, unsigned flags, xrl_decision_t *d)
{
    int           r, tries;
    uint64_t      ident, state;
    xrl_gcra_t    g;
    xrl_find_t    f;
    xrl_cold_t   *c;
    xrl_result_t  result;

    xrl_table_gcra(t, &g);
    ident = xrl_ident(key->hash);

    if (cost == 0) {
        xrl_find(t, &g, key->hash, ident, now_ns, &f);

        state = f.slot != XRL_NONE
                ? xrl_load(&xrl_table_hot(t)[f.slot].tat)
                : xrl_gcra_idle(&g, now_ns);

        return xrl_gcra_take(&g, &state, 0, now_ns, d);
    }

    f.min_debt = XRL_NONE;

    for (tries = 0; tries < XRL_CLAIM_TRIES; tries++) {

        xrl_find(t, &g, key->hash, ident, now_ns, &f);

        if (f.slot != XRL_NONE) {
            r = xrl_decide(t, &g, f.slot, ident, cost, now_ns, d);

        } else if (f.cand != XRL_NONE) {
            r = xrl_claim(t, &g, f.cand, f.cand_key, ident, key, cost,
                          now_ns, flags, d);

        } else {
            break;
        }

        if (r < 0) {
            /* the slot changed hands under us: look again */
            continue;
        }

        xrl_dry_run(d, flags);
        result = d->result;

        if (f.slot != XRL_NONE) {
            /* a claim set the new slot's counters itself */
            c = &xrl_table_cold(t)[f.slot];

            __atomic_fetch_add(result == XRL_PASSED ? &c->passed
                               : result == XRL_REJECTED ? &c->rejected
                               : &c->rejected_dry_run,
                               1, __ATOMIC_RELAXED);
        }

        xrl_count(t, result, now_ns);

        return result;
    }

    /* no slot: every one in the window is owned by an active key */

    d->result = XRL_TABLE_FULL;
    d->allowed = xrl_load_relaxed(&t->on_full) == XRL_FULL_ALLOW
                 || (flags & XRL_DRY_RUN);
    d->remaining = 0;
    d->reset_ns = 0;

    if (d->allowed) {
        d->retry_after_ns = 0;

    } else if (f.min_debt != XRL_NONE) {
        /* until the first slot of the window frees */
        d->retry_after_ns = f.min_debt / g.tick + (f.min_debt % g.tick != 0);

    } else {
        d->retry_after_ns = g.interval / g.tick + (g.interval % g.tick != 0);
    }

    xrl_count(t, XRL_TABLE_FULL, now_ns);

    return XRL_TABLE_FULL;
}


static void
xrl_dry_run(xrl_decision_t *d, unsigned flags)
{
    if (d->result == XRL_REJECTED && (flags & XRL_DRY_RUN)) {
        d->result = XRL_REJECTED_DRY_RUN;
        d->allowed = 1;
    }
}


static uint64_t
xrl_ident(uint64_t hash)
{
    hash &= ~XRL_KEY_BUSY;

    return hash != XRL_KEY_EMPTY ? hash : 1;
}


/* hash * capacity / 2^64: uses the high bits, any capacity */
static uint64_t
xrl_home(uint64_t hash, uint64_t capacity)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128  xrl_u128_t;

    return (uint64_t) (((xrl_u128_t) hash * capacity) >> 64);
#else
    uint64_t  hl, hh, cl, ch, mid;

    hl = hash & 0xffffffff;
    hh = hash >> 32;
    cl = capacity & 0xffffffff;
    ch = capacity >> 32;

    mid = ((hl * cl) >> 32) + ((hh * cl) & 0xffffffff)
          + ((hl * ch) & 0xffffffff);

    return hh * ch + ((hh * cl) >> 32) + ((hl * ch) >> 32) + (mid >> 32);
#endif
}


static uint64_t
xrl_busy_word(uint64_t now_ns)
{
    return XRL_KEY_BUSY | ((now_ns >> 10) & ~XRL_KEY_BUSY);
}


static int
xrl_busy_stale(uint64_t k, uint64_t now_ns)
{
    uint64_t  age;

    /* 63-bit clock difference; "negative" (a faster clock) is not stale */

    age = (xrl_busy_word(now_ns) - k) & ~XRL_KEY_BUSY;

    return age > (XRL_BUSY_STALE_NS >> 10) && age < (1ULL << 62);
}


static uint64_t
xrl_wait_busy(uint64_t *kp, uint64_t k, uint64_t now_ns)
{
    unsigned  i;

    if (xrl_busy_stale(k, now_ns)) {
        return k;
    }

    for (i = 0; i < XRL_BUSY_SPINS + XRL_BUSY_YIELDS; i++) {
        if (i < XRL_BUSY_SPINS) {
            xrl_cpu_relax();

        } else {
            (void) sched_yield();
        }

        k = xrl_load(kp);
        if (!(k & XRL_KEY_BUSY)) {
            break;
        }
    }

    return k;
}


static void
xrl_find(xrl_table_t *t, const xrl_gcra_t *g, uint64_t hash,
    uint64_t ident, uint64_t now_ns, xrl_find_t *f)
{
    uint32_t    i, probe;
    uint64_t    idx, k, debt, capacity;
    xrl_hot_t  *hot;

    hot = xrl_table_hot(t);
    capacity = t->capacity;
    probe = xrl_load_relaxed(&t->probe);
    idx = xrl_home(hash, capacity);

    f->slot = XRL_NONE;
    f->cand = XRL_NONE;
    f->cand_key = XRL_KEY_EMPTY;
    f->min_debt = XRL_NONE;

    for (i = 0; i < probe; i++, idx = idx + 1 < capacity ? idx + 1 : 0) {

        k = xrl_load(&hot[idx].key);

        if (k & XRL_KEY_BUSY) {
            /*
             * Waiting, rather than passing by, is what keeps two
             * processes from claiming two slots for one new key.
             */
            k = xrl_wait_busy(&hot[idx].key, k, now_ns);
            if (k & XRL_KEY_BUSY) {
                continue;
            }
        }

        if (k == ident) {
            f->slot = idx;
            return;
        }

        if (k == XRL_KEY_EMPTY) {
            /* empty slots are never made again: the key is not further */
            if (f->cand == XRL_NONE) {
                f->cand = idx;
                f->cand_key = k;
            }

            return;
        }

        if (f->cand != XRL_NONE) {
            continue;
        }

        debt = xrl_load(&hot[idx].tat) - now_ns * g->tick;

        if (debt == 0 || debt > g->limit) {
            /* idle: its key loses nothing by losing the slot */
            f->cand = idx;
            f->cand_key = k;

        } else if (debt < f->min_debt) {
            f->min_debt = debt;
        }
    }
}


/* The owner's path.  Returns the xrl_result_t, or -1 if the slot is gone. */
static int
xrl_decide(xrl_table_t *t, const xrl_gcra_t *g, uint64_t slot,
    uint64_t ident, uint64_t cost, uint64_t now_ns, xrl_decision_t *d)
{
    uint64_t      s, next;
    xrl_hot_t    *h;
    xrl_result_t  r;

    h = &xrl_table_hot(t)[slot];
    s = xrl_load(&h->tat);

    for ( ;; ) {
        /* the key, read after the state, vouches for the state */
        if (xrl_load(&h->key) != ident) {
            return -1;
        }

        next = s;
        r = xrl_gcra_take(g, &next, cost, now_ns, d);

        if (r != XRL_PASSED) {
            return r;
        }

        if (__atomic_compare_exchange_n(&h->tat, &s, next, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        {
            return r;
        }

        /* s holds the newer state; decide again */
    }
}


/*
 * Take slot (seen holding old_key, empty or idle) for ident and decide
 * the first request there.  Returns the xrl_result_t, or -1 if another
 * process changed the slot first.
 */
static int
xrl_claim(xrl_table_t *t, const xrl_gcra_t *g, uint64_t slot,
    uint64_t old_key, uint64_t ident, const xrl_key_t *key, uint64_t cost,
    uint64_t now_ns, unsigned flags, xrl_decision_t *d)
{
    size_t        len, i;
    uint64_t      busy, t0, s, text[XRL_TEXT_WORDS];
    xrl_hot_t    *h;
    xrl_cold_t   *c;
    xrl_result_t  r;

    h = &xrl_table_hot(t)[slot];
    c = &xrl_table_cold(t)[slot];
    busy = xrl_busy_word(now_ns);

    if (!__atomic_compare_exchange_n(&h->key, &old_key, busy, 0,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    {
        return -1;
    }

    t0 = xrl_load(&h->tat);

    for ( ;; ) {
        if (old_key != XRL_KEY_EMPTY && xrl_gcra_active(g, t0, now_ns)) {
            /* its owner admitted a request since we looked: give back */
            __atomic_store_n(&h->key, old_key, __ATOMIC_SEQ_CST);
            return -1;
        }

        /*
         * The first decision, on a full bucket.  The new state must differ
         * from t0, so that an owner still holding t0 fails its CAS.
         */

        s = xrl_gcra_idle(g, now_ns);
        r = xrl_gcra_take(g, &s, cost, now_ns, d);

        if (r != XRL_PASSED && s == t0) {
            s--;    /* still idle: a debt of 2^64 - 1 is over any limit */
        }

        if (__atomic_compare_exchange_n(&h->tat, &t0, s, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        {
            break;
        }
    }

    /* owners of old_key now fail their CAS and find the key busy */

    len = key->text != NULL ? key->len : 0;
    if (len > XRL_KEY_TEXT_MAX) {
        len = XRL_KEY_TEXT_MAX;
    }

    memset(text, 0, sizeof(text));
    ((unsigned char *) text)[0] = (unsigned char) len;

    if (len != 0) {
        memcpy((unsigned char *) text + 1, key->text, len);
    }

    for (i = 0; i < XRL_TEXT_WORDS; i++) {
        __atomic_store_n(&c->text[i], text[i], __ATOMIC_RELAXED);
    }

    __atomic_store_n(&c->passed, r == XRL_PASSED, __ATOMIC_RELAXED);
    __atomic_store_n(&c->rejected, r != XRL_PASSED && !(flags & XRL_DRY_RUN),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&c->rejected_dry_run,
                     r != XRL_PASSED && (flags & XRL_DRY_RUN),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&c->claimed_ns, now_ns, __ATOMIC_RELAXED);

    /* publish: everything above is visible to whoever sees the key */

    __atomic_store_n(&h->key, ident, __ATOMIC_SEQ_CST);

    __atomic_fetch_add(&t->counts[XRL_COUNT_CLAIMED], 1, __ATOMIC_RELAXED);

    if (old_key != XRL_KEY_EMPTY) {
        __atomic_fetch_add(&t->counts[XRL_COUNT_EVICTED], 1,
                           __ATOMIC_RELAXED);
    }

    return r;
}


static void
xrl_count(xrl_table_t *t, xrl_result_t r, uint64_t now_ns)
{
    uint32_t   sec;
    uint64_t  *w, old, next;

    __atomic_fetch_add(&t->counts[r], 1, __ATOMIC_RELAXED);

    /*
     * The ring word of (second, result) holds [second mod 2^32 | count]:
     * the first decision of a new second replaces the word of the second
     * 64 s before; one of an older second (a lagging clock) is left out.
     */

    sec = (uint32_t) (now_ns / 1000000000);
    w = &xrl_table_ring(t)[(sec % XRL_RING) * XRL_RESULT_MAX + r];
    old = xrl_load_relaxed(w);

    do {
        if ((uint32_t) (old >> 32) == sec) {
            if ((uint32_t) old == UINT32_MAX) {
                return;
            }

            next = old + 1;

        } else if ((int32_t) (sec - (uint32_t) (old >> 32)) > 0 || old == 0) {
            next = ((uint64_t) sec << 32) | 1;

        } else {
            return;
        }

    } while (!__atomic_compare_exchange_n(w, &old, next, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}
