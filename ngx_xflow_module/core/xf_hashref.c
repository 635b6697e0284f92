/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_hashref.c - HMAC-SHA-256 references with precomputed pads.
 *
 * HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)).  Both pads fill one
 * SHA-256 block, so the digest states after absorbing them depend on the
 * key only: they are computed once, at configuration time, and each
 * reference starts from copies of them.  A reference of a User-Agent
 * then costs the compressions of its own bytes plus one for the outer
 * hash, with no allocation:
 *
 *     create:   inner = SHA256 state after (K ^ 0x36..)
 *               outer = SHA256 state after (K ^ 0x5c..)
 *     per call: work = copy(inner); update(tag ':' input); final -> d
 *               work = copy(outer); update(d); final -> mac[32]
 *               base64url(mac[0..16)) -> 22 characters
 *
 * EVP_MD_CTX_copy_ex into a context that already holds the same digest
 * reuses it; measured on OpenSSL 3.0 it is faster than duplicating an
 * EVP_MAC_CTX per call (which allocates) and than the deprecated
 * SHA256_CTX interface (docs/privacy.md has the numbers).
 *
 * What is left per reference is SHA-256 itself: three or four
 * compressions, ~11k instructions, and a browser sends the same cookies
 * and User-Agent with every upload of a visit.  The references of
 * cookies and User-Agents are therefore cached, direct-mapped, by the
 * SipHash-2-4-128 of their tagged input under a key drawn when the key
 * state is made: an entry is that keyed hash and the reference, never
 * the value, so the cache keeps nothing a reference does not already
 * give away.  Other tags are not cached: a stripped field or an address
 * can be guessed, and a cache hit is faster than a miss (docs/privacy.md
 * has the trade-off).
 */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "xf_hashref.h"
#include "xrl.h"


#define XF_SHA256_BLOCK  64
#define XF_SHA256_LEN    32

/*
 * Entries of the reference cache, a power of two: 20 KB a key state.
 * A worker's concurrent visitors share it; one that misses pays the
 * SipHash (~300 instructions) on top of the HMAC.
 */
#define XF_HASHREF_CACHE  512


typedef struct {
    uint64_t        id[2];          /* SipHash of the tagged input */
    u_char          ref[XF_HASHREF_LEN];
    u_char          used;
} xf_hashref_entry_t;


struct xf_hashref_s {
    EVP_MD         *md;
    EVP_MD_CTX     *inner;
    EVP_MD_CTX     *outer;
    EVP_MD_CTX     *work;
    size_t          kid_len;
    u_char          kid[XF_HASHREF_KID_MAX];
    unsigned        nocache:1;
    uint64_t        hits;
    uint64_t        sipkey[2];      /* random bits: no byte order */
    xf_hashref_entry_t  cache[XF_HASHREF_CACHE];
};


static const char  xf_hashref_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static void
xf_hashref_free_ctx(xf_hashref_t *h)
{
    EVP_MD_CTX_free(h->work);
    EVP_MD_CTX_free(h->outer);
    EVP_MD_CTX_free(h->inner);
    EVP_MD_free(h->md);
}


static const char *
xf_hashref_init(xf_hashref_t *h, const u_char *key, size_t len)
{
    size_t        i;
    u_char        k[XF_SHA256_BLOCK], pad[XF_SHA256_BLOCK];
    unsigned int  n;
    const char   *err;

    err = "cannot set up SHA-256 in OpenSSL";

    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    h->work = EVP_MD_CTX_new();

    if (h->md == NULL || h->inner == NULL || h->outer == NULL
        || h->work == NULL)
    {
        return err;
    }

    memset(k, 0, sizeof(k));

    /* RFC 2104: a key longer than a block is replaced by its digest */

    if (len > XF_SHA256_BLOCK) {
        if (EVP_Digest(key, len, k, &n, h->md, NULL) != 1) {
            return err;
        }

    } else if (len) {
        memcpy(k, key, len);
    }

    for (i = 0; i < XF_SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    if (EVP_DigestInit_ex(h->inner, h->md, NULL) != 1
        || EVP_DigestUpdate(h->inner, pad, sizeof(pad)) != 1)
    {
        goto failed;
    }

    for (i = 0; i < XF_SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    if (EVP_DigestInit_ex(h->outer, h->md, NULL) != 1
        || EVP_DigestUpdate(h->outer, pad, sizeof(pad)) != 1
        || EVP_MD_CTX_copy_ex(h->work, h->inner) != 1)
    {
        goto failed;
    }

    if (RAND_bytes((u_char *) h->sipkey, sizeof(h->sipkey)) != 1) {
        err = "cannot draw a random key from OpenSSL";
        goto failed;
    }

    err = NULL;

failed:

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));

    return err;
}


