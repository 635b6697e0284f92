/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-privacy.c - raw cookies never reach Kafka, references are stable
 * under a key and differ under another, the User-Agent is published once
 * to its dictionary, stripped fields are gone with the rest of the event
 * byte-identical, and GeoIP follows the address realip established.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xf_test.h"


#define SECRET  "s3cr3t-cookie-value-7f1c2a9e"
#define UA      "Mozilla/5.0 (X11; Linux x86_64) xflow-privacy-test/1.0"

static char         url[160];

static const char  *topics[] = { "events", "xflow.ua", "xflow_dead_letter" };


static void
privacy_setup(void)
{
    xf_fixture_setup(1, 15000, NULL);
    xf_fixture_topics(topics, sizeof(topics) / sizeof(topics[0]), 1);
}


static const char *
geoip_db(void)
{
    static char  path[512];

    snprintf(path, sizeof(path), "%s/tests/fixtures/geoip/%s",
             xf_test_src_dir(), "GeoIP2-City-Test.mmdb");
    return path;
}


static void
privacy_start(const char *extra)
{
    char  snippet[4096], key1[256], key2[256];

    /* the prefix directory exists once xf_nginx_new made it: write the
       config first with placeholders, then the keys beside it */
    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    snprintf(key1, sizeof(key1), "%s/hash1.key", nginx->dir);
    snprintf(key2, sizeof(key2), "%s/hash2.key", nginx->dir);
    xf_write_file(key1, "0123456789abcdef0123456789abcdef\n", 0400);
    xf_write_file(key2, "fedcba9876543210fedcba9876543210\n", 0400);

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_kafka_conf linger.ms 1;\n"
             "    xflow_topic events;\n"
             "    real_ip_header X-Forwarded-For;\n"
             "    real_ip_recursive on;\n"
             "%s\n"
             "    xflow_cookie_ref sensorsdata2015jssdkcross ph_*;\n"
             "    xflow_ua_dictionary xflow.ua ttl=1h;\n"
             "    xflow_strip_field properties.$user_agent hash;\n"
             "    xflow_strip_field properties.$ip drop;\n"
             "    xflow_geoip city=%s;\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        set_real_ip_from 127.0.0.1;\n"
             "        location /collect { xflow_collect json; }\n"
             "    }\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        server_name untrusted;\n"
             "        set_real_ip_from 10.0.0.0/8;\n"
             "        location /collect { xflow_collect json; }\n"
             "    }\n", extra ? extra : "    xflow_hash_key hash1.key;\n",
             geoip_db());

    /* key paths are relative to the prefix */
    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);
    xf_nginx_start(nginx);
    snprintf(url, sizeof(url), "%s/collect", nginx->url);
}


static void
post(const char *path, const char *body, const char *xff)
{
    char             u[200], cookie[512], xffh[128];
    const char      *hdrs[5];
    xf_http_resp_t   resp;

    snprintf(u, sizeof(u), "%s%s", nginx->url, path);
    snprintf(cookie, sizeof(cookie),
             "Cookie: sensorsdata2015jssdkcross=%s; other=%s; "
             "ph_phc_abc_posthog=%%7B%%22distinct_id%%22%%3A%%22d%%22%%7D",
             SECRET, SECRET);
    snprintf(xffh, sizeof(xffh), "X-Forwarded-For: %s", xff);

    /* "/untrusted" is the virtual server that trusts no local proxy */
    hdrs[0] = strcmp(path, "/untrusted") == 0 ? "Host: untrusted"
                                               : "Host: localhost";
    hdrs[1] = cookie;
    hdrs[2] = "User-Agent: " UA;
    hdrs[3] = xff ? xffh : NULL;
    hdrs[4] = NULL;

    if (strcmp(path, "/untrusted") == 0) {
        path = "/collect";
    }

    snprintf(u, sizeof(u), "%s%s", nginx->url, path);
    xf_http_request("POST", u, hdrs, body, strlen(body), &resp);
    ck_assert_msg(resp.status == 200, "%ld %s", resp.status, resp.body);
    xf_http_resp_free(&resp);
}


/* The value of "name":"..." in s, copied (22-char references and such). */
static char *
member(const char *s, const char *name)
{
    char         pat[64];
    const char  *p, *e;

    snprintf(pat, sizeof(pat), "\"%s\":\"", name);
    p = strstr(s, pat);
    if (p == NULL) {
        return NULL;
    }

    p += strlen(pat);
    e = strchr(p, '"');
    return strndup(p, e - p);
}


