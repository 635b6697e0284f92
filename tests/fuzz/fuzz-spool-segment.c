/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-spool-segment.c - libFuzzer target for the segment reader: the
 * input becomes an orphan segment file in a scratch directory, which a
 * spool scans, adopts (cutting what is not records), replays and deletes.
 *
 * Input: one selector byte, then the payload.  Selector bit 0 clear: the
 * payload is the file.  Set: the payload is a list of pieces, each a
 * length byte and that many bytes of record body, framed here with right
 * lengths and CRCs (so that the fuzzer gets past the checksums), followed
 * by whatever is left, raw, as the tail.
 *
 * Invariant: the reader walks and cuts arbitrary bytes without crashing,
 * reading out of bounds or leaking; the cut point is a record boundary:
 * the file keeps exactly the longest prefix of whole records, the one
 * xf_spool_record_scan finds in memory, and xf_spool_segment_scan on the
 * file agrees; replay hands out exactly those records, each equal to its
 * bytes at its offset, and once all are acknowledged nothing is left.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_spool.h"
#include "fuzz.h"


#define FUZZ_ORPHAN  "0000000000000001-dead.xfs"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_dir(void);
static void fuzz_dir_remove(void);
static u_char *fuzz_build(const fuzz_input_t *in, size_t *len);
static size_t fuzz_files(const char *dir);


static char  fuzz_path[64];


/*
 * One scratch directory per process, on tmpfs when there is one, removed
 * at exit (every input leaves it empty).
 */

static void
fuzz_dir_remove(void)
{
    char  path[128];

    snprintf(path, sizeof(path), "%s/" FUZZ_ORPHAN, fuzz_path);
    (void) unlink(path);
    (void) rmdir(fuzz_path);
}


static const char *
fuzz_dir(void)
{
    if (fuzz_path[0] == '\0') {
        snprintf(fuzz_path, sizeof(fuzz_path), "/dev/shm/xf-fuzz-XXXXXX");

        if (mkdtemp(fuzz_path) == NULL) {
            snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/xf-fuzz-XXXXXX");

            if (mkdtemp(fuzz_path) == NULL) {
                FUZZ_FAIL("mkdtemp(fuzz_path) == NULL");
            }
        }

        atexit(fuzz_dir_remove);
    }

    return fuzz_path;
}


static u_char *
fuzz_build(const fuzz_input_t *in, size_t *len)
{
    size_t         n, o, size;
    u_char        *buf;
    const u_char  *data;

    /* each input byte yields at most 1 + 20 output bytes */

    buf = malloc((in->len + 1) * (XF_SPOOL_RECORD_HEADER + 1) + 1);
    if (buf == NULL) {
        FUZZ_FAIL("out of memory");
    }

    o = 0;

    if (!fuzz_bits(in, 0, 1)) {
        memcpy(buf, in->p, in->len);
        *len = in->len;
        return buf;
    }

    data = in->p;
    size = in->len;

    while (size > 1 && data[0] != 0xff) {
        n = xf_min((size_t) data[0], size - 1);
        data++;
        size--;

        o += fuzz_frame_record(buf + o, data, n);
        data += n;
        size -= n;
    }

    /* 0xff ends the pieces: the rest is a raw tail */

    memcpy(buf + o, data, size);
    *len = o + size;

    return buf;
}


