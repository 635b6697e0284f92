/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_acked.c - a segment's acknowledgement file: the offsets of its
 * records that were delivered (or appended anew), so that whoever reads
 * the segment after its owner stopped skips them.
 *
 *   0000000000000009-5120.xfs   records
 *   0000000000000009-5120.xfa   offsets acknowledged: 8 bytes each,
 *                               little-endian, in ack order; an entry
 *                               with the top bit set is a generation
 *                               that counted the segment (xf_spool.h)
 *
 * A segment is deleted once every record in it is acknowledged; until
 * then a worker that stops (a reload, a SIGKILL) leaves it to an
 * adopter, which without this file would replay what was already
 * delivered: a second copy in Kafka, and a second time the event leaves
 * the ledger's spooled fate.  The offset is written before the caller
 * counts the delivery, so a record can be counted twice only if nothing
 * of the write reached the file; a torn last entry (fewer than 8 bytes)
 * is ignored.  Not fsynced: a crash of the machine restarts the ledger
 * too, and replays are at-least-once anyway.  The file goes with its
 * segment (segment first: a file left without its segment is deleted at
 * the next open or adoption).
 */

#include "xf_spool_impl.h"
#include "xf_realloc.h"


#define XF_SPOOL_ACKED_ENTRY  8


/* "<seq>-<owner>.xfa" for the segment "<seq>-<owner>.xfs". */
static void
xf_spool_acked_name(const char *segment, char *name)
{
    size_t  n;

    n = strlen(segment);
    memcpy(name, segment, n + 1);
    name[n - 1] = 'a';
}


int
xf_spool_acked_parse_name(const char *name, uint64_t *seq)
{
    int     tmp;
    size_t  n;
    char    seg[XF_SPOOL_NAME_LEN];

    n = strlen(name);

    if (n < 5 || n >= XF_SPOOL_NAME_LEN
        || strcmp(name + n - 4, ".xfa") != 0)
    {
        return 0;
    }

    memcpy(seg, name, n + 1);
    seg[n - 1] = 's';

    return xf_spool_segment_parse_name(seg, seq, &tmp) && !tmp;
}


void
xf_spool_acked_clean(int dirfd, const char *name)
{
    size_t  n;
    char    seg[XF_SPOOL_NAME_LEN];

    n = strlen(name);
    memcpy(seg, name, n + 1);
    seg[n - 1] = 's';

    if (faccessat(dirfd, seg, F_OK, AT_SYMLINK_NOFOLLOW) != 0
        && errno == ENOENT)
    {
        (void) unlinkat(dirfd, name, 0);
    }
}


int
xf_spool_acked_open(int dirfd, const char *segment)
{
    char  name[XF_SPOOL_NAME_LEN];

    xf_spool_acked_name(segment, name);

    return openat(dirfd, name,
                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                  0600);
}


int
xf_spool_acked_put(int fd, uint64_t v)
{
    int      i;
    u_char   b[XF_SPOOL_ACKED_ENTRY];
    ssize_t  n;

    for (i = 0; i < XF_SPOOL_ACKED_ENTRY; i++) {
        b[i] = (u_char) (v >> (8 * i));
    }

    /* one write(2) of 8 bytes with O_APPEND: whole, or torn at the end */
    n = write(fd, b, sizeof(b));

    if (n != (ssize_t) sizeof(b)) {
        if (n >= 0) {
            errno = ENOSPC;
        }

        return -1;
    }

    return 0;
}


xf_spool_rc_t
xf_spool_acked_write(xf_spool_t *sp, xf_spool_seg_t *seg, uint64_t off)
{
    if (seg->ackfd == -1) {
        seg->ackfd = xf_spool_acked_open(sp->dirfd, seg->name);

        if (seg->ackfd == -1) {
            sp->stats.errors++;
            return xf_spool_fail(sp, "open");
        }
    }

    if (xf_spool_acked_put(seg->ackfd, off) != 0) {
        sp->stats.errors++;
        return xf_spool_fail(sp, "write");
    }

    return XF_SPOOL_OK;
}


