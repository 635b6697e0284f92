/*
 * xf_route.c - topic routing rules: parsing, compilation to name
 * indexes, and first-match evaluation.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_json.h"
#include "xf_route.h"


/* One name of an index and the rules (sorted) it selects. */
typedef struct {
    xf_str_t        name;
    uint64_t        hash;
    uint32_t       *rules;
    uint32_t        n;
} xf_route_slot_t;


/* Open addressing, linear probing, at most half full. */
typedef struct {
    xf_route_slot_t *slots;
    size_t           mask;              /* capacity - 1; no slots: 0 */
} xf_route_index_t;


/*
 * Prefix rules (event=order_* and no exact name): a byte trie of the
 * prefixes, each node holding the rules whose prefix ends there, so an
 * event name collects its candidates in one walk down its own bytes.
 */
typedef struct {
    uint32_t        child;              /* first child, 0: none */
    uint32_t        sibling;            /* next sibling, 0: none */
    uint32_t        rules;              /* offset in the trie's rule ids */
    uint32_t        nrules;
    u_char          byte;
} xf_route_node_t;


#define XF_ROUTE_PREFIX_MAX  64         /* candidates gathered on a walk */


struct xf_route_table_s {
    xf_route_rule_t    *rules;
    uint32_t           *topics;
    size_t              n;
    xf_route_index_t    by_event;       /* rules with exact event names */
    xf_route_index_t    by_app;         /* no event condition, exact apps */
    xf_route_node_t    *trie;           /* node 0 is the root ("") */
    size_t              ntrie;
    uint32_t           *trie_rules;
    uint32_t           *prefixed;       /* every trie rule, in order: the */
    size_t              nprefixed;      /* fallback of a crowded walk */
    uint32_t           *rest;           /* everything else, in order */
    size_t              nrest;

    /*
     * has= properties: every distinct name once (at most
     * XF_ROUTE_HAS_MAX, else has_keys is NULL and each rule looks for its
     * own), and per rule the bits of the names it needs.  An event is
     * looked at once for all of them, at its top level and in its
     * "properties", whatever the number of rules.
     */
    xf_json_key_t      *has_keys;
    size_t              nhas_keys;
    uint64_t           *has_need;       /* per rule */
};


#define XF_ROUTE_HAS_MAX     64

/* Which has= names an event has: found on the first rule that asks. */
typedef struct {
    int             done;
    uint64_t        present;
} xf_route_has_t;


/* A (name, rule) pair while an index is being built. */
typedef struct {
    xf_str_t        name;
    uint32_t        rule;
} xf_route_pair_t;


static xf_status_t xf_route_has_build(xf_route_table_t *t,
    const xf_alloc_t *a);


static uint64_t
xf_route_hash(const u_char *p, size_t len)
{
    size_t    i;
    uint64_t  h;

    /* FNV-1a: names are short and few; no adversary picks them */
    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static int
xf_route_str_eq(const xf_str_t *a, const u_char *p, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->data, p, len) == 0);
}


static void
xf_route_err(char *err, size_t err_len, const char *what, const xf_str_t *t)
{
    if (err_len == 0) {
        return;
    }

    snprintf(err, err_len, "%s \"%.*s\"", what,
             (int) xf_min(t->len, 200), (const char *) t->data);
}


/*
 * Parse "a", "a*", "{a,b*,c}" or "a,b*,c" into exact names and prefixes
 * (appended).  The braces need quotes in nginx.conf, where "{" opens a
 * block: the bare comma form is the same set.
 */