static size_t
fuzz_files(const char *dir)
{
    DIR            *d;
    size_t          n;
    struct dirent  *de;

    d = opendir(dir);
    if (d == NULL) {
        FUZZ_FAIL("opendir() failed");
    }

    n = 0;

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            n++;
        }
    }

    closedir(d);

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 fd;
    char                path[128];
    size_t              len, good, n, re_len;
    u_char             *file, *re;
    uint64_t            records, got;
    unsigned            adopted;
    struct stat         st;
    xf_spool_t         *sp;
    const char         *dir;
    xf_spool_rc_t       rc;
    xf_spool_pos_t      pos;
    xf_spool_scan_t     res;
    xf_spool_conf_t     conf;
    xf_spool_record_t   r;
    fuzz_input_t        in;

    if (!fuzz_input(data, size, &in)) {
        return 0;
    }

    dir = fuzz_dir();
    file = fuzz_build(&in, &len);

    (void) xf_spool_record_scan(file, len, 0, &good, &records);

    snprintf(path, sizeof(path), "%s/" FUZZ_ORPHAN, dir);

    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd == -1) {
        FUZZ_FAIL("fd == -1");
    }

    if (len && write(fd, file, len) != (ssize_t) len) {
        FUZZ_FAIL("len && write(fd, file, len) != (ssize_t) len");
    }

    /* the file reader agrees with the in-memory one */

    if (xf_spool_segment_scan(fd, &xf_alloc_libc, &res) != XF_SPOOL_OK
        || res.file_size != len || res.good != good
        || res.records != records
        || (res.tail == XF_SPOOL_OK) != (good == len))
    {
        FUZZ_FAIL("xf_spool_segment_scan(fd, &xf_alloc_libc, &res) != "
                  "XF_SPOOL_OK || res.file_size != len || res.good != good || "
                  "res.records != records || (res.tail == XF_SPOOL_OK) != "
                  "(good == len)");
    }

    close(fd);

    memset(&conf, 0, sizeof(conf));
    conf.dir = dir;
    conf.owner = "fuzz";
    conf.fsync = XF_SPOOL_FSYNC_OFF;
    conf.alloc = &xf_alloc_libc;

    if (xf_spool_open(&sp, &conf) != XF_SPOOL_OK) {
        FUZZ_FAIL("xf_spool_open(&sp, &conf) != XF_SPOOL_OK");
    }

    if (xf_spool_adopt(sp, 0, &adopted) != XF_SPOOL_OK
        || adopted != (records ? 1 : 0)
        || xf_spool_stats(sp)->adopted != records
        || xf_spool_stats(sp)->corrupt_bytes != len - good
        || xf_spool_stats(sp)->bytes != good)
    {
        FUZZ_FAIL("xf_spool_adopt(sp, 0, &adopted) != XF_SPOOL_OK || adopted "
                  "!= (records ? 1 : 0) || xf_spool_stats(sp)->adopted != "
                  "records || xf_spool_stats(sp)->corrupt_bytes != len - good "
                  "|| xf_spool_stats(sp)->bytes != good");
    }

    /* cut at the boundary, or deleted when nothing was left */

    if (records) {
        if (stat(path, &st) != 0 || (uint64_t) st.st_size != good) {
            FUZZ_FAIL("stat(path, &st) != 0 || (uint64_t) st.st_size != good");
        }

    } else if (stat(path, &st) == 0) {
        FUZZ_FAIL("stat(path, &st) == 0");
    }

    got = 0;

    re = malloc(good + 1);
    if (re == NULL) {
        FUZZ_FAIL("out of memory");
    }

    for ( ;; ) {
        rc = xf_spool_next(sp, &r, &pos);
        if (rc != XF_SPOOL_OK) {
            break;
        }

        n = xf_spool_record_size(&r);

        if (n == 0 || pos.offset + n > good
            || xf_spool_record_encode(&r, re, good, &re_len) != XF_SPOOL_OK
            || memcmp(re, file + pos.offset, n) != 0
            || xf_spool_ack(sp, &pos) != XF_SPOOL_OK)
        {
            FUZZ_FAIL("n == 0 || pos.offset + n > good || "
                      "xf_spool_record_encode(&r, re, good, &re_len) != "
                      "XF_SPOOL_OK || memcmp(re, file + pos.offset, n) != 0 || "
                      "xf_spool_ack(sp, &pos) != XF_SPOOL_OK");
        }

        got++;
    }

    if (rc != XF_SPOOL_EMPTY || got != records
        || xf_spool_stats(sp)->records != 0
        || xf_spool_stats(sp)->bytes != 0)
    {
        FUZZ_FAIL("rc != XF_SPOOL_EMPTY || got != records || "
                  "xf_spool_stats(sp)->records != 0 || "
                  "xf_spool_stats(sp)->bytes != 0");
    }

    if (xf_spool_close(sp) != XF_SPOOL_OK || fuzz_files(dir) != 0) {
        FUZZ_FAIL("xf_spool_close(sp) != XF_SPOOL_OK || fuzz_files(dir) != 0");
    }

    free(re);
    free(file);

    return 0;
}