static const char *
xf_hashref_new(const u_char *key, size_t len, const u_char *kid,
    size_t kid_len, const xf_alloc_t *a, xf_hashref_t **hp)
{
    size_t         i;
    u_char         c, ref[XF_HASHREF_LEN];
    const char    *err;
    xf_hashref_t  *h;

    if (kid_len > XF_HASHREF_KID_MAX) {
        return "key id longer than 32 characters";
    }

    for (i = 0; i < kid_len; i++) {
        c = kid[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return "key id may hold only letters, digits, '.', '_' and '-'";
        }
    }

    h = a->alloc(a->data, sizeof(xf_hashref_t));
    if (h == NULL) {
        return "out of memory";
    }

    memset(h, 0, sizeof(xf_hashref_t));

    if (kid_len) {
        memcpy(h->kid, kid, kid_len);
    }

    h->kid_len = kid_len;

    err = xf_hashref_init(h, key, len);
    if (err != NULL) {
        xf_hashref_destroy(h, a);
        return err;
    }

    if (kid_len == 0) {
        /* the key's own reference of nothing: one per key, not its bytes */

        if (xf_hashref(h, XF_HASHREF_KID, NULL, 0, ref) != XF_OK) {
            xf_hashref_destroy(h, a);
            return "cannot set up SHA-256 in OpenSSL";
        }

        memcpy(h->kid, ref, XF_HASHREF_KID_DEFAULT);
        h->kid_len = XF_HASHREF_KID_DEFAULT;
    }

    *hp = h;

    return NULL;
}


const char *
xf_hashref_create(const u_char *key, size_t len, const u_char *kid,
    size_t kid_len, const xf_alloc_t *a, xf_hashref_t **h)
{
    /* one line end, as `openssl rand -hex 32 > file` leaves */

    if (len && key[len - 1] == '\n') {
        len--;

        if (len && key[len - 1] == '\r') {
            len--;
        }
    }

    if (len < XF_HASHREF_KEY_MIN) {
        return "key shorter than 32 bytes";
    }

    return xf_hashref_new(key, len, kid, kid_len, a, h);
}


const char *
xf_hashref_create_raw(const u_char *key, size_t len, const u_char *kid,
    size_t kid_len, const xf_alloc_t *a, xf_hashref_t **h)
{
    return xf_hashref_new(key, len, kid, kid_len, a, h);
}


void
xf_hashref_destroy(xf_hashref_t *h, const xf_alloc_t *a)
{
    xf_hashref_free_ctx(h);
    OPENSSL_cleanse(h, sizeof(xf_hashref_t));
    a->free(a->data, h);
}


const u_char *
xf_hashref_kid(const xf_hashref_t *h, size_t *kid_len)
{
    *kid_len = h->kid_len;
    return h->kid;
}


xf_status_t
xf_hashref_hmac(xf_hashref_t *h, const xf_hashref_part_t *parts, size_t n,
    u_char *out)
{
    size_t        i;
    u_char        d[XF_SHA256_LEN];
    unsigned int  dl;

    if (EVP_MD_CTX_copy_ex(h->work, h->inner) != 1) {
        return XF_ERR_NOMEM;
    }

    for (i = 0; i < n; i++) {
        if (parts[i].len
            && EVP_DigestUpdate(h->work, parts[i].p, parts[i].len) != 1)
        {
            return XF_ERR_NOMEM;
        }
    }

    if (EVP_DigestFinal_ex(h->work, d, &dl) != 1
        || EVP_MD_CTX_copy_ex(h->work, h->outer) != 1
        || EVP_DigestUpdate(h->work, d, sizeof(d)) != 1
        || EVP_DigestFinal_ex(h->work, out, &dl) != 1)
    {
        return XF_ERR_NOMEM;
    }

    return XF_OK;
}


static void
xf_hashref_encode(u_char *out, const u_char *raw)
{
    int       i;
    uint32_t  v;

    /* 16 bytes: five groups of three, then one byte in two characters */

    for (i = 0; i < 15; i += 3) {
        v = (uint32_t) raw[i] << 16 | (uint32_t) raw[i + 1] << 8 | raw[i + 2];

        *out++ = xf_hashref_b64url[v >> 18];
        *out++ = xf_hashref_b64url[(v >> 12) & 0x3f];
        *out++ = xf_hashref_b64url[(v >> 6) & 0x3f];
        *out++ = xf_hashref_b64url[v & 0x3f];
    }

    *out++ = xf_hashref_b64url[raw[15] >> 2];
    *out = xf_hashref_b64url[(raw[15] & 0x03) << 4];
}


static xf_status_t
xf_hashref_parts(xf_hashref_t *h, const xf_hashref_part_t *parts, size_t n,
    u_char *out)
{
    u_char       mac[XF_SHA256_LEN];
    xf_status_t  rc;

    rc = xf_hashref_hmac(h, parts, n, mac);

    if (rc == XF_OK) {
        xf_hashref_encode(out, mac);
    }

    OPENSSL_cleanse(mac, sizeof(mac));

    return rc;
}


/*
 * xf_hashref_parts() through the cache.  A hit is the SipHash of the
 * input and a compare; the SipHash state, which held the input's last
 * bytes, is wiped either way.
 */
