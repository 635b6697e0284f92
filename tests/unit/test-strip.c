/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-strip.c - field stripping: exact output bytes for drops (first,
 * middle, last, only, runs), hashes of every JSON type, nested and
 * escaped paths, whitespace kept, the unchanged fast path, and validity
 * of every output.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_strip.h"
#include "xf_json.h"


#define KEY32  "0123456789abcdef0123456789abcdef"


static xf_hashref_t     *key;
static xf_strip_rule_t   rules[16];
static xf_strip_conf_t   conf;


static void
setup(void)
{
    ck_assert_ptr_null(xf_hashref_create((const u_char *) KEY32, 32,
                                         (const u_char *) "k1", 2,
                                         &xf_alloc_libc, &key));
    conf.rules = rules;
    conf.n = 0;
    conf.h = key;
}


static void
teardown(void)
{
    xf_hashref_destroy(key, &xf_alloc_libc);
}


static void
rule(const char *path, xf_strip_action_t action)
{
    ck_assert_ptr_null(xf_strip_rule_init(&rules[conf.n],
                                          (const u_char *) path,
                                          strlen(path), action));
    conf.n++;
}


/*
 * Strip in, check that the output (or the input when unchanged) is one
 * valid JSON object, and return it in a static buffer.
 */
static const char *
strip(const char *in)
{
    u_char          *dst;
    size_t           len, n, end, err;
    xf_json_span_t   span;
    static char      out[16384];

    len = strlen(in);

    /* the input must be what the scanner accepts */
    ck_assert_int_eq(xf_json_scan_value((const u_char *) in, len, 64, &span,
                                        &end, &err), XF_OK);
    ck_assert_uint_eq(span.len, len);

    /* an exact-size buffer, so ASan sees a write past the bound */
    dst = malloc(xf_strip_bound(len));
    ck_assert_int_eq(xf_strip(&conf, &xf_alloc_libc, (const u_char *) in,
                              len, dst, xf_strip_bound(len), &n), XF_OK);

    if (n == 0) {
        ck_assert_uint_lt(len, sizeof(out));
        memcpy(out, in, len + 1);

    } else {
        ck_assert_uint_lt(n, sizeof(out));
        memcpy(out, dst, n);
        out[n] = '\0';
    }

    free(dst);

    ck_assert_int_eq(xf_json_scan_value((const u_char *) out, strlen(out), 64,
                                        &span, &end, &err), XF_OK);
    ck_assert_uint_eq(span.len, strlen(out));
    ck_assert_int_eq(span.type, XF_JSON_OBJECT);

    return out;
}


/* "REF" of a value: tag 'f' over a string's text, 'j' over JSON text. */
static const char *
ref(u_char tag, const char *text)
{
    static char  r[4][XF_HASHREF_LEN + 1];
    static int   k;

    k = (k + 1) % 4;
    xf_hashref(key, tag, (const u_char *) text, strlen(text), (u_char *) r[k]);
    r[k][XF_HASHREF_LEN] = '\0';

    return r[k];
}


