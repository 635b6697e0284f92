/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-spool.c - the segment manager on a real directory: lazy creation
 * and names, rotation, the size cap, fsync policies (their logic, not
 * their timing), replay order, out-of-order acknowledgements, adoption of
 * a dead owner's spool and not of a live one's, torn and corrupt tails at
 * every offset, and failures of the file system (an unusable directory, a
 * directory removed under us, a file size limit as a full disk), and
 * every allocation failure.
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_spool.h"
#include "xf_unit.h"


static char  dir[64];


/* ---------------------------------------------------------- helpers */

static void
rm_dir_files(const char *d)
{
    DIR            *dp;
    char            path[512];
    struct dirent  *de;

    dp = opendir(d);
    if (dp == NULL) {
        return;
    }

    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
        unlink(path);
    }

    closedir(dp);
}


static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/xf-spool-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}


static void
teardown(void)
{
    chmod(dir, 0700);
    rm_dir_files(dir);
    rmdir(dir);
}


static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}


/* The names in directory d, sorted, strdup'ed into names[]. */

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


static size_t
list_dir(const char *d, char **names, size_t max)
{
    DIR            *dp;
    size_t          n;
    struct dirent  *de;

    dp = opendir(d);
    ck_assert_ptr_nonnull(dp);

    n = 0;

    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        ck_assert_uint_lt(n, max);
        names[n++] = strdup(de->d_name);
    }

    closedir(dp);

    qsort(names, n, sizeof(char *), name_cmp);

    return n;
}


static void
free_names(char **names, size_t n)
{
    while (n--) {
        free(names[n]);
    }
}


/* The count at start, without a look at each record. */
static xf_spool_rc_t
marked_in(const char *d, uint64_t *n)
{
    return xf_spool_dir_marked(d, &xf_alloc_libc, 0, NULL, NULL, n);
}


/* Files of d whose name ends in suffix (NULL: every file but a .xfa). */
static size_t
count_suffix(const char *d, const char *suffix)
{
    size_t  n, i, k, len;
    char   *names[256];

    n = list_dir(d, names, 256);

    for (i = 0, k = 0; i < n; i++) {
        len = strlen(names[i]);

        if (suffix == NULL
            ? len < 4 || strcmp(names[i] + len - 4, ".xfa") != 0
            : len >= strlen(suffix)
              && strcmp(names[i] + len - strlen(suffix), suffix) == 0)
        {
            k++;
        }
    }

    free_names(names, n);

    return k;
}


/* The files of d but the acknowledgement files (counted on their own). */
static size_t
count_files(const char *d)
{
    return count_suffix(d, NULL);
}


static uint64_t
file_size(const char *d, const char *name)
{
    char         path[512];
    struct stat  st;

    snprintf(path, sizeof(path), "%s/%s", d, name);
    ck_assert_int_eq(stat(path, &st), 0);

    return (uint64_t) st.st_size;
}


static void
conf_init(xf_spool_conf_t *c, const char *owner)
{
    memset(c, 0, sizeof(xf_spool_conf_t));

    c->dir = dir;
    c->owner = owner;
    c->fsync = XF_SPOOL_FSYNC_OFF;
    c->alloc = &xf_alloc_libc;
}


static xf_spool_t *
open_spool(const char *owner, uint64_t segment_size)
{
    xf_spool_t       *sp;
    xf_spool_conf_t   c;

    conf_init(&c, owner);
    c.segment_size = segment_size;

    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    return sp;
}


/* Record i: value "event-<i>", padded to pad bytes. */

static char  valbuf[8192];

static void
mkrec(xf_spool_record_t *r, unsigned i, size_t pad)
{
    int  n;

    memset(r, 0, sizeof(xf_spool_record_t));

    n = snprintf(valbuf, sizeof(valbuf), "event-%06u", i);

    if (pad > (size_t) n) {
        memset(valbuf + n, '.', pad - n);
        n = (int) pad;
    }

    r->timestamp = 1700000000000ULL + i;
    r->topic = (const u_char *) "events";
    r->topic_len = 6;
    r->key = (const u_char *) "k";
    r->key_len = 1;
    r->value = (const u_char *) valbuf;
    r->value_len = (size_t) n;
    r->nheaders = 1;
    r->headers[0].name = (const u_char *) "xflow-id";
    r->headers[0].name_len = 8;
    r->headers[0].value = (const u_char *) valbuf;
    r->headers[0].value_len = 12;
}


static void
append_n(xf_spool_t *sp, unsigned from, unsigned n, size_t pad)
{
    unsigned           i;
    uint64_t           id;
    xf_spool_record_t  r;

    for (i = from; i < from + n; i++) {
        mkrec(&r, i, pad);
        ck_assert_int_eq(xf_spool_append(sp, &r, 1000, &id), XF_SPOOL_OK);
    }
}


/* The event number of a replayed record. */

static unsigned
rec_no(const xf_spool_record_t *r)
{
    char  digits[7];

    ck_assert_uint_ge(r->value_len, 12);
    ck_assert_int_eq(memcmp(r->value, "event-", 6), 0);
    ck_assert_int_eq(memcmp(r->headers[0].value, r->value, 12), 0);

    /* the value is not NUL-terminated: what follows it is another's */
    memcpy(digits, r->value + 6, 6);
    digits[6] = '\0';

    return (unsigned) strtoul(digits, NULL, 10);
}


/* Replay everything, expecting events from..from+n-1 in order; ack all. */

static void
replay_expect(xf_spool_t *sp, unsigned from, unsigned n)
{
    unsigned           i;
    xf_spool_pos_t     pos;
    xf_spool_record_t  r;

    for (i = from; i < from + n; i++) {
        ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
        ck_assert_uint_eq(rec_no(&r), i);
        ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);
    }

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_EMPTY);
}


static void
write_file(const char *d, const char *name, const u_char *p, size_t len)
{
    int   fd;
    char  path[512];

    snprintf(path, sizeof(path), "%s/%s", d, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(write(fd, p, len), (ssize_t) len);
    close(fd);
}


static void
unlink_name(const char *d, const char *name)
{
    char  path[512];

    snprintf(path, sizeof(path), "%s/%s", d, name);
    ck_assert_int_eq(unlink(path), 0);
}


static u_char *
read_file(const char *d, const char *name, size_t *len)
{
    int      fd;
    char     path[512];
    u_char  *p;

    *len = (size_t) file_size(d, name);
    p = malloc(*len + 1);
    ck_assert_ptr_nonnull(p);

    snprintf(path, sizeof(path), "%s/%s", d, name);
    fd = open(path, O_RDONLY);
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(read(fd, p, *len), (ssize_t) *len);
    close(fd);

    return p;
}


/* --------------------------------------------------------- open */

START_TEST(test_open_invalid)
{
    xf_spool_t       *sp;
    xf_spool_conf_t   c;

    static const char  *bad[] = {
        "", "a/b", "a.b", "..", "w 1",
        "123456789012345678901234567890123",
    };

    conf_init(&c, bad[_i]);
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_INVALID);
    ck_assert_ptr_null(sp);
}
END_TEST


