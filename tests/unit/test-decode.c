/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-decode.c - xf_decode: header parsing, sniffing, round trips in
 * any chunking, caps and bombs, truncation, corruption and allocation
 * failures.  Compressed inputs are made here with zlib and zstd.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "xf_decode.h"


#define KiB  ((size_t) 1024)
#define MiB  (1024 * KiB)

/* wbits for deflateInit2 */
#define GZIP_WBITS  (16 + MAX_WBITS)
#define ZLIB_WBITS  MAX_WBITS
#define RAW_WBITS   (-MAX_WBITS)


/*
 * A counting heap: tracks bytes in use, their peak and the running total,
 * can fail the Nth allocation, and can act like a pool whose free does
 * nothing (blocks are released by heap_done).
 */

typedef struct heap_blk_s  heap_blk_t;

struct heap_blk_s {
    heap_blk_t  *next;
    size_t       size;
    int          freed;
    int          pad;
};

typedef struct {
    size_t       cur;
    size_t       peak;
    size_t       total;
    size_t       count;
    long         fail_at;       /* index of the allocation to fail, or -1 */
    int          noop_free;
    heap_blk_t  *blocks;
} heap_t;


static void *
heap_alloc(void *data, size_t size)
{
    heap_t      *h = data;
    heap_blk_t  *b;

    if (h->fail_at >= 0 && (long) h->count++ == h->fail_at) {
        return NULL;
    }

    b = malloc(sizeof(heap_blk_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;
    b->freed = 0;
    b->next = h->blocks;
    h->blocks = b;

    h->cur += size;
    h->total += size;

    if (h->cur > h->peak) {
        h->peak = h->cur;
    }

    return b + 1;
}


static void
heap_free(void *data, void *p)
{
    heap_t      *h = data;
    heap_blk_t  *b, **pp;

    ck_assert_ptr_nonnull(p);

    b = (heap_blk_t *) p - 1;
    ck_assert_int_eq(b->freed, 0);

    if (h->noop_free) {
        b->freed = 1;
        return;
    }

    for (pp = &h->blocks; *pp != b; pp = &(*pp)->next) {
        ck_assert_ptr_nonnull(*pp);
    }

    *pp = b->next;
    h->cur -= b->size;
    free(b);
}


static void
heap_init(heap_t *h, xf_alloc_t *a)
{
    memset(h, 0, sizeof(heap_t));
    h->fail_at = -1;

    a->alloc = heap_alloc;
    a->free = heap_free;
    a->data = h;
}


/* Releases everything; returns the bytes the code under test leaked. */

static size_t
heap_done(heap_t *h)
{
    size_t       leaked = 0;
    heap_blk_t  *b, *next;

    for (b = h->blocks; b != NULL; b = next) {
        next = b->next;

        if (!b->freed) {
            leaked += b->size;
        }

        free(b);
    }

    h->blocks = NULL;

    return leaked;
}


/* ---------------------------------------------------------------- data */

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}


/* JSON-ish text that compresses like real batches (about 6:1). */

static u_char *
make_text(size_t len, uint32_t seed)
{
    static const char  *words[] = {
        "{\"event\":\"page_view\",", "\"user_id\":", "\"ts\":", "1700000",
        "\"props\":{\"path\":\"/", "checkout", "\"},", "\"anon\":true}", ",",
        "\"device\":\"ios\",", "product", "\"price\":", "\n", "[", "]"
    };
    size_t       n = 0, l;
    u_char      *p;
    uint32_t     s = seed | 1;
    const char  *w;

    p = malloc(len + 1);
    ck_assert_ptr_nonnull(p);

    while (n < len) {
        if (rnd(&s) % 4 == 0) {
            p[n++] = 'a' + rnd(&s) % 26;
            continue;
        }

        w = words[rnd(&s) % (sizeof(words) / sizeof(words[0]))];
        l = xf_min(strlen(w), len - n);
        memcpy(p + n, w, l);
        n += l;
    }

    return p;
}


static u_char *
zlib_pack(const u_char *in, size_t len, int wbits, size_t *out_len)
{
    int        rc;
    u_char    *out;
    z_stream   zs;

    memset(&zs, 0, sizeof(zs));
    rc = deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
    ck_assert_int_eq(rc, Z_OK);

    out = malloc(deflateBound(&zs, len) + 1);
    ck_assert_ptr_nonnull(out);

    zs.next_in = (u_char *) (uintptr_t) in;
    zs.avail_in = len;
    zs.next_out = out;
    zs.avail_out = deflateBound(&zs, len);

    rc = deflate(&zs, Z_FINISH);
    ck_assert_int_eq(rc, Z_STREAM_END);

    *out_len = zs.total_out;
    deflateEnd(&zs);

    return out;
}


static u_char *
zstd_pack(const u_char *in, size_t len, size_t *out_len)
{
    size_t   n;
    u_char  *out;

    out = malloc(ZSTD_compressBound(len));
    ck_assert_ptr_nonnull(out);

    n = ZSTD_compress(out, ZSTD_compressBound(len), in, len, 3);
    ck_assert(!ZSTD_isError(n));

    *out_len = n;

    return out;
}


static u_char *
pack(xf_encoding_t enc, const u_char *in, size_t len, size_t *out_len)
{
    u_char  *out;

    switch (enc) {
    case XF_ENC_GZIP:
        return zlib_pack(in, len, GZIP_WBITS, out_len);
    case XF_ENC_DEFLATE:
        return zlib_pack(in, len, ZLIB_WBITS, out_len);
    case XF_ENC_ZSTD:
        return zstd_pack(in, len, out_len);
    default:
        out = malloc(len + 1);
        ck_assert_ptr_nonnull(out);
        memcpy(out, in, len);
        *out_len = len;
        return out;
    }
}


static u_char *
cat(const u_char *a, size_t alen, const u_char *b, size_t blen)
{
    u_char  *p;

    p = malloc(alen + blen + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, a, alen);
    memcpy(p + alen, b, blen);

    return p;
}


static xf_status_t decode_chunks(xf_encoding_t enc, const u_char *p,
    size_t len, long chunk, size_t max_out, const xf_alloc_t *a,
    u_char **out, size_t *out_len);


/*
 * Decode in chunks: chunk 0 means one chunk, 1 byte by byte, -1 random
 * sizes (1..2 KiB) from seed, WHOLE the body as one complete buffer
 * (xf_decoder_feed_whole: libdeflate for gzip and deflate).  Chunk 0
 * decodes gzip and deflate both ways, streamed in one chunk and whole,
 * and requires the
 * same result from both: every test of one chunk tests the whole-buffer
 * path against zlib's.  On XF_OK, *out is a malloc'ed copy.
 */

#define WHOLE  (-2)

static xf_status_t
decode(xf_encoding_t enc, const u_char *p, size_t len, long chunk,
    size_t max_out, const xf_alloc_t *a, u_char **out, size_t *out_len)
{
    size_t       wlen;
    u_char      *wout;
    xf_status_t  rc, wrc;

    rc = decode_chunks(enc, p, len, chunk, max_out, a, out, out_len);

    if (chunk != 0 || (enc != XF_ENC_GZIP && enc != XF_ENC_DEFLATE)) {
        /* identity and zstd have no whole-buffer path */
        return rc;
    }

    wrc = decode_chunks(enc, p, len, WHOLE, max_out, a, &wout, &wlen);

    ck_assert_msg(wrc == rc, "%s whole: %s, streamed: %s",
                  xf_encoding_name(enc), xf_strerror(wrc), xf_strerror(rc));

    if (rc == XF_OK) {
        ck_assert_uint_eq(wlen, *out_len);
        ck_assert_mem_eq(wout, *out, wlen);
        free(wout);
    }

    return rc;
}


static xf_status_t
decode_chunks(xf_encoding_t enc, const u_char *p, size_t len, long chunk,
    size_t max_out, const xf_alloc_t *a, u_char **out, size_t *out_len)
{
    size_t         off, n, dlen;
    uint32_t       seed = 12345;
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *dout;

    *out = NULL;
    *out_len = 0;

    rc = xf_decoder_create(&d, enc, max_out, a);
    if (rc != XF_OK) {
        return rc;
    }

    if (chunk == WHOLE) {
        rc = xf_decoder_feed_whole(d, p, len);

        ck_assert_uint_le(xf_decoder_size(d), max_out);

        if (rc != XF_OK) {
            ck_assert_int_eq(xf_decoder_feed(d, p, len), rc);
            ck_assert_int_eq(xf_decoder_finish(d, &dout, &dlen), rc);
            xf_decoder_free(d);
            return rc;
        }

        /* the whole body was given: nothing more is taken */
        len = 0;
    }

    for (off = 0; off < len; off += n) {
        n = chunk == 0 ? len - off
            : chunk == 1 ? 1
            : 1 + rnd(&seed) % 2048;
        n = xf_min(n, len - off);

        rc = xf_decoder_feed(d, p + off, n);

        ck_assert_uint_le(xf_decoder_size(d), max_out);

        if (rc != XF_OK) {
            /* errors are sticky */
            ck_assert_int_eq(xf_decoder_feed(d, p, len), rc);
            ck_assert_int_eq(xf_decoder_finish(d, &dout, &dlen), rc);
            xf_decoder_free(d);
            return rc;
        }
    }

    rc = xf_decoder_finish(d, &dout, &dlen);

    if (rc == XF_OK) {
        ck_assert_uint_eq(dlen, xf_decoder_size(d));
        ck_assert_uint_le(dlen, max_out);
        *out = malloc(dlen + 1);
        ck_assert_ptr_nonnull(*out);
        memcpy(*out, dout, dlen);
        *out_len = dlen;
    }

    xf_decoder_free(d);

    return rc;
}


static void
check_round_trip(xf_encoding_t enc, const u_char *packed, size_t plen,
    const u_char *text, size_t tlen)
{
    long           chunks[] = { 0, 1, -1 };
    size_t         i, n;
    u_char        *out;
    heap_t         h;
    xf_alloc_t     a;
    xf_status_t    rc;

    for (i = 0; i < 3; i++) {
        heap_init(&h, &a);

        rc = decode(enc, packed, plen, chunks[i], 4 * MiB, &a, &out, &n);
        ck_assert_msg(rc == XF_OK, "%s chunk %ld: %s", xf_encoding_name(enc),
                      chunks[i], xf_strerror(rc));
        ck_assert_uint_eq(n, tlen);
        ck_assert_mem_eq(out, text, tlen);
        ck_assert_uint_eq(heap_done(&h), 0);

        free(out);
    }
}


/* ---------------------------------------------------------------- core */

START_TEST(test_parse)
{
    static const struct {
        const char     *s;
        xf_status_t     rc;
        xf_encoding_t   enc;
    } t[] = {
        { "gzip", XF_OK, XF_ENC_GZIP },
        { "GZip", XF_OK, XF_ENC_GZIP },
        { "x-gzip", XF_OK, XF_ENC_GZIP },
        { " \tX-GZIP \t", XF_OK, XF_ENC_GZIP },
        { "deflate", XF_OK, XF_ENC_DEFLATE },
        { "DEFLATE ", XF_OK, XF_ENC_DEFLATE },
        { "zstd", XF_OK, XF_ENC_ZSTD },
        { "  ZSTD", XF_OK, XF_ENC_ZSTD },
        { "identity", XF_OK, XF_ENC_IDENTITY },
        { "", XF_OK, XF_ENC_IDENTITY },
        { "  \t ", XF_OK, XF_ENC_IDENTITY },
        { "gzip, br", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "gzip,gzip", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "br", XF_OK, XF_ENC_BR },
        { "brotli", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "gzi", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "gzipp", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "x-zstd", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "g zip", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "gzip\r", XF_ERR_ENCODING_UNKNOWN, 0 },
        { "compress", XF_ERR_ENCODING_UNKNOWN, 0 },
    };
    size_t          i;
    xf_status_t     rc;
    xf_encoding_t   enc;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enc = (xf_encoding_t) 77;
        rc = xf_encoding_parse((const u_char *) t[i].s, strlen(t[i].s), &enc);

        ck_assert_msg(rc == t[i].rc, "\"%s\": %s", t[i].s, xf_strerror(rc));

        if (rc == XF_OK) {
            ck_assert_msg(enc == t[i].enc, "\"%s\": %d", t[i].s, enc);
        }
    }

    /* the length is honoured, not a terminating zero */
    ck_assert_int_eq(xf_encoding_parse((const u_char *) "gzipX", 4, &enc),
                     XF_OK);
    ck_assert_int_eq(enc, XF_ENC_GZIP);
}
END_TEST