static xf_status_t
xf_route_parse_names(const u_char *p, size_t len, const xf_alloc_t *a,
    xf_route_names_t *names)
{
    size_t         i, start, nitems, item_len;
    xf_str_t      *exact, *prefix;
    const u_char  *item;

    if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
        p++;
        len -= 2;
    }

    if (len == 0) {
        return XF_ERR_JSON_SYNTAX;
    }

    nitems = 1;
    for (i = 0; i < len; i++) {
        nitems += (p[i] == ',');
    }

    exact = a->alloc(a->data, (names->nexact + nitems) * sizeof(xf_str_t));
    prefix = a->alloc(a->data, (names->nprefix + nitems) * sizeof(xf_str_t));
    if (exact == NULL || prefix == NULL) {
        return XF_ERR_NOMEM;
    }

    if (names->nexact) {
        memcpy(exact, names->exact, names->nexact * sizeof(xf_str_t));
    }

    if (names->nprefix) {
        memcpy(prefix, names->prefix, names->nprefix * sizeof(xf_str_t));
    }

    names->exact = exact;
    names->prefix = prefix;

    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != ',') {
            continue;
        }

        item = p + start;
        item_len = i - start;
        start = i + 1;

        if (item_len == 0) {
            return XF_ERR_JSON_SYNTAX;
        }

        if (item[item_len - 1] == '*') {
            prefix[names->nprefix].data = item;
            prefix[names->nprefix++].len = item_len - 1;

        } else {
            exact[names->nexact].data = item;
            exact[names->nexact++].len = item_len;
        }
    }

    return XF_OK;
}


xf_status_t
xf_route_rule_parse(const xf_str_t *tokens, size_t n, const xf_alloc_t *a,
    xf_route_rule_t *rule, char *err, size_t err_len)
{
    size_t             i, j, vlen;
    xf_str_t          *has;
    xf_format_t        f;
    xf_status_t        st;
    const u_char      *v;
    const xf_str_t    *t;
    xf_route_names_t   formats;

    memset(rule, 0, sizeof(xf_route_rule_t));

    for (i = 0; i < n; i++) {
        t = &tokens[i];

#define XF_ROUTE_IS(k)                                                      \
        (t->len > sizeof(k) - 1 && memcmp(t->data, k, sizeof(k) - 1) == 0) \
        && (v = t->data + sizeof(k) - 1, vlen = t->len - (sizeof(k) - 1), 1)

        if (t->len == 4 && memcmp(t->data, "copy", 4) == 0) {
            rule->copy = 1;

        } else if (XF_ROUTE_IS("event=")) {
            st = xf_route_parse_names(v, vlen, a, &rule->event);
            if (st != XF_OK) {
                xf_route_err(err, err_len, "invalid event names in", t);
                return st;
            }

        } else if (XF_ROUTE_IS("app=")) {
            st = xf_route_parse_names(v, vlen, a, &rule->app);
            if (st != XF_OK) {
                xf_route_err(err, err_len, "invalid app names in", t);
                return st;
            }

        } else if (XF_ROUTE_IS("format=")) {
            memset(&formats, 0, sizeof(formats));

            st = xf_route_parse_names(v, vlen, a, &formats);
            if (st != XF_OK || formats.nprefix) {
                xf_route_err(err, err_len, "invalid formats in", t);
                return st != XF_OK ? st : XF_ERR_JSON_SYNTAX;
            }

            for (j = 0; j < formats.nexact; j++) {
                if (xf_format_parse_name(formats.exact[j].data,
                                         formats.exact[j].len, &f)
                    != XF_OK || f == XF_FMT_AUTO)
                {
                    xf_route_err(err, err_len, "unknown format in", t);
                    return XF_ERR_JSON_SYNTAX;
                }

                rule->formats |= 1u << f;
            }

        } else if (XF_ROUTE_IS("has=")) {
            has = a->alloc(a->data, (rule->nhas + 1) * sizeof(xf_str_t));
            if (has == NULL) {
                return XF_ERR_NOMEM;
            }

            if (rule->nhas) {
                memcpy(has, rule->has, rule->nhas * sizeof(xf_str_t));
            }

            has[rule->nhas].data = v;
            has[rule->nhas++].len = vlen;
            rule->has = has;

        } else if (XF_ROUTE_IS("topic=")) {
            rule->topic.data = v;
            rule->topic.len = vlen;

        } else if (XF_ROUTE_IS("key=")) {
            if (vlen == 8 && memcmp(v, "distinct", 8) == 0) {
                rule->key = XF_ROUTE_KEY_DISTINCT;

            } else if (vlen == 3 && memcmp(v, "app", 3) == 0) {
                rule->key = XF_ROUTE_KEY_APP;

            } else if (vlen == 4 && memcmp(v, "none", 4) == 0) {
                rule->key = XF_ROUTE_KEY_NONE;

            } else {
                xf_route_err(err, err_len,
                             "key must be distinct, app or none in", t);
                return XF_ERR_JSON_SYNTAX;
            }

        } else {
            xf_route_err(err, err_len, "unknown route parameter", t);
            return XF_ERR_JSON_SYNTAX;
        }

#undef XF_ROUTE_IS
    }

    if (rule->topic.len == 0) {
        if (err_len) {
            snprintf(err, err_len, "a route needs topic=NAME");
        }

        return XF_ERR_MISSING_FIELD;
    }

    if (rule->event.nexact + rule->event.nprefix + rule->app.nexact
        + rule->app.nprefix + rule->nhas == 0 && rule->formats == 0)
    {
        if (err_len) {
            snprintf(err, err_len, "a route needs at least one of event=, "
                     "app=, format= or has=");
        }

        return XF_ERR_MISSING_FIELD;
    }

    return XF_OK;
}


