/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-geo.c - GeoIP with the MaxMind-DB test databases
 * (tests/fixtures/geoip): known lookups, local
 * and unknown addresses, and the broken files refused at open.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xf_geo.h"
#include "xf_json.h"


#define GEO_DIR   "tests/fixtures/geoip/"
#define CITY      GEO_DIR "GeoIP2-City-Test.mmdb"
#define COUNTRY   GEO_DIR "GeoIP2-Country-Test.mmdb"
#define ASN       GEO_DIR "GeoLite2-ASN-Test.mmdb"
#define BROKEN1   GEO_DIR "GeoIP2-City-Test-Broken-Double-Format.mmdb"
#define BROKEN2   GEO_DIR "GeoIP2-City-Test-Invalid-Node-Count.mmdb"


static xf_geo_t  geo;


static void
setup(void)
{
    char  err[512];

    ck_assert_msg(xf_geo_open(&geo, CITY, ASN, err, sizeof(err)) == XF_OK,
                  "%s", err);
}


static void
teardown(void)
{
    xf_geo_close(&geo);
}


/* The member of an address as a string ("" when there is none). */
static const char *
member(const xf_geo_t *g, const char *addr)
{
    size_t          n, end, err;
    xf_ip_t         ip;
    xf_json_span_t  span;
    static u_char   out[XF_GEO_MEMBER_MAX + 1];

    ck_assert_int_eq(xf_ip_parse((const u_char *) addr, strlen(addr), &ip), 1);
    ck_assert_int_eq(xf_geo_member(g, &ip, out, XF_GEO_MEMBER_MAX, &n),
                     XF_OK);
    out[n] = '\0';

    if (n) {
        /* the member, wrapped in braces, is valid JSON */
        out[0] = '{';
        out[n] = '}';
        ck_assert_int_eq(xf_json_scan_value(out, n + 1, 4, &span, &end, &err),
                         XF_OK);
        ck_assert_uint_eq(end, n + 1);
        out[0] = ',';
        out[n] = '\0';
    }

    return (const char *) out;
}


static const struct {
    const char  *addr;
    const char  *geo;
} geo_table[] = {
    { "81.2.69.160",
      ",\"geo\":{\"country\":\"GB\",\"subdivision\":\"ENG\","
      "\"city\":\"London\"}" },
    /* the first of its subdivisions: England, then West Berkshire */
    { "2.125.160.216",
      ",\"geo\":{\"country\":\"GB\",\"subdivision\":\"ENG\","
      "\"city\":\"Boxford\"}" },
    { "1.128.0.0", ",\"geo\":{\"asn\":1221,\"as_org\":\"Telstra Pty Ltd\"}" },
    { "::ffff:81.2.69.160",
      ",\"geo\":{\"country\":\"GB\",\"subdivision\":\"ENG\","
      "\"city\":\"London\"}" },
    { "2001:218::1", ",\"geo\":{\"country\":\"JP\"}" },
    { "127.0.0.1", "" },
    { "10.0.0.1", "" },
    { "192.168.1.1", "" },
    { "::1", "" },
    { "fe80::1", "" },
    { "fd00::1", "" },
    { "8.8.8.8", "" },
    { "203.0.113.7", "" },
};


START_TEST(test_lookup_table)
{
    ck_assert_str_eq(member(&geo, geo_table[_i].addr), geo_table[_i].geo);
}
END_TEST


/* The AS number alone, for xflow_bot_asns. */
START_TEST(test_asn)
{
    char      err[512];
    xf_ip_t   ip;
    xf_geo_t  g;
    uint32_t  asn;

#define IP(s)  xf_ip_parse((const u_char *) (s), strlen(s), &ip)

    ck_assert(IP("1.128.0.0"));
    ck_assert_int_eq(xf_geo_asn(&geo, &ip, &asn), XF_OK);
    ck_assert_uint_eq(asn, 1221);

    ck_assert(IP("::ffff:1.128.0.1"));
    ck_assert_int_eq(xf_geo_asn(&geo, &ip, &asn), XF_OK);
    ck_assert_uint_eq(asn, 1221);

    /* local, unknown, or no ASN database: 0 */
    ck_assert(IP("127.0.0.1"));
    ck_assert_int_eq(xf_geo_asn(&geo, &ip, &asn), XF_OK);
    ck_assert_uint_eq(asn, 0);
    ck_assert(IP("81.2.69.160"));
    ck_assert_int_eq(xf_geo_asn(&geo, &ip, &asn), XF_OK);
    ck_assert_uint_eq(asn, 0);

    ck_assert_int_eq(xf_geo_open(&g, CITY, NULL, err, sizeof(err)), XF_OK);
    ck_assert(IP("1.128.0.0"));
    ck_assert_int_eq(xf_geo_asn(&g, &ip, &asn), XF_OK);
    ck_assert_uint_eq(asn, 0);
    xf_geo_close(&g);

#undef IP
}
END_TEST


