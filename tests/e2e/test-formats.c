/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-formats.c - every request real browser SDKs sent, replayed against
 * nginx with the module, byte for byte.
 *
 * The captures (the JSON files of tests/fixtures/sdk-captures/ from the
 * root; XF_CAPTURES overrides the directory) hold, per SDK and sending
 * mode, every request as it reached a recording server: method, path,
 * query, headers in wire order, the body in base64, and what the recorder
 * decoded from it.  One test per capture file replays all of its records:
 *
 *   pass 1  to `location / { xflow_collect auto; }`, the records `auto`
 *           picks the family of (not Mixpanel, not Amplitude's Batch
 *           API: docs/formats.md);
 *   pass 2  to a second server whose locations name the format at the
 *           SDKs' default paths, as docs/deploy/nginx.conf does (/sa.gif
 *           sensors; /e/, /i/v0/e/, /array/, /flags/ posthog; /v1/,
 *           /beacon/v1/ segment; /com.snowplowanalytics.snowplow/, /i
 *           snowplow; /track/ mixpanel; /2/httpapi, /amplitude/batch
 *           amplitude);
 *   pass 3  (PostHog) the /e/ uploads again, to /i/v0/e/.
 *
 * Each request sends the captured headers in their order (without Host,
 * Content-Length and Connection, which the client sets) and the captured
 * body bytes.  Checked for each record:
 *
 *   - the answer the SDK needs: PostHog exactly 200 {"status":1}; Sensors
 *     and Snowplow 200 with the JSON counts, a GIF for GETs; Segment and
 *     RudderStack {"success":true}; Mixpanel 1, {"status":1,...} for
 *     verbose=1, a GIF for img=1; Amplitude {"code":200,
 *     "events_ingested":N,...}; PostHog's config.js a script with the
 *     token and "supportedCompression"; /flags JSON; a CORS preflight
 *     204 with Max-Age and the asked-for headers;
 *   - CORS: a request with Origin gets that exact origin back, without
 *     Access-Control-Allow-Credentials (the default origins are "any");
 *     one without gets none;
 *
 * and for each pass, in Kafka, exactly the events the recorder decoded:
 * the same count, each message an envelope v1 whose "event" bytes are
 * equal as JSON to the expected event and appear verbatim in the decoded
 * upload (never re-serialised; Mixpanel's surrogate pairs mended, a
 * Snowplow pixel's event is built from its query), with the right "src"
 * and "app" (xf_capture_expect: project, token, write key or its wk:
 * fingerprint, app id, api key), the distinct id as the message key,
 * and ids that all differ.  Nothing goes to the dead-letter topic, and the
 * events counters of /metrics agree.
 */

#include <jansson.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "xf_capture.h"
#include "xf_test.h"


#define FMT_TOPIC        "events"
#define FMT_DEAD_LETTER  "xflow_dead_letter"
#define FMT_CONSUME_MS   15000
#define FMT_SETTLE_MS    1000
#define FMT_MAX_CAPTURES 64


typedef struct {
    json_t      *event;             /* borrowed from the capture */
    const char  *key;               /* distinct id, NULL: no key */
    const char  *app;               /* NULL: no "app" member */
    int          app_wk;            /* app is a wk: fingerprint */
    u_char      *doc;               /* the decoded upload holding it;
                                       NULL: an event xflow builds */
    size_t       doc_len;
    int          used;
} fmt_expect_t;

typedef struct {
    fmt_expect_t  *e;
    size_t         n;
    size_t         cap;
    u_char       **docs;            /* owned decoded uploads */
    size_t         ndocs;
    json_t       **vals;            /* owned event arrays */
    size_t         nvals;
} fmt_expects_t;

typedef enum {
    FMT_REC_EVENTS = 0,
    FMT_REC_CONFIG,                 /* PostHog .../array/<token>/config.js */
    FMT_REC_FLAGS,                  /* PostHog /flags, /decide */
    FMT_REC_PREFLIGHT
} fmt_rec_kind_t;


static int          port2;

static char         capture_files[FMT_MAX_CAPTURES][512];
static size_t       ncaptures;


static void fmt_setup(void);
static void fmt_start(void);
static char *fmt_url_decode(const char *s, size_t len, size_t *out_len);
static const char *fmt_form_field(const char *form, size_t len,
    const char *name, size_t *vlen);
static u_char *fmt_gunzip(const u_char *p, size_t len, size_t *out_len);
static void fmt_mend_cesu8(u_char *p, size_t *len);
static u_char *fmt_decode_doc(json_t *rec, xf_capture_family_t fam,
    const u_char *body, size_t blen, size_t *out_len);
static const char *fmt_jstr(json_t *obj, const char *key);
static const char *fmt_header(json_t *rec, const char *name);
static fmt_rec_kind_t fmt_record_kind(json_t *rec);
static void fmt_expect_record(fmt_expects_t *x, json_t *rec,
    xf_capture_family_t fam, const u_char *body, size_t blen);
static void fmt_expects_free(fmt_expects_t *x);
static void fmt_check_answer(const char *file, size_t idx, json_t *rec,
    xf_capture_family_t fam, size_t nevents, const xf_http_resp_t *resp);
static void fmt_replay(const char *file, json_t *rec, size_t idx,
    const char *base, const char *path, xf_capture_family_t fam,
    fmt_expects_t *x);
static void fmt_match(const char *file, const char *pass,
    const xf_kafka_msgs_t *msgs, size_t from, fmt_expects_t *x,
    const char *src);


/* ------------------------------------------------------------ fixture */

static void
fmt_setup(void)
{
    xf_fixture_setup(3, 15000, FMT_TOPIC, 3, FMT_DEAD_LETTER, 1, NULL);
}


/*
 * One nginx, two servers: @PORT@ detects the format of everything, the
 * second names it per location, as the directives documentation does.
 */
static void
fmt_start(void)
{
    char  snippet[4096];

    port2 = xf_test_free_port();

    snprintf(snippet, sizeof(snippet),
             "    xflow_kafka_brokers @BROKERS@;\n"
             "    xflow_topic " FMT_TOPIC ";\n"
             "    server {\n"
             "        listen 127.0.0.1:@PORT@;\n"
             "        location / { xflow_collect auto; }\n"
             "        location = /metrics { xflow_metrics; }\n"
             "    }\n"
             "    server {\n"
             "        listen 127.0.0.1:%d;\n"
             "        location /sa.gif { xflow_collect sensors; }\n"
             "        location /e/ { xflow_collect posthog; }\n"
             "        location /i/v0/e/ { xflow_collect posthog; }\n"
             "        location /array/ { xflow_collect posthog; }\n"
             "        location /flags/ { xflow_collect posthog; }\n"
             "        location /v1/ { xflow_collect segment; }\n"
             "        location /beacon/v1/ { xflow_collect segment; }\n"
             "        location /com.snowplowanalytics.snowplow/ {\n"
             "            xflow_collect snowplow;\n"
             "        }\n"
             "        location = /i { xflow_collect snowplow; }\n"
             "        location /track/ { xflow_collect mixpanel; }\n"
             "        location = /2/httpapi { xflow_collect amplitude; }\n"
             "        location = /amplitude/batch {\n"
             "            xflow_collect amplitude;\n"
             "        }\n"
             "    }\n",
             port2);

    xf_fixture_nginx(snippet, 1);
}


/* ------------------------------------------------------------ decoding */

/* Percent-decoding; '+' stays '+' (base64 text: the SDKs encode spaces). */
static char *
fmt_url_decode(const char *s, size_t len, size_t *out_len)
{
    char    *out, hex[3];
    size_t   i, n;

    out = malloc(len + 1);
    ck_assert_ptr_nonnull(out);

    for (i = 0, n = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len) {
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            hex[2] = '\0';
            out[n++] = (char) strtol(hex, NULL, 16);
            i += 2;
            continue;
        }

        out[n++] = s[i];
    }

    out[n] = '\0';
    *out_len = n;

    return out;
}


