/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_append.c - appending a record to the active segment (a new
 * segment when it is full), with the fsync policy's immediate part.
 */

#include "xf_spool_impl.h"


static xf_spool_rc_t
xf_spool_write(int fd, const u_char *p, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, p, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            return XF_SPOOL_IO;
        }

        if (n == 0) {
            errno = ENOSPC;
            return XF_SPOOL_IO;
        }

        p += n;
        len -= (size_t) n;
    }

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_append(xf_spool_t *sp, const xf_spool_record_t *r, uint64_t now,
    uint64_t *id)
{
    int              saved;
    size_t           n;
    xf_spool_rc_t    rc;
    xf_spool_seg_t  *seg;

    n = xf_spool_record_size(r);

    if (n == 0) {
        rc = xf_spool_record_encode(r, NULL, 0, &n);
        return rc == XF_SPOOL_BUFFER ? XF_SPOOL_INVALID : rc;
    }

    if (n > sp->conf.max_record) {
        return XF_SPOOL_TOO_LARGE;
    }

    if (!xf_spool_grow(sp->conf.alloc, &sp->wbuf, &sp->wcap, n)) {
        return XF_SPOOL_NOMEM;
    }

    rc = xf_spool_record_encode(r, sp->wbuf, sp->wcap, &n);
    if (rc != XF_SPOOL_OK) {
        return rc;
    }

    /* a record larger than a segment gets a segment of its own */

    if (sp->active != NULL && sp->active->size > 0
        && sp->active->size + n > sp->conf.segment_size)
    {
        xf_spool_segment_seal(sp);
    }

    if (sp->active == NULL) {
        rc = xf_spool_segment_create(sp);
        if (rc != XF_SPOOL_OK) {
            sp->stats.errors++;
            return rc;
        }
    }

    seg = sp->active;

    if (xf_spool_write(seg->fd, sp->wbuf, n) != XF_SPOOL_OK) {
        xf_spool_fail(sp, "write");
        sp->stats.errors++;

        /*
         * Cut what part of the record made it.  Should even that fail,
         * seg->size still bounds every read of this segment, and an
         * adopter cuts the torn tail after a crash.
         */

        saved = errno;

        if (ftruncate(seg->fd, (off_t) seg->size) != 0) {
            sp->stats.errors++;
        }

        errno = saved;

        xf_spool_segment_seal(sp);

        return XF_SPOOL_IO;
    }

    seg->size += n;
    seg->records++;
    seg->dirty = 1;

    sp->stats.bytes += n;
    sp->stats.records++;
    sp->stats.appended++;
    sp->stats.appended_bytes += n;

    sp->appended++;

    if (id != NULL) {
        *id = sp->appended;
    }

    switch (sp->conf.fsync) {

    case XF_SPOOL_FSYNC_ALWAYS:

        if (fdatasync(seg->fd) != 0) {
            xf_spool_fail(sp, "fsync");
            sp->stats.errors++;
            seg->dirty = 0;
            xf_spool_segment_seal(sp);
            return XF_SPOOL_IO;
        }

        seg->dirty = 0;
        sp->durable = sp->appended;
        break;

    case XF_SPOOL_FSYNC_INTERVAL:

        if (sp->sync_due == 0) {
            sp->sync_due = now + sp->conf.fsync_interval;
        }

        break;

    default: /* XF_SPOOL_FSYNC_OFF */
        sp->durable = sp->appended;
        break;
    }

    return XF_SPOOL_OK;
}


uint64_t
xf_spool_appended(const xf_spool_t *sp)
{
    return sp->appended;
}


uint64_t
xf_spool_durable(const xf_spool_t *sp)
{
    return sp->durable;
}
