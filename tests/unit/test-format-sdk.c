/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-format-sdk.c - the Mixpanel and Amplitude adapters: the request
 * shapes their SDKs send (mixpanel-browser's base64 and JSON data= forms,
 * GET with data=, the verbose and img flags, /engage and /groups
 * updates; Amplitude's {api_key, events} to /2/httpapi and /batch,
 * gzip inside the body), the fields each event yields, per-event dead
 * letters for what each API requires, request errors, and automatic
 * detection.
 */

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "xf_base64.h"
#include "xf_form.h"
#include "xf_format.h"
#include "xf_hygiene.h"
#include "xf_unit_format.h"


/* "data=" + base64 of s, percent-encoded as encodeURIComponent would. */

static char *
mp_form(const char *s)
{
    size_t   n, len;
    u_char  *b, *f;

    len = strlen(s);
    b = malloc(xf_base64_encoded_len(len) + 1);
    f = malloc(5 + 3 * xf_base64_encoded_len(len) + 1);
    ck_assert(b != NULL && f != NULL);

    n = xf_base64_encode(b, (const u_char *) s, len, XF_BASE64_STD);
    memcpy(f, "data=", 5);
    n = xf_form_encode(f + 5, b, n);
    f[5 + n] = '\0';
    free(b);

    return (char *) f;
}


/* ------------------------------------------------------------- mixpanel */

/* What mixpanel-browser's track() sends (properties shortened). */
#define MP_TRACK(name, id, token)                                            \
    "{\"event\":\"" name "\",\"properties\":{\"$os\":\"Linux\","             \
    "\"$browser\":\"Chrome\",\"token\":\"" token "\",\"time\":1764694800.1,"  \
    "\"distinct_id\":\"" id "\",\"$insert_id\":\"i" id "\","                 \
    "\"city\":\"\\u4e0a\\u6d77\",\"cart\":{\"items\":[1,2]}}}"


/* Batch mode: a base64 JSON array in a form body, ?verbose=1. */

START_TEST(test_mixpanel_batch)
{
    char  *f;

    f = mp_form("[" MP_TRACK("$mp_web_page_view", "d1", "tok") ","
                MP_TRACK("add to cart", "d2", "tok") "]");

    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track/",
                         "verbose=1&ip=1&_=1764694800123", f), XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_MIXPANEL);
    ck_assert_int_eq(up.reply, XF_REPLY_MIXPANEL_VERBOSE);
    ck_assert_uint_eq(up.n, 2);
    ck_assert_uint_eq(up.rejected, 0);
    ck_event_json(0, MP_TRACK("$mp_web_page_view", "d1", "tok"));
    ck_str(up.events[1].name, "add to cart");
    ck_str(up.events[1].distinct_id, "d2");
    ck_str(up.events[1].app, "tok");
    free(f);
}
END_TEST


/* Not batched: one event, bare "1" answer; api_payload_format json. */

START_TEST(test_mixpanel_single)
{
    char  *f;

    f = mp_form(MP_TRACK("signup", "u", "t"));
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track",
                         "ip=0&_=1", f), XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_MIXPANEL);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].name, "signup");
    free(f);

    /* data=<JSON>, percent-encoded */
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
                         "data=%7B%22event%22%3A%22a%2Bb%22%2C%22properties"
                         "%22%3A%7B%22token%22%3A%22t%22%7D%7D"), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].name, "a+b");
    ck_str(up.events[0].app, "t");
    ck_assert_uint_eq(up.events[0].distinct_id.len, 0);
    ck_assert_int_eq(up.events[0].error, XF_OK);

    /* a JSON body (the ingestion API, server libraries) */
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/import", "",
                         "[" MP_TRACK("x", "d", "t") "]"), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].distinct_id, "d");
}
END_TEST


/* GET: the image transport (img=1: a GIF) and data= in the query. */

