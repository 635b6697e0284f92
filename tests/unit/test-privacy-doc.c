/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-privacy-doc.c - docs/privacy.md lists, per SDK family, the fields
 * xflow_privacy standard treats: that table and the adapters' own
 * (xf_format_fields()) must be the same rows, no more, no fewer, so that
 * what users read is what the gateway does.
 *
 * The rows are read between the markers "<!-- standard fields: begin"
 * and "<!-- standard fields: end -->", one per line:
 *
 *     | posthog | `properties.$raw_user_agent` | ua |
 *     | snowplow | `nuid` | id, cookie `sp` |
 *
 * XF_PRIVACY_DOC names the file (default: docs/privacy.md, from the
 * repository's root, where make runs the unit tests).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_format.h"


#define PD_ROWS  512
#define PD_LINE  512


static char    pd_rows[PD_ROWS][PD_LINE];
static size_t  pd_nrows;


/* The doc's rows, as written, into pd_rows. */
static void
pd_read_doc(void)
{
    int          in;
    FILE        *f;
    const char  *path;
    char         line[PD_LINE];

    path = getenv("XF_PRIVACY_DOC");
    if (path == NULL) {
        path = "docs/privacy.md";
    }

    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);

    in = 0;
    pd_nrows = 0;

    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';

        if (strncmp(line, "<!-- standard fields: begin", 27) == 0) {
            in = 1;
            continue;
        }

        if (strncmp(line, "<!-- standard fields: end", 25) == 0) {
            break;
        }

        if (!in || line[0] != '|' || strncmp(line, "| format ", 9) == 0
            || strncmp(line, "| ---", 5) == 0)
        {
            continue;
        }

        ck_assert_uint_lt(pd_nrows, PD_ROWS);
        memcpy(pd_rows[pd_nrows++], line, strlen(line) + 1);
    }

    fclose(f);

    ck_assert_msg(in, "%s has no standard fields table", path);
}


START_TEST(test_doc_matches_adapters)
{
    int                       f, found;
    char                      row[PD_LINE];
    size_t                    i, n;
    unsigned char             seen[PD_ROWS];
    const xf_format_field_t  *fld;

    pd_read_doc();
    memset(seen, 0, sizeof(seen));
    n = 0;

    for (f = XF_FMT_JSON; f < XF_FMT_MAX; f++) {
        for (fld = xf_format_fields(f); fld->path; fld++) {

            if (fld->cookie) {
                snprintf(row, sizeof(row), "| %s | `%s` | %s, cookie `%s` |",
                         xf_format_name(f), fld->path,
                         xf_format_field_kind_name(fld->kind), fld->cookie);
            } else {
                snprintf(row, sizeof(row), "| %s | `%s` | %s |",
                         xf_format_name(f), fld->path,
                         xf_format_field_kind_name(fld->kind));
            }

            found = 0;

            for (i = 0; i < pd_nrows; i++) {
                if (strcmp(pd_rows[i], row) == 0) {
                    seen[i] = 1;
                    found = 1;
                }
            }

            ck_assert_msg(found, "docs/privacy.md lacks the row %s", row);
            n++;
        }
    }

    for (i = 0; i < pd_nrows; i++) {
        ck_assert_msg(seen[i], "docs/privacy.md has a row no adapter "
                      "declares: %s", pd_rows[i]);
    }

    ck_assert_uint_eq(n, pd_nrows);
}
END_TEST


/* Every family an SDK uploads in declares its ids and User-Agent. */
START_TEST(test_every_family_declares)
{
    int                       f, ids, uas;
    const xf_format_field_t  *fld;

    ck_assert_ptr_null(xf_format_fields(XF_FMT_AUTO)->path);
    ck_assert_ptr_null(xf_format_fields((xf_format_t) 99)->path);

    for (f = XF_FMT_JSON; f < XF_FMT_MAX; f++) {
        ids = 0;
        uas = 0;

        for (fld = xf_format_fields(f); fld->path; fld++) {
            ids += fld->kind == XF_FIELD_ID;
            uas += fld->kind == XF_FIELD_UA;
        }

        ck_assert_msg(ids > 0 && uas > 0, "%s declares no id or no ua",
                      xf_format_name(f));
    }
}
END_TEST


Suite *
make_privacy_doc_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("privacy_doc");

    tc = tcase_create("fields");
    tcase_add_test(tc, test_doc_matches_adapters);
    tcase_add_test(tc, test_every_family_declares);
    suite_add_tcase(s, tc);

    return s;
}
