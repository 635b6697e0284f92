/*
 * xf_spool.c - the segment manager: create, lock, append, rotate, sync,
 * adopt, replay and delete segment files.
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


static int xf_spool_parse_name(const char *name, uint64_t *seq, int *tmp);
static int xf_spool_same_file(int dirfd, const char *name, int fd);
static void xf_spool_clean_tmp(int dirfd, const char *name);
static xf_spool_rc_t xf_spool_fail(xf_spool_t *sp, const char *call);
static xf_spool_rc_t xf_spool_create(xf_spool_t *sp);
static void xf_spool_insert(xf_spool_t *sp, xf_spool_seg_t *seg);
static xf_spool_seg_t *xf_spool_find(xf_spool_t *sp, const char *name);
static xf_spool_rc_t xf_spool_drop(xf_spool_t *sp, xf_spool_seg_t *seg,
    int unlink_it);
static xf_spool_rc_t xf_spool_retire(xf_spool_t *sp, xf_spool_seg_t *seg);
static void xf_spool_seal(xf_spool_t *sp);
static xf_spool_rc_t xf_spool_sync_all(xf_spool_t *sp);
static xf_spool_rc_t xf_spool_write(int fd, const u_char *p, size_t len);
static int xf_spool_grow(const xf_alloc_t *a, u_char **buf, size_t *cap,
    size_t need);
static void xf_spool_reader_forget(xf_spool_reader_t *rd, int fd);
static xf_spool_rc_t xf_spool_read(xf_spool_reader_t *rd, int fd,
    uint64_t off, uint64_t end, xf_spool_record_t *r, size_t *size);
static xf_spool_rc_t xf_spool_walk(xf_spool_reader_t *rd, int fd,
    xf_spool_scan_t *res);
static xf_spool_rc_t xf_spool_adopt_one(xf_spool_t *sp, const char *name,
    uint64_t seq, int *taken);
static int xf_spool_name_cmp(const void *a, const void *b);


/* ------------------------------------------------------------- names */

/*
 * "<16 lowercase hex>-<owner>.xfs", or with ".new" appended (*tmp = 1):
 * a segment being created.  Anything else is not ours to touch.
 */

static int
xf_spool_parse_name(const char *name, uint64_t *seq, int *tmp)
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

static int
xf_spool_same_file(int dirfd, const char *name, int fd)
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

static void
xf_spool_clean_tmp(int dirfd, const char *name)
{
    int  fd;

    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return;
    }

    if (flock(fd, LOCK_EX | LOCK_NB) == 0
        && xf_spool_same_file(dirfd, name, fd))
    {
        (void) unlinkat(dirfd, name, 0);
    }

    close(fd);
}


static int
xf_spool_name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}


static xf_spool_rc_t
xf_spool_fail(xf_spool_t *sp, const char *call)
{
    sp->err = errno;
    sp->errcall = call;

    return XF_SPOOL_IO;
}


/* ---------------------------------------------------------- buffers */

static int
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


static void
xf_spool_reader_forget(xf_spool_reader_t *rd, int fd)
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

static xf_spool_rc_t
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


static xf_spool_rc_t
xf_spool_walk(xf_spool_reader_t *rd, int fd, xf_spool_scan_t *res)
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
    res->tail = XF_SPOOL_OK;

    xf_spool_reader_forget(rd, fd);

    for (off = 0; off < res->file_size; off += n) {
        rc = xf_spool_read(rd, fd, off, res->file_size, &r, &n);

        if (rc == XF_SPOOL_NEED_MORE || rc == XF_SPOOL_CORRUPT) {
            res->tail = rc;
            break;
        }

        if (rc != XF_SPOOL_OK) {
            xf_spool_reader_forget(rd, fd);
            return rc;
        }

        res->records++;
    }

    /* the file may have been shorter than fstat said: off is exact */

    res->good = off;

    if (res->tail == XF_SPOOL_OK && off < res->file_size) {
        res->tail = XF_SPOOL_NEED_MORE;
    }

    xf_spool_reader_forget(rd, fd);

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

    rc = xf_spool_walk(&rd, fd, res);

    if (rd.buf != NULL) {
        a->free(a->data, rd.buf);
    }

    return rc;
}


