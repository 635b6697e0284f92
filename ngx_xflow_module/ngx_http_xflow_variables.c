/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_variables.c - $xflow_* variables, for access logs.
 *
 *   $xflow_events         events accepted by the request
 *   $xflow_rejected       events sent to the dead-letter topic
 *   $xflow_bytes_decoded  body bytes after every decoding layer
 *   $xflow_format         the upload format (json, sensors, ...)
 *   $xflow_app            the request's app / project / token
 *   $xflow_error          the error code of a failed request
 *   $xflow_topic          the topic of the request's events, or "multi"
 *   $xflow_offset_first   partition:offset of the first and the last of
 *   $xflow_offset_last    the request's messages Kafka acknowledged, in
 *                         request order (ack=kafka; empty otherwise)
 *
 * Each is empty ("not found") for requests xflow did not handle.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_variables.h"


typedef enum {
    NGX_HTTP_XFLOW_VAR_EVENTS = 0,
    NGX_HTTP_XFLOW_VAR_REJECTED,
    NGX_HTTP_XFLOW_VAR_DECODED,
    NGX_HTTP_XFLOW_VAR_FORMAT,
    NGX_HTTP_XFLOW_VAR_APP,
    NGX_HTTP_XFLOW_VAR_ERROR,
    NGX_HTTP_XFLOW_VAR_TOPIC,
    NGX_HTTP_XFLOW_VAR_OFFSET_FIRST,
    NGX_HTTP_XFLOW_VAR_OFFSET_LAST
} ngx_http_xflow_var_e;


static ngx_int_t ngx_http_xflow_variables_get(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_xflow_variables_offset(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_xflow_vars[] = {

    { ngx_string("xflow_events"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_EVENTS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_rejected"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_REJECTED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_bytes_decoded"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_DECODED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_format"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_FORMAT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_app"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_APP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_error"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_topic"), NULL, ngx_http_xflow_variables_get,
      NGX_HTTP_XFLOW_VAR_TOPIC, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_offset_first"), NULL,
      ngx_http_xflow_variables_offset, NGX_HTTP_XFLOW_VAR_OFFSET_FIRST,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("xflow_offset_last"), NULL,
      ngx_http_xflow_variables_offset, NGX_HTTP_XFLOW_VAR_OFFSET_LAST,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_xflow_variables_add(ngx_conf_t *cf)
{
    return ngx_http_xflow_variables_register(cf, ngx_http_xflow_vars);
}


/* Add a null-terminated table of variables (for every xflow module). */
ngx_int_t
ngx_http_xflow_variables_register(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_xflow_variables_get(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_str_t                   *topics;
    const char                  *s;
    ngx_http_xflow_ctx_t        *ctx;
    ngx_http_xflow_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    switch (data) {

    case NGX_HTTP_XFLOW_VAR_EVENTS:
    case NGX_HTTP_XFLOW_VAR_REJECTED:
    case NGX_HTTP_XFLOW_VAR_DECODED:
        p = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%uz",
                             data == NGX_HTTP_XFLOW_VAR_EVENTS
                             ? (size_t) ctx->accepted
                             : data == NGX_HTTP_XFLOW_VAR_REJECTED
                             ? (size_t) ctx->rejected : ctx->decoded)
                 - p;
        return NGX_OK;

    case NGX_HTTP_XFLOW_VAR_FORMAT:
        s = xf_format_name(ctx->format);
        v->data = (u_char *) s;
        v->len = ngx_strlen(s);
        return NGX_OK;

    case NGX_HTTP_XFLOW_VAR_APP:
        v->data = ctx->app.data;
        v->len = ctx->app.len;
        return NGX_OK;

    case NGX_HTTP_XFLOW_VAR_ERROR:
        s = xf_outcome_error(ctx->outcome);
        v->data = (u_char *) s;
        v->len = ngx_strlen(s);
        return NGX_OK;

    default: /* NGX_HTTP_XFLOW_VAR_TOPIC */

        if (ctx->ntopics == 0) {
            v->len = 0;
            v->data = (u_char *) "";

        } else if (ctx->ntopics > 1) {
            ngx_str_set(v, "multi");

        } else {
            mcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_module);
            topics = mcf->topics.elts;
            v->data = topics[ctx->topic_index].data;
            v->len = topics[ctx->topic_index].len;
        }

        return NGX_OK;
    }
}


/*
 * The positions the batch recorded for a request that waited: the first
 * (or last) message of its events and dead letters, in request order,
 * that Kafka acknowledged.  A spooled or failed message has none.
 */
static ngx_int_t
ngx_http_xflow_variables_offset(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_uint_t                  i, n;
    ngx_http_xflow_ctx_t       *ctx;
    ngx_http_xflow_position_t  *pos;

    ctx = ngx_http_get_module_ctx(r, ngx_http_xflow_module);

    v->not_found = 1;

    if (ctx == NULL || ctx->wait.pos == NULL) {
        return NGX_OK;
    }

    pos = NULL;
    n = ctx->nmsgs;

    for (i = 0; i < n; i++) {
        if (ctx->wait.pos[data == NGX_HTTP_XFLOW_VAR_OFFSET_FIRST ? i
                                                          : n - 1 - i].state
            == NGX_HTTP_XFLOW_POS_DELIVERED)
        {
            pos = &ctx->wait.pos[data == NGX_HTTP_XFLOW_VAR_OFFSET_FIRST
                                 ? i : n - 1 - i];
            break;
        }
    }

    if (pos == NULL) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT32_LEN + 1 + NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%D:%L", pos->partition, pos->offset) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
