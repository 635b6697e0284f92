/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-json-diff.c - the JSON scanner against jansson.
 *
 * Random documents come from a seeded generator (so a failure names an
 * iteration that reproduces): nested objects and arrays, numbers of every
 * grammar form, strings with every escape, surrogate pairs and raw UTF-8
 * of every length, JSON whitespace between tokens.  Each document and
 * many mutations of it (byte changes aimed at the grammar, truncation,
 * insertion, deletion, a repeated chunk) are given to both parsers, which
 * must agree on accepting.  Accepted documents are then compared value by
 * value: array elements found by xf_json_split, object members found by
 * xf_json_object_get and strings unescaped by xf_json_string_unescape
 * must equal what jansson built.
 *
 * jansson is called with JSON_DECODE_ANY (any value at the top, as
 * xf_json_scan_value) and JSON_ALLOW_NUL (so "\u0000" in a string is the
 * valid JSON it is).  JSON_REJECT_DUPLICATES is not used: RFC 8259 allows
 * duplicate names.  Where jansson refuses valid JSON for reasons of its
 * own the input is left out of the comparison, recognised by jansson's
 * error text (test_known_differences pins each case down):
 *   - "too big integer": integers outside json_int_t (long long);
 *   - "real number overflow": reals outside double, like 1e400;
 *   - "NUL byte in object key": "\u0000" inside a member name.
 * Its nesting limit, JSON_PARSER_MAX_DEPTH (2048), is matched by giving
 * the scanner a max_depth of 2048 too; jansson counts a scalar as one
 * more level, which only matters right at the limit (test_depth_agrees).
 * And jansson loses a NUL byte read just after a number or a literal,
 * accepting "[1\0]": such inputs are checked to be rejected by us and
 * then left out.  Both parsers reject a
 * byte-order mark, and jansson's check for nothing but whitespace after
 * the value is done on our side by looking at the bytes after *end.
 */

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"


#define DIFF_DEPTH      JSON_PARSER_MAX_DEPTH
#define DIFF_FLAGS      (JSON_DECODE_ANY | JSON_ALLOW_NUL)


typedef struct {
    u_char    *p;
    size_t     len;
    size_t     cap;
} diff_buf_t;

typedef struct {
    uint64_t   s;
} diff_rng_t;

typedef struct {
    size_t     docs;
    size_t     inputs;
    size_t     accepted;
    size_t     excluded;
    char       why[JSON_ERROR_TEXT_LENGTH];    /* of the last exclusion */
} diff_stats_t;


static uint64_t
rng_next(diff_rng_t *r)
{
    uint64_t  z;

    /* splitmix64 */
    r->s += 0x9E3779B97F4A7C15ULL;
    z = r->s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;

    return z ^ (z >> 31);
}


static size_t
rng_below(diff_rng_t *r, size_t n)
{
    return (size_t) (rng_next(r) % n);
}


static void
buf_put(diff_buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }

    memcpy(b->p + b->len, p, n);
    b->len += n;
}


static void
buf_putc(diff_buf_t *b, u_char c)
{
    buf_put(b, &c, 1);
}


static void
buf_puts(diff_buf_t *b, const char *s)
{
    buf_put(b, s, strlen(s));
}


static const char *
show(const u_char *p, size_t len)
{
    static char  out[1024];
    size_t       i, o;

    o = 0;

    for (i = 0; i < len && o < sizeof(out) - 8; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\') {
            out[o++] = p[i];
        } else {
            o += snprintf(out + o, sizeof(out) - o, "\\x%02X", p[i]);
        }
    }

    out[o] = '\0';

    return out;
}


/* ------------------------------------------------------- generator */

static void
gen_ws(diff_rng_t *r, diff_buf_t *b)
{
    static const char  ws[] = " \t\n\r";

    while (rng_below(r, 4) == 0) {
        buf_putc(b, ws[rng_below(r, 4)]);
    }
}


