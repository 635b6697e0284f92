/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_form.h - application/x-www-form-urlencoded bodies and query strings.
 *
 *     name=value&name=value&...
 *
 * Fields are separated by '&' only (';' is a byte like any other); empty
 * fields ("a=1&&b=2", a trailing '&') are skipped; a field without '='
 * has an empty value.  Names and values are percent-encoded: '%' must be
 * followed by two hex digits, otherwise the form is XF_ERR_FORM; '+' is a
 * space.  Decoded bytes may be anything, NUL included: the caller decides
 * what a field's text may hold.
 *
 * Duplicates: a name that appears twice is ambiguous (one layer may read
 * the first, another the last), so xf_form_get() rejects it with
 * XF_ERR_FORM instead of choosing.  Names are compared after decoding:
 * "data%5Flist" is "data_list".
 *
 * Nothing is copied or allocated here: fields point into the input, and
 * decoding writes into the caller's buffer.
 */

#ifndef XF_FORM_H
#define XF_FORM_H

#include "xf_core.h"


typedef struct {
    const u_char   *name;           /* raw, still percent-encoded */
    size_t          name_len;
    const u_char   *value;          /* raw, still percent-encoded */
    size_t          value_len;
} xf_form_field_t;


/* Decoding flags. */
#define XF_FORM_PLUS_KEEP  0x01     /* '+' stays '+' (base64 text whose
                                       '+' the sender did not encode) */


/*
 * Next field of the form that ends at end, from *pos (set *pos to the
 * start of the form before the first call).  Returns XF_OK with *f set
 * and *pos moved past the field, or XF_ERR_EMPTY when no field is left.
 * Percent-encoding is not checked here (see xf_form_validate).
 */
xf_status_t xf_form_next(const u_char **pos, const u_char *end,
    xf_form_field_t *f);

/*
 * Check the percent-encoding of every name and value.  XF_OK or
 * XF_ERR_FORM.
 */
xf_status_t xf_form_validate(const u_char *p, size_t len);

/*
 * Find the field called key (compared with the decoded names).  Returns
 * XF_OK with *f set, XF_ERR_EMPTY when there is none, XF_ERR_FORM when
 * key appears more than once or a name's encoding is bad.
 */
xf_status_t xf_form_get(const u_char *p, size_t len, const char *key,
    size_t key_len, xf_form_field_t *f);

/* Whether a name (raw) decodes to key; a bad encoding never matches. */
int xf_form_name_is(const u_char *name, size_t name_len, const char *key,
    size_t key_len);

/* Whether decoding src would change it (it holds '%' or '+'). */
int xf_form_is_encoded(const u_char *src, size_t len);

/*
 * Percent-decode src into dst, which has room for len bytes; dst may be
 * src itself.  '+' becomes a space unless XF_FORM_PLUS_KEEP.  Returns
 * XF_OK and *dst_len, or XF_ERR_FORM for a '%' not followed by two hex
 * digits.
 */
xf_status_t xf_form_decode(const u_char *src, size_t len, unsigned flags,
    u_char *dst, size_t *dst_len);

/*
 * Percent-encode src into dst, which has room for 3 * len bytes, as
 * browsers encode form values: ALPHA, DIGIT and "*-._" stay, a space
 * becomes '+', any other byte %XX.  Returns the length written.
 */
size_t xf_form_encode(u_char *dst, const u_char *src, size_t len);

#endif /* XF_FORM_H */