/* ------------------------------------------------------------- open */

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
        if (!xf_spool_parse_name(de->d_name, &seq, &tmp)) {
            continue;
        }

        if (seq >= sp->next_seq) {
            sp->next_seq = seq + 1;
        }

        if (tmp) {
            xf_spool_clean_tmp(sp->dirfd, de->d_name);
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


/* --------------------------------------------------------- segments */

static void
xf_spool_insert(xf_spool_t *sp, xf_spool_seg_t *seg)
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


static xf_spool_seg_t *
xf_spool_find(xf_spool_t *sp, const char *name)
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

static xf_spool_rc_t
xf_spool_drop(xf_spool_t *sp, xf_spool_seg_t *seg, int unlink_it)
{
    xf_spool_rc_t  rc;

    rc = XF_SPOOL_OK;

    if (unlink_it && unlinkat(sp->dirfd, seg->name, 0) != 0) {
        rc = xf_spool_fail(sp, "unlink");
    }

    xf_spool_reader_forget(&sp->rd, seg->fd);
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

static xf_spool_rc_t
xf_spool_retire(xf_spool_t *sp, xf_spool_seg_t *seg)
{
    if (seg == sp->active || seg->read < seg->size || seg->outstanding) {
        return XF_SPOOL_OK;
    }

    return xf_spool_drop(sp, seg, 1);
}


/* No more appends to the active segment: the next append starts one. */

static void
xf_spool_seal(xf_spool_t *sp)
{
    xf_spool_seg_t  *seg;

    seg = sp->active;

    if (seg != NULL) {
        sp->active = NULL;
        (void) xf_spool_retire(sp, seg);
    }
}


static xf_spool_rc_t
xf_spool_create(xf_spool_t *sp)
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

        if (!xf_spool_same_file(sp->dirfd, tmp, fd)) {
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

        xf_spool_insert(sp, seg);
        sp->active = seg;

        return XF_SPOOL_OK;
    }

    errno = EEXIST;
    xf_spool_fail(sp, "open");

failed:

    sp->conf.alloc->free(sp->conf.alloc->data, seg);

    return XF_SPOOL_IO;
}


/* ------------------------------------------------------------ append */

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
        xf_spool_seal(sp);
    }

    if (sp->active == NULL) {
        rc = xf_spool_create(sp);
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

        xf_spool_seal(sp);

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
            xf_spool_seal(sp);
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


/* -------------------------------------------------------------- sync */

static xf_spool_rc_t
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
                xf_spool_seal(sp);
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


/* ------------------------------------------------------------- adopt */

static xf_spool_rc_t
xf_spool_adopt_one(xf_spool_t *sp, const char *name, uint64_t seq,
    int *taken)
{
    int               fd, saved;
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
        || !xf_spool_same_file(sp->dirfd, name, fd))
    {
        /* a live owner, or deleted by whoever adopted it before us */
        close(fd);
        return XF_SPOOL_OK;
    }

    rc = xf_spool_walk(&sp->rd, fd, &res);
    if (rc != XF_SPOOL_OK) {
        saved = errno;
        close(fd);
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

    if (res.records == 0) {
        (void) unlinkat(sp->dirfd, name, 0);
        close(fd);
        return XF_SPOOL_OK;
    }

    seg = sp->conf.alloc->alloc(sp->conf.alloc->data, sizeof(xf_spool_seg_t));
    if (seg == NULL) {
        close(fd);
        return XF_SPOOL_NOMEM;
    }

    memset(seg, 0, sizeof(xf_spool_seg_t));

    seg->id = sp->next_id++;
    seg->seq = seq;
    seg->fd = fd;
    seg->adopted = 1;
    seg->size = res.good;
    seg->records = res.records;
    memcpy(seg->name, name, strlen(name) + 1);

    xf_spool_insert(sp, seg);

    sp->stats.adopted += res.records;
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
        if (!xf_spool_parse_name(de->d_name, &seq, &tmp)) {
            continue;
        }

        if (tmp) {
            xf_spool_clean_tmp(sp->dirfd, de->d_name);
            continue;
        }

        if (xf_spool_find(sp, de->d_name) != NULL) {
            continue;
        }

        if (n == cap) {
            p = sp->conf.alloc->alloc(sp->conf.alloc->data,
                                      (cap ? cap * 2 : 16)
                                      * XF_SPOOL_NAME_LEN);
            if (p == NULL) {
                rc = XF_SPOOL_NOMEM;
                break;
            }

            if (names != NULL) {
                memcpy(p, names, n * XF_SPOOL_NAME_LEN);
                sp->conf.alloc->free(sp->conf.alloc->data, names);
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

        (void) xf_spool_parse_name(p, &seq, &tmp);

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


/* ------------------------------------------------------------ replay */

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

        (void) xf_spool_retire(sp, seg);
    }
}


xf_spool_rc_t
xf_spool_ack(xf_spool_t *sp, const xf_spool_pos_t *pos)
{
    xf_spool_seg_t  *seg;

    for (seg = sp->head; seg != NULL; seg = seg->next) {
        if (seg->id == pos->segment) {
            break;
        }
    }

    if (seg == NULL || seg->outstanding == 0 || pos->offset >= seg->read) {
        return XF_SPOOL_INVALID;
    }

    seg->outstanding--;
    seg->records--;

    sp->stats.inflight--;
    sp->stats.records--;
    sp->stats.replayed++;

    return xf_spool_retire(sp, seg);
}


/* ------------------------------------------------------------- state */

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
        (void) xf_spool_drop(sp, seg, seg->size == 0);
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