START_TEST(test_open_conf_invalid)
{
    xf_spool_t       *sp;
    xf_spool_conf_t   c;

    conf_init(&c, "w1");
    c.fsync = XF_SPOOL_FSYNC_INTERVAL;
    c.fsync_interval = 0;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_INVALID);

    conf_init(&c, "w1");
    c.fsync = (xf_spool_fsync_t) 7;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_INVALID);

    conf_init(&c, "w1");
    c.dir = NULL;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_INVALID);

    /* the longest owner is fine */

    conf_init(&c, "abcdefghijABCDEFGHIJ0123456789_-");
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);
    append_n(sp, 0, 1, 0);
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);
}
END_TEST


START_TEST(test_open_unusable_dir)
{
    char              path[128];
    xf_spool_t       *sp;
    xf_spool_conf_t   c;

    /* missing */

    snprintf(path, sizeof(path), "%s/missing", dir);
    conf_init(&c, "w1");
    c.dir = path;
    errno = 0;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_IO);
    ck_assert_int_eq(errno, ENOENT);

    /* under a regular file: stops root as well */

    write_file(dir, "file", (const u_char *) "x", 1);
    snprintf(path, sizeof(path), "%s/file/spool", dir);
    c.dir = path;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_IO);
    ck_assert_int_eq(errno, ENOTDIR);

    snprintf(path, sizeof(path), "%s/file", dir);
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_IO);
    ck_assert_int_eq(errno, ENOTDIR);

    /* read-only, where that stops us (not root) */

    if (geteuid() != 0) {
        ck_assert_int_eq(chmod(dir, 0500), 0);
        c.dir = dir;
        ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_IO);
        ck_assert_int_eq(errno, EACCES);
        ck_assert_int_eq(chmod(dir, 0700), 0);
    }
}
END_TEST


/* ---------------------------------------------------------- append */

START_TEST(test_lazy_create_and_name)
{
    char               *names[8];
    size_t              n;
    xf_spool_t         *sp;
    const xf_spool_stats_t  *st;

    sp = open_spool("w1", 0);
    ck_assert_uint_eq(count_files(dir), 0);

    append_n(sp, 0, 3, 0);

    n = list_dir(dir, names, 8);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(strlen(names[0]), 16 + 1 + 2 + 4);
    ck_assert_int_eq(strcmp(names[0] + 16, "-w1.xfs"), 0);
    ck_assert_uint_eq(strspn(names[0], "0123456789abcdef"), 16);

    st = xf_spool_stats(sp);
    ck_assert_uint_eq(st->records, 3);
    ck_assert_uint_eq(st->appended, 3);
    ck_assert_uint_eq(st->segments, 1);
    ck_assert_uint_eq(st->bytes, file_size(dir, names[0]));
    ck_assert_uint_eq(st->appended_bytes, st->bytes);
    ck_assert_uint_eq(xf_spool_appended(sp), 3);

    /* records stay for whoever adopts them */

    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);
    ck_assert_uint_eq(count_files(dir), 1);

    free_names(names, n);
}
END_TEST


START_TEST(test_append_invalid)
{
    xf_spool_t         *sp;
    xf_spool_conf_t     c;
    xf_spool_record_t   r;

    conf_init(&c, "w1");
    c.max_record = 200;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    mkrec(&r, 1, 0);
    r.topic_len = 0;
    ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_INVALID);

    mkrec(&r, 1, 300);
    ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_TOO_LARGE);

    mkrec(&r, 1, 0);
    r.value_len = SIZE_MAX;
    ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_TOO_LARGE);

    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(xf_spool_appended(sp), 0);

    xf_spool_close(sp);
}
END_TEST


START_TEST(test_rotation)
{
    char       *names[64];
    size_t      n, i;
    uint64_t    sum, rlen;
    xf_spool_t *sp;
    xf_spool_record_t  r;

    mkrec(&r, 0, 100);
    rlen = xf_spool_record_size(&r);

    /* room for 4 records a segment */

    sp = open_spool("w1", rlen * 4 + rlen / 2);

    append_n(sp, 0, 18, 100);

    n = list_dir(dir, names, 64);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(xf_spool_stats(sp)->segments, 5);

    sum = 0;

    for (i = 0; i < n; i++) {
        sum += file_size(dir, names[i]);
        ck_assert_uint_eq(file_size(dir, names[i]), i < 4 ? rlen * 4
                                                          : rlen * 2);
    }

    ck_assert_uint_eq(xf_spool_stats(sp)->bytes, sum);

    /* a record larger than a segment gets one of its own */

    mkrec(&r, 18, 2000);
    ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_OK);
    append_n(sp, 19, 1, 100);
    ck_assert_uint_eq(count_files(dir), 7);

    /* names sort in creation order: replay follows them */

    replay_expect(sp, 0, 20);
    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->bytes, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->segments, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->replayed, 20);

    xf_spool_close(sp);
    free_names(names, n);
}
END_TEST


START_TEST(test_size_cap)
{
    unsigned           i;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_record_t  r;

    mkrec(&r, 0, 100);

    conf_init(&c, "w1");
    c.max_size = xf_spool_record_size(&r) * 10;
    c.segment_size = xf_spool_record_size(&r) * 3;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    for (i = 0; i < 9; i++) {
        ck_assert_int_eq(xf_spool_high_water(sp), 0);
        append_n(sp, i, 1, 100);
    }

    /* 9 of 10: the high-water mark (90%), not yet full */

    ck_assert_int_eq(xf_spool_high_water(sp), 1);
    ck_assert_int_eq(xf_spool_full(sp), 0);

    append_n(sp, 9, 1, 100);
    ck_assert_int_eq(xf_spool_full(sp), 1);

    /* the cap is for the caller's admission: appends still succeed */

    append_n(sp, 10, 5, 100);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 15);

    replay_expect(sp, 0, 15);
    ck_assert_int_eq(xf_spool_full(sp), 0);
    ck_assert_int_eq(xf_spool_high_water(sp), 0);

    xf_spool_close(sp);

    /* no cap: never full */

    conf_init(&c, "w2");
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);
    append_n(sp, 0, 3, 100);
    ck_assert_int_eq(xf_spool_full(sp), 0);
    ck_assert_int_eq(xf_spool_high_water(sp), 0);
    xf_spool_close(sp);
}
END_TEST


/* ----------------------------------------------------------- fsync */

