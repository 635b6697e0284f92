/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-spool-record.c - spool record encoding (CRC32C itself is
 * test-crc32c.c): round trips, every truncation point,
 * every bit flip, lying length fields, and scans of record sequences.
 */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_spool_record.h"
#include "xf_unit.h"


/* ---------------------------------------------------------- helpers */

static void
put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) v;
    p[1] = (u_char) (v >> 8);
    p[2] = (u_char) (v >> 16);
    p[3] = (u_char) (v >> 24);
}


/*
 * Frame an arbitrary body with a header whose CRCs are right, claiming
 * `total` bytes: how a lying length field gets past the checksums.
 */

static size_t
frame(u_char *out, const u_char *body, size_t body_len, uint32_t total)
{
    memcpy(out, "XFSR", 4);
    out[4] = XF_SPOOL_RECORD_VERSION;
    out[5] = 0;
    out[6] = 0;
    out[7] = 0;
    put32(out + 8, total);
    memcpy(out + XF_SPOOL_RECORD_HEADER, body, body_len);
    put32(out + 12, xf_crc32c(0, body, body_len));
    put32(out + 16, xf_crc32c(0, out, 16));

    return XF_SPOOL_RECORD_HEADER + body_len;
}


static void
rec_init(xf_spool_record_t *r)
{
    memset(r, 0, sizeof(xf_spool_record_t));

    r->timestamp = 1700000000123ULL;
    r->attempt = 2;
    r->topic = (const u_char *) "events";
    r->topic_len = 6;
    r->key = (const u_char *) "user-42";
    r->key_len = 7;
    r->value = (const u_char *) "{\"event\":\"page_view\"}";
    r->value_len = 21;
    r->nheaders = 2;
    r->headers[0].name = (const u_char *) "xflow-id";
    r->headers[0].name_len = 8;
    r->headers[0].value = (const u_char *) "01HZX";
    r->headers[0].value_len = 5;
    r->headers[1].name = (const u_char *) "nullv";
    r->headers[1].name_len = 5;
    r->headers[1].value = NULL;
    r->headers[1].value_len = 0;
}


static void
bytes_eq(const u_char *a, size_t alen, const u_char *b, size_t blen)
{
    ck_assert_uint_eq(alen, blen);

    if (a == NULL || b == NULL) {
        ck_assert_ptr_eq(a, b);
        return;
    }

    ck_assert_int_eq(memcmp(a, b, alen), 0);
}


static void
rec_eq(const xf_spool_record_t *a, const xf_spool_record_t *b)
{
    size_t  i;

    ck_assert_uint_eq(a->timestamp, b->timestamp);
    ck_assert_uint_eq(a->attempt, b->attempt);
    bytes_eq(a->topic, a->topic_len, b->topic, b->topic_len);
    bytes_eq(a->key, a->key_len, b->key, b->key_len);
    bytes_eq(a->value, a->value_len, b->value, b->value_len);
    ck_assert_uint_eq(a->nheaders, b->nheaders);

    for (i = 0; i < a->nheaders; i++) {
        ck_assert_uint_eq(a->headers[i].name_len, b->headers[i].name_len);
        ck_assert_int_eq(memcmp(a->headers[i].name, b->headers[i].name,
                                a->headers[i].name_len), 0);
        bytes_eq(a->headers[i].value, a->headers[i].value_len,
                 b->headers[i].value, b->headers[i].value_len);
    }
}


/* Encode r into a fresh exact-size heap buffer (ASan sees overreads). */

static u_char *
encode(const xf_spool_record_t *r, size_t *len)
{
    size_t   n;
    u_char  *buf;

    n = xf_spool_record_size(r);
    ck_assert_uint_gt(n, 0);

    buf = malloc(n);
    ck_assert_ptr_nonnull(buf);

    ck_assert_int_eq(xf_spool_record_encode(r, buf, n, len), XF_SPOOL_OK);
    ck_assert_uint_eq(*len, n);

    return buf;
}


/* ------------------------------------------------------- round trip */

