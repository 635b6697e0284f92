/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-cookie.c - Cookie header parsing, name patterns and the "cookies"
 * member: a table of headers, hostile ones (10 KB, 1000 cookies, quotes,
 * pairs without '='), and the rule that no value is ever written.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_cookie.h"
#include "xf_json.h"


#define KEY32  "0123456789abcdef0123456789abcdef"


static xf_hashref_t *
make_key(void)
{
    xf_hashref_t  *h;

    ck_assert_ptr_null(xf_hashref_create((const u_char *) KEY32, 32,
                                         (const u_char *) "k1", 2,
                                         &xf_alloc_libc, &h));
    return h;
}


/* The header parsed into "name=value|" items, '~' for an empty name. */
static void
parse(const char *hdr, char *out, size_t cap)
{
    size_t          o;
    xf_cookie_t     c;
    const u_char   *pos, *end;

    o = 0;
    out[0] = '\0';
    pos = (const u_char *) hdr;
    end = pos + strlen(hdr);

    while (xf_cookie_next(&pos, end, &c)) {
        o += snprintf(out + o, cap - o, "%.*s=%.*s|",
                      c.name_len ? (int) c.name_len : 1,
                      c.name_len ? (const char *) c.name : "~",
                      (int) c.value_len, (const char *) c.value);
        ck_assert_uint_lt(o, cap);
    }

    ck_assert_ptr_eq(pos, end);
}


static const struct {
    const char  *hdr;
    const char  *parsed;
} parse_table[] = {
    { "", "" },
    { "a=1", "a=1|" },
    { "a=1; b=2", "a=1|b=2|" },
    { "a=1;b=2", "a=1|b=2|" },
    { "  a = 1 ;\tb=2\t; ", "a=1|b=2|" },
    { "a=1;;; ;b=2;", "a=1|b=2|" },
    { "a=", "a=|" },
    { "=v", "~=v|" },
    { "=", "~=|" },
    { "novalue", "~=novalue|" },
    { "x=a=b==", "x=a=b==|" },
    { "q=\"quoted\"", "q=\"quoted\"|" },
    { "q=\"semi;colon\"", "q=\"semi|~=colon\"|" },
    { "a b=1", "a b=1|" },
    { ";;;", "" },
    { "sensorsdata2015jssdkcross=%7B%22distinct_id%22%3A%2218c%22%7D",
      "sensorsdata2015jssdkcross=%7B%22distinct_id%22%3A%2218c%22%7D|" },
};


START_TEST(test_parse_table)
{
    char  out[512];

    parse(parse_table[_i].hdr, out, sizeof(out));
    ck_assert_str_eq(out, parse_table[_i].parsed);
}
END_TEST


START_TEST(test_patterns)
{
    xf_cookie_pattern_t  p[3];

    ck_assert_ptr_null(xf_cookie_pattern(&p[0], (const u_char *) "sid", 3));
    ck_assert_uint_eq(p[0].prefix, 0);
    ck_assert_ptr_null(xf_cookie_pattern(&p[1], (const u_char *) "ph_*", 4));
    ck_assert_uint_eq(p[1].prefix, 1);
    ck_assert_uint_eq(p[1].len, 3);

    ck_assert(xf_cookie_match(p, 2, (const u_char *) "sid", 3));
    ck_assert(!xf_cookie_match(p, 2, (const u_char *) "sid2", 4));
    ck_assert(!xf_cookie_match(p, 2, (const u_char *) "si", 2));
    ck_assert(xf_cookie_match(p, 2, (const u_char *) "ph_", 3));
    ck_assert(xf_cookie_match(p, 2, (const u_char *) "ph_phc_x_posthog", 16));
    ck_assert(!xf_cookie_match(p, 2, (const u_char *) "PH_x", 4));
    ck_assert(!xf_cookie_match(p, 2, (const u_char *) "", 0));

    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "", 0));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "*", 1));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "a*b", 3));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "a=b", 3));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "a b", 3));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "a;", 2));
    ck_assert_ptr_nonnull(xf_cookie_pattern(&p[2], (const u_char *) "a**", 3));
}
END_TEST


