/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_format_posthog_v1.c - the headers PostHog's v1 capture requires
 * (.../i/v1/analytics/events, .../i/v1/ai/events), checked in the order
 * PostHog's capture checks them and refused with its answers, before the
 * body is read: an SDK written against PostHog meets the same refusals
 * here, and nothing that PostHog would refuse reaches Kafka.
 *
 *   Authorization                absent: 401 invalid_api_token
 *   PostHog-Sdk-Info, PostHog-Attempt, PostHog-Request-Id,
 *   PostHog-Request-Timestamp, Content-Type, User-Agent
 *                                absent: 400 missing_required_headers,
 *                                naming every one missing
 *   Authorization                not "Bearer <token>": 400
 *                                invalid_header_value; a personal API
 *                                key (phx_): 401 invalid_api_token
 *   Content-Type                 not application/json: 415
 *                                unsupported_content_type
 *   Content-Encoding             present and not gzip, deflate, br or
 *                                zstd: 415 unsupported_encoding
 *   PostHog-Request-Id           not a UUID; PostHog-Attempt not a
 *                                positive 32-bit integer;
 *                                PostHog-Request-Timestamp not RFC 3339:
 *                                400 invalid_header_value
 *
 * The answer's body is PostHog's {"error","error_description",
 * "error_uri"}.  Pure: no allocation.
 */

#include <stdio.h>
#include <string.h>

#include "xf_format.h"
#include "xf_json.h"


static const char *const  xf_v1_encodings[] = {
    "gzip", "deflate", "br", "zstd", NULL
};


/* s equals lit, ASCII case aside. */
static int
xf_v1_caseeq(xf_str_t s, const char *lit)
{
    size_t  i, n;

    n = strlen(lit);

    if (s.len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if ((s.data[i] | 0x20) != (u_char) (lit[i] | 0x20)) {
            return 0;
        }
    }

    return 1;
}


/* s with blanks around it cut. */
static xf_str_t
xf_v1_trim(xf_str_t s)
{
    while (s.len > 0 && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.len--;
    }

    while (s.len > 0
           && (s.data[s.len - 1] == ' ' || s.data[s.len - 1] == '\t'))
    {
        s.len--;
    }

    return s;
}


static int
xf_v1_hex(u_char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}


/* 8-4-4-4-12 hex digits, or 32 without hyphens. */
static int
xf_v1_uuid(xf_str_t s)
{
    size_t  i;

    if (s.len == 32) {
        for (i = 0; i < 32; i++) {
            if (!xf_v1_hex(s.data[i])) {
                return 0;
            }
        }

        return 1;
    }

    if (s.len != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s.data[i] != '-') {
                return 0;
            }

        } else if (!xf_v1_hex(s.data[i])) {
            return 0;
        }
    }

    return 1;
}


/* 1 to 4294967295, digits only. */
static int
xf_v1_attempt(xf_str_t s)
{
    size_t    i;
    uint64_t  v;

    if (s.len == 0 || s.len > 10) {
        return 0;
    }

    v = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return 0;
        }

        v = v * 10 + (uint64_t) (s.data[i] - '0');
    }

    return v >= 1 && v <= 0xffffffffu;
}


/* n digits at p[*i], their value in *v. */
static int
xf_v1_digits(xf_str_t s, size_t *i, size_t n, unsigned *v)
{
    size_t  k;

    if (*i + n > s.len) {
        return 0;
    }

    *v = 0;

    for (k = 0; k < n; k++) {
        if (s.data[*i + k] < '0' || s.data[*i + k] > '9') {
            return 0;
        }

        *v = *v * 10 + (unsigned) (s.data[*i + k] - '0');
    }

    *i += n;

    return 1;
}


/* s.data[*i] is c (a separator), passed. */
static int
xf_v1_sep(xf_str_t s, size_t *i, const char *any)
{
    if (*i >= s.len || strchr(any, s.data[*i]) == NULL) {
        return 0;
    }

    (*i)++;

    return 1;
}


