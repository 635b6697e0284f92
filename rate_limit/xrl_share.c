/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xrl_share.c - bytes held per key across workers (xrl_share.h).
 */

#include <string.h>

#include "xrl.h"
#include "xrl_share.h"


#define XRL_SHARE_MAGIC  0x78736872u    /* "xshr" */


static void xrl_share_slots(const xrl_share_t *s, const void *key,
    size_t len, size_t *a, size_t *b);


size_t
xrl_share_size(uint32_t width)
{
    return sizeof(xrl_share_t) + 2 * (size_t) width * sizeof(uint64_t);
}


xrl_share_t *
xrl_share_init(void *mem, uint32_t width, uint64_t k0, uint64_t k1)
{
    uint32_t      w;
    xrl_share_t  *s = mem;

    for (w = 64; w <= width / 2 && w < 0x80000000u; w *= 2) {
        /* the largest power of two not over width */
    }

    if (s->magic == XRL_SHARE_MAGIC && s->width == w) {
        return s;
    }

    memset(s, 0, xrl_share_size(w));
    s->k0 = k0;
    s->k1 = k1;
    s->width = w;
    __atomic_store_n(&s->magic, XRL_SHARE_MAGIC, __ATOMIC_RELEASE);

    return s;
}


/* One 64-bit SipHash gives both rows' slots: its halves are independent. */
static void
xrl_share_slots(const xrl_share_t *s, const void *key, size_t len,
    size_t *a, size_t *b)
{
    uint64_t  h;

    h = xrl_siphash24(key, len, s->k0, s->k1);

    *a = (size_t) (h & (s->width - 1));
    *b = s->width + (size_t) ((h >> 32) & (s->width - 1));
}


int
xrl_share_charge(xrl_share_t *s, const void *key, size_t len, uint64_t n,
    uint64_t max)
{
    size_t    a, b;
    uint64_t  va, vb;

    xrl_share_slots(s, key, len, &a, &b);

    va = __atomic_add_fetch(&s->c[a], n, __ATOMIC_RELAXED);
    vb = __atomic_add_fetch(&s->c[b], n, __ATOMIC_RELAXED);

    if (max != 0 && (va < vb ? va : vb) > max) {
        __atomic_sub_fetch(&s->c[a], n, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&s->c[b], n, __ATOMIC_RELAXED);
        return -1;
    }

    return 0;
}


void
xrl_share_release(xrl_share_t *s, const void *key, size_t len, uint64_t n)
{
    size_t  a, b;

    xrl_share_slots(s, key, len, &a, &b);

    __atomic_sub_fetch(&s->c[a], n, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&s->c[b], n, __ATOMIC_RELAXED);
}


uint64_t
xrl_share_held(const xrl_share_t *s, const void *key, size_t len)
{
    size_t    a, b;
    uint64_t  va, vb;

    xrl_share_slots(s, key, len, &a, &b);

    va = __atomic_load_n(&s->c[a], __ATOMIC_RELAXED);
    vb = __atomic_load_n(&s->c[b], __ATOMIC_RELAXED);

    return va < vb ? va : vb;
}