static void
gen_utf8(diff_buf_t *b, uint32_t cp)
{
    u_char  u[4];

    if (cp < 0x80) {
        buf_putc(b, (u_char) cp);

    } else if (cp < 0x800) {
        u[0] = 0xC0 | (cp >> 6);
        u[1] = 0x80 | (cp & 0x3F);
        buf_put(b, u, 2);

    } else if (cp < 0x10000) {
        u[0] = 0xE0 | (cp >> 12);
        u[1] = 0x80 | ((cp >> 6) & 0x3F);
        u[2] = 0x80 | (cp & 0x3F);
        buf_put(b, u, 3);

    } else {
        u[0] = 0xF0 | (cp >> 18);
        u[1] = 0x80 | ((cp >> 12) & 0x3F);
        u[2] = 0x80 | ((cp >> 6) & 0x3F);
        u[3] = 0x80 | (cp & 0x3F);
        buf_put(b, u, 4);
    }
}


/* A code point that is not a surrogate, of a random UTF-8 length. */
static uint32_t
gen_cp(diff_rng_t *r)
{
    uint32_t  cp;

    switch (rng_below(r, 5)) {
    case 0:
        return 0x20 + (uint32_t) rng_below(r, 0x60);
    case 1:
        return 0x80 + (uint32_t) rng_below(r, 0x800 - 0x80);
    case 2:
        cp = 0x800 + (uint32_t) rng_below(r, 0x10000 - 0x800);
        return (cp >= 0xD800 && cp <= 0xDFFF) ? cp - 0x800 : cp;
    case 3:
        return 0x10000 + (uint32_t) rng_below(r, 0x110000 - 0x10000);
    default:
        /* the edges of each length */
        {
            static const uint32_t  edge[] = {
                0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF,
                0x10000, 0x10FFFF
            };

            return edge[rng_below(r, sizeof(edge) / sizeof(edge[0]))];
        }
    }
}


static void
gen_string(diff_rng_t *r, diff_buf_t *b, int key, size_t idx)
{
    char      hex[16];
    size_t    n;
    uint32_t  cp, hi, lo;

    static const char  *esc[] = {
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"
    };

    buf_putc(b, '"');
    n = rng_below(r, 10);

    while (n--) {
        switch (rng_below(r, 8)) {

        case 0:
        case 1:
            buf_puts(b, "plain ascii text, longer than a word");
            buf_put(b, "abcdefgh", rng_below(r, 8));
            break;

        case 2:
            buf_puts(b, esc[rng_below(r, 8)]);
            break;

        case 3:
            cp = gen_cp(r);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                hi = 0xD800 + (cp >> 10);
                lo = 0xDC00 + (cp & 0x3FF);
                snprintf(hex, sizeof(hex), rng_below(r, 2) ? "\\u%04x\\u%04x"
                         : "\\u%04X\\u%04X", hi, lo);
            } else {
                snprintf(hex, sizeof(hex), "\\u%04x", cp);
            }
            buf_puts(b, hex);
            break;

        case 4:
            /* a control character, escaped; keys keep clear of NUL */
            snprintf(hex, sizeof(hex), "\\u%04x",
                     (unsigned) (key ? 1 + rng_below(r, 0x1F)
                                 : rng_below(r, 0x20)));
            buf_puts(b, hex);
            break;

        default:
            cp = gen_cp(r);
            gen_utf8(b, (cp == '"' || cp == '\\') ? 'q' : cp);
        }
    }

    if (key) {
        /* unique among the members: '#' is used nowhere else */
        snprintf(hex, sizeof(hex), "#%zu", idx);
        buf_puts(b, hex);
    }

    buf_putc(b, '"');
}


static void
gen_digits(diff_rng_t *r, diff_buf_t *b, size_t min, size_t max, int lead)
{
    size_t  n;

    n = min + rng_below(r, max - min + 1);

    if (lead && n > 0) {
        buf_putc(b, '1' + rng_below(r, 9));
        n--;
    }

    while (n--) {
        buf_putc(b, '0' + rng_below(r, 10));
    }
}


