/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-decode-brotli.c - xf_decode's brotli codec: the header token,
 * round trips in any chunking, a bomb under the cap with bounded memory,
 * truncation, trailing bytes, corruption and allocation failures.
 * Compressed inputs are made here with libbrotlienc.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>

#include "xf_decode.h"
#include "xf_unit.h"


#define KiB  ((size_t) 1024)
#define MiB  (1024 * KiB)


/* A heap that knows the bytes alive, their peak and the largest block. */

typedef struct {
    size_t  cur;
    size_t  peak;
    size_t  largest;
} br_heap_t;


static void *
br_heap_alloc(void *data, size_t size)
{
    br_heap_t  *h = data;
    size_t     *b;

    b = malloc(sizeof(size_t) * 2 + size);
    ck_assert_ptr_nonnull(b);

    b[0] = size;
    h->cur += size;
    h->peak = h->cur > h->peak ? h->cur : h->peak;
    h->largest = size > h->largest ? size : h->largest;

    return b + 2;
}


static void
br_heap_free(void *data, void *p)
{
    br_heap_t  *h = data;
    size_t     *b;

    ck_assert_ptr_nonnull(p);

    b = (size_t *) p - 2;
    h->cur -= b[0];
    free(b);
}


static void
br_heap_init(br_heap_t *h, xf_alloc_t *a)
{
    memset(h, 0, sizeof(br_heap_t));

    a->alloc = br_heap_alloc;
    a->free = br_heap_free;
    a->data = h;
}


static u_char *
br_pack(const u_char *in, size_t len, int quality, int lgwin, size_t *out_len)
{
    size_t   n;
    u_char  *out;

    n = BrotliEncoderMaxCompressedSize(len);
    n = n ? n : len + 1024;

    out = malloc(n);
    ck_assert_ptr_nonnull(out);

    ck_assert(BrotliEncoderCompress(quality, lgwin, BROTLI_MODE_TEXT, len, in,
                                    &n, out));
    *out_len = n;

    return out;
}


/* JSON-like events, varied enough not to collapse into one repeat. */

static u_char *
br_text(size_t len)
{
    size_t   i, n;
    u_char  *p;
    char     ev[96];

    p = malloc(len + 1);
    ck_assert_ptr_nonnull(p);

    for (i = 0; i < len; i += n) {
        n = (size_t) snprintf(ev, sizeof(ev),
                              "{\"event\":\"page_%zu\",\"user_id\":\"u%zu\"}\n",
                              i % 977, (i * 7919) % 100003);
        n = xf_min(n, len - i);
        memcpy(p + i, ev, n);
    }

    return p;
}


/* Decode p in chunks of chunk bytes (0: one); the output is malloc'ed. */

static xf_status_t
br_decode(const u_char *p, size_t len, size_t chunk, size_t max_out,
    const xf_alloc_t *a, u_char **out, size_t *out_len)
{
    size_t         off, n, dlen;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *dout;

    *out = NULL;
    *out_len = 0;

    rc = xf_decoder_create(&d, XF_ENC_BR, max_out, a);
    if (rc != XF_OK) {
        return rc;
    }

    rc = XF_OK;

    for (off = 0; off < len && rc == XF_OK; off += n) {
        n = chunk ? xf_min(chunk, len - off) : len;
        rc = xf_decoder_feed(d, p + off, n);
        ck_assert_uint_le(xf_decoder_size(d), max_out);
    }

    dout = NULL;
    dlen = 0;

    if (rc == XF_OK) {
        rc = xf_decoder_finish(d, &dout, &dlen);
    }

    if (rc == XF_OK) {
        *out = malloc(dlen + 1);
        ck_assert_ptr_nonnull(*out);
        memcpy(*out, dout, dlen);
        *out_len = dlen;

    } else {
        /* errors are sticky */
        ck_assert_int_eq(xf_decoder_feed(d, p, len), rc);
        ck_assert_int_eq(xf_decoder_finish(d, &dout, &dlen), rc);
    }

    xf_decoder_free(d);

    return rc;
}


START_TEST(test_token)
{
    xf_encoding_t  enc;

    ck_assert_int_eq(xf_encoding_parse((const u_char *) " BR ", 4, &enc),
                     XF_OK);
    ck_assert_int_eq(enc, XF_ENC_BR);
    ck_assert_str_eq(xf_encoding_name(XF_ENC_BR), "br");
    ck_assert_int_eq(xf_encoding_parse((const u_char *) "br, gzip", 8, &enc),
                     XF_ERR_ENCODING_UNKNOWN);

    /* no magic: a brotli body is never guessed */
    ck_assert_int_eq(xf_encoding_sniff((const u_char *) "\x1b\x03\x00", 3),
                     XF_ENC_IDENTITY);
}
END_TEST


