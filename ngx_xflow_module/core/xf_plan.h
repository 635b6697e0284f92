/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_plan.h - the tracking plan: per app, the events it may send, the
 * properties each must carry and their JSON types (a small subset of
 * JSON Schema), and a tier label that routing rules can use.
 *
 *   {"apps": {
 *     "shop": {"tier": "silver",
 *              "events": {
 *                "purchase": {"tier": "gold",
 *                             "required": ["price", "sku"],
 *                             "properties": {
 *                               "price": {"type": "number"},
 *                               "sku": {"type": "string"},
 *                               "coupon": {"type": ["string", "null"]}},
 *                             "additionalProperties": false},
 *                "page_view": {}}}}}
 *
 * docs/data-teams.md has the whole grammar.  An event's properties are
 * those the catalog reads (xf_catalog.h): its "properties" object, else
 * "event_properties", else its own members.  An app the plan does not
 * name is not checked.
 */

#ifndef XF_PLAN_H
#define XF_PLAN_H

#include "xf_core.h"
#include "xf_catalog.h"
#include "xf_format.h"


#define XF_PLAN_REQUIRED_MAX  64        /* required properties per event */
#define XF_PLAN_WHY_MAX       128


typedef struct xf_plan_s  xf_plan_t;


/* What the plan says of one event. */
typedef struct {
    xf_catalog_plan_t   verdict;        /* NONE: no plan for its app */
    xf_str_t            tier;           /* the plan's; empty: none */
    char                why[XF_PLAN_WHY_MAX];   /* INVALID: the first
                                                   fault, NUL-ended */
} xf_plan_result_t;


/*
 * Parse a plan file's bytes.  Memory for the plan comes from a and
 * lives as long as the caller keeps it (names are copied, p may go).
 * On error, err (NUL-terminated, at most err_len bytes) says what is
 * wrong, and *line is the 1-based line of the file where it is.
 * XF_OK; XF_ERR_JSON_* for a file that is not JSON; XF_ERR_FORM for JSON
 * that is not a plan; XF_ERR_NOMEM.
 */
xf_status_t xf_plan_parse(const u_char *p, size_t len, const xf_alloc_t *a,
    xf_plan_t **plan, char *err, size_t err_len, size_t *line);

/* Apps and events (over every app) of a plan. */
size_t xf_plan_apps(const xf_plan_t *plan);
size_t xf_plan_events(const xf_plan_t *plan);

/*
 * Check one valid event (p, len: a validated JSON object) of app named
 * name against the plan.  No allocation; res is the caller's.
 */
void xf_plan_check(const xf_plan_t *plan, const xf_str_t *app,
    const xf_str_t *name, const u_char *p, size_t len,
    xf_plan_result_t *res);

/*
 * The members of an event's properties, as the catalog and the plan
 * read them: the span (relative to p) of its "properties" object, else
 * of "event_properties", else of the event itself.
 */
void xf_plan_properties(const u_char *p, size_t len, size_t *off,
    size_t *plen);

/*
 * The next member of a validated object (p, len: exactly its span).
 * *pos is 0 before the first call.  Returns 1 with the name's span
 * (quotes included) at *name, *name_len and the value's first byte at
 * *value (skip it with xf_json_skip_value from there); 0 at the end.
 */
int xf_plan_member(const u_char *p, size_t len, size_t *pos, size_t *name,
    size_t *name_len, size_t *value);

#endif /* XF_PLAN_H */
