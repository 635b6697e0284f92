/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_strip.c - field stripping as a list of edits applied while walking.
 *
 * The walk enters an object member only while some rule's path still
 * matches it (a bit set of live rules per level), so an event without
 * any of the configured top-level names costs one pass over its top
 * level.  Edits are found in source order, and each one copies the bytes
 * since the previous edit, then its replacement:
 *
 *     src   {"a":1,"ua":"Mozilla…","b":2}
 *            |-----|               |----|
 *     dst   {"a":1,"ua":"REF"       ,"b":2}
 *                       ^ edit: [value start, value end) -> "REF"
 *
 * Nothing is copied until the first edit, so an event no rule touches
 * is never copied at all.
 *
 * A dropped member's deletion is held back while more dropped members
 * follow it: whether it takes its right comma or its left one is known
 * only when the next kept member, or the closing brace, is reached.
 */

#include <string.h>

#include "xf_strip.h"
#include "xf_json.h"


#define XF_STRIP_NONE  ((size_t) -1)


typedef struct {
    const xf_strip_conf_t  *conf;
    const xf_alloc_t       *a;
    const u_char           *src;
    size_t                  len;
    size_t                  nrules;
    size_t                  pos;        /* src copied up to here */
    u_char                 *dst;
    size_t                  cap;
    size_t                  o;
    unsigned                edited;

    /*
     * The probed values: xf_strip_probe() finds them and never edits;
     * xf_strip_values() finds them while it edits, in the same walk.
     */
    unsigned                probe_only;
    size_t                  nprobe;
    const u_char           *probe[XF_STRIP_PROBES_MAX];
    size_t                  probe_len[XF_STRIP_PROBES_MAX];
    const xf_strip_rule_t  *hit_rule[XF_STRIP_PROBES_MAX];  /* the first
                                                               replacing
                                                               hit */
    u_char                  hit_drop[XF_STRIP_PROBES_MAX];
    u_char                  hit_string[XF_STRIP_PROBES_MAX];
    /* the reference the edit wrote for a first hit, reused for it */
    u_char                  hit_ref[XF_STRIP_PROBES_MAX];
    u_char                  ref[XF_STRIP_PROBES_MAX][XF_HASHREF_LEN];
    unsigned                fresh;      /* probes first hit by the member
                                           at hand */
} xf_strip_ctx_t;


static xf_status_t xf_strip_probe_value(xf_strip_ctx_t *ctx, size_t vs,
    size_t ve, int drop, const xf_strip_rule_t *rule);
static xf_status_t xf_strip_object(xf_strip_ctx_t *ctx, size_t i,
    unsigned depth, uint64_t live);


const char *
xf_strip_rule_init(xf_strip_rule_t *rule, const u_char *path, size_t len,
    xf_strip_action_t action)
{
    size_t  i, s;

    memset(rule, 0, sizeof(xf_strip_rule_t));
    rule->path = path;
    rule->action = action;

    s = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && path[i] != '.') {
            continue;
        }

        if (i == s) {
            return "empty segment in a field path";
        }

        if (i - s > XF_STRIP_SEG_MAX) {
            return "field path segment longer than 255 bytes";
        }

        if (rule->nseg == XF_STRIP_DEPTH_MAX) {
            return "field path deeper than 8 segments";
        }

        rule->seg_off[rule->nseg] = (uint16_t) s;
        rule->seg_len[rule->nseg] = (uint16_t) (i - s);
        rule->nseg++;
        s = i + 1;
    }

    if (i - 1 > 0xffff) {
        return "field path too long";
    }

    return NULL;
}


/*
 * p[i] is a quote: the offset past the closing one.  memchr finds each
 * candidate quote; it closes the string unless an odd run of
 * backslashes escapes it.
 */
static size_t
xf_strip_skip_string(const u_char *p, size_t len, size_t i)
{
    size_t         b;
    const u_char  *q;

    i++;

    while (i < len) {
        q = memchr(p + i, '"', len - i);
        if (q == NULL) {
            return len;
        }

        i = q - p;

        for (b = i; b > 0 && p[b - 1] == '\\'; b--) {
            /* void */
        }

        if ((i - b) % 2 == 0) {
            return i + 1;
        }

        i++;
    }

    return len;
}


