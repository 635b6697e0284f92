/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool.h - a worker's on-disk spool: append-only segment files of
 * spool records (xf_spool_record.h), size-accounted, fsynced per policy,
 * replayed in order, and adopted from workers that are gone.
 *
 *   dir/
 *     0000000000000007-4711.xfs  orphan of dead pid 4711: lock free
 *     0000000000000009-5120.xfs  sealed, ours (locked)  <-- replay
 *     000000000000000a-5120.xfs  active, ours (locked)  <-- append
 *     000000000000000b-5121.xfs  another live worker's (locked)
 *
 *   xf_spool_t: segments in name order (seq, then owner), own and adopted
 *
 *     +-----------+    +-----------+    +-----------+
 *     | seg 7     |--->| seg 9     |--->| seg a     |
 *     | adopted   |    | sealed    |    | active    |<-- appends
 *     +-----------+    +-----------+    +-----------+
 *     |rec|rec|rec|    |rec|rec|...
 *            ^ read offset: next() hands out records from here
 *     outstanding: handed out, delivery report not back yet
 *
 * A segment is named <seq as 16 hex digits>-<owner>.xfs and holds
 * nothing but records, back to back.  Its owner keeps an exclusive
 * flock(2) on it from creation (under a temporary name, renamed when
 * locked) until it is deleted or the owner exits: a segment whose lock
 * can be taken belongs to nobody, and any worker may adopt it.  The kernel
 * drops the locks of a process that dies, so a crash leaves adoptable
 * orphans without any cleanup.
 *
 * Replay reads the oldest segment first (sealed and adopted ones; the
 * active segment is sealed when replay reaches it).  A segment is
 * deleted when it is sealed, read to its end, and every record read from
 * it was acknowledged: delivery reports may come back in any order, so
 * each segment counts its outstanding records.  A record whose replay
 * fails again is appended anew by the caller (attempt + 1) and the old
 * copy acknowledged, so a segment never waits on one bad record.
 *
 * Durability: every append gets an id (1, 2, ...); xf_spool_durable()
 * is the highest id whose record is durable per the fsync policy.
 *
 * Counting: whoever counts the events of marked records (the ledger)
 * names its count's generation (conf.generation, never 0; a restart or a
 * binary upgrade starts a new one).  A segment's acknowledgement file
 * lists the generations that counted its records: its creator's, from
 * its creation, and an adopter's of another generation, which first
 * hands each marked record not acknowledged to conf.foreign.  So a
 * record enters each count once, whoever adopts it.
 *
 * The directory must exist and be writable and searchable by the process
 * (rwx for the worker user: files are created, locked, renamed and
 * unlinked there); files are created 0600.  The spool does no logging,
 * reads no clock (the caller passes now, in ms) and keeps no global state.
 * Not thread-safe: one spool belongs to one thread of one process, opened
 * after fork (locks and fds are per process; fds are O_CLOEXEC).
 */

#ifndef XF_SPOOL_H
#define XF_SPOOL_H

#include <sys/types.h>

#include "xf_core.h"
#include "xf_spool_record.h"


/*
 * Called with each marked record (XF_SPOOL_LEDGER_HEADER) not yet
 * counted: by xf_spool_dir_marked, and by adoption (conf.foreign).  The
 * record is valid during the call only.
 */
typedef void (*xf_spool_marked_pt)(void *data, const xf_spool_record_t *r);


typedef enum {
    XF_SPOOL_FSYNC_ALWAYS = 0,      /* fsync before append returns */
    XF_SPOOL_FSYNC_INTERVAL,        /* fsync from xf_spool_sync() when due */
    XF_SPOOL_FSYNC_OFF              /* never: the page cache only */
} xf_spool_fsync_t;


typedef struct {
    const char          *dir;
    const char          *owner;         /* 1..32 of [A-Za-z0-9_-], unique
                                           among live users of dir: the pid */
    uint64_t             max_size;      /* bytes; xf_spool_full() at or above
                                           it; 0: no cap */
    uint64_t             high_water;    /* bytes; 0: 90% of max_size */
    uint64_t             segment_size;  /* rotate when a segment would grow
                                           past it; 0: 16 MiB */
    size_t               max_record;    /* largest record appended; 0 and
                                           above XF_SPOOL_RECORD_MAX: that */
    xf_spool_fsync_t     fsync;
    uint64_t             fsync_interval;    /* ms, for FSYNC_INTERVAL */
    const xf_alloc_t    *alloc;         /* must really free: segments come
                                           and go for the process lifetime */
    uint64_t             generation;    /* of the count the marked records
                                           are in; 0: none (see below) */
    xf_spool_marked_pt   foreign;       /* a marked record adopted from a
                                           segment of another generation */
    void                *foreign_data;
} xf_spool_conf_t;