static const struct {
    const char  *drop;
    const char  *in;
    const char  *out;
} drop_table[] = {
    /* first, middle, last, only */
    { "a", "{\"a\":1,\"b\":2,\"c\":3}", "{\"b\":2,\"c\":3}" },
    { "b", "{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"c\":3}" },
    { "c", "{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":2}" },
    { "a", "{\"a\":1}", "{}" },
    /* whitespace of the others kept */
    { "a", "{ \"a\" : 1 , \"b\" : 2 }", "{ \"b\" : 2 }" },
    { "b", "{ \"a\" : 1 , \"b\" : 2 , \"c\" : 3 }",
      "{ \"a\" : 1 , \"c\" : 3 }" },
    { "c", "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}",
      "{\n  \"a\": 1,\n  \"b\": 2\n}" },
    { "a", "{ \"a\":1 }", "{  }" },
    /* values of every type */
    { "v", "{\"v\":{\"x\":[1,{\"y\":\"}\"}]},\"k\":true}", "{\"k\":true}" },
    { "v", "{\"k\":null,\"v\":[\"]\",\"\\\"\"]}", "{\"k\":null}" },
    { "v", "{\"k\":-1.5e3,\"v\":\"s,}\",\"z\":false}",
      "{\"k\":-1.5e3,\"z\":false}" },
    /* duplicates: every one goes */
    { "a", "{\"a\":1,\"b\":2,\"a\":3}", "{\"b\":2}" },
    { "a", "{\"a\":1,\"a\":2}", "{}" },
    /* names compared unescaped; a key that only looks alike stays */
    { "$ip", "{\"\\u0024ip\":\"1.2.3.4\",\"$IP\":1}", "{\"$IP\":1}" },
    { "a", "{\"a \":1,\"A\":2,\"\\\"a\":3}",
      "{\"a \":1,\"A\":2,\"\\\"a\":3}" },
    /* nested */
    { "properties.$ip",
      "{\"event\":\"x\",\"properties\":{\"$ip\":\"1.2.3.4\",\"k\":1}}",
      "{\"event\":\"x\",\"properties\":{\"k\":1}}" },
    { "properties.$ip",
      "{\"properties\":{\"k\":1,\"$ip\":\"1.2.3.4\"},\"event\":\"x\"}",
      "{\"properties\":{\"k\":1},\"event\":\"x\"}" },
    { "a.b.c", "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"c\":3},\"c\":4}",
      "{\"a\":{\"b\":{\"d\":2},\"c\":3},\"c\":4}" },
    /* paths do not enter arrays or non-objects */
    { "a.b", "{\"a\":[{\"b\":1}],\"b\":2}", "{\"a\":[{\"b\":1}],\"b\":2}" },
    { "a.b", "{\"a\":\"{\\\"b\\\":1}\"}", "{\"a\":\"{\\\"b\\\":1}\"}" },
    { "a.b", "{\"a\":1}", "{\"a\":1}" },
    /* empty objects and names */
    { "a", "{}", "{}" },
    { "a", "{ }", "{ }" },
    { "a", "{\"\":1,\"a\":{}}", "{\"\":1}" },
};


START_TEST(test_drop_table)
{
    rule(drop_table[_i].drop, XF_STRIP_DROP);
    ck_assert_str_eq(strip(drop_table[_i].in), drop_table[_i].out);
}
END_TEST


/* Runs of dropped members, every pattern of 4 members. */
START_TEST(test_drop_runs)
{
    int          m, j;
    char         in[64], want[64];
    const char  *o;

    static const char  *names[] = { "a", "b", "c", "d" };

    for (j = 0; j < 4; j++) {
        if (_i & (1 << j)) {
            rule(names[j], XF_STRIP_DROP);
        }
    }

    strcpy(in, "{\"a\":0, \"b\":1, \"c\":2, \"d\":3}");

    /* expected: kept members joined by ", " */
    strcpy(want, "{");
    for (m = 0, j = 0; j < 4; j++) {
        if (!(_i & (1 << j))) {
            sprintf(want + strlen(want), "%s\"%c\":%d", m++ ? ", " : "",
                    'a' + j, j);
        }
    }
    strcat(want, "}");

    o = strip(in);
    ck_assert_str_eq(o, want);
}
END_TEST


START_TEST(test_hash_all_types)
{
    char  want[512];

    rule("s", XF_STRIP_HASH);
    rule("e", XF_STRIP_HASH);
    rule("n", XF_STRIP_HASH);
    rule("t", XF_STRIP_HASH);
    rule("f", XF_STRIP_HASH);
    rule("z", XF_STRIP_HASH);
    rule("o", XF_STRIP_HASH);
    rule("a", XF_STRIP_HASH);

    /* build it piecewise: ref() keeps only four results at a time */
    snprintf(want, sizeof(want),
             "{\"s\":\"%s\",\"e\":\"%s\",\"n\":\"%s\",\"t\":\"%s\",",
             ref('f', "Mozilla/5.0"), ref('f', "a\"b/\xc3\xa9"),
             ref('j', "-1.5e+3"), ref('j', "true"));
    snprintf(want + strlen(want), sizeof(want) - strlen(want),
             "\"x\":1,\"f\":\"%s\",\"z\":\"%s\",\"o\":\"%s\",\"a\":\"%s\"}",
             ref('j', "false"), ref('j', "null"),
             ref('j', "{ \"k\" : [1] }"), ref('j', "[ ]"));

    ck_assert_str_eq(strip("{\"s\":\"Mozilla/5.0\",\"e\":\"a\\\"b\\/\\u00e9\","
                           "\"n\":-1.5e+3,\"t\":true,\"x\":1,\"f\":false,"
                           "\"z\":null,\"o\":{ \"k\" : [1] },\"a\":[ ]}"),
                     want);
}
END_TEST


