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

#endif /* XF_REALLOC_H */
