/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_segment.c - segment files: their names, creating one, and
 * the in-memory list of the segments a spool holds (insert, find,
 * retire, drop).
 *
 * Creating a segment without a window in which another process could
 * take it for an orphan:
 *
 *   open("<seq>-<owner>.xfs.new", O_CREAT|O_EXCL)    name nobody scans
 *   flock(LOCK_EX|LOCK_NB)                           locked from now on
 *   same inode still under that name?                a cleaner may have
 *                                                    unlinked it first
 *   link(".xfs.new", ".xfs")                         EEXIST: next seq
 *   unlink(".xfs.new")
 *
 * The lock belongs to the inode, so the final name is locked from the
 * moment it exists.  Adoption checks the same way that the name it
 * locked is still the file it opened: a segment deleted by its previous
 * adopter between our open and our flock is not replayed twice.
 */

#include "xf_spool_impl.h"


/*
 * "<16 lowercase hex>-<owner>.xfs", or with ".new" appended (*tmp = 1):
 * a segment being created.  Anything else is not ours to touch.
 */

int
xf_spool_segment_parse_name(const char *name, uint64_t *seq, int *tmp)
{
    size_t       i, n;
    uint64_t     v;
    const char  *p;

    v = 0;

    for (i = 0; i < 16; i++) {
        if (name[i] >= '0' && name[i] <= '9') {
            v = v << 4 | (uint64_t) (name[i] - '0');

        } else if (name[i] >= 'a' && name[i] <= 'f') {
            v = v << 4 | (uint64_t) (name[i] - 'a' + 10);

        } else {
            return 0;
        }
    }

    if (name[16] != '-') {
        return 0;
    }

    p = name + 17;

    for (n = 0; n <= XF_SPOOL_OWNER_MAX; n++) {
        if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z')
              || (p[n] >= '0' && p[n] <= '9') || p[n] == '_' || p[n] == '-'))
        {
            break;
        }
    }

    if (n == 0 || n > XF_SPOOL_OWNER_MAX) {
        return 0;
    }

    p += n;

    if (strcmp(p, ".xfs") == 0) {
        *tmp = 0;

    } else if (strcmp(p, ".xfs.new") == 0) {
        *tmp = 1;

    } else {
        return 0;
    }

    *seq = v;

    return 1;
}


/* Is fd still the file dir/name?  (It may have been unlinked or replaced.) */

int
xf_spool_segment_same_file(int dirfd, const char *name, int fd)
{
    struct stat  a, b;

    if (fstat(fd, &a) != 0
        || fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) != 0)
    {
        return 0;
    }

    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_nlink > 0;
}


/*
 * A *.xfs.new nobody holds is what is left of a creation interrupted by a
 * crash: it never had a record in it (records are written only after the
 * rename), or it is a second name of a segment that has its final name.
 */

void
xf_spool_segment_clean_tmp(int dirfd, const char *name)
{
    int  fd;

    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return;
    }

    if (flock(fd, LOCK_EX | LOCK_NB) == 0
        && xf_spool_segment_same_file(dirfd, name, fd))
    {
        (void) unlinkat(dirfd, name, 0);
    }

    close(fd);
}


void
xf_spool_segment_insert(xf_spool_t *sp, xf_spool_seg_t *seg)
{
    xf_spool_seg_t  *s;

    /* mostly appends at the tail: search from there */

    for (s = sp->tail; s != NULL; s = s->prev) {
        if (strcmp(s->name, seg->name) < 0) {
            break;
        }
    }

    seg->prev = s;
    seg->next = s ? s->next : sp->head;

    if (seg->next) {
        seg->next->prev = seg;

    } else {
        sp->tail = seg;
    }

    if (s) {
        s->next = seg;

    } else {
        sp->head = seg;
    }

    sp->stats.segments++;
    sp->stats.bytes += seg->size;
    sp->stats.records += seg->records;
}


xf_spool_seg_t *
xf_spool_segment_find(xf_spool_t *sp, const char *name)
{
    xf_spool_seg_t  *s;

    for (s = sp->head; s != NULL; s = s->next) {
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }

    return NULL;
}


/*
 * Forget seg: unlink it first if asked (while we still hold its lock, so
 * nobody adopts what we are deleting), then close it, which releases the
 * lock.  Its records not yet acknowledged leave the records gauge.
 */

xf_spool_rc_t
xf_spool_segment_drop(xf_spool_t *sp, xf_spool_seg_t *seg, int unlink_it)
{
    xf_spool_rc_t  rc;

    rc = XF_SPOOL_OK;

    if (unlink_it && unlinkat(sp->dirfd, seg->name, 0) != 0) {
        rc = xf_spool_fail(sp, "unlink");
    }

    /* after the segment: its acknowledgements outlive it, never less */
    xf_spool_acked_drop(sp, seg, unlink_it && rc == XF_SPOOL_OK);

    xf_spool_read_forget(&sp->rd, seg->fd);
    close(seg->fd);

    if (seg->prev) {
        seg->prev->next = seg->next;

    } else {
        sp->head = seg->next;
    }

    if (seg->next) {
        seg->next->prev = seg->prev;

    } else {
        sp->tail = seg->prev;
    }

    if (sp->active == seg) {
        sp->active = NULL;
    }

    if (sp->replay == seg) {
        sp->replay = NULL;
    }

    sp->stats.segments--;
    sp->stats.bytes -= seg->size;
    sp->stats.records -= seg->records;
    sp->stats.inflight -= seg->outstanding;

    sp->conf.alloc->free(sp->conf.alloc->data, seg);

    return rc;
}