static xf_status_t
xf_hashref_cached(xf_hashref_t *h, const xf_hashref_part_t *parts, size_t n,
    u_char *out)
{
    size_t               i;
    uint64_t             id[2];
    xf_status_t          rc;
    xrl_sip_t            s;
    xf_hashref_entry_t  *e;

    if (h->nocache) {
        return xf_hashref_parts(h, parts, n, out);
    }

    xrl_sip_init(&s, h->sipkey[0], h->sipkey[1], 1);

    for (i = 0; i < n; i++) {
        xrl_sip_update(&s, parts[i].p, parts[i].len);
    }

    id[0] = xrl_sip_final(&s, &id[1]);
    OPENSSL_cleanse(&s, sizeof(s));

    e = &h->cache[id[0] & (XF_HASHREF_CACHE - 1)];

    if (e->used && e->id[0] == id[0] && e->id[1] == id[1]) {
        memcpy(out, e->ref, XF_HASHREF_LEN);
        h->hits++;
        return XF_OK;
    }

    rc = xf_hashref_parts(h, parts, n, out);

    if (rc == XF_OK) {
        e->id[0] = id[0];
        e->id[1] = id[1];
        memcpy(e->ref, out, XF_HASHREF_LEN);
        e->used = 1;
    }

    return rc;
}


void
xf_hashref_cache(xf_hashref_t *h, int on)
{
    h->nocache = !on;
    memset(h->cache, 0, sizeof(h->cache));
}


uint64_t
xf_hashref_cache_hits(const xf_hashref_t *h)
{
    return h->hits;
}


xf_status_t
xf_hashref(xf_hashref_t *h, u_char tag, const u_char *p, size_t len,
    u_char *out)
{
    u_char             t[2];
    xf_hashref_part_t  parts[2];

    t[0] = tag;
    t[1] = ':';

    parts[0].p = t;
    parts[0].len = 2;
    parts[1].p = p;
    parts[1].len = len;

    if (tag == XF_HASHREF_UA) {
        return xf_hashref_cached(h, parts, 2, out);
    }

    return xf_hashref_parts(h, parts, 2, out);
}


xf_status_t
xf_hashref_cookie(xf_hashref_t *h, const u_char *name, size_t name_len,
    const u_char *value, size_t value_len, u_char *out)
{
    xf_hashref_part_t  parts[4];

    /* a cookie name never holds '=': the parser cuts at the first one */

    parts[0].p = (const u_char *) "c:";
    parts[0].len = 2;
    parts[1].p = name;
    parts[1].len = name_len;
    parts[2].p = (const u_char *) "=";
    parts[2].len = 1;
    parts[3].p = value;
    parts[3].len = value_len;

    return xf_hashref_cached(h, parts, 4, out);
}


xf_status_t
xf_hashref_cookieless(xf_hashref_t *h, uint64_t day, const u_char *app,
    size_t app_len, const u_char *ip, size_t ip_len, const u_char *ua,
    size_t ua_len, u_char *out)
{
    int                n;
    char               d[24], al[24], il[24];
    u_char             salt[XF_SHA256_LEN];
    xf_status_t        rc;
    xf_hashref_part_t  parts[8];

    n = snprintf(d, sizeof(d), "%llu", (unsigned long long) day);

    parts[0].p = (const u_char *) "s:";
    parts[0].len = 2;
    parts[1].p = (const u_char *) d;
    parts[1].len = (size_t) n;

    rc = xf_hashref_hmac(h, parts, 2, salt);
    if (rc != XF_OK) {
        return rc;
    }

    parts[0].p = (const u_char *) "v:";
    parts[0].len = 2;
    parts[1].p = salt;
    parts[1].len = sizeof(salt);
    parts[2].p = (const u_char *) al;
    parts[2].len = (size_t) snprintf(al, sizeof(al), "%zu:", app_len);
    parts[3].p = app;
    parts[3].len = app_len;
    parts[4].p = (const u_char *) il;
    parts[4].len = (size_t) snprintf(il, sizeof(il), "%zu:", ip_len);
    parts[5].p = ip;
    parts[5].len = ip_len;
    parts[6].p = ua;
    parts[6].len = ua_len;

    rc = xf_hashref_parts(h, parts, 7, out);

    OPENSSL_cleanse(salt, sizeof(salt));

    return rc;
}


uint64_t
xf_hashref_u64(const u_char *ref)
{
    int       i;
    u_char    c;
    unsigned  d;
    uint64_t  v;

    /* ten characters carry 60 bits, the eleventh its top four */

    v = 0;

    for (i = 0; i < 11; i++) {
        c = ref[i];

        if (c >= 'A' && c <= 'Z') {
            d = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            d = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            d = c - '0' + 52;

        } else {
            d = (c == '-') ? 62 : 63;
        }

        v = (i < 10) ? (v << 6 | d) : (v << 4 | d >> 2);
    }

    return v;
}