/*
 * The offset past the value at p[i]: xf_json_lookup.c's skipper, which
 * also serves xf_json_object_get() on validated input.  Where the input is
 * not the valid object promised, a value cut short runs to the end, and an
 * empty scalar (a "," or "}" where a value belongs) ends where it starts.
 */
static size_t
xf_strip_skip_value(const u_char *p, size_t len, size_t i)
{
    size_t  end;

    end = i;

    if (xf_json_skip_value(p, len, &end) == XF_OK) {
        return end;
    }

    if (i < len && p[i] != '"' && p[i] != '{' && p[i] != '[') {
        return i;
    }

    return len;
}


/* Copy src up to from, write the replacement, continue at to. */
static xf_status_t
xf_strip_edit(xf_strip_ctx_t *ctx, size_t from, size_t to, const u_char *r,
    size_t rlen)
{
    size_t  n;

    if (from < ctx->pos || to < from) {
        /* only on input that is not the valid object promised */
        return XF_ERR_JSON_SYNTAX;
    }

    n = from - ctx->pos;

    if (ctx->cap - ctx->o < n + rlen) {
        return XF_ERR_BUFFER;
    }

    memcpy(ctx->dst + ctx->o, ctx->src + ctx->pos, n);
    ctx->o += n;

    if (rlen) {
        memcpy(ctx->dst + ctx->o, r, rlen);
        ctx->o += rlen;
    }

    ctx->pos = to;
    ctx->edited = 1;

    return XF_OK;
}


/*
 * The reference a replacing rule gives a value: v, n is a string's
 * unescaped text (str) or any other value's JSON text.  Shared by the
 * edit and the probe, so that a key equals the event's reference.
 */
static xf_status_t
xf_strip_ref(const xf_strip_conf_t *conf, const xf_strip_rule_t *rule,
    int str, const u_char *v, size_t n, u_char *out)
{
    if (rule->action == XF_STRIP_ID && conf->anon != NULL) {
        /* no consent: every id is the visitor's id of the day */
        memcpy(out, conf->anon, XF_HASHREF_LEN);
        return XF_OK;
    }

    if (conf->h == NULL) {
        return XF_ERR_NOMEM;
    }

    if (!str) {
        return xf_hashref(conf->h, XF_HASHREF_JSON, v, n, out);
    }

    if (rule->action == XF_STRIP_ID && rule->cookie != NULL) {
        return xf_hashref_cookie(conf->h, rule->cookie, rule->cookie_len,
                                 v, n, out);
    }

    return xf_hashref(conf->h,
                      rule->action == XF_STRIP_UA
                      ? XF_HASHREF_UA : XF_HASHREF_FIELD,
                      v, n, out);
}


static xf_status_t
xf_strip_hash(xf_strip_ctx_t *ctx, const xf_strip_rule_t *rule, size_t vs,
    size_t ve)
{
    u_char        *tmp;
    size_t         n, i;
    u_char         ref[XF_HASHREF_LEN + 2];
    xf_status_t    rc;
    const u_char  *v;

    v = ctx->src + vs;
    n = ve - vs;

    if (n >= 2 && v[0] == '"') {

        if (memchr(v + 1, '\\', n - 2) == NULL) {
            rc = xf_strip_ref(ctx->conf, rule, 1, v + 1, n - 2, ref + 1);

            if (rc == XF_OK && rule->action == XF_STRIP_UA && ctx->conf->ua) {
                ctx->conf->ua(ctx->conf->ua_data, v + 1, n - 2, ref + 1);
            }

        } else {
            tmp = ctx->a->alloc(ctx->a->data, n);
            if (tmp == NULL) {
                return XF_ERR_NOMEM;
            }

            rc = xf_json_string_unescape(v, n, tmp, n, &n);

            if (rc == XF_OK) {
                rc = xf_strip_ref(ctx->conf, rule, 1, tmp, n, ref + 1);
            }

            if (rc == XF_OK && rule->action == XF_STRIP_UA && ctx->conf->ua) {
                ctx->conf->ua(ctx->conf->ua_data, tmp, n, ref + 1);
            }

            ctx->a->free(ctx->a->data, tmp);
        }

    } else {
        rc = xf_strip_ref(ctx->conf, rule, 0, v, n, ref + 1);
    }

    if (rc != XF_OK) {
        return rc;
    }

    for (i = 0; ctx->fresh != 0 && i < ctx->nprobe; i++) {
        if (ctx->fresh & (1u << i)) {
            /* the value equals this member's: its reference is this one */
            memcpy(ctx->ref[i], ref + 1, XF_HASHREF_LEN);
            ctx->hit_ref[i] = 1;
        }
    }

    ref[0] = '"';
    ref[XF_HASHREF_LEN + 1] = '"';

    return xf_strip_edit(ctx, vs, ve, ref, sizeof(ref));
}


