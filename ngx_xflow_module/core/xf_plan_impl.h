/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_plan_impl.h - the compiled tracking plan, shared by its parser
 * (xf_plan_parse.c) and its check (xf_plan.c).  Private to the unit.
 *
 * Apps, the events of an app and the properties of an event are arrays
 * sorted by name (length first, then bytes): a lookup is a binary
 * search, about nine comparisons in a plan of 500 events.
 */

#ifndef XF_PLAN_IMPL_H
#define XF_PLAN_IMPL_H

#include <string.h>

#include "xf_plan.h"


/* Types as a JSON Schema "type" names them, one bit each. */
#define XF_PLAN_T_STRING   0x01
#define XF_PLAN_T_NUMBER   0x02
#define XF_PLAN_T_INTEGER  0x04
#define XF_PLAN_T_BOOLEAN  0x08
#define XF_PLAN_T_OBJECT   0x10
#define XF_PLAN_T_ARRAY    0x20
#define XF_PLAN_T_NULL     0x40
#define XF_PLAN_T_ANY      0x7f


typedef struct {
    xf_str_t            name;
    uint8_t             types;
    uint8_t             required;       /* its bit in the event's mask */
    uint8_t             is_required;
} xf_plan_prop_t;


typedef struct {
    xf_str_t            name;
    xf_str_t            tier;
    xf_plan_prop_t     *props;
    size_t              nprops;
    size_t              nrequired;
    unsigned            closed:1;       /* additionalProperties: false */
} xf_plan_event_t;


typedef struct {
    xf_str_t            name;
    xf_str_t            tier;
    xf_plan_event_t    *events;
    size_t              nevents;
} xf_plan_app_t;


struct xf_plan_s {
    xf_plan_app_t      *apps;
    size_t              napps;
    size_t              nevents;
};


static inline int
xf_plan_cmp(const u_char *a, size_t alen, const u_char *b, size_t blen)
{
    if (alen != blen) {
        return alen < blen ? -1 : 1;
    }

    return alen ? memcmp(a, b, alen) : 0;
}

#endif /* XF_PLAN_IMPL_H */
