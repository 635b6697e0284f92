/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_reply.h - answers in the shape each SDK expects, and
 * CORS.  Every function runs on the worker's event loop and returns what
 * the answer sent returns (for ngx_http_finalize_request()), or an HTTP
 * status when it could not be built.  Bodies live in the request pool.
 */

#ifndef NGX_HTTP_XFLOW_REPLY_H
#define NGX_HTTP_XFLOW_REPLY_H

#include "ngx_http_xflow_module.h"


/** @brief Success, as the request's SDK reads it (ctx->reply): a GIF for
 * beacons, {"status":1} for PostHog, "1" for Mixpanel, ... */
ngx_int_t ngx_http_xflow_reply_accepted(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);

/** @brief 200 with a receipt per event (ctx->receipts): PostHog's v1
 * "results", or plain JSON's counts and "receipts", with the positions
 * the batch recorded (ctx->wait.pos).  Events that no report kept are
 * "retry" with ctx->outcome's code, and Retry-After is set. */
ngx_int_t ngx_http_xflow_reply_receipts(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx);

/** @brief The answer to ctx->outcome, which the caller decided and set
 * (xf_outcome.h; not ACCEPTED, whose answer is
 * ngx_http_xflow_reply_accepted()): its code; for "try again later" the
 * status the SDK retries (or xflow_retry_status) with Retry-After; for a
 * body the core could not use, its status, logged at info level,
 * throttled.  \p detail NULL: the outcome's own text. */
ngx_int_t ngx_http_xflow_reply_outcome(ngx_http_request_t *r,
    ngx_http_xflow_ctx_t *ctx, const char *detail);

/** @brief {"error":code,"detail":detail} with \p status; Amplitude's SDKs
 * also get "code".  \p code is plain ASCII; \p detail is escaped. */
ngx_int_t ngx_http_xflow_reply_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *detail);

/** @brief posthog-js's remote config (JSON, or config.js when
 * \p javascript), which turns its extras off and enables gzip. */
ngx_int_t ngx_http_xflow_reply_posthog_config(ngx_http_request_t *r,
    xf_str_t *token, ngx_uint_t javascript);

/** @brief CORS headers for an allowed Origin.  @returns NGX_OK (added),
 * NGX_DECLINED (no CORS for this request) or NGX_ERROR. */
ngx_int_t ngx_http_xflow_reply_cors(ngx_http_request_t *r);

/** @brief Answer a CORS preflight (204). */
ngx_int_t ngx_http_xflow_reply_preflight(ngx_http_request_t *r);

/**
 * @brief PostHog's v1 capture: its required headers checked as PostHog
 * checks them (xf_posthog_v1_check), a refusal answered as PostHog
 * answers it, the body discarded unread.
 *
 * @returns NGX_DECLINED when they pass (go on), else the answer's rc.
 *
 * Called from: the collect handler, for a POST to a v1 route of a
 * posthog or auto location, before its body is read.
 */
ngx_int_t ngx_http_xflow_reply_posthog_v1_headers(ngx_http_request_t *r);

#endif /* NGX_HTTP_XFLOW_REPLY_H */
