/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_collect.h - the xflow_collect content handler.
 */

#ifndef NGX_HTTP_XFLOW_COLLECT_H
#define NGX_HTTP_XFLOW_COLLECT_H

#include "ngx_http_xflow_module.h"


/**
 * @brief The content handler of an xflow_collect location: method and
 * limits, the body read unbuffered through the decoder, then ingest.
 *
 * @returns NGX_DONE (the body is being read, or the request waits for
 * Kafka), or a status / what the answer returned.  Worker event loop.
 */
ngx_int_t ngx_http_xflow_collect_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_XFLOW_COLLECT_H */
