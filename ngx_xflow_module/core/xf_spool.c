/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool.c - a spool's life: opening its directory (new segments sort
 * after everything already there), its state and stats, and closing it.
 * The spool's other jobs each have their file: segment files
 * (xf_spool_segment.c), reading records (xf_spool_read.c), appending
 * (xf_spool_append.c), fsync (xf_spool_sync.c), adopting orphans
 * (xf_spool_adopt.c) and replay (xf_spool_replay.c).
 */

#include "xf_spool_impl.h"


/* See xf_spool_impl.h. */
xf_spool_rc_t
xf_spool_fail(xf_spool_t *sp, const char *call)
{
    sp->err = errno;
    sp->errcall = call;

    return XF_SPOOL_IO;
}


/* See xf_spool_impl.h. */
int
xf_spool_grow(const xf_alloc_t *a, u_char **buf, size_t *cap, size_t need)
{
    size_t   n;
    u_char  *p;

    if (*cap >= need) {
        return 1;
    }

    n = *cap ? *cap : 4096;

    while (n < need) {
        n *= 2;
    }

    p = a->alloc(a->data, n);
    if (p == NULL) {
        return 0;
    }

    /* contents need not survive: callers refill after growing */

    if (*buf != NULL) {
        a->free(a->data, *buf);
    }

    *buf = p;
    *cap = n;

    return 1;
}


xf_spool_rc_t
xf_spool_open(xf_spool_t **spp, const xf_spool_conf_t *conf)
{
    int             fd, tmp, saved;
    size_t          n;
    DIR            *d;
    uint64_t        seq;
    xf_spool_t     *sp;
    struct dirent  *de;
    const char     *o;

    *spp = NULL;

    if (conf->dir == NULL || conf->owner == NULL || conf->alloc == NULL
        || conf->fsync > XF_SPOOL_FSYNC_OFF
        || (conf->fsync == XF_SPOOL_FSYNC_INTERVAL
            && conf->fsync_interval == 0))
    {
        return XF_SPOOL_INVALID;
    }

    n = strlen(conf->owner);

    if (n == 0 || n > XF_SPOOL_OWNER_MAX) {
        return XF_SPOOL_INVALID;
    }

    for (o = conf->owner; *o; o++) {
        if (!((*o >= 'a' && *o <= 'z') || (*o >= 'A' && *o <= 'Z')
              || (*o >= '0' && *o <= '9') || *o == '_' || *o == '-'))
        {
            return XF_SPOOL_INVALID;
        }
    }

    sp = conf->alloc->alloc(conf->alloc->data, sizeof(xf_spool_t));
    if (sp == NULL) {
        return XF_SPOOL_NOMEM;
    }

    memset(sp, 0, sizeof(xf_spool_t));

    sp->conf = *conf;
    sp->dirfd = -1;
    sp->rd.alloc = conf->alloc;
    sp->rd.fd = -1;
    sp->next_id = 1;
    memcpy(sp->owner, conf->owner, n + 1);
    sp->conf.owner = sp->owner;

    if (sp->conf.segment_size == 0) {
        sp->conf.segment_size = XF_SPOOL_SEGMENT_SIZE;
    }

    if (sp->conf.max_record == 0
        || sp->conf.max_record > XF_SPOOL_RECORD_MAX)
    {
        sp->conf.max_record = XF_SPOOL_RECORD_MAX;
    }

    if (sp->conf.high_water == 0) {
        sp->conf.high_water = sp->conf.max_size / 10 * 9;
    }

    n = strlen(conf->dir);
    sp->dir = conf->alloc->alloc(conf->alloc->data, n + 1);
    if (sp->dir == NULL) {
        conf->alloc->free(conf->alloc->data, sp);
        return XF_SPOOL_NOMEM;
    }

    memcpy(sp->dir, conf->dir, n + 1);
    sp->conf.dir = sp->dir;

    sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (sp->dirfd == -1
        || faccessat(AT_FDCWD, sp->dir, R_OK | W_OK | X_OK, AT_EACCESS) != 0)
    {
        goto failed;
    }

    fd = dup(sp->dirfd);
    if (fd == -1) {
        goto failed;
    }

    d = fdopendir(fd);
    if (d == NULL) {
        saved = errno;
        close(fd);
        errno = saved;
        goto failed;
    }

    /* new segments sort after everything already there */

    while ((de = readdir(d)) != NULL) {
        if (xf_spool_acked_parse_name(de->d_name, &seq)) {
            /* its seq is taken too: a new segment must not inherit it */
            if (seq >= sp->next_seq) {
                sp->next_seq = seq + 1;
            }

            xf_spool_acked_clean(sp->dirfd, de->d_name);
            continue;
        }

        if (!xf_spool_segment_parse_name(de->d_name, &seq, &tmp)) {
            continue;
        }

        if (seq >= sp->next_seq) {
            sp->next_seq = seq + 1;
        }

        if (tmp) {
            xf_spool_segment_clean_tmp(sp->dirfd, de->d_name);
        }
    }

    closedir(d);

    *spp = sp;

    return XF_SPOOL_OK;

failed:

    saved = errno;

    if (sp->dirfd != -1) {
        close(sp->dirfd);
    }

    conf->alloc->free(conf->alloc->data, sp->dir);
    conf->alloc->free(conf->alloc->data, sp);

    errno = saved;

    return XF_SPOOL_IO;
}


int
xf_spool_full(const xf_spool_t *sp)
{
    return sp->conf.max_size && sp->stats.bytes >= sp->conf.max_size;
}


int
xf_spool_high_water(const xf_spool_t *sp)
{
    return sp->conf.max_size && sp->stats.bytes >= sp->conf.high_water;
}


const xf_spool_stats_t *
xf_spool_stats(const xf_spool_t *sp)
{
    return &sp->stats;
}


int
xf_spool_errno(const xf_spool_t *sp, const char **call)
{
    if (call != NULL) {
        *call = sp->errcall ? sp->errcall : "none";
    }

    return sp->err;
}


xf_spool_rc_t
xf_spool_close(xf_spool_t *sp)
{
    xf_spool_rc_t       rc;
    xf_spool_seg_t     *seg;
    const xf_alloc_t   *a;

    rc = XF_SPOOL_OK;

    if (sp->conf.fsync != XF_SPOOL_FSYNC_OFF) {
        rc = xf_spool_sync_all(sp);
    }

    while ((seg = sp->head) != NULL) {
        (void) xf_spool_segment_drop(sp, seg, seg->size == 0);
    }

    a = sp->conf.alloc;

    if (sp->wbuf != NULL) {
        a->free(a->data, sp->wbuf);
    }

    if (sp->rd.buf != NULL) {
        a->free(a->data, sp->rd.buf);
    }

    close(sp->dirfd);
    a->free(a->data, sp->dir);
    a->free(a->data, sp);

    return rc;
}
