/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-shipped-privacy.c - the configuration users are told to copy
 * (docs/deploy/nginx.conf, with only its paths, ports, brokers and the
 * proxy it trusts changed) keeps every identifier out of Kafka and out
 * of the logs, for every SDK family.
 *
 * Every request carries what a browser behind the stack's proxy sends: a
 * 2 KB Cookie header holding each SDK's cookies (and others), Chrome's
 * User-Agent, and the client address in X-Forwarded-For.  The uploads:
 * every record of tests/fixtures/sdk-captures (all seven families in
 * every mode tests/browser drives, recorded from the real browser SDKs),
 * every app-SDK fixture (tests/fixtures/app-sdk), uploads in the shape
 * the SDK sources build with a user id set (Segment analytics-next,
 * RudderStack, Snowplow browser tracker POST and pixel, mixpanel-browser
 * POST and GET, Amplitude Browser SDK 2, plain JSON), plus requests that
 * can only be dead-lettered.
 *
 * Then no message key, value or header of any topic, and no line of the
 * access or error log, holds a cookie value, the User-Agent, the client
 * address or any identifier of the uploads; the User-Agent dictionary
 * holds the User-Agent once, under its reference, and nothing else.
 *
 * A visitor whose browser sends Sec-GPC: 1 gets no persistent
 * identifier: every message of theirs says "ids":"cookieless", has no
 * cookie references, and its key is one id for the day, the same for
 * two uploads with different device ids, another for another visitor.
 * That the id changes with the UTC day is unit-tested (the core takes
 * the day as an argument: test_cookieless_rotation).
 */

#include <check.h>
#include <jansson.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xf_test.h"


#define SP_MAX_CAPTURES  64
#define SP_MAX_RAW       512
#define SP_REF_LEN       22

#define SP_UA    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " \
                 "AppleWebKit/537.36 (KHTML, like Gecko) " \
                 "Chrome/131.0.0.0 Safari/537.36"
#define SP_UA2   "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) " \
                 "AppleWebKit/605.1.15 (KHTML, like Gecko) " \
                 "Version/17.6 Safari/605.1.15"
#define SP_ADDR  "81.2.69.160"
#define SP_ADDR2 "81.2.69.177"

/* identifiers of the hand-built uploads */
#define SP_SEG_ANON  "5e1e2c1a-9f7d-4a39-8c55-seganon00001"
#define SP_SEG_USER  "customer-segment-77821"
#define SP_RS_ANON   "1b7c9a20-rudder-anon-4b5f-9e11aa00"
#define SP_DUID      "d3c1f0e2-6a7b-4c8d-9e0f-spduid000001"
#define SP_SID       "a9b8c7d6-e5f4-4a3b-8c2d-spsid0000001"
#define SP_NUID      "f0e1d2c3-b4a5-4968-8776-spnuid000001"
#define SP_UID       "customer-snowplow-44190"
#define SP_MP_DEV    "1936c0a4d2e5f1-0a9b8c7d6e5f4-mpdev0001"
#define SP_MP_USER   "customer-mixpanel-88127"
#define SP_AMP_DEV   "7a1d2c3b-amp-device-4e5f-8a9b0c1d2e3f"
#define SP_AMP_USER  "customer-amplitude-30571"
#define SP_AMP_DEV2  "9c8b7a6d-amp-device-5f4e-3d2c1b0a9f8e"
#define SP_JSON_ID   "customer-json-99310@example.com"
#define SP_DL_ID     "deadletter-7d1e@example.com"
#define SP_SEG_WK    "wk_ShopWriteKey0123"
#define SP_RS_WK     "rs_BeaconWriteKey4567"


static char   sp_files[SP_MAX_CAPTURES][512];
static size_t sp_nfiles;

static char  *sp_raw[SP_MAX_RAW];       /* values none may hold */
static size_t sp_nraw;

static char   sp_cookie[4096];

static const char  *sp_topics[] = {
    "events", "xflow_dead_letter", "xflow.ua"
};

#define SP_NTOPICS  (sizeof(sp_topics) / sizeof(sp_topics[0]))

/* The members whose values identify a user, a device or a session. */
static const char  *sp_id_keys[] = {
    "distinct_id", "$distinct_id", "anonymous_id", "login_id",
    "$device_id", "$anon_distinct_id", "$session_id", "$window_id",
    "$identity_cookie_id", "$identity_anonymous_id", "$identity_login_id",
    "$user_id", "userId", "anonymousId", "duid", "uid", "nuid", "tnuid",
    "sid", "device_id", "user_id", NULL
};

/*
 * Write keys are credentials: none may reach Kafka or a log, whether it
 * came in a body (the app-SDK fixtures of analytics-kotlin and -swift,
 * the hand-built Segment upload), a query (a hand-built batch, as
 * RudderStack's beacon sends it) or Basic credentials
 * (analytics-android's fixture).  The
 * browser captures' keys are not among them: the recording page carries
 * its key in its own URL, which the SDKs copy into every event's page
 * context.
 */
static const char  *sp_write_keys[] = {
    "SegWriteKeyAndroid4", "SegWriteKeyKotlin01", "SegWriteKeySwift001"
};


/* ------------------------------------------------------------ values */

static void
sp_add_raw(const char *v)
{
    xf_str_set_add(sp_raw, &sp_nraw, SP_MAX_RAW, v);
}


/* The string values of id members anywhere in v. */
static void
sp_walk(json_t *v)
{
    xf_json_strings_of(v, sp_id_keys, sp_add_raw);
}


