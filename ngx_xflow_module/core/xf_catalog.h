/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_catalog.h - the event catalog: what arrives, per app, format and
 * event name, in a bounded table in memory shared by all workers.
 *
 * Per entry: events and their bytes as sent, invalid events by reason,
 * the first and last time seen, how the events met the tracking plan,
 * and the most common property names with the JSON types seen for each.
 *
 * Bounded twice over, so that a flood of made-up names costs accuracy,
 * never memory:
 *   - entries: when the table is full, a new name takes the place of the
 *     least seen of XF_CATALOG_SAMPLES entries looked at (an
 *     approximation of "the least seen entry" that costs the same
 *     whatever the table's size); a new name is by then the least seen,
 *     so names that fire keep their place;
 *   - properties: XF_CATALOG_PROPS per entry kept by the Space-Saving
 *     algorithm (a property not kept replaces the least counted one and
 *     inherits its count plus one): every property seen more often than
 *     events / XF_CATALOG_PROPS is in the list, and a count is never
 *     below the true one.
 *
 * The table holds offsets, never pointers: each process may map it
 * anywhere, and a copy of its bytes (xf_catalog_size()) is a table too,
 * which is how the glue renders it outside its lock.  The table does not
 * lock: the caller serialises xf_catalog_record() and copies.
 */

#ifndef XF_CATALOG_H
#define XF_CATALOG_H

#include "xf_core.h"
#include "xf_format.h"


#define XF_CATALOG_APP_MAX      64      /* bytes kept of an app */
#define XF_CATALOG_NAME_MAX     96      /* ... of an event name */
#define XF_CATALOG_PROP_MAX     32      /* ... of a property name */
#define XF_CATALOG_PROPS        16      /* properties kept per entry */
#define XF_CATALOG_SAMPLES      16      /* entries looked at to evict */
#define XF_CATALOG_EVENT_PROPS  64      /* properties read per event */


/* How an event met the tracking plan (xf_plan.h). */
typedef enum {
    XF_CATALOG_PLAN_NONE = 0,       /* no plan for its app */
    XF_CATALOG_PLAN_CONFORMS,
    XF_CATALOG_PLAN_UNKNOWN,        /* an event the plan does not list */
    XF_CATALOG_PLAN_INVALID,        /* listed, but its properties fail */
    XF_CATALOG_PLAN_MAX
} xf_catalog_plan_t;


/* One event as the catalog takes it; strings stay the caller's. */
typedef struct {
    xf_str_t            app;
    xf_str_t            name;
    xf_format_t         format;
    const u_char       *p;          /* the event's bytes: the properties */
    size_t              len;        /* and the bytes counted */
    xf_status_t         error;      /* XF_OK or why it is invalid */
    xf_catalog_plan_t   plan;
} xf_catalog_event_t;


typedef struct xf_catalog_s  xf_catalog_t;


/* Bytes of a table of capacity entries. */
size_t xf_catalog_size_for(uint32_t capacity);

/* The most entries that fit in size bytes (0: not even one). */
uint32_t xf_catalog_capacity_for(size_t size);

/*
 * Use size bytes at mem (8-byte aligned) as a table of as many entries
 * as fit, with seed for its hash (so that no client can aim names at one
 * chain).  When mem already holds a table of the same layout and size (a
 * reload handing the old zone to the new cycle), its entries and seed
 * are kept; otherwise mem is cleared and the table is new, started at
 * now (seconds).  NULL when size holds no entry.
 */
xf_catalog_t *xf_catalog_init(void *mem, size_t size, uint64_t seed,
    uint64_t now);

/* The table's bytes, from its start: what a copy must take. */
size_t xf_catalog_size(const xf_catalog_t *cat);

/*
 * Count one event at now (seconds).  An event whose entry is new takes a
 * free entry, or the place of the least seen of XF_CATALOG_SAMPLES
 * entries: then 1 is returned (the caller counts evictions), else 0.
 * The properties of a valid event are those of its "properties" object,
 * else of its "event_properties" object (Amplitude), else its top-level
 * members; at most XF_CATALOG_EVENT_PROPS are read per event.  No
 * allocation; the caller holds the table's lock.
 */
unsigned xf_catalog_record(xf_catalog_t *cat, const xf_catalog_event_t *ev,
    uint64_t now);

/* Entries in use, entries of the table, entries evicted so far. */
uint32_t xf_catalog_used(const xf_catalog_t *cat);
uint32_t xf_catalog_capacity(const xf_catalog_t *cat);
uint64_t xf_catalog_evicted(const xf_catalog_t *cat);

/* The name of a plan result: "none", "conforms", "unknown", "invalid". */
const char *xf_catalog_plan_name(xf_catalog_plan_t plan);


/*
 * The table as JSON (docs/catalog.md has the shape): totals, then every
 * entry, most events first; an app given (len > 0) keeps only its
 * entries.  out must be zeroed; out->p is allocated with a and is the
 * caller's to free, on error too.  XF_OK, or XF_ERR_NOMEM.
 */
xf_status_t xf_catalog_render(const xf_catalog_t *cat, const xf_str_t *app,
    uint64_t now, xf_buf_t *out, const xf_alloc_t *a);

#endif /* XF_CATALOG_H */
