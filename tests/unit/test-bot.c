/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-bot.c - bots: the shipped patterns and server signatures, the
 * indexed set (the same answer as a plain scan of every pattern, on
 * User-Agents made at random), ASN lists (parsed, refused with their
 * line, sorted and searched) and the Space-Saving top-k of the report.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_bot.h"
#include "xf_topk.h"
#include "xf_unit.h"


static xf_str_t       pats[256], servers[64];
static size_t         npats, nservers;
static xf_bot_set_t   set;
static xf_unit_mem_t  mem;
static xf_alloc_t     alloc;


static void
shipped(void)
{
    for (npats = 0; xf_bot_patterns[npats]; npats++) {
        pats[npats].data = (const u_char *) xf_bot_patterns[npats];
        pats[npats].len = strlen(xf_bot_patterns[npats]);
    }

    for (nservers = 0; xf_bot_servers[nservers]; nservers++) {
        servers[nservers].data = (const u_char *) xf_bot_servers[nservers];
        servers[nservers].len = strlen(xf_bot_servers[nservers]);
    }
}


static void
setup(void)
{
    xf_unit_mem_allocator(&mem, &alloc);
    shipped();
    ck_assert_int_eq(xf_bot_set_build(&set, pats, npats, servers, nservers,
                                      &alloc), XF_OK);
}


static void
teardown(void)
{
    if (set.entries) {
        alloc.free(alloc.data, set.entries);
    }

    ck_assert_uint_eq(mem.live, 0);
}


static ssize_t
bot(const char *ua)
{
    xf_str_t  u;

    u.data = (const u_char *) ua;
    u.len = strlen(ua);

    return xf_bot_set_match(&set, &u);
}


/* What the set must answer: every pattern looked for in turn. */
static ssize_t
plain(const xf_str_t *ua)
{
    u_char  low[XF_BOT_UA_MAX];
    size_t  i, len;

    len = xf_min(ua->len, sizeof(low));

    for (i = 0; i < len; i++) {
        low[i] = (ua->data[i] >= 'A' && ua->data[i] <= 'Z')
                 ? ua->data[i] + 32 : ua->data[i];
    }

    for (i = 0; i < nservers; i++) {
        if (servers[i].len && servers[i].len <= len
            && memmem(low, len, servers[i].data, servers[i].len))
        {
            return XF_BOT_SERVER;
        }
    }

    for (i = 0; i < npats; i++) {
        if (pats[i].len && pats[i].len <= len
            && memmem(low, len, pats[i].data, pats[i].len))
        {
            return (ssize_t) i;
        }
    }

    return -1;
}


START_TEST(test_shipped)
{
    size_t       i;
    const char  *c;

    /* every shipped pattern is lower case: the match lowers the UA */
    for (i = 0; xf_bot_patterns[i]; i++) {
        for (c = xf_bot_patterns[i]; *c; c++) {
            ck_assert_msg(!(*c >= 'A' && *c <= 'Z'), "%s",
                          xf_bot_patterns[i]);
        }
    }

    ck_assert_int_ge(bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
                         "Safari/537.36"), 0);
    ck_assert_int_ge(bot("Mozilla/5.0 (compatible; Googlebot/2.1; "
                         "+http://www.google.com/bot.html)"), 0);
    ck_assert_int_ge(bot("Mozilla/5.0 (compatible; UptimeRobot/2.0; "
                         "http://www.uptimerobot.com/)"), 0);
    ck_assert_int_ge(bot("python-requests/2.31.0"), 0);
    ck_assert_str_eq(xf_bot_patterns[bot("x HEADLESSCHROME y")],
                     "headlesschrome");

    /* browsers, apps and server SDKs are not */
    ck_assert_int_eq(bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/120.0.0.0 "
                         "Safari/537.36"), -1);
    ck_assert_int_eq(bot("posthog-node/4.2.1"), XF_BOT_SERVER);
    ck_assert_int_eq(bot("analytics-node-next/1.0 (+http://segment.com)"),
                     XF_BOT_SERVER);
    ck_assert_int_eq(bot("SensorsAnalytics Java SDK"), XF_BOT_SERVER);
    ck_assert_int_eq(bot("okhttp/4.12.0"), -1);
    ck_assert_int_eq(bot(""), -1);
}
END_TEST


