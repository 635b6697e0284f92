/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-json.c - the JSON scanner: valid and invalid documents (RFC 8259
 * examples and JSONTestSuite-style y_/n_ cases), exact error offsets,
 * spans, splitting uploads, depth and event limits, allocation failures,
 * member lookup, unescaping and escaping.
 */

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"
#include "xf_unit.h"


#define S(s)  (const u_char *) (s), sizeof(s) - 1


typedef struct {
    const char   *in;
    size_t        len;          /* sizeof - 1, so NUL bytes count */
} test_doc_t;

typedef struct {
    const char   *in;
    size_t        len;
    xf_status_t   rc;
    size_t        err_off;
} test_bad_t;

#define DOC(s)             { s, sizeof(s) - 1 }
#define BAD(s, rc, off)    { s, sizeof(s) - 1, rc, off }


/* The input of a failing case, printable. */
static const char *
show(const char *p, size_t len)
{
    static char  buf[512];
    size_t       i, o;

    o = 0;

    for (i = 0; i < len && o < sizeof(buf) - 8; i++) {
        u_char c = (u_char) p[i];

        if (c >= 0x20 && c < 0x7F && c != '\\') {
            buf[o++] = c;
        } else {
            o += snprintf(buf + o, sizeof(buf) - o, "\\x%02X", c);
        }
    }

    buf[o] = '\0';

    return buf;
}


static xf_status_t
scan(const char *p, size_t len, unsigned max_depth, xf_json_span_t *span,
    size_t *end, size_t *err_off)
{
    return xf_json_scan_value((const u_char *) p, len, max_depth, span, end,
                              err_off);
}


static xf_status_t
split(const char *p, size_t len, unsigned max_depth, size_t max_events,
    xf_json_split_t *out)
{
    xf_json_split_conf_t  conf;

    conf.max_depth = max_depth;
    conf.max_events = max_events;

    return xf_json_split((const u_char *) p, len, &conf, &xf_alloc_libc,
                         out);
}


static void
split_free(xf_json_split_t *out)
{
    free(out->spans);
    memset(out, 0, sizeof(*out));
}


/* n nested arrays around nothing: [[[...]]] */
static char *
nested_arrays(size_t n, size_t *len)
{
    char  *p;

    p = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(p);

    memset(p, '[', n);
    memset(p + n, ']', n);
    p[2 * n] = '\0';
    *len = 2 * n;

    return p;
}


/* n nested objects: {"a":{"a":...1...}} */
static char *
nested_objects(size_t n, size_t *len)
{
    char    *p;
    size_t   i, o;

    p = malloc(6 * n + 2);
    ck_assert_ptr_nonnull(p);

    o = 0;

    for (i = 0; i < n; i++) {
        memcpy(p + o, "{\"a\":", 5);
        o += 5;
    }

    p[o++] = '1';
    memset(p + o, '}', n);
    o += n;
    p[o] = '\0';
    *len = o;

    return p;
}


/* ------------------------------------------------------------ valid */