START_TEST(test_round_trip)
{
    size_t             len, used, i;
    u_char            *buf, *buf2, *big;
    xf_spool_record_t  r, d;

    big = malloc(1 << 20);
    ck_assert_ptr_nonnull(big);
    memset(big, 'v', 1 << 20);

    rec_init(&r);

    switch (_i) {

    case 0:
        break;

    case 1:                     /* no key, no value, no headers */
        r.key = NULL;
        r.key_len = 0;
        r.value = NULL;
        r.value_len = 0;
        r.nheaders = 0;
        break;

    case 2:                     /* empty, not absent */
        r.key = (const u_char *) "";
        r.key_len = 0;
        r.value = (const u_char *) "";
        r.value_len = 0;
        r.headers[0].value = (const u_char *) "";
        r.headers[0].value_len = 0;
        r.headers[1].name = (const u_char *) "";
        r.headers[1].name_len = 0;
        break;

    case 3:                     /* the most headers, a long topic */
        r.nheaders = XF_SPOOL_MAX_HEADERS;

        for (i = 0; i < XF_SPOOL_MAX_HEADERS; i++) {
            r.headers[i].name = big;
            r.headers[i].name_len = i * 7;
            r.headers[i].value = (i & 1) ? NULL : big;
            r.headers[i].value_len = (i & 1) ? 0 : i * 100;
        }

        r.topic = big;
        r.topic_len = XF_SPOOL_TOPIC_MAX;
        break;

    case 4:                     /* a megabyte of value */
        r.value = big;
        r.value_len = 1 << 20;
        r.timestamp = UINT64_MAX;
        r.attempt = UINT32_MAX;
        break;
    }

    buf = encode(&r, &len);

    ck_assert_int_eq(xf_spool_record_decode(buf, len, 0, &d, &used),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(used, len);
    rec_eq(&r, &d);

    /* one record, one encoding */

    buf2 = encode(&d, &used);
    ck_assert_uint_eq(used, len);
    ck_assert_int_eq(memcmp(buf, buf2, len), 0);

    /* a limit below the record's size refuses it */

    ck_assert_int_eq(xf_spool_record_decode(buf, len, len - 1, &d, &used),
                     XF_SPOOL_CORRUPT);
    ck_assert_int_eq(xf_spool_record_decode(buf, len, len, &d, &used),
                     XF_SPOOL_OK);

    free(buf);
    free(buf2);
    free(big);
}
END_TEST


START_TEST(test_encode_layout)
{
    size_t             len;
    u_char            *buf;
    xf_spool_record_t  r;

    rec_init(&r);
    buf = encode(&r, &len);

    ck_assert_int_eq(memcmp(buf, "XFSR\x01\x00\x00\x00", 8), 0);
    ck_assert_uint_eq(buf[8] | buf[9] << 8 | buf[10] << 16
                      | (uint32_t) buf[11] << 24, len);
    ck_assert_uint_eq(buf[16] | buf[17] << 8 | buf[18] << 16
                      | (uint32_t) buf[19] << 24,
                      xf_unit_crc32c_bitwise(buf, 16));
    ck_assert_uint_eq(buf[12] | buf[13] << 8 | buf[14] << 16
                      | (uint32_t) buf[15] << 24,
                      xf_unit_crc32c_bitwise(buf + 20, len - 20));

    /* timestamp, attempt, topic length, topic */
    ck_assert_uint_eq(buf[20], 1700000000123ULL & 0xff);
    ck_assert_uint_eq(buf[28], 2);
    ck_assert_uint_eq(buf[32], 6);
    ck_assert_int_eq(memcmp(buf + 34, "events", 6), 0);

    /* key length and key */
    ck_assert_uint_eq(buf[40], 7);
    ck_assert_int_eq(memcmp(buf + 44, "user-42", 7), 0);

    /* the value ends the record */
    ck_assert_int_eq(memcmp(buf + len - 21, r.value, 21), 0);

    free(buf);
}
END_TEST


START_TEST(test_encode_errors)
{
    size_t             len;
    u_char             buf[256];
    xf_spool_record_t  r;

    rec_init(&r);
    r.topic_len = 0;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);
    ck_assert_uint_eq(xf_spool_record_size(&r), 0);

    rec_init(&r);
    r.topic = NULL;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);

    rec_init(&r);
    r.topic_len = XF_SPOOL_TOPIC_MAX + 1;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);

    rec_init(&r);
    r.nheaders = XF_SPOOL_MAX_HEADERS + 1;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);

    rec_init(&r);
    r.key = NULL;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);

    rec_init(&r);
    r.headers[0].name_len = 0x10000;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_INVALID);

    /* lengths are checked before any byte is touched */

    rec_init(&r);
    r.value_len = XF_SPOOL_RECORD_MAX;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_TOO_LARGE);

    rec_init(&r);
    r.value_len = SIZE_MAX;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_TOO_LARGE);

    rec_init(&r);
    r.headers[0].value_len = SIZE_MAX - 10;
    ck_assert_int_eq(xf_spool_record_encode(&r, buf, sizeof(buf), &len),
                     XF_SPOOL_TOO_LARGE);
    ck_assert_uint_eq(xf_spool_record_size(&r), 0);

    /* too small a buffer: an error, and not one byte written */

    rec_init(&r);
    memset(buf, 0xaa, sizeof(buf));
    ck_assert_int_eq(xf_spool_record_encode(&r, buf,
                                            xf_spool_record_size(&r) - 1,
                                            &len),
                     XF_SPOOL_BUFFER);
    ck_assert_uint_eq(buf[0], 0xaa);
}
END_TEST