/* The ids sp_send_families() puts in the uploads it makes. */
static void
sp_add_family_ids(void)
{
    size_t              i;
    static const char  *ids[] = {
        SP_SEG_ANON, SP_SEG_USER, SP_RS_ANON, SP_DUID, SP_SID, SP_NUID,
        SP_UID, SP_MP_DEV, SP_MP_USER, SP_AMP_DEV, SP_AMP_USER, SP_JSON_ID,
        SP_SEG_WK, SP_RS_WK
    };

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sp_add_raw(ids[i]);
    }
}


/*
 * The Cookie header of every request: each SDK's cookies as its browser
 * library writes them, analytics cookies of other tools, and first-party
 * cookies up to 2 KB.  Every value is a raw value to look for.
 */
static void
sp_make_cookie(void)
{
    int          n;
    char        *p, *eq, *end, val[64];
    size_t       i;
    const char  *sdk =
        "sensorsdata2015jssdkcross=%7B%22distinct_id%22%3A%2218c1a2b3c4d5e6"
        "-0f1e2d3c4b5a69-26001951-2073600-18c1a2b3c4d5e7%22%2C%22first_id%22"
        "%3A%22%22%7D; "
        "sajssdk_2015_cross_new_user=1; "
        "ph_phc_HarnessProjectToken0123456789abcdefABCDEF_posthog=%7B%22"
        "distinct_id%22%3A%22019384ab-cdef-7012-8345-6789abcdef01%22%2C%22"
        "%24sesid%22%3A%5B1733580000000%2C%22019384ab-0000-7000-8000-sess"
        "ion000001%22%2C1733580000000%5D%7D; "
        "_sp_id.1fff=" SP_DUID ".1733500000.3.1733580000.1733570000."
        SP_SID "; "
        "_sp_ses.1fff=*; "
        "sp=" SP_NUID "; "
        "ajs_anonymous_id=" SP_SEG_ANON "; "
        "ajs_user_id=" SP_SEG_USER "; "
        "rl_anonymous_id=RudderEncrypt%3AU2FsdGVkX1%2Bq8kMzYxRudderAnon00; "
        "mp_0f1e2d3c4b5a69788796a5b4c3d2e1f0_mixpanel=%7B%22distinct_id%22"
        "%3A%22%24device%3A" SP_MP_DEV "%22%7D; "
        "AMP_a1b2c3d4e5=JTdCJTIyZGV2aWNlSWQlMjIlM0ElMjI3YTFkMmMzYi1hbXAtZG"
        "V2aWNlJTIyJTdE; "
        "_ga=GA1.1.1284719230.1733500000; "
        "_ga_X1Y2Z3W4V5=GS1.1.1733580000.3.1.1733580100.0.0.0; "
        "_fbp=fb.1.1733500000000.1947382910; "
        "cookie_consent=granted";

    p = sp_cookie;
    p += snprintf(p, sizeof(sp_cookie), "%s", sdk);

    for (i = 0; p - sp_cookie < 2048; i++) {
        n = snprintf(p, sizeof(sp_cookie) - (p - sp_cookie),
                     "; pref_%zu=site-pref-%04zu-7f3a9c1e2b4d", i, i);
        p += n;
    }

    /* every value, split as a server would */

    p = sp_cookie;

    while (*p) {
        end = strstr(p, "; ");
        if (end == NULL) {
            end = p + strlen(p);
        }

        eq = memchr(p, '=', end - p);
        if (eq && (size_t) (end - eq - 1) < sizeof(val)) {
            memcpy(val, eq + 1, end - eq - 1);
            val[end - eq - 1] = '\0';
            sp_add_raw(val);
        }

        p = *end ? end + 2 : end;
    }
}


/* --------------------------------------------------------- the config */

/*
 * docs/deploy/nginx.conf for this test's nginx: paths, ports, brokers,
 * and the proxy whose X-Forwarded-For it trusts (this test, on loopback,
 * stands for Traefik); nothing else changes, the log levels and formats
 * included.
 */
static void
sp_start(void)
{
    char  *conf;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    conf = xf_shipped_conf_private(nginx, xf_test_free_port());

    conf = xf_replace_once(conf, "set_real_ip_from 172.30.0.0/24;",
                           "set_real_ip_from 127.0.0.1;");

    xf_nginx_conf_text(nginx, conf);
    free(conf);

    xf_nginx_start(nginx);
}


static void
sp_setup(void)
{
    xf_fixture_setup(1, 15000, NULL);
    xf_fixture_topics(sp_topics, SP_NTOPICS, 1);

    sp_nraw = 0;
    sp_make_cookie();
    sp_add_raw(SP_UA);
    sp_add_raw(SP_UA2);
    sp_add_raw(SP_ADDR);
    sp_add_raw(SP_ADDR2);
}


static void
sp_teardown(void)
{
    size_t  i;

    xf_fixture_teardown();

    for (i = 0; i < sp_nraw; i++) {
        free(sp_raw[i]);
    }

    sp_nraw = 0;
}


/* ---------------------------------------------------------- requests */

/*
 * Send with the visitor's headers: the request's own (a capture's or
 * a fixture's: Content-Type, Content-Encoding, Authorization...) except
 * Cookie, User-Agent and X-Forwarded-For, which are the browser's.
 */