START_TEST(test_mixpanel_get)
{
    char  *f, *q;

    f = mp_form(MP_TRACK("pv", "d", "t"));
    q = malloc(strlen(f) + 32);
    strcpy(q, f);
    strcat(q, "&ip=1&img=1&_=2");

    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_GET, "/track/", q, NULL),
                     XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_GIF);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].name, "pv");

    strcpy(q, f);
    strcat(q, "&verbose=1");
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_GET, "/track", q, NULL),
                     XF_OK);
    ck_assert_int_eq(up.reply, XF_REPLY_MIXPANEL_VERBOSE);

    free(q);
    free(f);
}
END_TEST


/* People and group updates: the operation names the event. */

START_TEST(test_mixpanel_engage_groups)
{
    char  *f;

    f = mp_form("[{\"$set\":{\"plan\":\"pro\"},\"$token\":\"t\","
                "\"$distinct_id\":\"u1\",\"$device_id\":\"d\"},"
                "{\"$append\":{\"l\":1},\"$token\":\"t\","
                "\"$distinct_id\":\"u2\"},"
                "{\"$set\":{\"a\":1},\"$token\":\"t\"}]");
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/engage/",
                         "verbose=1", f), XF_OK);
    ck_assert_uint_eq(up.n, 3);
    ck_str(up.events[0].name, "$set");
    ck_str(up.events[0].distinct_id, "u1");
    ck_str(up.events[0].app, "t");
    ck_str(up.events[1].name, "$append");
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
    ck_assert_uint_eq(up.rejected, 1);
    free(f);

    f = mp_form("{\"$set_once\":{\"n\":\"x\"},\"$token\":\"t\","
                "\"$group_key\":\"company\",\"$group_id\":\"acme\"}");
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/groups/", "",
                         f), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].name, "$set_once");
    ck_str(up.events[0].distinct_id, "acme");
    ck_assert_int_eq(up.events[0].error, XF_OK);
    free(f);
}
END_TEST


/* What Mixpanel requires, per event; the query's token stands in. */

START_TEST(test_mixpanel_dead_letters)
{
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
                         "[{\"event\":\"a\",\"properties\":{}},"
                         "{\"properties\":{\"token\":\"t\"}},"
                         "{\"event\":\"\",\"properties\":{\"token\":\"t\"}},"
                         "7,"
                         "{\"$token\":\"t\",\"$group_key\":\"k\","
                         "\"$set\":{}},"
                         MP_TRACK("ok", "d", "t") "]"), XF_OK);
    ck_assert_uint_eq(up.n, 6);
    ck_assert_int_eq(up.events[0].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[1].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[3].error, XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(up.events[4].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[5].error, XF_OK);
    ck_assert_uint_eq(up.rejected, 5);

    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track",
                         "token=qt", "{\"event\":\"a\",\"properties\":{}}"),
                     XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_str(up.events[0].app, "qt");
}
END_TEST


/*
 * An event's fields from the members the split found (properties'
 * span among them): the same as one lookup per member ("event" of any
 * type makes a track, properties' token and distinct_id replace the
 * top-level ones, even when absent there, the first of duplicates).
 */