START_TEST(test_hash_separates_types)
{
    char  a[64], b[64];

    rule("v", XF_STRIP_HASH);

    strcpy(a, strip("{\"v\":\"1\"}"));
    strcpy(b, strip("{\"v\":1}"));
    ck_assert_str_ne(a, b);

    /* a string is hashed as its text: escapes do not matter */
    strcpy(a, strip("{\"v\":\"ab\"}"));
    strcpy(b, strip("{\"v\":\"\\u0061\\u0062\"}"));
    ck_assert_str_eq(a, b);

    /* the field tag is not the User-Agent tag */
    snprintf(b, sizeof(b), "{\"v\":\"%s\"}", ref('u', "ab"));
    ck_assert_str_ne(a, b);
}
END_TEST


START_TEST(test_hash_nested_and_whitespace)
{
    char  want[512];

    rule("properties.$user_agent", XF_STRIP_HASH);
    rule("context.userAgent", XF_STRIP_HASH);
    rule("lib.$ua", XF_STRIP_HASH);
    rule("properties.$ip", XF_STRIP_DROP);

    snprintf(want, sizeof(want),
             "{ \"properties\" : { \"$user_agent\" : \"%s\" ,\n"
             "\t\"k\" : [ 1 , 2 ] } ,\n"
             "  \"context\":{\"userAgent\":\"%s\"}, \"lib\":{\"$ua\":\"%s\"} }",
             ref('f', "UA1"), ref('f', "UA2"), ref('f', "UA3"));

    ck_assert_str_eq(strip("{ \"properties\" : { \"$user_agent\" : \"UA1\" ,\n"
                           "\t\"$ip\" : \"10.0.0.1\" ,\n"
                           "\t\"k\" : [ 1 , 2 ] } ,\n"
                           "  \"context\":{\"userAgent\":\"UA2\"}, "
                           "\"lib\":{\"$ua\":\"UA3\"} }"),
                     want);
}
END_TEST


START_TEST(test_precedence)
{
    char  want[128];

    /* drop beats hash on one member */
    rule("a", XF_STRIP_HASH);
    rule("a", XF_STRIP_DROP);
    ck_assert_str_eq(strip("{\"a\":1,\"b\":2}"), "{\"b\":2}");

    /* an action on a member beats rules inside its value */
    conf.n = 0;
    rule("p.x", XF_STRIP_DROP);
    rule("p", XF_STRIP_HASH);
    snprintf(want, sizeof(want), "{\"p\":\"%s\"}", ref('j', "{\"x\":1}"));
    ck_assert_str_eq(strip("{\"p\":{\"x\":1}}"), want);
}
END_TEST


