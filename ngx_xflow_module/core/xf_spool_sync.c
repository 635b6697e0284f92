/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_sync.c - making appended records durable: fsync of the dirty
 * segments and of the directory, on the interval or on demand.
 */

#include "xf_spool_impl.h"


/* See xf_spool_impl.h. */
xf_spool_rc_t
xf_spool_sync_all(xf_spool_t *sp)
{
    uint64_t         target;
    xf_spool_rc_t    rc;
    xf_spool_seg_t  *seg, *next;

    target = sp->appended;
    rc = XF_SPOOL_OK;

    for (seg = sp->head; seg != NULL; seg = next) {
        next = seg->next;

        if (!seg->dirty) {
            continue;
        }

        /*
         * After a failed fsync Linux may have dropped the dirty pages and
         * reports the error once: retrying would "succeed" and prove
         * nothing.  Clear the flag, report, and append elsewhere.
         */

        seg->dirty = 0;

        if (fdatasync(seg->fd) != 0) {
            rc = xf_spool_fail(sp, "fsync");

            if (seg == sp->active) {
                xf_spool_segment_seal(sp);
            }
        }
    }

    if (sp->dir_dirty) {
        sp->dir_dirty = 0;

        if (fsync(sp->dirfd) != 0) {
            rc = xf_spool_fail(sp, "fsync");
        }
    }

    sp->sync_due = 0;

    if (rc != XF_SPOOL_OK) {
        sp->stats.errors++;
        return rc;
    }

    if (sp->conf.fsync != XF_SPOOL_FSYNC_OFF) {
        sp->durable = target;
    }

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_sync(xf_spool_t *sp, uint64_t now)
{
    if (sp->conf.fsync != XF_SPOOL_FSYNC_INTERVAL || sp->sync_due == 0
        || now < sp->sync_due)
    {
        return XF_SPOOL_OK;
    }

    return xf_spool_sync_all(sp);
}


xf_spool_rc_t
xf_spool_flush(xf_spool_t *sp)
{
    return xf_spool_sync_all(sp);
}


uint64_t
xf_spool_sync_due(const xf_spool_t *sp)
{
    return sp->conf.fsync == XF_SPOOL_FSYNC_INTERVAL ? sp->sync_due : 0;
}
