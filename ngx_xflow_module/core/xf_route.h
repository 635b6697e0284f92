/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_route.h - topic routing rules, compiled at configuration load.
 *
 *   xflow_route "event={page_view,click}" app=shop topic=web_clicks;
 *   xflow_route event=page_view,click topic=web_clicks;     (the same)
 *   xflow_route event=order_* topic=orders key=app copy;
 *   xflow_route has=$device_id topic=devices;
 *
 * Rules are evaluated in order; the first match wins, except that a rule
 * marked copy sends the event to its topic and matching goes on.  An
 * event that matches nothing goes to the default topic (the caller's).
 *
 * Matching cost does not grow with the number of exact or prefix rules:
 * rules whose event condition is an exact name or a set of names are
 * indexed by name in a hash table, rules with only prefixes are indexed
 * by a byte trie of the prefixes, rules without an event condition but
 * with exact app names are indexed by app, and only the rest (has= and
 * format= rules, mixed conditions) are scanned.  The candidate lists are
 * sorted by rule order and merged, so the first-match semantics are those
 * of a plain scan:
 *
 *   event name --hash--> [3, 17, 250]  \
 *   app        --hash--> [40]           \ merge by rule number -> check
 *   name bytes --trie--> [8, 61]        / each rule's other conditions
 *   the rest   --------> [1, 900]      /
 */

#ifndef XF_ROUTE_H
#define XF_ROUTE_H

#include "xf_core.h"
#include "xf_format.h"


#define XF_ROUTE_MAX_TARGETS  16        /* topics one event may go to */


typedef enum {
    XF_ROUTE_KEY_DISTINCT = 0,          /* the event's distinct id */
    XF_ROUTE_KEY_APP,
    XF_ROUTE_KEY_NONE
} xf_route_key_t;


/* A condition on one string field: a set of exact names and prefixes. */
typedef struct {
    xf_str_t       *exact;
    size_t          nexact;
    xf_str_t       *prefix;             /* "order_" for order_* */
    size_t          nprefix;
} xf_route_names_t;


/* One parsed rule; strings point into the caller's tokens. */
typedef struct {
    xf_route_names_t  event;            /* nothing set: any event */
    xf_route_names_t  app;
    xf_route_names_t  tier;             /* the tracking plan's tier */
    uint32_t          formats;          /* bit per xf_format_t; 0: any */
    xf_str_t         *has;              /* every property must be present */
    size_t            nhas;
    xf_str_t          topic;
    xf_route_key_t    key;
    unsigned          copy:1;
} xf_route_rule_t;


/* What a rule sends an event to: the caller's topic id and key choice. */
typedef struct {
    uint32_t        topic;
    xf_route_key_t  key;
} xf_route_target_t;


/* The fields of one event that rules look at. */
typedef struct {
    xf_str_t        name;
    xf_str_t        app;
    xf_format_t     format;
    xf_str_t        tier;               /* the tracking plan's, or empty */
    const u_char   *event;              /* the validated event object */
    size_t          event_len;
} xf_route_event_t;


typedef struct xf_route_table_s  xf_route_table_t;


/*
 * Parse one rule from its directive arguments ("event=...", "app=...",
 * "format=...", "has=...", "topic=...", "key=distinct|app|none", "copy").
 * Memory for the name lists comes from a.  On error, err (NUL-terminated,
 * at most err_len bytes) says which token is wrong and why.
 */
xf_status_t xf_route_rule_parse(const xf_str_t *tokens, size_t n,
    const xf_alloc_t *a, xf_route_rule_t *rule, char *err, size_t err_len);

/*
 * Compile rules (in evaluation order) with the caller's topic id of each
 * rule into a table allocated with a.  The rules' strings must outlive
 * the table.
 */
xf_status_t xf_route_compile(const xf_route_rule_t *rules,
    const uint32_t *topics, size_t n, const xf_alloc_t *a,
    xf_route_table_t **table);

/*
 * Route one event: write the targets of the matching rules, in rule
 * order, to out (at most XF_ROUTE_MAX_TARGETS) and return how many.  0
 * means no rule matched: the default topic applies.
 */
size_t xf_route_match(const xf_route_table_t *t, const xf_route_event_t *ev,
    xf_route_target_t *out);

/* Number of rules (0 for a NULL table). */
size_t xf_route_count(const xf_route_table_t *t);

#endif /* XF_ROUTE_H */