START_TEST(test_mixpanel_fields_found_once)
{
    size_t  i;
    char    body[256];

    static const struct {
        const char   *event;
        const char   *name;
        const char   *id;
        const char   *app;
        xf_status_t   error;
    } cases[] = {
        { "{\"event\":\"e\",\"$token\":\"T\",\"$distinct_id\":\"D\","
          "\"properties\":{\"token\":\"pt\",\"distinct_id\":\"pd\"}}",
          "e", "pd", "pt", XF_OK },
        { "{\"event\":\"e\",\"$token\":\"T\",\"$distinct_id\":\"D\","
          "\"properties\":{}}", "e", "", "", XF_ERR_MISSING_FIELD },
        { "{\"event\":\"e\",\"$token\":\"T\",\"properties\":[1]}",
          "e", "", "T", XF_OK },
        { "{\"event\":null,\"properties\":{\"token\":\"t\","
          "\"distinct_id\":\"d\"}}", "", "d", "t", XF_ERR_MISSING_FIELD },
        { "{\"$set\":{},\"$token\":\"t\",\"$distinct_id\":\"u\","
          "\"properties\":{\"token\":\"x\"}}", "$set", "u", "t", XF_OK },
        { "{\"event\":\"a\",\"event\":\"b\",\"properties\":"
          "{\"token\":\"t\"},\"properties\":{\"token\":\"u\"}}",
          "a", "", "t", XF_OK },
        { "{\"$token\":\"t\",\"$group_key\":\"k\",\"$group_id\":7,"
          "\"$union\":{}}", "$union", "7", "t", XF_OK },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "[%s]", cases[i].event);

        ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/import", "",
                             body), XF_OK);
        ck_assert_uint_eq(up.n, 1);
        ck_assert_uint_eq(up.events[0].name.len, strlen(cases[i].name));
        ck_assert_uint_eq(up.events[0].distinct_id.len, strlen(cases[i].id));
        ck_assert_uint_eq(up.events[0].app.len, strlen(cases[i].app));

        if (cases[i].name[0] != '\0') {
            ck_str(up.events[0].name, cases[i].name);
        }

        if (cases[i].id[0] != '\0') {
            ck_str(up.events[0].distinct_id, cases[i].id);
        }

        if (cases[i].app[0] != '\0') {
            ck_str(up.events[0].app, cases[i].app);
        }

        ck_assert_int_eq(up.events[0].error, cases[i].error);
    }
}
END_TEST


/* mixpanel-browser's base64 of an emoji: CESU-8 surrogates, mended. */

START_TEST(test_mixpanel_surrogates)
{
    char  *f;

    /* U+1F389 as ED A0 BC ED BE 89; a lone high half; a lone low half */
    f = mp_form("{\"event\":\"e\",\"properties\":{\"token\":\"t\","
                "\"a\":\"\xed\xa0\xbc\xed\xbe\x89 ok\","
                "\"b\":\"cut \xed\xa0\xbd\","
                "\"c\":\"\xed\xb1\x8d!\"}}");
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "", f),
                     XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_assert_int_eq(up.events[0].error, XF_OK);
    ck_event_json(0, "{\"event\":\"e\",\"properties\":{\"token\":\"t\","
                  "\"a\":\"\xf0\x9f\x8e\x89 ok\",\"b\":\"cut \xef\xbf\xbd\","
                  "\"c\":\"\xef\xbf\xbd!\"}}");
    free(f);

    /* plain JSON in data= goes through encodeURIComponent: left alone */
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
                         "data=%7B%22event%22%3A%22%ED%A0%BC%22%7D"),
                     XF_ERR_JSON_UTF8);
}
END_TEST


typedef struct {
    xf_method_t   method;
    const char   *body;
    const char   *query;
    xf_status_t   rc;
} test_mp_error_t;


static const test_mp_error_t  test_mp_errors[] = {
    { XF_METHOD_POST, "data=%%%", "", XF_ERR_FORM },
    { XF_METHOD_POST, "data=e30=&data=e30=", "", XF_ERR_FORM },
    { XF_METHOD_POST, "data=!!!!", "", XF_ERR_BASE64 },
    { XF_METHOD_POST, "data=e30", "", XF_OK },          /* unpadded {} */
    { XF_METHOD_POST, "data=eyJh", "", XF_ERR_JSON_SYNTAX },
    { XF_METHOD_POST, "verbose=1", "", XF_ERR_EMPTY },
    { XF_METHOD_POST, "{\"event\":", "", XF_ERR_JSON_SYNTAX },
    { XF_METHOD_GET, NULL, "ip=1&_=3", XF_ERR_EMPTY },
};


START_TEST(test_mixpanel_request_errors)
{
    const test_mp_error_t  *t = &test_mp_errors[_i];

    ck_assert_int_eq(run(XF_FMT_MIXPANEL, t->method, "/track", t->query,
                         t->body), t->rc);
    ck_assert_int_eq(up.format, XF_FMT_MIXPANEL);
}
END_TEST


/* ------------------------------------------------------------ amplitude */

