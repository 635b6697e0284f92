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

#endif /* XF_ARENA_H */