START_TEST(test_fsync_always)
{
    uint64_t           id;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_record_t  r;

    conf_init(&c, "w1");
    c.fsync = XF_SPOOL_FSYNC_ALWAYS;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    ck_assert_uint_eq(xf_spool_durable(sp), 0);

    mkrec(&r, 0, 0);
    ck_assert_int_eq(xf_spool_append(sp, &r, 5, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(id, 1);
    ck_assert_uint_eq(xf_spool_durable(sp), 1);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);

    ck_assert_int_eq(xf_spool_append(sp, &r, 6, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(id, 2);
    ck_assert_uint_eq(xf_spool_durable(sp), 2);

    ck_assert_int_eq(xf_spool_sync(sp, 1000000), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 2);

    xf_spool_close(sp);
}
END_TEST


START_TEST(test_fsync_interval)
{
    uint64_t           id;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_record_t  r;

    conf_init(&c, "w1");
    c.fsync = XF_SPOOL_FSYNC_INTERVAL;
    c.fsync_interval = 200;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);

    mkrec(&r, 0, 0);
    ck_assert_int_eq(xf_spool_append(sp, &r, 1000, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(id, 1);
    ck_assert_uint_eq(xf_spool_durable(sp), 0);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 1200);

    /* a later append does not push the deadline */

    ck_assert_int_eq(xf_spool_append(sp, &r, 1150, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 1200);

    ck_assert_int_eq(xf_spool_sync(sp, 1199), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 0);

    ck_assert_int_eq(xf_spool_sync(sp, 1200), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 2);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);

    /* nothing pending: sync does nothing */

    ck_assert_int_eq(xf_spool_sync(sp, 5000), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);

    ck_assert_int_eq(xf_spool_append(sp, &r, 5000, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 5200);
    ck_assert_uint_eq(xf_spool_durable(sp), 2);

    /* flush: now, whatever the deadline */

    ck_assert_int_eq(xf_spool_flush(sp), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 3);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);

    xf_spool_close(sp);
}
END_TEST


/* One due sync covers every segment written since the last, sealed too. */

START_TEST(test_fsync_interval_rotation)
{
    uint64_t           rlen;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    conf_init(&c, "w1");
    c.fsync = XF_SPOOL_FSYNC_INTERVAL;
    c.fsync_interval = 50;
    c.segment_size = rlen * 2;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    append_n(sp, 0, 5, 0);
    ck_assert_uint_eq(count_files(dir), 3);
    ck_assert_uint_eq(xf_spool_durable(sp), 0);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 1050);

    ck_assert_int_eq(xf_spool_sync(sp, 1050), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 5);

    /* a segment replayed and deleted before the sync is no obstacle */

    append_n(sp, 5, 1, 0);
    replay_expect(sp, 0, 6);
    ck_assert_uint_eq(xf_spool_durable(sp), 5);
    ck_assert_int_eq(xf_spool_sync(sp, 2000), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 6);

    xf_spool_close(sp);
}
END_TEST


START_TEST(test_fsync_off)
{
    uint64_t           id;
    xf_spool_t        *sp;
    xf_spool_record_t  r;

    sp = open_spool("w1", 0);

    mkrec(&r, 0, 0);
    ck_assert_int_eq(xf_spool_append(sp, &r, 1000, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 1);
    ck_assert_uint_eq(xf_spool_sync_due(sp), 0);
    ck_assert_int_eq(xf_spool_sync(sp, 999999), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_flush(sp), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_durable(sp), 1);

    xf_spool_close(sp);
}
END_TEST


/* ---------------------------------------------------------- replay */

START_TEST(test_replay_in_order)
{
    xf_spool_t  *sp;

    sp = open_spool("w1", 0);

    append_n(sp, 0, 100, 0);
    replay_expect(sp, 0, 100);

    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->inflight, 0);

    /* the spool goes on after being emptied */

    append_n(sp, 100, 5, 0);
    replay_expect(sp, 100, 5);
    ck_assert_uint_eq(count_files(dir), 0);

    xf_spool_close(sp);
}
END_TEST


/*
 * Acks in an order unrelated to the records', as delivery reports from
 * several partitions come back: a segment goes only with its last ack.
 */

START_TEST(test_out_of_order_acks)
{
    unsigned           i, j, k, rest[5], left1;
    static const unsigned  rest0[5] = { 0, 1, 2, 3, 7 };

    size_t             files;
    uint64_t           rlen;
    uint32_t           s = 99;
    xf_spool_t        *sp;
    xf_spool_pos_t     pos[12], t;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    /* 3 segments of 4 */

    sp = open_spool("w1", rlen * 4);
    append_n(sp, 0, 12, 0);
    ck_assert_uint_eq(count_files(dir), 3);

    for (i = 0; i < 12; i++) {
        ck_assert_int_eq(xf_spool_next(sp, &r, &pos[i]), XF_SPOOL_OK);
        ck_assert_uint_eq(rec_no(&r), i);
    }

    ck_assert_int_eq(xf_spool_next(sp, &r, &t), XF_SPOOL_EMPTY);
    ck_assert_uint_eq(xf_spool_stats(sp)->inflight, 12);

    /* all of segment 3 but its first, all of 2 but its last */

    for (i = 9; i < 12; i++) {
        ck_assert_int_eq(xf_spool_ack(sp, &pos[i]), XF_SPOOL_OK);
    }

    for (i = 4; i < 7; i++) {
        ck_assert_int_eq(xf_spool_ack(sp, &pos[i]), XF_SPOOL_OK);
    }

    ck_assert_uint_eq(count_files(dir), 3);

    ck_assert_int_eq(xf_spool_ack(sp, &pos[8]), XF_SPOOL_OK);
    ck_assert_uint_eq(count_files(dir), 2);

    /* acked twice, or never handed out: refused */

    ck_assert_int_eq(xf_spool_ack(sp, &pos[8]), XF_SPOOL_INVALID);
    ck_assert_int_eq(xf_spool_ack(sp, &pos[9]), XF_SPOOL_INVALID);
    t.segment = 12345;
    t.offset = 0;
    ck_assert_int_eq(xf_spool_ack(sp, &t), XF_SPOOL_INVALID);

    /* the rest, 0..3 (segment 1) and 7 (segment 2), shuffled */

    memcpy(rest, rest0, sizeof(rest));

    for (i = 4; i > 0; i--) {
        j = rnd(&s) % (i + 1);
        k = rest[i];
        rest[i] = rest[j];
        rest[j] = k;
    }

    left1 = 4;

    for (i = 0; i < 5; i++) {
        files = count_files(dir);
        ck_assert_int_eq(xf_spool_ack(sp, &pos[rest[i]]), XF_SPOOL_OK);

        if (rest[i] < 4) {
            left1--;
        }

        /* a file goes exactly when its last record is acked */

        ck_assert_uint_eq(count_files(dir),
                          files - ((rest[i] < 4 && left1 == 0)
                                   || rest[i] == 7));
    }

    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->inflight, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->replayed, 12);

    xf_spool_close(sp);
}
END_TEST


/* Replay reaching the active segment seals it: it can then be deleted. */

START_TEST(test_replay_seals_active)
{
    unsigned           i;
    xf_spool_t        *sp;
    xf_spool_pos_t     pos[3];
    xf_spool_record_t  r;

    sp = open_spool("w1", 0);

    append_n(sp, 0, 3, 0);

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(xf_spool_next(sp, &r, &pos[i]), XF_SPOOL_OK);
    }

    /* appends go to a new segment while the old one is replayed */

    append_n(sp, 3, 2, 0);
    ck_assert_uint_eq(count_files(dir), 2);

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(xf_spool_ack(sp, &pos[i]), XF_SPOOL_OK);
    }

    ck_assert_uint_eq(count_files(dir), 1);

    replay_expect(sp, 3, 2);
    ck_assert_uint_eq(count_files(dir), 0);

    xf_spool_close(sp);
}
END_TEST