static void
gen_number(diff_rng_t *r, diff_buf_t *b)
{
    if (rng_below(r, 3) == 0) {
        buf_putc(b, '-');
    }

    /* in range of long long and double, the parts jansson converts */

    if (rng_below(r, 4) == 0) {
        buf_putc(b, '0');
    } else {
        gen_digits(r, b, 1, 15, 1);
    }

    if (rng_below(r, 3) == 0) {
        buf_putc(b, '.');
        gen_digits(r, b, 1, 12, 0);
    }

    if (rng_below(r, 4) == 0) {
        buf_putc(b, "eE"[rng_below(r, 2)]);

        switch (rng_below(r, 3)) {
        case 0:
            buf_putc(b, '+');
            break;
        case 1:
            buf_putc(b, '-');
            break;
        }

        gen_digits(r, b, 1, 2, 0);
    }
}


static void
gen_value(diff_rng_t *r, diff_buf_t *b, unsigned depth)
{
    size_t  i, n;

    switch (rng_below(r, depth < 6 ? 9 : 6)) {

    case 0:
        buf_puts(b, "true");
        break;

    case 1:
        buf_puts(b, "false");
        break;

    case 2:
        buf_puts(b, "null");
        break;

    case 3:
    case 4:
        gen_number(r, b);
        break;

    case 5:
        gen_string(r, b, 0, 0);
        break;

    case 6:
    case 7:
        buf_putc(b, '{');
        gen_ws(r, b);
        n = rng_below(r, 6);

        for (i = 0; i < n; i++) {
            if (i > 0) {
                buf_putc(b, ',');
                gen_ws(r, b);
            }

            gen_string(r, b, 1, i);
            gen_ws(r, b);
            buf_putc(b, ':');
            gen_ws(r, b);
            gen_value(r, b, depth + 1);
            gen_ws(r, b);
        }

        buf_putc(b, '}');
        break;

    default:
        buf_putc(b, '[');
        gen_ws(r, b);
        n = rng_below(r, 6);

        for (i = 0; i < n; i++) {
            if (i > 0) {
                buf_putc(b, ',');
                gen_ws(r, b);
            }

            gen_value(r, b, depth + 1);
            gen_ws(r, b);
        }

        buf_putc(b, ']');
    }
}


static void
gen_doc(diff_rng_t *r, diff_buf_t *b)
{
    b->len = 0;
    gen_ws(r, b);

    /* mostly containers, as uploads are */
    if (rng_below(r, 4) == 0) {
        gen_value(r, b, 0);
    } else {
        gen_value(r, b, 4 + (unsigned) rng_below(r, 2));
    }

    gen_ws(r, b);
}


static void
mutate(diff_rng_t *r, const diff_buf_t *src, diff_buf_t *dst)
{
    size_t  i, k, n, at;

    static const u_char  pick[] = {
        '"', '\\', '[', ']', '{', '}', ',', ':', ' ', '\n', '\v', '0',
        '1', '-', '+', '.', 'e', 'E', 'u', 'x', 't', 'n', 0x00, 0x01,
        0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED,
        0xEF, 0xF0, 0xF4, 0xF5, 0xFF
    };

    dst->len = 0;
    buf_put(dst, src->p, src->len);

    n = 1 + rng_below(r, 3);

    for (k = 0; k < n && dst->len > 0; k++) {
        at = rng_below(r, dst->len);

        switch (rng_below(r, 6)) {

        case 0:
            dst->p[at] = pick[rng_below(r, sizeof(pick))];
            break;

        case 1:
            dst->p[at] = (u_char) rng_next(r);
            break;

        case 2:
            dst->len = at;
            break;

        case 3:
            buf_putc(dst, 0);
            memmove(dst->p + at + 1, dst->p + at, dst->len - at - 1);
            dst->p[at] = pick[rng_below(r, sizeof(pick))];
            break;

        case 4:
            i = 1 + rng_below(r, 4);
            i = xf_min(i, dst->len - at);
            memmove(dst->p + at, dst->p + at + i, dst->len - at - i);
            dst->len -= i;
            break;

        default:
            /* repeat a chunk in place: "[1," -> "[1,[1," */
            i = 1 + rng_below(r, 8);
            i = xf_min(i, dst->len - at);
            buf_put(dst, "........", i);

            /* the chunk stays at at, and its copy moves on with the tail */
            memmove(dst->p + at + i, dst->p + at, dst->len - at - i);
            break;
        }
    }
}