START_TEST(test_names)
{
    ck_assert_str_eq(xf_encoding_name(XF_ENC_IDENTITY), "identity");
    ck_assert_str_eq(xf_encoding_name(XF_ENC_GZIP), "gzip");
    ck_assert_str_eq(xf_encoding_name(XF_ENC_DEFLATE), "deflate");
    ck_assert_str_eq(xf_encoding_name(XF_ENC_ZSTD), "zstd");
    ck_assert_ptr_nonnull(xf_encoding_name((xf_encoding_t) 42));
}
END_TEST


START_TEST(test_sniff)
{
    static const struct {
        const char     *p;
        size_t          len;
        xf_encoding_t   enc;
    } t[] = {
        { "\x1f\x8b\x08\x00", 4, XF_ENC_GZIP },
        { "\x1f\x8b\x08", 3, XF_ENC_GZIP },
        { "\x1f\x8b", 2, XF_ENC_IDENTITY },
        { "\x1f\x8b\x07\x00", 4, XF_ENC_IDENTITY },
        { "\x28\xb5\x2f\xfd", 4, XF_ENC_ZSTD },
        { "\x28\xb5\x2f\xfd\x00", 5, XF_ENC_ZSTD },
        { "\x28\xb5\x2f", 3, XF_ENC_IDENTITY },
        { "\x28\xb5\x2f\xfc", 4, XF_ENC_IDENTITY },
        { "\x78\x9c", 2, XF_ENC_IDENTITY },
        { "{\"a\":1}", 7, XF_ENC_IDENTITY },
        { "", 0, XF_ENC_IDENTITY },
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_msg(xf_encoding_sniff((const u_char *) t[i].p, t[i].len)
                      == t[i].enc, "case %zu", i);
    }
}
END_TEST