/*
 * A replayed record that fails again: the caller appends it anew with
 * attempt + 1 and acks the old copy, so the old segment can go.
 */

START_TEST(test_failed_replay_requeued)
{
    unsigned           no;
    xf_spool_t        *sp;
    xf_spool_pos_t     pos;
    xf_spool_record_t  r, again;

    sp = open_spool("w1", 0);

    append_n(sp, 0, 2, 0);

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
    ck_assert_uint_eq(r.attempt, 0);
    no = rec_no(&r);

    mkrec(&again, no, 0);
    again.attempt = r.attempt + 1;
    ck_assert_int_eq(xf_spool_append(sp, &again, 0, NULL), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 1);
    ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);
    ck_assert_uint_eq(count_files(dir), 1);

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 0);
    ck_assert_uint_eq(r.attempt, 1);
    ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_EMPTY);
    ck_assert_uint_eq(count_files(dir), 0);

    xf_spool_close(sp);
}
END_TEST


/* Records handed out but not acked at close are replayed again later. */

START_TEST(test_close_keeps_outstanding)
{
    xf_spool_t        *sp;
    xf_spool_pos_t     pos;
    xf_spool_record_t  r;

    sp = open_spool("w1", 0);
    append_n(sp, 0, 3, 0);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);

    ck_assert_uint_eq(count_files(dir), 1);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 1);

    /* the acked record is in the file still, but its acknowledgement
     * file says so: the one handed out and not acked comes back with
     * the rest (at-least-once), the acked one does not */

    sp = open_spool("w2", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 2);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 2);
    replay_expect(sp, 1, 2);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 0);
    xf_spool_close(sp);
}
END_TEST


/* -------------------------------------------------------- adoption */

/* A worker that writes, then dies without any cleanup. */

static void
dead_owner(const char *owner, unsigned from, unsigned n, uint64_t segsize)
{
    pid_t  pid;
    int    status;

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        xf_spool_t       *sp;
        xf_spool_conf_t   c;
        xf_spool_record_t r;
        unsigned          i;

        conf_init(&c, owner);
        c.segment_size = segsize;
        c.fsync = XF_SPOOL_FSYNC_ALWAYS;

        if (xf_spool_open(&sp, &c) != XF_SPOOL_OK) {
            _exit(2);
        }

        for (i = from; i < from + n; i++) {
            mkrec(&r, i, 0);

            if (xf_spool_append(sp, &r, 0, NULL) != XF_SPOOL_OK) {
                _exit(3);
            }
        }

        _exit(0);
    }

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}


START_TEST(test_adopt_dead_owner)
{
    unsigned     adopted;
    uint64_t     rlen;
    xf_spool_t  *sp;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    dead_owner("4711", 0, 20, rlen * 8);
    ck_assert_uint_eq(count_files(dir), 3);

    sp = open_spool("5120", 0);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 3);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 20);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted_segments, 3);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 20);
    ck_assert_uint_eq(xf_spool_stats(sp)->segments, 3);
    ck_assert_uint_eq(xf_spool_stats(sp)->corrupt, 0);

    /* adopting again finds nothing new */

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);

    /* our own segments sort after the adopted ones */

    append_n(sp, 20, 5, 0);
    replay_expect(sp, 0, 25);
    ck_assert_uint_eq(count_files(dir), 0);

    xf_spool_close(sp);
}
END_TEST


START_TEST(test_adopt_limit)
{
    unsigned     adopted;
    uint64_t     rlen;
    xf_spool_t  *sp;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    dead_owner("old", 0, 9, rlen * 3);
    ck_assert_uint_eq(count_files(dir), 3);

    sp = open_spool("new", 0);

    ck_assert_int_eq(xf_spool_adopt(sp, 2, &adopted), XF_SPOOL_AGAIN);
    ck_assert_uint_eq(adopted, 2);

    /* the oldest first */

    replay_expect(sp, 0, 6);

    ck_assert_int_eq(xf_spool_adopt(sp, 2, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 1);
    replay_expect(sp, 6, 3);

    xf_spool_close(sp);
}
END_TEST


/* A live owner's segments are not adopted, in another process or ours. */

START_TEST(test_adopt_live_owner)
{
    int          go[2], ready[2], status;
    char         c;
    pid_t        pid;
    unsigned     adopted;
    xf_spool_t  *sp, *other;

    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(ready), 0);

    pid = fork();
    ck_assert_int_ne(pid, -1);

    if (pid == 0) {
        xf_spool_conf_t    cf;
        xf_spool_record_t  r;

        close(go[1]);
        close(ready[0]);

        conf_init(&cf, "live");

        if (xf_spool_open(&other, &cf) != XF_SPOOL_OK) {
            _exit(2);
        }

        mkrec(&r, 0, 0);

        if (xf_spool_append(other, &r, 0, NULL) != XF_SPOOL_OK) {
            _exit(3);
        }

        if (write(ready[1], "x", 1) != 1) {
            _exit(4);
        }

        if (read(go[0], &c, 1) < 0) {   /* until the parent says */
            _exit(5);
        }

        _exit(0);
    }

    close(go[0]);
    close(ready[1]);

    ck_assert_int_eq(read(ready[0], &c, 1), 1);

    sp = open_spool("adopter", 0);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);
    ck_assert_uint_eq(count_files(dir), 1);

    /* the owner dies: now it is an orphan */

    close(go[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 1);
    replay_expect(sp, 0, 1);

    /* a second spool in this very process is a live owner too */

    other = open_spool("same", 0);
    append_n(other, 5, 2, 0);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);

    xf_spool_close(other);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 1);
    replay_expect(sp, 5, 2);

    close(ready[0]);
    xf_spool_close(sp);
}
END_TEST


/* Two adopters race for the same orphans: each record is taken once. */