/*
 * RFC 3339's date-time: 2026-12-07T19:59:59Z, fractions of a second and
 * a numeric offset allowed, "t" or a space for "T" and "z" for "Z" as
 * PostHog's parser takes them.
 */
static int
xf_v1_rfc3339(xf_str_t s)
{
    size_t    i;
    unsigned  y, mo, d, h, mi, sec, oh, om;

    i = 0;

    if (!xf_v1_digits(s, &i, 4, &y) || !xf_v1_sep(s, &i, "-")
        || !xf_v1_digits(s, &i, 2, &mo) || !xf_v1_sep(s, &i, "-")
        || !xf_v1_digits(s, &i, 2, &d) || !xf_v1_sep(s, &i, "Tt ")
        || !xf_v1_digits(s, &i, 2, &h) || !xf_v1_sep(s, &i, ":")
        || !xf_v1_digits(s, &i, 2, &mi) || !xf_v1_sep(s, &i, ":")
        || !xf_v1_digits(s, &i, 2, &sec))
    {
        return 0;
    }

    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || sec > 60)
    {
        return 0;
    }

    if (i < s.len && s.data[i] == '.') {
        i++;

        if (i >= s.len || s.data[i] < '0' || s.data[i] > '9') {
            return 0;
        }

        while (i < s.len && s.data[i] >= '0' && s.data[i] <= '9') {
            i++;
        }
    }

    if (i < s.len && (s.data[i] == 'Z' || s.data[i] == 'z')) {
        return i + 1 == s.len;
    }

    if (!xf_v1_sep(s, &i, "+-") || !xf_v1_digits(s, &i, 2, &oh)
        || !xf_v1_sep(s, &i, ":") || !xf_v1_digits(s, &i, 2, &om))
    {
        return 0;
    }

    return i == s.len && oh <= 23 && om <= 59;
}


/* The refusal: status, PostHog's tag, its description with a value. */
static int
xf_v1_refuse(xf_posthog_v1_error_t *e, unsigned status, const char *tag,
    const char *what, xf_str_t value)
{
    int  n;

    e->status = status;
    e->error = tag;

    /* the value as sent, cut: it is quoted back, not trusted */
    n = snprintf(e->description, sizeof(e->description), "%s%.*s", what,
                 (int) (value.len > 96 ? 96 : value.len),
                 value.data ? (const char *) value.data : "");

    if (n < 0) {
        e->description[0] = '\0';
    }

    return 0;
}