static const xf_encoding_t  all_encs[] = {
    XF_ENC_IDENTITY, XF_ENC_GZIP, XF_ENC_DEFLATE, XF_ENC_ZSTD
};


START_TEST(test_round_trip)
{
    static const size_t  sizes[] = { 1, 100, 15783, 200000 };
    size_t               plen, tlen;
    u_char              *text, *packed;
    xf_encoding_t        enc;

    enc = all_encs[_i % 4];
    tlen = sizes[_i / 4];

    text = make_text(tlen, (uint32_t) _i + 1);
    packed = pack(enc, text, tlen, &plen);

    check_round_trip(enc, packed, plen, text, tlen);

    /* the encoding's sniffed magic matches */
    if (enc == XF_ENC_GZIP || enc == XF_ENC_ZSTD) {
        ck_assert_int_eq(xf_encoding_sniff(packed, plen), enc);
    }

    free(packed);
    free(text);
}
END_TEST


START_TEST(test_empty_content)
{
    size_t          i, plen, n;
    u_char         *packed, *out;
    heap_t          h;
    xf_alloc_t      a;
    xf_status_t     rc;

    for (i = 0; i < 4; i++) {
        packed = pack(all_encs[i], (const u_char *) "", 0, &plen);

        heap_init(&h, &a);

        rc = xf_decode(all_encs[i], packed, plen, 1 * MiB, &a, &out, &n);

        if (all_encs[i] == XF_ENC_IDENTITY) {
            ck_assert_int_eq(rc, XF_OK);
        } else {
            ck_assert_msg(rc == XF_OK, "%s: %s",
                          xf_encoding_name(all_encs[i]), xf_strerror(rc));
        }

        /* an empty result is still something to free */
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_nonnull(out);
        a.free(a.data, out);
        ck_assert_uint_eq(heap_done(&h), 0);

        /* and fits a zero cap */
        ck_assert_int_eq(decode(all_encs[i], packed, plen, 1, 0,
                                &xf_alloc_libc, &out, &n), XF_OK);
        ck_assert_uint_eq(n, 0);
        free(out);

        free(packed);
    }
}
END_TEST


START_TEST(test_gzip_members)
{
    size_t   l1, l2, l3, plen;
    u_char  *t, *g1, *g2, *g3, *g12, *all, *empty;

    t = make_text(30000, 7);

    g1 = zlib_pack(t, 10000, GZIP_WBITS, &l1);
    g2 = zlib_pack(t + 10000, 15000, GZIP_WBITS, &l2);
    g12 = cat(g1, l1, g2, l2);
    g3 = zlib_pack(t + 25000, 5000, GZIP_WBITS, &l3);
    all = cat(g12, l1 + l2, g3, l3);

    check_round_trip(XF_ENC_GZIP, all, l1 + l2 + l3, t, 30000);

    /* an empty member in between */
    empty = zlib_pack(t, 0, GZIP_WBITS, &plen);
    free(all);
    all = cat(g1, l1, empty, plen);
    free(g12);
    g12 = cat(all, l1 + plen, g2, l2);

    check_round_trip(XF_ENC_GZIP, g12, l1 + plen + l2, t, 25000);

    free(empty);
    free(all);
    free(g12);
    free(g1);
    free(g2);
    free(g3);
    free(t);
}
END_TEST


START_TEST(test_zstd_frames)
{
    size_t   l1, l2, skip_len;
    u_char  *t, *z1, *z2, *a, *b;
    u_char   skip[8 + 5] = {
        0x50, 0x2a, 0x4d, 0x18,     /* skippable frame magic */
        5, 0, 0, 0,                 /* its size */
        'h', 'e', 'l', 'l', 'o'
    };

    skip_len = sizeof(skip);
    t = make_text(50000, 9);

    z1 = zstd_pack(t, 20000, &l1);
    z2 = zstd_pack(t + 20000, 30000, &l2);
    a = cat(z1, l1, skip, skip_len);
    b = cat(a, l1 + skip_len, z2, l2);

    check_round_trip(XF_ENC_ZSTD, b, l1 + skip_len + l2, t, 50000);

    /* a skippable frame alone is an empty body */
    check_round_trip(XF_ENC_ZSTD, skip, skip_len, t, 0);

    free(a);
    free(b);
    free(z1);
    free(z2);
    free(t);
}
END_TEST


START_TEST(test_deflate_zlib_and_raw)
{
    size_t   zlen, rlen;
    u_char  *t, *zl, *raw;

    t = make_text(20000, 11);

    zl = zlib_pack(t, 20000, ZLIB_WBITS, &zlen);
    raw = zlib_pack(t, 20000, RAW_WBITS, &rlen);

    /* a zlib header passes the check that selects the wrapper */
    ck_assert_uint_eq(zl[0] & 0x0f, 8);
    ck_assert_uint_eq(((zl[0] << 8) | zl[1]) % 31, 0);
    ck_assert_uint_eq(zlen, rlen + 6);

    check_round_trip(XF_ENC_DEFLATE, zl, zlen, t, 20000);
    check_round_trip(XF_ENC_DEFLATE, raw, rlen, t, 20000);

    free(zl);
    free(raw);
    free(t);
}
END_TEST


START_TEST(test_one_shot_hands_over)
{
    size_t       plen, n, before;
    u_char      *t, *packed, *out;
    heap_t       h;
    xf_alloc_t   a;

    t = make_text(15783, 3);
    packed = pack(all_encs[_i], t, 15783, &plen);

    heap_init(&h, &a);

    ck_assert_int_eq(xf_decode(all_encs[_i], packed, plen, 1 * MiB, &a, &out,
                               &n), XF_OK);
    ck_assert_uint_eq(n, 15783);
    ck_assert_mem_eq(out, t, n);

    /* only the result remains, and it is one allocation */
    before = h.cur;
    ck_assert_uint_ge(before, n);
    ck_assert_uint_le(before, 4 * n);
    a.free(a.data, out);
    ck_assert_uint_eq(h.cur, 0);
    ck_assert_uint_eq(heap_done(&h), 0);

    free(packed);
    free(t);
}
END_TEST