/* Where a replayed record came from, for xf_spool_ack(). */
typedef struct {
    uint64_t             segment;       /* the spool's id of its segment */
    uint64_t             offset;        /* the record's offset in it */
} xf_spool_pos_t;


typedef struct {
    uint64_t             bytes;         /* gauge: bytes in segments held */
    uint64_t             records;       /* gauge: records not acknowledged */
    uint64_t             segments;      /* gauge: segments held */
    uint64_t             inflight;      /* gauge: handed out, not acked */
    uint64_t             appended;      /* records appended */
    uint64_t             appended_bytes;
    uint64_t             replayed;      /* records acknowledged */
    uint64_t             adopted;       /* records adopted */
    uint64_t             adopted_segments;
    uint64_t             corrupt;       /* tails cut: torn or corrupt */
    uint64_t             corrupt_bytes; /* bytes cut */
    uint64_t             errors;        /* failed appends and syncs */
} xf_spool_stats_t;


/*
 * The header that marks a record as one event of the gateway's ledger
 * (its value is empty): dead letters and other messages that are no
 * event are spooled without it.  Spool metadata, never sent to Kafka.
 */
#define XF_SPOOL_LEDGER_HEADER  "xflow-ledger"


/* Status of a segment file found by xf_spool_segment_scan(). */
typedef struct {
    uint64_t             file_size;
    uint64_t             good;          /* bytes of whole valid records */
    uint64_t             records;       /* their number */
    uint64_t             marked;        /* of them, XF_SPOOL_LEDGER_HEADER,
                                           not acknowledged */
    uint64_t             acked;         /* of them, acknowledged (the
                                           segment's .xfa file) */
    xf_spool_rc_t        tail;          /* OK, NEED_MORE (torn), CORRUPT */
} xf_spool_scan_t;


typedef struct xf_spool_s  xf_spool_t;


/*
 * Open the spool of owner in conf->dir.  Creates no file: the first
 * segment is created by the first append.  Scans dir for the highest
 * sequence number so that new segments sort after every existing one,
 * and removes temporary files (*.xfs.new) that nobody holds.
 *
 * XF_SPOOL_INVALID: a bad owner or conf.  XF_SPOOL_IO: dir cannot be
 * opened, read or written (errno says why, e.g. ENOENT, ENOTDIR,
 * EACCES).  XF_SPOOL_NOMEM.
 */
xf_spool_rc_t xf_spool_open(xf_spool_t **sp, const xf_spool_conf_t *conf);

/*
 * Append one record at the tail.  *id (may be NULL) receives its append
 * id, also on XF_SPOOL_IO when the write succeeded and only the fsync
 * failed.  Never refuses because of max_size: records already accepted
 * must not be dropped; the caller refuses new work while xf_spool_full().
 *
 * FSYNC_ALWAYS: the record (and, for a new segment, the directory entry)
 * is fsynced before return.  INTERVAL: xf_spool_sync_due() becomes now +
 * interval if nothing was pending.  OFF: durable at once as far as this
 * spool will ever make it (survives a process crash, not a power loss).
 *
 * XF_SPOOL_INVALID or XF_SPOOL_TOO_LARGE (over max_record): nothing
 * written.  XF_SPOOL_IO: the write or fsync failed (errno via
 * xf_spool_errno()); after a failed write the file is cut back to its
 * last whole record, so it never holds a torn record from this call, and
 * the segment is sealed.  XF_SPOOL_NOMEM.
 */
xf_spool_rc_t xf_spool_append(xf_spool_t *sp, const xf_spool_record_t *r,
    uint64_t now, uint64_t *id);

/* The highest append id so far, and the highest durable one. */
uint64_t xf_spool_appended(const xf_spool_t *sp);
uint64_t xf_spool_durable(const xf_spool_t *sp);

/*
 * FSYNC_INTERVAL: fsync every segment written since the last sync, and
 * the directory when a segment was created, if now >= xf_spool_sync_due().
 * Other policies, or nothing due: XF_SPOOL_OK, nothing done.
 * XF_SPOOL_IO: an fsync failed; the records concerned may be lost (the
 * kernel may have dropped the dirty pages): the caller must fail now
 * whoever waits on an id above xf_spool_durable().  A later sync may move
 * the mark past those ids; that proves nothing about them.
 */
xf_spool_rc_t xf_spool_sync(xf_spool_t *sp, uint64_t now);

/* As xf_spool_sync, now and under any policy (for exit). */
xf_spool_rc_t xf_spool_flush(xf_spool_t *sp);