static const test_doc_t  valid_docs[] = {

    /* RFC 8259, section 13 */
    DOC("{\n"
        "  \"Image\": {\n"
        "    \"Width\":  800,\n"
        "    \"Height\": 600,\n"
        "    \"Title\":  \"View from 15th Floor\",\n"
        "    \"Thumbnail\": {\n"
        "      \"Url\":    \"http://www.example.com/image/481989943\",\n"
        "      \"Height\": 125,\n"
        "      \"Width\":  100\n"
        "    },\n"
        "    \"Animated\" : false,\n"
        "    \"IDs\": [116, 943, 234, 38793]\n"
        "  }\n"
        "}"),
    DOC("[\n"
        "  {\n"
        "     \"precision\": \"zip\",\n"
        "     \"Latitude\":  37.7668,\n"
        "     \"Longitude\": -122.3959,\n"
        "     \"Address\":   \"\",\n"
        "     \"City\":      \"SAN FRANCISCO\",\n"
        "     \"State\":     \"CA\",\n"
        "     \"Zip\":       \"94107\",\n"
        "     \"Country\":   \"US\"\n"
        "  },\n"
        "  {\n"
        "     \"precision\": \"zip\",\n"
        "     \"Latitude\":  37.371991,\n"
        "     \"Longitude\": -122.026020,\n"
        "     \"Address\":   \"\",\n"
        "     \"City\":      \"SUNNYVALE\",\n"
        "     \"State\":     \"CA\",\n"
        "     \"Zip\":       \"94085\",\n"
        "     \"Country\":   \"US\"\n"
        "  }\n"
        "]"),
    DOC("\"Hello world!\""),
    DOC("42"),
    DOC("true"),

    /* structure */
    DOC("{}"),
    DOC("[]"),
    DOC("[[]]"),
    DOC("[{}]"),
    DOC("{\"a\":[]}"),
    DOC("[1,2,3]"),
    DOC(" [ 1 , 2 ] "),
    DOC("\t\n\r [\t1\n,\r2 ]\t\n\r "),
    DOC("{ \"a\" : 1 , \"b\" : [ true , false , null ] }"),
    DOC("{\"a\":1,\"a\":2}"),
    DOC("{\"\":\"\"}"),
    DOC("[null,true,false,\"\",0,{},[]]"),
    DOC("{\"a\":{\"b\":{\"c\":[[[{\"d\":null}]]]}}}"),

    /* numbers */
    DOC("0"),
    DOC("-0"),
    DOC("-0.0"),
    DOC("0.5"),
    DOC("1E5"),
    DOC("1e+5"),
    DOC("1e-5"),
    DOC("1E-0"),
    DOC("0e0"),
    DOC("-1.5E-10"),
    DOC("123456789012345678901234567890"),
    DOC("1e400"),
    DOC("[-9223372036854775809]"),
    DOC("1.000000000000000000000000000001"),

    /* strings */
    DOC("\"\""),
    DOC("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),
    DOC("\"\\u0000\""),
    DOC("\"\\u001f\""),
    DOC("\"\\u00e9\\u00E9\""),
    DOC("\"\\uD83D\\uDE00\""),
    DOC("\"\\ud834\\udd1e\""),
    DOC("\"\\udbff\\udfff\""),
    DOC("\"\\uFFFF\""),
    DOC("\"\\ud7ff\\ue000\""),
    DOC("\"\x7F\""),
    DOC("\"\xC2\x80\""),
    DOC("\"\xC2\xA2\""),
    DOC("\"\xDF\xBF\""),
    DOC("\"\xE0\xA0\x80\""),
    DOC("\"\xE2\x82\xAC\""),
    DOC("\"\xED\x9F\xBF\""),
    DOC("\"\xEE\x80\x80\""),
    DOC("\"\xEF\xBF\xBF\""),
    DOC("\"\xF0\x90\x80\x80\""),
    DOC("\"\xF0\x9F\x98\x80\""),
    DOC("\"\xF3\xBF\xBF\xBF\""),
    DOC("\"\xF4\x8F\xBF\xBF\""),
    DOC("\"\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\""),
    DOC("\"a long ascii run that crosses several eight byte words\""),
    DOC("\"12345678\\n12345678\xC3\xA9" "12345678\""),
    DOC("{\"$lib\":\"js\",\"distinct_id\":\"u-1\",\"properties\":"
        "{\"$screen_width\":1920,\"$title\":\"\xE9\xA6\x96\xE9\xA1\xB5\"}}"),
};


static const test_bad_t  invalid_docs[] = {

    /* trailing and missing commas, separators */
    BAD("[1,]", XF_ERR_JSON_SYNTAX, 3),
    BAD("[1,2,]", XF_ERR_JSON_SYNTAX, 5),
    BAD("{\"a\":1,}", XF_ERR_JSON_SYNTAX, 7),
    BAD("[,1]", XF_ERR_JSON_SYNTAX, 1),
    BAD("[,]", XF_ERR_JSON_SYNTAX, 1),
    BAD("{,}", XF_ERR_JSON_SYNTAX, 1),
    BAD("[1 2]", XF_ERR_JSON_SYNTAX, 3),
    BAD("[1,,2]", XF_ERR_JSON_SYNTAX, 3),
    BAD("{\"a\" 1}", XF_ERR_JSON_SYNTAX, 5),
    BAD("{\"a\":}", XF_ERR_JSON_SYNTAX, 5),
    BAD("{\"a\"}", XF_ERR_JSON_SYNTAX, 4),
    BAD("{\"a\":1 \"b\":2}", XF_ERR_JSON_SYNTAX, 7),
    BAD("{\"a\"::1}", XF_ERR_JSON_SYNTAX, 5),
    BAD("{1:2}", XF_ERR_JSON_SYNTAX, 1),
    BAD("{a:2}", XF_ERR_JSON_SYNTAX, 1),
    BAD("{'a':2}", XF_ERR_JSON_SYNTAX, 1),
    BAD("{null:2}", XF_ERR_JSON_SYNTAX, 1),
    BAD("[\"a\"\"b\"]", XF_ERR_JSON_SYNTAX, 4),
    BAD("[1:2]", XF_ERR_JSON_SYNTAX, 2),

    /* unbalanced */
    BAD("[", XF_ERR_JSON_SYNTAX, 1),
    BAD("{", XF_ERR_JSON_SYNTAX, 1),
    BAD("[1", XF_ERR_JSON_SYNTAX, 2),
    BAD("[1,", XF_ERR_JSON_SYNTAX, 3),
    BAD("{\"a\":1", XF_ERR_JSON_SYNTAX, 6),
    BAD("{\"a\":", XF_ERR_JSON_SYNTAX, 5),
    BAD("{\"a\"", XF_ERR_JSON_SYNTAX, 4),
    BAD("]", XF_ERR_JSON_SYNTAX, 0),
    BAD("}", XF_ERR_JSON_SYNTAX, 0),
    BAD("[1}", XF_ERR_JSON_SYNTAX, 2),
    BAD("{\"a\":1]", XF_ERR_JSON_SYNTAX, 6),
    BAD("[[]", XF_ERR_JSON_SYNTAX, 3),
    BAD(":", XF_ERR_JSON_SYNTAX, 0),
    BAD(",", XF_ERR_JSON_SYNTAX, 0),

    /* numbers */
    BAD("01", XF_ERR_JSON_SYNTAX, 1),
    BAD("00", XF_ERR_JSON_SYNTAX, 1),
    BAD("-01", XF_ERR_JSON_SYNTAX, 2),
    BAD("[01]", XF_ERR_JSON_SYNTAX, 2),
    BAD("-", XF_ERR_JSON_SYNTAX, 1),
    BAD("[-]", XF_ERR_JSON_SYNTAX, 2),
    BAD("1.", XF_ERR_JSON_SYNTAX, 2),
    BAD("[1.]", XF_ERR_JSON_SYNTAX, 3),
    BAD(".5", XF_ERR_JSON_SYNTAX, 0),
    BAD("1e", XF_ERR_JSON_SYNTAX, 2),
    BAD("1e+", XF_ERR_JSON_SYNTAX, 3),
    BAD("1E-", XF_ERR_JSON_SYNTAX, 3),
    BAD("1.e5", XF_ERR_JSON_SYNTAX, 2),
    BAD("1.5e", XF_ERR_JSON_SYNTAX, 4),
    BAD("+1", XF_ERR_JSON_SYNTAX, 0),
    BAD("-a", XF_ERR_JSON_SYNTAX, 1),
    BAD("- 1", XF_ERR_JSON_SYNTAX, 1),
    BAD("0x10", XF_ERR_JSON_SYNTAX, 1),
    BAD("1_000", XF_ERR_JSON_SYNTAX, 1),
    BAD("Infinity", XF_ERR_JSON_SYNTAX, 0),
    BAD("-Infinity", XF_ERR_JSON_SYNTAX, 1),
    BAD("NaN", XF_ERR_JSON_SYNTAX, 0),
    BAD("1e5.0", XF_ERR_JSON_SYNTAX, 3),
    BAD("\xEF\xBC\x91", XF_ERR_JSON_SYNTAX, 0),

    /* literals */
    BAD("tru", XF_ERR_JSON_SYNTAX, 3),
    BAD("truex", XF_ERR_JSON_SYNTAX, 4),
    BAD("True", XF_ERR_JSON_SYNTAX, 0),
    BAD("nul", XF_ERR_JSON_SYNTAX, 3),
    BAD("nulll", XF_ERR_JSON_SYNTAX, 4),
    BAD("fals", XF_ERR_JSON_SYNTAX, 4),
    BAD("falsey", XF_ERR_JSON_SYNTAX, 5),
    BAD("[nil]", XF_ERR_JSON_SYNTAX, 2),
    BAD("[truefalse]", XF_ERR_JSON_SYNTAX, 5),
    BAD("undefined", XF_ERR_JSON_SYNTAX, 0),

    /* strings: termination, control characters, escapes */
    BAD("\"abc", XF_ERR_JSON_SYNTAX, 4),
    BAD("\"", XF_ERR_JSON_SYNTAX, 1),
    BAD("'abc'", XF_ERR_JSON_SYNTAX, 0),
    BAD("\"\x01\"", XF_ERR_JSON_SYNTAX, 1),
    BAD("\"\x1F\"", XF_ERR_JSON_SYNTAX, 1),
    BAD("\"a\nb\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\t\"", XF_ERR_JSON_SYNTAX, 1),
    BAD("\"\r\"", XF_ERR_JSON_SYNTAX, 1),
    BAD("\"12345678\x1B" "12345678\"", XF_ERR_JSON_SYNTAX, 9),
    BAD("\"\\x\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\a\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\'\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\0\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\U0041\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\u12\"", XF_ERR_JSON_SYNTAX, 5),
    BAD("\"\\u", XF_ERR_JSON_SYNTAX, 3),
    BAD("\"\\u00", XF_ERR_JSON_SYNTAX, 5),
    BAD("\"\\uZZZZ\"", XF_ERR_JSON_SYNTAX, 3),
    BAD("\"\\u00g0\"", XF_ERR_JSON_SYNTAX, 5),
    BAD("\"\\", XF_ERR_JSON_SYNTAX, 2),
    BAD("\"\\\"", XF_ERR_JSON_SYNTAX, 3),
    BAD("\"\\\x01\"", XF_ERR_JSON_SYNTAX, 2),

    /* surrogate escapes */
    BAD("\"\\ud800\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\uDBFF\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\udc00\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\\uDFFF\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\\udc00\\ud800\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\\ude00\\ud83d\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\\ud800\\u0041\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800\\ud800\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800\\uE000\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800\\n\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800x\"", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800\\", XF_ERR_JSON_UTF8, 7),
    BAD("\"\\ud800\\u", XF_ERR_JSON_SYNTAX, 9),
    BAD("\"\\ud800\\uZZ\"", XF_ERR_JSON_SYNTAX, 9),
    BAD("\"\xED\xA0\xBD\xED\xB8\x80\"", XF_ERR_JSON_UTF8, 2),

    /* ill-formed UTF-8 */
    BAD("\"\x80\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xBF\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xC0\x80\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xC1\xBF\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xC2\x41\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xC2\xC2\xA2\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE0\x80\x80\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE0\x9F\xBF\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE2\x28\xA1\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE2\x82\x28\"", XF_ERR_JSON_UTF8, 3),
    BAD("\"\xED\xA0\x80\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xED\xBF\xBF\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xF0\x80\x80\x80\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xF0\x8F\xBF\xBF\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xF0\x9F\x98\x28\"", XF_ERR_JSON_UTF8, 4),
    BAD("\"\xF4\x90\x80\x80\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xF5\x80\x80\x80\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xF7\xBF\xBF\xBF\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xF8\x88\x80\x80\x80\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xFC\x84\x80\x80\x80\x80\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xFE\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xFF\"", XF_ERR_JSON_UTF8, 1),
    BAD("\"\xC3\"", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE2\x82\"", XF_ERR_JSON_UTF8, 3),
    BAD("\"\xF0\x9F\x98\"", XF_ERR_JSON_UTF8, 4),
    BAD("\"\xC3", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xE2\x82", XF_ERR_JSON_UTF8, 3),
    BAD("\"\xE2", XF_ERR_JSON_UTF8, 2),
    BAD("\"\xF0\x9F\x98", XF_ERR_JSON_UTF8, 4),
    BAD("\"\xF0\x9F", XF_ERR_JSON_UTF8, 3),
    BAD("\"12345678\xFF" "12345678\"", XF_ERR_JSON_UTF8, 9),
    BAD("{\"\xC0\xAF\":1}", XF_ERR_JSON_UTF8, 2),

    /* NUL bytes, outside and inside strings */
    BAD("\0", XF_ERR_JSON_SYNTAX, 0),
    BAD("[\0]", XF_ERR_JSON_SYNTAX, 1),
    BAD("\"a\0b\"", XF_ERR_JSON_SYNTAX, 2),
    BAD("1\0", XF_ERR_JSON_SYNTAX, 1),
    BAD("{\"a\":1\0}", XF_ERR_JSON_SYNTAX, 6),
    BAD("[1,\0 2]", XF_ERR_JSON_SYNTAX, 3),

    /* what is not JSON whitespace, and bytes outside strings */
    BAD("\v1", XF_ERR_JSON_SYNTAX, 0),
    BAD("\f1", XF_ERR_JSON_SYNTAX, 0),
    BAD("[\v]", XF_ERR_JSON_SYNTAX, 1),
    BAD("\xC2\xA0" "1", XF_ERR_JSON_SYNTAX, 0),
    BAD("\xEF\xBB\xBF{}", XF_ERR_JSON_SYNTAX, 0),
    BAD("[\xC3\xA9]", XF_ERR_JSON_SYNTAX, 1),
    BAD("/* c */ 1", XF_ERR_JSON_SYNTAX, 0),
    BAD("[1] // c", XF_ERR_JSON_SYNTAX, SIZE_MAX),
};


static int
ws_only(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            return 0;
        }
    }

    return 1;
}


START_TEST(test_valid_docs)
{
    size_t              i, end, err_off;
    xf_status_t         rc;
    xf_json_span_t      span;
    const test_doc_t   *d;

    for (i = 0; i < sizeof(valid_docs) / sizeof(valid_docs[0]); i++) {
        d = &valid_docs[i];
        err_off = SIZE_MAX;

        rc = scan(d->in, d->len, 64, &span, &end, &err_off);

        ck_assert_msg(rc == XF_OK,
                      "valid case %zu <%s>: got %s at %zu, want ok",
                      i, show(d->in, d->len), xf_strerror(rc), err_off);
        ck_assert_msg(ws_only(d->in + end, d->len - end),
                      "valid case %zu: end %zu of %zu", i, end, d->len);
        ck_assert_msg(ws_only(d->in, span.off)
                      && span.off + span.len == end,
                      "valid case %zu: span %u+%u, end %zu",
                      i, span.off, span.len, end);
    }
}
END_TEST


START_TEST(test_invalid_docs)
{
    size_t              i, end, err_off;
    xf_status_t         rc;
    xf_json_span_t      span;
    const test_bad_t   *b;

    for (i = 0; i < sizeof(invalid_docs) / sizeof(invalid_docs[0]); i++) {
        b = &invalid_docs[i];
        err_off = SIZE_MAX;
        end = 0;

        rc = scan(b->in, b->len, 64, &span, &end, &err_off);

        if (b->err_off == SIZE_MAX) {
            /* a valid value followed by trailing garbage */
            ck_assert_msg(rc == XF_OK && !ws_only(b->in + end, b->len - end),
                          "case %zu <%s>: got %s end %zu",
                          i, show(b->in, b->len), xf_strerror(rc), end);
            continue;
        }

        ck_assert_msg(rc == b->rc && err_off == b->err_off,
                      "invalid case %zu <%s>: got %s at %zu, want %s at %zu",
                      i, show(b->in, b->len), xf_strerror(rc), err_off,
                      xf_strerror(b->rc), b->err_off);
    }
}
END_TEST


/* Every invalid document stays invalid inside an array and as an event. */
START_TEST(test_invalid_in_split)
{
    char                buf[256];
    size_t              i, len;
    xf_status_t         rc, want;
    xf_json_split_t     out;
    const test_bad_t   *b;

    memset(&out, 0, sizeof(out));

    for (i = 0; i < sizeof(invalid_docs) / sizeof(invalid_docs[0]); i++) {
        b = &invalid_docs[i];

        if (b->err_off == SIZE_MAX) {
            continue;
        }

        /* {"k":<doc>} : offsets move by 5 */

        ck_assert_uint_lt(b->len + 6, sizeof(buf));
        memcpy(buf, "{\"k\":", 5);
        memcpy(buf + 5, b->in, b->len);
        buf[5 + b->len] = '}';
        len = b->len + 6;

        rc = split(buf, len, 64, 100, &out);
        want = b->rc;

        ck_assert_msg(rc != XF_OK,
                      "case %zu <%s> accepted inside an object",
                      i, show(buf, len));

        /* a truncated document may now fail on the closing brace */
        ck_assert_msg(rc == want
                      || (rc == XF_ERR_JSON_SYNTAX
                          && out.err_off >= 5 + b->err_off),
                      "case %zu <%s>: got %s at %zu, want %s at %zu",
                      i, show(buf, len), xf_strerror(rc), out.err_off,
                      xf_strerror(want), 5 + b->err_off);

        if (rc == want && b->err_off < b->len) {
            ck_assert_msg(out.err_off == 5 + b->err_off,
                          "case %zu <%s>: at %zu, want %zu",
                          i, show(buf, len), out.err_off, 5 + b->err_off);
        }
    }

    split_free(&out);
}
END_TEST


START_TEST(test_span_and_end)
{
    size_t          end, err_off;
    xf_status_t     rc;
    xf_json_span_t  span;

    rc = scan(" \r\n\t{\"a\":1}  ", 13, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(span.off, 4);
    ck_assert_uint_eq(span.len, 7);
    ck_assert_int_eq(span.type, XF_JSON_OBJECT);
    ck_assert_uint_eq(end, 11);

    /* trailing bytes are not looked at once a value has ended */

    rc = scan("1 x", 3, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(end, 1);

    rc = scan("[1]]", 4, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(end, 3);

    rc = scan("\"a\"b", 4, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(end, 3);

    rc = scan("1,2", 3, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(end, 1);

    rc = scan("-12.5e+3}", 9, 8, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(span.len, 8);
    ck_assert_int_eq(span.type, XF_JSON_NUMBER);
}
END_TEST


START_TEST(test_types)
{
    static const struct {
        const char      *in;
        xf_json_type_t   type;
    } cases[] = {
        { "{}", XF_JSON_OBJECT },
        { "[]", XF_JSON_ARRAY },
        { "\"\"", XF_JSON_STRING },
        { "-1", XF_JSON_NUMBER },
        { "7", XF_JSON_NUMBER },
        { "true", XF_JSON_TRUE },
        { "false", XF_JSON_FALSE },
        { "null", XF_JSON_NULL },
    };

    size_t          i, end, err_off;
    xf_status_t     rc;
    xf_json_span_t  span;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = scan(cases[i].in, strlen(cases[i].in), 1, &span, &end,
                  &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_int_eq(span.type, cases[i].type);
        ck_assert_uint_eq(span.len, strlen(cases[i].in));
    }
}
END_TEST


/*
 * Every special byte at every offset of a string body, so that the
 * eight-byte skip meets it at each position of a word.
 */
START_TEST(test_string_word_boundaries)
{
    static const struct {
        const char   *ins;
        size_t        len;
        xf_status_t   rc;
        size_t        bad;          /* error offset within ins */
    } specials[] = {
        { "\\n", 2, XF_OK, 0 },
        { "\\u00e9", 6, XF_OK, 0 },
        { "\xC3\xA9", 2, XF_OK, 0 },
        { "\xF0\x9F\x98\x80", 4, XF_OK, 0 },
        { "\x7F", 1, XF_OK, 0 },
        { "\x1F", 1, XF_ERR_JSON_SYNTAX, 0 },
        { "\0", 1, XF_ERR_JSON_SYNTAX, 0 },
        { "\xFF", 1, XF_ERR_JSON_UTF8, 0 },
        { "\x80", 1, XF_ERR_JSON_UTF8, 0 },
        { "\xED\xA0\x80", 3, XF_ERR_JSON_UTF8, 1 },
        { "\\q", 2, XF_ERR_JSON_SYNTAX, 1 },
    };

    char            buf[80];
    size_t          s, k, tail, len, end, err_off;
    xf_status_t     rc;
    xf_json_span_t  span;

    for (s = 0; s < sizeof(specials) / sizeof(specials[0]); s++) {
        for (k = 0; k < 20; k++) {
            for (tail = 0; tail < 12; tail++) {
                buf[0] = '"';
                memset(buf + 1, 'a', k);
                memcpy(buf + 1 + k, specials[s].ins, specials[s].len);
                memset(buf + 1 + k + specials[s].len, 'b', tail);
                len = 1 + k + specials[s].len + tail;
                buf[len++] = '"';

                err_off = SIZE_MAX;
                rc = scan(buf, len, 1, &span, &end, &err_off);

                ck_assert_msg(rc == specials[s].rc,
                              "special %zu at %zu: got %s, want %s",
                              s, k, xf_strerror(rc),
                              xf_strerror(specials[s].rc));

                if (rc == XF_OK) {
                    ck_assert_uint_eq(end, len);
                } else {
                    ck_assert_uint_eq(err_off, 1 + k + specials[s].bad);
                }
            }
        }
    }

    /* a quote at every offset ends the string there */

    for (k = 0; k < 20; k++) {
        buf[0] = '"';
        memset(buf + 1, 'a', 30);
        buf[1 + k] = '"';

        rc = scan(buf, 31, 1, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(end, k + 2);
    }
}
END_TEST


START_TEST(test_empty)
{
    static const char  *blank[] = { "", " ", "\n", "\r\n", " \t\r\n \t" };

    size_t           i, end, err_off;
    xf_status_t      rc;
    xf_json_span_t   span;
    xf_json_split_t  out;

    memset(&out, 0, sizeof(out));

    for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        rc = scan(blank[i], strlen(blank[i]), 8, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_ERR_EMPTY);
        ck_assert_uint_eq(err_off, strlen(blank[i]));

        rc = split(blank[i], strlen(blank[i]), 8, 8, &out);
        ck_assert_int_eq(rc, XF_ERR_EMPTY);
        ck_assert_uint_eq(out.n, 0);
    }

    rc = split("[]", 2, 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 0);

    rc = split(" \n[ \t\r\n]\r\n", 10, 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 0);

    split_free(&out);
}
END_TEST


static void
check_span(const char *in, const xf_json_span_t *span, const char *want,
    xf_json_type_t type)
{
    ck_assert_uint_eq(span->len, strlen(want));
    ck_assert_mem_eq(in + span->off, want, strlen(want));
    ck_assert_int_eq(span->type, type);
}


START_TEST(test_split_single)
{
    const char       *in = "  {\"event\":\"$pageview\",\"n\":[1,2]}\n";
    xf_status_t       rc;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));

    rc = split(in, strlen(in), 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 1);
    check_span(in, &out.spans[0], "{\"event\":\"$pageview\",\"n\":[1,2]}",
               XF_JSON_OBJECT);

    /* a scalar upload is one event too; the caller judges its type */

    rc = split("\"x\"", 3, 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(out.spans[0].type, XF_JSON_STRING);

    split_free(&out);
}
END_TEST


START_TEST(test_split_array_mixed)
{
    const char       *in = " [ {\"a\":1} ,[1,[2]],\"s\\\"]\" , -12.5e3,"
                           "true,false ,null,\t{}\n] ";
    xf_status_t       rc;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));

    rc = split(in, strlen(in), 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 8);

    check_span(in, &out.spans[0], "{\"a\":1}", XF_JSON_OBJECT);
    check_span(in, &out.spans[1], "[1,[2]]", XF_JSON_ARRAY);
    check_span(in, &out.spans[2], "\"s\\\"]\"", XF_JSON_STRING);
    check_span(in, &out.spans[3], "-12.5e3", XF_JSON_NUMBER);
    check_span(in, &out.spans[4], "true", XF_JSON_TRUE);
    check_span(in, &out.spans[5], "false", XF_JSON_FALSE);
    check_span(in, &out.spans[6], "null", XF_JSON_NULL);
    check_span(in, &out.spans[7], "{}", XF_JSON_OBJECT);

    split_free(&out);
}
END_TEST


START_TEST(test_split_ndjson)
{
    const char       *crlf = "{\"a\":1}\r\n{\"b\":[2]}\r\n\r\n"
                             "{\"c\":\"3\"}\r\n";
    const char       *arrays = "[1,2]\n[3]\n";
    const char       *mixed = "[] {} 1 \"s\"\ttrue\nnull";
    xf_status_t       rc;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));

    rc = split(crlf, strlen(crlf), 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 3);
    check_span(crlf, &out.spans[0], "{\"a\":1}", XF_JSON_OBJECT);
    check_span(crlf, &out.spans[1], "{\"b\":[2]}", XF_JSON_OBJECT);
    check_span(crlf, &out.spans[2], "{\"c\":\"3\"}", XF_JSON_OBJECT);

    /* several arrays: each is one event, not flattened */

    rc = split(arrays, strlen(arrays), 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 2);
    check_span(arrays, &out.spans[0], "[1,2]", XF_JSON_ARRAY);
    check_span(arrays, &out.spans[1], "[3]", XF_JSON_ARRAY);

    rc = split(mixed, strlen(mixed), 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 6);
    check_span(mixed, &out.spans[0], "[]", XF_JSON_ARRAY);
    check_span(mixed, &out.spans[1], "{}", XF_JSON_OBJECT);
    check_span(mixed, &out.spans[2], "1", XF_JSON_NUMBER);
    check_span(mixed, &out.spans[3], "\"s\"", XF_JSON_STRING);
    check_span(mixed, &out.spans[4], "true", XF_JSON_TRUE);
    check_span(mixed, &out.spans[5], "null", XF_JSON_NULL);

    split_free(&out);
}
END_TEST


/* out is reused: n starts again at 0, the spans array is kept. */
START_TEST(test_split_reuse)
{
    size_t            cap;
    xf_status_t       rc;
    xf_json_span_t   *spans;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));

    rc = split("[1,2,3]", 7, 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_uint_ge(out.cap, 3);

    spans = out.spans;
    cap = out.cap;

    rc = split("{} {}", 5, 8, 8, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_ptr_eq(out.spans, spans);
    ck_assert_uint_eq(out.cap, cap);
    ck_assert_uint_eq(out.spans[1].off, 3);

    rc = split("{} x", 4, 8, 8, &out);
    ck_assert_int_eq(rc, XF_ERR_JSON_SYNTAX);
    ck_assert_uint_eq(out.err_off, 3);

    rc = split("   ", 3, 8, 8, &out);
    ck_assert_int_eq(rc, XF_ERR_EMPTY);
    ck_assert_uint_eq(out.n, 0);

    split_free(&out);
}
END_TEST


/* The spans array grows geometrically; each old array is freed. */
START_TEST(test_split_growth)
{
    char                  *in;
    size_t                 i, n, len;
    xf_unit_mem_t           m;
    xf_alloc_t             a;
    xf_status_t            rc;
    xf_json_split_t        out;
    xf_json_split_conf_t   conf;

    n = 10000;
    in = malloc(2 * n + 2);
    ck_assert_ptr_nonnull(in);

    len = 0;
    in[len++] = '[';

    for (i = 0; i < n; i++) {
        in[len++] = (char) ('0' + i % 10);
        in[len++] = ',';
    }

    in[len - 1] = ']';

    memset(&m, 0, sizeof(m));
    a.alloc = xf_unit_mem_alloc;
    a.free = xf_unit_mem_free;
    a.data = &m;
    conf.max_depth = 4;
    conf.max_events = n;
    memset(&out, 0, sizeof(out));

    rc = xf_json_split((u_char *) in, len, &conf, &a, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, n);

    /* 16, 32, ..., 16384 */
    ck_assert_uint_le(m.calls, 11);
    ck_assert_uint_eq(m.live, 1);
    ck_assert_uint_eq(m.frees, m.calls - 1);

    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(out.spans[i].off, 1 + 2 * i);
        ck_assert_uint_eq(out.spans[i].len, 1);
        ck_assert_int_eq(in[out.spans[i].off], '0' + i % 10);
    }

    a.free(a.data, out.spans);
    ck_assert_uint_eq(m.live, 0);
    free(in);
}
END_TEST


START_TEST(test_object_get)
{
    static const struct {
        const char      *name;
        size_t           len;
        const char      *value;
        xf_json_type_t   type;
    } found[] = {
        { "a", 1, "1", XF_JSON_NUMBER },
        { "b", 1, "{\"c\":2,\"a\":3}", XF_JSON_OBJECT },
        { "d", 1, "\"x\\\"}\"", XF_JSON_STRING },
        { "e", 1, "[1,{\"f\":3}]", XF_JSON_ARRAY },
        { "ab", 2, "\"ab\"", XF_JSON_STRING },
        { "\xF0\x9F\x98\x80", 4, "true", XF_JSON_TRUE },
        { "n\0l", 3, "null", XF_JSON_NULL },
        { "", 0, "-1.5e3", XF_JSON_NUMBER },
    };
    static const struct {
        const char      *name;
        size_t           len;
    } missing[] = {
        { "c", 1 },
        { "f", 1 },
        { "abc", 3 },
        { "n", 1 },
        { "A", 1 },
        { "\xF0\x9F\x98", 3 },
    };
    const char      *obj = "{ \"a\" : 1 , \"b\":{\"c\":2,\"a\":3},"
                           "\"d\":\"x\\\"}\",\"e\":[1,{\"f\":3}],"
                           "\"\\u0061b\":\"ab\", \"a\":\"second\","
                           "\"\\ud83d\\ude00\":true,\"n\\u0000l\":null,"
                           "\"\":-1.5e3 }";
    size_t           i, len, end, err_off;
    xf_status_t      rc;
    xf_json_span_t   v;

    len = strlen(obj);

    ck_assert_int_eq(scan(obj, len, 8, &v, &end, &err_off), XF_OK);
    ck_assert_uint_eq(end, len);

    for (i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
        rc = xf_json_object_get((const u_char *) obj, len, found[i].name,
                                found[i].len, &v);
        ck_assert_int_eq(rc, XF_OK);
        check_span(obj, &v, found[i].value, found[i].type);
    }

    /* nested members, prefixes and near misses are not found */

    for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        ck_assert_int_eq(xf_json_object_get((const u_char *) obj, len,
                                            missing[i].name, missing[i].len,
                                            &v),
                         XF_ERR_EMPTY);
    }

    ck_assert_int_eq(xf_json_object_get(S("{}"), "a", 1, &v), XF_ERR_EMPTY);
    ck_assert_int_eq(xf_json_object_get(S("{ \n}"), "a", 1, &v),
                     XF_ERR_EMPTY);
    ck_assert_int_eq(xf_json_object_get(S("[]"), "a", 1, &v),
                     XF_ERR_JSON_SYNTAX);
}
END_TEST