START_TEST(test_adopt_race)
{
    unsigned     a1, a2;
    uint64_t     rlen;
    xf_spool_t  *s1, *s2;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    dead_owner("gone", 0, 12, rlen * 2);

    s1 = open_spool("one", 0);
    s2 = open_spool("two", 0);

    ck_assert_int_eq(xf_spool_adopt(s1, 3, &a1), XF_SPOOL_AGAIN);
    ck_assert_int_eq(xf_spool_adopt(s2, 0, &a2), XF_SPOOL_OK);
    ck_assert_uint_eq(a1, 3);
    ck_assert_uint_eq(a2, 3);

    replay_expect(s1, 0, 6);
    replay_expect(s2, 6, 6);

    /* s1 deleted its segments; s2 must not find them again */

    ck_assert_int_eq(xf_spool_adopt(s2, 0, &a2), XF_SPOOL_OK);
    ck_assert_uint_eq(a2, 0);
    ck_assert_uint_eq(count_files(dir), 0);

    xf_spool_close(s1);
    xf_spool_close(s2);
}
END_TEST


/*
 * A torn last record at every byte offset: the adopter cuts it off at
 * the previous record's end, counts the bytes, replays the others.
 */

START_TEST(test_torn_tail_every_offset)
{
    size_t       len, last, cut;
    u_char      *bytes;
    char        *names[4];
    xf_spool_t  *sp;
    const xf_spool_stats_t  *st;
    static const char  *orphan = "0000000000000001-dead.xfs";

    dead_owner("src", 0, 5, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    bytes = read_file(dir, names[0], &len);
    unlink_name(dir, names[0]);
    free_names(names, 1);

    last = len / 5 * 4;                 /* equal-size records */

    for (cut = last; cut < len; cut++) {
        write_file(dir, orphan, bytes, cut);

        sp = open_spool("live", 0);
        ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);

        st = xf_spool_stats(sp);
        ck_assert_uint_eq(st->adopted, 4);
        ck_assert_uint_eq(st->corrupt, cut > last);
        ck_assert_uint_eq(st->corrupt_bytes, cut - last);
        ck_assert_uint_eq(st->bytes, last);
        ck_assert_uint_eq(file_size(dir, orphan), last);

        replay_expect(sp, 0, 4);
        ck_assert_uint_eq(count_files(dir), 0);

        xf_spool_close(sp);
    }

    free(bytes);
}
END_TEST


/* Damage anywhere in record 3 of 5 cuts the file from record 3 on. */

START_TEST(test_corrupt_middle_every_byte)
{
    size_t       len, rlen, i;
    u_char      *bytes;
    char        *names[4];
    xf_spool_t  *sp;
    const xf_spool_stats_t  *st;
    static const char  *orphan = "0000000000000001-dead.xfs";

    dead_owner("src", 0, 5, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    bytes = read_file(dir, names[0], &len);
    unlink_name(dir, names[0]);
    free_names(names, 1);

    rlen = len / 5;

    for (i = 2 * rlen; i < 3 * rlen; i++) {
        bytes[i] ^= 0x40;
        write_file(dir, orphan, bytes, len);
        bytes[i] ^= 0x40;

        sp = open_spool("live", 0);
        ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);

        st = xf_spool_stats(sp);
        ck_assert_uint_eq(st->adopted, 2);
        ck_assert_uint_eq(st->corrupt, 1);
        ck_assert_uint_eq(st->corrupt_bytes, len - 2 * rlen);
        ck_assert_uint_eq(file_size(dir, orphan), 2 * rlen);

        replay_expect(sp, 0, 2);
        xf_spool_close(sp);
    }

    free(bytes);
}
END_TEST


/* Nothing usable in it: cut to nothing and deleted, never replayed. */

START_TEST(test_adopt_garbage_and_empty)
{
    unsigned     adopted;
    xf_spool_t  *sp;
    u_char       junk[300];

    memset(junk, 0, sizeof(junk));
    write_file(dir, "0000000000000001-a.xfs", junk, sizeof(junk));
    write_file(dir, "0000000000000002-b.xfs", junk, 0);
    write_file(dir, "0000000000000003-c.xfs", (const u_char *) "XFSR", 4);

    /* not ours to touch: other names */
    write_file(dir, "notes.txt", junk, 10);
    write_file(dir, "0000000000000004-d.xfs~", junk, 10);
    write_file(dir, "000000000000000g-e.xfs", junk, 10);

    sp = open_spool("live", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->corrupt, 2);
    ck_assert_uint_eq(xf_spool_stats(sp)->corrupt_bytes, 304);
    ck_assert_uint_eq(count_files(dir), 3);

    /* new segments sort after everything seen, junk names aside */

    append_n(sp, 0, 1, 0);
    ck_assert_uint_eq(count_files(dir), 4);

    xf_spool_close(sp);
}
END_TEST


/* A symlink or a directory named like a segment is left alone. */

START_TEST(test_adopt_not_regular)
{
    char         path[256];
    unsigned     adopted;
    xf_spool_t  *sp;

    snprintf(path, sizeof(path), "%s/0000000000000001-a.xfs", dir);
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/0000000000000002-b.xfs", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);

    sp = open_spool("live", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);
    xf_spool_close(sp);

    rmdir(path);
}
END_TEST


/* Temporary names: unheld ones are cleaned at open, held ones kept. */

START_TEST(test_tmp_files)
{
    int          fd;
    char         path[256];
    xf_spool_t  *sp;

    write_file(dir, "0000000000000001-a.xfs.new", (const u_char *) "", 0);
    write_file(dir, "0000000000000002-b.xfs.new", (const u_char *) "", 0);

    snprintf(path, sizeof(path), "%s/0000000000000002-b.xfs.new", dir);
    fd = open(path, O_RDONLY);
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);

    sp = open_spool("live", 0);
    ck_assert_uint_eq(count_files(dir), 1);
    ck_assert_int_eq(access(path, F_OK), 0);

    close(fd);

    /* new names sort after the temporary ones' sequence numbers */

    append_n(sp, 0, 1, 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(count_files(dir), 1);

    xf_spool_close(sp);
}
END_TEST