/* The lowest index wins; one-byte patterns; the ends of the User-Agent. */
START_TEST(test_set_edges)
{
    u_char   *buf;
    xf_str_t  p[4], u;

    alloc.free(alloc.data, set.entries);
    npats = 4;
    nservers = 0;
    p[0].data = (const u_char *) "zz";
    p[0].len = 2;
    p[1].data = (const u_char *) "b";
    p[1].len = 1;
    p[2].data = (const u_char *) "";
    p[2].len = 0;
    p[3].data = (const u_char *) "ab";
    p[3].len = 2;
    memcpy(pats, p, sizeof(p));

    ck_assert_int_eq(xf_bot_set_build(&set, pats, npats, NULL, 0, &alloc),
                     XF_OK);
    ck_assert_uint_eq(set.n, 3);

    ck_assert_int_eq(bot("AB"), 1);
    ck_assert_int_eq(bot("xxZZ"), 0);
    ck_assert_int_eq(bot("zZb"), 0);
    ck_assert_int_eq(bot("a"), -1);
    ck_assert_int_eq(bot("z"), -1);
    ck_assert_int_eq(bot(""), -1);

    /* only the first XF_BOT_UA_MAX bytes are read */
    buf = malloc(XF_BOT_UA_MAX + 2);
    memset(buf, 'x', XF_BOT_UA_MAX + 2);
    memcpy(buf + XF_BOT_UA_MAX, "zz", 2);
    u.data = buf;
    u.len = XF_BOT_UA_MAX + 2;
    ck_assert_int_eq(xf_bot_set_match(&set, &u), -1);
    memcpy(buf + XF_BOT_UA_MAX - 2, "zz", 2);
    ck_assert_int_eq(xf_bot_set_match(&set, &u), 0);
    free(buf);
}
END_TEST


/* Random User-Agents over the patterns' letters: the set agrees. */
START_TEST(test_set_as_plain)
{
    u_char       buf[600];
    size_t       i, j, len, k;
    xf_str_t     u;
    unsigned     seed;
    static char  extra[200][16];

    /* 200 patterns: the shipped ones and made-up ones */
    alloc.free(alloc.data, set.entries);
    seed = 7;

    for (i = npats; i < 200; i++) {
        len = 2 + rand_r(&seed) % 6;

        for (j = 0; j < len; j++) {
            extra[i][j] = "abcdeot/-.;+ "[rand_r(&seed) % 13];
        }

        pats[i].data = (const u_char *) extra[i];
        pats[i].len = len;
    }

    npats = 200;
    ck_assert_int_eq(xf_bot_set_build(&set, pats, npats, servers, nservers,
                                      &alloc), XF_OK);

    for (i = 0; i < 20000; i++) {
        len = rand_r(&seed) % sizeof(buf);

        for (j = 0; j < len; j++) {
            buf[j] = "abcdeotABCDEOT/-.;+ xyz"[rand_r(&seed) % 23];
        }

        /* now and then a pattern or a server SDK's name in it */
        if (len > 40 && rand_r(&seed) % 4 == 0) {
            k = rand_r(&seed) % (npats + nservers);
            u = k < npats ? pats[k] : servers[k - npats];
            memcpy(buf + rand_r(&seed) % (len - u.len), u.data, u.len);
        }

        u.data = buf;
        u.len = len;
        ck_assert_int_eq(xf_bot_set_match(&set, &u), plain(&u));
    }
}
END_TEST