/* Delete seg if nothing in it is left to do. */

xf_spool_rc_t
xf_spool_segment_retire(xf_spool_t *sp, xf_spool_seg_t *seg)
{
    if (seg == sp->active || seg->read < seg->size || seg->outstanding) {
        return XF_SPOOL_OK;
    }

    return xf_spool_segment_drop(sp, seg, 1);
}


/* No more appends to the active segment: the next append starts one. */

void
xf_spool_segment_seal(xf_spool_t *sp)
{
    xf_spool_seg_t  *seg;

    seg = sp->active;

    if (seg != NULL) {
        sp->active = NULL;
        (void) xf_spool_segment_retire(sp, seg);
    }
}


xf_spool_rc_t
xf_spool_segment_create(xf_spool_t *sp)
{
    int              fd, i, tmp_gone;
    uint64_t         seq;
    xf_spool_seg_t  *seg;
    char             tmp[XF_SPOOL_NAME_LEN];

    seg = sp->conf.alloc->alloc(sp->conf.alloc->data, sizeof(xf_spool_seg_t));
    if (seg == NULL) {
        return XF_SPOOL_NOMEM;
    }

    memset(seg, 0, sizeof(xf_spool_seg_t));
    seg->ackfd = -1;

    for (i = 0; i < XF_SPOOL_CREATE_TRIES; i++) {
        seq = sp->next_seq++;

        snprintf(seg->name, sizeof(seg->name), "%016llx-%s.xfs",
                 (unsigned long long) seq, sp->owner);
        snprintf(tmp, sizeof(tmp), "%016llx-%s.xfs.new",
                 (unsigned long long) seq, sp->owner);

        fd = openat(sp->dirfd, tmp,
                    O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC
                    | O_NOFOLLOW, 0600);

        if (fd == -1) {
            if (errno == EEXIST) {
                continue;
            }

            xf_spool_fail(sp, "open");
            goto failed;
        }

        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                /* a cleaner is looking at it: it will go; not ours */
                close(fd);
                continue;
            }

            xf_spool_fail(sp, "flock");
            close(fd);
            goto failed;
        }

        if (!xf_spool_segment_same_file(sp->dirfd, tmp, fd)) {
            close(fd);
            continue;
        }

        tmp_gone = 0;

        if (linkat(sp->dirfd, tmp, sp->dirfd, seg->name, 0) != 0) {

            if (errno == EEXIST) {
                (void) unlinkat(sp->dirfd, tmp, 0);
                close(fd);
                continue;
            }

            if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK
                && errno != ENOSYS)
            {
                xf_spool_fail(sp, "link");
                (void) unlinkat(sp->dirfd, tmp, 0);
                close(fd);
                goto failed;
            }

            /*
             * A file system without hard links: rename, which replaces
             * an existing name; owner names are unique among live
             * processes, so a clash is a leftover of a dead one.
             */

            if (faccessat(sp->dirfd, seg->name, F_OK, AT_SYMLINK_NOFOLLOW)
                == 0)
            {
                (void) unlinkat(sp->dirfd, tmp, 0);
                close(fd);
                continue;
            }

            if (renameat(sp->dirfd, tmp, sp->dirfd, seg->name) != 0) {
                xf_spool_fail(sp, "rename");
                (void) unlinkat(sp->dirfd, tmp, 0);
                close(fd);
                goto failed;
            }

            tmp_gone = 1;
        }

        if (!tmp_gone) {
            (void) unlinkat(sp->dirfd, tmp, 0);
        }

        seg->fd = fd;
        seg->seq = seq;
        seg->id = sp->next_id++;

        if (sp->conf.fsync == XF_SPOOL_FSYNC_ALWAYS) {
            if (fsync(sp->dirfd) != 0) {
                xf_spool_fail(sp, "fsync");
                (void) unlinkat(sp->dirfd, seg->name, 0);
                close(fd);
                goto failed;
            }

        } else {
            sp->dir_dirty = 1;
        }

        seg->ackfd = -1;
        xf_spool_segment_insert(sp, seg);

        /* what is appended here is counted by our generation */
        if (xf_spool_acked_mark(sp, seg) != XF_SPOOL_OK) {
            (void) xf_spool_segment_drop(sp, seg, 1);
            return XF_SPOOL_IO;
        }

        sp->active = seg;

        return XF_SPOOL_OK;
    }

    errno = EEXIST;
    xf_spool_fail(sp, "open");

failed:

    sp->conf.alloc->free(sp->conf.alloc->data, seg);

    return XF_SPOOL_IO;
}