static long
sp_send(const char *method, const char *path, char *const *own,
    const char *ua, const char *addr, int gpc, const void *body, size_t len)
{
    char            *url, *h[40], *ck, *uah, *xff;
    long             status;
    size_t           n, i;
    xf_http_resp_t   resp;

    n = 0;

    for (i = 0; own && own[i] && n < 34; i++) {
        if (strncasecmp(own[i], "Cookie:", 7) == 0
            || strncasecmp(own[i], "User-Agent:", 11) == 0
            || strncasecmp(own[i], "X-Forwarded-For:", 16) == 0
            || strncasecmp(own[i], "Sec-GPC:", 8) == 0)
        {
            continue;
        }

        h[n++] = own[i];
    }

    ck_assert_int_ge(asprintf(&ck, "Cookie: %s", sp_cookie), 0);
    ck_assert_int_ge(asprintf(&uah, "User-Agent: %s", ua), 0);
    ck_assert_int_ge(asprintf(&xff, "X-Forwarded-For: %s", addr), 0);
    h[n++] = ck;
    h[n++] = uah;
    h[n++] = xff;

    if (gpc) {
        h[n++] = "Sec-GPC: 1";
    }

    h[n] = NULL;

    ck_assert_int_ge(asprintf(&url, "%s%s", nginx->url, path), 0);
    xf_http_request(method, url, (const char *const *) h, body, len, &resp);
    status = resp.status;
    xf_http_resp_free(&resp);

    free(url);
    free(ck);
    free(uah);
    free(xff);

    ck_assert_msg(status != 0, "%s %s: no answer", method, path);

    return status;
}


static long
sp_post(const char *path, const char *ctype, const char *body, int gpc,
    const char *ua, const char *addr)
{
    char  *own[2], *ct;
    long   st;

    ck_assert_int_ge(asprintf(&ct, "Content-Type: %s", ctype), 0);
    own[0] = ct;
    own[1] = NULL;

    st = sp_send("POST", path, own, ua, addr, gpc, body, strlen(body));
    free(ct);

    return st;
}


/* Every record of one capture file, its ids collected first. */
static void
sp_replay_capture(const char *file)
{
    char              *path;
    size_t             i;
    json_t            *doc, *recs, *rec;
    const char        *query;
    json_error_t       err;
    xf_capture_req_t   r;

    doc = json_load_file(file, 0, &err);
    ck_assert_msg(doc != NULL, "%s: %s", file, err.text);

    recs = json_object_get(doc, "serverRecords");
    ck_assert(json_is_array(recs));

    json_array_foreach(recs, i, rec) {
        sp_walk(json_object_get(rec, "decoded"));
        sp_walk(json_object_get(rec, "queryParams"));
    }

    json_array_foreach(recs, i, rec) {
        query = json_string_value(json_object_get(rec, "query"));

        ck_assert_int_ge(asprintf(&path, "%s%s",
                             json_string_value(json_object_get(rec, "path")),
                             query ? query : ""), 0);

        xf_capture_req(rec, &r);
        (void) sp_send(r.method, path, r.headers, SP_UA, SP_ADDR, 0,
                       strcmp(r.method, "POST") == 0 || r.len ? r.body
                                                              : NULL,
                       r.len);
        xf_capture_req_free(&r);
        free(path);
    }

    json_decref(doc);
}


/* Every app-SDK fixture: its Kafka keys (the distinct ids) are ids. */
static void
sp_replay_appsdk(void)
{
    char          pat[512], *path, *own[16];
    size_t        i, j, n, len;
    u_char       *body;
    json_t       *fx, *hs, *ev;
    glob_t        g;
    const char   *q, *b64;
    json_error_t  err;

    snprintf(pat, sizeof(pat), "%s/tests/fixtures/app-sdk/*.json",
             xf_test_src_dir());
    ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
    ck_assert_uint_gt(g.gl_pathc, 0);

    for (i = 0; i < g.gl_pathc; i++) {
        fx = json_load_file(g.gl_pathv[i], 0, &err);
        ck_assert_msg(fx != NULL, "%s: %s", g.gl_pathv[i], err.text);

        json_array_foreach(json_object_get(json_object_get(fx, "expect"),
                                           "events"), j, ev)
        {
            sp_add_raw(json_string_value(json_object_get(ev, "key")));
        }

        hs = json_object_get(fx, "headers");
        n = 0;

        for (j = 0; j < json_array_size(hs) && n < 15; j++) {
            own[n++] = (char *) json_string_value(json_array_get(hs, j));
        }

        own[n] = NULL;

        b64 = json_string_value(json_object_get(fx, "body_b64"));
        body = xf_base64_decode(b64, strlen(b64), &len);
        ck_assert_ptr_nonnull(body);

        /* a JSON body: its ids too */
        if (len && body[0] == '{') {
            json_t  *doc = json_loadb((const char *) body, len, 0, &err);

            sp_walk(doc);
            json_decref(doc);
        }

        q = json_string_value(json_object_get(fx, "query"));
        ck_assert_int_ge(asprintf(&path, "%s%s%s",
                             json_string_value(json_object_get(fx, "path")),
                             q && *q ? "?" : "", q ? q : ""), 0);

        (void) sp_send(json_string_value(json_object_get(fx, "method")),
                       path, own, SP_UA, SP_ADDR, 0, body, len);

        free(path);
        free(body);
        json_decref(fx);
    }

    globfree(&g);
}


/* base64 for the Mixpanel data= form; caller frees. */
static char *
sp_b64(const char *s)
{
    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char               *out, *o;
    size_t              n, i;
    unsigned            v;

    n = strlen(s);
    out = malloc(4 * (n / 3 + 1) + 1);
    ck_assert_ptr_nonnull(out);

    for (i = 0, o = out; i < n; i += 3) {
        v = (unsigned char) s[i] << 16;
        v |= i + 1 < n ? (unsigned char) s[i + 1] << 8 : 0;
        v |= i + 2 < n ? (unsigned char) s[i + 2] : 0;
        *o++ = a[v >> 18 & 63];
        *o++ = a[v >> 12 & 63];
        *o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? a[v & 63] : '=';
    }

    *o = '\0';

    return out;
}


/* Percent-encode what a form value may not hold as is; caller frees. */
static char *
sp_urlenc(const char *s)
{
    char  *out, *o;

    out = malloc(3 * strlen(s) + 1);
    ck_assert_ptr_nonnull(out);

    for (o = out; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
            || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'
            || *s == '_')
        {
            *o++ = *s;
        } else {
            o += sprintf(o, "%%%02X", (unsigned char) *s);
        }
    }

    *o = '\0';

    return out;
}