/*
 * The whole-buffer path: gzip members larger than the last one's trailer
 * (the first guess of the output size) make the buffer regrow and the
 * member decode again; a trailer that lies about the size is corrupt,
 * as for zlib; after a streamed chunk feed_whole is a plain feed.
 */

START_TEST(test_whole_regrow)
{
    size_t          l1, l2, l3, n, plen, off;
    u_char         *t, *g1, *g2, *g3, *g12, *all, *out, *bad;
    heap_t          h;
    xf_alloc_t      a;
    xf_decoder_t   *d;
    const u_char   *dout;

    t = make_text(120000, 17);

    g1 = zlib_pack(t, 10000, GZIP_WBITS, &l1);
    g2 = zlib_pack(t + 10000, 60000, GZIP_WBITS, &l2);
    g3 = zlib_pack(t + 70000, 50000, GZIP_WBITS, &l3);
    g12 = cat(g1, l1, g2, l2);
    all = cat(g12, l1 + l2, g3, l3);
    plen = l1 + l2 + l3;

    heap_init(&h, &a);
    h.noop_free = 1;
    ck_assert_int_eq(decode_chunks(XF_ENC_GZIP, all, plen, WHOLE, 1 * MiB,
                                   &a, &out, &n), XF_OK);
    ck_assert_uint_eq(n, 120000);
    ck_assert_mem_eq(out, t, 120000);
    /* 50000 (the trailer's guess), 100000, 200000: geometric */
    ck_assert_uint_le(h.total, 400000);
    free(out);
    heap_done(&h);

    /* the same bytes under a cap between the members' sums */
    ck_assert_int_eq(decode(XF_ENC_GZIP, all, plen, 0, 119999,
                            &xf_alloc_libc, &out, &n), XF_ERR_TOO_LARGE);
    ck_assert_int_eq(decode(XF_ENC_GZIP, all, plen, 0, 120000,
                            &xf_alloc_libc, &out, &n), XF_OK);
    free(out);

    /* trailer sizes that lie, smaller and larger, and a bad CRC */
    for (off = 4; off <= 8; off += 4) {
        bad = cat(all, plen, (const u_char *) "", 0);
        bad[plen - off] ^= 0x40;
        ck_assert_int_eq(decode(XF_ENC_GZIP, bad, plen, 0, 1 * MiB,
                                &xf_alloc_libc, &out, &n), XF_ERR_CORRUPT);
        bad[plen - off] ^= 0x40;
        bad[plen - off + 3] = 0x7f;
        ck_assert_int_eq(decode(XF_ENC_GZIP, bad, plen, 0, 1 * MiB,
                                &xf_alloc_libc, &out, &n), XF_ERR_CORRUPT);
        free(bad);
    }

    /* not the first input: as xf_decoder_feed */
    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_GZIP, 1 * MiB,
                                       &xf_alloc_libc), XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, all, 100), XF_OK);
    ck_assert_int_eq(xf_decoder_feed_whole(d, all + 100, plen - 100), XF_OK);
    ck_assert_int_eq(xf_decoder_finish(d, &dout, &n), XF_OK);
    ck_assert_uint_eq(n, 120000);
    ck_assert_mem_eq(dout, t, 120000);
    xf_decoder_free(d);

    /* a truncated whole body is truncated, as streamed */
    ck_assert_int_eq(decode_chunks(XF_ENC_GZIP, all, plen - 1, WHOLE,
                                   1 * MiB, &xf_alloc_libc, &out, &n),
                     XF_ERR_TRUNCATED);
    /* raw deflate (the member without its header and trailer), cut */
    ck_assert_int_eq(decode(XF_ENC_DEFLATE, g2 + 10, l2 - 18, 0, 1 * MiB,
                            &xf_alloc_libc, &out, &n), XF_OK);
    ck_assert_uint_eq(n, 60000);
    free(out);
    ck_assert_int_eq(decode(XF_ENC_DEFLATE, g2 + 10, l2 - 20, 0, 1 * MiB,
                            &xf_alloc_libc, &out, &n), XF_ERR_TRUNCATED);

    free(all);
    free(g12);
    free(g1);
    free(g2);
    free(g3);
    free(t);
}
END_TEST


/*
 * libdeflate 1.14 accepts streams zlib refuses: here a fixed-Huffman
 * block with the invalid literal/length codes 286 and 287 (268 bytes of
 * output), in a gzip member and behind a zlib header, both with a valid
 * checksum of what libdeflate makes of them.  A body gets one answer
 * whatever pieces it arrives in: whole, in two at every split, byte by
 * byte.  Up to 64 KiB that answer is libdeflate's; past 64 KiB (a
 * member of ~75 KB before the odd one) it is zlib's, again however the
 * body is cut.
 */

static const u_char  odd_gzip[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xab, 0x31, 0x04, 0x02, 0xab, 0x31, 0x04, 0x02, 0x00,
    0xbd, 0x13, 0x90, 0x07, 0x0c, 0x01, 0x00, 0x00
};

static const u_char  odd_zlib[] = {
    0x78, 0x9c, 0xab, 0x31, 0x04, 0x02, 0xab, 0x31, 0x04, 0x02, 0x00,
    0xde, 0xd6, 0x36, 0xcb
};


/* Feed p in two pieces, p[0..split) and the rest; the answer and size. */

static xf_status_t
decode_split(xf_encoding_t enc, const u_char *p, size_t len, size_t split,
    size_t *out_len)
{
    xf_status_t    rc;
    xf_decoder_t  *d;
    const u_char  *out;

    *out_len = 0;

    ck_assert_int_eq(xf_decoder_create(&d, enc, 4 * MiB, &xf_alloc_libc),
                     XF_OK);

    rc = xf_decoder_feed(d, p, split);

    if (rc == XF_OK) {
        rc = xf_decoder_feed(d, p + split, len - split);
    }

    if (rc == XF_OK) {
        rc = xf_decoder_finish(d, &out, out_len);
    }

    xf_decoder_free(d);

    return rc;
}


static void
check_one_answer(xf_encoding_t enc, const u_char *p, size_t len,
    size_t step, xf_status_t expect, size_t expect_len)
{
    size_t        split, n;
    u_char       *out;
    xf_status_t   rc;

    rc = decode_chunks(enc, p, len, WHOLE, 4 * MiB, &xf_alloc_libc, &out,
                       &n);
    ck_assert_msg(rc == expect, "%s whole: %s", xf_encoding_name(enc),
                  xf_strerror(rc));
    ck_assert_uint_eq(n, expect_len);
    free(out);

    for (split = 0; split <= len; split += step) {
        rc = decode_split(enc, p, len, split, &n);
        ck_assert_msg(rc == expect, "%s split at %zu of %zu: %s",
                      xf_encoding_name(enc), split, len, xf_strerror(rc));
        ck_assert_uint_eq(n, expect_len);
    }

    rc = decode_chunks(enc, p, len, 1, 4 * MiB, &xf_alloc_libc, &out, &n);
    ck_assert_msg(rc == expect, "%s byte by byte: %s",
                  xf_encoding_name(enc), xf_strerror(rc));
    free(out);
}


