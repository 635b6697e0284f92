/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_ingest.h - from a decoded request to planned messages
 * handed to the batch, and the answer.  Worker event loop.
 */

#ifndef NGX_HTTP_XFLOW_INGEST_H
#define NGX_HTTP_XFLOW_INGEST_H

#include "ngx_http_xflow_module.h"


/**
 * @brief Parse the decoded body (\p body, \p len: the decoder's, or NULL
 * for a request without one) in the location's format, plan its events
 * and dead letters, and send them.
 *
 * @returns NGX_DONE while an ack=kafka request waits (the batch answers
 * and finalizes it), else what the answer sent returns, or an HTTP
 * status for ngx_http_finalize_request().
 */
ngx_int_t ngx_http_xflow_ingest(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, const u_char *body, size_t len);

/**
 * @brief Answer a request that cannot be used at all with \p st's
 * status, and keep \p raw (its first bytes, may be NULL) on the
 * dead-letter topic, best effort.  \p raw is not referenced after.
 *
 * @returns what the answer sent returns.
 */
ngx_int_t ngx_http_xflow_ingest_reject(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, xf_status_t st, const u_char *raw,
    size_t raw_len);

#endif /* NGX_HTTP_XFLOW_INGEST_H */