/*
 * Uploads in the shape the SDKs build with what the browser captures
 * lack: a user id, cookies the SDK names, a second visitor (the files
 * named are the SDKs' own).
 */
static void
sp_send_families(int gpc, const char *ua, const char *addr)
{
    char        *b, *d, *e;
    const char  *mp_track, *mp_engage;

    /* Segment analytics-next, src/plugins/segmentio (text/plain) */
    ck_assert_int_eq(sp_post("/v1/t", "text/plain",
        "{\"timestamp\":\"2024-12-07T14:00:00.000Z\",\"integrations\":{},"
        "\"type\":\"track\",\"event\":\"Order Completed\",\"properties\":"
        "{\"order_id\":\"ORD-1\",\"total\":99.5},\"context\":{\"page\":"
        "{\"path\":\"/checkout\",\"url\":\"https://shop.example.com/"
        "checkout\"},\"userAgent\":\"" SP_UA "\",\"userAgentData\":"
        "{\"brands\":[{\"brand\":\"Chromium\",\"version\":\"131\"}],"
        "\"mobile\":false,\"platform\":\"Windows\"},\"locale\":\"en-GB\","
        "\"library\":{\"name\":\"analytics.js\",\"version\":"
        "\"npm:next-1.70.0\"},\"ip\":\"" SP_ADDR "\"},\"messageId\":"
        "\"ajs-next-1733580000000-4c1e\",\"anonymousId\":\"" SP_SEG_ANON
        "\",\"userId\":\"" SP_SEG_USER "\",\"writeKey\":"
        "\"" SP_SEG_WK "\",\"sentAt\":\"2024-12-07T14:00:00.010Z\"}",
        gpc, ua, addr), 200);

    /* RudderStack rudder-sdk-js v3 (its session id, traits) */
    ck_assert_int_eq(sp_post("/v1/track", "application/json",
        "{\"channel\":\"web\",\"context\":{\"traits\":{\"anonymousId\":\""
        SP_RS_ANON "\"},\"library\":{\"name\":\"RudderLabs JavaScript SDK\","
        "\"version\":\"3.11.0\"},\"userAgent\":\"" SP_UA "\",\"locale\":"
        "\"en-GB\",\"sessionId\":1733580000000,\"sessionStart\":true},"
        "\"type\":\"track\",\"messageId\":\"6f0e-rudder-msg-1\","
        "\"originalTimestamp\":\"2024-12-07T14:00:00.000Z\",\"anonymousId\":"
        "\"" SP_RS_ANON "\",\"userId\":\"\",\"event\":\"Product Viewed\","
        "\"properties\":{\"sku\":\"SKU-1\"},\"integrations\":{\"All\":true},"
        "\"sentAt\":\"2024-12-07T14:00:00.020Z\"}", gpc, ua, addr), 200);

    /* the write key in the query, as RudderStack's beacon sends it (the
     * shipped configuration has no /beacon/ location) */
    ck_assert_int_eq(sp_post("/v1/batch?writeKey=" SP_RS_WK,
        "text/plain;charset=UTF-8",
        "{\"batch\":[{\"type\":\"track\",\"event\":\"Page Left\","
        "\"anonymousId\":\"" SP_RS_ANON "\",\"messageId\":"
        "\"6f0e-rudder-msg-2\",\"channel\":\"web\"}],"
        "\"sentAt\":\"2024-12-07T14:00:01.000Z\"}", gpc, ua, addr), 200);

    /* Snowplow browser tracker 3, POST tp2 */
    ck_assert_int_eq(sp_post("/com.snowplowanalytics.snowplow/tp2",
        "application/json; charset=UTF-8",
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/"
        "jsonschema/1-0-4\",\"data\":[{\"e\":\"pv\",\"url\":"
        "\"https://shop.example.com/\",\"page\":\"Home\",\"tv\":\"js-3.24.0\","
        "\"tna\":\"sp\",\"aid\":\"shop\",\"p\":\"web\","
        "\"tz\":\"Europe/London\",\"lang\":\"en-GB\",\"cs\":\"UTF-8\","
        "\"res\":\"1920x1080\",\"cd\":\"24\",\"cookie\":\"1\",\"eid\":"
        "\"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e\",\"dtm\":\"1733580000000\","
        "\"vp\":\"1280x720\",\"vid\":\"3\","
        "\"sid\":\"" SP_SID "\",\"duid\":\"" SP_DUID "\",\"uid\":\"" SP_UID
        "\",\"tnuid\":\"" SP_NUID "\",\"stm\":\"1733580000100\"}]}",
        gpc, ua, addr), 200);

    /* a network user id the collector passed in the query: the key */
    ck_assert_int_eq(sp_post("/com.snowplowanalytics.snowplow/tp2?nuid="
        SP_NUID, "application/json; charset=UTF-8",
        "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/"
        "jsonschema/1-0-4\",\"data\":[{\"e\":\"se\",\"se_ca\":\"cart\","
        "\"se_ac\":\"add\",\"aid\":\"shop\",\"p\":\"web\",\"tv\":"
        "\"js-3.24.0\",\"dtm\":\"1733580000002\"}]}", gpc, ua, addr), 200);

    /* ... and the pixel */
    ck_assert_int_eq(sp_send("GET", "/i?e=pv&url=https%3A%2F%2Fshop.example"
        ".com%2F&page=Home&tv=js-3.24.0&tna=sp&aid=shop&p=web&res=1920x1080"
        "&vid=3&sid=" SP_SID "&duid=" SP_DUID "&uid=" SP_UID
        "&dtm=1733580000001&stm=1733580000101", NULL, ua, addr, gpc, NULL,
        0), 200);

    /* mixpanel-browser 2.55: track and engage, data= base64 JSON */
    mp_track =
        "[{\"event\":\"$mp_web_page_view\",\"properties\":{\"$os\":"
        "\"Windows\",\"$browser\":\"Chrome\",\"$current_url\":"
        "\"https://shop.example.com/\",\"$browser_version\":131,"
        "\"mp_lib\":\"web\",\"$lib_version\":\"2.55.1\",\"$insert_id\":"
        "\"k3j4h5g6f7d8s9a0\",\"time\":1733580000.123,\"distinct_id\":"
        "\"$device:" SP_MP_DEV "\",\"$device_id\":\"" SP_MP_DEV "\","
        "\"$initial_referrer\":\"$direct\",\"token\":"
        "\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"}},"
        "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\""
        SP_MP_USER "\",\"$anon_distinct_id\":\"$device:" SP_MP_DEV "\","
        "\"$device_id\":\"" SP_MP_DEV "\",\"$user_id\":\"" SP_MP_USER "\","
        "\"token\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"}}]";
    mp_engage =
        "[{\"$set\":{\"$email\":\"x@example.com\"},\"$token\":"
        "\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"$distinct_id\":\""
        SP_MP_USER "\",\"$device_id\":\"" SP_MP_DEV "\",\"$user_id\":\""
        SP_MP_USER "\"}]";

    d = sp_b64(mp_track);
    e = sp_urlenc(d);
    ck_assert_int_ge(asprintf(&b, "data=%s", e), 0);
    ck_assert_int_eq(sp_post("/track/?verbose=1&ip=1&_=1733580000000",
                             "application/x-www-form-urlencoded", b, gpc,
                             ua, addr), 200);
    free(b);

    /* the GET transport: the payload is the query */
    ck_assert_int_ge(asprintf(&b, "/track/?data=%s&ip=1&_=1733580000001",
                              e), 0);
    ck_assert_int_eq(sp_send("GET", b, NULL, ua, addr, gpc, NULL, 0), 200);
    free(b);
    free(e);
    free(d);

    d = sp_b64(mp_engage);
    e = sp_urlenc(d);
    ck_assert_int_ge(asprintf(&b, "data=%s", e), 0);
    ck_assert_int_eq(sp_post("/engage/?verbose=1&ip=1",
                             "application/x-www-form-urlencoded", b, gpc,
                             ua, addr), 200);
    free(b);
    free(e);
    free(d);

    /* Amplitude Browser SDK 2, HTTP API v2 */
    ck_assert_int_eq(sp_post("/2/httpapi", "application/json",
        "{\"api_key\":\"5e3d0c9a8b7f6e5d4c3b2a1908f7e6d5\",\"events\":[{"
        "\"user_id\":\"" SP_AMP_USER "\",\"device_id\":\"" SP_AMP_DEV "\","
        "\"session_id\":1733580000000,\"time\":1733580000123,\"platform\":"
        "\"Web\",\"os_name\":\"Chrome\",\"os_version\":\"131\","
        "\"language\":\"en-GB\",\"ip\":\"$remote\",\"insert_id\":"
        "\"8e7d6c5b-4a39-4281-9f0e-amp-insert-1\",\"event_type\":"
        "\"[Amplitude] Page Viewed\",\"event_properties\":{\"page\":\"/\"},"
        "\"event_id\":1,\"library\":\"amplitude-ts/2.11.0\",\"user_agent\":"
        "\"" SP_UA "\"}],\"options\":{}}", gpc, ua, addr), 200);

    /* anything that posts JSON */
    ck_assert_int_eq(sp_post("/collect", "application/json",
        "{\"event\":\"page_view\",\"distinct_id\":\"" SP_JSON_ID "\","
        "\"user_agent\":\"" SP_UA "\",\"ip\":\"" SP_ADDR "\",\"app\":"
        "\"shop\"}", gpc, ua, addr), 200);
}


