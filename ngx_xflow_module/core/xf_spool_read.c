/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_spool_read.c - reading records back from a segment file through a
 * read-ahead buffer: one record at an offset (replay), a whole file
 * (adoption, xf_spool_segment_scan).
 */

#include "xf_spool_impl.h"


void
xf_spool_read_forget(xf_spool_reader_t *rd, int fd)
{
    if (fd == -1 || rd->fd == fd) {
        rd->fd = -1;
        rd->len = 0;
    }
}


/*
 * Decode the record at offset off of fd, using no byte at or past end.
 * Reads ahead in chunks; a record longer than the buffer grows it, up to
 * XF_SPOOL_RECORD_MAX (the decoder refuses longer ones).  A file found
 * shorter than end ends where it ends.
 */

xf_spool_rc_t
xf_spool_read(xf_spool_reader_t *rd, int fd, uint64_t off, uint64_t end,
    xf_spool_record_t *r, size_t *size)
{
    size_t          avail, want, got;
    ssize_t         n;
    xf_spool_rc_t   rc;
    const u_char   *p;

    for ( ;; ) {
        avail = 0;
        p = rd->buf;

        if (rd->fd == fd && off >= rd->off && off <= rd->off + rd->len) {
            avail = (size_t) (rd->off + rd->len - off);
            p = rd->buf + (off - rd->off);
        }

        if (avail > end - off) {
            avail = (size_t) (end - off);
        }

        rc = xf_spool_record_decode(p, avail, 0, r, size);

        if (rc != XF_SPOOL_NEED_MORE || off + avail >= end) {
            return rc;
        }

        /* more of the record is in the file: read from its start */

        want = xf_min(*size, (size_t) XF_SPOOL_RECORD_MAX);

        if (want < XF_SPOOL_READ_CHUNK) {
            want = XF_SPOOL_READ_CHUNK;
        }

        if (want > end - off) {
            want = (size_t) (end - off);
        }

        rd->fd = -1;
        rd->len = 0;

        if (!xf_spool_grow(rd->alloc, &rd->buf, &rd->cap, want)) {
            return XF_SPOOL_NOMEM;
        }

        for (got = 0; got < want; got += (size_t) n) {
            n = pread(fd, rd->buf + got, want - got, (off_t) (off + got));

            if (n == -1) {
                if (errno == EINTR) {
                    n = 0;
                    continue;
                }

                return XF_SPOOL_IO;
            }

            if (n == 0) {
                break;
            }
        }

        rd->fd = fd;
        rd->off = off;
        rd->len = got;

        if (got < want) {
            end = off + got;
        }
    }
}


xf_spool_rc_t
xf_spool_read_walk(xf_spool_reader_t *rd, int fd, const uint64_t *acked,
    size_t nacked, xf_spool_marked_pt each, void *data, xf_spool_scan_t *res)
{
    size_t             n;
    uint64_t           off;
    struct stat        st;
    xf_spool_rc_t      rc;
    xf_spool_record_t  r;

    if (fstat(fd, &st) != 0) {
        return XF_SPOOL_IO;
    }

    res->file_size = (uint64_t) st.st_size;
    res->records = 0;
    res->marked = 0;
    res->acked = 0;
    res->tail = XF_SPOOL_OK;

    xf_spool_read_forget(rd, fd);

    for (off = 0; off < res->file_size; off += n) {
        rc = xf_spool_read(rd, fd, off, res->file_size, &r, &n);

        if (rc == XF_SPOOL_NEED_MORE || rc == XF_SPOOL_CORRUPT) {
            res->tail = rc;
            break;
        }

        if (rc != XF_SPOOL_OK) {
            xf_spool_read_forget(rd, fd);
            return rc;
        }

        res->records++;

        if (xf_spool_acked_has(acked, nacked, off)) {
            res->acked++;

        } else if (xf_spool_record_marked(&r)) {
            res->marked++;

            if (each != NULL) {
                each(data, &r);
            }
        }
    }

    /* the file may have been shorter than fstat said: off is exact */

    res->good = off;

    if (res->tail == XF_SPOOL_OK && off < res->file_size) {
        res->tail = XF_SPOOL_NEED_MORE;
    }

    xf_spool_read_forget(rd, fd);

    return XF_SPOOL_OK;
}