/* When xf_spool_sync() has work, in ms; 0 when it has none. */
uint64_t xf_spool_sync_due(const xf_spool_t *sp);

/*
 * Adopt orphan segments: every *.xfs in dir not held by this spool whose
 * lock can be taken.  Each is validated record by record; a torn or
 * corrupt tail is cut off (ftruncate to the last whole record) and
 * counted; an empty one is deleted; the rest is queued for replay in
 * name order and its lock kept.  Stops after max adoptions (0: no
 * limit) with XF_SPOOL_AGAIN; *adopted (may be NULL) gets the number of
 * segments taken.  Files it cannot open or lock are skipped (a live
 * owner, or another user's file).  XF_SPOOL_IO: dir cannot be read.
 */
xf_spool_rc_t xf_spool_adopt(xf_spool_t *sp, unsigned max,
    unsigned *adopted);

/*
 * Hand out the next record to replay, oldest segment first.  *r points
 * into the spool's read buffer, valid until the next call of
 * xf_spool_next, xf_spool_adopt or xf_spool_close; *pos identifies it for
 * xf_spool_ack.  A record that fails its checks here (the disk changed
 * under us) ends that segment's replay: its rest is counted as corrupt.
 * XF_SPOOL_EMPTY: nothing to replay.  XF_SPOOL_IO, XF_SPOOL_NOMEM.
 */
xf_spool_rc_t xf_spool_next(xf_spool_t *sp, xf_spool_record_t *r,
    xf_spool_pos_t *pos);

/*
 * The record at pos is delivered (or re-appended by the caller): in any
 * order.  Its offset goes to the segment's acknowledgement file first,
 * so that whoever adopts the segment skips it.  Deletes its segment when
 * that was the last one outstanding of a sealed, fully read segment.
 * XF_SPOOL_INVALID: pos names no segment with records outstanding.
 * XF_SPOOL_IO: the acknowledgement could not be written, or the unlink
 * failed (the record is acknowledged here all the same, and would be
 * replayed again by whoever adopts the segment).
 */
xf_spool_rc_t xf_spool_ack(xf_spool_t *sp, const xf_spool_pos_t *pos);

/* stats.bytes >= max_size (never with max_size 0). */
int xf_spool_full(const xf_spool_t *sp);

/* stats.bytes >= high_water (never with max_size 0). */
int xf_spool_high_water(const xf_spool_t *sp);

/* The spool's counters, owned by the spool, updated in place. */
const xf_spool_stats_t *xf_spool_stats(const xf_spool_t *sp);

/* The errno of the last XF_SPOOL_IO, and the call that failed. */
int xf_spool_errno(const xf_spool_t *sp, const char **call);

/*
 * Flush (unless FSYNC_OFF), release every lock and free the spool.
 * Segments with records not yet acknowledged stay for adoption (records
 * handed out and not acked are replayed again: at-least-once); an empty
 * active segment is deleted.  Returns what the flush returned.
 */
xf_spool_rc_t xf_spool_close(xf_spool_t *sp);

/*
 * Walk the segment file open as fd from its start: how much of it is
 * whole valid records (any record up to XF_SPOOL_RECORD_MAX).  Reads in
 * chunks, never the whole file at once; changes nothing.
 */
xf_spool_rc_t xf_spool_segment_scan(int fd, const xf_alloc_t *a,
    xf_spool_scan_t *res);

/* 1 when r carries XF_SPOOL_LEDGER_HEADER. */
int xf_spool_record_marked(const xf_spool_record_t *r);

/*
 * r's first header named name (NUL-terminated), pointing into r; NULL
 * when it has none.
 */
const xf_spool_header_t *xf_spool_record_header(const xf_spool_record_t *r,
    const char *name);

/*
 * Count the whole records with XF_SPOOL_LEDGER_HEADER that no
 * acknowledgement file lists, in the segments of dir, into *marked, each
 * handed to each(data, record) first when each is not NULL.  generation
 * 0: every segment, held or not, read only.  Else only the segments no
 * process holds (the lock is taken for the count) and whose file does
 * not list generation, which is then appended to it: each segment is
 * counted once by a generation, and a live process's is left for
 * adoption.  Nothing is cut or deleted.  XF_SPOOL_OK; XF_SPOOL_IO when
 * dir cannot be read (a segment that cannot be opened is skipped);
 * XF_SPOOL_NOMEM.
 */
xf_spool_rc_t xf_spool_dir_marked(const char *dir, const xf_alloc_t *a,
    uint64_t generation, xf_spool_marked_pt each, void *data,
    uint64_t *marked);

#endif /* XF_SPOOL_H */
