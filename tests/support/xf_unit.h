/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_unit.h - helpers more than one unit test file needs.  Header-only
 * (static inline): the unit runner links the test files and the core
 * only.
 *
 *   a failing allocator   xf_unit_mem_t, xf_unit_mem_allocator()
 *   comparing results     xf_unit_json_is(); xf_unit_str_is() and
 *                         ck_str() with xf_format.h included first
 *   test data             xf_unit_crc32c_bitwise(), xf_unit_gzip()
 */

#ifndef XF_UNIT_H
#define XF_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>
#include <zlib.h>

#include "xf_core.h"


/*
 * The one failing allocator of the unit tests: it counts its calls and
 * fails call number fail_at (1-based, the failed call counted; 0: never),
 * and counts the blocks alive and freed.  An out-of-memory loop runs the
 * code once with fail_at 0 to learn how many calls there are, then once
 * for each: every failure must be reported and leave live at 0.
 */
typedef struct {
    size_t  calls;
    size_t  fail_at;
    size_t  live;
    size_t  frees;
} xf_unit_mem_t;


static inline void *
xf_unit_mem_alloc(void *data, size_t size)
{
    xf_unit_mem_t  *m = data;

    if (++m->calls == m->fail_at) {
        return NULL;
    }

    m->live++;

    return malloc(size);
}


static inline void
xf_unit_mem_free(void *data, void *p)
{
    xf_unit_mem_t  *m = data;

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_gt(m->live, 0);

    m->live--;
    m->frees++;
    free(p);
}


/* Zero m and make a the allocator over it. */
static inline void
xf_unit_mem_allocator(xf_unit_mem_t *m, xf_alloc_t *a)
{
    memset(m, 0, sizeof(xf_unit_mem_t));

    a->alloc = xf_unit_mem_alloc;
    a->free = xf_unit_mem_free;
    a->data = m;
}


#ifdef XF_FORMAT_H

/* s holds exactly the text c (and c is not NULL). */
static inline int
xf_unit_str_is(xf_str_t s, const char *c)
{
    return c != NULL && s.len == strlen(c)
           && (s.len == 0 || memcmp(s.data, c, s.len) == 0);
}

/* Assert that s holds the text c, printing both when not. */
#define ck_str(s, c)                                                         \
    ck_assert_msg(xf_unit_str_is(s, c), "\"%.*s\" != \"%s\"",              \
                  (int) (s).len, (const char *) (s).data, c)

#endif /* XF_FORMAT_H */


/*
 * The JSON text p, len equals want as JSON values (member order and
 * spacing aside); what and i name it in the failure message.
 */
static inline void
xf_unit_json_is(const u_char *p, size_t len, const char *want,
    const char *what, size_t i)
{
    json_t        *a, *b;
    json_error_t   err;

    a = json_loadb((const char *) p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                   &err);
    ck_assert_msg(a != NULL, "%s %zu: %s: %.*s", what, i, err.text,
                  (int) len, p);
    b = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    ck_assert_msg(b != NULL, "want: %s", err.text);
    ck_assert_msg(json_equal(a, b), "%s %zu: %.*s, want %s", what, i,
                  (int) len, p, want);
    json_decref(a);
    json_decref(b);
}


/* CRC32C one bit at a time, straight from the definition. */
static inline uint32_t
xf_unit_crc32c_bitwise(const u_char *p, size_t len)
{
    int       k;
    uint32_t  c = 0xffffffff;

    while (len--) {
        c ^= *p++;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
        }
    }

    return ~c;
}


/* gzip of len bytes (level 9); malloc'd, *out_len its length. */
static inline u_char *
xf_unit_gzip(const void *s, size_t len, size_t *out_len)
{
    u_char    *out;
    z_stream   z;

    memset(&z, 0, sizeof(z_stream));
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 9,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    out = malloc(deflateBound(&z, len) + 16);
    z.next_in = (u_char *) (uintptr_t) s;
    z.avail_in = len;
    z.next_out = out;
    z.avail_out = deflateBound(&z, len) + 16;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);

    return out;
}

#endif /* XF_UNIT_H */
