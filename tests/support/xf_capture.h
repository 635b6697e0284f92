/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_capture.h - reading the SDK captures of tests/fixtures/sdk-captures/
 * the same way in the unit suite (test-captures.c) and the e2e suites
 * (test-formats.c).  Header-only: the unit runner links no support file.
 */

#ifndef XF_CAPTURE_H
#define XF_CAPTURE_H

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>


/*
 * What the recorder decoded from a record's upload: "decoded" (its
 * "value", or the value of its form's data_list or data field), else
 * the data_list or data query parameter of an image beacon.  Borrowed;
 * NULL when there is none.
 */
static inline json_t *
xf_capture_decoded(json_t *rec)
{
    json_t  *dec, *v, *form, *qp, *f;

    dec = json_object_get(rec, "decoded");
    v = NULL;

    if (json_is_object(dec)) {
        if (json_object_get(dec, "value") != NULL) {
            v = json_object_get(dec, "value");

        } else if ((form = json_object_get(dec, "form")) != NULL) {
            f = json_object_get(form, "data_list");
            if (f == NULL) {
                f = json_object_get(form, "data");
            }

            v = json_object_get(f, "value");
        }
    }

    if (v == NULL) {
        /* An image beacon: the event is in the query. */
        qp = json_object_get(rec, "queryParams");
        f = json_object_get(qp, "data_list");
        if (f == NULL) {
            f = json_object_get(qp, "data");
        }

        v = json_object_get(f, "value");
    }

    return v;
}


/*
 * The SDK family of a capture file, from its name (<family>__<mode>.json),
 * and what xflow must make of its events.
 */
typedef enum {
    XF_CAP_SENSORS = 0,
    XF_CAP_POSTHOG,
    XF_CAP_SEGMENT,
    XF_CAP_RUDDERSTACK,
    XF_CAP_SNOWPLOW,
    XF_CAP_MIXPANEL,
    XF_CAP_AMPLITUDE,
    XF_CAP_UNKNOWN
} xf_capture_family_t;

static const char *const  xf_capture_families[] = {
    "sensors", "posthog", "segment", "rudderstack", "snowplow", "mixpanel",
    "amplitude"
};


static inline xf_capture_family_t
xf_capture_family(const char *file)
{
    size_t       i, n;
    const char  *base;

    base = strrchr(file, '/');
    base = base ? base + 1 : file;

    for (i = 0; i < XF_CAP_UNKNOWN; i++) {
        n = strlen(xf_capture_families[i]);

        if (strncmp(base, xf_capture_families[i], n) == 0
            && strncmp(base + n, "__", 2) == 0)
        {
            return (xf_capture_family_t) i;
        }
    }

    return XF_CAP_UNKNOWN;
}


/* The format xflow names the family ("src" of the envelope). */
static inline const char *
xf_capture_src(xf_capture_family_t f)
{
    return f == XF_CAP_RUDDERSTACK ? "segment" : xf_capture_families[f];
}


/*
 * 1 when `xflow_collect auto` picks the family for this path: never
 * Mixpanel (its routes are PostHog's), nor Amplitude's Batch API (its
 * /batch is PostHog's).
 */
static inline int
xf_capture_auto(xf_capture_family_t f, const char *path)
{
    size_t  len;

    len = strlen(path);

    if (f == XF_CAP_MIXPANEL) {
        return 0;
    }

    if (f == XF_CAP_AMPLITUDE) {
        return len >= 10 && strcmp(path + len - 10, "/2/httpapi") == 0;
    }

    return 1;
}


/*
 * The events of a record, as a new JSON array: the decoded value, its
 * {batch:[...]} (PostHog, Segment), {events:[...]} (Amplitude) or
 * {schema,data:[...]} (Snowplow) unwrapped.  NULL when there is none.
 */
static inline json_t *
xf_capture_events(json_t *rec)
{
    json_t      *v, *a;
    const char  *schema;

    v = xf_capture_decoded(rec);

    if (v == NULL) {
        return NULL;
    }

    if (json_is_object(v)) {
        schema = json_string_value(json_object_get(v, "schema"));

        if ((a = json_object_get(v, "batch")) != NULL && json_is_array(a)) {
            v = a;

        } else if ((a = json_object_get(v, "events")) != NULL
                   && json_is_array(a))
        {
            v = a;

        } else if (schema != NULL && strstr(schema, "payload_data") != NULL
                   && json_is_array(json_object_get(v, "data")))
        {
            v = json_object_get(v, "data");
        }
    }

    if (json_is_array(v)) {
        return json_incref(v);
    }

    return json_pack("[O]", v);
}