START_TEST(test_only_one_database)
{
    char      err[512];
    xf_geo_t  g;

    ck_assert_int_eq(xf_geo_open(&g, NULL, ASN, err, sizeof(err)), XF_OK);
    ck_assert_str_eq(member(&g, "81.2.69.160"), "");
    ck_assert_str_eq(member(&g, "1.128.0.0"),
                     ",\"geo\":{\"asn\":1221,\"as_org\":\"Telstra Pty Ltd\"}");
    xf_geo_close(&g);

    ck_assert_int_eq(xf_geo_open(&g, COUNTRY, NULL, err, sizeof(err)), XF_OK);
    ck_assert_str_eq(member(&g, "81.2.69.160"),
                     ",\"geo\":{\"country\":\"GB\"}");
    ck_assert_str_eq(member(&g, "1.128.0.0"), "");
    xf_geo_close(&g);

    ck_assert_int_eq(xf_geo_open(&g, NULL, NULL, err, sizeof(err)),
                     XF_ERR_CORRUPT);
}
END_TEST


START_TEST(test_broken_refused)
{
    char      err[512];
    xf_geo_t  g;

    ck_assert_int_eq(xf_geo_open(&g, BROKEN1, NULL, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "city database \"" BROKEN1 "\": data record")
                  != NULL, "%s", err);
    ck_assert_msg(strstr(err, "bad data") != NULL, "%s", err);

    ck_assert_int_eq(xf_geo_open(&g, BROKEN2, NULL, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "invalid metadata") != NULL, "%s", err);

    /* a broken ASN file after a good city file: nothing stays open */
    ck_assert_int_eq(xf_geo_open(&g, CITY, BROKEN2, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_msg(strncmp(err, "asn database", 12) == 0, "%s", err);
    ck_assert_uint_eq(g.has_city, 0);
    ck_assert_uint_eq(g.has_asn, 0);
}
END_TEST


/* Each database of the kind its parameter says, by its metadata. */
START_TEST(test_kind_refused)
{
    char      err[512];
    xf_geo_t  g;

    ck_assert_int_eq(xf_geo_open(&g, ASN, NULL, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "is a GeoLite2-ASN database: give it as asn=")
                  != NULL, "%s", err);

    ck_assert_int_eq(xf_geo_open(&g, NULL, CITY, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "is a GeoIP2-City database: give it as city=")
                  != NULL, "%s", err);

    /* a good city file, then an ASN slot holding one: nothing stays open */
    ck_assert_int_eq(xf_geo_open(&g, CITY, COUNTRY, err, sizeof(err)),
                     XF_ERR_CORRUPT);
    ck_assert_uint_eq(g.has_city, 0);
    ck_assert_uint_eq(g.has_asn, 0);
}
END_TEST


START_TEST(test_unreadable_refused)
{
    char      err[512];
    xf_geo_t  g;

    ck_assert_int_eq(xf_geo_open(&g, GEO_DIR "no-such.mmdb", NULL, err,
                                 sizeof(err)), XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "no-such.mmdb") != NULL, "%s", err);

    /* not a MaxMind DB at all */
    ck_assert_int_eq(xf_geo_open(&g, GEO_DIR "README.md", NULL, err,
                                 sizeof(err)), XF_ERR_CORRUPT);
    ck_assert_msg(strstr(err, "README.md") != NULL, "%s", err);
}
END_TEST


START_TEST(test_buffer)
{
    u_char   out[128];
    size_t   n;
    xf_ip_t  ip;

    xf_ip_parse((const u_char *) "81.2.69.160", 11, &ip);

    ck_assert_int_eq(xf_geo_member(&geo, &ip, out, 20, &n), XF_ERR_BUFFER);
    ck_assert_int_eq(xf_geo_member(&geo, &ip, out, 3, &n), XF_ERR_BUFFER);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(xf_geo_member(&geo, &ip, out, sizeof(out), &n), XF_OK);
    ck_assert_uint_eq(n, strlen(geo_table[0].geo));
}
END_TEST


Suite *
make_geo_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("geo");

    tc = tcase_create("lookup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_lookup_table, 0,
                        sizeof(geo_table) / sizeof(geo_table[0]));
    tcase_add_test(tc, test_buffer);
    tcase_add_test(tc, test_asn);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_test(tc, test_only_one_database);
    tcase_add_test(tc, test_broken_refused);
    tcase_add_test(tc, test_kind_refused);
    tcase_add_test(tc, test_unreadable_refused);
    suite_add_tcase(s, tc);

    return s;
}