START_TEST(test_round_trip)
{
    static const size_t  sizes[] = { 0, 1, 15783, 300000 };
    static const size_t  chunks[] = { 0, 1, 777 };
    size_t               i, tlen, plen, n;
    u_char              *text, *packed, *out;
    br_heap_t            h;
    xf_alloc_t           a;

    tlen = sizes[_i];
    text = br_text(tlen);
    packed = br_pack(text, tlen, _i % 2 ? 11 : 5, 22, &plen);

    for (i = 0; i < 3; i++) {
        if (chunks[i] == 1 && tlen > 20000) {
            continue;
        }

        br_heap_init(&h, &a);

        ck_assert_int_eq(br_decode(packed, plen, chunks[i], 4 * MiB, &a,
                                   &out, &n), XF_OK);
        ck_assert_uint_eq(n, tlen);
        ck_assert_mem_eq(out, text, tlen);
        ck_assert_uint_eq(h.cur, 0);

        free(out);
    }

    /* the one-shot path agrees and hands its buffer over */
    ck_assert_int_eq(xf_decode(XF_ENC_BR, packed, plen, 4 * MiB,
                               &xf_alloc_libc, &out, &n), XF_OK);
    ck_assert_uint_eq(n, tlen);
    ck_assert_mem_eq(out, text, tlen);
    free(out);

    free(packed);
    free(text);
}
END_TEST


/*
 * 64 MiB of one byte is a few hundred bytes of brotli: refused at the
 * 1 MiB cap, holding about the cap, never a 16 MiB ring buffer.
 */
START_TEST(test_bomb)
{
    static const size_t  chunks[] = { 0, 1 };
    size_t               plen, n, tlen;
    u_char              *text, *packed, *out;
    br_heap_t            h;
    xf_alloc_t           a;

    tlen = 64 * MiB;
    text = malloc(tlen);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', tlen);

    packed = br_pack(text, tlen, 5, 24, &plen);
    free(text);

    ck_assert_uint_lt(plen, 64 * KiB);

    br_heap_init(&h, &a);

    ck_assert_int_eq(br_decode(packed, plen, chunks[_i], 1 * MiB, &a, &out,
                               &n), XF_ERR_TOO_LARGE);
    ck_assert_uint_le(h.largest, 2 * MiB + 64 * KiB);
    ck_assert_uint_le(h.peak, 4 * MiB);
    ck_assert_uint_eq(h.cur, 0);

    free(packed);
}
END_TEST


/*
 * xf_decoder_set_window_max() bounds the ring buffer: a body whose
 * stream needs a 4 MiB window is refused under 64 KiB, while the same
 * text in a 64 KiB window decodes.
 */
START_TEST(test_window_max)
{
    size_t         plen, dlen;
    u_char        *text, *packed;
    br_heap_t      h;
    xf_alloc_t     a;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *out;
    int            lgwin;

    text = br_text(300000);

    for (lgwin = 16; lgwin <= 22; lgwin += 6) {
        packed = br_pack(text, 300000, 5, lgwin, &plen);
        br_heap_init(&h, &a);

        ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_BR, 1 * MiB, &a),
                         XF_OK);
        ck_assert_int_eq(xf_decoder_set_window_max(d, 64 * KiB), XF_OK);

        out = NULL;
        dlen = 0;

        rc = xf_decoder_feed(d, packed, plen);
        if (rc == XF_OK) {
            rc = xf_decoder_finish(d, &out, &dlen);
        }

        if (lgwin == 16) {
            ck_assert_int_eq(rc, XF_OK);
            ck_assert_uint_eq(dlen, 300000);
            ck_assert_mem_eq(out, text, 300000);

        } else {
            ck_assert_int_eq(rc, XF_ERR_TOO_LARGE);
        }

        ck_assert_uint_le(h.largest, 1 * MiB);

        xf_decoder_free(d);
        ck_assert_uint_eq(h.cur, 0);
        free(packed);
    }

    free(text);
}
END_TEST


/* Exactly the cap decodes; one byte over it does not. */
START_TEST(test_cap_exact)
{
    size_t       plen, n;
    u_char      *text, *packed, *out;
    xf_status_t  rc;

    text = br_text(100000);
    packed = br_pack(text, 100000, 5, 22, &plen);

    rc = br_decode(packed, plen, 0, 100000, &xf_alloc_libc, &out, &n);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(n, 100000);
    free(out);

    rc = br_decode(packed, plen, 0, 99999, &xf_alloc_libc, &out, &n);
    ck_assert_int_eq(rc, XF_ERR_TOO_LARGE);

    free(packed);
    free(text);
}
END_TEST


