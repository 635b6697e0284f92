/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_json.h - a validating, single-pass JSON scanner that finds events
 * without building a tree.
 *
 * It enforces RFC 8259 strictly: UTF-8 only (no overlong forms, no
 * surrogate code points encoded in UTF-8, nothing above U+10FFFF), \u
 * escapes must pair surrogates correctly, no leading zeros, no trailing
 * commas, no control characters inside strings, and a nesting limit.
 * Input is (const u_char *p, size_t len); nothing is copied.
 */

#ifndef XF_JSON_H
#define XF_JSON_H

#include "xf_core.h"


typedef enum {
    XF_JSON_OBJECT = 0,
    XF_JSON_ARRAY,
    XF_JSON_STRING,
    XF_JSON_NUMBER,
    XF_JSON_TRUE,
    XF_JSON_FALSE,
    XF_JSON_NULL
} xf_json_type_t;


/*
 * The type of the JSON value that starts with c, in input a scan has
 * validated (any other first byte is a number).
 */
static inline xf_json_type_t
xf_json_type(u_char c)
{
    switch (c) {
    case '{':
        return XF_JSON_OBJECT;
    case '[':
        return XF_JSON_ARRAY;
    case '"':
        return XF_JSON_STRING;
    case 't':
        return XF_JSON_TRUE;
    case 'f':
        return XF_JSON_FALSE;
    case 'n':
        return XF_JSON_NULL;
    default:
        return XF_JSON_NUMBER;
    }
}


/* One value's bytes in the caller's buffer: p + off, len bytes. */
typedef struct {
    uint32_t        off;
    uint32_t        len;
    xf_json_type_t  type;
} xf_json_span_t;


/*
 * Validate exactly one JSON value starting at p (leading JSON whitespace
 * is skipped).  On XF_OK, *span holds the value (without the whitespace
 * around it) and *end the offset just past the value.  Trailing bytes are
 * not looked at, except that a top-level number or literal must be
 * followed by the end, JSON whitespace, ',', ']' or '}': "01" and "truex"
 * are errors, not a value followed by trailing bytes.  On error, *err_off
 * is the offset of the offending byte (len when the input ends early).
 * max_depth counts open arrays and objects; 1 allows "{}" but not "{"a":{}}";
 * a max_depth above XF_JSON_DEPTH_MAX is taken as XF_JSON_DEPTH_MAX (the
 * scanner keeps the kinds of open containers in a fixed bit stack).
 * Returns XF_ERR_JSON_SYNTAX, XF_ERR_JSON_UTF8 (ill-formed UTF-8 in a
 * string, a lone surrogate escape) or XF_ERR_JSON_DEPTH for invalid input,
 * XF_ERR_EMPTY for empty or whitespace-only input, and XF_ERR_TOO_LARGE
 * for inputs of 4 GiB or more (spans are 32-bit).
 */
xf_status_t xf_json_scan_value(const u_char *p, size_t len,
    unsigned max_depth, xf_json_span_t *span, size_t *end, size_t *err_off);


/* The highest max_depth honoured: 4096 levels, a 512-byte bit stack. */
#define XF_JSON_DEPTH_MAX  4096


/* Limits for splitting an upload into events. */
typedef struct {
    unsigned        max_depth;      /* counted from the upload's top */
    size_t          max_events;     /* more: XF_ERR_TOO_MANY_EVENTS */
} xf_json_split_conf_t;

/* A member name for xf_json_object_fields(). */
typedef struct {
    const char     *name;
    size_t          len;
} xf_json_key_t;


/*
 * The result of a split: spans grown with the caller's allocator.
 *
 * Optionally, the top-level members of each event object named by keys
 * (at most XF_JSON_SPLIT_KEYS) are found while the event is validated,
 * with no second pass: set keys and nkeys before the call (the rest
 * zeroed).  Then found[e] has bit k set, and values[e * nkeys + k] holds
 * the value (relative to the event's own start, as from
 * xf_json_object_fields on the event's span), for every keys[k] that
 * event e has; the first member of a name wins, names compare after
 * unescaping.  Non-objects find nothing.  values and found grow with
 * spans and are freed by the caller like spans; keys and nkeys must stay
 * the same across calls that reuse out.
 */
#define XF_JSON_SPLIT_KEYS  32

typedef struct {
    xf_json_span_t      *spans;
    size_t               n;
    size_t               cap;
    size_t               err_off;   /* where validation failed */

    const xf_json_key_t *keys;
    size_t               nkeys;
    xf_json_span_t      *values;    /* cap * nkeys */
    uint32_t            *found;     /* cap */
} xf_json_split_t;