START_TEST(test_split_agrees)
{
    size_t         tlen = 450000, plen, blen;
    u_char        *t, *packed, *big;
    xf_decoder_t  *d;

    check_one_answer(XF_ENC_GZIP, odd_gzip, sizeof(odd_gzip), 1, XF_OK, 268);
    check_one_answer(XF_ENC_DEFLATE, odd_zlib, sizeof(odd_zlib), 1, XF_OK,
                     268);

    /* zlib reads a gzip method with the flags: cut after a bad one, the
     * body is truncated, held or not (found by fuzz-decode) */
    check_one_answer(XF_ENC_GZIP, (const u_char *) "\x1f\x8b\x95", 3, 1,
                     XF_ERR_TRUNCATED, 0);
    check_one_answer(XF_ENC_GZIP, (const u_char *) "\x1f\x8b\x95\x00", 4, 1,
                     XF_ERR_CORRUPT, 0);

    t = make_text(tlen, 37);
    packed = zlib_pack(t, tlen, GZIP_WBITS, &plen);
    ck_assert_uint_gt(plen, 64 * KiB);

    big = cat(packed, plen, odd_gzip, sizeof(odd_gzip));
    blen = plen + sizeof(odd_gzip);
    check_one_answer(XF_ENC_GZIP, big, blen, blen / 7, XF_ERR_CORRUPT, 0);

    /* the valid member alone: the same bytes either way */
    check_one_answer(XF_ENC_GZIP, packed, plen, plen / 7, XF_OK, tlen);

    /* up to 64 KiB nothing is decoded before finish; past it, at once */
    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_GZIP, 4 * MiB,
                                       &xf_alloc_libc), XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, packed, XF_DECODE_WHOLE_MAX),
                     XF_OK);
    ck_assert_uint_eq(xf_decoder_size(d), 0);
    ck_assert_int_eq(xf_decoder_feed(d, packed + XF_DECODE_WHOLE_MAX, 1),
                     XF_OK);
    ck_assert_uint_gt(xf_decoder_size(d), 0);
    xf_decoder_free(d);

    /* a gzip body that does not start as gzip fails at its first bytes */
    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_GZIP, 4 * MiB,
                                       &xf_alloc_libc), XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, odd_gzip, 1), XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, (const u_char *) "[", 1),
                     XF_ERR_CORRUPT);
    xf_decoder_free(d);

    /* feed_whole said that was all */
    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_GZIP, 4 * MiB,
                                       &xf_alloc_libc), XF_OK);
    ck_assert_int_eq(xf_decoder_feed_whole(d, odd_gzip, sizeof(odd_gzip)),
                     XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, odd_gzip, sizeof(odd_gzip)),
                     XF_ERR_CORRUPT);
    xf_decoder_free(d);

    free(big);
    free(packed);
    free(t);
}
END_TEST


/* -------------------------------------------------------------- limits */

START_TEST(test_cap_exact)
{
    size_t          plen, n, len = 40000;
    long            chunks[] = { 0, 1, -1 };
    u_char         *t, *packed, *out;
    unsigned        c;
    xf_encoding_t   enc = all_encs[_i];

    t = make_text(len, 5);
    packed = pack(enc, t, len, &plen);

    for (c = 0; c < 3; c++) {
        ck_assert_int_eq(decode(enc, packed, plen, chunks[c], len,
                                &xf_alloc_libc, &out, &n), XF_OK);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(out, t, len);
        free(out);

        ck_assert_int_eq(decode(enc, packed, plen, chunks[c], len - 1,
                                &xf_alloc_libc, &out, &n), XF_ERR_TOO_LARGE);
        ck_assert_ptr_null(out);

        ck_assert_int_eq(decode(enc, packed, plen, chunks[c], 0,
                                &xf_alloc_libc, &out, &n), XF_ERR_TOO_LARGE);
    }

    free(packed);
    free(t);
}
END_TEST


/* Compress `total` zero bytes without ever holding them. */

static u_char *
zlib_bomb(size_t total, int wbits, size_t *out_len)
{
    int        rc;
    size_t     cap = 1 * MiB, n;
    u_char    *out, zeros[64 * 1024];
    z_stream   zs;

    memset(zeros, 0, sizeof(zeros));
    memset(&zs, 0, sizeof(zs));
    rc = deflateInit2(&zs, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY);
    ck_assert_int_eq(rc, Z_OK);

    out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    zs.next_out = out;
    zs.avail_out = cap;

    do {
        n = xf_min(sizeof(zeros), total);
        total -= n;
        zs.next_in = zeros;
        zs.avail_in = n;

        rc = deflate(&zs, total == 0 ? Z_FINISH : Z_NO_FLUSH);
        ck_assert(rc == Z_OK || rc == Z_STREAM_END);
        ck_assert_uint_eq(zs.avail_in, 0);
        ck_assert_uint_gt(zs.avail_out, 0);
    } while (total > 0);

    ck_assert_int_eq(rc, Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);

    return out;
}


static u_char *
zstd_bomb(size_t total, size_t *out_len)
{
    size_t        cap = 1 * MiB, rc;
    u_char       *out, zeros[64 * 1024];
    ZSTD_CCtx    *cc;
    ZSTD_inBuffer   in;
    ZSTD_outBuffer  ob;

    memset(zeros, 0, sizeof(zeros));

    cc = ZSTD_createCCtx();
    ck_assert_ptr_nonnull(cc);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 23);

    out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    ob.dst = out;
    ob.size = cap;
    ob.pos = 0;

    /* streamed, so no content size in the frame header */
    while (total > 0) {
        in.src = zeros;
        in.size = xf_min(sizeof(zeros), total);
        in.pos = 0;
        total -= in.size;

        while (in.pos < in.size) {
            rc = ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_continue);
            ck_assert(!ZSTD_isError(rc));
        }
    }

    in.size = 0;
    in.pos = 0;

    do {
        rc = ZSTD_compressStream2(cc, &ob, &in, ZSTD_e_end);
        ck_assert(!ZSTD_isError(rc));
    } while (rc != 0);

    *out_len = ob.pos;
    ZSTD_freeCCtx(cc);

    return out;
}


/*
 * A bomb stops at the cap: memory is max_out plus the codec's state (for
 * zstd its window buffer of up to 8 MiB), whatever the declared size.
 */