/* ---------------------------------------------------------- compare */

static int
ws_only(const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            return 0;
        }
    }

    return 1;
}


static int
jansson_own_limit(const json_error_t *e)
{
    return strstr(e->text, "too big") != NULL
           || strstr(e->text, "overflow") != NULL
           || strstr(e->text, "NUL byte in object key") != NULL;
}


static json_t *
jansson_load(const u_char *p, size_t len)
{
    json_error_t  e;

    return json_loadb((const char *) p, len, DIFF_FLAGS, &e);
}


/* The value at p, len (one span of ours) equals jansson's j. */
static void
check_value(const u_char *p, size_t len, json_t *j, const char *what)
{
    json_t  *mine;

    mine = jansson_load(p, len);

    ck_assert_msg(mine != NULL && json_equal(mine, j),
                  "%s <%s> differs from jansson's value", what,
                  show(p, len));

    json_decref(mine);
}


static void
check_string(const u_char *p, size_t len, json_t *j)
{
    u_char       *dst;
    size_t        n;
    xf_status_t   rc;

    ck_assert_msg(json_is_string(j), "string span <%s>", show(p, len));

    dst = malloc(len);
    ck_assert_ptr_nonnull(dst);

    rc = xf_json_string_unescape(p, len, dst, len - 2, &n);
    ck_assert_int_eq(rc, XF_OK);
    ck_assert_uint_eq(n, json_string_length(j));
    ck_assert_mem_eq(dst, json_string_value(j), n);

    free(dst);
}


/* Walk our spans and jansson's tree together. */
static void
check_tree(const u_char *p, size_t len, xf_json_type_t type, json_t *j)
{
    size_t            i, n;
    json_t           *v;
    const char       *key;
    xf_status_t       rc;
    xf_json_span_t    span;
    xf_json_split_t   out;
    xf_json_split_conf_t  conf;

    switch (type) {

    case XF_JSON_STRING:
        check_string(p, len, j);
        break;

    case XF_JSON_OBJECT:
        ck_assert(json_is_object(j));

        json_object_keylen_foreach(j, key, n, v) {
            rc = xf_json_object_get(p, len, key, n, &span);
            ck_assert_msg(rc == XF_OK, "member \"%s\" not found in <%s>",
                          key, show(p, len));
            check_value(p + span.off, span.len, v, "member");
            check_tree(p + span.off, span.len, span.type, v);
        }

        rc = xf_json_object_get(p, len, "#none", 5, &span);
        ck_assert_int_eq(rc, XF_ERR_EMPTY);
        break;

    case XF_JSON_ARRAY:
        ck_assert(json_is_array(j));

        /* a lone array splits into its elements */

        conf.max_depth = DIFF_DEPTH;
        conf.max_events = SIZE_MAX;
        memset(&out, 0, sizeof(out));

        rc = xf_json_split(p, len, &conf, &xf_alloc_libc, &out);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(out.n, json_array_size(j));

        for (i = 0; i < out.n; i++) {
            v = json_array_get(j, i);
            check_value(p + out.spans[i].off, out.spans[i].len, v,
                        "element");
            check_tree(p + out.spans[i].off, out.spans[i].len,
                       out.spans[i].type, v);
        }

        free(out.spans);
        break;

    default:
        break;
    }
}


/*
 * Both parsers on one input: 1 when both accept, 0 when both reject,
 * -1 when jansson refused it for a limit of its own.
 */
