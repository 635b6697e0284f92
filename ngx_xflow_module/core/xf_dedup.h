/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_dedup.h - the edge dedup window: which events were seen within the
 * last TIME, in memory shared by all workers (nginx shared memory, or
 * any MAP_SHARED mapping).
 *
 * An event is known by a keyed hash (SipHash-2-4 under the table's
 * random 128-bit key) of its app and its per-event id, the id its SDK
 * draws once and sends again with every retry:
 *
 *   segment (and RudderStack)   messageId
 *   posthog                     uuid
 *   amplitude                   insert_id
 *   mixpanel                    properties.$insert_id
 *   snowplow                    eid
 *   sensors                     _track_id with time and distinct_id (a
 *                               random 32-bit number alone is not unique)
 *   json, or an event without   the event's bytes (an SDK retry sends the
 *   its id                      same bytes)
 *
 * Chosen ids cannot be made to share a key: the key is secret, and 64
 * bits of it decide a match, so two different events are taken for one
 * with a probability of about XF_DEDUP_PROBES / 2^64 per lookup.
 *
 * The caller looks an event up when it reads it (xf_dedup_seen) and
 * records it only once its first copy was kept (xf_dedup_set: the
 * request is answered with success), so that a copy whose request got a
 * retry status never makes the SDK's next copy a duplicate.  Two copies
 * in flight at once both go through: at least once, never a loss.
 *
 * The table is bounded: a lookup probes XF_DEDUP_PROBES slots; when they
 * are all live, the entry that expires first makes room (a flood of
 * distinct events shortens the window, never grows memory).
 */

#ifndef XF_DEDUP_H
#define XF_DEDUP_H

#include "xf_core.h"
#include "xf_format.h"


#define XF_DEDUP_FIRST   1
#define XF_DEDUP_AGAIN   0

#define XF_DEDUP_PROBES  8


typedef struct xf_dedup_s  xf_dedup_t;


/* Bytes needed for a table of capacity slots (a power of two). */
size_t xf_dedup_size(uint32_t capacity);

/*
 * Use size bytes at mem (8-byte aligned) as a table.  When mem already
 * holds a table of the same layout and capacity (a reload handing the
 * old zone on), its entries and key are kept; otherwise mem is cleared
 * and a table of the largest power-of-two capacity that fits is made,
 * keyed with (k0, k1), which the caller draws at random.  NULL when size
 * is too small for 2 * XF_DEDUP_PROBES slots.
 */
xf_dedup_t *xf_dedup_init(void *mem, size_t size, uint64_t k0, uint64_t k1);

/* Slots of the table. */
uint32_t xf_dedup_capacity(const xf_dedup_t *t);

/*
 * The key of one event of format f (its JSON object p, len, as the
 * format adapter gave it) for app: from its id (see above), else from
 * its bytes.  *by_id (may be NULL) says which.  Never 0.
 */
uint64_t xf_dedup_event_key(const xf_dedup_t *t, xf_format_t f,
    const u_char *app, size_t app_len, const u_char *p, size_t len,
    int *by_id);

/*
 * Whether key was recorded and is still live at now (ms, a clock all
 * workers share): XF_DEDUP_AGAIN, else XF_DEDUP_FIRST.  Lock-free, any
 * number of processes at once.
 */
int xf_dedup_seen(const xf_dedup_t *t, uint64_t key, uint64_t now);

/*
 * Record key as seen until now + window (a live entry is renewed).
 * Lock-free, any number of processes at once.
 */
void xf_dedup_set(xf_dedup_t *t, uint64_t key, uint64_t now,
    uint64_t window);

#endif /* XF_DEDUP_H */