xf_spool_rc_t
xf_spool_segment_scan(int fd, const xf_alloc_t *a, xf_spool_scan_t *res)
{
    xf_spool_rc_t      rc;
    xf_spool_reader_t  rd;

    memset(&rd, 0, sizeof(rd));
    rd.alloc = a;
    rd.fd = -1;

    rc = xf_spool_read_walk(&rd, fd, NULL, 0, NULL, NULL, res);

    if (rd.buf != NULL) {
        a->free(a->data, rd.buf);
    }

    return rc;
}


const xf_spool_header_t *
xf_spool_record_header(const xf_spool_record_t *r, const char *name)
{
    size_t  i, n;

    n = strlen(name);

    for (i = 0; i < r->nheaders; i++) {
        if (r->headers[i].name_len == n
            && memcmp(r->headers[i].name, name, n) == 0)
        {
            return &r->headers[i];
        }
    }

    return NULL;
}


int
xf_spool_record_marked(const xf_spool_record_t *r)
{
    return xf_spool_record_header(r, XF_SPOOL_LEDGER_HEADER) != NULL;
}


xf_spool_rc_t
xf_spool_dir_marked(const char *dir, const xf_alloc_t *a, uint64_t generation,
    xf_spool_marked_pt each, void *data, uint64_t *marked)
{
    int                 fd, dfd, mfd, tmp, counted;
    DIR                *d;
    size_t              nacked;
    uint64_t            seq, *acked;
    xf_spool_rc_t       rc;
    struct dirent      *de;
    xf_spool_scan_t     res;
    xf_spool_reader_t   rd;

    *marked = 0;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1) {
        return XF_SPOOL_IO;
    }

    d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return XF_SPOOL_IO;
    }

    memset(&rd, 0, sizeof(rd));
    rd.alloc = a;
    rd.fd = -1;
    rc = XF_SPOOL_OK;

    while (rc == XF_SPOOL_OK && (de = readdir(d)) != NULL) {
        if (!xf_spool_segment_parse_name(de->d_name, &seq, &tmp) || tmp) {
            continue;
        }

        fd = openat(dfd, de->d_name,
                    (generation ? O_RDWR : O_RDONLY) | O_CLOEXEC
                    | O_NOFOLLOW);
        if (fd == -1) {
            continue;
        }

        if (generation && flock(fd, LOCK_EX | LOCK_NB) != 0) {
            /* a live process's: counted by its generation, or by ours
               when one of our workers adopts it */
            close(fd);
            continue;
        }

        /* what a replay delivered before the stop is not on the spool */
        rc = xf_spool_acked_load(dfd, de->d_name, a, generation, &counted,
                                 &acked, &nacked);

        if (rc == XF_SPOOL_OK && !counted) {
            rc = xf_spool_read_walk(&rd, fd, acked, nacked, each, data,
                                    &res);

            if (rc == XF_SPOOL_OK && generation) {
                /* counted: by this generation, once */
                mfd = xf_spool_acked_open(dfd, de->d_name);

                if (mfd != -1) {
                    (void) xf_spool_acked_put(mfd, XF_SPOOL_ACKED_GEN
                                                   | generation);
                    close(mfd);
                }
            }

        } else if (rc == XF_SPOOL_OK) {
            res.marked = 0;
        }

        if (acked != NULL) {
            a->free(a->data, acked);
        }

        close(fd);

        if (rc == XF_SPOOL_OK) {
            *marked += res.marked;

        } else if (rc == XF_SPOOL_IO) {
            /* gone or unreadable meanwhile: not ours to count */
            rc = XF_SPOOL_OK;
        }
    }

    closedir(d);

    if (rd.buf != NULL) {
        a->free(a->data, rd.buf);
    }

    return rc;
}
