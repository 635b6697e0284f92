/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_impl.h - private to the spool files: the segment list, the
 * read buffer, the spool's state, and the functions the files share.
 */

#ifndef XF_SPOOL_IMPL_H
#define XF_SPOOL_IMPL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_spool.h"


#define XF_SPOOL_NAME_LEN      64
#define XF_SPOOL_OWNER_MAX     32
#define XF_SPOOL_SEGMENT_SIZE  ((uint64_t) 16 * 1024 * 1024)
#define XF_SPOOL_READ_CHUNK    ((size_t) 64 * 1024)
#define XF_SPOOL_CREATE_TRIES  64


typedef struct xf_spool_seg_s  xf_spool_seg_t;

struct xf_spool_seg_s {
    xf_spool_seg_t      *next;
    xf_spool_seg_t      *prev;
    uint64_t             id;            /* spool-local, for positions */
    uint64_t             seq;
    int                  fd;            /* holds the lock */
    unsigned             dirty:1;       /* written since the last fsync */
    unsigned             adopted:1;
    uint64_t             size;          /* bytes of whole records */
    uint64_t             records;       /* not yet acknowledged */
    uint64_t             read;          /* replay offset */
    uint64_t             outstanding;   /* handed out, not acked */
    int                  ackfd;         /* its .xfa once written; -1 */
    uint64_t            *acked;         /* offsets acknowledged before it
                                           was adopted, ascending */
    size_t               nacked;
    char                 name[XF_SPOOL_NAME_LEN];
};


/*
 * A read buffer over one file: buf holds the file's bytes
 * [off, off + len).  fd -1: holds nothing.
 */
typedef struct {
    const xf_alloc_t    *alloc;
    u_char              *buf;
    size_t               cap;
    int                  fd;
    uint64_t             off;
    size_t               len;
} xf_spool_reader_t;


struct xf_spool_s {
    xf_spool_conf_t      conf;          /* dir and owner point below */
    char                *dir;
    char                 owner[XF_SPOOL_OWNER_MAX + 1];
    int                  dirfd;
    unsigned             dir_dirty:1;   /* a segment created since sync */

    xf_spool_seg_t      *head;          /* name order */
    xf_spool_seg_t      *tail;
    xf_spool_seg_t      *active;        /* appended to; NULL: none yet */
    xf_spool_seg_t      *replay;        /* being read by next() */

    uint64_t             next_seq;
    uint64_t             next_id;
    uint64_t             appended;
    uint64_t             durable;
    uint64_t             sync_due;

    u_char              *wbuf;
    size_t               wcap;
    xf_spool_reader_t    rd;

    int                  err;
    const char          *errcall;
    xf_spool_stats_t     stats;
};


/* xf_spool.c */

/* errno and the failed call, kept for xf_spool_errno(); XF_SPOOL_IO. */
xf_spool_rc_t xf_spool_fail(xf_spool_t *sp, const char *call);

/* At least need bytes in *buf; its contents do not survive a growth. */
int xf_spool_grow(const xf_alloc_t *a, u_char **buf, size_t *cap,
    size_t need);


/* xf_spool_segment.c */

/*
 * "<16 lowercase hex>-<owner>.xfs", or with ".new" appended (*tmp = 1):
 * a segment being created.  Anything else is not ours to touch.
 */
int xf_spool_segment_parse_name(const char *name, uint64_t *seq, int *tmp);

/* Is fd still the file dir/name?  (It may have been unlinked or replaced.) */
int xf_spool_segment_same_file(int dirfd, const char *name, int fd);

/* Delete a *.xfs.new nobody holds: a creation a crash interrupted. */
void xf_spool_segment_clean_tmp(int dirfd, const char *name);

/* Create, lock and name a new active segment. */
xf_spool_rc_t xf_spool_segment_create(xf_spool_t *sp);

/* Add seg to the list (name order) and to the stats. */
void xf_spool_segment_insert(xf_spool_t *sp, xf_spool_seg_t *seg);

xf_spool_seg_t *xf_spool_segment_find(xf_spool_t *sp, const char *name);

/* Forget seg, unlinking it first if asked; closing it drops the lock. */
xf_spool_rc_t xf_spool_segment_drop(xf_spool_t *sp, xf_spool_seg_t *seg,
    int unlink_it);

/* Delete seg if nothing in it is left to do. */
xf_spool_rc_t xf_spool_segment_retire(xf_spool_t *sp, xf_spool_seg_t *seg);

/* No more appends to the active segment: the next append starts one. */
void xf_spool_segment_seal(xf_spool_t *sp);


/* xf_spool_read.c */

/* The reader no longer holds bytes of fd (-1: of any file). */
void xf_spool_read_forget(xf_spool_reader_t *rd, int fd);

/* Decode the record at offset off of fd, using no byte at or past end. */
xf_spool_rc_t xf_spool_read(xf_spool_reader_t *rd, int fd, uint64_t off,
    uint64_t end, xf_spool_record_t *r, size_t *size);

/*
 * Count the whole records of fd and where they end (the scan result);
 * records at an offset of acked[0..nacked) are counted in res->acked
 * and not in res->marked; each marked one is handed to each (may be
 * NULL).
 */
xf_spool_rc_t xf_spool_read_walk(xf_spool_reader_t *rd, int fd,
    const uint64_t *acked, size_t nacked, xf_spool_marked_pt each,
    void *data, xf_spool_scan_t *res);


/* xf_spool_acked.c: a segment's acknowledgement file, "<seq>-<owner>.xfa" */

/* An entry that is a generation's mark (xf_spool.h), not an offset. */
#define XF_SPOOL_ACKED_GEN  ((uint64_t) 1 << 63)

/* Open (create) the acknowledgement file of segment for appending. */
int xf_spool_acked_open(int dirfd, const char *segment);

/* Append the entry v to the file open as fd: 0, or -1 (errno). */
int xf_spool_acked_put(int fd, uint64_t v);

/* 1 when name is an acknowledgement file's (its seq in *seq). */
int xf_spool_acked_parse_name(const char *name, uint64_t *seq);

/* Delete the acknowledgement file name when its segment is gone. */
void xf_spool_acked_clean(int dirfd, const char *name);

/* Append off to seg's acknowledgement file (opened on first use). */
xf_spool_rc_t xf_spool_acked_write(xf_spool_t *sp, xf_spool_seg_t *seg,
    uint64_t off);

/*
 * The offsets in the acknowledgement file of the segment named segment,
 * ascending, once each, into *acked (free with a; NULL when none);
 * *counted: the file lists generation (never for 0).
 */
xf_spool_rc_t xf_spool_acked_load(int dirfd, const char *segment,
    const xf_alloc_t *a, uint64_t generation, int *counted,
    uint64_t **acked, size_t *nacked);

/* Append the spool's generation to seg's acknowledgement file. */
xf_spool_rc_t xf_spool_acked_mark(xf_spool_t *sp, xf_spool_seg_t *seg);

/* 1 when off is in acked[0..nacked). */
int xf_spool_acked_has(const uint64_t *acked, size_t nacked, uint64_t off);

/* Delete the acknowledgement file of the segment named segment. */
void xf_spool_acked_remove(int dirfd, const char *segment);

/* Close seg's acknowledgement file, deleting it if asked; free acked. */
void xf_spool_acked_drop(xf_spool_t *sp, xf_spool_seg_t *seg,
    int unlink_it);


/* xf_spool_sync.c: fsync every dirty segment and the directory */
xf_spool_rc_t xf_spool_sync_all(xf_spool_t *sp);

#endif /* XF_SPOOL_IMPL_H */