static int
diff_one(const u_char *p, size_t len, size_t iter, diff_stats_t *st,
    int walk)
{
    int              ours;
    json_t          *j;
    size_t           end, err_off;
    xf_status_t      rc;
    json_error_t     e;
    xf_json_span_t   span;

    st->inputs++;

    rc = xf_json_scan_value(p, len, DIFF_DEPTH, &span, &end, &err_off);
    ours = (rc == XF_OK && ws_only(p + end, len - end));

    j = json_loadb((const char *) p, len, DIFF_FLAGS, &e);

    if (j == NULL && jansson_own_limit(&e)) {
        st->excluded++;
        snprintf(st->why, sizeof(st->why), "%s", e.text);
        return -1;
    }

    if (j != NULL && memchr(p, '\0', len) != NULL) {
        /*
         * jansson reads one byte ahead after a number or a literal and
         * puts it back; a NUL byte put back is lost, so "[1\0]" and
         * "true\0" pass.  A raw NUL byte is never valid JSON.
         */
        ck_assert_msg(!ours, "iteration %zu: NUL byte accepted in <%s>",
                      iter, show(p, len));
        json_decref(j);
        st->excluded++;
        snprintf(st->why, sizeof(st->why), "NUL byte after a token");
        return -1;
    }

    ck_assert_msg(ours == (j != NULL),
                  "iteration %zu: xf_json %s (%s at %zu), jansson %s (%s) "
                  "on <%s>", iter, ours ? "accepts" : "rejects",
                  xf_strerror(rc), rc == XF_OK ? end : err_off,
                  j ? "accepts" : "rejects", j ? "" : e.text, show(p, len));

    if (j == NULL) {
        return 0;
    }

    st->accepted++;

    if (walk) {
        check_tree(p + span.off, span.len, span.type, j);
    }

    json_decref(j);

    return 1;
}


/* ------------------------------------------------------------ tests */

START_TEST(test_generated_valid)
{
    size_t         i;
    diff_buf_t     doc;
    diff_rng_t     r;
    diff_stats_t   st;

    memset(&doc, 0, sizeof(doc));
    memset(&st, 0, sizeof(st));
    r.s = 20241125;

    for (i = 0; i < 3000; i++) {
        gen_doc(&r, &doc);

        ck_assert_msg(diff_one(doc.p, doc.len, i, &st, 1) == 1,
                      "iteration %zu: generated document left out (%s): <%s>",
                      i, st.why, show(doc.p, doc.len));
    }

    free(doc.p);
}
END_TEST


START_TEST(test_mutations)
{
    size_t         i, k;
    diff_buf_t     doc, mut;
    diff_rng_t     r;
    diff_stats_t   st;

    memset(&doc, 0, sizeof(doc));
    memset(&mut, 0, sizeof(mut));
    memset(&st, 0, sizeof(st));
    r.s = 8259;

    for (i = 0; i < 10000; i++) {
        gen_doc(&r, &doc);

        for (k = 0; k < 25; k++) {
            mutate(&r, &doc, &mut);
            diff_one(mut.p, mut.len, i * 100 + k, &st, 1);
        }
    }

    /* the mutations must hit both sides, and exclusions stay rare */

    ck_assert_uint_gt(st.accepted, st.inputs / 50);
    ck_assert_uint_lt(st.accepted, st.inputs / 2);
    ck_assert_uint_lt(st.excluded, st.inputs / 100);

    free(doc.p);
    free(mut.p);
}
END_TEST