/*
 * The value vs..ve of a member a probe reached or the walk keeps: a match
 * is probed (drop or hash) or hashed, a member some longer rule runs
 * through is walked into (rules sub, one level deeper), anything else is
 * left as it is.  A dropped member never gets here while editing.
 */
static xf_status_t
xf_strip_member(xf_strip_ctx_t *ctx, size_t vs, size_t ve, unsigned depth,
    uint64_t sub, int drop, const xf_strip_rule_t *hash)
{
    if (ctx->probe_only && (drop || hash)) {
        return xf_strip_probe_value(ctx, vs, ve, drop, hash);
    }

    if (hash) {
        return xf_strip_hash(ctx, hash, vs, ve);
    }

    if (sub) {
        return xf_strip_object(ctx, vs, depth + 1, sub);
    }

    return XF_OK;
}


/*
 * Walk the object at src[i] with the rules in live whose segment number
 * depth is to be matched here.
 */
static xf_status_t
xf_strip_object(xf_strip_ctx_t *ctx, size_t i, unsigned depth, uint64_t live)
{
    int                     esc, drop;
    size_t                  len, ks, kl, vs, ve, klen, run, run_end;
    size_t                  kept_end, r;
    uint64_t                sub, bit;
    xf_status_t             rc;
    const u_char           *p, *key;
    const xf_strip_rule_t  *rule, *hash;
    u_char                  buf[6 * XF_STRIP_SEG_MAX + 2];

    p = ctx->src;
    len = ctx->len;

    run = XF_STRIP_NONE;
    run_end = 0;
    kept_end = XF_STRIP_NONE;

    i = xf_json_ws(p, len, i + 1);

    if (i >= len || p[i] != '"') {
        /* "{}" and "{ }" */
        return XF_OK;
    }

    for ( ;; ) {

        ks = i;
        i = xf_strip_skip_string(p, len, i);
        kl = i - ks;
        esc = kl >= 2 && memchr(p + ks + 1, '\\', kl - 2) != NULL;

        i = xf_json_ws(p, len, i);
        if (i >= len || p[i] != ':') {
            return XF_ERR_JSON_SYNTAX;
        }

        vs = xf_json_ws(p, len, i + 1);
        ve = xf_strip_skip_value(p, len, vs);

        /* the name, unescaped only if it could match a segment */

        key = p + ks + 1;
        klen = kl >= 2 ? kl - 2 : 0;

        if (esc) {
            if (klen > sizeof(buf) - 2
                || xf_json_string_unescape(p + ks, kl, buf, sizeof(buf),
                                           &klen)
                   != XF_OK)
            {
                klen = XF_STRIP_SEG_MAX + 1;
            }

            key = buf;
        }

        drop = 0;
        hash = NULL;
        sub = 0;

        for (r = 0; r < ctx->nrules; r++) {
            bit = (uint64_t) 1 << r;

            if (!(live & bit)) {
                continue;
            }

            rule = &ctx->conf->rules[r];

            if (rule->seg_len[depth] != klen
                || memcmp(rule->path + rule->seg_off[depth], key, klen) != 0)
            {
                continue;
            }

            if (depth + 1 == rule->nseg) {
                if (rule->action == XF_STRIP_DROP) {
                    drop = 1;

                } else if (hash == NULL) {
                    hash = rule;
                }

            } else if (vs < len && p[vs] == '{') {
                sub |= bit;
            }
        }

        ctx->fresh = 0;

        if (!ctx->probe_only && ctx->nprobe && (drop || hash)) {
            /* values probed while editing: the members acted on */
            rc = xf_strip_probe_value(ctx, vs, ve, drop, hash);
            if (rc != XF_OK) {
                return rc;
            }
        }

        if (ctx->probe_only) {
            rc = xf_strip_member(ctx, vs, ve, depth, sub, drop, hash);
            if (rc != XF_OK) {
                return rc;
            }

        } else if (drop) {
            if (run == XF_STRIP_NONE) {
                run = ks;
            }

            run_end = ve;

        } else {
            if (run != XF_STRIP_NONE) {
                /* dropped members before this one take their commas */
                rc = xf_strip_edit(ctx, run, ks, NULL, 0);
                if (rc != XF_OK) {
                    return rc;
                }

                run = XF_STRIP_NONE;
            }

            rc = xf_strip_member(ctx, vs, ve, depth, sub, drop, hash);
            if (rc != XF_OK) {
                return rc;
            }

            kept_end = ve;
        }

        i = xf_json_ws(p, len, ve);

        if (i >= len || p[i] != ',') {
            break;
        }

        i = xf_json_ws(p, len, i + 1);

        if (i >= len || p[i] != '"') {
            return XF_ERR_JSON_SYNTAX;
        }
    }

    if (run == XF_STRIP_NONE) {
        return XF_OK;
    }

    /* the object ends with dropped members: they take the left comma */

    return xf_strip_edit(ctx, kept_end != XF_STRIP_NONE ? kept_end : run,
                         run_end, NULL, 0);
}


