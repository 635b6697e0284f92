/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_ledger.h - where every event the gateway read went: the ledger, in
 * memory shared by all processes (nginx shared memory, or any MAP_SHARED
 * mapping).
 *
 * An event is received once, and then has exactly one fate, or is still
 * on its way:
 *
 *   received --+--> dead_lettered, duplicate, dropped, refused   (ingest)
 *              |
 *              +--> in_flight --+--> delivered, failed           (report)
 *              |                |
 *              +--> spooled <---+     (spool_entered counts these)
 *                     |
 *                     +--> delivered, failed                     (replay)
 *
 *   in_flight of a process that died --> orphaned (settled by the next
 *   process that claims a slot)
 *
 * so that at every moment
 *
 *   received = delivered + spooled + dead_lettered + duplicate + dropped
 *              + refused + failed + orphaned + in_flight
 *
 * Every fate but spooled is final: its count only grows.  spooled is
 * where an event rests while it is on the spool's disk; it leaves it
 * once, when a replay is acknowledged (the spool's acknowledgement file
 * keeps a replay that comes again from counting twice), so the sum of
 * the slots never reads below 0.  spool_entered counts what went onto
 * the spool (a flow, never going down), beside the fates.
 *
 * Each process writes its own slot, claimed by its pid, and is its only
 * writer: a change is a delta applied to a copy of the slot's cells, and
 * the copy is published with one store (two copies, a sequence number
 * says which is current).  A reader therefore sees a slot as one of its
 * published states, never halfway through a change, and a process killed
 * in the middle of one leaves the last published state behind.  Callers
 * publish only balanced deltas (xf_ledger_balanced), so every state a
 * reader can see balances, slot by slot, and so does their sum.
 *
 * Nothing here logs, reads a clock or keeps global state.
 */

#ifndef XF_LEDGER_H
#define XF_LEDGER_H

#include "xf_core.h"
#include "xf_metrics.h"


/* The cells of a slot; the fates come first, in their label order. */
typedef enum {
    XF_LEDGER_DELIVERED = 0,    /* Kafka acknowledged it */
    XF_LEDGER_SPOOLED,          /* on the spool now (not final) */
    XF_LEDGER_DEAD_LETTERED,    /* invalid: its dead letter went out */
    XF_LEDGER_DUPLICATE,        /* seen within the dedup window */
    XF_LEDGER_DROPPED,          /* a rule discarded it */
    XF_LEDGER_REFUSED,          /* its request got a retry or limit status */
    XF_LEDGER_FAILED,           /* refused by Kafka for good, or lost */
    XF_LEDGER_ORPHANED,         /* in flight in a process that died */
    XF_LEDGER_FATES,
    XF_LEDGER_RECEIVED = XF_LEDGER_FATES,
    XF_LEDGER_IN_FLIGHT,        /* gauge: producer queue, awaiting a report */
    XF_LEDGER_SPOOL_ENTERED,    /* counter: went onto the spool */
    XF_LEDGER_CELLS
} xf_ledger_cell_t;


/* The label value of a fate ("delivered", ...); NULL out of range. */
const char *xf_ledger_fate_name(xf_ledger_cell_t fate);


/* A change, or a slot's state: signed, a slot may give what it did not
   take (a worker replays what a dead one spooled). */
typedef struct {
    int64_t         v[XF_LEDGER_CELLS];
} xf_ledger_cells_t;

/*
 * received minus everything it must equal: 0 for a balanced delta or
 * state.
 */
int64_t xf_ledger_unbalanced(const xf_ledger_cells_t *c);

/* 1 when xf_ledger_unbalanced(c) is 0 */
#define xf_ledger_balanced(c)  (xf_ledger_unbalanced(c) == 0)

/*
 * Add to d the move of n events from where they were to where they are
 * now, which keeps d balanced:
 *   from XF_LEDGER_RECEIVED      n events just read (received grows)
 *   from XF_LEDGER_IN_FLIGHT     n events that were in flight
 *   from XF_LEDGER_SPOOLED       n events that were on the spool
 *   to a fate or XF_LEDGER_IN_FLIGHT; to XF_LEDGER_SPOOLED counts them in
 *   XF_LEDGER_SPOOL_ENTERED too.
 * Any other from or to is ignored.
 */
void xf_ledger_move(xf_ledger_cells_t *d, xf_ledger_cell_t from,
    xf_ledger_cell_t to, int64_t n);

/* 1 when every cell of c is 0 */
int xf_ledger_empty(const xf_ledger_cells_t *c);


typedef struct xf_ledger_s  xf_ledger_t;


/*
 * Every slot counts per series: a location and a format, the labels of
 * the ledger's families.  Series 0 ("unknown", "unknown") takes what no
 * series names: records spooled before series existed, and what comes
 * when every series is taken.  The names are shared by the processes and
 * kept by a reload; the configuration makes them, so their number is
 * bounded by it.
 */
#define XF_LEDGER_SERIES        64
#define XF_LEDGER_LOCATION_MAX  63      /* bytes of a location's name */
#define XF_LEDGER_FORMAT_MAX    15

/* Bytes of a ledger of nslots slots. */
size_t xf_ledger_size(uint32_t nslots);