/*
 * Split an upload into events.  The upload is one of:
 *   - a single value (normally an object): one event;
 *   - one top-level array: each element is an event (elements of any
 *     type are returned with their type; the caller decides what a
 *     non-object means);
 *   - NDJSON / concatenated values separated by JSON whitespace: each
 *     top-level value is an event (a top-level array among several values
 *     is one event of type XF_JSON_ARRAY, not flattened).  At least one
 *     whitespace byte must separate two values: "{}{}" is an error.
 * The whole input is validated before XF_OK is returned: an error
 * anywhere means no event is usable, and out->err_off tells where.
 * Whitespace-only or empty input is XF_ERR_EMPTY; "[]" is XF_OK with
 * n == 0.  More than max_events events is XF_ERR_TOO_MANY_EVENTS with
 * err_off at the first event over the limit (values after it are not
 * looked at; the elements of a top-level array are all validated first).
 * XF_ERR_NOMEM when a->alloc fails.
 * out must be zeroed by the caller before the first call; out->spans is
 * allocated with a (and may be reused across calls to avoid allocation:
 * n is reset to 0, cap kept).
 */
xf_status_t xf_json_split(const u_char *p, size_t len,
    const xf_json_split_conf_t *conf, const xf_alloc_t *a,
    xf_json_split_t *out);


/*
 * Look up a member of an object that has already been validated
 * (p, len is exactly the object's span).  key is compared with the
 * member names after JSON unescaping of the names (so "\u0061" matches
 * "a").  Only the top level of the object is searched; the first match
 * wins.  Returns XF_OK and the value's span (relative to p), or
 * XF_ERR_EMPTY when there is no such member.  The object is not
 * validated again: on input that is not a valid object the result is
 * meaningless (possibly XF_ERR_JSON_SYNTAX) but no byte outside p..len
 * is read.
 */
xf_status_t xf_json_object_get(const u_char *p, size_t len,
    const char *key, size_t key_len, xf_json_span_t *value);


/*
 * Look up several members of a validated object in one pass over it
 * (p, len is exactly the object's span): bit k of *found is set, and
 * values[k] holds the value (relative to p), for every keys[k] present;
 * the first member of a name wins, names compare after unescaping, only
 * the top level is searched.  At most 32 keys.  The scan stops as soon as
 * every key was found.  XF_OK on validated input.
 */
xf_status_t xf_json_object_fields(const u_char *p, size_t len,
    const xf_json_key_t *keys, size_t nkeys, xf_json_span_t *values,
    uint32_t *found);


/*
 * Skip the value at p[*pos] of input that has already been validated (a
 * member value of an object xf_json_scan_value() or xf_json_split()
 * accepted; whitespace before it already skipped).  On XF_OK *pos is just
 * past the value.  Nothing is checked beyond what it takes never to read
 * outside p..len: the input ending inside the value, or no value at all
 * where one belongs, is XF_ERR_JSON_SYNTAX with *pos unchanged.
 */
xf_status_t xf_json_skip_value(const u_char *p, size_t len, size_t *pos);


/*
 * Unescape a validated JSON string span (with its quotes) into dst,
 * which has room for dst_cap bytes; the result is UTF-8 without quotes.
 * Returns XF_ERR_BUFFER if it does not fit (the unescaped text is never
 * longer than the span).  *dst_len receives the length.  \u escapes of
 * a surrogate pair become one 4-byte UTF-8 sequence; an escape that is
 * malformed or a lone surrogate is XF_ERR_JSON_SYNTAX or XF_ERR_JSON_UTF8
 * (raw bytes are copied as they are, not checked again).
 */
xf_status_t xf_json_string_unescape(const u_char *p, size_t len,
    u_char *dst, size_t dst_cap, size_t *dst_len);


/*
 * Write src as the body of a JSON string (no quotes) into dst: ", \ and
 * control characters are escaped (\b \f \n \r \t, else \u00XX), valid
 * UTF-8 is copied, and each maximal ill-formed UTF-8 subpart (a bad byte,
 * or a lead byte with the continuation bytes that fit it) becomes U+FFFD.
 * The result is always a valid JSON string body.  Returns the number of
 * bytes written; dst must have room for xf_json_escape_bound(len) bytes.
 */
size_t xf_json_escape(u_char *dst, const u_char *src, size_t len);

#define xf_json_escape_bound(len)  ((len) * 6)

/* The offset of the first byte at or after pos that is not JSON whitespace. */
static inline size_t
xf_json_ws(const u_char *p, size_t len, size_t pos)
{
    while (pos < len
           && (p[pos] == ' ' || p[pos] == '\n' || p[pos] == '\r'
               || p[pos] == '\t'))
    {
        pos++;
    }

    return pos;
}

#endif /* XF_JSON_H */