START_TEST(test_cookies_ua_and_fields)
{
    size_t           i, t;
    char            *ref1, *ref2, *ua1, *ua2;
    xf_kafka_msgs_t  ev, dict, dl;
    static const char  body[] =
        "{\"event\":\"page_view\",\"distinct_id\":\"u1\",\"properties\":"
        "{\"$user_agent\":\"" UA "\", \"$ip\":\"81.2.69.160\","
        " \"keep\":[1,2]}}";

    privacy_start(NULL);

    post("/collect", body, NULL);
    post("/collect", body, NULL);

    memset(&ev, 0, sizeof(ev));
    memset(&dict, 0, sizeof(dict));
    memset(&dl, 0, sizeof(dl));
    xf_kafka_consume(kafka, "events", 2, 10000, 500, &ev);
    xf_kafka_consume(kafka, "xflow.ua", 1, 10000, 1000, &dict);
    xf_kafka_consume(kafka, "xflow_dead_letter", 0, 1000, 500, &dl);

    /* the secret is nowhere: no topic, no key, no value */
    for (t = 0; t < 3; t++) {
        xf_kafka_msgs_t  *m = t == 0 ? &ev : t == 1 ? &dict : &dl;

        for (i = 0; i < m->n; i++) {
            ck_assert_msg(xf_memstr(m->msgs[i].value, m->msgs[i].value_len,
                                    SECRET) == NULL, "secret leaked: %s",
                          m->msgs[i].value);
            ck_assert(m->msgs[i].key == NULL
                      || strstr(m->msgs[i].key, SECRET) == NULL);
        }
    }

    /* the listed cookie's reference is stable across requests */
    ref1 = member(ev.msgs[0].value, "sensorsdata2015jssdkcross");
    ref2 = member(ev.msgs[1].value, "sensorsdata2015jssdkcross");
    ck_assert_ptr_nonnull(ref1);
    ck_assert_ptr_nonnull(ref2);
    ck_assert_uint_eq(strlen(ref1), 22);
    ck_assert_str_eq(ref1, ref2);
    ck_assert_msg(strstr(ev.msgs[0].value, "\"ph_phc_abc_posthog\":\"")
                  != NULL, "%s", ev.msgs[0].value);
    ck_assert_msg(strstr(ev.msgs[0].value, "\"other\"") == NULL, "%s",
                  ev.msgs[0].value);
    ck_assert_msg(strstr(ev.msgs[0].value, "\"kid\":\"") != NULL, "%s",
                  ev.msgs[0].value);

    /* the UA travels once, as a reference the dictionary resolves */
    ua1 = member(ev.msgs[0].value, "ua");
    ck_assert_ptr_nonnull(ua1);
    ck_assert_uint_eq(dict.n, 1);
    ck_assert_str_eq(dict.msgs[0].key, ua1);
    ck_assert_str_eq(dict.msgs[0].value, "{\"ua\":\"" UA "\"}");
    ck_assert_msg(strstr(ev.msgs[0].value, "Mozilla") == NULL,
                  "UA text in an event: %s", ev.msgs[0].value);

    /* stripped: $user_agent hashed, $ip dropped, other bytes as sent */
    ua2 = member(ev.msgs[0].value, "$user_agent");
    ck_assert_ptr_nonnull(ua2);
    ck_assert_uint_eq(strlen(ua2), 22);
    {
        char  want[512];

        snprintf(want, sizeof(want),
                 ",\"event\":{\"event\":\"page_view\",\"distinct_id\":\"u1\","
                 "\"properties\":{\"$user_agent\":\"%s\", \"keep\":[1,2]}}}",
                 ua2);
        ck_assert_msg(xf_memstr(ev.msgs[0].value, ev.msgs[0].value_len, want)
                      != NULL, "%s\nwanted %s", ev.msgs[0].value, want);
    }

    free(ref1);
    free(ref2);
    free(ua1);
    free(ua2);
    xf_kafka_msgs_free(&ev);
    xf_kafka_msgs_free(&dict);
    xf_kafka_msgs_free(&dl);
}
END_TEST


/* Another key, another reference: the same cookie is unlinkable. */
START_TEST(test_reference_differs_under_another_key)
{
    char            *ref1, *ref2;
    xf_kafka_msgs_t  ev;

    privacy_start("    xflow_hash_key hash1.key id=a;\n"
                  "    xflow_hash_key hash2.key id=b;\n");

    post("/collect", "{\"event\":\"x\"}", NULL);

    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, "events", 1, 10000, 0, &ev);
    ck_assert_msg(strstr(ev.msgs[0].value, "\"kid\":\"b\"") != NULL, "%s",
                  ev.msgs[0].value);
    ref2 = member(ev.msgs[0].value, "sensorsdata2015jssdkcross");
    xf_kafka_msgs_free(&ev);

    /* the same request under the first key alone */
    xf_nginx_quit(nginx, 15000);
    xf_nginx_free(nginx);
    xf_kafka_stop(kafka);
    privacy_setup();
    privacy_start(NULL);

    post("/collect", "{\"event\":\"x\"}", NULL);

    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, "events", 1, 10000, 0, &ev);
    ref1 = member(ev.msgs[0].value, "sensorsdata2015jssdkcross");

    ck_assert_ptr_nonnull(ref1);
    ck_assert_ptr_nonnull(ref2);
    ck_assert_str_ne(ref1, ref2);

    free(ref1);
    free(ref2);
    xf_kafka_msgs_free(&ev);
}
END_TEST