/* What @amplitude/analytics-browser sends (event shortened). */
#define AMP_EVENT(type, user, device)                                        \
    "{\"event_type\":\"" type "\",\"user_id\":" user ","                     \
    "\"device_id\":\"" device "\",\"session_id\":1764694800000,"             \
    "\"time\":1764694800123,\"platform\":\"Web\",\"language\":\"zh-CN\","    \
    "\"event_properties\":{\"city\":\"\\u4e0a\\u6d77\",\"n\":[1,{}]},"       \
    "\"insert_id\":\"ins-" device "\",\"event_id\":3,"                       \
    "\"library\":\"amplitude-ts/2.48.1\"}"

#define AMP_BODY(events)                                                     \
    "{\"api_key\":\"0123456789abcdef\",\"events\":[" events "],"             \
    "\"options\":{},\"client_upload_time\":\"2026-12-02T17:00:00.000Z\","    \
    "\"request_metadata\":{\"sdk\":{\"metrics\":{\"histogram\":{}}}}}"


START_TEST(test_amplitude_httpapi)
{
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/2/httpapi", "",
                         AMP_BODY(AMP_EVENT("[Amplitude] Page Viewed",
                                            "\"u1\"", "dv1") ","
                                  AMP_EVENT("order", "null", "dv2"))),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_AMPLITUDE);
    ck_assert_int_eq(up.reply, XF_REPLY_AMPLITUDE);
    ck_assert_uint_eq(up.n, 2);
    ck_assert_uint_eq(up.rejected, 0);
    ck_str(up.app, "0123456789abcdef");
    ck_event_json(0, AMP_EVENT("[Amplitude] Page Viewed", "\"u1\"", "dv1"));
    ck_str(up.events[0].name, "[Amplitude] Page Viewed");
    ck_str(up.events[0].distinct_id, "u1");
    ck_str(up.events[1].distinct_id, "dv2");         /* user_id null */
    ck_str(up.events[1].app, "0123456789abcdef");
}
END_TEST


/* /batch is the Batch API's; gzip inside the body; beacon's text. */

START_TEST(test_amplitude_batch_gzip)
{
    u_char      *z;
    size_t       zn;
    const char  *body = AMP_BODY(AMP_EVENT("a", "\"\"", "d1"));

    z = xf_unit_gzip(body, strlen(body), &zn);
    ck_assert_int_eq(run_len(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/batch", "",
                             z, zn), XF_OK);
    ck_assert_uint_eq(up.n, 1);
    ck_str(up.events[0].distinct_id, "d1");          /* user_id "" */
    ck_assert_uint_eq(up.decoded, strlen(body));
    free(z);

    /* /batch alone is PostHog's when the format is automatic */
    ck_assert_int_eq(run(XF_FMT_AUTO, XF_METHOD_POST, "/batch", "", body),
                     XF_OK);
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
}
END_TEST


START_TEST(test_amplitude_dead_letters)
{
    ck_assert_int_eq(run(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
                         AMP_BODY("{\"user_id\":\"u\"},"
                                  "{\"event_type\":\"a\"},"
                                  "{\"event_type\":\"a\",\"user_id\":\"\","
                                  "\"device_id\":\"\"},"
                                  "\"str\","
                                  "{\"event_type\":\"b\",\"device_id\":\"d\","
                                  "\"api_key\":\"own\"}")), XF_OK);
    ck_assert_uint_eq(up.n, 5);
    ck_assert_int_eq(up.events[0].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[1].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[2].error, XF_ERR_MISSING_FIELD);
    ck_assert_int_eq(up.events[3].error, XF_ERR_NOT_OBJECT);
    ck_assert_int_eq(up.events[4].error, XF_OK);
    ck_str(up.events[4].app, "own");
    ck_assert_uint_eq(up.rejected, 4);

    /* no api key anywhere: Amplitude's "missing_field": every event */
    ck_assert_int_eq(run(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
                         "{\"events\":[{\"event_type\":\"a\","
                         "\"user_id\":\"u\"}]}"), XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_ERR_MISSING_FIELD);

    ck_assert_int_eq(run(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
                         "{\"api_key\":\"k\",\"events\":[1"),
                     XF_ERR_JSON_SYNTAX);
    ck_assert_int_eq(up.reply, XF_REPLY_AMPLITUDE);
    ck_assert_int_eq(run(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
                         ""), XF_ERR_EMPTY);
}
END_TEST


