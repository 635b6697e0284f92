/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xflow-spool-dump - print the records of spool segment files as JSON
 * lines, one record a line, and say where and why a file stops being
 * records.  Reads only: a segment that belongs to a running worker can be
 * looked at safely (its last record may show as torn while being written).
 *
 *   xflow-spool-dump [-q] FILE...
 *
 *   {"file":"...","offset":0,"length":92,"timestamp":1700000000123,
 *    "attempt":0,"topic":"events","key":"user-42",
 *    "headers":[["xflow-id","01HZX"],["nullv",null]],"value":"{...}"}
 *
 * A key, header value or value that is not UTF-8 is printed as
 * {"hex":"..."}; an absent one as null.  -q prints no records, only the
 * summary, which goes to stderr:
 *
 *   FILE: 4 records, 380 of 387 bytes, torn tail at 380
 *
 * Exit status: 0 every file is whole records, 1 some file has a torn or
 * corrupt tail, 2 a file could not be read.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_spool_record.h"


static int dump_file(const char *path, int quiet);
static int utf8_valid(const u_char *p, size_t len);
static void put_str(const u_char *p, size_t len);
static void put_bytes(const u_char *p, size_t len);


/* Well-formed UTF-8: no overlong forms, no surrogates, at most U+10FFFF. */

static int
utf8_valid(const u_char *p, size_t len)
{
    size_t    i, n, k;
    uint32_t  c, min;

    for (i = 0; i < len; i += n) {
        c = p[i];

        if (c < 0x80) {
            n = 1;
            continue;

        } else if ((c & 0xe0) == 0xc0) {
            n = 2;
            c &= 0x1f;
            min = 0x80;

        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            c &= 0x0f;
            min = 0x800;

        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            c &= 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            c = c << 6 | (p[i + k] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static void
put_str(const u_char *p, size_t len)
{
    size_t  i;

    putchar('"');

    for (i = 0; i < len; i++) {
        switch (p[i]) {

        case '"':
            fputs("\\\"", stdout);
            break;

        case '\\':
            fputs("\\\\", stdout);
            break;

        case '\n':
            fputs("\\n", stdout);
            break;

        case '\r':
            fputs("\\r", stdout);
            break;

        case '\t':
            fputs("\\t", stdout);
            break;

        default:
            if (p[i] < 0x20 || p[i] == 0x7f) {
                printf("\\u%04x", p[i]);

            } else {
                putchar(p[i]);
            }
        }
    }

    putchar('"');
}


/* A string when it is UTF-8, {"hex":...} when not, null when absent. */

static void
put_bytes(const u_char *p, size_t len)
{
    size_t  i;

    if (p == NULL) {
        fputs("null", stdout);
        return;
    }

    if (utf8_valid(p, len)) {
        put_str(p, len);
        return;
    }

    fputs("{\"hex\":\"", stdout);

    for (i = 0; i < len; i++) {
        printf("%02x", p[i]);
    }

    fputs("\"}", stdout);
}


static int
dump_file(const char *path, int quiet)
{
    FILE               *f;
    long                size;
    size_t              off, n, i;
    u_char             *buf;
    uint64_t            records;
    xf_spool_rc_t       rc;
    xf_spool_record_t   r;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "%s: cannot size\n", path);
        fclose(f);
        return 2;
    }

    buf = malloc(size ? (size_t) size : 1);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", path);
        fclose(f);
        return 2;
    }

    if (size && fread(buf, 1, (size_t) size, f) != (size_t) size) {
        fprintf(stderr, "%s: short read\n", path);
        free(buf);
        fclose(f);
        return 2;
    }

    fclose(f);

    off = 0;
    records = 0;
    rc = XF_SPOOL_OK;

    while (off < (size_t) size) {
        rc = xf_spool_record_decode(buf + off, (size_t) size - off, 0, &r,
                                    &n);
        if (rc != XF_SPOOL_OK) {
            break;
        }

        if (!quiet) {
            fputs("{\"file\":", stdout);
            put_str((const u_char *) path, strlen(path));
            printf(",\"offset\":%zu,\"length\":%zu,\"timestamp\":%llu"
                   ",\"attempt\":%u,\"topic\":", off, n,
                   (unsigned long long) r.timestamp, r.attempt);
            put_bytes(r.topic, r.topic_len);
            fputs(",\"key\":", stdout);
            put_bytes(r.key, r.key_len);
            fputs(",\"headers\":[", stdout);

            for (i = 0; i < r.nheaders; i++) {
                fputs(i ? ",[" : "[", stdout);
                put_bytes(r.headers[i].name, r.headers[i].name_len);
                putchar(',');
                put_bytes(r.headers[i].value, r.headers[i].value_len);
                putchar(']');
            }

            fputs("],\"value\":", stdout);
            put_bytes(r.value, r.value_len);
            fputs("}\n", stdout);
        }

        off += n;
        records++;
    }

    free(buf);

    fprintf(stderr, "%s: %llu records, %zu of %ld bytes", path,
            (unsigned long long) records, off, size);

    if (off == (size_t) size) {
        fputs(", whole\n", stderr);
        return 0;
    }

    fprintf(stderr, ", %s tail at %zu\n",
            rc == XF_SPOOL_NEED_MORE ? "torn" : "corrupt", off);

    return 1;
}


int
main(int argc, char **argv)
{
    int  i, rc, worst, quiet;

    quiet = 0;
    i = 1;

    if (i < argc && strcmp(argv[i], "-q") == 0) {
        quiet = 1;
        i++;
    }

    if (i >= argc) {
        fprintf(stderr, "usage: xflow-spool-dump [-q] FILE...\n");
        return 2;
    }

    worst = 0;

    for ( /* void */ ; i < argc; i++) {
        rc = dump_file(argv[i], quiet);

        if (rc > worst) {
            worst = rc;
        }
    }

    fflush(stdout);

    return worst;
}