/* Requests that can only be dead-lettered, with an identifier in them. */
static void
sp_dead_letters(void)
{
    const char  *id = SP_DL_ID;
    char        *b;

    sp_add_raw(id);

    /* events that are not objects */
    ck_assert_int_ge(asprintf(&b, "[\"%s\",{\"distinct_id\":\"%s\","
                              "\"event\":\"e\"}]", id, id), 0);
    (void) sp_post("/collect", "application/json", b, 0, SP_UA, SP_ADDR);
    free(b);

    /* NDJSON cut short */
    ck_assert_int_ge(asprintf(&b, "{\"event\":\"e\",\"distinct_id\":\"%s\"}"
                              "\n{\"event\":\"e\",\"distinct_id\":\"%s\",",
                              id, id), 0);
    (void) sp_post("/collect", "application/json", b, 0, SP_UA, SP_ADDR);
    free(b);

    /* a Sensors form whose data is not base64 but holds the id */
    ck_assert_int_ge(asprintf(&b, "data=*%s*&gzip=0", id), 0);
    (void) sp_post("/sa.gif?project=default",
                   "application/x-www-form-urlencoded", b, 0, SP_UA,
                   SP_ADDR);
    free(b);

    /* a GET beacon with the id in its broken query */
    (void) sp_send("GET", "/sa.gif?project=default&data=*deadletter-7d1e%40"
                   "example.com*&distinct_id=deadletter-7d1e%40example.com",
                   NULL, SP_UA, SP_ADDR, 0, NULL, 0);

    /* Snowplow events missing their "e", with ids */
    (void) sp_post("/com.snowplowanalytics.snowplow/tp2", "application/json",
                   "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/"
                   "payload_data/jsonschema/1-0-4\",\"data\":[{\"duid\":\""
                   SP_DUID "\",\"sid\":\"" SP_SID "\"}]}", 0, SP_UA,
                   SP_ADDR);

    /* Amplitude events without event_type */
    (void) sp_post("/2/httpapi", "application/json",
                   "{\"api_key\":\"5e3d0c9a8b7f6e5d4c3b2a1908f7e6d5\","
                   "\"events\":[{\"device_id\":\"" SP_AMP_DEV "\","
                   "\"user_agent\":\"" SP_UA "\"}]}", 0, SP_UA, SP_ADDR);
}


