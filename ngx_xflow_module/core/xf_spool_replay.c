/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_replay.c - replay: handing out the spooled records oldest
 * first (xf_spool_next) and deleting a segment once every record it
 * handed out is acknowledged (xf_spool_ack).
 */

#include "xf_spool_impl.h"


xf_spool_rc_t
xf_spool_next(xf_spool_t *sp, xf_spool_record_t *r, xf_spool_pos_t *pos)
{
    size_t           n;
    uint64_t         lost;
    xf_spool_rc_t    rc;
    xf_spool_seg_t  *seg;

    for ( ;; ) {
        seg = sp->replay;

        if (seg == NULL || seg->read >= seg->size) {

            /* oldest first; the active segment only when nothing else */

            for (seg = sp->head; seg != NULL; seg = seg->next) {
                if (seg != sp->active && seg->read < seg->size) {
                    break;
                }
            }

            if (seg == NULL && sp->active != NULL
                && sp->active->read < sp->active->size)
            {
                /* sealed, so it can be deleted once delivered */
                seg = sp->active;
                sp->active = NULL;
            }

            if (seg == NULL) {
                return XF_SPOOL_EMPTY;
            }

            sp->replay = seg;
        }

        rc = xf_spool_read(&sp->rd, seg->fd, seg->read, seg->size, r, &n);

        if (rc == XF_SPOOL_OK
            && xf_spool_acked_has(seg->acked, seg->nacked, seg->read))
        {
            /* delivered before its segment was adopted: not again */
            seg->read += n;
            (void) xf_spool_segment_retire(sp, seg);
            continue;
        }

        if (rc == XF_SPOOL_OK) {
            pos->segment = seg->id;
            pos->offset = seg->read;

            seg->read += n;
            seg->outstanding++;
            sp->stats.inflight++;

            return XF_SPOOL_OK;
        }

        if (rc == XF_SPOOL_IO) {
            return xf_spool_fail(sp, "read");
        }

        if (rc != XF_SPOOL_NEED_MORE && rc != XF_SPOOL_CORRUPT) {
            return rc;
        }

        /*
         * The file changed under us after it was checked: its rest is
         * lost.  Count it, stop reading it, delete it when what was
         * handed out is acknowledged.
         */

        lost = seg->records - seg->outstanding;

        sp->stats.corrupt++;
        sp->stats.corrupt_bytes += seg->size - seg->read;
        sp->stats.records -= lost;

        seg->records = seg->outstanding;
        seg->read = seg->size;

        (void) xf_spool_segment_retire(sp, seg);
    }
}


xf_spool_rc_t
xf_spool_ack(xf_spool_t *sp, const xf_spool_pos_t *pos)
{
    xf_spool_rc_t    rc, written;
    xf_spool_seg_t  *seg;

    for (seg = sp->head; seg != NULL; seg = seg->next) {
        if (seg->id == pos->segment) {
            break;
        }
    }

    if (seg == NULL || seg->outstanding == 0 || pos->offset >= seg->read) {
        return XF_SPOOL_INVALID;
    }

    written = xf_spool_acked_write(sp, seg, pos->offset);

    seg->outstanding--;
    seg->records--;

    sp->stats.inflight--;
    sp->stats.records--;
    sp->stats.replayed++;

    rc = xf_spool_segment_retire(sp, seg);

    return rc != XF_SPOOL_OK ? rc : written;
}