static int
xf_route_pair_cmp(const void *x, const void *y)
{
    int                     c;
    size_t                  len;
    const xf_route_pair_t  *a = x, *b = y;

    len = xf_min(a->name.len, b->name.len);
    c = len ? memcmp(a->name.data, b->name.data, len) : 0;

    if (c) {
        return c;
    }

    if (a->name.len != b->name.len) {
        return a->name.len < b->name.len ? -1 : 1;
    }

    return a->rule < b->rule ? -1 : a->rule > b->rule;
}


/* Build an index from pairs; each name's rules end up sorted. */
static xf_status_t
xf_route_index_build(xf_route_pair_t *pairs, size_t npairs,
    const xf_alloc_t *a, xf_route_index_t *idx)
{
    size_t            i, j, cap, nnames;
    uint32_t         *rules;
    uint64_t          h;
    xf_route_slot_t  *s;

    idx->slots = NULL;
    idx->mask = 0;

    if (npairs == 0) {
        return XF_OK;
    }

    qsort(pairs, npairs, sizeof(xf_route_pair_t), xf_route_pair_cmp);

    nnames = 0;
    for (i = 0; i < npairs; i++) {
        if (i == 0 || !xf_route_str_eq(&pairs[i - 1].name, pairs[i].name.data,
                                       pairs[i].name.len))
        {
            nnames++;
        }
    }

    cap = 8;
    while (cap < 2 * nnames) {
        cap <<= 1;
    }

    idx->slots = a->alloc(a->data, cap * sizeof(xf_route_slot_t));
    rules = a->alloc(a->data, npairs * sizeof(uint32_t));
    if (idx->slots == NULL || rules == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(idx->slots, 0, cap * sizeof(xf_route_slot_t));
    idx->mask = cap - 1;

    for (i = 0; i < npairs; /* void */) {
        h = xf_route_hash(pairs[i].name.data, pairs[i].name.len);

        for (j = h & idx->mask; idx->slots[j].rules; j = (j + 1) & idx->mask)
        {
            /* void */
        }

        s = &idx->slots[j];
        s->name = pairs[i].name;
        s->hash = h;
        s->rules = rules;
        s->n = 0;

        /* a rule listing a name twice ({a,a}) is kept once */
        for ( ;
             i < npairs && xf_route_str_eq(&s->name, pairs[i].name.data,
                                           pairs[i].name.len);
             i++)
        {
            if (s->n == 0 || s->rules[s->n - 1] != pairs[i].rule) {
                s->rules[s->n++] = pairs[i].rule;
            }
        }

        rules += s->n;
    }

    return XF_OK;
}


static const xf_route_slot_t *
xf_route_index_find(const xf_route_index_t *idx, const u_char *p, size_t len)
{
    size_t                  j;
    uint64_t                h;
    const xf_route_slot_t  *s;

    if (idx->slots == NULL) {
        return NULL;
    }

    h = xf_route_hash(p, len);

    for (j = h & idx->mask; idx->slots[j].rules; j = (j + 1) & idx->mask) {
        s = &idx->slots[j];

        if (s->hash == h && xf_route_str_eq(&s->name, p, len)) {
            return s;
        }
    }

    return NULL;
}


/* The node of prefix p below the root, added if missing. */
static uint32_t
xf_route_trie_node(xf_route_table_t *t, const u_char *p, size_t len)
{
    size_t    i;
    uint32_t  node, c, last;

    node = 0;

    for (i = 0; i < len; i++) {
        last = 0;

        for (c = t->trie[node].child; c; c = t->trie[c].sibling) {
            if (t->trie[c].byte == p[i]) {
                break;
            }

            last = c;
        }

        if (c == 0) {
            /* capacity was counted: every prefix byte may be a node */
            c = (uint32_t) t->ntrie++;
            memset(&t->trie[c], 0, sizeof(xf_route_node_t));
            t->trie[c].byte = p[i];

            if (last) {
                t->trie[last].sibling = c;
            } else {
                t->trie[node].child = c;
            }
        }

        node = c;
    }

    return node;
}


/*
 * Build the trie of the prefix rules: pairs of (node, rule) sorted, then
 * each node's rules laid out together, in rule order, without repeats.
 */
static xf_status_t
xf_route_trie_build(xf_route_table_t *t, const xf_route_rule_t *rules,
    size_t n, const xf_alloc_t *a)
{
    size_t            i, j, nodes, npairs, k;
    uint32_t         *count, *pos;
    xf_route_pair_t  *pairs;

    nodes = 1;
    npairs = 0;

    for (i = 0; i < n; i++) {
        if (rules[i].event.nprefix && rules[i].event.nexact == 0) {
            for (j = 0; j < rules[i].event.nprefix; j++) {
                nodes += rules[i].event.prefix[j].len;
                npairs++;
            }
        }
    }

    if (npairs == 0) {
        return XF_OK;
    }

    t->trie = a->alloc(a->data, nodes * sizeof(xf_route_node_t));
    t->trie_rules = a->alloc(a->data, npairs * sizeof(uint32_t));
    t->prefixed = a->alloc(a->data, npairs * sizeof(uint32_t));
    pairs = a->alloc(a->data, npairs * sizeof(xf_route_pair_t));
    count = a->alloc(a->data, 2 * nodes * sizeof(uint32_t));

    if (t->trie == NULL || t->trie_rules == NULL || t->prefixed == NULL
        || pairs == NULL || count == NULL)
    {
        return XF_ERR_NOMEM;
    }

    memset(&t->trie[0], 0, sizeof(xf_route_node_t));
    t->ntrie = 1;

    k = 0;

    for (i = 0; i < n; i++) {
        if (rules[i].event.nprefix == 0 || rules[i].event.nexact) {
            continue;
        }

        t->prefixed[t->nprefixed++] = (uint32_t) i;

        for (j = 0; j < rules[i].event.nprefix; j++) {
            /* the pair's name holds the node number, its rule the rule */
            pairs[k].name.data = NULL;
            pairs[k].name.len = xf_route_trie_node(t,
                                    rules[i].event.prefix[j].data,
                                    rules[i].event.prefix[j].len);
            pairs[k++].rule = (uint32_t) i;
        }
    }

    /* counting sort by node; rules arrive in order within a node */
    memset(count, 0, 2 * t->ntrie * sizeof(uint32_t));
    pos = count + t->ntrie;

    for (k = 0; k < npairs; k++) {
        count[pairs[k].name.len]++;
    }

    for (i = 1; i < t->ntrie; i++) {
        pos[i] = pos[i - 1] + count[i - 1];
    }

    for (i = 0; i < t->ntrie; i++) {
        t->trie[i].rules = pos[i];
        t->trie[i].nrules = 0;
    }

    for (k = 0; k < npairs; k++) {
        xf_route_node_t  *nd = &t->trie[pairs[k].name.len];

        /* a rule listing one prefix twice is kept once */
        if (nd->nrules == 0
            || t->trie_rules[nd->rules + nd->nrules - 1] != pairs[k].rule)
        {
            t->trie_rules[nd->rules + nd->nrules++] = pairs[k].rule;
        }
    }

    a->free(a->data, pairs);
    a->free(a->data, count);

    return XF_OK;
}


/*
 * The prefix rules an event name can match, sorted: gathered on the walk
 * down the name's bytes.  Returns the number, or SIZE_MAX when more than
 * fit: then every prefix rule is a candidate (t->prefixed).
 */
static size_t
xf_route_trie_match(const xf_route_table_t *t, const xf_str_t *name,
    uint32_t *out)
{
    size_t            i, n, k, m;
    uint32_t          c, v;
    xf_route_node_t  *nd;

    if (t->trie == NULL) {
        return 0;
    }

    n = 0;
    nd = &t->trie[0];

    for (i = 0; ; i++) {
        for (k = 0; k < nd->nrules; k++) {
            if (n == XF_ROUTE_PREFIX_MAX) {
                return SIZE_MAX;
            }

            out[n++] = t->trie_rules[nd->rules + k];
        }

        if (i == name->len) {
            break;
        }

        for (c = nd->child; c; c = t->trie[c].sibling) {
            if (t->trie[c].byte == name->data[i]) {
                break;
            }
        }

        if (c == 0) {
            break;
        }

        nd = &t->trie[c];
    }

    /* insertion sort and dedupe: a handful of ids */
    for (i = 1; i < n; i++) {
        v = out[i];

        for (m = i; m > 0 && out[m - 1] > v; m--) {
            out[m] = out[m - 1];
        }

        out[m] = v;
    }

    for (i = 0, m = 0; i < n; i++) {
        if (m == 0 || out[m - 1] != out[i]) {
            out[m++] = out[i];
        }
    }

    return m;
}


/* The distinct has= names and each rule's bits of them. */
static xf_status_t
xf_route_has_build(xf_route_table_t *t, const xf_alloc_t *a)
{
    size_t          i, j, k, total;
    xf_json_key_t  *keys;

    total = 0;
    for (i = 0; i < t->n; i++) {
        total += t->rules[i].nhas;
    }

    if (total == 0) {
        return XF_OK;
    }

    keys = a->alloc(a->data, xf_min(total, XF_ROUTE_HAS_MAX)
                             * sizeof(xf_json_key_t));
    t->has_need = a->alloc(a->data, t->n * sizeof(uint64_t));

    if (keys == NULL || t->has_need == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(t->has_need, 0, t->n * sizeof(uint64_t));

    for (i = 0; i < t->n; i++) {
        for (j = 0; j < t->rules[i].nhas; j++) {
            const xf_str_t  *h = &t->rules[i].has[j];

            for (k = 0; k < t->nhas_keys; k++) {
                if (keys[k].len == h->len
                    && memcmp(keys[k].name, h->data, h->len) == 0)
                {
                    break;
                }
            }

            if (k == t->nhas_keys) {
                if (k == XF_ROUTE_HAS_MAX) {
                    /* too many names: each rule looks for its own */
                    t->nhas_keys = 0;
                    return XF_OK;
                }

                keys[k].name = (const char *) h->data;
                keys[k].len = h->len;
                t->nhas_keys++;
            }

            t->has_need[i] |= 1ULL << k;
        }
    }

    t->has_keys = keys;

    return XF_OK;
}


xf_status_t
xf_route_compile(const xf_route_rule_t *rules, const uint32_t *topics,
    size_t n, const xf_alloc_t *a, xf_route_table_t **table)
{
    size_t             i, j, nev, napp;
    xf_status_t        st;
    xf_route_pair_t   *ev, *app;
    xf_route_table_t  *t;

    t = a->alloc(a->data, sizeof(xf_route_table_t));
    if (t == NULL) {
        return XF_ERR_NOMEM;
    }

    memset(t, 0, sizeof(xf_route_table_t));

    t->n = n;
    t->rules = a->alloc(a->data, (n ? n : 1) * sizeof(xf_route_rule_t));
    t->topics = a->alloc(a->data, (n ? n : 1) * sizeof(uint32_t));
    t->rest = a->alloc(a->data, (n ? n : 1) * sizeof(uint32_t));

    nev = napp = 0;
    for (i = 0; i < n; i++) {
        nev += rules[i].event.nexact;
        napp += rules[i].app.nexact;
    }

    ev = a->alloc(a->data, (nev ? nev : 1) * sizeof(xf_route_pair_t));
    app = a->alloc(a->data, (napp ? napp : 1) * sizeof(xf_route_pair_t));

    if (t->rules == NULL || t->topics == NULL || t->rest == NULL
        || ev == NULL || app == NULL)
    {
        return XF_ERR_NOMEM;
    }

    if (n) {
        memcpy(t->rules, rules, n * sizeof(xf_route_rule_t));
        memcpy(t->topics, topics, n * sizeof(uint32_t));
    }

    nev = napp = 0;

    for (i = 0; i < n; i++) {
        if (rules[i].event.nexact && rules[i].event.nprefix == 0) {
            for (j = 0; j < rules[i].event.nexact; j++) {
                ev[nev].name = rules[i].event.exact[j];
                ev[nev++].rule = (uint32_t) i;
            }

        } else if (rules[i].event.nprefix && rules[i].event.nexact == 0) {
            /* in the trie, built below */

        } else if (rules[i].event.nexact + rules[i].event.nprefix == 0
                   && rules[i].app.nexact && rules[i].app.nprefix == 0)
        {
            for (j = 0; j < rules[i].app.nexact; j++) {
                app[napp].name = rules[i].app.exact[j];
                app[napp++].rule = (uint32_t) i;
            }

        } else {
            t->rest[t->nrest++] = (uint32_t) i;
        }
    }

    st = xf_route_index_build(ev, nev, a, &t->by_event);
    if (st != XF_OK) {
        return st;
    }

    st = xf_route_index_build(app, napp, a, &t->by_app);
    if (st != XF_OK) {
        return st;
    }

    st = xf_route_trie_build(t, rules, n, a);
    if (st != XF_OK) {
        return st;
    }

    a->free(a->data, ev);
    a->free(a->data, app);

    st = xf_route_has_build(t, a);
    if (st != XF_OK) {
        return st;
    }

    *table = t;

    return XF_OK;
}


static int
xf_route_names_match(const xf_route_names_t *names, const xf_str_t *v)
{
    size_t  i;

    for (i = 0; i < names->nexact; i++) {
        if (xf_route_str_eq(&names->exact[i], v->data, v->len)) {
            return 1;
        }
    }

    for (i = 0; i < names->nprefix; i++) {
        if (v->len >= names->prefix[i].len
            && (names->prefix[i].len == 0
                || memcmp(v->data, names->prefix[i].data,
                          names->prefix[i].len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* A top-level member, or a member of the top-level "properties" object. */
static int
xf_route_has(const xf_route_event_t *ev, const xf_str_t *prop)
{
    xf_json_span_t  v, p;

    if (ev->event == NULL) {
        return 0;
    }

    if (xf_json_object_get(ev->event, ev->event_len, (const char *) prop->data,
                           prop->len, &v) == XF_OK)
    {
        return 1;
    }

    if (xf_json_object_get(ev->event, ev->event_len, "properties", 10, &p)
        == XF_OK && p.type == XF_JSON_OBJECT
        && xf_json_object_get(ev->event + p.off, p.len,
                              (const char *) prop->data, prop->len, &v)
           == XF_OK)
    {
        return 1;
    }

    return 0;
}


/* The has= names an event has, top level or in "properties": one pass
 * over each per 32 names. */
static uint64_t
xf_route_has_all(const xf_route_table_t *t, const xf_route_event_t *ev)
{
    size_t          i, n;
    uint32_t        found;
    uint64_t        present;
    xf_json_span_t  v[32], p;

    present = 0;

    if (ev->event == NULL) {
        return 0;
    }

    for (i = 0; i < t->nhas_keys; i += 32) {
        n = xf_min(t->nhas_keys - i, 32);

        if (xf_json_object_fields(ev->event, ev->event_len,
                                  t->has_keys + i, n, v, &found)
            == XF_OK)
        {
            present |= (uint64_t) found << i;
        }
    }

    if (xf_json_object_get(ev->event, ev->event_len, "properties", 10, &p)
        == XF_OK && p.type == XF_JSON_OBJECT)
    {
        for (i = 0; i < t->nhas_keys; i += 32) {
            n = xf_min(t->nhas_keys - i, 32);

            if (xf_json_object_fields(ev->event + p.off, p.len,
                                      t->has_keys + i, n, v, &found)
                == XF_OK)
            {
                present |= (uint64_t) found << i;
            }
        }
    }

    return present;
}


/* The conditions a candidate's index did not already prove. */
static int
xf_route_rule_match(const xf_route_table_t *t, uint32_t rule,
    const xf_route_event_t *ev, int event_known, int app_known,
    xf_route_has_t *has)
{
    size_t                  i;
    const xf_route_rule_t  *r = &t->rules[rule];

    if (!event_known && r->event.nexact + r->event.nprefix
        && !xf_route_names_match(&r->event, &ev->name))
    {
        return 0;
    }

    if (!app_known && r->app.nexact + r->app.nprefix
        && !xf_route_names_match(&r->app, &ev->app))
    {
        return 0;
    }

    if (r->formats && !(r->formats & (1u << ev->format))) {
        return 0;
    }

    if (r->nhas == 0) {
        return 1;
    }

    if (t->has_keys != NULL) {
        if (!has->done) {
            has->present = xf_route_has_all(t, ev);
            has->done = 1;
        }

        return (has->present & t->has_need[rule]) == t->has_need[rule];
    }

    for (i = 0; i < r->nhas; i++) {
        if (!xf_route_has(ev, &r->has[i])) {
            return 0;
        }
    }

    return 1;
}


size_t
xf_route_match(const xf_route_table_t *t, const xf_route_event_t *ev,
    xf_route_target_t *out)
{
    int                     known;
    size_t                  ia, ib, ic, id, na, nb, nd, nout;
    uint32_t                ra, rb, rc, rd, rule;
    uint32_t                cand[XF_ROUTE_PREFIX_MAX];
    const uint32_t         *la, *lb, *ld;
    xf_route_has_t          has;
    const xf_route_rule_t  *r;
    const xf_route_slot_t  *sa, *sb;

    if (t == NULL || t->n == 0) {
        return 0;
    }

    has.done = 0;
    has.present = 0;

    sa = xf_route_index_find(&t->by_event, ev->name.data, ev->name.len);
    sb = xf_route_index_find(&t->by_app, ev->app.data, ev->app.len);

    la = sa ? sa->rules : NULL;
    na = sa ? sa->n : 0;
    lb = sb ? sb->rules : NULL;
    nb = sb ? sb->n : 0;

    /* prefix rules whose prefix the name starts with, from the trie */
    nd = xf_route_trie_match(t, &ev->name, cand);
    ld = cand;
    known = 1;

    if (nd == SIZE_MAX) {
        /* too many on one path: check them all, in order */
        ld = t->prefixed;
        nd = t->nprefixed;
        known = 0;
    }

    ia = ib = ic = id = nout = 0;

    /* merge the sorted candidate lists: rule order is match order */

    for ( ;; ) {
        ra = ia < na ? la[ia] : UINT32_MAX;
        rb = ib < nb ? lb[ib] : UINT32_MAX;
        rc = ic < t->nrest ? t->rest[ic] : UINT32_MAX;
        rd = id < nd ? ld[id] : UINT32_MAX;

        rule = xf_min(xf_min(ra, rb), xf_min(rc, rd));

        if (rule == UINT32_MAX) {
            break;
        }

        r = &t->rules[rule];

        if (rule == ra) {
            ia++;
            if (!xf_route_rule_match(t, rule, ev, 1, 0, &has)) {
                continue;
            }

        } else if (rule == rb) {
            ib++;
            if (!xf_route_rule_match(t, rule, ev, 1, 1, &has)) {
                continue;
            }

        } else if (rule == rd) {
            id++;
            if (!xf_route_rule_match(t, rule, ev, known, 0, &has)) {
                continue;
            }

        } else {
            ic++;
            if (!xf_route_rule_match(t, rule, ev, 0, 0, &has)) {
                continue;
            }
        }

        out[nout].topic = t->topics[rule];
        out[nout++].key = r->key;

        if (!r->copy || nout == XF_ROUTE_MAX_TARGETS) {
            break;
        }
    }

    return nout;
}


size_t
xf_route_count(const xf_route_table_t *t)
{
    return t ? t->n : 0;
}
