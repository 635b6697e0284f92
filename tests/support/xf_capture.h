/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_capture.h - reading the SDK captures of tests/fixtures/sdk-captures/
 * the same way in the unit suite (test-captures.c) and the e2e suites
 * (test-formats.c).  Header-only: the unit runner links no support file.
 */

#ifndef XF_CAPTURE_H
#define XF_CAPTURE_H

#include <jansson.h>


/*
 * What the recorder decoded from a record's upload: "decoded" (its
 * "value", or the value of its form's data_list or data field), else
 * the data_list or data query parameter of an image beacon.  Borrowed;
 * NULL when there is none.
 */
static inline json_t *
xf_capture_decoded(json_t *rec)
{
    json_t  *dec, *v, *form, *qp, *f;

    dec = json_object_get(rec, "decoded");
    v = NULL;

    if (json_is_object(dec)) {
        if (json_object_get(dec, "value") != NULL) {
            v = json_object_get(dec, "value");

        } else if ((form = json_object_get(dec, "form")) != NULL) {
            f = json_object_get(form, "data_list");
            if (f == NULL) {
                f = json_object_get(form, "data");
            }

            v = json_object_get(f, "value");
        }
    }

    if (v == NULL) {
        /* An image beacon: the event is in the query. */
        qp = json_object_get(rec, "queryParams");
        f = json_object_get(qp, "data_list");
        if (f == NULL) {
            f = json_object_get(qp, "data");
        }

        v = json_object_get(f, "value");
    }

    return v;
}

#endif /* XF_CAPTURE_H */