START_TEST(test_segment_scan)
{
    int              fd;
    char            *names[4], path[256];
    size_t           len;
    u_char          *bytes;
    xf_spool_scan_t  res;

    dead_owner("src", 0, 5, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    bytes = read_file(dir, names[0], &len);

    snprintf(path, sizeof(path), "%s/%s", dir, names[0]);
    fd = open(path, O_RDWR);
    ck_assert_int_ne(fd, -1);

    ck_assert_int_eq(xf_spool_segment_scan(fd, &xf_alloc_libc, &res),
                     XF_SPOOL_OK);
    ck_assert_int_eq(res.tail, XF_SPOOL_OK);
    ck_assert_uint_eq(res.records, 5);
    ck_assert_uint_eq(res.good, len);
    ck_assert_uint_eq(res.file_size, len);

    ck_assert_int_eq(lseek(fd, 0, SEEK_END), (off_t) len);
    ck_assert_int_eq(write(fd, bytes, 7), 7);
    ck_assert_int_eq(xf_spool_segment_scan(fd, &xf_alloc_libc, &res),
                     XF_SPOOL_OK);
    ck_assert_int_eq(res.tail, XF_SPOOL_NEED_MORE);
    ck_assert_uint_eq(res.good, len);
    ck_assert_uint_eq(res.file_size, len + 7);

    /* nothing was changed by looking */
    ck_assert_uint_eq(file_size(dir, names[0]), len + 7);

    close(fd);
    free(bytes);
    free_names(names, 1);
}
END_TEST


/*
 * The ledger's count at start: records marked XF_SPOOL_LEDGER_HEADER in
 * every segment, held by a live spool or not, a torn tail's not.
 */
START_TEST(test_dir_marked)
{
    int                 fd;
    char               *names[4], path[256];
    size_t              len;
    u_char             *bytes;
    unsigned            i;
    uint64_t            id, n;
    xf_spool_t         *sp;
    xf_spool_record_t   r;

    ck_assert_int_eq(marked_in(dir, &n),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(n, 0);

    /* unmarked records (dead letters, older versions) do not count */
    dead_owner("old", 0, 5, 0);

    sp = open_spool("live", 0);

    for (i = 0; i < 7; i++) {
        mkrec(&r, i, 0);

        if (i % 2 == 0) {
            r.headers[1].name = (const u_char *) XF_SPOOL_LEDGER_HEADER;
            r.headers[1].name_len = sizeof(XF_SPOOL_LEDGER_HEADER) - 1;
            r.headers[1].value = (const u_char *) "";
            r.headers[1].value_len = 0;
            r.nheaders = 2;
            ck_assert(xf_spool_record_marked(&r));

        } else {
            ck_assert(!xf_spool_record_marked(&r));
        }

        ck_assert_int_eq(xf_spool_append(sp, &r, 1000, &id), XF_SPOOL_OK);
    }

    ck_assert_int_eq(marked_in(dir, &n),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(n, 4);

    /* a torn tail is no record */
    ck_assert_uint_eq(list_dir(dir, names, 4), 2);
    snprintf(path, sizeof(path), "%s/%s", dir, names[1]);
    bytes = read_file(dir, names[1], &len);
    fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ne(fd, -1);
    ck_assert_int_eq(write(fd, bytes, len - 1), (ssize_t) (len - 1));
    close(fd);

    ck_assert_int_eq(marked_in(dir, &n),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(n, 4 + (strstr(names[1], "live") ? 3 : 0));

    ck_assert_int_eq(marked_in("/nonexistent/xflow", &n),
                     XF_SPOOL_IO);

    free(bytes);
    free_names(names, 2);
    xf_spool_close(sp);
}
END_TEST


/* Counts the records the count at start hands over, and their origin. */
static void
count_origin(void *data, const xf_spool_record_t *r)
{
    unsigned                 *n = data;
    const xf_spool_header_t  *h;

    h = xf_spool_record_header(r, XF_SPOOL_LEDGER_HEADER);
    ck_assert_ptr_nonnull(h);

    n[0]++;
    n[1] += h->value_len == 4 && memcmp(h->value, "json", 4) == 0;
}


/* An acknowledgement file of offsets, as a worker would have left it. */

static void
write_acked(const char *segment, const uint64_t *off, size_t n, size_t tail)
{
    size_t  i, k;
    u_char  b[8 * 8 + 8];
    char    name[128];

    ck_assert_uint_le(n, 8);
    ck_assert_uint_lt(tail, 8);

    for (i = 0; i < n; i++) {
        for (k = 0; k < 8; k++) {
            b[i * 8 + k] = (u_char) (off[i] >> (8 * k));
        }
    }

    /* a torn last entry: its first bytes only */
    memset(b + n * 8, 0, tail);

    snprintf(name, sizeof(name), "%s", segment);
    name[strlen(name) - 1] = 'a';
    write_file(dir, name, b, n * 8 + tail);
}


/*
 * What a replay delivered is never replayed again, nor counted on the
 * spool again, whoever reads the segment next: the acknowledgement file
 * goes with it, read at adoption and by the count at start.
 */
START_TEST(test_acked_file)
{
    char               *names[4];
    unsigned            i, adopted, seen[2];
    uint64_t            id, n, off[2], rlen;
    xf_spool_t         *sp;
    xf_spool_pos_t      pos[6];
    xf_spool_record_t   r, again;

    sp = open_spool("w1", 0);

    for (i = 0; i < 6; i++) {
        mkrec(&r, i, 0);
        r.headers[1].name = (const u_char *) XF_SPOOL_LEDGER_HEADER;
        r.headers[1].name_len = sizeof(XF_SPOOL_LEDGER_HEADER) - 1;
        /* an origin, or none (as an earlier version wrote them) */
        r.headers[1].value = (const u_char *) (i < 3 ? "json" : "");
        r.headers[1].value_len = i < 3 ? 4 : 0;
        r.nheaders = 2;
        ck_assert_int_eq(xf_spool_append(sp, &r, 1000, &id), XF_SPOOL_OK);
    }

    for (i = 0; i < 6; i++) {
        ck_assert_int_eq(xf_spool_next(sp, &r, &pos[i]), XF_SPOOL_OK);
    }

    /* 0, 2, 4 delivered; 5 failed again: its copy at the tail */
    for (i = 0; i < 6; i += 2) {
        ck_assert_int_eq(xf_spool_ack(sp, &pos[i]), XF_SPOOL_OK);
    }

    mkrec(&again, 5, 0);
    again.attempt = 1;
    again.headers[1] = r.headers[1];
    again.nheaders = 2;
    ck_assert_int_eq(xf_spool_append(sp, &again, 1000, &id), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_ack(sp, &pos[5]), XF_SPOOL_OK);

    /* the worker stops with 1 and 3 out */
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);
    ck_assert_uint_eq(count_files(dir), 2);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 1);

    /* the count at start: 1, 3 and the copy of 5, not 0, 2, 4, 5; each
       handed over with its origin (1's, the others have none) */
    ck_assert_int_eq(marked_in(dir, &n),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(n, 3);
    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(xf_spool_dir_marked(dir, &xf_alloc_libc, 0,
                                         count_origin, seen, &n),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(seen[0], 3);
    ck_assert_uint_eq(seen[1], 1);

    sp = open_spool("w2", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 2);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 3);
    ck_assert_uint_eq(xf_spool_stats(sp)->records, 3);

    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[0]), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 1);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[1]), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 3);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[2]), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 5);
    ck_assert_uint_eq(r.attempt, 1);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[3]), XF_SPOOL_EMPTY);

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(xf_spool_ack(sp, &pos[i]), XF_SPOOL_OK);
    }

    /* segments and their acknowledgement files gone together */
    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 0);
    xf_spool_close(sp);

    /* a torn last entry acknowledges nothing */
    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);
    dead_owner("4711", 0, 3, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    off[0] = rlen;
    write_acked(names[0], off, 1, 5);

    sp = open_spool("w3", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 2);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[0]), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 0);
    ck_assert_int_eq(xf_spool_ack(sp, &pos[0]), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[0]), XF_SPOOL_OK);
    ck_assert_uint_eq(rec_no(&r), 2);
    ck_assert_int_eq(xf_spool_ack(sp, &pos[0]), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos[0]), XF_SPOOL_EMPTY);
    ck_assert_uint_eq(count_files(dir), 0);
    xf_spool_close(sp);
    free_names(names, 1);

    /* every record acknowledged: adoption deletes the segment */
    dead_owner("4712", 0, 2, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    off[0] = rlen;
    off[1] = 0;
    write_acked(names[0], off, 2, 0);

    sp = open_spool("w4", 0);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, &adopted), XF_SPOOL_OK);
    ck_assert_uint_eq(adopted, 0);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 0);
    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 0);
    xf_spool_close(sp);
    free_names(names, 1);

    /* one left without its segment goes at the next open, and its seq
     * is never given to a new segment (which would inherit it) */
    write_acked("0000000000000100-w5.xfs", off, 1, 0);
    sp = open_spool("w5", 0);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 0);
    append_n(sp, 0, 1, 0);
    ck_assert_uint_eq(list_dir(dir, names, 4), 1);
    ck_assert_str_eq(names[0], "0000000000000101-w5.xfs");
    replay_expect(sp, 0, 1);
    xf_spool_close(sp);
    free_names(names, 1);
}
END_TEST