int
xf_posthog_v1_check(const xf_posthog_v1_headers_t *h,
    xf_posthog_v1_error_t *e)
{
    size_t             i, n;
    xf_str_t           token, mime, none;
    const xf_str_t    *v[6];
    const char *const *enc;

    static const char *const  required[6] = {
        "PostHog-Sdk-Info", "PostHog-Attempt", "PostHog-Request-Id",
        "PostHog-Request-Timestamp", "content-type", "user-agent"
    };

    none.data = NULL;
    none.len = 0;

    e->status = 0;
    e->error = NULL;
    e->description[0] = '\0';

    /* Authorization first: its absence is 401, not 400 */
    if (h->authorization.data == NULL) {
        return xf_v1_refuse(e, 401, "invalid_api_token",
                            "The provided API token is not valid.", none);
    }

    v[0] = &h->sdk_info;
    v[1] = &h->attempt;
    v[2] = &h->request_id;
    v[3] = &h->request_timestamp;
    v[4] = &h->content_type;
    v[5] = &h->user_agent;

    /* every one missing, named as PostHog names them */
    n = (size_t) snprintf(e->description, sizeof(e->description),
                          "request is missing required headers: [");

    for (i = 0; i < 6; i++) {
        if (v[i]->data != NULL) {
            continue;
        }

        if (e->status && n < sizeof(e->description)) {
            n += (size_t) snprintf(e->description + n,
                                   sizeof(e->description) - n, ", ");
        }

        if (n < sizeof(e->description)) {
            n += (size_t) snprintf(e->description + n,
                                   sizeof(e->description) - n, "\"%s\"",
                                   required[i]);
        }

        e->status = 400;
        e->error = "missing_required_headers";
    }

    if (e->status) {
        if (n < sizeof(e->description)) {
            (void) snprintf(e->description + n, sizeof(e->description) - n,
                            "]");
        }

        return 0;
    }

    e->description[0] = '\0';

    if (h->authorization.len <= 7) {
        return xf_v1_refuse(e, 400, "invalid_header_value",
                            "invalid header value: Authorization must use "
                            "Bearer scheme", none);
    }

    token.data = h->authorization.data;
    token.len = 7;

    if (!xf_v1_caseeq(token, "Bearer ")) {
        return xf_v1_refuse(e, 400, "invalid_header_value",
                            "invalid header value: Authorization must use "
                            "Bearer scheme", none);
    }

    token.data = h->authorization.data + 7;
    token.len = h->authorization.len - 7;
    token = xf_v1_trim(token);

    /* a personal API key is a secret, never a project's token */
    if (token.len == 0
        || (token.len >= 4 && memcmp(token.data, "phx_", 4) == 0))
    {
        return xf_v1_refuse(e, 401, "invalid_api_token",
                            "The provided API token is not valid.", none);
    }

    mime = h->content_type;

    for (i = 0; i < mime.len && mime.data[i] != ';'; i++) {
        /* the media type, before its parameters */
    }

    mime.len = i;

    if (!xf_v1_caseeq(xf_v1_trim(mime), "application/json")) {
        return xf_v1_refuse(e, 415, "unsupported_content_type",
                            "unsupported content type: ", h->content_type);
    }

    if (h->content_encoding.data != NULL) {
        for (enc = xf_v1_encodings; *enc != NULL; enc++) {
            if (xf_v1_caseeq(h->content_encoding, *enc)) {
                break;
            }
        }

        if (*enc == NULL) {
            return xf_v1_refuse(e, 415, "unsupported_encoding",
                                "unsupported content encoding: ",
                                h->content_encoding);
        }
    }

    if (!xf_v1_uuid(h->request_id)) {
        return xf_v1_refuse(e, 400, "invalid_header_value",
                            "invalid header value: PostHog-Request-Id is "
                            "not a valid UUID: ", h->request_id);
    }

    if (!xf_v1_attempt(h->attempt)) {
        return xf_v1_refuse(e, 400, "invalid_header_value",
                            "invalid header value: PostHog-Attempt must be "
                            "a positive integer: ", h->attempt);
    }

    if (!xf_v1_rfc3339(h->request_timestamp)) {
        return xf_v1_refuse(e, 400, "invalid_header_value",
                            "invalid header value: PostHog-Request-Timestamp "
                            "is not valid RFC 3339: ", h->request_timestamp);
    }

    return 1;
}


size_t
xf_posthog_v1_error_body(const xf_posthog_v1_error_t *e, u_char *buf,
    size_t size)
{
    size_t  n, len;

    static const char  head[] = "{\"error\":\"";
    static const char  mid[] = "\",\"error_description\":\"";
    static const char  tail[] = "\",\"error_uri\":"
                                "\"https://posthog.com/docs/api\"}";

    len = strlen(e->description);

    if (e->error == NULL
        || size < sizeof(head) + strlen(e->error) + sizeof(mid)
                  + xf_json_escape_bound(len) + sizeof(tail))
    {
        return 0;
    }

    n = sizeof(head) - 1;
    memcpy(buf, head, n);
    memcpy(buf + n, e->error, strlen(e->error));
    n += strlen(e->error);
    memcpy(buf + n, mid, sizeof(mid) - 1);
    n += sizeof(mid) - 1;
    n += xf_json_escape(buf + n, (const u_char *) e->description, len);
    memcpy(buf + n, tail, sizeof(tail) - 1);

    return n + sizeof(tail) - 1;
}