START_TEST(test_bombs)
{
    size_t          plen, n, slack;
    long            chunks[] = { 0, 1 };
    u_char         *packed, *out;
    heap_t          h;
    unsigned        c;
    xf_alloc_t      a;
    xf_status_t     rc;
    xf_encoding_t   enc;

    switch (_i) {
    case 0:
        enc = XF_ENC_GZIP;
        packed = zlib_bomb(100 * MiB, GZIP_WBITS, &plen);
        slack = 1 * MiB;
        break;
    case 1:
        enc = XF_ENC_DEFLATE;
        packed = zlib_bomb(100 * MiB, ZLIB_WBITS, &plen);
        slack = 1 * MiB;
        break;
    case 2:
        enc = XF_ENC_DEFLATE;
        packed = zlib_bomb(100 * MiB, RAW_WBITS, &plen);
        slack = 1 * MiB;
        break;
    default:
        enc = XF_ENC_ZSTD;
        packed = zstd_bomb(100 * MiB, &plen);
        slack = 10 * MiB;
        break;
    }

    ck_assert_uint_lt(plen, 1 * MiB);

    for (c = 0; c < 2; c++) {
        heap_init(&h, &a);

        rc = decode(enc, packed, c == 0 ? plen : xf_min(plen, 64 * KiB),
                    chunks[c], 1 * MiB, &a, &out, &n);

        ck_assert_msg(rc == XF_ERR_TOO_LARGE, "%s: %s",
                      xf_encoding_name(enc), xf_strerror(rc));
        ck_assert_uint_le(h.peak, 1 * MiB + slack);
        ck_assert_uint_eq(heap_done(&h), 0);
    }

    free(packed);
}
END_TEST


/*
 * Frames needing a window over 8 MiB: one whose content size (single
 * segment) says 64 MiB, one whose window descriptor says 16 MiB.
 */

START_TEST(test_zstd_window_too_large)
{
    static const char  *frames[] = {
        "\x28\xb5\x2f\xfd\xa0\x00\x00\x00\x04\x01\x00\x00",
        "\x28\xb5\x2f\xfd\x00\x70\x01\x00\x00",
        "\x28\xb5\x2f\xfd\x00\x68\x01\x00\x00",   /* 8 MiB: fine */
    };
    static const size_t  lens[] = { 12, 9, 9 };
    size_t               i, n;
    u_char              *out;
    heap_t               h;
    xf_alloc_t           a;
    xf_status_t          rc;

    for (i = 0; i < 3; i++) {
        heap_init(&h, &a);
        rc = decode(XF_ENC_ZSTD, (const u_char *) frames[i], lens[i], 0,
                    128 * MiB, &a, &out, &n);
        ck_assert_msg(rc == (i < 2 ? XF_ERR_TOO_LARGE : XF_OK),
                      "frame %zu: %s", i, xf_strerror(rc));
        ck_assert_uint_le(h.peak, 10 * MiB);
        ck_assert_uint_eq(heap_done(&h), 0);
        free(out);
    }
}
END_TEST


/*
 * A lowered window limit: a 9-byte frame header that declares 8 MiB is
 * refused before zstd allocates the window, and one of 1 MiB still
 * decodes (its allocation stays near 1 MiB).
 */

START_TEST(test_zstd_window_max)
{
    static const char  *frames[] = {
        "\x28\xb5\x2f\xfd\x00\x68\x01\x00\x00",   /* 8 MiB */
        "\x28\xb5\x2f\xfd\x00\x58\x01\x00\x00",   /* 2 MiB */
        "\x28\xb5\x2f\xfd\x00\x50\x01\x00\x00",   /* 1 MiB: fine */
    };
    size_t               i, n;
    const u_char        *out;
    heap_t               h;
    xf_alloc_t           a;
    xf_status_t          rc;
    xf_decoder_t        *d;

    for (i = 0; i < 3; i++) {
        heap_init(&h, &a);
        ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_ZSTD, 1 * MiB, &a),
                         XF_OK);
        ck_assert_int_eq(xf_decoder_set_window_max(d, 1 * MiB + 5), XF_OK);

        rc = xf_decoder_feed(d, (const u_char *) frames[i], 9);
        if (rc == XF_OK) {
            rc = xf_decoder_finish(d, &out, &n);
        }

        ck_assert_msg(rc == (i < 2 ? XF_ERR_TOO_LARGE : XF_OK),
                      "frame %zu: %s", i, xf_strerror(rc));
        ck_assert_uint_le(h.peak, 2 * MiB);
        xf_decoder_free(d);
        ck_assert_uint_eq(heap_done(&h), 0);
    }

    /* the other encodings ignore it */
    heap_init(&h, &a);
    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_GZIP, 1 * MiB, &a), XF_OK);
    ck_assert_int_eq(xf_decoder_set_window_max(d, 0), XF_OK);
    xf_decoder_free(d);
    ck_assert_uint_eq(heap_done(&h), 0);
}
END_TEST


/*
 * Empty zstd frames, each declaring a larger window than the last, make
 * zstd reallocate its window buffer every time; with a pool whose free
 * does nothing, that must still stay bounded.
 */

START_TEST(test_zstd_window_churn)
{
    size_t         n, len = 0;
    u_char         body[9 * 14 * 8], *out;
    heap_t         h;
    unsigned       e, m;
    xf_alloc_t     a;
    xf_status_t    rc;

    for (e = 0; e < 14; e++) {
        for (m = 0; m < 8; m++) {
            /* magic, descriptor (no flags), window, last raw block of 0 */
            memcpy(body + len, "\x28\xb5\x2f\xfd\x00", 5);
            body[len + 5] = (u_char) (e << 3 | m);
            memcpy(body + len + 6, "\x01\x00\x00", 3);
            len += 9;
        }
    }

    /* the first frame alone is a valid empty body */
    ck_assert_int_eq(decode(XF_ENC_ZSTD, body, 9, 0, 1 * MiB, &xf_alloc_libc,
                            &out, &n), XF_OK);
    ck_assert_uint_eq(n, 0);
    free(out);

    heap_init(&h, &a);
    h.noop_free = 1;

    rc = decode(XF_ENC_ZSTD, body, len, 0, 1 * MiB, &a, &out, &n);

    ck_assert_msg(rc == XF_OK || rc == XF_ERR_TOO_LARGE, "%s",
                  xf_strerror(rc));
    ck_assert_uint_le(h.total, 48 * MiB);
    free(out);
    heap_done(&h);

    /* with a real free too: the budget counts what was ever allocated,
     * as the decoder cannot tell whether free does anything */
    heap_init(&h, &a);
    rc = decode(XF_ENC_ZSTD, body, len, 0, 1 * MiB, &a, &out, &n);
    ck_assert_msg(rc == XF_ERR_TOO_LARGE, "%s", xf_strerror(rc));
    ck_assert_uint_le(h.peak, 10 * MiB);
    ck_assert_uint_eq(heap_done(&h), 0);
}
END_TEST