/*
 * A walk of the event p, len with nothing edited or found yet; the rules
 * live at the top level, all of them, as a bit set.  Rules past
 * XF_STRIP_RULES_MAX are not looked at.
 */
static uint64_t
xf_strip_ctx_init(xf_strip_ctx_t *ctx, const xf_strip_conf_t *conf,
    const xf_alloc_t *a, const u_char *p, size_t len)
{
    memset(ctx, 0, sizeof(xf_strip_ctx_t));

    ctx->conf = conf;
    ctx->a = a;
    ctx->src = p;
    ctx->len = len;
    ctx->nrules = xf_min(conf->n, XF_STRIP_RULES_MAX);

    return ctx->nrules == XF_STRIP_RULES_MAX
           ? ~(uint64_t) 0 : ((uint64_t) 1 << ctx->nrules) - 1;
}


/*
 * What the walk found for probe i, into *res: a drop, the first replacing
 * hit's reference (the one the edit wrote, when it wrote one), or keep.
 */
static xf_status_t
xf_strip_probe_result(xf_strip_ctx_t *ctx, size_t i, xf_strip_probe_t *res)
{
    xf_status_t  rc;

    res->action = XF_STRIP_PROBE_KEEP;
    res->ref_len = 0;

    if (ctx->hit_drop[i]) {
        res->action = XF_STRIP_PROBE_DROP;
        return XF_OK;
    }

    if (ctx->hit_rule[i] == NULL) {
        return XF_OK;
    }

    if (ctx->hit_ref[i]) {
        memcpy(res->ref, ctx->ref[i], XF_HASHREF_LEN);

    } else {
        rc = xf_strip_ref(ctx->conf, ctx->hit_rule[i], ctx->hit_string[i],
                          ctx->probe[i], ctx->probe_len[i], res->ref);
        if (rc != XF_OK) {
            return rc;
        }
    }

    res->action = XF_STRIP_PROBE_HASH;
    res->ref_len = XF_HASHREF_LEN;

    return XF_OK;
}


