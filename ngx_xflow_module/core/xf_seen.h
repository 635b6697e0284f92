/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_seen.h - "seen within the TTL" for User-Agent references, in memory
 * shared by all workers (nginx shared memory, or any MAP_SHARED mapping).
 *
 * The caller asks, for each request's UA reference, whether to publish
 * the full User-Agent to the dictionary topic: the first request that
 * brings a reference in TTL seconds gets XF_SEEN_FIRST, the others
 * XF_SEEN_AGAIN.  The table is bounded: when it is full, the entry that
 * expires first in the probed window makes room, so a flood of distinct
 * User-Agents costs republishing, never memory.
 *
 * Races between workers can make two of them publish one reference (both
 * claim the same expired slot, or both insert into two empty slots):
 * harmless, the dictionary topic is compacted and both messages carry
 * the same key and value.  A 32-bit fingerprint decides a match, so two
 * references collide, and the second is wrongly taken as seen, with a
 * probability of about XF_SEEN_PROBES / 2^32 per lookup of a new one.
 */

#ifndef XF_SEEN_H
#define XF_SEEN_H

#include "xf_core.h"


#define XF_SEEN_FIRST   1
#define XF_SEEN_AGAIN   0

#define XF_SEEN_PROBES  8           /* slots looked at per lookup */


typedef struct xf_seen_s  xf_seen_t;


/* Bytes needed for a table of capacity slots (a power of two). */
size_t xf_seen_size(uint32_t capacity);

/*
 * Use size bytes at mem (8-byte aligned) as a table.  When mem already
 * holds a table of the same layout and capacity (a reload handing the
 * old zone to the new cycle), its entries are kept; otherwise mem is
 * cleared and a table of the largest power-of-two capacity that fits is
 * made.  Returns NULL when size is too small for 2 * XF_SEEN_PROBES
 * slots.  The table holds no pointers, only offsets from its start, so
 * each process may map it at a different address.
 */
xf_seen_t *xf_seen_init(void *mem, size_t size);

/* Slots of the table. */
uint32_t xf_seen_capacity(const xf_seen_t *t);

/*
 * Look key up at time now (seconds; any clock that all workers share)
 * and record it as seen until now + ttl if it was not live.  Returns
 * XF_SEEN_FIRST (publish) or XF_SEEN_AGAIN.  Lock-free: any number of
 * processes may call it at once.  ttl of 0 means every call is a first.
 */
int xf_seen_check_and_set(xf_seen_t *t, uint64_t key, uint64_t now,
    uint32_t ttl);

#endif /* XF_SEEN_H */
