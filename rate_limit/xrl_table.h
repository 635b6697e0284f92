/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_table.h - the memory layout of a rate-limit table (private to
 * rate_limit/; callers see xrl_table_t as opaque).
 *
 * A table is one block of caller memory holding only offsets, so it
 * means the same at whatever address each process maps it:
 *
 *   mem ─► +--------------------------------------------+  0
 *          | header: magic, version, size, capacity,     |
 *          | time scale, seed, offsets  (set by init)    |
 *          | burst, horizon, limit, probe, on_full       |
 *          |   (updated in place by a reusing init)      |
 *          +--------------------------------------------+  128
 *          | totals: decisions by result, claimed,       |
 *          |   evicted (atomic adds); seed_hi            |
 *          +--------------------------------------------+  256
 *          | ring: 64 seconds x 4 results, each word     |
 *          |   [second mod 2^32 | count]                 |
 *          +--------------------------------------------+  off_hot
 *          | hot[capacity]: { key, tat }   16 bytes      |
 *          |   probing reads keys; a decision CASes tat  |
 *          +--------------------------------------------+  off_cold
 *          | cold[capacity]: counters, claim time, key   |
 *          |   text   80 bytes, touched once a decision  |
 *          +--------------------------------------------+  size
 *
 * A key word is one of:
 *
 *   0                        empty: never claimed since init
 *   1xxx...x  (bit 63 set)   busy: being claimed; the low bits hold the
 *                            claimer's clock in units of 1024 ns
 *   0hhh...h  (nonzero)      owned by the key whose hash has these low
 *                            63 bits (a hash of 0 is stored as 1)
 *
 * empty -> busy -> owned -> busy -> owned ...: a slot never becomes empty
 * again, so a key is never found past an empty slot of its window.
 *
 * The tat word is the key's GCRA state (xrl_gcra.c); the text words hold
 * the key text's length in the first byte and its bytes after it.
 */

#ifndef XRL_TABLE_H
#define XRL_TABLE_H

#include "xrl.h"


#define XRL_MAGIC          0x58524c5441424c45ULL   /* "XRLTABLE" */

#define XRL_KEY_EMPTY      0ULL
#define XRL_KEY_BUSY       (1ULL << 63)

#define XRL_RING           64               /* seconds, a power of 2 */
#define XRL_TEXT_WORDS     ((XRL_KEY_TEXT_MAX + 1) / 8)

#define XRL_COUNT_CLAIMED  XRL_RESULT_MAX
#define XRL_COUNT_EVICTED  (XRL_RESULT_MAX + 1)
#define XRL_COUNTS         (XRL_RESULT_MAX + 2)


struct xrl_table_s {
    /* written by a fresh init only */
    uint64_t    magic;
    uint32_t    version;
    uint32_t    header_size;
    uint64_t    size;               /* xrl_table_size_for(capacity) */
    uint64_t    capacity;
    uint64_t    tick;               /* time scale, see xrl_gcra_t */
    uint64_t    interval;
    uint64_t    seed;
    uint64_t    off_ring;           /* byte offsets from the header */
    uint64_t    off_hot;
    uint64_t    off_cold;

    /* written by any init, read with atomic loads */
    uint64_t    rate;
    uint64_t    period_ns;
    uint64_t    burst;
    uint64_t    horizon;
    uint64_t    limit;
    uint32_t    probe;              /* <= capacity */
    uint32_t    on_full;

    /* own cache lines: every decision adds here */
    uint64_t    counts[XRL_COUNTS];
    uint64_t    seed_hi;            /* the hash key's second half: read
                                       with the counts, once a decision */
    uint64_t    pad1[16 - XRL_COUNTS - 1];
};

typedef struct {
    uint64_t    key;
    uint64_t    tat;
} xrl_hot_t;

typedef struct {
    uint64_t    passed;             /* decisions since the claim */
    uint64_t    rejected;
    uint64_t    rejected_dry_run;
    uint64_t    claimed_ns;
    uint64_t    text[XRL_TEXT_WORDS];
} xrl_cold_t;


#define xrl_table_ring(t)                                                  \
    ((uint64_t *) ((unsigned char *) (uintptr_t) (t) + (t)->off_ring))
#define xrl_table_hot(t)                                                   \
    ((xrl_hot_t *) ((unsigned char *) (uintptr_t) (t) + (t)->off_hot))
#define xrl_table_cold(t)                                                  \
    ((xrl_cold_t *) ((unsigned char *) (uintptr_t) (t) + (t)->off_cold))

#define xrl_load(p)         __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define xrl_load_relaxed(p) __atomic_load_n(p, __ATOMIC_RELAXED)


/* The table's GCRA parameters as of now (for xrl_gcra_*()). */
void xrl_table_gcra(const xrl_table_t *t, xrl_gcra_t *g);

#endif /* XRL_TABLE_H */