/* What xflow must take from one event (docs/formats.md, per format). */
typedef struct {
    const char  *name;
    const char  *key;               /* distinct id; NULL: none */
    const char  *app;               /* NULL: none */
    int          app_wk;            /* the app is wk:<fingerprint> of
                                       the write key app */
} xf_capture_expect_t;


static inline const char *
xf_capture_str(json_t *obj, const char *key)
{
    const char  *s;

    s = json_string_value(json_object_get(obj, key));

    return s != NULL && s[0] != '\0' ? s : NULL;
}


static inline void
xf_capture_expect(xf_capture_family_t f, json_t *rec, json_t *e,
    xf_capture_expect_t *x)
{
    json_t      *root, *props, *qp;
    const char  *s;

    memset(x, 0, sizeof(xf_capture_expect_t));

    root = xf_capture_decoded(rec);
    props = json_object_get(e, "properties");
    qp = json_object_get(rec, "queryParams");

    switch (f) {

    case XF_CAP_SENSORS:
        x->name = xf_capture_str(e, "event");
        x->name = x->name ? x->name : xf_capture_str(e, "type");
        x->key = xf_capture_str(e, "distinct_id");
        x->app = xf_capture_str(e, "project");
        x->app = x->app ? x->app
                 : xf_capture_str(json_object_get(qp, "project"), "value");
        break;

    case XF_CAP_POSTHOG:
        x->name = xf_capture_str(e, "event");
        x->key = xf_capture_str(props, "distinct_id");
        x->key = x->key ? x->key : xf_capture_str(e, "distinct_id");
        x->key = x->key ? x->key : xf_capture_str(e, "$distinct_id");
        x->app = xf_capture_str(e, "api_key");
        x->app = x->app ? x->app : xf_capture_str(e, "token");
        x->app = x->app ? x->app : xf_capture_str(e, "$token");
        x->app = x->app ? x->app : xf_capture_str(props, "token");
        x->app = x->app ? x->app : xf_capture_str(props, "$token");
        x->app = x->app ? x->app : xf_capture_str(root, "api_key");
        x->app = x->app ? x->app : xf_capture_str(root, "token");
        break;

    case XF_CAP_SEGMENT:
    case XF_CAP_RUDDERSTACK:
        s = xf_capture_str(e, "type");
        x->name = s != NULL && strcmp(s, "track") == 0
                  ? xf_capture_str(e, "event") : s;
        x->key = xf_capture_str(e, "userId");
        x->key = x->key ? x->key : xf_capture_str(e, "anonymousId");

        /* the event's own key, else Authorization, query, body */
        x->app = xf_capture_str(e, "writeKey");

        if (x->app == NULL) {
            s = xf_capture_str(json_object_get(rec, "headers"),
                               "authorization");

            if (s != NULL && strncasecmp(s, "Basic ", 6) == 0) {
                x->app_wk = 1;
                x->app = "wk:";
                break;
            }

            x->app = xf_capture_str(json_object_get(qp, "writeKey"),
                                    "value");
            x->app = x->app ? x->app : xf_capture_str(root, "writeKey");
        }

        /* a write key, wherever it was sent, is never the app as sent */
        x->app_wk = x->app != NULL;

        break;

    case XF_CAP_SNOWPLOW:
        x->name = xf_capture_str(e, "e");
        x->key = xf_capture_str(e, "duid");
        x->key = x->key ? x->key : xf_capture_str(e, "nuid");
        x->key = x->key ? x->key : xf_capture_str(e, "tnuid");
        x->key = x->key ? x->key
                 : xf_capture_str(json_object_get(qp, "nuid"), "value");
        x->app = xf_capture_str(e, "aid");
        break;

    case XF_CAP_MIXPANEL:
        x->name = xf_capture_str(e, "event");
        x->key = xf_capture_str(props, "distinct_id");
        x->app = xf_capture_str(props, "token");
        x->app = x->app ? x->app
                 : xf_capture_str(json_object_get(qp, "token"), "value");
        break;

    case XF_CAP_AMPLITUDE:
        x->name = xf_capture_str(e, "event_type");
        x->key = xf_capture_str(e, "user_id");
        x->key = x->key ? x->key : xf_capture_str(e, "device_id");
        x->app = xf_capture_str(e, "api_key");
        x->app = x->app ? x->app : xf_capture_str(root, "api_key");
        break;

    default:
        break;
    }
}


/* 1 when app is the wk: fingerprint of a write key (22 base64url). */
static inline int
xf_capture_is_wk(const char *app, size_t len)
{
    size_t  i;

    if (len != 3 + 22 || strncmp(app, "wk:", 3) != 0) {
        return 0;
    }

    for (i = 3; i < len; i++) {
        if (!(isalnum((unsigned char) app[i]) || app[i] == '-'
              || app[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}

#endif /* XF_CAPTURE_H */
