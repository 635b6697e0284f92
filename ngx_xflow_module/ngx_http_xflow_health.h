/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_health.h - the xflow_health content handler.
 */

#ifndef NGX_HTTP_XFLOW_HEALTH_H
#define NGX_HTTP_XFLOW_HEALTH_H

#include "ngx_http_xflow_module.h"


/**
 * @brief Answer whether this gateway can accept events and keep them:
 * 200 ok / degraded, 503 unhealthy, with a JSON body saying why.
 * @returns what the answer sent returns.  Worker event loop.
 */
ngx_int_t ngx_http_xflow_health_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_XFLOW_HEALTH_H */
