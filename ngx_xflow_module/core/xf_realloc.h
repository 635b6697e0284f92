/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_realloc.h - moving a buffer into a bigger allocation.  xf_alloc_t
 * has no realloc (a pool's free may be a no-op): allocate, copy what is
 * used, free the old one.
 */

#ifndef XF_REALLOC_H
#define XF_REALLOC_H

#include <string.h>

#include "xf_core.h"


/*
 * size bytes from a holding the first used bytes of old (NULL: none),
 * which is then freed.  NULL when the allocation fails: old is kept.
 */
static inline void *
xf_realloc(const xf_alloc_t *a, void *old, size_t used, size_t size)
{
    void  *p;

    p = a->alloc(a->data, size);
    if (p == NULL) {
        return NULL;
    }

    if (old != NULL) {
        memcpy(p, old, used);
        a->free(a->data, old);
    }

    return p;
}


/*
 * Room for n more bytes after the used bytes of the buffer *p of *cap
 * bytes: a full buffer moves into one twice as big, again until n fit
 * (first: the size of a first allocation).  XF_ERR_NOMEM leaves the
 * buffer as it was.
 */
static inline xf_status_t
xf_reserve(const xf_alloc_t *a, u_char **p, size_t used, size_t *cap,
    size_t n, size_t first)
{
    size_t   size;
    u_char  *q;

    if (*cap - used >= n) {
        return XF_OK;
    }

    size = *cap ? *cap : first;

    while (size - used < n) {
        size *= 2;
    }

    q = xf_realloc(a, *p, used, size);
    if (q == NULL) {
        return XF_ERR_NOMEM;
    }

    *p = q;
    *cap = size;

    return XF_OK;
}

/* xf_reserve() for a renderer's xf_buf_t. */
static inline xf_status_t
xf_buf_reserve(const xf_alloc_t *a, xf_buf_t *b, size_t n, size_t first)
{
    return xf_reserve(a, &b->p, b->len, &b->cap, n, first);
}

#endif /* XF_REALLOC_H */
