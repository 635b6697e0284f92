/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-plan.c - the tracking plan parser (xf_plan_parse) and the check
 * (xf_plan_check) on arbitrary bytes.
 *
 * Invariant: no crash, no undefined behaviour, no read outside the
 * input, and on every input:
 *   - a refusal names a line of the input (1 to its newlines + 1) and
 *     says why (a non-empty message);
 *   - an accepted plan finds every event it declares, by its app and
 *     its name: the check of an empty event says it conforms, or that it
 *     lacks a required property, never that the plan does not list it;
 *     an app it does not declare is not checked; the input itself,
 *     when it is an object, checked as an event of every declared event
 *     gets a verdict and, when invalid, a reason.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_plan.h"
#include "xf_plan_impl.h"
#include "xf_json.h"
#include "xf_arena.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               err[256];
    size_t             line, nl, i, j, end, err_off;
    xf_str_t           other;
    xf_plan_t         *plan;
    xf_alloc_t         a;
    xf_status_t        st;
    xf_json_span_t     span;
    xf_plan_result_t   res;
    xf_arena_block_t  *arena;
    const xf_plan_app_t    *app;
    const xf_plan_event_t  *ev;

    arena = NULL;
    a = xf_arena(&arena);
    plan = NULL;

    st = xf_plan_parse(data, size, &a, &plan, err, sizeof(err), &line);

    if (st != XF_OK) {
        nl = 0;

        for (i = 0; i < size; i++) {
            nl += data[i] == '\n';
        }

        FUZZ_CHECK(line >= 1 && line <= nl + 1, "refusal's line");
        FUZZ_CHECK(err[0] != '\0', "refusal says why");
        xf_arena_free(arena);
        return 0;
    }

    /* the input as an event, when it is an object */
    span.type = XF_JSON_NULL;
    (void) xf_json_scan_value(data, size, 64, &span, &end, &err_off);

    for (i = 0; i < plan->napps; i++) {
        app = &plan->apps[i];

        for (j = 0; j < app->nevents; j++) {
            ev = &app->events[j];

            xf_plan_check(plan, &app->name, &ev->name,
                          (const u_char *) "{}", 2, &res);
            FUZZ_CHECK(res.verdict == XF_CATALOG_PLAN_CONFORMS
                       || (res.verdict == XF_CATALOG_PLAN_INVALID
                           && ev->nrequired > 0),
                       "a declared event found");

            if (span.type == XF_JSON_OBJECT) {
                xf_plan_check(plan, &app->name, &ev->name, data + span.off,
                              span.len, &res);
                FUZZ_CHECK(res.verdict == XF_CATALOG_PLAN_CONFORMS
                           || (res.verdict == XF_CATALOG_PLAN_INVALID
                               && res.why[0] != '\0'),
                           "the input as an event");
            }
        }
    }

    /* an app no plan can name (invalid UTF-8 never unescapes from a
       valid JSON string) is not checked */
    other.data = (const u_char *) "\xff\xfe";
    other.len = 2;

    xf_plan_check(plan, &other, &other, (const u_char *) "{}", 2, &res);
    FUZZ_CHECK(res.verdict == XF_CATALOG_PLAN_NONE, "an undeclared app");

    xf_arena_free(arena);

    return 0;
}