START_TEST(test_unchanged_writes_nothing)
{
    u_char       dst[64];
    size_t       n;
    const char  *in = "{\"a\":{\"b\":1},\"c\":[{\"d\":2}]}";

    rule("x", XF_STRIP_DROP);
    rule("a.x", XF_STRIP_HASH);
    rule("c.d", XF_STRIP_DROP);

    memset(dst, 0xee, sizeof(dst));
    ck_assert_int_eq(xf_strip(&conf, &xf_alloc_libc, (const u_char *) in,
                              strlen(in), dst, 0, &n), XF_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(dst[0], 0xee);

    /* no rules at all */
    conf.n = 0;
    ck_assert_int_eq(xf_strip(&conf, &xf_alloc_libc, (const u_char *) in,
                              strlen(in), dst, 0, &n), XF_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST


START_TEST(test_errors)
{
    u_char       dst[64];
    size_t       n;
    const char  *in = "{\"a\":1,\"b\":2}";

    rule("a", XF_STRIP_HASH);

    ck_assert_int_eq(xf_strip(&conf, &xf_alloc_libc, (const u_char *) "[1]",
                              3, dst, sizeof(dst), &n), XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(xf_strip(&conf, &xf_alloc_libc, (const u_char *) in,
                              strlen(in), dst, 10, &n), XF_ERR_BUFFER);
    ck_assert_uint_eq(n, 0);
}
END_TEST


/* The bound holds for the worst case: many one-byte hashed values. */
START_TEST(test_bound)
{
    int          i;
    char         in[2048];
    size_t       o;
    const char  *out;

    rule("k", XF_STRIP_HASH);

    o = 0;
    in[o++] = '{';
    for (i = 0; i < 300; i++) {
        o += sprintf(in + o, "%s\"k\":1", i ? "," : "");
    }
    in[o++] = '}';
    in[o] = '\0';

    out = strip(in);
    ck_assert_uint_eq(strlen(out), o + 300 * 23);
}
END_TEST


START_TEST(test_rule_init)
{
    char             long_seg[300];
    xf_strip_rule_t  r;

    static const u_char  deep[] = "1.2.3.4.5.6.7.8.9";

    ck_assert_ptr_null(xf_strip_rule_init(&r, (const u_char *) "a.bc.d", 6,
                                          XF_STRIP_DROP));
    ck_assert_uint_eq(r.nseg, 3);
    ck_assert_uint_eq(r.seg_off[1], 2);
    ck_assert_uint_eq(r.seg_len[1], 2);

    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, (const u_char *) "", 0,
                                             XF_STRIP_DROP));
    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, (const u_char *) ".a", 2,
                                             XF_STRIP_DROP));
    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, (const u_char *) "a.", 2,
                                             XF_STRIP_DROP));
    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, (const u_char *) "a..b", 4,
                                             XF_STRIP_DROP));
    ck_assert_ptr_null(xf_strip_rule_init(&r, deep, 15, XF_STRIP_DROP));
    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, deep, 17, XF_STRIP_DROP));

    memset(long_seg, 'x', sizeof(long_seg));
    ck_assert_ptr_null(xf_strip_rule_init(&r, (const u_char *) long_seg, 255,
                                          XF_STRIP_DROP));
    ck_assert_ptr_nonnull(xf_strip_rule_init(&r, (const u_char *) long_seg, 256,
                                             XF_STRIP_DROP));
}
END_TEST


/* A long escaped name is compared too; a longer one never matches. */
START_TEST(test_escaped_long_name)
{
    int    i;
    char   in[4096], path[256];
    size_t o;

    memset(path, 'a', 255);
    path[255] = '\0';
    rule(path, XF_STRIP_DROP);

    o = sprintf(in, "{\"");
    for (i = 0; i < 255; i++) {
        o += sprintf(in + o, "\\u0061");
    }
    o += sprintf(in + o, "\":1,\"b\":2}");

    ck_assert_str_eq(strip(in), "{\"b\":2}");

    o = sprintf(in, "{\"");
    for (i = 0; i < 256; i++) {
        o += sprintf(in + o, "\\u0061");
    }
    o += sprintf(in + o, "\":1,\"b\":2}");

    ck_assert_str_eq(strip(in), in);
}
END_TEST


/* What the rules do to a value read out of the event (key, app). */

static xf_strip_probe_action_t
probe(const char *event, const char *value, char *out)
{
    xf_strip_probe_t  res;

    ck_assert_int_eq(xf_strip_probe(&conf, &xf_alloc_libc,
                                    (const u_char *) event, strlen(event),
                                    (const u_char *) value, strlen(value),
                                    &res), XF_OK);
    if (out != NULL) {
        memcpy(out, res.ref, res.ref_len);
        out[res.ref_len] = '\0';
    }

    return res.action;
}


