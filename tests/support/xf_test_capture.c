/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_test_capture.c - the SDK captures of tests/fixtures/sdk-captures/
 * (see the README there) as the e2e suites replay them: the list of
 * files, and one record's request as the SDK sent it.
 */

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xf_test.h"


size_t
xf_test_captures(char (*files)[512], size_t max)
{
    char         pattern[1024];
    size_t       i, n;
    glob_t       g;
    const char  *dir;

    dir = getenv("XF_CAPTURES");
    if (dir == NULL) {
        dir = XF_TEST_CAPTURES;
    }

    snprintf(pattern, sizeof(pattern), "%s/*.json", dir);

    memset(&g, 0, sizeof(glob_t));
    (void) glob(pattern, 0, NULL, &g);

    n = 0;
    for (i = 0; i < g.gl_pathc && n < max; i++) {
        snprintf(files[n++], sizeof(files[0]), "%s", g.gl_pathv[i]);
    }

    globfree(&g);

    return n;
}


u_char *
xf_base64_decode(const char *s, size_t len, size_t *out_len)
{
    int       v, bits;
    size_t    i, n;
    u_char   *out;
    uint32_t  acc;

    out = malloc(len * 3 / 4 + 4);
    ck_assert_ptr_nonnull(out);

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z') {
            v = s[i] - 'A';

        } else if (s[i] >= 'a' && s[i] <= 'z') {
            v = s[i] - 'a' + 26;

        } else if (s[i] >= '0' && s[i] <= '9') {
            v = s[i] - '0' + 52;

        } else if (s[i] == '+' || s[i] == '-') {
            v = 62;

        } else if (s[i] == '/' || s[i] == '_') {
            v = 63;

        } else if (s[i] == '=') {
            break;

        } else if (s[i] == '\r' || s[i] == '\n') {
            continue;

        } else {
            free(out);
            return NULL;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (u_char) (acc >> bits);
        }
    }

    *out_len = n;
    out[n] = '\0';

    return out;
}


void
xf_capture_req(json_t *rec, xf_capture_req_t *r)
{
    size_t       i, n, k;
    json_t      *raw, *h;
    const char  *b64, *name, *value;

    memset(r, 0, sizeof(xf_capture_req_t));

    r->method = json_string_value(json_object_get(rec, "method"));

    raw = json_object_get(rec, "rawHeaders");
    n = json_array_size(raw);

    r->headers = calloc(n + 2, sizeof(char *));
    ck_assert_ptr_nonnull(r->headers);

    for (i = 0, k = 0; i < n; i++) {
        h = json_array_get(raw, i);
        name = json_string_value(json_array_get(h, 0));
        value = json_string_value(json_array_get(h, 1));

        if (strcasecmp(name, "Host") == 0
            || strcasecmp(name, "Content-Length") == 0
            || strcasecmp(name, "Connection") == 0)
        {
            continue;
        }

        ck_assert_int_ge(asprintf(&r->headers[k++], "%s: %s", name, value),
                         0);
    }

    b64 = json_string_value(json_object_get(rec, "bodyBase64"));
    r->body = xf_base64_decode(b64 ? b64 : "", b64 ? strlen(b64) : 0,
                               &r->len);
    if (r->body == NULL) {
        r->len = 0;
    }

    /* libcurl's own form Content-Type would not be what the SDK sent */
    if (r->len > 0 && json_object_get(json_object_get(rec, "headers"),
                                      "content-type") == NULL)
    {
        r->headers[k] = strdup("Content-Type:");
        ck_assert_ptr_nonnull(r->headers[k]);
    }
}


long
xf_capture_send(const xf_capture_req_t *r, const char *url,
    xf_http_resp_t *resp)
{
    return xf_http_request(r->method, url, (const char *const *) r->headers,
                           strcmp(r->method, "POST") == 0 || r->len > 0
                           ? r->body : NULL, r->len, resp);
}


void
xf_capture_req_free(xf_capture_req_t *r)
{
    size_t  i;

    for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++) {
        free(r->headers[i]);
    }

    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(xf_capture_req_t));
}


void
xf_json_strings_of(json_t *v, const char *const *keys,
    void (*add)(const char *s))
{
    size_t       i;
    json_t      *m;
    const char  *k;

    if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            xf_json_strings_of(m, keys, add);
        }
        return;
    }

    if (!json_is_object(v)) {
        return;
    }

    json_object_foreach(v, k, m) {
        for (i = 0; json_is_string(m) && keys[i] != NULL; i++) {
            if (strcmp(keys[i], k) == 0) {
                add(json_string_value(m));
                break;
            }
        }

        xf_json_strings_of(m, keys, add);
    }
}


void
xf_str_set_add(char **set, size_t *n, size_t max, const char *v)
{
    size_t  i;

    /* short values (a "1", a "true") would match anything */
    if (v == NULL || strlen(v) < 8) {
        return;
    }

    for (i = 0; i < *n; i++) {
        if (strcmp(set[i], v) == 0) {
            return;
        }
    }

    ck_assert_uint_lt(*n, max);
    set[(*n)++] = strdup(v);
}
