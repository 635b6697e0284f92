/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_seen.c - a lock-free, fixed-size "seen" table with expiry.
 *
 *     +--------------------------+  offset 0
 *     | magic "XFSEEN\0\0"       |
 *     | version | capacity       |
 *     | reserved                 |
 *     +--------------------------+  offset 32
 *     | slot 0 | slot 1 | ...    |  capacity 64-bit words
 *     +--------------------------+
 *
 *     slot = fingerprint (32) | expiry (32, seconds)      0 = empty
 *
 * A key's fingerprint is its high 32 bits (never 0); its home slot comes
 * from its low bits, and it may live in any of the XF_SEEN_PROBES slots
 * from there.  One slot is one word, so one compare-and-swap both claims
 * a slot and sets its expiry: no reader ever sees a fingerprint with
 * another key's expiry.  Slots are never emptied again (an expired entry
 * is overwritten in place), so a lookup may stop at the first empty slot:
 * no entry of its key lies beyond it.
 */

#include <string.h>

#include "xf_seen.h"


#define XF_SEEN_MAGIC    0x00004e4545534658ULL     /* "XFSEEN\0\0" */
#define XF_SEEN_VERSION  1


struct xf_seen_s {
    uint64_t    magic;
    uint32_t    version;
    uint32_t    capacity;
    uint64_t    reserved[2];
    uint64_t    slots[];
};


size_t
xf_seen_size(uint32_t capacity)
{
    return sizeof(xf_seen_t) + (size_t) capacity * sizeof(uint64_t);
}


xf_seen_t *
xf_seen_init(void *mem, size_t size)
{
    size_t      n;
    uint32_t    cap;
    xf_seen_t  *t;

    if (size < xf_seen_size(2 * XF_SEEN_PROBES)) {
        return NULL;
    }

    n = (size - sizeof(xf_seen_t)) / sizeof(uint64_t);

    for (cap = 2 * XF_SEEN_PROBES; cap <= n / 2 && cap < 0x80000000u; cap *= 2)
    {
        /* void */
    }

    t = mem;

    if (t->magic == XF_SEEN_MAGIC && t->version == XF_SEEN_VERSION
        && t->capacity == cap)
    {
        return t;
    }

    memset(t, 0, xf_seen_size(cap));
    t->version = XF_SEEN_VERSION;
    t->capacity = cap;
    t->magic = XF_SEEN_MAGIC;

    return t;
}


uint32_t
xf_seen_capacity(const xf_seen_t *t)
{
    return t->capacity;
}


int
xf_seen_check_and_set(xf_seen_t *t, uint64_t key, uint64_t now, uint32_t ttl)
{
    uint32_t   i, mask, fp, exp, now32, vexp;
    uint64_t   w, nw, vw, *s, *victim;

    if (ttl == 0) {
        return XF_SEEN_FIRST;
    }

    fp = (uint32_t) (key >> 32);
    fp |= (fp == 0);

    /* seconds modulo 2^32: correct until 2106 */
    now32 = (uint32_t) now;
    exp = now32 + ttl;
    nw = (uint64_t) fp << 32 | exp;

    mask = t->capacity - 1;
    victim = NULL;
    vw = 0;
    vexp = 0;

    for (i = 0; i < XF_SEEN_PROBES; i++) {
        s = &t->slots[((uint32_t) key + i) & mask];

        w = __atomic_load_n(s, __ATOMIC_ACQUIRE);

    again:

        if (w == 0) {
            if (__atomic_compare_exchange_n(s, &w, nw, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
            {
                return XF_SEEN_FIRST;
            }

            /* another worker took the slot: w is what it wrote */
            goto again;
        }

        if ((uint32_t) (w >> 32) == fp) {
            if ((uint32_t) w > now32) {
                return XF_SEEN_AGAIN;
            }

            /* expired: whoever renews it publishes */

            if (__atomic_compare_exchange_n(s, &w, nw, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
            {
                return XF_SEEN_FIRST;
            }

            goto again;
        }

        if (victim == NULL || (uint32_t) w < vexp) {
            victim = s;
            vw = w;
            vexp = (uint32_t) w;
        }
    }

    /*
     * Not in the window and the window is full: replace the entry that
     * expires first.  A lost race only means that entry survives; the
     * caller publishes either way.
     */

    (void) __atomic_compare_exchange_n(victim, &vw, nw, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);

    return XF_SEEN_FIRST;
}