START_TEST(test_probe)
{
    char         r[XF_HASHREF_LEN + 1];
    const char  *ev;

    ev = "{\"distinct_id\":\"user@example.com\",\"n\":42,"
         "\"properties\":{\"distinct_id\":\"p\\u0040x\",\"token\":\"t1\"},"
         "\"other\":\"user@example.com2\"}";

    /* no rule: the value stays */
    ck_assert_int_eq(probe(ev, "user@example.com", NULL),
                     XF_STRIP_PROBE_KEEP);

    rule("distinct_id", XF_STRIP_HASH);
    rule("properties.distinct_id", XF_STRIP_HASH);
    rule("n", XF_STRIP_HASH);
    rule("properties.token", XF_STRIP_DROP);

    /* the very reference the stripped event holds */
    ck_assert_int_eq(probe(ev, "user@example.com", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, ref('f', "user@example.com"));
    ck_assert_ptr_nonnull(strstr(strip(ev), r));

    /* compared after unescaping, as the adapters take values */
    ck_assert_int_eq(probe(ev, "p@x", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, ref('f', "p@x"));

    /* a number: its JSON text with tag 'j' */
    ck_assert_int_eq(probe(ev, "42", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, ref('j', "42"));

    ck_assert_int_eq(probe(ev, "t1", NULL), XF_STRIP_PROBE_DROP);

    /* values of members no rule names, and prefixes, stay */
    ck_assert_int_eq(probe(ev, "user@example.com2", NULL),
                     XF_STRIP_PROBE_KEEP);
    ck_assert_int_eq(probe(ev, "user@example", NULL), XF_STRIP_PROBE_KEEP);
    ck_assert_int_eq(probe("[1]", "1", NULL), XF_STRIP_PROBE_KEEP);

    /* drop wins over hash for one value */
    ck_assert_int_eq(probe("{\"distinct_id\":\"v\",\"properties\":"
                           "{\"token\":\"v\"}}", "v", NULL),
                     XF_STRIP_PROBE_DROP);
}
END_TEST


/*
 * xf_strip_values(): the event stripped and two values probed in one
 * walk give what xf_strip() and xf_strip_probe() of each give apart,
 * whatever the values (hashed, dropped, kept, empty, equal, escaped).
 */
START_TEST(test_values)
{
    u_char            *dst;
    size_t             i, k, n, len;
    const char        *ev, *want;
    xf_strip_probe_t   res[2], one;
    const u_char      *values[2];
    size_t             lens[2];
    static const char *evs[] = {
        "{\"distinct_id\":\"user@example.com\",\"n\":42,"
        "\"properties\":{\"distinct_id\":\"p\\u0040x\",\"token\":\"t1\"},"
        "\"other\":\"user@example.com2\"}",
        "{\"distinct_id\":\"v\",\"properties\":{\"token\":\"v\"}}",
        "{\"x\":1}",
        "{}",
    };
    static const char *vals[][2] = {
        { "user@example.com", "t1" },
        { "p@x", "42" },
        { "v", "v" },
        { "", "user@example.com2" },
        { "user@example.com", "" },
        { "1", "x" },
    };

    rule("distinct_id", XF_STRIP_HASH);
    rule("properties.distinct_id", XF_STRIP_HASH);
    rule("n", XF_STRIP_HASH);
    rule("properties.token", XF_STRIP_DROP);

    for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        ev = evs[i];
        len = strlen(ev);
        want = strip(ev);

        for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
            values[0] = (const u_char *) vals[k][0];
            lens[0] = strlen(vals[k][0]);
            values[1] = (const u_char *) vals[k][1];
            lens[1] = strlen(vals[k][1]);

            dst = malloc(xf_strip_bound(len));
            ck_assert_int_eq(xf_strip_values(&conf, &xf_alloc_libc,
                                             (const u_char *) ev, len, dst,
                                             xf_strip_bound(len), &n,
                                             values, lens, 2, res), XF_OK);

            if (n == 0) {
                ck_assert_str_eq(want, ev);

            } else {
                ck_assert_uint_eq(n, strlen(want));
                ck_assert_int_eq(memcmp(dst, want, n), 0);
            }

            free(dst);

            for (n = 0; n < 2; n++) {
                ck_assert_int_eq(xf_strip_probe(&conf, &xf_alloc_libc,
                                                (const u_char *) ev, len,
                                                values[n], lens[n], &one),
                                 XF_OK);
                ck_assert_int_eq(res[n].action, one.action);
                ck_assert_uint_eq(res[n].ref_len, one.ref_len);
                ck_assert_int_eq(memcmp(res[n].ref, one.ref, one.ref_len),
                                 0);
            }
        }
    }

    /* not an object: the event is the caller's, every value kept */
    lens[0] = 1;
    lens[1] = 1;
    values[0] = (const u_char *) "1";
    values[1] = (const u_char *) "1";
    dst = malloc(16);
    ck_assert_int_eq(xf_strip_values(&conf, &xf_alloc_libc,
                                     (const u_char *) "[1]", 3, dst, 16, &n,
                                     values, lens, 2, res),
                     XF_ERR_NOT_OBJECT);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(res[0].action, XF_STRIP_PROBE_KEEP);
    ck_assert_int_eq(res[1].action, XF_STRIP_PROBE_KEEP);
    free(dst);
}
END_TEST


static int   ua_calls;
static char  ua_text[64], ua_ref[XF_HASHREF_LEN + 1];


static void
ua_seen(void *data, const u_char *text, size_t len, const u_char *r)
{
    ua_calls++;
    ck_assert_uint_lt(len, sizeof(ua_text));
    memcpy(ua_text, text, len);
    ua_text[len] = '\0';
    memcpy(ua_ref, r, XF_HASHREF_LEN);
    ua_ref[XF_HASHREF_LEN] = '\0';
}


/*
 * xflow_privacy standard's actions: an id is a cookie's reference when
 * its rule names the cookie, a field reference otherwise; a User-Agent
 * is the header's reference; without consent every id, of any type, is
 * the cookieless id, and a key probed from the event is the same.
 */
START_TEST(test_id_ua_cookieless)
{
    char          r[XF_HASHREF_LEN + 1], want[XF_HASHREF_LEN + 1];
    char          expect[256];
    const char   *ev, *out;
    const u_char  anon[] = "ANONanonANONanonANONan";

    ev = "{\"duid\":\"d-1\",\"nuid\":\"n-1\",\"ua\":\"Mozilla/5.0\","
         "\"sid\":42,\"e\":\"pv\"}";

    rule("duid", XF_STRIP_ID);
    rule("nuid", XF_STRIP_ID);
    rules[1].cookie = (const u_char *) "sp";
    rules[1].cookie_len = 2;
    rule("ua", XF_STRIP_UA);
    rule("sid", XF_STRIP_ID);

    out = strip(ev);
    ck_assert_ptr_nonnull(strstr(out, ref('f', "d-1")));
    ck_assert_ptr_nonnull(strstr(out, ref('u', "Mozilla/5.0")));
    ck_assert_ptr_nonnull(strstr(out, ref('j', "42")));
    ck_assert_ptr_null(strstr(out, "d-1"));
    ck_assert_ptr_null(strstr(out, "Mozilla"));

    /* the nuid is what xflow_cookie_ref gives the "sp" cookie */
    ck_assert_int_eq(xf_hashref_cookie(key, (const u_char *) "sp", 2,
                                       (const u_char *) "n-1", 3,
                                       (u_char *) want), XF_OK);
    want[XF_HASHREF_LEN] = '\0';
    ck_assert_ptr_nonnull(strstr(out, want));

    /* each User-Agent replaced is reported once, with its reference */
    conf.ua = ua_seen;
    ua_calls = 0;
    (void) strip("{\"ua\":\"Mozilla\\/5.0\",\"duid\":\"x\"}");
    ck_assert_int_eq(ua_calls, 1);
    ck_assert_str_eq(ua_text, "Mozilla/5.0");
    ck_assert_str_eq(ua_ref, ref('u', "Mozilla/5.0"));
    conf.ua = NULL;

    /* the key probed from the event is the event's reference */
    ck_assert_int_eq(probe(ev, "n-1", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, want);
    ck_assert_int_eq(probe(ev, "Mozilla/5.0", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, ref('u', "Mozilla/5.0"));

    /* without consent: every id is the cookieless one; ua stays a ref */
    conf.anon = anon;
    snprintf(expect, sizeof(expect),
             "{\"duid\":\"%s\",\"nuid\":\"%s\",\"ua\":\"%s\","
             "\"sid\":\"%s\",\"e\":\"pv\"}",
             anon, anon, ref('u', "Mozilla/5.0"), anon);
    ck_assert_str_eq(strip(ev), expect);

    ck_assert_int_eq(probe(ev, "d-1", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, (const char *) anon);
    ck_assert_int_eq(probe(ev, "42", r), XF_STRIP_PROBE_HASH);
    ck_assert_str_eq(r, (const char *) anon);

    /* a hash rule is not an id: it keeps its reference */
    conf.n = 0;
    rule("duid", XF_STRIP_HASH);
    ck_assert_ptr_nonnull(strstr(strip(ev), ref('f', "d-1")));

    conf.anon = NULL;
}
END_TEST


Suite *
make_strip_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("strip");

    tc = tcase_create("drop");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_values);
    tcase_add_loop_test(tc, test_drop_table, 0,
                        sizeof(drop_table) / sizeof(drop_table[0]));
    tcase_add_loop_test(tc, test_drop_runs, 0, 16);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hash_all_types);
    tcase_add_test(tc, test_hash_separates_types);
    tcase_add_test(tc, test_hash_nested_and_whitespace);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_id_ua_cookieless);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unchanged_writes_nothing);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_bound);
    tcase_add_test(tc, test_rule_init);
    tcase_add_test(tc, test_escaped_long_name);
    suite_add_tcase(s, tc);

    return s;
}