/*
 * With a pool-like allocator the buffers a decode leaves behind stay
 * bounded: output doubles, so old buffers sum to less than the last.
 */

START_TEST(test_growth_geometric)
{
    size_t          plen, n, len = 3 * MiB + 17;
    u_char         *t, *packed, *out;
    heap_t          h;
    xf_alloc_t      a;
    xf_encoding_t   enc = all_encs[_i];

    t = make_text(len, 13);
    packed = pack(enc, t, len, &plen);

    heap_init(&h, &a);
    h.noop_free = 1;

    ck_assert_int_eq(decode(enc, packed, plen, 1, 4 * MiB, &a, &out, &n),
                     XF_OK);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(out, t, len);

    /* zstd: its window (<= 8 MiB) and block buffers; zlib: 50 KB */
    ck_assert_uint_le(h.total, 2 * 4 * MiB + 10 * MiB);
    ck_assert_uint_le(h.count, 40);

    heap_done(&h);
    free(out);
    free(packed);
    free(t);
}
END_TEST


/* -------------------------------------------------------------- errors */

START_TEST(test_empty_body)
{
    size_t          n;
    u_char         *out;
    xf_encoding_t   enc = all_encs[_i];

    ck_assert_int_eq(decode(enc, NULL, 0, 0, 1 * MiB, &xf_alloc_libc, &out,
                            &n),
                     enc == XF_ENC_IDENTITY ? XF_OK : XF_ERR_TRUNCATED);
    free(out);
}
END_TEST


START_TEST(test_unknown_encoding)
{
    xf_decoder_t  *d = (xf_decoder_t *) 1;
    u_char        *out;
    size_t         n;

    ck_assert_int_eq(xf_decoder_create(&d, (xf_encoding_t) 9, 10,
                                       &xf_alloc_libc),
                     XF_ERR_ENCODING_UNKNOWN);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(xf_decode((xf_encoding_t) 9, (const u_char *) "x", 1,
                               10, &xf_alloc_libc, &out, &n),
                     XF_ERR_ENCODING_UNKNOWN);
}
END_TEST


/* Every proper prefix of a single stream is truncated, never OK. */

START_TEST(test_truncated)
{
    size_t          plen, cut, n;
    u_char         *t, *packed, *out;
    xf_status_t     rc;
    xf_encoding_t   enc;
    int             wbits;

    t = make_text(6000, 17);

    switch (_i) {
    case 0:
        enc = XF_ENC_GZIP;
        wbits = GZIP_WBITS;
        break;
    case 1:
        enc = XF_ENC_DEFLATE;
        wbits = ZLIB_WBITS;
        break;
    case 2:
        enc = XF_ENC_DEFLATE;
        wbits = RAW_WBITS;
        break;
    default:
        enc = XF_ENC_ZSTD;
        wbits = 0;
        break;
    }

    packed = enc == XF_ENC_ZSTD ? zstd_pack(t, 6000, &plen)
                                : zlib_pack(t, 6000, wbits, &plen);

    for (cut = 0; cut < plen; cut++) {
        rc = decode(enc, packed, cut, cut % 3 == 0 ? 1 : 0, 1 * MiB,
                    &xf_alloc_libc, &out, &n);
        ck_assert_msg(rc == XF_ERR_TRUNCATED, "cut %zu of %zu: %s", cut,
                      plen, xf_strerror(rc));
    }

    free(packed);
    free(t);
}
END_TEST


START_TEST(test_trailing_garbage)
{
    static const struct {
        const char  *tail;
        size_t       len;
        xf_status_t  gzip, deflate, zstd;
    } t[] = {
        { "x", 1, XF_ERR_CORRUPT, XF_ERR_CORRUPT, XF_ERR_CORRUPT },
        { "\0\0\0\0\0\0\0\0", 8,
          XF_ERR_CORRUPT, XF_ERR_CORRUPT, XF_ERR_CORRUPT },
        { "\n", 1, XF_ERR_CORRUPT, XF_ERR_CORRUPT, XF_ERR_CORRUPT },
        /* the start of a next member or frame, cut short */
        { "\x1f\x8b", 2, XF_ERR_TRUNCATED, XF_ERR_CORRUPT, XF_ERR_CORRUPT },
        { "\x28\xb5\x2f\xfd", 4,
          XF_ERR_CORRUPT, XF_ERR_CORRUPT, XF_ERR_TRUNCATED },
        { "\x1f\x8b\x09\x00", 4,
          XF_ERR_CORRUPT, XF_ERR_CORRUPT, XF_ERR_CORRUPT },
    };
    size_t          i, j, k, plen, n;
    u_char         *text, *packed, *body, *out;
    long            chunk;
    xf_status_t     rc, want;
    static const struct {
        xf_encoding_t  enc;
        int            wbits;
    } e[] = {
        { XF_ENC_GZIP, GZIP_WBITS },
        { XF_ENC_DEFLATE, ZLIB_WBITS },
        { XF_ENC_DEFLATE, RAW_WBITS },
        { XF_ENC_ZSTD, 0 },
    };

    text = make_text(3000, 19);

    for (j = 0; j < 4; j++) {
        packed = e[j].enc == XF_ENC_ZSTD ? zstd_pack(text, 3000, &plen)
                 : zlib_pack(text, 3000, e[j].wbits, &plen);

        for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
            body = cat(packed, plen, (const u_char *) t[i].tail, t[i].len);
            want = e[j].enc == XF_ENC_GZIP ? t[i].gzip
                   : e[j].enc == XF_ENC_DEFLATE ? t[i].deflate : t[i].zstd;

            for (k = 0; k < 2; k++) {
                chunk = k;
                rc = decode(e[j].enc, body, plen + t[i].len, chunk, 1 * MiB,
                            &xf_alloc_libc, &out, &n);
                ck_assert_msg(rc == want, "enc %zu tail %zu: %s", j, i,
                              xf_strerror(rc));
            }

            free(body);
        }

        free(packed);
    }

    free(text);
}
END_TEST