/* ------------------------------------------------------------- check */

static int
sp_is_ref(const char *p, size_t len)
{
    return len == SP_REF_LEN
           && strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") >= SP_REF_LEN;
}


/* Nothing raw in p, len; the UA dictionary's values may hold the UAs. */
static void
sp_check_bytes(const char *what, const char *p, size_t len, int ua_ok)
{
    size_t  j;

    if (p == NULL) {
        return;
    }

    for (j = 0; j < sp_nraw; j++) {
        if (ua_ok && (strcmp(sp_raw[j], SP_UA) == 0
                      || strcmp(sp_raw[j], SP_UA2) == 0))
        {
            continue;
        }

        ck_assert_msg(xf_memstr(p, len, sp_raw[j]) == NULL,
                      "%s holds \"%s\": %.600s", what, sp_raw[j], p);
    }
}


/* Every message of every topic; the event topic's messages into out. */
static void
sp_check_topics(xf_kafka_msgs_t *events, size_t *body_uas)
{
    char              what[64];
    size_t            t, i, h, nua, nua2;
    int64_t           count, last;
    xf_kafka_msgs_t   out;
    xf_kafka_msg_t   *m;

    for (t = 0; t < SP_NTOPICS; t++) {

        /* until the count holds still: nothing more is in flight */
        last = -1;
        for (i = 0; i < 50; i++) {
            count = xf_kafka_count(kafka, sp_topics[t]);
            if (count == last) {
                break;
            }
            last = count;
            xf_sleep_ms(300);
        }

        memset(&out, 0, sizeof(out));

        if (count > 0) {
            xf_kafka_consume(kafka, sp_topics[t], (size_t) count, 10000, 0,
                             &out);
        }

        fprintf(stderr, "shipped_privacy: %s: %lld messages\n",
                sp_topics[t], (long long) count);

        nua = 0;
        nua2 = 0;

        for (i = 0; i < out.n; i++) {
            m = &out.msgs[i];

            snprintf(what, sizeof(what), "%s key", sp_topics[t]);
            sp_check_bytes(what, m->key, m->key_len, 0);

            snprintf(what, sizeof(what), "%s value", sp_topics[t]);
            sp_check_bytes(what, m->value, m->value_len, t == 2);

            for (h = 0; h < m->nheaders; h++) {
                snprintf(what, sizeof(what), "%s header %s", sp_topics[t],
                         m->headers[h].name);
                sp_check_bytes(what, m->headers[h].name,
                               strlen(m->headers[h].name), 0);
                sp_check_bytes(what, m->headers[h].value,
                               m->headers[h].value_len, 0);
            }

            if (t == 0) {
                /* keys are references (or cookieless ids), if any */
                ck_assert_msg(m->key == NULL || m->key_len == 0
                              || sp_is_ref(m->key, m->key_len),
                              "key \"%s\" is not a reference", m->key);
            }

            if (t == 2) {
                /*
                 * The dictionary: a reference and a User-Agent, nothing
                 * else, each User-Agent once: the browser's, and those
                 * the events carried (PostHog's $raw_user_agent).
                 */
                ck_assert_msg(sp_is_ref(m->key, m->key_len),
                              "xflow.ua key \"%s\"", m->key);
                ck_assert_msg(strncmp(m->value, "{\"ua\":\"", 7) == 0
                              && strcmp(m->value + m->value_len - 2, "\"}")
                                 == 0
                              && strchr(m->value + 7, '"')
                                 == m->value + m->value_len - 2,
                              "xflow.ua value %s", m->value);

                for (h = 0; h < i; h++) {
                    ck_assert_msg(strcmp(out.msgs[h].value, m->value) != 0,
                                  "xflow.ua twice: %s", m->value);
                }

                nua += strcmp(m->value, "{\"ua\":\"" SP_UA "\"}") == 0;
                nua2 += strstr(m->value, "Chrome/156") != NULL;
            }
        }

        if (t == 2) {
            ck_assert_uint_eq(nua, 1);
            *body_uas = nua2;
        }

        if (t == 0) {
            *events = out;

        } else {
            xf_kafka_msgs_free(&out);
        }
    }
}


static void
sp_check_logs(void)
{
    char    path[256], *log;
    size_t  len;

    snprintf(path, sizeof(path), "%s/access.log", nginx->dir);
    log = xf_read_file(path, &len);
    ck_assert_msg(log != NULL && len > 0, "no access log");
    sp_check_bytes("the access log", log, len, 0);
    ck_assert_msg(strstr(log, "81.2.69.0 ") != NULL,
                  "the access log has no truncated address: %.300s", log);
    free(log);

    log = xf_read_file(nginx->log, &len);
    ck_assert_ptr_nonnull(log);
    sp_check_bytes("the error log", log, len, 0);
    free(log);
}


/* The events of one request with this app ("app":"...") in out. */
static size_t
sp_events_of(xf_kafka_msgs_t *evs, const char *needle, xf_kafka_msg_t **out,
    size_t max)
{
    size_t  i, n;

    for (i = 0, n = 0; i < evs->n && n < max; i++) {
        if (xf_memstr(evs->msgs[i].value, evs->msgs[i].value_len, needle)) {
            out[n++] = &evs->msgs[i];
        }
    }

    return n;
}