START_TEST(test_unescape)
{
    static const struct {
        const char  *in;
        size_t       in_len;
        const char  *out;
        size_t       out_len;
    } cases[] = {
#define UN(a, b)  { a, sizeof(a) - 1, b, sizeof(b) - 1 }
        UN("\"\"", ""),
        UN("\"abc\"", "abc"),
        UN("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t"),
        UN("\"\\u0041\\u00e9\\u00E9\"", "A\xC3\xA9\xC3\xA9"),
        UN("\"\\u0000\"", "\0"),
        UN("\"a\\u0000b\"", "a\0b"),
        UN("\"\\u007f\\u0080\"", "\x7F\xC2\x80"),
        UN("\"\\u07ff\\u0800\"", "\xDF\xBF\xE0\xA0\x80"),
        UN("\"\\u20AC\"", "\xE2\x82\xAC"),
        UN("\"\\ud7ff\\ue000\\uffff\"", "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"),
        UN("\"\\ud800\\udc00\"", "\xF0\x90\x80\x80"),
        UN("\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80"),
        UN("\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF"),
        UN("\"x\\ud834\\udd1ey\"", "x\xF0\x9D\x84\x9Ey"),
        UN("\"\xE4\xBD\xA0\\n\xE5\xA5\xBD\"", "\xE4\xBD\xA0\n\xE5\xA5\xBD"),
        UN("\"12345678\\\\12345678\"", "12345678\\12345678"),
#undef UN
    };

    u_char       dst[64];
    size_t       i, cap, n;
    xf_status_t  rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = SIZE_MAX;
        rc = xf_json_string_unescape((const u_char *) cases[i].in,
                                     cases[i].in_len, dst, sizeof(dst), &n);
        ck_assert_msg(rc == XF_OK, "unescape case %zu: %s",
                      i, xf_strerror(rc));
        ck_assert_uint_eq(n, cases[i].out_len);
        ck_assert_mem_eq(dst, cases[i].out, n);

        /* never longer than the span; every smaller buffer is refused */

        ck_assert_uint_le(n, cases[i].in_len - 2);

        for (cap = 0; cap < cases[i].out_len; cap++) {
            rc = xf_json_string_unescape((const u_char *) cases[i].in,
                                         cases[i].in_len, dst, cap, &n);
            ck_assert_int_eq(rc, XF_ERR_BUFFER);
        }

        rc = xf_json_string_unescape((const u_char *) cases[i].in,
                                     cases[i].in_len, dst,
                                     cases[i].out_len, &n);
        ck_assert_int_eq(rc, XF_OK);
    }

    ck_assert_int_eq(xf_json_string_unescape(S("\"\\ud800\""), dst, 64, &n),
                     XF_ERR_JSON_UTF8);
    ck_assert_int_eq(xf_json_string_unescape(S("\"\\udc00\""), dst, 64, &n),
                     XF_ERR_JSON_UTF8);
    ck_assert_int_eq(xf_json_string_unescape(S("\"\\x\""), dst, 64, &n),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(xf_json_string_unescape(S("\"\\\""), dst, 64, &n),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(xf_json_string_unescape(S("\"\\u12\""), dst, 64, &n),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(xf_json_string_unescape(S("abc"), dst, 64, &n),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(xf_json_string_unescape(S("\""), dst, 64, &n),
                     XF_ERR_JSON_SYNTAX);
}
END_TEST


START_TEST(test_escape)
{
    static const struct {
        const char  *in;
        size_t       in_len;
        const char  *out;
        size_t       out_len;
    } cases[] = {
#define ES(a, b)  { a, sizeof(a) - 1, b, sizeof(b) - 1 }
        ES("", ""),
        ES("plain text, long enough for words", "plain text, long enough "
           "for words"),
        ES("a\"b", "a\\\"b"),
        ES("a\\b", "a\\\\b"),
        ES("/", "/"),
        ES("\b\f\n\r\t", "\\b\\f\\n\\r\\t"),
        ES("\x01\x1F", "\\u0001\\u001f"),
        ES("\0", "\\u0000"),
        ES("\x7F", "\x7F"),
        ES("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
           "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
        ES("\xFF", "\xEF\xBF\xBD"),
        ES("\x80" "a", "\xEF\xBF\xBD" "a"),
        ES("\xC0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD"),
        ES("\xE2\x82", "\xEF\xBF\xBD"),
        ES("\xE2\x82" "A", "\xEF\xBF\xBD" "A"),
        ES("\xF0\x9F\x98", "\xEF\xBF\xBD"),
        ES("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
        ES("\xF4\x90\x80\x80",
           "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
        ES("\xC3\"", "\xEF\xBF\xBD\\\""),
        ES("12345678\n12345678\"", "12345678\\n12345678\\\""),
#undef ES
    };

    u_char          dst[256], back[256];
    size_t          i, n, m, end, err_off;
    xf_status_t     rc;
    xf_json_span_t  span;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dst[0] = '"';
        n = xf_json_escape(dst + 1, (const u_char *) cases[i].in,
                           cases[i].in_len);

        ck_assert_msg(n == cases[i].out_len
                      && memcmp(dst + 1, cases[i].out, n) == 0,
                      "escape case %zu: got <%s>", i,
                      show((char *) dst + 1, n));
        ck_assert_uint_le(n, xf_json_escape_bound(cases[i].in_len));

        /* quoted, it is a valid JSON string */

        dst[n + 1] = '"';
        rc = xf_json_scan_value(dst, n + 2, 0, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(end, n + 2);

        rc = xf_json_string_unescape(dst, n + 2, back, sizeof(back), &m);
        ck_assert_int_eq(rc, XF_OK);
    }

    /* the bound is reached by control characters */

    n = xf_json_escape(dst, (const u_char *) "\x01\x02\x03", 3);
    ck_assert_uint_eq(n, xf_json_escape_bound(3));
}
END_TEST


/* Valid UTF-8 survives escape then unescape unchanged. */
START_TEST(test_escape_roundtrip)
{
    u_char           src[64], esc[64 * 6 + 2], back[64 * 6];
    size_t           i, k, n, m, end, err_off, len;
    uint32_t         seed;
    xf_status_t      rc;
    xf_json_span_t   span;

    static const char  *pieces[] = {
        "a", "\"", "\\", "\n", "\x01", "\0", "\x7F", "\xC3\xA9",
        "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", "/",
        "\xEF\xBF\xBF", "\xED\x9F\xBF"
    };
    static const size_t  piece_len[] = {
        1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 1, 3, 3
    };

    seed = 12345;

    for (i = 0; i < 2000; i++) {
        len = 0;

        for (k = 0; k < 12; k++) {
            seed = seed * 1103515245 + 12345;
            n = (seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]));
            memcpy(src + len, pieces[n], piece_len[n]);
            len += piece_len[n];
        }

        esc[0] = '"';
        n = xf_json_escape(esc + 1, src, len);
        esc[n + 1] = '"';

        rc = xf_json_scan_value(esc, n + 2, 0, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);

        rc = xf_json_string_unescape(esc, n + 2, back, sizeof(back), &m);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(m, len);
        ck_assert_mem_eq(back, src, len);
    }
}
END_TEST


/* ----------------------------------------------------------- limits */

START_TEST(test_depth_boundary)
{
    char            *p;
    size_t           d, len, end, err_off;
    xf_status_t      rc;
    xf_json_span_t   span;

    for (d = 1; d <= 130; d++) {
        p = nested_arrays(d, &len);

        rc = scan(p, len, d, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(end, len);

        rc = scan(p, len, d - 1, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
        ck_assert_uint_eq(err_off, d - 1);
        free(p);

        p = nested_objects(d, &len);

        rc = scan(p, len, d, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(end, len);

        rc = scan(p, len, d - 1, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
        ck_assert_uint_eq(err_off, 5 * (d - 1));
        free(p);
    }

    /* the doc's example: 1 allows {} but not {"a":{}} */

    ck_assert_int_eq(scan("{}", 2, 1, &span, &end, &err_off), XF_OK);
    ck_assert_int_eq(scan("{\"a\":{}}", 8, 1, &span, &end, &err_off),
                     XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(err_off, 5);

    /* 0: scalars only */

    ck_assert_int_eq(scan("1", 1, 0, &span, &end, &err_off), XF_OK);
    ck_assert_int_eq(scan("\"[\"", 3, 0, &span, &end, &err_off), XF_OK);
    ck_assert_int_eq(scan("[]", 2, 0, &span, &end, &err_off),
                     XF_ERR_JSON_DEPTH);
    ck_assert_int_eq(scan("{}", 2, 0, &span, &end, &err_off),
                     XF_ERR_JSON_DEPTH);
}
END_TEST


/* Deep nesting is an error at the limit, never a crash. */
START_TEST(test_depth_deep)
{
    char            *p;
    size_t           len, end, err_off;
    xf_status_t      rc;
    xf_json_span_t   span;
    xf_json_split_t  out;

    p = nested_arrays(10000, &len);

    rc = scan(p, len, 64, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(err_off, 64);

    /* a limit above XF_JSON_DEPTH_MAX is XF_JSON_DEPTH_MAX */

    rc = scan(p, len, UINT_MAX, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(err_off, XF_JSON_DEPTH_MAX);

    /* unterminated: depth first */

    rc = scan(p, 10000, UINT_MAX, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    free(p);

    p = nested_arrays(XF_JSON_DEPTH_MAX, &len);
    rc = scan(p, len, XF_JSON_DEPTH_MAX, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(end, len);
    free(p);

    p = nested_objects(10000, &len);
    rc = scan(p, len, UINT_MAX, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(err_off, 5 * XF_JSON_DEPTH_MAX);

    memset(&out, 0, sizeof(out));
    rc = split(p, len, 100, 10, &out);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(out.err_off, 500);
    split_free(&out);
    free(p);

    /* mixed kinds: the right closer is expected at every level */

    p = malloc(40002);
    ck_assert_ptr_nonnull(p);

    for (len = 0; len < 4000; len++) {
        memcpy(p + 5 * len, len % 2 ? "{\"a\":" : "[[[[[", 5);
    }

    rc = scan(p, 20000, UINT_MAX, &span, &end, &err_off);
    ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
    free(p);
}
END_TEST


/* Split counts depth from the upload's top, array or not. */
START_TEST(test_split_depth)
{
    char             *p, *q;
    size_t            d, len;
    xf_status_t       rc;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));

    ck_assert_int_eq(split("[{\"a\":{}}]", 10, 3, 8, &out), XF_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(split("[{\"a\":{}}]", 10, 2, 8, &out),
                     XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(out.err_off, 6);

    ck_assert_int_eq(split("{\"a\":{}}\n{}", 11, 2, 8, &out), XF_OK);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(split("{\"a\":{}}\n{}", 11, 1, 8, &out),
                     XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(out.err_off, 5);

    /* an array among several values counts its own level too */

    ck_assert_int_eq(split("[{}] {}", 7, 2, 8, &out), XF_OK);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(split("[{}] {}", 7, 1, 8, &out), XF_ERR_JSON_DEPTH);

    ck_assert_int_eq(split("[]", 2, 0, 8, &out), XF_ERR_JSON_DEPTH);
    ck_assert_uint_eq(out.err_off, 0);
    ck_assert_int_eq(split("1", 1, 0, 8, &out), XF_OK);
    ck_assert_int_eq(split("1 2", 3, 0, 8, &out), XF_OK);
    ck_assert_uint_eq(out.n, 2);

    for (d = 1; d <= 70; d++) {
        p = nested_arrays(d, &len);

        rc = split(p, len, d, 8, &out);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(out.n, d == 1 ? 0 : 1);

        rc = split(p, len, d - 1, 8, &out);
        ck_assert_int_eq(rc, XF_ERR_JSON_DEPTH);
        ck_assert_uint_eq(out.err_off, d - 1);

        /* the same array twice: no longer flattened, same limit */

        q = malloc(2 * len + 2);
        ck_assert_ptr_nonnull(q);
        memcpy(q, p, len);
        q[len] = '\n';
        memcpy(q + len + 1, p, len);

        rc = split(q, 2 * len + 1, d, 8, &out);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(out.n, 2);
        ck_assert_uint_eq(out.spans[1].off, len + 1);
        ck_assert_uint_eq(out.spans[1].len, len);

        free(q);
        free(p);
    }

    split_free(&out);
}
END_TEST


START_TEST(test_max_events)
{
    char              buf[512];
    size_t            i, n, len;
    xf_status_t       rc;
    xf_json_split_t   out;

    memset(&out, 0, sizeof(out));
    n = 100;

    /* [1,1,...,1]: element k at 1 + 2k */

    len = 0;
    buf[len++] = '[';

    for (i = 0; i < n; i++) {
        buf[len++] = '1';
        buf[len++] = ',';
    }

    buf[len - 1] = ']';

    rc = split(buf, len, 4, n, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, n);

    rc = split(buf, len, 4, n - 1, &out);
    ck_assert_int_eq(rc, XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 1 + 2 * (n - 1));

    rc = split(buf, len, 4, 0, &out);
    ck_assert_int_eq(rc, XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 1);

    /* over the limit, the rest of the array is still validated */

    buf[len - 1] = ',';
    buf[len++] = ']';

    rc = split(buf, len, 4, n - 1, &out);
    ck_assert_int_eq(rc, XF_ERR_JSON_SYNTAX);
    ck_assert_uint_eq(out.err_off, len - 1);

    /* NDJSON: 1\n1\n...: event k at 2k */

    len = 0;

    for (i = 0; i < n; i++) {
        buf[len++] = '1';
        buf[len++] = '\n';
    }

    rc = split(buf, len, 4, n, &out);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(out.n, n);

    rc = split(buf, len, 4, n - 1, &out);
    ck_assert_int_eq(rc, XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 2 * (n - 1));

    rc = split(buf, len, 4, 0, &out);
    ck_assert_int_eq(rc, XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 0);

    /* "[]" has no event, whatever the limit */

    ck_assert_int_eq(split("[]", 2, 4, 0, &out), XF_OK);
    ck_assert_uint_eq(out.n, 0);

    /* an array longer than the limit that turns out to be one event */

    ck_assert_int_eq(split("[1,2,3] {}", 10, 4, 2, &out), XF_OK);
    ck_assert_uint_eq(out.n, 2);
    check_span("[1,2,3] {}", &out.spans[0], "[1,2,3]", XF_JSON_ARRAY);
    check_span("[1,2,3] {}", &out.spans[1], "{}", XF_JSON_OBJECT);

    ck_assert_int_eq(split("[1,2,3] {}", 10, 4, 1, &out),
                     XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 8);

    ck_assert_int_eq(split("[] {}", 5, 4, 0, &out),
                     XF_ERR_TOO_MANY_EVENTS);
    ck_assert_uint_eq(out.err_off, 0);

    split_free(&out);
}
END_TEST


/* Inputs of 4 GiB or more are refused before a byte is read. */
START_TEST(test_too_large)
{
    size_t            end, err_off;
    xf_json_span_t    span;
    xf_json_split_t   out;

    if (sizeof(size_t) <= 4) {
        return;
    }

    memset(&out, 0, sizeof(out));

    ck_assert_int_eq(scan("{}", (size_t) UINT32_MAX + 1, 8, &span, &end,
                          &err_off),
                     XF_ERR_TOO_LARGE);
    ck_assert_int_eq(split("{}", (size_t) UINT32_MAX + 1, 8, 8, &out),
                     XF_ERR_TOO_LARGE);
    ck_assert_uint_eq(out.n, 0);
}
END_TEST


/* Every allocation failure is reported and leaks nothing. */
START_TEST(test_split_nomem)
{
    char                  buf[256];
    size_t                i, len, k;
    xf_unit_mem_t          m;
    xf_alloc_t            a;
    xf_status_t           rc;
    xf_json_split_t       out;
    xf_json_split_conf_t  conf;

    static const char  *shapes[] = { "[%s]", "%s", "[0] %s" };

    a.alloc = xf_unit_mem_alloc;
    a.free = xf_unit_mem_free;
    a.data = &m;
    conf.max_depth = 4;
    conf.max_events = 1000;

    for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        char  items[200];

        len = 0;

        for (i = 0; i < 40; i++) {
            items[len++] = '7';
            items[len++] = k == 0 ? ',' : '\n';
        }

        items[len - 1] = '\0';
        /* shapes[] holds literals with one %s each */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        len = snprintf(buf, sizeof(buf), shapes[k], items);
#pragma GCC diagnostic pop

        for (i = 1; ; i++) {
            memset(&m, 0, sizeof(m));
            m.fail_at = i;
            memset(&out, 0, sizeof(out));

            rc = xf_json_split((u_char *) buf, len, &conf, &a, &out);

            if (out.spans != NULL) {
                a.free(a.data, out.spans);
            }

            ck_assert_uint_eq(m.live, 0);

            if (rc == XF_OK) {
                ck_assert_uint_lt(m.calls, i);
                break;
            }

            ck_assert_int_eq(rc, XF_ERR_NOMEM);
            ck_assert_uint_eq(m.calls, i);
        }

        ck_assert_uint_ge(i, 3);
    }
}
END_TEST


/* ----------------------------------------------------------- errors */

START_TEST(test_split_errors)
{
    static const test_bad_t  cases[] = {
        BAD("{}{}", XF_ERR_JSON_SYNTAX, 2),
        BAD("[1][2]", XF_ERR_JSON_SYNTAX, 3),
        BAD("[1] [2]x", XF_ERR_JSON_SYNTAX, 7),
        BAD("\"a\"\"b\"", XF_ERR_JSON_SYNTAX, 3),
        BAD("1 2x", XF_ERR_JSON_SYNTAX, 3),
        BAD("{} }", XF_ERR_JSON_SYNTAX, 3),
        BAD("[1,2]]", XF_ERR_JSON_SYNTAX, 5),
        BAD("[1,2] ]", XF_ERR_JSON_SYNTAX, 6),
        BAD("[1,2,]", XF_ERR_JSON_SYNTAX, 5),
        BAD("[1 2]", XF_ERR_JSON_SYNTAX, 3),
        BAD("[01]", XF_ERR_JSON_SYNTAX, 2),
        BAD("[", XF_ERR_JSON_SYNTAX, 1),
        BAD("[1,", XF_ERR_JSON_SYNTAX, 3),
        BAD("[1", XF_ERR_JSON_SYNTAX, 2),
        BAD("[1}", XF_ERR_JSON_SYNTAX, 2),
        BAD("{\"a\":1}\n{\"b\":2}\n{\"c\":\"\\x\"}", XF_ERR_JSON_SYNTAX, 23),
        BAD("{\"a\":1}\r\n{\"b\":\"\xC0\x80\"}", XF_ERR_JSON_UTF8, 15),
        BAD("[{\"a\":1},{\"b\":\"\\udc00\"}]", XF_ERR_JSON_UTF8, 15),
        BAD("[{}, {}, \0]", XF_ERR_JSON_SYNTAX, 9),
        BAD("{}\n\0", XF_ERR_JSON_SYNTAX, 3),
        BAD("{} \v", XF_ERR_JSON_SYNTAX, 3),
        BAD("[] {} [1,]", XF_ERR_JSON_SYNTAX, 9),
        BAD("\xEF\xBB\xBF[]", XF_ERR_JSON_SYNTAX, 0),
    };

    size_t             i;
    xf_status_t        rc;
    xf_json_split_t    out;
    const test_bad_t  *b;

    memset(&out, 0, sizeof(out));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b = &cases[i];

        rc = split(b->in, b->len, 16, 16, &out);

        ck_assert_msg(rc == b->rc && out.err_off == b->err_off,
                      "split case %zu <%s>: got %s at %zu, want %s at %zu",
                      i, show(b->in, b->len), xf_strerror(rc), out.err_off,
                      xf_strerror(b->rc), b->err_off);
    }

    split_free(&out);
}
END_TEST


/* Every prefix of a valid document is an error, never a read past it. */
START_TEST(test_truncations)
{
    char             *p;
    size_t            i, k, end, err_off;
    xf_status_t       rc;
    xf_json_span_t    span;
    const test_doc_t *d;

    for (i = 0; i < sizeof(valid_docs) / sizeof(valid_docs[0]); i++) {
        d = &valid_docs[i];

        for (k = 0; k < d->len; k++) {

            /* an exact-size copy, so ASan sees an overread */

            p = malloc(k ? k : 1);
            ck_assert_ptr_nonnull(p);
            memcpy(p, d->in, k);

            rc = scan(p, k, 64, &span, &end, &err_off);

            if (rc == XF_OK) {
                /* only trailing whitespace was cut, or "42" became "4" */
                ck_assert_msg(ws_only(d->in + k, d->len - k)
                              || span.type == XF_JSON_NUMBER,
                              "prefix %zu of case %zu accepted", k, i);
                ck_assert_uint_eq(end, span.off + span.len);
                ck_assert(ws_only(p + end, k - end));

            } else if (rc != XF_ERR_EMPTY) {
                ck_assert_msg(err_off <= k,
                              "prefix %zu of case %zu: error at %zu",
                              k, i, err_off);
            }

            free(p);
        }
    }
}
END_TEST


/* One pass for many keys agrees with one xf_json_object_get per key. */
START_TEST(test_object_fields)
{
    size_t           i, k;
    uint32_t         found;
    xf_json_span_t   v[4], one;
    xf_status_t      rc;
    static const xf_json_key_t  keys[4] = {
        { "event", 5 }, { "distinct_id", 11 }, { "app", 3 }, { "a", 1 }
    };
    static const char  *objs[] = {
        "{}",
        "{\"event\":\"x\"}",
        "{ \"distinct_id\" : 42 , \"event\":\"e\",\"event\":\"dup\"}",
        "{\"\\u0061\":[1,{\"app\":1}],\"app\":\"shop\",\"z\":null}",
        ("{\"x\":{\"event\":1},\"a\":true,\"app\":\"k\",\"event\":\"e\","
         "\"distinct_id\":\"d\"}"),
    };

    for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
        rc = xf_json_object_fields((const u_char *) objs[i], strlen(objs[i]),
                                   keys, 4, v, &found);
        ck_assert_int_eq(rc, XF_OK);

        for (k = 0; k < 4; k++) {
            rc = xf_json_object_get((const u_char *) objs[i],
                                    strlen(objs[i]), keys[k].name,
                                    keys[k].len, &one);

            ck_assert_int_eq(!!(found & (1u << k)), rc == XF_OK);

            if (rc == XF_OK) {
                ck_assert_uint_eq(v[k].off, one.off);
                ck_assert_uint_eq(v[k].len, one.len);
                ck_assert_int_eq(v[k].type, one.type);
            }
        }
    }
}
END_TEST


/*
 * A split that looks for members finds, per event, what
 * xf_json_object_fields finds in it: top level only, first of a name,
 * names after unescaping, nothing in non-objects, and the same across
 * array elements, NDJSON lines and spans that outgrow the first buffer.
 */

static const xf_json_key_t  split_keys[] = {
    { "event", 5 }, { "uid", 3 }, { "app", 3 }, { "x", 1 }
};

static void
check_split_keys(const char *in)
{
    size_t           i, k, len = strlen(in);
    uint32_t         found;
    xf_json_span_t   v[4], *s;
    xf_json_split_t  out, plain;

    memset(&out, 0, sizeof(out));
    memset(&plain, 0, sizeof(plain));
    out.keys = split_keys;
    out.nkeys = 4;

    ck_assert_int_eq(split(in, len, 64, 1000, &out), XF_OK);
    ck_assert_int_eq(split(in, len, 64, 1000, &plain), XF_OK);
    ck_assert_uint_eq(out.n, plain.n);

    for (i = 0; i < out.n; i++) {
        s = &out.spans[i];
        ck_assert_uint_eq(s->off, plain.spans[i].off);
        ck_assert_uint_eq(s->len, plain.spans[i].len);

        if (s->type != XF_JSON_OBJECT) {
            ck_assert_uint_eq(out.found[i], 0);
            continue;
        }

        ck_assert_int_eq(xf_json_object_fields((const u_char *) in + s->off,
                                               s->len, split_keys, 4, v,
                                               &found), XF_OK);
        ck_assert_uint_eq(out.found[i], found);

        for (k = 0; k < 4; k++) {
            if (found & (1u << k)) {
                ck_assert_uint_eq(out.values[i * 4 + k].off, v[k].off);
                ck_assert_uint_eq(out.values[i * 4 + k].len, v[k].len);
                ck_assert_int_eq(out.values[i * 4 + k].type, v[k].type);
            }
        }
    }

    free(out.values);
    free(out.found);
    split_free(&out);
    split_free(&plain);
}


START_TEST(test_split_keys)
{
    size_t           i;
    char            *big, *q;
    xf_json_split_t  out;

    check_split_keys("{\"event\":\"a\",\"uid\":7,\"app\":{\"x\":1},\"x\":[1]}");
    /* nested names are not the event's; the first of a name wins */
    check_split_keys("{\"p\":{\"event\":\"in\"},\"event\":\"out\","
                     "\"event\":\"dup\"}");
    /* escaped names, and names of a key's length that are not keys */
    check_split_keys("{\"\\u0065vent\":\"esc\",\"ui\\u0064\":\"u\","
                     "\"uix\":1,\"ap\":2,\"\\\"x\":3}");
    check_split_keys("[{\"event\":1},2,\"s\",{},{\"x\":null},[{\"x\":1}]]");
    check_split_keys("{\"x\":true}\n{\"uid\":\"a\"}\n[1]\n\"str\"");
    check_split_keys("[{\"event\":\"a\"}] {\"x\":1}");

    /* more events than the first allocation holds */
    big = malloc(40 * 64 + 3);
    ck_assert_ptr_nonnull(big);
    q = big;
    *q++ = '[';
    for (i = 0; i < 40; i++) {
        q += sprintf(q, "%s{\"a\":0,\"uid\":%zu,\"event\":\"e%02zu\"}",
                     i ? "," : "", i, i);
    }
    *q++ = ']';
    *q = '\0';
    check_split_keys(big);

    memset(&out, 0, sizeof(out));
    out.keys = split_keys;
    out.nkeys = 4;
    ck_assert_int_eq(split(big, strlen(big), 64, 1000, &out), XF_OK);
    ck_assert_uint_eq(out.n, 40);
    ck_assert_uint_eq(out.found[39], 3);
    ck_assert_mem_eq(big + out.spans[39].off + out.values[39 * 4].off,
                     "\"e39\"", 5);
    free(out.values);
    free(out.found);
    split_free(&out);
    free(big);
}
END_TEST


Suite *
make_json_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("json");

    tc = tcase_create("core");
    tcase_add_test(tc, test_object_fields);
    tcase_add_test(tc, test_split_keys);
    tcase_add_test(tc, test_valid_docs);
    tcase_add_test(tc, test_span_and_end);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_string_word_boundaries);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_split_single);
    tcase_add_test(tc, test_split_array_mixed);
    tcase_add_test(tc, test_split_ndjson);
    tcase_add_test(tc, test_split_reuse);
    tcase_add_test(tc, test_split_growth);
    tcase_add_test(tc, test_object_get);
    tcase_add_test(tc, test_unescape);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_escape_roundtrip);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_depth_boundary);
    tcase_add_test(tc, test_depth_deep);
    tcase_add_test(tc, test_split_depth);
    tcase_add_test(tc, test_max_events);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_split_nomem);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_invalid_docs);
    tcase_add_test(tc, test_invalid_in_split);
    tcase_add_test(tc, test_split_errors);
    tcase_add_test(tc, test_truncations);
    suite_add_tcase(s, tc);

    return s;
}
