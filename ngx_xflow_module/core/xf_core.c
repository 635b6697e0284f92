/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_core.c - status strings and the libc allocator.
 */

#include <stdlib.h>

#include "xf_core.h"


static const char *xf_status_codes[XF_STATUS_MAX] = {
    [XF_OK]                   = "ok",
    [XF_ERR_NOMEM]            = "out_of_memory",
    [XF_ERR_JSON_SYNTAX]      = "json_syntax",
    [XF_ERR_JSON_UTF8]        = "json_utf8",
    [XF_ERR_JSON_DEPTH]       = "json_depth",
    [XF_ERR_EMPTY]            = "empty",
    [XF_ERR_TOO_MANY_EVENTS]  = "too_many_events",
    [XF_ERR_EVENT_TOO_LARGE]  = "event_too_large",
    [XF_ERR_NOT_OBJECT]       = "not_object",
    [XF_ERR_TOO_LARGE]        = "too_large",
    [XF_ERR_ENCODING_UNKNOWN] = "unknown_encoding",
    [XF_ERR_CORRUPT]          = "corrupt_encoding",
    [XF_ERR_TRUNCATED]        = "truncated_encoding",
    [XF_ERR_BUFFER]           = "buffer_too_small",
    [XF_ERR_BASE64]           = "bad_base64",
    [XF_ERR_FORM]             = "bad_form",
    [XF_ERR_MISSING_FIELD]    = "missing_field",
    [XF_ERR_CRC]              = "bad_crc",
    [XF_ERR_ENCRYPTED]        = "unsupported_encryption",
    [XF_ERR_PLAN_UNKNOWN]     = "plan_unknown",
    [XF_ERR_PLAN_INVALID]     = "plan_invalid",
    [XF_ERR_KILLED]           = "kill_switch",
};


const char *
xf_strerror(xf_status_t s)
{
    if ((unsigned) s >= XF_STATUS_MAX || xf_status_codes[s] == NULL) {
        return "unknown";
    }

    return xf_status_codes[s];
}


static void *
xf_libc_alloc(void *data, size_t size)
{
    (void) data;
    return malloc(size);
}


static void
xf_libc_free(void *data, void *p)
{
    (void) data;
    free(p);
}


const xf_alloc_t  xf_alloc_libc = { xf_libc_alloc, xf_libc_free, NULL };