/* Counts the records handed over (a foreign adoption, a count). */
static void
count_one(void *data, const xf_spool_record_t *r)
{
    unsigned  *n = data;

    ck_assert(xf_spool_record_marked(r));
    (*n)++;
}


/* A spool of owner counted by generation, foreign records to *seen. */
static xf_spool_t *
open_counted(const char *owner, uint64_t generation, unsigned *seen)
{
    xf_spool_t       *sp;
    xf_spool_conf_t   c;

    conf_init(&c, owner);
    c.generation = generation;
    c.foreign = count_one;
    c.foreign_data = seen;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);

    return sp;
}


/* n marked records from. */
static void
append_marked(xf_spool_t *sp, unsigned from, unsigned n)
{
    unsigned           i;
    xf_spool_record_t  r;

    for (i = from; i < from + n; i++) {
        mkrec(&r, i, 0);
        r.headers[1].name = (const u_char *) XF_SPOOL_LEDGER_HEADER;
        r.headers[1].name_len = sizeof(XF_SPOOL_LEDGER_HEADER) - 1;
        r.headers[1].value = (const u_char *) "";
        r.nheaders = 2;
        ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_OK);
    }
}


/*
 * Each generation of a count (a ledger: a start, a binary upgrade) counts
 * a record once, whoever holds it: the segment's creator's generation
 * from its creation, a count at start that locks what no live process
 * holds, and an adoption from another generation, each marked in the
 * acknowledgement file.
 */
START_TEST(test_generations)
{
    unsigned     seen, other;
    uint64_t     n;
    xf_spool_t  *sp, *live;

    /* generation 1 spools 3 events and stops */
    seen = 0;
    sp = open_counted("w1", 1, &seen);
    append_marked(sp, 0, 3);
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 1);

    /* its own count has them; a new one (a restart) counts them once */
    ck_assert_int_eq(xf_spool_dir_marked(dir, &xf_alloc_libc, 1, count_one,
                                         &seen, &n), XF_SPOOL_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(xf_spool_dir_marked(dir, &xf_alloc_libc, 2, count_one,
                                         &seen, &n), XF_SPOOL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(seen, 3);
    ck_assert_int_eq(xf_spool_dir_marked(dir, &xf_alloc_libc, 2, count_one,
                                         &seen, &n), XF_SPOOL_OK);
    ck_assert_uint_eq(n, 0);

    /* generation 2's workers adopt it without counting it again */
    sp = open_counted("w2", 2, &seen);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 3);
    ck_assert_uint_eq(seen, 3);
    append_marked(sp, 3, 2);
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);

    /* a binary upgrade: generation 3 runs beside a live worker of 2 */
    other = 0;
    live = open_counted("w3", 2, &other);
    ck_assert_int_eq(xf_spool_adopt(live, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(other, 0);
    append_marked(live, 5, 1);

    /* what the live worker holds is not counted at generation 3's start */
    ck_assert_int_eq(xf_spool_dir_marked(dir, &xf_alloc_libc, 3, count_one,
                                         &seen, &n), XF_SPOOL_OK);
    ck_assert_uint_eq(n, 0);

    /* the old worker stops: generation 3 counts at adoption, once */
    ck_assert_int_eq(xf_spool_close(live), XF_SPOOL_OK);
    seen = 0;
    sp = open_counted("w4", 3, &seen);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(seen, 6);
    ck_assert_int_eq(xf_spool_close(sp), XF_SPOOL_OK);

    sp = open_counted("w5", 3, &seen);
    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_uint_eq(seen, 6);
    ck_assert_uint_eq(xf_spool_stats(sp)->adopted, 6);
    replay_expect(sp, 0, 6);
    ck_assert_uint_eq(count_files(dir), 0);
    ck_assert_uint_eq(count_suffix(dir, ".xfa"), 0);
    xf_spool_close(sp);
}
END_TEST


/* ------------------------------------------------ file system faults */

/* The directory disappears under an open spool. */

START_TEST(test_dir_removed)
{
    int                err;
    char               sub[128];
    const char        *call;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_record_t  r;
    xf_spool_pos_t     pos;

    snprintf(sub, sizeof(sub), "%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);

    conf_init(&c, "w1");
    c.dir = sub;
    ck_assert_int_eq(xf_spool_open(&sp, &c), XF_SPOOL_OK);
    ck_assert_int_eq(rmdir(sub), 0);

    mkrec(&r, 0, 0);
    ck_assert_int_eq(xf_spool_append(sp, &r, 0, NULL), XF_SPOOL_IO);
    err = xf_spool_errno(sp, &call);
    ck_assert_int_eq(err, ENOENT);
    ck_assert_str_eq(call, "open");
    ck_assert_uint_eq(xf_spool_stats(sp)->errors, 1);
    ck_assert_uint_eq(xf_spool_appended(sp), 0);

    ck_assert_int_eq(xf_spool_adopt(sp, 0, NULL), XF_SPOOL_OK);
    ck_assert_int_eq(xf_spool_next(sp, &r, &pos), XF_SPOOL_EMPTY);

    xf_spool_close(sp);
}
END_TEST


/*
 * A full disk, played by RLIMIT_FSIZE with SIGXFSZ ignored: writes past
 * the limit fail with EFBIG after writing what fits.  The file must keep
 * whole records only, the error must be reported, and the spool must
 * work again once there is room.
 */

START_TEST(test_disk_full)
{
    int                fd, err1, err2;
    char              *names[8], path[256];
    size_t             n, i;
    uint64_t           rlen, id;
    xf_spool_rc_t      rc1, rc2;
    struct rlimit      rl, old;
    xf_spool_t        *sp;
    xf_spool_record_t  r;
    xf_spool_scan_t    res;

    signal(SIGXFSZ, SIG_IGN);

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    sp = open_spool("w1", 0);
    append_n(sp, 0, 3, 0);

    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);

    /*
     * While the limit is low no ck_assert may run: check itself writes a
     * file for every assertion, and the limit would cut that too.
     */

    mkrec(&r, 3, 0);
    rl = old;

    /* half a record fits: written, then cut back */

    rl.rlim_cur = rlen * 3 + rlen / 2;
    (void) setrlimit(RLIMIT_FSIZE, &rl);
    rc1 = xf_spool_append(sp, &r, 0, &id);
    err1 = xf_spool_errno(sp, NULL);

    /* no room for even one record in a fresh segment */

    rl.rlim_cur = rlen / 2;
    (void) setrlimit(RLIMIT_FSIZE, &rl);
    rc2 = xf_spool_append(sp, &r, 0, &id);
    err2 = xf_spool_errno(sp, NULL);

    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

    ck_assert_int_eq(rc1, XF_SPOOL_IO);
    ck_assert_int_eq(err1, EFBIG);
    ck_assert_int_eq(rc2, XF_SPOOL_IO);
    ck_assert_int_eq(err2, EFBIG);
    ck_assert_uint_eq(xf_spool_stats(sp)->errors, 2);
    ck_assert_uint_eq(xf_spool_appended(sp), 3);

    /* only whole records on disk; no empty segment left behind */

    n = list_dir(dir, names, 8);
    ck_assert_uint_eq(n, 1);

    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        fd = open(path, O_RDONLY);
        ck_assert_int_ne(fd, -1);
        ck_assert_int_eq(xf_spool_segment_scan(fd, &xf_alloc_libc, &res),
                         XF_SPOOL_OK);
        ck_assert_int_eq(res.tail, XF_SPOOL_OK);
        ck_assert_uint_eq(res.records, 3);
        close(fd);
    }

    free_names(names, n);

    /* room again */

    ck_assert_int_eq(xf_spool_append(sp, &r, 0, &id), XF_SPOOL_OK);
    ck_assert_uint_eq(id, 4);

    replay_expect(sp, 0, 4);
    xf_spool_close(sp);
}
END_TEST