START_TEST(test_sdk_limits)
{
    lim.max_events = 2;
    ck_assert_int_eq(run(XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
                         AMP_BODY(AMP_EVENT("a", "\"u\"", "1") ","
                                  AMP_EVENT("a", "\"u\"", "2") ","
                                  AMP_EVENT("a", "\"u\"", "3"))),
                     XF_ERR_TOO_MANY_EVENTS);
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
                         "[" MP_TRACK("a", "1", "t") ","
                         MP_TRACK("a", "2", "t") ","
                         MP_TRACK("a", "3", "t") "]"),
                     XF_ERR_TOO_MANY_EVENTS);

    lim.max_events = 100;
    lim.max_event_size = 64;
    ck_assert_int_eq(run(XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
                         MP_TRACK("a", "1", "t")), XF_OK);
    ck_assert_int_eq(up.events[0].error, XF_ERR_EVENT_TOO_LARGE);
    ck_str(up.events[0].app, "t");               /* keys the dead letter */
}
END_TEST


START_TEST(test_sdk_names)
{
    xf_format_t  f;

    ck_assert_int_eq(xf_format_parse_name((const u_char *) "mixpanel", 8,
                                          &f), XF_OK);
    ck_assert_int_eq(f, XF_FMT_MIXPANEL);
    ck_assert_int_eq(xf_format_parse_name((const u_char *) "amplitude", 9,
                                          &f), XF_OK);
    ck_assert_int_eq(f, XF_FMT_AMPLITUDE);
    ck_assert_str_eq(xf_format_name(XF_FMT_AMPLITUDE), "amplitude");

    /* Mixpanel's routes stay PostHog's when the format is automatic */
    (void) run(XF_FMT_AUTO, XF_METHOD_POST, "/track/", "ip=1", "data=e30=");
    ck_assert_int_eq(up.format, XF_FMT_POSTHOG);
    (void) run(XF_FMT_AUTO, XF_METHOD_POST, "/x/2/httpapi/", "", "{}");
    ck_assert_int_eq(up.format, XF_FMT_AMPLITUDE);
}
END_TEST


/*
 * Every family's distinct id, a placeholder, reaches the hygiene rules as
 * the event's distinct id, and the id beside it (its format's next id
 * field) is found in the event as parsed.
 */
static const struct {
    xf_format_t   fmt;
    xf_method_t   method;
    const char   *path;
    const char   *query;
    const char   *body;
    const char   *placeholder;
    const char   *other;
} sdk_placeholders[] = {
    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/track", "",
      "{\"event\":\"e\",\"properties\":{\"token\":\"t\","
      "\"distinct_id\":\"undefined\",\"$device_id\":\"d-1\"}}",
      "undefined", "d-1" },
    { XF_FMT_MIXPANEL, XF_METHOD_POST, "/engage", "",
      "{\"$token\":\"t\",\"$distinct_id\":\"null\",\"$set\":{}}",
      "null", NULL },
    { XF_FMT_AMPLITUDE, XF_METHOD_POST, "/2/httpapi", "",
      "{\"api_key\":\"k\",\"events\":[{\"event_type\":\"e\","
      "\"user_id\":\"null\",\"device_id\":\"d-2\"}]}",
      "null", "d-2" },
    { XF_FMT_SEGMENT, XF_METHOD_POST, "/v1/t", "",
      "{\"type\":\"track\",\"event\":\"e\",\"writeKey\":\"wk\","
      "\"userId\":\"anonymous\",\"anonymousId\":\"a-3\"}",
      "anonymous", "a-3" },
    { XF_FMT_SENSORS, XF_METHOD_POST, "/sa", "project=p",
      "data=eyJ0eXBlIjoidHJhY2siLCJldmVudCI6ImUiLCJkaXN0aW5jdF9pZCI6InVuZ"
      "GVmaW5lZCIsImFub255bW91c19pZCI6ImEtMSIsInRpbWUiOjF9",
      "undefined", "a-1" },
    { XF_FMT_SNOWPLOW, XF_METHOD_GET, "/i",
      "e=pv&aid=a&duid=%5Bobject%20Object%5D&nuid=n-4", NULL,
      "[object Object]", "n-4" },
    { XF_FMT_POSTHOG, XF_METHOD_POST, "/e/", "",
      "{\"api_key\":\"phc_t\",\"event\":\"e\",\"distinct_id\":\"guest\","
      "\"properties\":{\"$device_id\":\"d-5\"}}",
      "guest", "d-5" },
    { XF_FMT_JSON, XF_METHOD_POST, "/", "",
      "{\"event\":\"e\",\"distinct_id\":\"0\",\"anonymousId\":\"a-6\"}",
      "0", "a-6" },
};


