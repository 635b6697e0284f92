/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_topk.h - the most frequent keys of a stream in a fixed table
 * (Space-Saving, Metwally et al. 2005): k counters; a key not in the
 * table takes the place of the least counted one and inherits its count
 * as its error.  Any key seen more than total/k times is in the table,
 * and each count overstates the key's true count by at most its error.
 *
 * The table is plain memory of a fixed layout with no pointers, so it
 * can live in shared memory: the caller locks it (one writer at a time)
 * and copies it out to read it.  Used for the top bot User-Agents and
 * ASNs of the bot report.
 */

#ifndef XF_TOPK_H
#define XF_TOPK_H

#include "xf_core.h"


#define XF_TOPK_KEY_MAX    160      /* longer keys are cut */
#define XF_TOPK_LABEL_MAX  48       /* longer labels are cut */


typedef struct {
    uint64_t        count;
    uint64_t        error;          /* count overstates by at most this */
    uint16_t        key_len;
    uint16_t        label_len;
    u_char          key[XF_TOPK_KEY_MAX];
    u_char          label[XF_TOPK_LABEL_MAX];
} xf_topk_entry_t;

typedef struct {
    uint32_t        magic;
    uint32_t        k;
    uint32_t        n;              /* entries in use */
    uint32_t        pad;
    uint64_t        total;          /* everything added */
    xf_topk_entry_t e[];
} xf_topk_t;


/* The bytes a table of k entries takes. */
size_t xf_topk_size(size_t k);

/*
 * The table in mem (xf_topk_size(k) bytes, aligned for uint64_t): a table
 * of k entries already there (a reload) is kept, anything else is
 * emptied.  Returns mem as a table.
 */
xf_topk_t *xf_topk_init(void *mem, size_t k);

/*
 * Count key (cut to XF_TOPK_KEY_MAX bytes) weight times; label (cut to
 * XF_TOPK_LABEL_MAX) describes it and is set when the key takes an
 * entry.  An empty key or a weight of 0 counts nothing.
 */
void xf_topk_add(xf_topk_t *t, const u_char *key, size_t key_len,
    const u_char *label, size_t label_len, uint64_t weight);

/*
 * The entries of t into out (room for t->k of them), the most counted
 * first (ties: the smaller error first).  Returns how many, at most max:
 * the first max of them are the top.
 */
size_t xf_topk_list(const xf_topk_t *t, xf_topk_entry_t *out, size_t max);

#endif /* XF_TOPK_H */
