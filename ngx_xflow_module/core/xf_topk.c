/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_topk.c - Space-Saving top-k counters (xf_topk.h).
 */

#include <stdlib.h>
#include <string.h>

#include "xf_topk.h"


#define XF_TOPK_MAGIC  0x78746b31       /* "xtk1": the layout's version */


size_t
xf_topk_size(size_t k)
{
    return sizeof(xf_topk_t) + k * sizeof(xf_topk_entry_t);
}


xf_topk_t *
xf_topk_init(void *mem, size_t k)
{
    xf_topk_t  *t = mem;

    if (t->magic == XF_TOPK_MAGIC && t->k == k && t->n <= k) {
        return t;
    }

    memset(t, 0, xf_topk_size(k));
    t->magic = XF_TOPK_MAGIC;
    t->k = (uint32_t) k;

    return t;
}


void
xf_topk_add(xf_topk_t *t, const u_char *key, size_t key_len,
    const u_char *label, size_t label_len, uint64_t weight)
{
    size_t            i, min;
    xf_topk_entry_t  *e;

    if (key_len == 0 || weight == 0 || t->k == 0) {
        return;
    }

    key_len = xf_min(key_len, XF_TOPK_KEY_MAX);
    label_len = xf_min(label_len, XF_TOPK_LABEL_MAX);
    t->total += weight;

    /* a linear scan: k is small, and only bots' requests come here */
    min = 0;

    for (i = 0; i < t->n; i++) {
        e = &t->e[i];

        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
            e->count += weight;
            return;
        }

        if (e->count < t->e[min].count) {
            min = i;
        }
    }

    if (t->n < t->k) {
        e = &t->e[t->n++];
        e->count = weight;
        e->error = 0;

    } else {
        /* the least counted makes room, and its count is the error */
        e = &t->e[min];
        e->error = e->count;
        e->count += weight;
    }

    memcpy(e->key, key, key_len);
    e->key_len = (uint16_t) key_len;
    memcpy(e->label, label, label_len);
    e->label_len = (uint16_t) label_len;
}


static int
xf_topk_cmp(const void *x, const void *y)
{
    const xf_topk_entry_t  *a = x, *b = y;

    if (a->count != b->count) {
        return a->count > b->count ? -1 : 1;
    }

    return a->error < b->error ? -1 : a->error > b->error;
}


size_t
xf_topk_list(const xf_topk_t *t, xf_topk_entry_t *out, size_t max)
{
    size_t  n;

    n = t->n;
    memcpy(out, t->e, n * sizeof(xf_topk_entry_t));
    qsort(out, n, sizeof(xf_topk_entry_t), xf_topk_cmp);

    return xf_min(n, max);
}