START_TEST(test_truncated_and_trailing)
{
    size_t       i, plen, n;
    u_char      *text, *packed, *out, *more;
    xf_status_t  rc;

    text = br_text(5000);
    packed = br_pack(text, 5000, 9, 22, &plen);

    /* the empty body and every proper prefix: truncated, never OK */
    for (i = 0; i < plen; i++) {
        rc = br_decode(packed, i, 0, 1 * MiB, &xf_alloc_libc, &out, &n);
        ck_assert_msg(rc == XF_ERR_TRUNCATED || rc == XF_ERR_CORRUPT,
                      "prefix %zu: %s", i, xf_strerror(rc));
    }

    ck_assert_int_eq(br_decode(packed, 0, 0, 1 * MiB, &xf_alloc_libc, &out,
                               &n), XF_ERR_TRUNCATED);

    /* one stream per body: a byte after it, or a second stream, is bad */
    more = malloc(2 * plen);
    ck_assert_ptr_nonnull(more);
    memcpy(more, packed, plen);
    memcpy(more + plen, packed, plen);

    ck_assert_int_eq(br_decode(more, plen + 1, 0, 1 * MiB, &xf_alloc_libc,
                               &out, &n), XF_ERR_CORRUPT);
    ck_assert_int_eq(br_decode(more, 2 * plen, 7, 1 * MiB, &xf_alloc_libc,
                               &out, &n), XF_ERR_CORRUPT);

    free(more);
    free(packed);
    free(text);
}
END_TEST


/* Flipped bytes: an error or some output, never a crash or a leak. */
START_TEST(test_corrupt)
{
    size_t       i, plen, n, bad;
    u_char      *text, *packed, *out;
    br_heap_t    h;
    xf_alloc_t   a;
    xf_status_t  rc;

    text = br_text(20000);
    packed = br_pack(text, 20000, 7, 22, &plen);

    bad = 0;

    for (i = 0; i < plen; i += 3) {
        packed[i] ^= 0x5a;
        br_heap_init(&h, &a);

        rc = br_decode(packed, plen, 0, 1 * MiB, &a, &out, &n);

        if (rc == XF_OK) {
            free(out);

        } else {
            ck_assert_msg(rc == XF_ERR_CORRUPT || rc == XF_ERR_TRUNCATED
                          || rc == XF_ERR_TOO_LARGE, "byte %zu: %s", i,
                          xf_strerror(rc));
            bad++;
        }

        ck_assert_uint_eq(h.cur, 0);
        packed[i] ^= 0x5a;
    }

    ck_assert_uint_gt(bad, 0);

    free(packed);
    free(text);
}
END_TEST


/* Every allocation failing in turn: XF_ERR_NOMEM, nothing left alive. */
START_TEST(test_nomem_walk)
{
    size_t         plen, n, calls, k;
    u_char        *text, *packed, *out;
    xf_alloc_t     a;
    xf_status_t    rc;
    xf_unit_mem_t  m;

    text = br_text(200000);
    packed = br_pack(text, 200000, 11, 22, &plen);

    xf_unit_mem_allocator(&m, &a);
    ck_assert_int_eq(br_decode(packed, plen, 4096, 1 * MiB, &a, &out, &n),
                     XF_OK);
    ck_assert_uint_eq(m.live, 0);
    free(out);

    calls = m.calls;
    ck_assert_uint_gt(calls, 2);

    for (k = 1; k <= calls; k++) {
        xf_unit_mem_allocator(&m, &a);
        m.fail_at = k;

        rc = br_decode(packed, plen, 4096, 1 * MiB, &a, &out, &n);

        ck_assert_msg(rc == XF_ERR_NOMEM, "call %zu: %s", k,
                      xf_strerror(rc));
        ck_assert_uint_eq(m.live, 0);
    }

    free(packed);
    free(text);
}
END_TEST


Suite *
make_decode_brotli_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("decode_brotli");

    tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_token);
    tcase_add_loop_test(tc, test_round_trip, 0, 4);
    tcase_add_loop_test(tc, test_bomb, 0, 2);
    tcase_add_test(tc, test_window_max);
    tcase_add_test(tc, test_cap_exact);
    tcase_add_test(tc, test_truncated_and_trailing);
    tcase_add_test(tc, test_corrupt);
    tcase_add_test(tc, test_nomem_walk);
    suite_add_tcase(s, tc);

    return s;
}