static const char  *sp_srcs[] = {
    "\"src\":\"json\"", "\"src\":\"sensors\"", "\"src\":\"posthog\"",
    "\"src\":\"segment\"", "\"src\":\"snowplow\"",
    "\"src\":\"mixpanel\"", "\"src\":\"amplitude\""
};


START_TEST(test_shipped_no_identifier)
{
    size_t           i, n;
    json_t          *env;
    const char      *app, *wk;
    json_error_t     jerr;
    xf_kafka_msg_t  *m[64];
    xf_kafka_msgs_t  evs;

    for (i = 0; i < sp_nfiles; i++) {
        /* the ids of every capture, before anything is checked */
        json_error_t  err;
        json_t       *doc = json_load_file(sp_files[i], 0, &err);
        size_t        k;
        json_t       *rec;

        ck_assert_ptr_nonnull(doc);
        json_array_foreach(json_object_get(doc, "serverRecords"), k, rec) {
            /* a GET beacon's event is in its query (Mixpanel, Sensors) */
            sp_walk(json_object_get(rec, "decoded"));
            sp_walk(json_object_get(rec, "queryParams"));
        }
        json_decref(doc);
    }

    sp_add_family_ids();

    for (i = 0; i < sizeof(sp_write_keys) / sizeof(sp_write_keys[0]); i++) {
        sp_add_raw(sp_write_keys[i]);
    }

    sp_start();

    for (i = 0; i < sp_nfiles; i++) {
        fprintf(stderr, "shipped_privacy: %s\n", sp_files[i]);
        sp_replay_capture(sp_files[i]);
    }

    sp_replay_appsdk();
    sp_send_families(0, SP_UA, SP_ADDR);
    sp_dead_letters();

    /* with consent: references, and cookie references in the envelope */
    xf_nginx_quit(nginx, 10000);

    sp_check_topics(&evs, &n);
    sp_check_logs();

    /* the User-Agent PostHog copied into its events is resolvable */
    ck_assert_uint_eq(n, 1);

    fprintf(stderr, "shipped_privacy: %zu raw values, %zu events\n",
            sp_nraw, evs.n);

    /* every family reached Kafka through its shipped location */
    for (i = 0; i < sizeof(sp_srcs) / sizeof(sp_srcs[0]); i++) {
        ck_assert_msg(sp_events_of(&evs, sp_srcs[i], m, 64) > 0,
                      "no event with %s", sp_srcs[i]);
    }

    n = sp_events_of(&evs, "\"src\":\"amplitude\"", m, 64);
    ck_assert_uint_ge(n, 1);

    for (i = 0; i < n; i++) {
        if (xf_memstr(m[i]->value, m[i]->value_len, "\"error\"")) {
            continue;
        }

        ck_assert_ptr_nonnull(xf_memstr(m[i]->value, m[i]->value_len,
                                        "\"ids\":\"ref\""));
        ck_assert_ptr_nonnull(xf_memstr(m[i]->value, m[i]->value_len,
                                        "\"cookies\":{"));
        ck_assert_ptr_nonnull(xf_memstr(m[i]->value, m[i]->value_len,
                                        "\"ip\":\"81.2.69.0\""));
    }

    /*
     * A write key's place in the event holds its reference, and the app
     * is "wk:" and that same reference: the two join, neither is the key.
     */
    n = sp_events_of(&evs, "\"Order Completed\"", m, 64);
    ck_assert_uint_eq(n, 1);
    env = json_loadb(m[0]->value, m[0]->value_len, 0, &jerr);
    ck_assert_ptr_nonnull(env);
    app = json_string_value(json_object_get(env, "app"));
    wk = json_string_value(json_object_get(json_object_get(env, "event"),
                                           "writeKey"));
    ck_assert_msg(app != NULL && wk != NULL && strlen(wk) == SP_REF_LEN
                  && strncmp(app, "wk:", 3) == 0 && strcmp(app + 3, wk) == 0,
                  "app %s, writeKey %s", app ? app : "(none)",
                  wk ? wk : "(none)");
    json_decref(env);

    xf_kafka_msgs_free(&evs);
}
END_TEST


/*
 * Sec-GPC: 1: every message says "ids":"cookieless", carries no cookie
 * reference, and is keyed by one id for the visitor and the day: two
 * Amplitude uploads of different device ids share it, another visitor
 * (another address and User-Agent) gets another.
 */