/* Random bytes over a JSON alphabet: mostly rejected, never disputed. */
START_TEST(test_random_tokens)
{
    size_t         i, k, n;
    diff_buf_t     in;
    diff_rng_t     r;
    diff_stats_t   st;

    static const char  *tok[] = {
        "{", "}", "[", "]", ",", ":", " ", "\"a\"", "\"\\u00e9\"", "0",
        "-1", "1.5", "2e3", "true", "null", "\"\\ud83d\\ude00\"", "\"",
        "\\", "\n", "\xC3\xA9", "{\"k\":", "[1,"
    };

    memset(&in, 0, sizeof(in));
    memset(&st, 0, sizeof(st));
    r.s = 1;

    for (i = 0; i < 100000; i++) {
        in.len = 0;
        n = 1 + rng_below(&r, 8);

        for (k = 0; k < n; k++) {
            buf_puts(&in, tok[rng_below(&r, sizeof(tok) / sizeof(tok[0]))]);
        }

        diff_one(in.p, in.len, i, &st, 1);
    }

    ck_assert_uint_gt(st.accepted, 1000);

    free(in.p);
}
END_TEST


/*
 * Nesting around jansson's limit.  Containers alone: both stop at the
 * same level.  jansson also counts a scalar as a level of its own, so a
 * number inside 2048 containers is over its limit and within ours; the
 * generated documents stay far below the limit, where that cannot show.
 */
START_TEST(test_depth_agrees)
{
    u_char          *p;
    json_t          *j;
    size_t           d, i, len, end, err_off;
    xf_status_t      rc;
    json_error_t     e;
    diff_stats_t     st;
    xf_json_span_t   span;

    static const size_t  depths[] = { 1, 2, 100, 2047, 2048, 2049, 3000 };

    memset(&st, 0, sizeof(st));

    for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        d = depths[i];
        p = malloc(6 * d + 1);
        ck_assert_ptr_nonnull(p);

        memset(p, '[', d);
        memset(p + d, ']', d);
        ck_assert_int_eq(diff_one(p, 2 * d, d, &st, 0), d <= DIFF_DEPTH);

        for (len = 0; len < d; len++) {
            memcpy(p + 5 * len, "{\"a\":", 5);
        }

        p[5 * d] = '0';
        memset(p + 5 * d + 1, '}', d);
        len = 6 * d + 1;

        rc = xf_json_scan_value(p, len, DIFF_DEPTH, &span, &end, &err_off);
        ck_assert_int_eq(rc, d <= DIFF_DEPTH ? XF_OK : XF_ERR_JSON_DEPTH);

        j = json_loadb((char *) p, len, DIFF_FLAGS, &e);
        ck_assert_int_eq(j != NULL, d < DIFF_DEPTH);
        json_decref(j);

        free(p);
    }
}
END_TEST


/*
 * The inputs left out of the comparison, pinned down: valid JSON that
 * jansson refuses for its own limits.
 */
START_TEST(test_known_differences)
{
    static const char  *cases[] = {
        "123456789012345678901234567890",
        "-9223372036854775809",
        "[9223372036854775808]",
        "1e400",
        "-1.5E+999",
        "{\"a\\u0000b\":1}",
    };

    size_t           i, end, err_off;
    json_t          *j;
    xf_status_t      rc;
    json_error_t     e;
    xf_json_span_t   span;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = xf_json_scan_value((const u_char *) cases[i], strlen(cases[i]),
                                DIFF_DEPTH, &span, &end, &err_off);
        ck_assert_int_eq(rc, XF_OK);
        ck_assert_uint_eq(end, strlen(cases[i]));

        j = json_loadb(cases[i], strlen(cases[i]), DIFF_FLAGS, &e);
        ck_assert_msg(j == NULL && jansson_own_limit(&e),
                      "jansson on %s: %s", cases[i], j ? "ok" : e.text);
    }

    /* limits it does not have: these agree */

    j = json_loadb("[1e-400,9223372036854775807]", 28, DIFF_FLAGS, &e);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
}
END_TEST


Suite *
make_json_diff_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("json_diff");

    tc = tcase_create("core");
    tcase_add_test(tc, test_generated_valid);
    tcase_add_test(tc, test_known_differences);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_depth_agrees);
    suite_add_tcase(s, tc);

    /* 250,000 mutated documents through both parsers: about 8 s under
     * ASan on a quiet core; the limit only catches a hang */
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_random_tokens);
    suite_add_tcase(s, tc);

    return s;
}