static int
xf_spool_acked_cmp(const void *a, const void *b)
{
    uint64_t  x, y;

    x = *(const uint64_t *) a;
    y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


xf_spool_rc_t
xf_spool_acked_mark(xf_spool_t *sp, xf_spool_seg_t *seg)
{
    if (sp->conf.generation == 0) {
        return XF_SPOOL_OK;
    }

    return xf_spool_acked_write(sp, seg,
                                XF_SPOOL_ACKED_GEN | sp->conf.generation);
}


xf_spool_rc_t
xf_spool_acked_load(int dirfd, const char *segment, const xf_alloc_t *a,
    uint64_t generation, int *counted, uint64_t **acked, size_t *nacked)
{
    int        fd, i, saved;
    u_char     b[XF_SPOOL_ACKED_ENTRY * 64];
    size_t     n, cap, k, j;
    ssize_t    got;
    uint64_t  *v, *p, off;
    char       name[XF_SPOOL_NAME_LEN];

    *acked = NULL;
    *nacked = 0;
    *counted = 0;

    xf_spool_acked_name(segment, name);

    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return errno == ENOENT ? XF_SPOOL_OK : XF_SPOOL_IO;
    }

    v = NULL;
    n = 0;
    cap = 0;

    for ( ;; ) {
        /* whole entries only: a torn last one is no acknowledgement */
        got = read(fd, b, sizeof(b));

        if (got < 0 && errno == EINTR) {
            continue;
        }

        if (got <= 0) {
            break;
        }

        for (k = 0; k + XF_SPOOL_ACKED_ENTRY <= (size_t) got;
             k += XF_SPOOL_ACKED_ENTRY)
        {
            off = 0;

            for (i = XF_SPOOL_ACKED_ENTRY - 1; i >= 0; i--) {
                off = off << 8 | b[k + (size_t) i];
            }

            if (off & XF_SPOOL_ACKED_GEN) {
                /* a count's generation, no offset */
                *counted |= generation != 0
                            && off == (XF_SPOOL_ACKED_GEN | generation);
                continue;
            }

            if (n == cap) {
                p = xf_realloc(a, v, n * sizeof(uint64_t),
                               (cap ? cap * 2 : 64) * sizeof(uint64_t));
                if (p == NULL) {
                    if (v != NULL) {
                        a->free(a->data, v);
                    }

                    close(fd);
                    return XF_SPOOL_NOMEM;
                }

                v = p;
                cap = cap ? cap * 2 : 64;
            }

            v[n++] = off;
        }

        if ((size_t) got % XF_SPOOL_ACKED_ENTRY) {
            break;
        }
    }

    saved = errno;
    close(fd);

    if (got < 0) {
        if (v != NULL) {
            a->free(a->data, v);
        }

        errno = saved;
        return XF_SPOOL_IO;
    }

    if (n == 0) {
        if (v != NULL) {
            a->free(a->data, v);
        }

        return XF_SPOOL_OK;
    }

    /* ascending and once each, for xf_spool_acked_has */

    qsort(v, n, sizeof(uint64_t), xf_spool_acked_cmp);

    for (j = 1, k = 1; k < n; k++) {
        if (v[k] != v[j - 1]) {
            v[j++] = v[k];
        }
    }

    *acked = v;
    *nacked = j;

    return XF_SPOOL_OK;
}


int
xf_spool_acked_has(const uint64_t *acked, size_t nacked, uint64_t off)
{
    return acked != NULL
           && bsearch(&off, acked, nacked, sizeof(uint64_t),
                      xf_spool_acked_cmp)
              != NULL;
}


void
xf_spool_acked_remove(int dirfd, const char *segment)
{
    char  name[XF_SPOOL_NAME_LEN];

    xf_spool_acked_name(segment, name);
    (void) unlinkat(dirfd, name, 0);
}


void
xf_spool_acked_drop(xf_spool_t *sp, xf_spool_seg_t *seg, int unlink_it)
{
    if (seg->ackfd != -1) {
        close(seg->ackfd);
        seg->ackfd = -1;
    }

    if (unlink_it) {
        xf_spool_acked_remove(sp->dirfd, seg->name);
    }

    if (seg->acked != NULL) {
        sp->conf.alloc->free(sp->conf.alloc->data, seg->acked);
        seg->acked = NULL;
        seg->nacked = 0;
    }
}
