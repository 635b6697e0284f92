/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_check_main.c - one check runner for a directory of test files.
 *
 * The Makefile generates suites.h from the make_<unit>_suite() builders
 * it finds in tests/<dir>/test-*.c, so a new test file needs no edit
 * here.  XF_TEST_SUITE=name runs only the suites whose builder name
 * contains name (e.g. XF_TEST_SUITE=json).  CK_FORK stays on: a crash is
 * a failed test, not a dead runner.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define XF_SUITE(f)  Suite *f(void);
#include "suites.h"
#undef XF_SUITE


int
main(void)
{
    const char  *only = getenv("XF_TEST_SUITE");
    SRunner     *sr = NULL;
    int          failed;

#define XF_SUITE(f)                                                       \
    if (only == NULL || strstr(#f, only) != NULL) {                       \
        if (sr == NULL) {                                                 \
            sr = srunner_create(f());                                     \
        } else {                                                          \
            srunner_add_suite(sr, f());                                   \
        }                                                                 \
    }
#include "suites.h"
#undef XF_SUITE

    if (sr == NULL) {
        return EXIT_FAILURE;
    }

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