START_TEST(test_geoip_through_trusted_proxy)
{
    xf_kafka_msgs_t  ev;

    privacy_start(NULL);

    /* trusted peer: the address is the forwarded one */
    post("/collect", "{\"event\":\"a\"}", "81.2.69.160");
    /* untrusted peer: a forged header changes nothing */
    post("/untrusted", "{\"event\":\"b\"}", "81.2.69.160");

    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, "events", 2, 10000, 500, &ev);

    ck_assert_msg(strstr(ev.msgs[0].value, "\"ip\":\"81.2.69.160\"") != NULL
                  && strstr(ev.msgs[0].value, "\"geo\":{\"country\":\"GB\"")
                     != NULL, "%s", ev.msgs[0].value);

    ck_assert_msg(strstr(ev.msgs[1].value, "\"ip\":\"127.0.0.1\"") != NULL
                  && strstr(ev.msgs[1].value, "\"geo\"") == NULL, "%s",
                  ev.msgs[1].value);

    xf_kafka_msgs_free(&ev);
}
END_TEST


START_TEST(test_client_ip_modes)
{
    xf_kafka_msgs_t  ev;

    privacy_start("    xflow_hash_key hash1.key;\n"
                  "    xflow_client_ip truncate;\n");

    post("/collect", "{\"event\":\"a\"}", "81.2.69.160");

    memset(&ev, 0, sizeof(ev));
    xf_kafka_consume(kafka, "events", 1, 10000, 0, &ev);

    /* truncated after the GeoIP lookup of the full address */
    ck_assert_msg(strstr(ev.msgs[0].value, "\"ip\":\"81.2.69.0\"") != NULL
                  && strstr(ev.msgs[0].value, "\"country\":\"GB\"") != NULL,
                  "%s", ev.msgs[0].value);
    xf_kafka_msgs_free(&ev);
}
END_TEST


/*
 * An nginx (not started) whose config is a server and xflow_hash_key name,
 * the file name beside its config holding key, with mode; path (may be
 * NULL) gets the file's path.
 */
static void
key_conf(const char *name, const char *key, mode_t mode, char *path)
{
    char  file[256], snippet[512];

    nginx = xf_nginx_new("", kafka->bootstraps, 1);

    snprintf(file, sizeof(file), "%s/%s", nginx->dir, name);
    xf_write_file(file, key, mode);

    snprintf(snippet, sizeof(snippet),
             "    xflow_hash_key %s;\n"
             "    server { listen 127.0.0.1:@PORT@; }\n", name);
    xf_nginx_write_conf(nginx, snippet, kafka->bootstraps);

    if (path != NULL) {
        strcpy(path, file);
    }
}


START_TEST(test_bad_key_and_database_fail_config_test)
{
    char  *out, snippet[2048];

    key_conf("short.key", "too-short", 0400, NULL);
    out = xf_nginx_refuses(nginx, NULL, NULL, "short.key");
    ck_assert_msg(strstr(out, "too-short") == NULL, "%s", out);
    free(out);

    snprintf(snippet, sizeof(snippet),
             "    xflow_geoip city=%s/tests/fixtures/geoip/"
             "GeoIP2-City-Test-Broken-Double-Format.mmdb;\n"
             "    server { listen 127.0.0.1:@PORT@; }\n",
             xf_test_src_dir());
    free(xf_nginx_refuses(nginx, snippet, kafka->bootstraps, "xflow_geoip"));

    xf_nginx_free(nginx);
    nginx = NULL;
}
END_TEST


/* A key file its group or others can read is accepted, with a warning. */
START_TEST(test_key_permissions_warn)
{
    int    rc;
    char   path[256], *out;

    key_conf("open.key", "0123456789abcdef0123456789abcdef\n", 0644, path);
    rc = xf_nginx_test_config(nginx, &out);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "[warn]") != NULL
                  && strstr(out, "open.key") != NULL
                  && strstr(out, "mode 0644") != NULL
                  && strstr(out, "0123456789abcdef") == NULL, "%s", out);
    free(out);

    /* owner-only: no warning */
    chmod(path, 0400);
    rc = xf_nginx_test_config(nginx, &out);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "readable or writable") == NULL, "%s", out);
    free(out);

    xf_nginx_free(nginx);
    nginx = NULL;
}
END_TEST