/* The raw (still encoded) value of form field name, or NULL. */
static const char *
fmt_form_field(const char *form, size_t len, const char *name,
    size_t *vlen)
{
    size_t       nlen;
    const char  *p, *end, *amp;

    nlen = strlen(name);
    p = form;
    end = form + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if ((size_t) (amp - p) > nlen && p[nlen] == '='
            && memcmp(p, name, nlen) == 0)
        {
            *vlen = amp - p - nlen - 1;
            return p + nlen + 1;
        }

        p = amp + 1;
    }

    return NULL;
}


static u_char *
fmt_gunzip(const u_char *p, size_t len, size_t *out_len)
{
    int        rc;
    size_t     cap;
    u_char    *out;
    z_stream   z;

    int      (*init2)(z_streamp, int, const char *, int);
    int      (*inflate_fn)(z_streamp, int);
    int      (*end)(z_streamp);

    init2 = xf_dlsym("libz.so.1", "inflateInit2_");
    inflate_fn = xf_dlsym("libz.so.1", "inflate");
    end = xf_dlsym("libz.so.1", "inflateEnd");

    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(init2(&z, 15 + 16, ZLIB_VERSION, (int) sizeof(z)),
                     Z_OK);

    cap = len * 8 + 4096;
    out = malloc(cap + 1);
    ck_assert_ptr_nonnull(out);

    z.next_in = (Bytef *) p;
    z.avail_in = (uInt) len;

    for ( ;; ) {
        z.next_out = out + z.total_out;
        z.avail_out = (uInt) (cap - z.total_out);

        rc = inflate_fn(&z, Z_NO_FLUSH);

        if (rc == Z_STREAM_END) {
            break;
        }

        ck_assert_msg(rc == Z_OK || rc == Z_BUF_ERROR, "inflate: %d", rc);
        ck_assert_msg(z.avail_in > 0 || z.avail_out == 0,
                      "captured gzip body ends early");

        cap *= 2;
        out = realloc(out, cap + 1);
        ck_assert_ptr_nonnull(out);
    }

    *out_len = z.total_out;
    out[*out_len] = '\0';
    (void) end(&z);

    return out;
}