START_TEST(test_shipped_gpc_cookieless)
{
    char             body[1024];
    size_t           i, n;
    const char      *key1, *key2;
    xf_kafka_msg_t  *m[64];
    xf_kafka_msgs_t  evs;

    sp_add_family_ids();
    sp_add_raw(SP_AMP_DEV2);

    sp_start();

    sp_send_families(1, SP_UA, SP_ADDR);

    /* the same visitor, another device id, no user id */
    snprintf(body, sizeof(body),
             "{\"api_key\":\"5e3d0c9a8b7f6e5d4c3b2a1908f7e6d5\",\"events\":"
             "[{\"device_id\":\"%s\",\"event_type\":\"tap\",\"user_agent\":"
             "\"%s\"}]}", SP_AMP_DEV2, SP_UA);
    ck_assert_int_eq(sp_post("/2/httpapi", "application/json", body, 1,
                             SP_UA, SP_ADDR), 200);

    /* another visitor */
    snprintf(body, sizeof(body),
             "{\"api_key\":\"5e3d0c9a8b7f6e5d4c3b2a1908f7e6d5\",\"events\":"
             "[{\"device_id\":\"%s\",\"event_type\":\"other\"}]}",
             SP_AMP_DEV);
    ck_assert_int_eq(sp_post("/2/httpapi", "application/json", body, 1,
                             SP_UA2, SP_ADDR2), 200);

    xf_nginx_quit(nginx, 10000);

    sp_check_topics(&evs, &n);
    sp_check_logs();

    ck_assert_uint_gt(evs.n, 10);

    for (i = 0; i < evs.n; i++) {
        ck_assert_msg(xf_memstr(evs.msgs[i].value, evs.msgs[i].value_len,
                                "\"ids\":\"cookieless\"") != NULL,
                      "not cookieless: %.400s", evs.msgs[i].value);
        ck_assert_msg(xf_memstr(evs.msgs[i].value, evs.msgs[i].value_len,
                                "\"cookies\"") == NULL,
                      "cookie references: %.400s", evs.msgs[i].value);
    }

    n = sp_events_of(&evs, "\"src\":\"amplitude\"", m, 64);
    ck_assert_uint_eq(n, 3);

    /* [Amplitude] Page Viewed and tap: one visitor, one key */
    key1 = NULL;
    key2 = NULL;

    for (i = 0; i < n; i++) {
        ck_assert(m[i]->key != NULL && sp_is_ref(m[i]->key, m[i]->key_len));

        if (xf_memstr(m[i]->value, m[i]->value_len, "\"other\"")) {
            key2 = m[i]->key;

        } else if (key1 == NULL) {
            key1 = m[i]->key;

        } else {
            ck_assert_str_eq(m[i]->key, key1);
        }

        /* the device id in the event is the key: one id for the day */
        ck_assert_ptr_nonnull(xf_memstr(m[i]->value, m[i]->value_len,
                                        m[i]->key));
    }

    ck_assert_ptr_nonnull(key1);
    ck_assert_ptr_nonnull(key2);
    ck_assert_str_ne(key1, key2);

    xf_kafka_msgs_free(&evs);
}
END_TEST


/*
 * The location's own rules over the standard treatment: a "drop" on a
 * field it treats drops it, and a "hash" on an id field stays an id, so
 * that a visitor without consent still gets the cookieless id there.
 */
START_TEST(test_rules_over_standard)
{
    char              path[256], *ev;
    const char       *h[] = {
        "Content-Type: application/json", "User-Agent: " SP_UA,
        "Sec-GPC: 1", NULL
    };
    xf_http_resp_t    resp;
    xf_kafka_msgs_t   out;

    nginx = xf_nginx_new("", kafka->bootstraps, 1);
    snprintf(path, sizeof(path), "%s/hash.key", nginx->dir);
    xf_write_file(path, "0123456789abcdef0123456789abcdef\n", 0400);

    xf_nginx_write_conf(nginx,
        "    xflow_kafka_brokers @BROKERS@;\n"
        "    xflow_kafka_conf linger.ms 1;\n"
        "    xflow_topic events;\n"
        "    xflow_hash_key hash.key;\n"
        "    xflow_privacy standard;\n"
        "    xflow_consent gpc;\n"
        "    xflow_strip_field distinct_id hash;\n"
        "    xflow_strip_field properties.$device_id drop;\n"
        "    server {\n"
        "        listen 127.0.0.1:@PORT@;\n"
        "        location / { xflow_collect posthog; }\n"
        "    }\n", kafka->bootstraps);
    xf_nginx_start(nginx);

    ev = "{\"api_key\":\"phc_tok\",\"batch\":[{\"event\":\"e\","
         "\"distinct_id\":\"" SP_SEG_ANON "\",\"properties\":{"
         "\"$device_id\":\"" SP_AMP_DEV "\",\"$session_id\":\"" SP_SID
         "\",\"$raw_user_agent\":\"" SP_UA "\"}}]}";

    snprintf(path, sizeof(path), "%s/batch/", nginx->url);
    xf_http_request("POST", path, h, ev, strlen(ev), &resp);
    ck_assert_int_eq(resp.status, 200);
    xf_http_resp_free(&resp);

    memset(&out, 0, sizeof(out));
    xf_kafka_consume(kafka, "events", 1, 10000, 300, &out);

    ck_assert_ptr_null(strstr(out.msgs[0].value, SP_SEG_ANON));
    ck_assert_ptr_null(strstr(out.msgs[0].value, SP_AMP_DEV));
    ck_assert_ptr_null(strstr(out.msgs[0].value, "$device_id"));
    ck_assert_ptr_null(strstr(out.msgs[0].value, "Chrome/131"));
    ck_assert_ptr_nonnull(strstr(out.msgs[0].value,
                                 "\"ids\":\"cookieless\""));

    /* the key is the cookieless id, and so is distinct_id in the event */
    ck_assert(out.msgs[0].key && sp_is_ref(out.msgs[0].key,
                                           out.msgs[0].key_len));
    snprintf(path, sizeof(path), "\"distinct_id\":\"%s\"",
             out.msgs[0].key);
    ck_assert_msg(strstr(out.msgs[0].value, path) != NULL, "%s",
                  out.msgs[0].value);

    /* one id for the visitor: the session id the standard treats too */
    snprintf(path, sizeof(path), "\"$session_id\":\"%s\"",
             out.msgs[0].key);
    ck_assert_msg(strstr(out.msgs[0].value, path) != NULL, "%s",
                  out.msgs[0].value);

    xf_kafka_msgs_free(&out);
}
END_TEST


Suite *
make_shipped_privacy_suite(void)
{
    Suite  *s;
    TCase  *tc;

    sp_nfiles = xf_test_captures(sp_files, SP_MAX_CAPTURES);

    s = suite_create("shipped_privacy");

    tc = xf_tcase(s, "shipped", 180, sp_setup, sp_teardown);
    tcase_add_test(tc, test_shipped_no_identifier);
    tcase_add_test(tc, test_shipped_gpc_cookieless);
    tcase_add_test(tc, test_rules_over_standard);

    return s;
}