START_TEST(test_set_refused)
{
    u_char    big[XF_BOT_UA_MAX + 1];
    xf_str_t  p;

    alloc.free(alloc.data, set.entries);

    memset(big, 'a', sizeof(big));
    p.data = big;
    p.len = sizeof(big);
    ck_assert_int_eq(xf_bot_set_build(&set, &p, 1, NULL, 0, &alloc),
                     XF_ERR_TOO_LARGE);
    ck_assert_ptr_null(set.entries);
    ck_assert_int_eq(xf_bot_set_build(&set, &p, XF_BOT_SET_MAX + 1, NULL, 0,
                                      &alloc), XF_ERR_TOO_LARGE);

    mem.fail_at = mem.calls + 1;
    ck_assert_int_eq(xf_bot_set_build(&set, pats, 2, NULL, 0, &alloc),
                     XF_ERR_NOMEM);
    ck_assert_ptr_null(set.entries);
}
END_TEST


START_TEST(test_asn_token)
{
    uint32_t  asn;

#define ASN(s, want)                                                      \
    (xf_bot_asn((const u_char *) (s), strlen(s), &asn) && asn == (want))

    ck_assert(ASN("16509", 16509));
    ck_assert(ASN("AS16509", 16509));
    ck_assert(ASN("as14618", 14618));
    ck_assert(ASN("4294967295", 4294967295U));
    ck_assert(!ASN("4294967296", 0));
    ck_assert(!ASN("0", 0));
    ck_assert(!ASN("AS", 0));
    ck_assert(!ASN("", 0));
    ck_assert(!ASN("16509x", 0));
    ck_assert(!ASN("ASN16509", 0));
    ck_assert(!ASN("/etc/xflow/asns.txt", 0));
    ck_assert(!ASN("-1", 0));
    ck_assert(!ASN("12345678901", 0));

#undef ASN
}
END_TEST


START_TEST(test_asn_list)
{
    char           err[256];
    size_t         line;
    xf_bot_asns_t  l;

    static const char  text[] =
        "# hosting\n"
        "AS16509   # Amazon\n"
        "\n"
        "  14618\t\r\n"
        "as8075\n"
        "16509\n"
        "396982";

    memset(&l, 0, sizeof(l));

    ck_assert_int_eq(xf_bot_asns_parse(&l, (const u_char *) text,
                                       strlen(text), &alloc, err,
                                       sizeof(err), &line), XF_OK);
    ck_assert_uint_eq(l.n, 5);
    ck_assert_uint_eq(line, 7);

    xf_bot_asns_sort(&l);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_uint_eq(l.v[0], 8075);
    ck_assert_uint_eq(l.v[3], 396982);
    ck_assert(xf_bot_asns_has(&l, 16509));
    ck_assert(xf_bot_asns_has(&l, 8075));
    ck_assert(xf_bot_asns_has(&l, 396982));
    ck_assert(!xf_bot_asns_has(&l, 1221));
    ck_assert(!xf_bot_asns_has(&l, 0));

    /* a bad line: its number and the token, the lines before it kept */
    ck_assert_int_eq(xf_bot_asns_parse(&l, (const u_char *) "1221\n\nAS-1\n",
                                       12, &alloc, err, sizeof(err), &line),
                     XF_ERR_FORM);
    ck_assert_uint_eq(line, 3);
    ck_assert_msg(strstr(err, "\"AS-1\" is not an ASN") != NULL, "%s", err);
    ck_assert_uint_eq(l.n, 5);

    /* quotes and controls are not echoed */
    ck_assert_int_eq(xf_bot_asns_parse(&l, (const u_char *) "a\"b\x01", 4,
                                       &alloc, err, sizeof(err), &line),
                     XF_ERR_FORM);
    ck_assert_msg(strstr(err, "\"a...\"") != NULL, "%s", err);

    alloc.free(alloc.data, l.v);

    /* an empty list holds nothing */
    memset(&l, 0, sizeof(l));
    xf_bot_asns_sort(&l);
    ck_assert(!xf_bot_asns_has(&l, 1));
}
END_TEST


