/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_report.c - what a table can tell about itself: totals, the last
 * minute by second, slot use, and the keys with the most denials.
 *
 * Readers take no lock and write nothing.  A slot is read like a seqlock
 * whose sequence is the key word: key, then counters and text, then key
 * again; a slot whose key changed in between was being claimed and is
 * left out.
 */

#include <string.h>

#include "xrl_table.h"


static int xrl_report_less(const xrl_key_report_t *a,
    const xrl_key_report_t *b);
static void xrl_report_sift(xrl_key_report_t *heap, size_t n, size_t i);


void
xrl_table_stats(const xrl_table_t *t, xrl_stats_t *st)
{
    int  r;

    for (r = 0; r < XRL_RESULT_MAX; r++) {
        st->results[r] = xrl_load_relaxed(&t->counts[r]);
    }

    st->claimed = xrl_load_relaxed(&t->counts[XRL_COUNT_CLAIMED]);
    st->evicted = xrl_load_relaxed(&t->counts[XRL_COUNT_EVICTED]);
}


void
xrl_table_recent(const xrl_table_t *t, uint64_t now_ns, unsigned window_s,
    uint64_t results[XRL_RESULT_MAX])
{
    int        r;
    uint32_t   sec, s;
    unsigned   i;
    uint64_t   w;
    uint64_t  *ring;

    ring = xrl_table_ring(t);
    sec = (uint32_t) (now_ns / 1000000000);

    if (window_s > XRL_RECENT_MAX) {
        window_s = XRL_RECENT_MAX;
    }

    for (r = 0; r < XRL_RESULT_MAX; r++) {
        results[r] = 0;

        for (i = 0; i < window_s; i++) {
            s = sec - i;
            w = xrl_load_relaxed(&ring[(s % XRL_RING) * XRL_RESULT_MAX + r]);

            /* a word of another second is stale, not this one's */

            if ((uint32_t) (w >> 32) == s) {
                results[r] += (uint32_t) w;
            }
        }
    }
}


void
xrl_table_usage(const xrl_table_t *t, uint64_t now_ns, xrl_usage_t *u)
{
    uint64_t    i, k;
    xrl_gcra_t  g;
    xrl_hot_t  *hot;

    xrl_table_gcra(t, &g);
    hot = xrl_table_hot(t);

    u->capacity = t->capacity;
    u->used = 0;
    u->active = 0;
    u->busy = 0;

    for (i = 0; i < t->capacity; i++) {
        k = xrl_load(&hot[i].key);

        if (k == XRL_KEY_EMPTY) {
            continue;
        }

        if (k & XRL_KEY_BUSY) {
            u->busy++;
            continue;
        }

        u->used++;

        if (xrl_gcra_active(&g, xrl_load(&hot[i].tat), now_ns)) {
            u->active++;
        }
    }
}


size_t
xrl_table_top(const xrl_table_t *t, uint64_t now_ns, xrl_key_report_t *out,
    size_t n)
{
    size_t             len, j, count;
    uint64_t           i, k, state, text[XRL_TEXT_WORDS];
    xrl_gcra_t         g;
    xrl_hot_t         *hot;
    xrl_cold_t        *cold;
    xrl_decision_t     d;
    xrl_key_report_t   e, tmp;

    if (n == 0) {
        return 0;
    }

    xrl_table_gcra(t, &g);
    hot = xrl_table_hot(t);
    cold = xrl_table_cold(t);
    count = 0;

    /* out[0..count) is a min-heap by denials: out[0] is the one to drop */

    for (i = 0; i < t->capacity; i++) {
        k = xrl_load(&hot[i].key);

        if (k == XRL_KEY_EMPTY || (k & XRL_KEY_BUSY)) {
            continue;
        }

        e.passed = xrl_load_relaxed(&cold[i].passed);
        e.rejected = xrl_load_relaxed(&cold[i].rejected);
        e.rejected_dry_run = xrl_load_relaxed(&cold[i].rejected_dry_run);
        e.claimed_ns = xrl_load_relaxed(&cold[i].claimed_ns);
        state = xrl_load(&hot[i].tat);

        for (j = 0; j < XRL_TEXT_WORDS; j++) {
            text[j] = xrl_load_relaxed(&cold[i].text[j]);
        }

        __atomic_thread_fence(__ATOMIC_ACQUIRE);

        if (xrl_load(&hot[i].key) != k) {
            continue;
        }

        if (e.rejected + e.rejected_dry_run == 0) {
            continue;
        }

        e.hash = k;

        if (count == n && !xrl_report_less(&out[0], &e)) {
            continue;
        }

        len = ((unsigned char *) text)[0];
        if (len > XRL_KEY_TEXT_MAX) {
            len = XRL_KEY_TEXT_MAX;
        }

        e.text_len = len;
        memcpy(e.text, (unsigned char *) text + 1, len);
        e.text[len] = '\0';

        (void) xrl_gcra_take(&g, &state, 0, now_ns, &d);
        e.remaining = d.remaining;
        e.reset_ns = d.reset_ns;

        if (count < n) {
            /* append and sift up */
            j = count++;
            out[j] = e;

            while (j > 0 && xrl_report_less(&out[j], &out[(j - 1) / 2])) {
                tmp = out[j];
                out[j] = out[(j - 1) / 2];
                out[(j - 1) / 2] = tmp;
                j = (j - 1) / 2;
            }

        } else {
            out[0] = e;
            xrl_report_sift(out, count, 0);
        }
    }

    /* heap sort: the least goes to the end each round, most first */

    for (j = count; j > 1; j--) {
        tmp = out[0];
        out[0] = out[j - 1];
        out[j - 1] = tmp;
        xrl_report_sift(out, j - 1, 0);
    }

    return count;
}


/* fewer denials, then the larger hash: a total order */
static int
xrl_report_less(const xrl_key_report_t *a, const xrl_key_report_t *b)
{
    uint64_t  da, db;

    da = a->rejected + a->rejected_dry_run;
    db = b->rejected + b->rejected_dry_run;

    if (da != db) {
        return da < db;
    }

    return a->hash > b->hash;
}


static void
xrl_report_sift(xrl_key_report_t *heap, size_t n, size_t i)
{
    size_t            l, m;
    xrl_key_report_t  tmp;

    for ( ;; ) {
        l = 2 * i + 1;

        if (l >= n) {
            return;
        }

        m = l;

        if (l + 1 < n && xrl_report_less(&heap[l + 1], &heap[l])) {
            m = l + 1;
        }

        if (!xrl_report_less(&heap[m], &heap[i])) {
            return;
        }

        tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
}