static size_t
member(xf_hashref_t *h, const char **names, size_t n, size_t max_refs,
    const char *hdr, u_char *out, size_t cap)
{
    size_t               i, len;
    xf_cookie_pattern_t  pats[8];

    for (i = 0; i < n; i++) {
        ck_assert_ptr_null(xf_cookie_pattern(&pats[i],
                                             (const u_char *) names[i],
                                             strlen(names[i])));
    }

    ck_assert_int_eq(xf_cookie_member(h, pats, n, max_refs,
                                      (const u_char *) hdr, strlen(hdr), out,
                                      cap, &len),
                     XF_OK);

    return len;
}


static void
ref(xf_hashref_t *h, const char *name, const char *value, char *out)
{
    xf_hashref_cookie(h, (const u_char *) name, strlen(name),
                      (const u_char *) value, strlen(value), (u_char *) out);
    out[XF_HASHREF_LEN] = '\0';
}


START_TEST(test_member_exact)
{
    char           a[XF_HASHREF_LEN + 1], b[XF_HASHREF_LEN + 1];
    char           want[256];
    u_char         out[512];
    size_t         n;
    xf_hashref_t  *h;
    const char    *names[] = { "sensorsdata2015jssdkcross", "ph_*" };

    h = make_key();

    ref(h, "sensorsdata2015jssdkcross", "%7B%22d%22%7D", a);
    ref(h, "ph_phc_abc_posthog", "{\"x\":1}", b);

    n = member(h, names, 2, 8,
               "_ga=GA1.2.3; sensorsdata2015jssdkcross=%7B%22d%22%7D; "
               "ph_phc_abc_posthog={\"x\":1}; other=secret",
               out, sizeof(out));

    snprintf(want, sizeof(want),
             ",\"cookies\":{\"sensorsdata2015jssdkcross\":\"%s\","
             "\"ph_phc_abc_posthog\":\"%s\"}", a, b);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(out, want, n);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_member_none)
{
    u_char         out[512];
    xf_hashref_t  *h;
    const char    *names[] = { "sid" };

    h = make_key();

    ck_assert_uint_eq(member(h, names, 1, 8, "", out, sizeof(out)), 0);
    ck_assert_uint_eq(member(h, names, 1, 8, "a=1; sidx=2; =sid; sid",
                             out, sizeof(out)), 0);
    ck_assert_uint_eq(member(h, names, 0, 8, "sid=1", out, sizeof(out)), 0);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_member_first_wins)
{
    char           a[XF_HASHREF_LEN + 1], want[128];
    u_char         out[512];
    size_t         n;
    xf_hashref_t  *h;
    const char    *names[] = { "sid" };

    h = make_key();
    ref(h, "sid", "first", a);

    n = member(h, names, 1, 8, "sid=first; sid=second;sid=third", out,
               sizeof(out));
    snprintf(want, sizeof(want), ",\"cookies\":{\"sid\":\"%s\"}", a);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(out, want, n);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_member_quotes_and_escaping)
{
    char           a[XF_HASHREF_LEN + 1], b[XF_HASHREF_LEN + 1], want[256];
    u_char         out[512];
    size_t         n, end, err;
    xf_hashref_t  *h;
    xf_json_span_t span;
    const char    *names[] = { "q*" };

    h = make_key();

    /* quotes stay in the value; a name with a backslash-free oddity */
    ref(h, "q", "\"v\"", a);
    ref(h, "q\x01\xff", "1", b);

    n = member(h, names, 1, 8, "q=\"v\"; q\x01\xff=1", out, sizeof(out));
    snprintf(want, sizeof(want),
             ",\"cookies\":{\"q\":\"%s\",\"q\\u0001\xef\xbf\xbd\":\"%s\"}",
             a, b);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(out, want, n);

    /* the member, wrapped in braces, is valid JSON */
    out[0] = '{';
    out[n] = '}';
    ck_assert_int_eq(xf_json_scan_value(out, n + 1, 4, &span, &end, &err),
                     XF_OK);
    ck_assert_uint_eq(end, n + 1);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_member_never_holds_values)
{
    u_char         out[4096];
    size_t         n;
    xf_hashref_t  *h;
    const char    *names[] = { "sid", "ph_*" };

    h = make_key();

    n = member(h, names, 2, 8,
               "sid=SECRETVALUE1; ph_x=SECRETVALUE2; other=SECRETVALUE3; "
               "SECRETVALUE4", out, sizeof(out));
    ck_assert_uint_gt(n, 0);
    ck_assert_ptr_null(memmem(out, n, "SECRET", 6));

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


START_TEST(test_member_buffer)
{
    u_char               out[64];
    size_t               len;
    xf_hashref_t        *h;
    xf_cookie_pattern_t  pat;
    const char          *hdr = "sid=1; sid2=2";

    h = make_key();
    xf_cookie_pattern(&pat, (const u_char *) "sid*", 4);

    ck_assert_int_eq(xf_cookie_member(h, &pat, 1, 8, (const u_char *) hdr,
                                      strlen(hdr), out, 40, &len),
                     XF_ERR_BUFFER);
    ck_assert_int_eq(xf_cookie_member(h, &pat, 1, 8, (const u_char *) hdr,
                                      strlen(hdr), out, 12, &len),
                     XF_ERR_BUFFER);
    ck_assert_int_eq(xf_cookie_member(h, &pat, 1, 1, (const u_char *) hdr,
                                      strlen(hdr), out, sizeof(out), &len),
                     XF_OK);
    ck_assert_uint_eq(len, strlen(",\"cookies\":{\"sid\":\"\"}")
                           + XF_HASHREF_LEN);

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/* 1000 cookies in about 10 KB, all matching a prefix: capped, bounded. */
START_TEST(test_hostile_many)
{
    int             i;
    char           *hdr;
    u_char         *out;
    size_t          o, n, len, count, bound, end, err;
    xf_hashref_t   *h;
    xf_cookie_t     c;
    xf_json_span_t  span;
    const u_char   *pos;
    xf_cookie_pattern_t  pat;

    h = make_key();
    xf_cookie_pattern(&pat, (const u_char *) "c*", 2);

    hdr = malloc(16384);
    o = 0;

    for (i = 0; i < 1000; i++) {
        o += sprintf(hdr + o, "%sc%d=v%d", i ? "; " : "", i, i);
    }

    ck_assert_uint_gt(o, 10000);

    count = 0;
    pos = (const u_char *) hdr;

    while (xf_cookie_next(&pos, (const u_char *) hdr + o, &c)) {
        count++;
    }

    ck_assert_uint_eq(count, 1000);

    bound = xf_cookie_member_bound(o, XF_COOKIE_REFS_MAX);
    out = malloc(bound + 1);

    ck_assert_int_eq(xf_cookie_member(h, &pat, 1, 1000, (const u_char *) hdr,
                                      o, out, bound, &len),
                     XF_OK);

    /* capped at XF_COOKIE_REFS_MAX references */
    n = 0;
    for (o = 0; o + XF_HASHREF_LEN < len; o++) {
        if (out[o] == ':' && out[o + 1] == '"') {
            n++;
        }
    }
    ck_assert_uint_eq(n, XF_COOKIE_REFS_MAX);

    out[0] = '{';
    out[len] = '}';
    ck_assert_int_eq(xf_json_scan_value(out, len + 1, 4, &span, &end, &err),
                     XF_OK);
    ck_assert_uint_eq(end, len + 1);

    free(out);
    free(hdr);
    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/* One 10 KB cookie, one of quotes only, one long name without '='. */
START_TEST(test_hostile_large)
{
    char           *hdr;
    u_char         *out;
    size_t          len, bound;
    xf_hashref_t   *h;
    xf_cookie_pattern_t  pats[1];

    h = make_key();
    xf_cookie_pattern(&pats[0], (const u_char *) "big", 3);

    hdr = malloc(3 * 10240 + 64);
    memcpy(hdr, "big=", 4);
    memset(hdr + 4, 'x', 10240);
    memcpy(hdr + 4 + 10240, "; q=", 4);
    memset(hdr + 8 + 10240, '"', 10240);
    memcpy(hdr + 8 + 20480, "; ", 2);
    memset(hdr + 10 + 20480, 'n', 10240);
    len = 10 + 3 * 10240;

    bound = xf_cookie_member_bound(len, 8);
    out = malloc(bound);

    ck_assert_int_eq(xf_cookie_member(h, pats, 1, 8, (const u_char *) hdr,
                                      len, out, bound, &len),
                     XF_OK);
    ck_assert_uint_eq(len, strlen(",\"cookies\":{\"big\":\"\"}")
                           + XF_HASHREF_LEN);

    free(out);
    free(hdr);
    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


/*
 * xf_cookie_keep() over the cookies of several headers, then
 * xf_cookie_render(), is xf_cookie_member() of the headers joined with
 * "; ": the header is cut at every byte into two, and the refs limit
 * stops at each count.
 */
START_TEST(test_keep_render)
{
    u_char               want[1024], got[1024];
    size_t               cut, k, n, wn, gn, max_refs;
    xf_cookie_t          c, kept[XF_COOKIE_REFS_MAX];
    xf_hashref_t        *h;
    const u_char        *pos, *end;
    xf_cookie_pattern_t  pats[2];
    char                 joined[600], one[256], two[256];
    const char          *hdr;

    h = make_key();
    hdr = "a=1; ph_x=2;sid=3; ph_x=4; ph_y=\"5\" ;;sid=6; b";

    ck_assert_ptr_null(xf_cookie_pattern(&pats[0], (const u_char *) "sid",
                                         3));
    ck_assert_ptr_null(xf_cookie_pattern(&pats[1], (const u_char *) "ph_*",
                                         4));

    for (max_refs = 1; max_refs <= 4; max_refs++) {
        for (cut = 0; cut <= strlen(hdr); cut++) {
            snprintf(one, sizeof(one), "%.*s", (int) cut, hdr);
            snprintf(two, sizeof(two), "%s", hdr + cut);
            snprintf(joined, sizeof(joined), "%s; %s", one, two);

            ck_assert_int_eq(xf_cookie_member(h, pats, 2, max_refs,
                                              (const u_char *) joined,
                                              strlen(joined), want,
                                              sizeof(want), &wn), XF_OK);

            n = 0;

            for (k = 0; k < 2; k++) {
                pos = (const u_char *) (k ? two : one);
                end = pos + strlen((const char *) pos);

                while (xf_cookie_next(&pos, end, &c)) {
                    (void) xf_cookie_keep(pats, 2, max_refs, &c, kept, &n);
                }
            }

            ck_assert_int_eq(xf_cookie_render(h, kept, n, got, sizeof(got),
                                              &gn), XF_OK);
            ck_assert_uint_eq(gn, wn);
            ck_assert_int_eq(memcmp(got, want, wn), 0);
        }
    }

    xf_hashref_destroy(h, &xf_alloc_libc);
}
END_TEST


Suite *
make_cookie_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("cookie");

    tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_table, 0,
                        sizeof(parse_table) / sizeof(parse_table[0]));
    tcase_add_test(tc, test_patterns);
    suite_add_tcase(s, tc);

    tc = tcase_create("member");
    tcase_add_test(tc, test_member_exact);
    tcase_add_test(tc, test_member_none);
    tcase_add_test(tc, test_member_first_wins);
    tcase_add_test(tc, test_member_quotes_and_escaping);
    tcase_add_test(tc, test_member_never_holds_values);
    tcase_add_test(tc, test_member_buffer);
    tcase_add_test(tc, test_keep_render);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_test(tc, test_hostile_many);
    tcase_add_test(tc, test_hostile_large);
    suite_add_tcase(s, tc);

    return s;
}