START_TEST(test_asn_list_nomem)
{
    char           err[256];
    size_t         line, i;
    xf_bot_asns_t  l;
    char           text[2000];

    for (i = 0; i < 200; i++) {
        snprintf(text + 6 * i, 7, "%05zu\n", i + 1);
    }

    memset(&l, 0, sizeof(l));
    mem.fail_at = mem.calls + 2;    /* the list's first growth */

    ck_assert_int_eq(xf_bot_asns_parse(&l, (const u_char *) text, 1200,
                                       &alloc, err, sizeof(err), &line),
                     XF_ERR_NOMEM);
    ck_assert_uint_eq(l.n, 64);

    alloc.free(alloc.data, l.v);
}
END_TEST


static void
topk_add(xf_topk_t *t, const char *key, const char *label)
{
    xf_topk_add(t, (const u_char *) key, strlen(key),
                (const u_char *) label, strlen(label), 1);
}


START_TEST(test_topk)
{
    size_t           i, n;
    char             key[32];
    xf_topk_t       *t;
    xf_topk_entry_t  out[4];
    u_char           big[XF_TOPK_KEY_MAX + 10];
    static uint64_t  mem_t[1024];

    ck_assert_uint_le(xf_topk_size(4), sizeof(mem_t));
    memset(mem_t, 0xa5, sizeof(mem_t));
    t = xf_topk_init(mem_t, 4);
    ck_assert_uint_eq(t->n, 0);

    /* heavy hitters among many keys seen once */
    for (i = 0; i < 1000; i++) {
        topk_add(t, "googlebot", "googlebot");

        if (i % 2 == 0) {
            topk_add(t, "headless", "headlesschrome");
        }

        snprintf(key, sizeof(key), "k%zu", i);
        topk_add(t, key, "");
    }

    ck_assert_uint_eq(t->total, 2500);

    n = xf_topk_list(t, out, 2);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(out[0].key_len, 9);
    ck_assert(memcmp(out[0].key, "googlebot", 9) == 0);
    ck_assert(memcmp(out[1].key, "headless", 8) == 0);
    ck_assert(memcmp(out[1].label, "headlesschrome", 14) == 0);

    /* the guarantee: count - error <= true count <= count */
    ck_assert_uint_ge(out[0].count, 1000);
    ck_assert_uint_le(out[0].count - out[0].error, 1000);
    ck_assert_uint_ge(out[1].count, 500);
    ck_assert_uint_le(out[1].count - out[1].error, 500);

    /* a reload with the same layout keeps the table, another empties it */
    ck_assert_ptr_eq(xf_topk_init(mem_t, 4), t);
    ck_assert_uint_eq(t->total, 2500);
    t = xf_topk_init(mem_t, 3);
    ck_assert_uint_eq(t->total, 0);
    ck_assert_uint_eq(t->n, 0);

    /* long keys and labels are cut; empty keys count nothing */
    memset(big, 'x', sizeof(big));
    xf_topk_add(t, big, sizeof(big), big, sizeof(big), 2);
    xf_topk_add(t, big, 0, NULL, 0, 1);
    xf_topk_add(t, big, 3, NULL, 0, 0);
    n = xf_topk_list(t, out, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].key_len, XF_TOPK_KEY_MAX);
    ck_assert_uint_eq(out[0].label_len, XF_TOPK_LABEL_MAX);
    ck_assert_uint_eq(out[0].count, 2);
    ck_assert_uint_eq(t->total, 2);
}
END_TEST


Suite *
make_bot_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("bot");
    tc = tcase_create("bot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shipped);
    tcase_add_test(tc, test_set_edges);
    tcase_add_test(tc, test_set_as_plain);
    tcase_add_test(tc, test_set_refused);
    tcase_add_test(tc, test_asn_token);
    tcase_add_test(tc, test_asn_list);
    tcase_add_test(tc, test_asn_list_nomem);
    tcase_add_test(tc, test_topk);
    suite_add_tcase(s, tc);

    return s;
}