/*
 * Use size bytes at mem (8-byte aligned) as a ledger.  When mem already
 * holds a ledger of the same layout (a reload handing the old zone to
 * the new cycle) it is kept, counts, owners and generation; otherwise
 * mem is cleared and holds as many slots as fit, and generation (the
 * caller's, unique to this count: spool segments record which counts
 * have their events) is its own.  *fresh (may be NULL) says which.
 * Returns NULL when size is too small for 2 slots.  Offsets only: each
 * process may map it at its own address.
 */
xf_ledger_t *xf_ledger_init(void *mem, size_t size, uint64_t generation,
    int *fresh);

/* The generation the ledger was created with. */
uint64_t xf_ledger_generation(const xf_ledger_t *l);

/* Slots of the ledger. */
uint32_t xf_ledger_nslots(const xf_ledger_t *l);

/*
 * The series of location and format, added when it is new (cut to
 * XF_LEDGER_LOCATION_MAX and XF_LEDGER_FORMAT_MAX bytes, on a UTF-8
 * boundary).  Returns 0 (the series of what no series names) when
 * either is empty or every series is taken.  One writer at a time (the
 * master); any number of readers.
 */
int32_t xf_ledger_series(xf_ledger_t *l, const u_char *location,
    size_t location_len, const u_char *format, size_t format_len);

/* As xf_ledger_series, but never adds one: 0 when there is none. */
int32_t xf_ledger_series_find(const xf_ledger_t *l, const u_char *location,
    size_t location_len, const u_char *format, size_t format_len);

/*
 * The location and format of series, pointing into the ledger (not
 * NUL-terminated).  Returns 0 when there is no such series.
 */
int xf_ledger_series_name(const xf_ledger_t *l, int32_t series,
    const char **location, size_t *location_len, const char **format,
    size_t *format_len);

/* The longest origin xf_ledger_origin writes. */
#define XF_LEDGER_ORIGIN_MAX  (XF_LEDGER_FORMAT_MAX + 1 \
                               + XF_LEDGER_LOCATION_MAX)

/*
 * A series as a spool record's origin: "<format> <location>" into buf,
 * its length returned; 0 for series 0 or when it does not fit (the
 * record then has no origin).  XF_LEDGER_ORIGIN_MAX bytes always fit.
 */
size_t xf_ledger_origin(const xf_ledger_t *l, int32_t series, u_char *buf,
    size_t size);

/*
 * The series of an origin that xf_ledger_origin wrote: found, or with add
 * added (xf_ledger_series: the master only).  0 for an empty or
 * malformed origin (a record of an earlier version) and for one that
 * names no series.
 */
int32_t xf_ledger_origin_series(const xf_ledger_t *l, const u_char *p,
    size_t len, int add);

/* Whether process pid still runs (kill(pid, 0)): the caller's. */
typedef int (*xf_ledger_alive_pt)(int64_t pid, void *data);

/*
 * Take a slot for process pid: a free one, or that of a process that is
 * gone.  Before that, every slot whose process is gone is settled: its
 * in_flight events become orphaned (the process cannot report them any
 * more) and the slot is freed.  Returns the slot, or -1 when every slot
 * belongs to a live process.  Slots keep their counts when they change
 * hands: totals never go down.  Several processes may claim at once.
 */
int32_t xf_ledger_claim(xf_ledger_t *l, int64_t pid,
    xf_ledger_alive_pt alive, void *data);

/*
 * Give the slot back (a process that exits); its in_flight, if any,
 * become orphaned.  Only its owner calls it.
 */
void xf_ledger_release(xf_ledger_t *l, int32_t slot, int64_t pid);

/*
 * Add delta to the series of the slot and publish the result.  Only the
 * slot's owner calls it (one writer per slot); any number of readers may
 * read at the same time.
 */
void xf_ledger_commit(xf_ledger_t *l, int32_t slot, int32_t series,
    const xf_ledger_cells_t *delta);

/*
 * A published state of the series of the slot, read while its owner may
 * be writing.  Returns 1, or 0 when the owner published too often to
 * catch one (after many tries; *c then holds the last try).
 */
int xf_ledger_read(const xf_ledger_t *l, int32_t slot, int32_t series,
    xf_ledger_cells_t *c);

/*
 * The sum of the series' published state in every slot.  Returns 1 when
 * every slot was read whole.
 */
int xf_ledger_series_total(const xf_ledger_t *l, int32_t series,
    xf_ledger_cells_t *sum);

/*
 * The sum of every series of every slot, and of their imbalances (which
 * is the imbalance of the sum).  Returns 1 when all was read whole.
 */
int xf_ledger_total(const xf_ledger_t *l, xf_ledger_cells_t *sum);


/*
 * Append the ledger in Prometheus text format (0.0.4), labelled by
 * location and format, a sample per series (series 0 only once it
 * counts): xflow_ledger_received_events_total,
 * xflow_ledger_events_total{fate} (the final fates),
 * xflow_ledger_spooled_events (the spooled fate, a gauge),
 * xflow_ledger_spool_entered_events_total, xflow_ledger_in_flight_events;
 * and xflow_ledger_unbalanced_events for the whole ledger.  XF_OK or
 * XF_ERR_NOMEM (out keeps what was written; free out->p with a).
 */
xf_status_t xf_ledger_render(const xf_ledger_t *l, xf_buf_t *out,
    const xf_alloc_t *a);

#endif /* XF_LEDGER_H */
