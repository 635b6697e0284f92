/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_adopt.c - taking over the segments of processes that are gone
 * (unlocked *.xfs files), oldest first, checking and cutting a torn tail.
 */

#include "xf_spool_impl.h"
#include "xf_realloc.h"


static int
xf_spool_name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}


static xf_spool_rc_t
xf_spool_adopt_one(xf_spool_t *sp, const char *name, uint64_t seq,
    int *taken)
{
    int               fd, saved, counted;
    size_t            nacked;
    uint64_t         *acked;
    struct stat       st;
    xf_spool_rc_t     rc;
    xf_spool_seg_t   *seg;
    xf_spool_scan_t   res;

    *taken = 0;

    /* a file we cannot open (gone, another user's) is not an orphan of
     * ours to take: skipped, left for an operator */

    fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return XF_SPOOL_OK;
    }

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || flock(fd, LOCK_EX | LOCK_NB) != 0
        || !xf_spool_segment_same_file(sp->dirfd, name, fd))
    {
        /* a live owner, or deleted by whoever adopted it before us */
        close(fd);
        return XF_SPOOL_OK;
    }

    rc = xf_spool_acked_load(sp->dirfd, name, sp->conf.alloc,
                             sp->conf.generation, &counted, &acked, &nacked);

    /* another generation's: its records enter our count, once */
    counted |= sp->conf.generation == 0;

    if (rc == XF_SPOOL_OK) {
        rc = xf_spool_read_walk(&sp->rd, fd, acked, nacked,
                                counted ? NULL : sp->conf.foreign,
                                sp->conf.foreign_data, &res);
    }

    if (rc != XF_SPOOL_OK) {
        saved = errno;
        close(fd);

        if (acked != NULL) {
            sp->conf.alloc->free(sp->conf.alloc->data, acked);
        }

        errno = saved;

        if (rc != XF_SPOOL_IO) {
            return rc;
        }

        /* unreadable: skipped, so that it does not block the others */

        xf_spool_fail(sp, "read");
        sp->stats.errors++;

        return XF_SPOOL_OK;
    }

    if (res.good < res.file_size) {
        sp->stats.corrupt++;
        sp->stats.corrupt_bytes += res.file_size - res.good;

        /*
         * Cut the tail so whoever reads this file next sees records only.
         * If the cut fails, res.good still bounds our reads.
         */

        if (ftruncate(fd, (off_t) res.good) == 0
            && sp->conf.fsync != XF_SPOOL_FSYNC_OFF)
        {
            (void) fdatasync(fd);
        }
    }

    if (res.records == res.acked) {
        /* every record delivered already: the segment is done */
        if (unlinkat(sp->dirfd, name, 0) == 0) {
            xf_spool_acked_remove(sp->dirfd, name);
        }

        close(fd);

        if (acked != NULL) {
            sp->conf.alloc->free(sp->conf.alloc->data, acked);
        }

        return XF_SPOOL_OK;
    }

    seg = sp->conf.alloc->alloc(sp->conf.alloc->data, sizeof(xf_spool_seg_t));
    if (seg == NULL) {
        close(fd);

        if (acked != NULL) {
            sp->conf.alloc->free(sp->conf.alloc->data, acked);
        }

        return XF_SPOOL_NOMEM;
    }

    memset(seg, 0, sizeof(xf_spool_seg_t));
    seg->ackfd = -1;
    seg->acked = acked;
    seg->nacked = nacked;

    seg->id = sp->next_id++;
    seg->seq = seq;
    seg->fd = fd;
    seg->adopted = 1;
    seg->size = res.good;
    seg->records = res.records - res.acked;
    memcpy(seg->name, name, strlen(name) + 1);

    xf_spool_segment_insert(sp, seg);

    /* after the count: a kill between counts them again, never less */
    if (!counted) {
        (void) xf_spool_acked_mark(sp, seg);
    }

    sp->stats.adopted += res.records - res.acked;
    sp->stats.adopted_segments++;

    if (seq >= sp->next_seq) {
        sp->next_seq = seq + 1;
    }

    *taken = 1;

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_adopt(xf_spool_t *sp, unsigned max, unsigned *adopted)
{
    int             fd, tmp, taken, saved;
    DIR            *d;
    char           *names, *p;
    size_t          n, cap, i;
    uint64_t        seq;
    unsigned        count;
    xf_spool_rc_t   rc;
    struct dirent  *de;

    count = 0;

    if (adopted != NULL) {
        *adopted = 0;
    }

    fd = dup(sp->dirfd);
    if (fd == -1) {
        return xf_spool_fail(sp, "opendir");
    }

    d = fdopendir(fd);
    if (d == NULL) {
        saved = errno;
        close(fd);
        errno = saved;
        return xf_spool_fail(sp, "opendir");
    }

    rewinddir(d);

    /* gather the candidates' names, to adopt the oldest first */

    names = NULL;
    n = 0;
    cap = 0;
    rc = XF_SPOOL_OK;

    while ((de = readdir(d)) != NULL) {
        if (xf_spool_acked_parse_name(de->d_name, &seq)) {
            xf_spool_acked_clean(sp->dirfd, de->d_name);
            continue;
        }

        if (!xf_spool_segment_parse_name(de->d_name, &seq, &tmp)) {
            continue;
        }

        if (tmp) {
            xf_spool_segment_clean_tmp(sp->dirfd, de->d_name);
            continue;
        }

        if (xf_spool_segment_find(sp, de->d_name) != NULL) {
            continue;
        }

        if (n == cap) {
            p = xf_realloc(sp->conf.alloc, names, n * XF_SPOOL_NAME_LEN,
                           (cap ? cap * 2 : 16) * XF_SPOOL_NAME_LEN);
            if (p == NULL) {
                rc = XF_SPOOL_NOMEM;
                break;
            }

            names = p;
            cap = cap ? cap * 2 : 16;
        }

        /* parse_name bounds a name at 16 + 1 + 32 + 8 bytes */

        memcpy(names + n * XF_SPOOL_NAME_LEN, de->d_name,
               strlen(de->d_name) + 1);
        n++;
    }

    closedir(d);

    if (rc == XF_SPOOL_OK && n) {
        qsort(names, n, XF_SPOOL_NAME_LEN, xf_spool_name_cmp);
    }

    for (i = 0; rc == XF_SPOOL_OK && i < n; i++) {
        p = names + i * XF_SPOOL_NAME_LEN;

        if (max && count == max) {
            rc = XF_SPOOL_AGAIN;
            break;
        }

        (void) xf_spool_segment_parse_name(p, &seq, &tmp);

        rc = xf_spool_adopt_one(sp, p, seq, &taken);
        count += taken;
    }

    if (names != NULL) {
        sp->conf.alloc->free(sp->conf.alloc->data, names);
    }

    if (adopted != NULL) {
        *adopted = count;
    }

    return rc;
}