/*
 * Credentials only for listed origins: "any" echoes the origin without
 * Access-Control-Allow-Credentials, a list echoes a listed origin with it
 * and answers an unlisted one with no CORS header at all.
 */
START_TEST(test_cors_credentials)
{
    int              i;
    char             u[200], *v;
    const char      *hdrs[2];
    xf_http_resp_t   resp;
    static const char *const  origins[] = {
        "https://shop.example.com", "https://evil.example.net"
    };

    nginx = xf_nginx_new("    xflow_kafka_brokers @BROKERS@;\n"
                         "    xflow_topic events;\n"
                         "    server {\n"
                         "        listen 127.0.0.1:@PORT@;\n"
                         "        location /any { xflow_collect json; }\n"
                         "        location /listed { xflow_collect json;\n"
                         "            xflow_cors_origins "
                         "https://shop.example.com; }\n"
                         "    }\n", kafka->bootstraps, 1);
    xf_nginx_start(nginx);

    for (i = 0; i < 2; i++) {
        char  oh[96];

        snprintf(oh, sizeof(oh), "Origin: %s", origins[i]);
        hdrs[0] = oh;
        hdrs[1] = NULL;

        /* any: the origin, no credentials, for either */
        snprintf(u, sizeof(u), "%s/any", nginx->url);
        xf_http_request("POST", u, hdrs, "{}", 2, &resp);
        ck_assert_int_eq(resp.status, 200);
        v = xf_http_header(&resp, "Access-Control-Allow-Origin");
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v, origins[i]);
        free(v);
        v = xf_http_header(&resp, "Access-Control-Allow-Credentials");
        ck_assert_msg(v == NULL, "credentials under any: %s", v);
        xf_http_resp_free(&resp);

        /* a list: credentials for a listed origin, nothing otherwise */
        snprintf(u, sizeof(u), "%s/listed", nginx->url);
        xf_http_request("POST", u, hdrs, "{}", 2, &resp);
        ck_assert_int_eq(resp.status, 200);
        v = xf_http_header(&resp, "Access-Control-Allow-Credentials");

        if (i == 0) {
            ck_assert_ptr_nonnull(v);
            ck_assert_str_eq(v, "true");
            free(v);
            v = xf_http_header(&resp, "Access-Control-Allow-Origin");
            ck_assert_ptr_nonnull(v);
            ck_assert_str_eq(v, origins[0]);

        } else {
            ck_assert_ptr_null(v);
            v = xf_http_header(&resp, "Access-Control-Allow-Origin");
            ck_assert_ptr_null(v);
        }

        free(v);
        xf_http_resp_free(&resp);
    }
}
END_TEST


/*
 * A refused GET beacon's payload is its query: the info-level line about
 * the refusal does not carry the request line.
 */
START_TEST(test_no_payload_in_log)
{
    char            *log, u[256];
    xf_http_resp_t   resp;

    nginx = xf_nginx_new("    xflow_kafka_brokers @BROKERS@;\n"
                         "    xflow_topic events;\n"
                         "    server {\n"
                         "        listen 127.0.0.1:@PORT@;\n"
                         "        location /sa { xflow_collect sensors; }\n"
                         "    }\n", kafka->bootstraps, 1);
    xf_nginx_start(nginx);

    snprintf(u, sizeof(u), "%s/sa.gif?project=p&data=*payload-9f3e-"
             "secret*", nginx->url);
    xf_http_request("GET", u, NULL, NULL, 0, &resp);
    ck_assert_int_eq(resp.status, 400);
    xf_http_resp_free(&resp);

    xf_sleep_ms(200);
    log = xf_nginx_read_log(nginx);
    ck_assert_msg(strstr(log, "xflow: 400") != NULL, "%s", log);
    ck_assert_msg(strstr(log, "payload-9f3e-secret") == NULL, "%s", log);
    free(log);
}
END_TEST


Suite *
make_privacy_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("privacy");

    tc = xf_tcase(s, "core", 60, privacy_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_cookies_ua_and_fields);
    tcase_add_test(tc, test_reference_differs_under_another_key);
    tcase_add_test(tc, test_geoip_through_trusted_proxy);
    tcase_add_test(tc, test_client_ip_modes);
    tcase_add_test(tc, test_bad_key_and_database_fail_config_test);
    tcase_add_test(tc, test_key_permissions_warn);
    tcase_add_test(tc, test_cors_credentials);
    tcase_add_test(tc, test_no_payload_in_log);

    return s;
}