/*
 * mixpanel-browser's base64 holds each UTF-16 unit of a pair as 3 bytes
 * of its own (CESU-8): as xflow does, a pair becomes the 4-byte
 * character, a lone half U+FFFD.  In place (never longer).
 */
static void
fmt_mend_cesu8(u_char *p, size_t *len)
{
    size_t    i, n;
    uint32_t  hi, lo, c;

    for (i = 0, n = 0; i < *len; ) {
        if (p[i] != 0xed || i + 2 >= *len || (p[i + 1] & 0xe0) != 0xa0) {
            p[n++] = p[i++];
            continue;
        }

        hi = 0xd000 | ((p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);

        if (hi < 0xdc00 && i + 5 < *len && p[i + 3] == 0xed
            && (p[i + 4] & 0xf0) == 0xb0)
        {
            lo = 0xd000 | ((p[i + 4] & 0x3f) << 6) | (p[i + 5] & 0x3f);
            c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            p[n++] = (u_char) (0xf0 | (c >> 18));
            p[n++] = (u_char) (0x80 | ((c >> 12) & 0x3f));
            p[n++] = (u_char) (0x80 | ((c >> 6) & 0x3f));
            p[n++] = (u_char) (0x80 | (c & 0x3f));
            i += 6;
            continue;
        }

        p[n++] = 0xef;
        p[n++] = 0xbf;
        p[n++] = 0xbd;
        i += 3;
    }

    *len = n;
}


/*
 * The document the events of a record are in, as bytes: the gzip body
 * inflated, the data/data_list field of a form body (or of the query of
 * a GET) decoded (base64, or JSON as it is; Mixpanel's mended), or the
 * body as it is.  NULL when the record carries no events, or when xflow
 * builds them (a Snowplow pixel's query).
 */
static u_char *
fmt_decode_doc(json_t *rec, xf_capture_family_t fam, const u_char *body,
    size_t blen, size_t *out_len)
{
    char        *field;
    size_t       vlen, flen;
    u_char      *doc, *gz;
    const char  *src, *v, *kind;

    kind = fmt_jstr(json_object_get(rec, "decoded"), "kind");

    if (blen >= 2 && body[0] == 0x1f && body[1] == 0x8b) {
        return fmt_gunzip(body, blen, out_len);
    }

    if (blen > 0 && kind != NULL && strcmp(kind, "form") != 0) {
        doc = malloc(blen + 1);
        ck_assert_ptr_nonnull(doc);
        memcpy(doc, body, blen);
        doc[blen] = '\0';
        *out_len = blen;
        return doc;
    }

    if (blen > 0) {
        src = (const char *) body;
        flen = blen;

    } else {
        src = fmt_jstr(rec, "query");
        if (src == NULL || src[0] == '\0') {
            return NULL;
        }

        src += (src[0] == '?');
        flen = strlen(src);
    }

    v = fmt_form_field(src, flen, "data_list", &vlen);
    if (v == NULL) {
        v = fmt_form_field(src, flen, "data", &vlen);
    }

    if (v == NULL) {
        return NULL;
    }

    field = fmt_url_decode(v, vlen, &flen);

    if (flen > 0 && (field[0] == '{' || field[0] == '[')) {
        *out_len = flen;
        return (u_char *) field;
    }

    doc = xf_base64_decode(field, flen, out_len);
    free(field);
    ck_assert_msg(doc != NULL, "captured base64 field does not decode");

    if (fam == XF_CAP_MIXPANEL) {
        fmt_mend_cesu8(doc, out_len);
        doc[*out_len] = '\0';
    }

    if (*out_len >= 2 && doc[0] == 0x1f && doc[1] == 0x8b) {
        gz = fmt_gunzip(doc, *out_len, out_len);
        free(doc);
        doc = gz;
    }

    return doc;
}


/* ------------------------------------------------------------ records */

static const char *
fmt_jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


/* A request header of the record, by lower-case name. */
static const char *
fmt_header(json_t *rec, const char *name)
{
    return fmt_jstr(json_object_get(rec, "headers"), name);
}


static fmt_rec_kind_t
fmt_record_kind(json_t *rec)
{
    size_t       len;
    const char  *path;

    if (strcmp(fmt_jstr(rec, "method"), "OPTIONS") == 0) {
        return FMT_REC_PREFLIGHT;
    }

    path = fmt_jstr(rec, "path");
    len = strlen(path);

    if (strstr(path, "/array/") != NULL
        && ((len > 10 && strcmp(path + len - 10, "/config.js") == 0)
            || (len > 7 && strcmp(path + len - 7, "/config") == 0)))
    {
        return FMT_REC_CONFIG;
    }

    if (strstr(path, "/flags") != NULL || strstr(path, "/decide") != NULL) {
        return FMT_REC_FLAGS;
    }

    return FMT_REC_EVENTS;
}


/*
 * What the recorder found in a record (the same reading as the unit test
 * of the adapters): its events (xf_capture_events), and what xflow takes
 * from each (xf_capture_expect).
 */
static void
fmt_expect_record(fmt_expects_t *x, json_t *rec, xf_capture_family_t fam,
    const u_char *body, size_t blen)
{
    size_t                i, n, doc_len;
    u_char               *doc;
    json_t               *v, *e;
    fmt_expect_t         *t;
    xf_capture_expect_t   want;

    v = xf_capture_events(rec);

    ck_assert_msg(v != NULL, "record %s %s: no events decoded",
                  fmt_jstr(rec, "method"), fmt_jstr(rec, "path"));

    x->vals = realloc(x->vals, (x->nvals + 1) * sizeof(json_t *));
    ck_assert_ptr_nonnull(x->vals);
    x->vals[x->nvals++] = v;

    doc_len = 0;
    doc = fmt_decode_doc(rec, fam, body, blen, &doc_len);
    ck_assert_msg(doc != NULL || (fam == XF_CAP_SNOWPLOW && blen == 0),
                  "record %s %s: no decoded upload",
                  fmt_jstr(rec, "method"), fmt_jstr(rec, "path"));

    if (doc != NULL) {
        x->docs = realloc(x->docs, (x->ndocs + 1) * sizeof(u_char *));
        ck_assert_ptr_nonnull(x->docs);
        x->docs[x->ndocs++] = doc;
    }

    n = json_array_size(v);

    for (i = 0; i < n; i++) {
        e = json_array_get(v, i);
        xf_capture_expect(fam, rec, e, &want);

        if (x->n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 32;
            x->e = realloc(x->e, x->cap * sizeof(fmt_expect_t));
            ck_assert_ptr_nonnull(x->e);
        }

        t = &x->e[x->n++];
        t->event = e;
        t->key = want.key;
        t->app = want.app;
        t->app_wk = want.app_wk;
        t->doc = doc;
        t->doc_len = doc_len;
        t->used = 0;
    }
}


static void
fmt_expects_free(fmt_expects_t *x)
{
    size_t  i;

    for (i = 0; i < x->ndocs; i++) {
        free(x->docs[i]);
    }

    for (i = 0; i < x->nvals; i++) {
        json_decref(x->vals[i]);
    }

    free(x->docs);
    free(x->vals);
    free(x->e);
    memset(x, 0, sizeof(fmt_expects_t));
}


/*
 * A preflight's Access-Control-Allow-<allow> holds (found by has) what
 * the record's Access-Control-Request-<asked> asked for.
 */
static void
fmt_check_allowed(const char *file, size_t idx, json_t *rec,
    const xf_http_resp_t *resp, const char *asked, const char *allow,
    char *(*has)(const char *, const char *))
{
    char        *v, name[64];
    const char  *want;

    snprintf(name, sizeof(name), "access-control-request-%s", asked);
    want = fmt_header(rec, name);

    snprintf(name, sizeof(name), "Access-Control-Allow-%s", allow);
    v = xf_http_header(resp, name);

    ck_assert_msg(want == NULL || (v != NULL && has(v, want) != NULL),
                  "%s record %zu: %s %s lacks %s", file, idx, name,
                  v ? v : "(none)", want);
    free(v);
}


/* ------------------------------------------------------------- answers */

static void
fmt_check_answer(const char *file, size_t idx, json_t *rec,
    xf_capture_family_t fam, size_t nevents, const xf_http_resp_t *resp)
{
    char            want[64], *v, *w;
    json_t         *j;
    const char     *origin, *path, *token, *method, *query;
    fmt_rec_kind_t  kind;

    method = fmt_jstr(rec, "method");
    path = fmt_jstr(rec, "path");
    origin = fmt_header(rec, "origin");
    kind = fmt_record_kind(rec);

    /* CORS: the exact origin, with credentials, or nothing at all. */
    v = xf_http_header(resp, "Access-Control-Allow-Origin");

    if (origin != NULL) {
        ck_assert_msg(v != NULL && strcmp(v, origin) == 0,
                      "%s record %zu (%s %s): Access-Control-Allow-Origin "
                      "%s, expected %s", file, idx, method, path,
                      v ? v : "(none)", origin);
        free(v);

        /* xflow_cors_origins any (the default): never with credentials */
        v = xf_http_header(resp, "Access-Control-Allow-Credentials");
        ck_assert_msg(v == NULL,
                      "%s record %zu: Access-Control-Allow-Credentials %s "
                      "under xflow_cors_origins any", file, idx, v);
        free(v);

        v = xf_http_header(resp, "Vary");
        ck_assert_msg(v != NULL && strcasestr(v, "Origin") != NULL,
                      "%s record %zu: Vary %s", file, idx, v ? v : "(none)");

    } else {
        ck_assert_msg(v == NULL, "%s record %zu: Access-Control-Allow-Origin "
                      "%s without Origin", file, idx, v);
    }

    free(v);

    switch (kind) {

    case FMT_REC_PREFLIGHT:
        ck_assert_msg(resp->status == 204, "%s record %zu (OPTIONS %s): "
                      "status %ld", file, idx, path, resp->status);

        v = xf_http_header(resp, "Access-Control-Max-Age");
        ck_assert_msg(v != NULL && strcmp(v, "7200") == 0,
                      "%s record %zu: Access-Control-Max-Age %s", file, idx,
                      v ? v : "(none)");
        free(v);

        fmt_check_allowed(file, idx, rec, resp, "method", "Methods", strstr);
        fmt_check_allowed(file, idx, rec, resp, "headers", "Headers",
                          strcasestr);
        return;

    case FMT_REC_CONFIG:
        ck_assert_msg(resp->status == 200, "%s record %zu (GET %s): status "
                      "%ld", file, idx, path, resp->status);

        v = xf_http_header(resp, "Content-Type");
        ck_assert_msg(v != NULL
                      && strncmp(v, "application/javascript", 22) == 0,
                      "%s record %zu: config.js Content-Type %s", file, idx,
                      v ? v : "(none)");
        free(v);

        token = strstr(path, "/array/") + 7;
        w = strndup(token, strcspn(token, "/"));
        ck_assert_ptr_nonnull(w);

        ck_assert_msg(strstr(resp->body, w) != NULL, "%s record %zu: "
                      "config.js lacks the token %s: %s", file, idx, w,
                      resp->body);
        ck_assert_msg(strstr(resp->body, "\"supportedCompression\"") != NULL
                      && strstr(resp->body, "\"gzip") != NULL,
                      "%s record %zu: config.js does not advertise gzip: %s",
                      file, idx, resp->body);
        free(w);
        return;

    case FMT_REC_FLAGS:
        ck_assert_msg(resp->status == 200, "%s record %zu (POST %s): status "
                      "%ld", file, idx, path, resp->status);

        v = xf_http_header(resp, "Content-Type");
        ck_assert_msg(v != NULL && strncmp(v, "application/json", 16) == 0,
                      "%s record %zu: flags Content-Type %s", file, idx,
                      v ? v : "(none)");
        free(v);

        j = json_loadb(resp->body, resp->body_len, 0, NULL);
        ck_assert_msg(json_is_object(j), "%s record %zu: flags answer is "
                      "not a JSON object: %s", file, idx, resp->body);
        json_decref(j);
        return;

    case FMT_REC_EVENTS:
        break;
    }

    /* PostHog retries everything but exactly 200. */
    ck_assert_msg(resp->status == 200, "%s record %zu (%s %s): status %ld, "
                  "body %s", file, idx, method, path, resp->status,
                  resp->body);

    query = fmt_jstr(rec, "query");
    query = query ? query : "";

    switch (fam) {

    case XF_CAP_POSTHOG:
        ck_assert_msg(strcmp(resp->body, "{\"status\":1}") == 0,
                      "%s record %zu: PostHog answer %s", file, idx,
                      resp->body);
        return;

    case XF_CAP_SEGMENT:
    case XF_CAP_RUDDERSTACK:
        ck_assert_msg(strcmp(resp->body, "{\"success\":true}") == 0,
                      "%s record %zu: Segment answer %s", file, idx,
                      resp->body);
        return;

    case XF_CAP_MIXPANEL:
        if (strstr(query, "img=1") != NULL) {
            break;
        }

        ck_assert_msg(strcmp(resp->body, strstr(query, "verbose=1")
                                         ? "{\"status\":1,\"error\":null}"
                                         : "1") == 0,
                      "%s record %zu: Mixpanel answer %s", file, idx,
                      resp->body);
        return;

    case XF_CAP_AMPLITUDE:
        snprintf(want, sizeof(want), "{\"code\":200,\"events_ingested\":"
                 "%zu,", nevents);
        ck_assert_msg(strncmp(resp->body, want, strlen(want)) == 0,
                      "%s record %zu: Amplitude answer %s, expected %s...",
                      file, idx, resp->body, want);
        return;

    default:
        break;
    }

    if (strcmp(method, "GET") == 0) {
        v = xf_http_header(resp, "Content-Type");
        ck_assert_msg(v != NULL && strcmp(v, "image/gif") == 0,
                      "%s record %zu: image beacon Content-Type %s", file,
                      idx, v ? v : "(none)");
        free(v);

        ck_assert_msg(resp->body_len > 6
                      && memcmp(resp->body, "GIF89a", 6) == 0,
                      "%s record %zu: image beacon answer is not a GIF",
                      file, idx);
        return;
    }

    snprintf(want, sizeof(want), "{\"accepted\":%zu,\"rejected\":0}",
             nevents);
    ck_assert_msg(strcmp(resp->body, want) == 0, "%s record %zu: answer %s, "
                  "expected %s", file, idx, resp->body, want);
}


/*
 * Send one record as it was captured, to base + path (the captured path
 * when path is NULL) + the captured query, check the answer, and add the
 * events it must produce to x.
 */
static void
fmt_replay(const char *file, json_t *rec, size_t idx, const char *base,
    const char *path, xf_capture_family_t fam, fmt_expects_t *x)
{
    char              *url;
    size_t             before;
    const char        *query;
    xf_http_resp_t     resp;
    xf_capture_req_t   r;

    query = fmt_jstr(rec, "query");

    ck_assert_int_ge(asprintf(&url, "%s%s%s", base,
                              path ? path : fmt_jstr(rec, "path"),
                              query ? query : ""), 0);

    xf_capture_req(rec, &r);
    ck_assert_ptr_nonnull(r.body);
    ck_assert_uint_eq(r.len, json_integer_value(json_object_get(rec,
                                                               "bodyLength")));

    before = x->n;

    if (fmt_record_kind(rec) == FMT_REC_EVENTS) {
        fmt_expect_record(x, rec, fam, r.body, r.len);
    }

    xf_capture_send(&r, url, &resp);

    fmt_check_answer(file, idx, rec, fam, x->n - before, &resp);

    xf_http_resp_free(&resp);
    xf_capture_req_free(&r);
    free(url);
}


/* -------------------------------------------------------------- Kafka */

/*
 * msgs[from..] against the expected events: exactly as many, each an
 * envelope v1 of src, whose event equals (as JSON) an expected one not
 * matched yet, with its bytes verbatim in the decoded upload, its app and
 * its distinct id as the key.
 */
static void
fmt_match(const char *file, const char *pass, const xf_kafka_msgs_t *msgs,
    size_t from, fmt_expects_t *x, const char *src)
{
    int              k;
    char            *evb;
    size_t           i, j, evlen;
    json_t          *env, *ev, *got, *v;
    long long        now, ts;
    const char      *key, *last, *id, *mv, *ip;
    json_error_t     err;
    fmt_expect_t    *t;
    static const char *const  order[] = { "v", "id", "ts", "src", "ip" };

    ck_assert_msg(msgs->n - from == x->n, "%s, %s: %zu messages, expected "
                  "%zu events", file, pass, msgs->n - from, x->n);

    now = (long long) time(NULL) * 1000;

    for (i = from; i < msgs->n; i++) {
        mv = msgs->msgs[i].value;
        ck_assert_ptr_nonnull(mv);

        env = json_loadb(mv, msgs->msgs[i].value_len, JSON_ALLOW_NUL, &err);
        ck_assert_msg(env != NULL, "%s, %s: message %zu is not JSON (%s): "
                      "%.300s", file, pass, i, err.text, mv);

        ck_assert_msg(strncmp(mv, "{\"v\":1,\"id\":\"", 13) == 0,
                      "%s: envelope head %.80s", file, mv);

        /* members in the documented order; "event" last */
        k = 0;
        last = NULL;
        json_object_foreach(env, key, v) {
            if (k < 5) {
                ck_assert_msg(strcmp(key, order[k]) == 0, "%s: envelope "
                              "member %d is %s, expected %s: %.200s", file,
                              k, key, order[k], mv);
            }

            last = key;
            k++;
        }

        ck_assert_msg(last != NULL && strcmp(last, "event") == 0,
                      "%s: last envelope member is %s: %.200s", file,
                      last ? last : "(none)", mv);

        ck_assert(json_integer_value(json_object_get(env, "v")) == 1);

        id = json_string_value(json_object_get(env, "id"));
        ck_assert_msg(id != NULL && strlen(id) == 32
                      && strspn(id, "0123456789abcdef") == 32,
                      "%s: id %s", file, id ? id : "(none)");

        for (j = from; j < i; j++) {
            ck_assert_msg(xf_memstr(msgs->msgs[j].value,
                                    msgs->msgs[j].value_len, id) == NULL,
                          "%s: messages %zu and %zu share id %s", file, j, i,
                          id);
        }

        ck_assert(json_is_integer(json_object_get(env, "ts")));
        ts = json_integer_value(json_object_get(env, "ts"));
        ck_assert_msg(ts > now - 3600 * 1000 && ts < now + 3600 * 1000,
                      "%s: ts %lld is not near now", file, ts);

        ck_assert_str_eq(json_string_value(json_object_get(env, "src")), src);

        ip = json_string_value(json_object_get(env, "ip"));
        ck_assert_msg(ip != NULL && strcmp(ip, "127.0.0.1") == 0, "%s: ip %s",
                      file, ip ? ip : "(none)");

        ck_assert_ptr_null(json_object_get(env, "error"));

        /*
         * The event's bytes: "event" is the last member, and ,"event":
         * cannot occur earlier at the top level (strings escape quotes).
         */
        evb = (char *) xf_memstr(mv, msgs->msgs[i].value_len, ",\"event\":");
        ck_assert_ptr_nonnull(evb);
        evb += sizeof(",\"event\":") - 1;
        evlen = mv + msgs->msgs[i].value_len - 1 - evb;

        got = json_loadb(evb, evlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        ck_assert_msg(got != NULL, "%s: event bytes are not JSON (%s): "
                      "%.300s", file, err.text, evb);

        ev = json_object_get(env, "event");
        ck_assert(json_equal(ev, got));

        for (j = 0; j < x->n; j++) {
            t = &x->e[j];
            if (!t->used && json_equal(t->event, got)) {
                t->used = 1;
                break;
            }
        }

        ck_assert_msg(j < x->n, "%s, %s: message %zu carries an unexpected "
                      "event: %.*s", file, pass, i,
                      (int) xf_tmin(evlen, (size_t) 400), evb);

        ck_assert_msg(t->doc == NULL
                      || memmem(t->doc, t->doc_len, evb, evlen) != NULL,
                      "%s, %s: message %zu: the event bytes are not the "
                      "upload's bytes: %.*s", file, pass, i,
                      (int) xf_tmin(evlen, (size_t) 400), evb);

        v = json_object_get(env, "app");

        if (t->app == NULL) {
            ck_assert_msg(v == NULL, "%s: unexpected app %s", file,
                          json_string_value(v));

        } else if (t->app_wk) {
            ck_assert_msg(json_string_value(v) != NULL
                          && xf_capture_is_wk(json_string_value(v),
                                              strlen(json_string_value(v))),
                          "%s, %s: message %zu: app %s, expected a write "
                          "key's wk: fingerprint", file, pass, i,
                          json_string_value(v) ? json_string_value(v)
                                               : "(none)");

        } else {
            ck_assert_msg(json_string_value(v) != NULL
                          && strcmp(json_string_value(v), t->app) == 0,
                          "%s, %s: message %zu: app %s, expected %s", file,
                          pass, i, json_string_value(v) ? json_string_value(v)
                                                        : "(none)", t->app);
        }

        if (t->key == NULL) {
            ck_assert_msg(msgs->msgs[i].key == NULL
                          || msgs->msgs[i].key_len == 0,
                          "%s: unexpected key %s", file, msgs->msgs[i].key);

        } else {
            ck_assert_msg(msgs->msgs[i].key != NULL
                          && msgs->msgs[i].key_len == strlen(t->key)
                          && memcmp(msgs->msgs[i].key, t->key,
                                    msgs->msgs[i].key_len) == 0,
                          "%s, %s: message %zu: key %s, expected %s", file,
                          pass, i,
                          msgs->msgs[i].key ? msgs->msgs[i].key : "(none)",
                          t->key);
        }

        json_decref(got);
        json_decref(env);
    }
}


/* ------------------------------------------------------------ metrics */

/* --------------------------------------------------------------- test */

START_TEST(test_capture)
{
    int                   pass, npass;
    char                  base[2][64], series[128];
    size_t                i, nrec, from, total, requests;
    xf_capture_family_t   fam;
    json_t           *root, *recs, *rec;
    const char       *file, *path, *src, *names[3];
    json_error_t      err;
    fmt_expects_t     x;
    xf_consumer_t    *c;
    xf_kafka_msgs_t   msgs;

    file = capture_files[_i];
    fprintf(stderr, "capture: %s\n", file);

    root = json_load_file(file, 0, &err);
    ck_assert_msg(root != NULL, "%s: %s", file, err.text);

    fam = xf_capture_family(file);
    ck_assert_msg(fam != XF_CAP_UNKNOWN, "%s: not <family>__<mode>.json of "
                  "a known SDK family", file);

    src = xf_capture_src(fam);

    recs = json_object_get(root, "serverRecords");
    nrec = json_array_size(recs);
    ck_assert_msg(nrec > 0, "%s: no serverRecords", file);

    fmt_start();

    snprintf(base[0], sizeof(base[0]), "%s", nginx->url);
    snprintf(base[1], sizeof(base[1]), "http://127.0.0.1:%d", port2);

    names[0] = "auto";
    names[1] = "named format";
    names[2] = "PostHog /e/ uploads to /i/v0/e/";
    npass = fam == XF_CAP_POSTHOG ? 3 : 2;

    c = xf_consumer_new(kafka, FMT_TOPIC);
    memset(&msgs, 0, sizeof(msgs));
    total = 0;
    requests = 0;

    for (pass = 0; pass < npass; pass++) {
        memset(&x, 0, sizeof(x));

        for (i = 0; i < nrec; i++) {
            rec = json_array_get(recs, i);
            path = NULL;

            if (pass == 0 && !xf_capture_auto(fam, fmt_jstr(rec, "path"))) {
                continue;
            }

            if (pass == 2) {
                if (strcmp(fmt_jstr(rec, "path"), "/e/") != 0
                    || fmt_record_kind(rec) != FMT_REC_EVENTS)
                {
                    continue;
                }

                path = "/i/v0/e/";
            }

            fmt_replay(file, rec, i, base[pass ? 1 : 0], path, fam, &x);

            if (fmt_record_kind(rec) != FMT_REC_PREFLIGHT) {
                requests++;
            }
        }

        if (pass == 0 && x.n == 0 && !xf_capture_auto(fam, "")) {
            continue;               /* auto never picks this family */
        }

        ck_assert_msg(x.n > 0, "%s, %s: no events sent", file, names[pass]);

        from = msgs.n;
        xf_consumer_read(c, &msgs, from + x.n, FMT_CONSUME_MS);
        fmt_match(file, names[pass], &msgs, from, &x, src);

        total += x.n;
        fmt_expects_free(&x);
    }

    /* nothing more, and nothing dead-lettered */
    xf_consumer_expect_quiet(c, FMT_SETTLE_MS);
    xf_consumer_free(c);
    xf_kafka_msgs_free(&msgs);

    ck_assert_int_eq(xf_kafka_count(kafka, FMT_DEAD_LETTER), 0);

    snprintf(series, sizeof(series), "xflow_events_total{format=\"%s\","
             "result=\"accepted\"}", src);
    ck_assert_uint_eq(xf_metrics_get(nginx, series), total);

    snprintf(series, sizeof(series), "xflow_events_total{format=\"%s\","
             "result=\"dead_lettered\"}", src);
    ck_assert_uint_eq(xf_metrics_get(nginx, series), 0);

    snprintf(series, sizeof(series), "xflow_http_requests_total{format="
             "\"%s\",code=\"200\"}", src);
    ck_assert_uint_eq(xf_metrics_get(nginx, series), requests);

    json_decref(root);
}
END_TEST


/* No capture found: fail, rather than pass with nothing tested. */
START_TEST(test_captures_present)
{
    ck_assert_msg(ncaptures > 0, "no capture in %s/*.json",
                  getenv("XF_CAPTURES") ? getenv("XF_CAPTURES")
                                        : XF_TEST_CAPTURES);
}
END_TEST


Suite *
make_formats_suite(void)
{
    Suite  *s;
    TCase  *tc;

    ncaptures = xf_test_captures(capture_files, FMT_MAX_CAPTURES);

    s = suite_create("formats");

    tc = xf_tcase(s, "captures", 30, fmt_setup, xf_fixture_teardown);
    tcase_add_test(tc, test_captures_present);
    tcase_add_loop_test(tc, test_capture, 0, (int) ncaptures);

    return s;
}