START_TEST(test_corrupt_known)
{
    size_t    plen, n;
    u_char   *t, *p, *out;

    t = make_text(5000, 23);

    /* gzip: magic, method, CRC, length */
    p = zlib_pack(t, 5000, GZIP_WBITS, &plen);
    p[0] ^= 1;
    ck_assert_int_eq(decode(XF_ENC_GZIP, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    p[0] ^= 1;
    p[2] = 7;
    ck_assert_int_eq(decode(XF_ENC_GZIP, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    p[2] = 8;
    p[plen - 8] ^= 0x55;
    ck_assert_int_eq(decode(XF_ENC_GZIP, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    p[plen - 8] ^= 0x55;
    p[plen - 1] ^= 0x55;
    ck_assert_int_eq(decode(XF_ENC_GZIP, p, plen, 1, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    free(p);

    /* zlib: Adler-32; preset dictionary flag */
    p = zlib_pack(t, 5000, ZLIB_WBITS, &plen);
    p[plen - 1] ^= 0x55;
    ck_assert_int_eq(decode(XF_ENC_DEFLATE, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    p[plen - 1] ^= 0x55;
    p[0] = 0x78;
    p[1] = 0xbb;                    /* FDICT set, (0x78bb % 31) == 0 */
    ck_assert_int_eq(decode(XF_ENC_DEFLATE, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    free(p);

    /* zstd: magic; reserved block type */
    p = zstd_pack(t, 5000, &plen);
    p[0] ^= 1;
    ck_assert_int_eq(decode(XF_ENC_ZSTD, p, plen, 0, MiB, &xf_alloc_libc,
                            &out, &n), XF_ERR_CORRUPT);
    free(p);

    /* a legacy (v0.5) frame magic is not zstd, however it is split */
    for (n = 0; n < 3; n++) {
        ck_assert_int_eq(decode(XF_ENC_ZSTD,
                                (const u_char *) "\x25\xb5\x2f\xfd\x0b\x28",
                                6, (long) n - 1, MiB, &xf_alloc_libc, &out,
                                &plen), XF_ERR_CORRUPT);
    }

    /* block header after a 6-byte frame header: type 3 is reserved */
    ck_assert_int_eq(decode(XF_ENC_ZSTD,
                            (const u_char *) "\x28\xb5\x2f\xfd\x00\x00"
                                             "\x07\x00\x00", 9, 0, MiB,
                            &xf_alloc_libc, &out, &n), XF_ERR_CORRUPT);

    free(t);
}
END_TEST


/*
 * Any single damaged byte: a failure status or (for bytes no checksum
 * covers, e.g. gzip's mtime) a result; never a crash or an overrun.
 */

START_TEST(test_corrupt_sweep)
{
    size_t          plen, i, n;
    u_char         *t, *p, *out;
    xf_status_t     rc;
    xf_encoding_t   enc = all_encs[1 + _i];

    t = make_text(3000, 29);
    p = pack(enc, t, 3000, &plen);

    for (i = 0; i < plen; i++) {
        p[i] ^= 0xa5;

        rc = decode(enc, p, plen, i % 2, 64 * KiB, &xf_alloc_libc, &out, &n);
        ck_assert_msg(rc == XF_OK || rc == XF_ERR_CORRUPT
                      || rc == XF_ERR_TRUNCATED || rc == XF_ERR_TOO_LARGE,
                      "byte %zu: %s", i, xf_strerror(rc));
        ck_assert_uint_le(n, 64 * KiB);
        free(out);

        p[i] ^= 0xa5;
    }

    free(p);
    free(t);
}
END_TEST


/*
 * Fail allocation 0, 1, 2, ... until the decode succeeds: every failure
 * is XF_ERR_NOMEM and leaks nothing.
 */

START_TEST(test_nomem_walk)
{
    int             done;
    long            fail;
    size_t          plen, n, tlen = 300000;
    u_char         *t, *packed, *out;
    heap_t          h;
    unsigned        oneshot;
    xf_alloc_t      a;
    xf_status_t     rc;
    xf_encoding_t   enc = all_encs[_i];

    t = make_text(tlen, 31);
    packed = pack(enc, t, tlen, &plen);

    for (oneshot = 0; oneshot < 2; oneshot++) {
        done = 0;

        for (fail = 0; fail < 1000 && !done; fail++) {
            heap_init(&h, &a);
            h.fail_at = fail;

            if (oneshot) {
                rc = xf_decode(enc, packed, plen, 1 * MiB, &a, &out, &n);
                if (rc == XF_OK) {
                    ck_assert_mem_eq(out, t, tlen);
                    a.free(a.data, out);
                }

            } else {
                rc = decode(enc, packed, plen, -1, 1 * MiB, &a, &out, &n);
                free(out);
            }

            ck_assert_msg(rc == XF_OK || rc == XF_ERR_NOMEM,
                          "%s fail %ld: %s", xf_encoding_name(enc), fail,
                          xf_strerror(rc));
            ck_assert_uint_eq(heap_done(&h), 0);

            done = (rc == XF_OK);
        }

        ck_assert(done);
        /* the walk went through at least the decoder and its buffer */
        ck_assert_int_ge(fail, 2);
    }

    free(packed);
    free(t);
}
END_TEST


START_TEST(test_data_after_error)
{
    xf_decoder_t  *d;

    ck_assert_int_eq(xf_decoder_create(&d, XF_ENC_IDENTITY, 10,
                                       &xf_alloc_libc), XF_OK);
    ck_assert_uint_eq(xf_decoder_size(d), 0);
    ck_assert_ptr_nonnull(xf_decoder_data(d));

    ck_assert_int_eq(xf_decoder_feed(d, (const u_char *) "0123456", 7),
                     XF_OK);
    ck_assert_int_eq(xf_decoder_feed(d, (const u_char *) "789abcdef", 9),
                     XF_ERR_TOO_LARGE);

    /* what was decoded before the cap stays readable for a dead letter */
    ck_assert_uint_le(xf_decoder_size(d), 10);
    ck_assert_uint_ge(xf_decoder_size(d), 7);
    ck_assert_mem_eq(xf_decoder_data(d), "0123456789", xf_decoder_size(d));

    xf_decoder_free(d);
}
END_TEST


Suite *
make_decode_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("decode");

    tc = tcase_create("core");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_sniff);
    tcase_add_loop_test(tc, test_round_trip, 0, 16);
    tcase_add_test(tc, test_empty_content);
    tcase_add_test(tc, test_gzip_members);
    tcase_add_test(tc, test_zstd_frames);
    tcase_add_test(tc, test_deflate_zlib_and_raw);
    tcase_add_loop_test(tc, test_one_shot_hands_over, 0, 4);
    tcase_add_test(tc, test_data_after_error);
    tcase_add_test(tc, test_whole_regrow);
    tcase_add_test(tc, test_split_agrees);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_cap_exact, 0, 4);
    tcase_add_loop_test(tc, test_bombs, 0, 4);
    tcase_add_test(tc, test_zstd_window_too_large);
    tcase_add_test(tc, test_zstd_window_churn);
    tcase_add_test(tc, test_zstd_window_max);
    tcase_add_loop_test(tc, test_growth_geometric, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_empty_body, 0, 4);
    tcase_add_test(tc, test_unknown_encoding);
    tcase_add_loop_test(tc, test_truncated, 0, 4);
    tcase_add_test(tc, test_trailing_garbage);
    tcase_add_test(tc, test_corrupt_known);
    tcase_add_loop_test(tc, test_corrupt_sweep, 0, 3);
    tcase_add_loop_test(tc, test_nomem_walk, 0, 4);
    suite_add_tcase(s, tc);

    return s;
}
