/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_variables.h - $xflow_* variables.
 */

#ifndef NGX_HTTP_XFLOW_VARIABLES_H
#define NGX_HTTP_XFLOW_VARIABLES_H

#include "ngx_http_xflow_module.h"


/** @brief Register the collection module's variables ($xflow_app,
 * $xflow_error, $xflow_topic, ...).  @returns NGX_OK or NGX_ERROR.
 * preconfiguration. */
ngx_int_t ngx_http_xflow_variables_add(ngx_conf_t *cf);

/** @brief Register \p vars (a table ending with ngx_http_null_variable),
 * for every xflow module.  @returns NGX_OK or NGX_ERROR.
 * preconfiguration. */
ngx_int_t ngx_http_xflow_variables_register(ngx_conf_t *cf,
    ngx_http_variable_t *vars);

#endif /* NGX_HTTP_XFLOW_VARIABLES_H */