xf_status_t
xf_strip_values(const xf_strip_conf_t *conf, const xf_alloc_t *a,
    const u_char *p, size_t len, u_char *dst, size_t cap, size_t *out_len,
    const u_char *const *values, const size_t *value_lens, size_t n,
    xf_strip_probe_t *res)
{
    size_t          i;
    uint64_t        live;
    xf_status_t     rc;
    xf_strip_ctx_t  ctx;

    *out_len = 0;

    for (i = 0; i < n; i++) {
        res[i].action = XF_STRIP_PROBE_KEEP;
        res[i].ref_len = 0;
    }

    if (len < 2 || p[0] != '{') {
        return XF_ERR_NOT_OBJECT;
    }

    if (conf->n == 0) {
        return XF_OK;
    }

    live = xf_strip_ctx_init(&ctx, conf, a, p, len);
    ctx.dst = dst;
    ctx.cap = cap;

    for (i = 0; i < xf_min(n, XF_STRIP_PROBES_MAX); i++) {
        /* an empty value (NULL here) is kept: no member is compared */
        ctx.probe[i] = value_lens[i] ? values[i] : NULL;
        ctx.probe_len[i] = value_lens[i];
        ctx.nprobe++;
    }

    rc = xf_strip_object(&ctx, 0, 0, live);
    if (rc != XF_OK) {
        return rc;
    }

    if (ctx.edited) {
        rc = xf_strip_edit(&ctx, len, len, NULL, 0);
        if (rc != XF_OK) {
            return rc;
        }

        *out_len = ctx.o;
    }

    for (i = 0; i < ctx.nprobe; i++) {
        rc = xf_strip_probe_result(&ctx, i, &res[i]);
        if (rc != XF_OK) {
            return rc;
        }
    }

    return XF_OK;
}


xf_status_t
xf_strip(const xf_strip_conf_t *conf, const xf_alloc_t *a, const u_char *p,
    size_t len, u_char *dst, size_t cap, size_t *out_len)
{
    return xf_strip_values(conf, a, p, len, dst, cap, out_len, NULL, NULL, 0,
                           NULL);
}


/*
 * A member a rule acts on: is its value one of the probed texts?  The
 * first replacing hit of each is kept, and marked fresh for the edit of
 * this member to hand its reference over.
 */
static xf_status_t
xf_strip_probe_value(xf_strip_ctx_t *ctx, size_t vs, size_t ve, int drop,
    const xf_strip_rule_t *rule)
{
    int            str;
    u_char        *tmp;
    size_t         n, i;
    xf_status_t    rc;
    const u_char  *v, *text;

    v = ctx->src + vs;
    n = ve - vs;
    str = n >= 2 && v[0] == '"';
    tmp = NULL;

    if (!str) {
        text = v;

    } else if (memchr(v + 1, '\\', n - 2) == NULL) {
        text = v + 1;
        n -= 2;

    } else {
        tmp = ctx->a->alloc(ctx->a->data, n);
        if (tmp == NULL) {
            return XF_ERR_NOMEM;
        }

        rc = xf_json_string_unescape(v, n, tmp, n, &n);
        text = tmp;

        if (rc != XF_OK) {
            /* equal to nothing */
            ctx->a->free(ctx->a->data, tmp);
            return XF_OK;
        }
    }

    for (i = 0; i < ctx->nprobe; i++) {
        if (ctx->probe[i] == NULL || n != ctx->probe_len[i]
            || memcmp(text, ctx->probe[i], n) != 0)
        {
            continue;
        }

        if (drop) {
            ctx->hit_drop[i] = 1;

        } else if (ctx->hit_rule[i] == NULL) {
            ctx->hit_rule[i] = rule;
            ctx->hit_string[i] = (u_char) str;
            ctx->fresh |= 1u << i;
        }
    }

    if (tmp != NULL) {
        ctx->a->free(ctx->a->data, tmp);
    }

    return XF_OK;
}


xf_status_t
xf_strip_probe(const xf_strip_conf_t *conf, const xf_alloc_t *a,
    const u_char *p, size_t len, const u_char *value, size_t value_len,
    xf_strip_probe_t *res)
{
    uint64_t        live;
    xf_status_t     rc;
    xf_strip_ctx_t  ctx;

    res->action = XF_STRIP_PROBE_KEEP;
    res->ref_len = 0;

    if (len < 2 || p[0] != '{' || conf->n == 0 || value_len == 0) {
        return XF_OK;
    }

    live = xf_strip_ctx_init(&ctx, conf, a, p, len);
    ctx.probe_only = 1;
    ctx.nprobe = 1;
    ctx.probe[0] = value;
    ctx.probe_len[0] = value_len;

    rc = xf_strip_object(&ctx, 0, 0, live);
    if (rc != XF_OK) {
        return rc;
    }

    return xf_strip_probe_result(&ctx, 0, res);
}