START_TEST(test_sdk_placeholders)
{
    size_t       i, n;
    u_char       buf[512];
    xf_str_t     list[32], id;
    xf_event_t  *ev;

    for (n = 0; xf_placeholder_ids[n]; n++) {
        list[n].data = (const u_char *) xf_placeholder_ids[n];
        list[n].len = strlen(xf_placeholder_ids[n]);
    }

    for (i = 0; i < sizeof(sdk_placeholders) / sizeof(sdk_placeholders[0]);
         i++)
    {
        ck_assert_msg(run(sdk_placeholders[i].fmt, sdk_placeholders[i].method,
                          sdk_placeholders[i].path,
                          sdk_placeholders[i].query,
                          sdk_placeholders[i].body) == XF_OK, "%zu", i);
        ck_assert_uint_eq(up.n, 1);
        ev = &up.events[0];
        ck_assert_msg(ev->error == XF_OK, "%zu: %s", i,
                      xf_strerror(ev->error));

        ck_assert_msg(ev->distinct_id.len
                      == strlen(sdk_placeholders[i].placeholder)
                      && memcmp(ev->distinct_id.data,
                                sdk_placeholders[i].placeholder,
                                ev->distinct_id.len) == 0,
                      "%zu: distinct id %.*s", i, (int) ev->distinct_id.len,
                      ev->distinct_id.data);
        ck_assert(xf_placeholder_id(&ev->distinct_id, list, n));

        if (sdk_placeholders[i].other == NULL) {
            ck_assert(!xf_placeholder_other(up.format, ev->p, ev->len, list,
                                            n, buf, &id));
            continue;
        }

        ck_assert_msg(xf_placeholder_other(up.format, ev->p, ev->len, list,
                                           n, buf, &id), "%zu", i);
        ck_assert_msg(id.len == strlen(sdk_placeholders[i].other)
                      && memcmp(id.data, sdk_placeholders[i].other, id.len)
                         == 0, "%zu: other id %.*s", i, (int) id.len,
                      id.data);
    }
}
END_TEST


Suite *
make_format_sdk_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("format_sdk");

    tc = tcase_create("mixpanel");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mixpanel_batch);
    tcase_add_test(tc, test_mixpanel_single);
    tcase_add_test(tc, test_mixpanel_get);
    tcase_add_test(tc, test_mixpanel_engage_groups);
    tcase_add_test(tc, test_mixpanel_fields_found_once);
    tcase_add_test(tc, test_mixpanel_dead_letters);
    tcase_add_test(tc, test_mixpanel_surrogates);
    tcase_add_loop_test(tc, test_mixpanel_request_errors, 0,
                        sizeof(test_mp_errors) / sizeof(test_mp_errors[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("amplitude");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_amplitude_httpapi);
    tcase_add_test(tc, test_amplitude_batch_gzip);
    tcase_add_test(tc, test_amplitude_dead_letters);
    tcase_add_test(tc, test_sdk_limits);
    tcase_add_test(tc, test_sdk_names);
    tcase_add_test(tc, test_sdk_placeholders);
    suite_add_tcase(s, tc);

    return s;
}