/* --------------------------------------------------------- decoding */

START_TEST(test_every_truncation)
{
    size_t             len, cut, need;
    u_char            *buf, *part;
    xf_spool_record_t  r, d;

    rec_init(&r);
    buf = encode(&r, &len);

    for (cut = 0; cut < len; cut++) {
        part = malloc(cut ? cut : 1);
        ck_assert_ptr_nonnull(part);
        memcpy(part, buf, cut);

        ck_assert_int_eq(xf_spool_record_decode(part, cut, 0, &d, &need),
                         XF_SPOOL_NEED_MORE);
        ck_assert_uint_eq(need, cut < XF_SPOOL_RECORD_HEADER
                                ? XF_SPOOL_RECORD_HEADER : len);
        free(part);
    }

    free(buf);
}
END_TEST


START_TEST(test_every_bit_flip)
{
    int                bit;
    size_t             len, i, used;
    u_char            *buf;
    xf_spool_record_t  r, d;

    rec_init(&r);
    buf = encode(&r, &len);

    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            buf[i] ^= (u_char) (1 << bit);

            ck_assert_msg(xf_spool_record_decode(buf, len, 0, &d, &used)
                          == XF_SPOOL_CORRUPT, "byte %zu bit %d", i, bit);

            buf[i] ^= (u_char) (1 << bit);
        }
    }

    ck_assert_int_eq(xf_spool_record_decode(buf, len, 0, &d, &used),
                     XF_SPOOL_OK);

    free(buf);
}
END_TEST


/* A partial header is a torn tail only if it could begin a record. */

START_TEST(test_partial_header_checked)
{
    size_t             need;
    xf_spool_record_t  d;

    ck_assert_int_eq(xf_spool_record_decode((const u_char *) "XF", 2, 0, &d,
                                            &need),
                     XF_SPOOL_NEED_MORE);
    ck_assert_int_eq(xf_spool_record_decode((const u_char *) "XQ", 2, 0, &d,
                                            &need),
                     XF_SPOOL_CORRUPT);
    ck_assert_int_eq(xf_spool_record_decode((const u_char *) "XFSR\x02", 5,
                                            0, &d, &need),
                     XF_SPOOL_CORRUPT);
    ck_assert_int_eq(xf_spool_record_decode((const u_char *) "XFSR\x01\x01",
                                            6, 0, &d, &need),
                     XF_SPOOL_CORRUPT);
    ck_assert_int_eq(xf_spool_record_decode((const u_char *) "\0\0\0\0", 4,
                                            0, &d, &need),
                     XF_SPOOL_CORRUPT);
}
END_TEST


/* Length fields with valid checksums around them, claiming the moon. */

START_TEST(test_huge_lengths)
{
    size_t             n, need;
    u_char             out[512], body[256];
    xf_spool_record_t  d;

    memset(body, 0, sizeof(body));

    /* total over the hard maximum, and at 4 GiB - 1 */

    n = frame(out, body, 40, (uint32_t) XF_SPOOL_RECORD_MAX + 1);
    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_CORRUPT);

    n = frame(out, body, 40, 0xffffffff);
    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_CORRUPT);

    /* under the minimum */

    n = frame(out, body, 10, XF_SPOOL_RECORD_MIN - 1);
    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_CORRUPT);

    /* over the caller's limit, under the hard one */

    n = frame(out, body, 40, 100000);
    ck_assert_int_eq(xf_spool_record_decode(out, n, 99999, &d, &need),
                     XF_SPOOL_CORRUPT);

    /* plausible: just a record that has not arrived yet */

    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_NEED_MORE);
    ck_assert_uint_eq(need, 100000);
}
END_TEST


/*
 * Bodies whose inner lengths lie, framed with correct CRCs and total, so
 * only the structural checks stand between them and an overread.
 */

