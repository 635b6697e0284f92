/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_route.c - compiling routing rules into a table: a hash index of
 * exact event names, one of exact app names, a byte trie of prefixes,
 * the rest in order, and the distinct has= names (xf_route_match.c
 * evaluates the table).
 */

#include <stdlib.h>

#include "xf_route_impl.h"


/* A (name, rule) pair while an index is being built. */
typedef struct {
    xf_str_t        name;
    uint32_t        rule;
} xf_route_pair_t;


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
