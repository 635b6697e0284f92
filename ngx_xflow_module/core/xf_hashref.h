/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_hashref.h - keyed hashed references: what the gateway sends instead
 * of a cookie value, a User-Agent, a stripped field or a client address.
 *
 * A reference is HMAC-SHA-256(key, tag || input) truncated to its first
 * 128 bits and written as 22 characters of unpadded base64url:
 *
 *     "c:" NAME "=" VALUE     a cookie (the name is part of the input)
 *     "u:" UA                 the User-Agent header
 *     "f:" TEXT               a stripped JSON string, unescaped
 *     "j:" JSON               a stripped JSON value of another type, raw
 *     "i:" ADDRESS            the client address text
 *
 * The tag keeps equal bytes in different roles apart: a cookie whose value
 * happens to be a User-Agent does not get the User-Agent's reference.
 * Without the key a reference cannot be reversed or recomputed, even for
 * inputs as guessable as an IPv4 address; with it, the same input always
 * gives the same reference, so downstream can count and join on them.
 *
 * The key id ("kid") travels in the envelope, so that references made
 * under different keys are never compared (docs/privacy.md: rotation).
 */

#ifndef XF_HASHREF_H
#define XF_HASHREF_H

#include "xf_core.h"


#define XF_HASHREF_LEN      22      /* base64url of 128 bits, no padding */
#define XF_HASHREF_RAW      16
#define XF_HASHREF_KEY_MIN  32      /* bytes of secret, after trimming */
#define XF_HASHREF_KID_MAX  32
#define XF_HASHREF_KID_DEFAULT  8   /* characters of a derived key id */

/* Tags, the byte before the ':' of the hashed input. */
#define XF_HASHREF_COOKIE   'c'
#define XF_HASHREF_UA       'u'
#define XF_HASHREF_FIELD    'f'
#define XF_HASHREF_JSON     'j'
#define XF_HASHREF_IP       'i'
#define XF_HASHREF_KID      'k'     /* a key's derived id */
#define XF_HASHREF_SALT     's'     /* the cookieless salt of a day */
#define XF_HASHREF_VISITOR  'v'     /* a cookieless id */


typedef struct xf_hashref_s  xf_hashref_t;


/*
 * Make a key state from the contents of a key file.  One trailing "\n"
 * (or "\r\n") is not part of the key: a file written by
 * `openssl rand -hex 32 > key` is the 64 hex characters, one written by
 * `head -c 32 /dev/urandom > key` is its 32 bytes; only a single line end
 * is trimmed, so a binary key that ends in 0x0a loses at most that byte
 * and is then refused if it falls under XF_HASHREF_KEY_MIN.  The key
 * bytes are used as they are (hex is not decoded: 64 hex characters carry
 * 256 bits either way).
 *
 * kid is up to XF_HASHREF_KID_MAX characters of [A-Za-z0-9._-], so that
 * it needs no escaping in JSON or in a log line.  An empty kid (the
 * directive has no id=) is derived from the key: the first
 * XF_HASHREF_KID_DEFAULT characters of the key's reference of the empty
 * input with the tag 'k'.  It changes with the key and reveals nothing
 * of it.
 *
 * The state is allocated with a and holds copies of what it needs; the
 * caller may wipe its key buffer afterwards.  Returns NULL and sets *h,
 * or returns a message for nginx -t ("key shorter than 32 bytes", ...)
 * that never contains key bytes.
 */
const char *xf_hashref_create(const u_char *key, size_t len,
    const u_char *kid, size_t kid_len, const xf_alloc_t *a,
    xf_hashref_t **h);

/* Wipe the key material and free the state (a may free nothing). */
void xf_hashref_destroy(xf_hashref_t *h, const xf_alloc_t *a);

/* The key id, kid_len characters, not NUL-terminated. */
const u_char *xf_hashref_kid(const xf_hashref_t *h, size_t *kid_len);

/*
 * Write the reference of tag ':' p[0..len) into out (XF_HASHREF_LEN
 * characters, no NUL).  The state holds a scratch digest context, so one
 * xf_hashref_t serves one thread at a time (an nginx worker has its own
 * copy of the configuration's state after fork).  Returns XF_OK, or
 * XF_ERR_NOMEM if OpenSSL fails (out is then unusable).
 */
xf_status_t xf_hashref(xf_hashref_t *h, u_char tag, const u_char *p,
    size_t len, u_char *out);

/* The reference of a cookie: "c:" name "=" value. */
xf_status_t xf_hashref_cookie(xf_hashref_t *h, const u_char *name,
    size_t name_len, const u_char *value, size_t value_len, u_char *out);

/*
 * The references of cookies and User-Agents (xf_hashref_cookie(),
 * xf_hashref() with XF_HASHREF_UA) are cached in the state: 512 entries,
 * each the SipHash-2-4-128 of the tagged input under a random key of the
 * state and the reference; no value is kept.  On by default; off (on 0)
 * every reference is an HMAC, which is what tests and fuzzers compare
 * the cache against.  Either way the cache is emptied.
 */
void xf_hashref_cache(xf_hashref_t *h, int on);

/* How many references the cache answered since the state was made. */
uint64_t xf_hashref_cache_hits(const xf_hashref_t *h);

/*
 * The first 64 bits of a reference, read back from its text: a uniformly
 * distributed key for hash tables (xf_seen).
 */
uint64_t xf_hashref_u64(const u_char *ref);

/*
 * The cookieless id of a visitor who gave no consent: a reference that
 * counts a visitor within one UTC day and cannot follow them into the
 * next.
 *
 *     salt = HMAC-SHA-256(key, "s:" DAY)
 *     ID   = base64url( HMAC-SHA-256(key, "v:" salt
 *                        LEN(app) ":" app LEN(ip) ":" ip ua)[0..16) )
 *
 * DAY is the decimal number of days since 1970-01-01 UTC, which the
 * caller passes (the core reads no clock: tests pass any day).  The salt
 * exists only on the stack of this call: it is never stored, so a day's
 * ids cannot be recomputed without the key, and with the key only for
 * a visitor whose address and User-Agent are known.  LEN is decimal;
 * the lengths keep (app, ip, ua) triples from sharing an input.  out
 * gets XF_HASHREF_LEN characters.  Returns XF_OK or XF_ERR_NOMEM.
 */
xf_status_t xf_hashref_cookieless(xf_hashref_t *h, uint64_t day,
    const u_char *app, size_t app_len, const u_char *ip, size_t ip_len,
    const u_char *ua, size_t ua_len, u_char *out);

/*
 * Full HMAC-SHA-256 of parts[0] || parts[1] || ... (n parts) into
 * out[32], before truncation and without a tag: for known-answer tests
 * of the construction.  Same threading rule as xf_hashref().
 */
typedef struct {
    const u_char   *p;
    size_t          len;
} xf_hashref_part_t;

/* The HMAC described above, of parts[0..n), into out[32]. */
xf_status_t xf_hashref_hmac(xf_hashref_t *h, const xf_hashref_part_t *parts,
    size_t n, u_char *out);

/*
 * As xf_hashref_create() without the minimum key length and without
 * trimming: for RFC 4231 test vectors only.  Never for configuration.
 */
const char *xf_hashref_create_raw(const u_char *key, size_t len,
    const u_char *kid, size_t kid_len, const xf_alloc_t *a,
    xf_hashref_t **h);

#endif /* XF_HASHREF_H */