START_TEST(test_lying_body)
{
    size_t             n, bl, need;
    u_char             out[512], body[256];
    xf_spool_record_t  d;

    /* ts, attempt, topic "t", key NULL, 0 headers, value NULL */

    memset(body, 0, sizeof(body));
    body[12] = 1;
    body[14] = 't';
    put32(body + 15, 0xffffffff);
    put32(body + 21, 0xffffffff);
    bl = 25;

    n = frame(out, body, bl, (uint32_t) (XF_SPOOL_RECORD_HEADER + bl));
    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_OK);
    ck_assert_ptr_null(d.key);
    ck_assert_ptr_null(d.value);

    switch (_i) {

    case 0:                     /* key length past the end */
        put32(body + 15, 0x7fffffff);
        break;

    case 1:                     /* value length one past the end */
        put32(body + 21, 1);
        break;

    case 2:                     /* headers that are not there */
        body[19] = 5;
        break;

    case 3:                     /* too many headers */
        body[19] = XF_SPOOL_MAX_HEADERS + 1;
        break;

    case 4:                     /* empty topic */
        body[12] = 0;
        break;

    case 5:                     /* topic past the end */
        body[12] = 0xff;
        break;

    case 6:                     /* a byte after the value */
        bl = 26;
        break;

    case 7:                     /* body cut before the value length */
        bl = 22;
        break;
    }

    n = frame(out, body, bl, (uint32_t) (XF_SPOOL_RECORD_HEADER + bl));

    if (_i == 7) {
        /* below the minimum size: refused by the length check */
        ck_assert_uint_lt(n, XF_SPOOL_RECORD_MIN);
    }

    ck_assert_int_eq(xf_spool_record_decode(out, n, 0, &d, &need),
                     XF_SPOOL_CORRUPT);
}
END_TEST


START_TEST(test_scan)
{
    size_t             l1, l2, total, good;
    u_char            *a, *b, *buf;
    uint64_t           records;
    xf_spool_record_t  r;

    rec_init(&r);
    a = encode(&r, &l1);
    r.value_len = 3;
    b = encode(&r, &l2);

    buf = malloc(l1 * 3 + l2 + 16);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, a, l1);
    memcpy(buf + l1, b, l2);
    memcpy(buf + l1 + l2, a, l1);
    total = l1 * 2 + l2;

    ck_assert_int_eq(xf_spool_record_scan(buf, total, 0, &good, &records),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(good, total);
    ck_assert_uint_eq(records, 3);

    ck_assert_int_eq(xf_spool_record_scan(buf, 0, 0, &good, &records),
                     XF_SPOOL_OK);
    ck_assert_uint_eq(good, 0);
    ck_assert_uint_eq(records, 0);

    /* torn: a piece of a fourth record */

    memcpy(buf + total, a, l1 / 2);
    ck_assert_int_eq(xf_spool_record_scan(buf, total + l1 / 2, 0, &good,
                                          &records),
                     XF_SPOOL_NEED_MORE);
    ck_assert_uint_eq(good, total);
    ck_assert_uint_eq(records, 3);

    /* zeros, as a crash can leave at the end of a file */

    memset(buf + total, 0, 16);
    ck_assert_int_eq(xf_spool_record_scan(buf, total + 16, 0, &good,
                                          &records),
                     XF_SPOOL_CORRUPT);
    ck_assert_uint_eq(good, total);

    /* corruption in the middle: everything from there is cut */

    buf[l1 + 30] ^= 1;
    ck_assert_int_eq(xf_spool_record_scan(buf, total, 0, &good, &records),
                     XF_SPOOL_CORRUPT);
    ck_assert_uint_eq(good, l1);
    ck_assert_uint_eq(records, 1);

    free(a);
    free(b);
    free(buf);
}
END_TEST


START_TEST(test_strerror)
{
    int  i;

    for (i = 0; i < XF_SPOOL_RC_MAX; i++) {
        ck_assert_str_ne(xf_spool_strerror((xf_spool_rc_t) i), "unknown");
    }

    ck_assert_str_eq(xf_spool_strerror(XF_SPOOL_NEED_MORE), "need_more");
    ck_assert_str_eq(xf_spool_strerror(XF_SPOOL_RC_MAX), "unknown");
    ck_assert_str_eq(xf_spool_strerror((xf_spool_rc_t) -1), "unknown");
}
END_TEST


Suite *
make_spool_record_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("spool_record");

    tc = tcase_create("core");
    tcase_add_loop_test(tc, test_round_trip, 0, 5);
    tcase_add_test(tc, test_encode_layout);
    tcase_add_test(tc, test_scan);
    tcase_add_test(tc, test_strerror);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_encode_errors);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_every_bit_flip);
    tcase_add_test(tc, test_partial_header_checked);
    tcase_add_test(tc, test_huge_lengths);
    tcase_add_loop_test(tc, test_lying_body, 0, 8);
    suite_add_tcase(s, tc);

    return s;
}