/* ------------------------------------------------------------ memory */

/*
 * A whole life of a spool (open, adopt, append across segments, replay,
 * close) with allocation N failing, for every N: each failure is
 * reported as XF_SPOOL_NOMEM, nothing leaks, nothing crashes.
 */

START_TEST(test_every_alloc_failure)
{
    long               n;
    unsigned           i, got;
    uint64_t           rlen;
    xf_unit_mem_t      h;
    xf_alloc_t         a;
    xf_spool_t        *sp;
    xf_spool_conf_t    c;
    xf_spool_rc_t      rc;
    xf_spool_pos_t     pos;
    xf_spool_record_t  r;

    mkrec(&r, 0, 0);
    rlen = xf_spool_record_size(&r);

    a.alloc = xf_unit_mem_alloc;
    a.free = xf_unit_mem_free;
    a.data = &h;

    for (n = 0; n < 200; n++) {
        rm_dir_files(dir);
        dead_owner("dead", 0, 6, rlen * 2);

        memset(&h, 0, sizeof(h));
        h.fail_at = n + 1;

        conf_init(&c, "live");
        c.alloc = &a;
        c.segment_size = rlen * 2;

        rc = xf_spool_open(&sp, &c);
        if (rc != XF_SPOOL_OK) {
            ck_assert_int_eq(rc, XF_SPOOL_NOMEM);
            ck_assert_int_eq(h.live, 0);
            continue;
        }

        rc = xf_spool_adopt(sp, 0, NULL);
        ck_assert(rc == XF_SPOOL_OK || rc == XF_SPOOL_NOMEM);

        for (i = 6; i < 12; i++) {
            mkrec(&r, i, 0);
            rc = xf_spool_append(sp, &r, 0, NULL);
            ck_assert(rc == XF_SPOOL_OK || rc == XF_SPOOL_NOMEM);
        }

        got = 0;

        for ( ;; ) {
            rc = xf_spool_next(sp, &r, &pos);
            if (rc != XF_SPOOL_OK) {
                break;
            }

            got++;
            ck_assert_int_eq(xf_spool_ack(sp, &pos), XF_SPOOL_OK);
        }

        ck_assert(rc == XF_SPOOL_EMPTY || rc == XF_SPOOL_NOMEM);

        xf_spool_close(sp);
        ck_assert_int_eq(h.live, 0);

        if (h.calls < h.fail_at) {
            /* the failure point lies past the whole run: done */
            ck_assert_uint_eq(got, 12);
            break;
        }
    }

    ck_assert_int_lt(n, 200);
}
END_TEST


Suite *
make_spool_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("spool");

    tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lazy_create_and_name);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_fsync_always);
    tcase_add_test(tc, test_fsync_interval);
    tcase_add_test(tc, test_fsync_interval_rotation);
    tcase_add_test(tc, test_fsync_off);
    tcase_add_test(tc, test_replay_in_order);
    tcase_add_test(tc, test_out_of_order_acks);
    tcase_add_test(tc, test_replay_seals_active);
    tcase_add_test(tc, test_failed_replay_requeued);
    tcase_add_test(tc, test_close_keeps_outstanding);
    tcase_add_test(tc, test_segment_scan);
    tcase_add_test(tc, test_dir_marked);
    tcase_add_test(tc, test_acked_file);
    tcase_add_test(tc, test_generations);
    suite_add_tcase(s, tc);

    tc = tcase_create("adoption");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_adopt_dead_owner);
    tcase_add_test(tc, test_adopt_limit);
    tcase_add_test(tc, test_adopt_live_owner);
    tcase_add_test(tc, test_adopt_race);
    tcase_add_test(tc, test_torn_tail_every_offset);
    tcase_add_test(tc, test_corrupt_middle_every_byte);
    tcase_add_test(tc, test_adopt_garbage_and_empty);
    tcase_add_test(tc, test_adopt_not_regular);
    tcase_add_test(tc, test_tmp_files);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_open_invalid, 0, 6);
    tcase_add_test(tc, test_open_conf_invalid);
    tcase_add_test(tc, test_open_unusable_dir);
    tcase_add_test(tc, test_append_invalid);
    tcase_add_test(tc, test_dir_removed);
    tcase_add_test(tc, test_disk_full);
    tcase_add_test(tc, test_every_alloc_failure);
    suite_add_tcase(s, tc);

    return s;
}
