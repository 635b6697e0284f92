/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_arena.h - an allocator for tests of code that allocates from a pool
 * and never frees piecemeal (as nginx's request pool is used): every
 * block goes at once with xf_arena_free().  Header-only, for unit tests
 * and fuzz targets alike.
 */

#ifndef XF_ARENA_H
#define XF_ARENA_H

#include <stddef.h>
#include <stdlib.h>

#include "xf_core.h"


typedef struct xf_arena_block_s  xf_arena_block_t;

struct xf_arena_block_s {
    xf_arena_block_t  *next;
    max_align_t        data[];
};


static inline void *
xf_arena_alloc(void *data, size_t size)
{
    xf_arena_block_t  **head = data, *b;

    b = malloc(sizeof(xf_arena_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = *head;
    *head = b;

    return b->data;
}


static inline void
xf_arena_free_one(void *data, void *p)
{
    /* like a pool: the block goes with the arena */
}


/* An allocator over the arena whose head is *head (start it NULL). */
static inline xf_alloc_t
xf_arena(xf_arena_block_t **head)
{
    xf_alloc_t  a = { xf_arena_alloc, xf_arena_free_one, head };

    return a;
}


static inline void
xf_arena_free(xf_arena_block_t *b)
{
    xf_arena_block_t  *next;

    for ( ; b; b = next) {
        next = b->next;
        free(b);
    }
}


/*
 * An arena whose allocation number fail_at (1-based; 0: never) fails,
 * for the out-of-memory loops of pool-style code: what was taken before
 * the failure goes with xf_arena_free(f->head), as a pool's would.
 */
typedef struct {
    xf_arena_block_t  *head;
    size_t             calls;
    size_t             fail_at;
} xf_arena_failing_t;


static inline void *
xf_arena_failing_alloc(void *data, size_t size)
{
    xf_arena_failing_t  *f = data;

    if (++f->calls == f->fail_at) {
        return NULL;
    }

    return xf_arena_alloc(&f->head, size);
}


static inline xf_alloc_t
xf_arena_failing(xf_arena_failing_t *f)
{
    xf_alloc_t  a = { xf_arena_failing_alloc, xf_arena_free_one, f };

    return a;
}

#endif /* XF_ARENA_H */
