/*
 * ngx_http_xflow_privacy_module.h - what the collection handler asks the
 * privacy module (see ngx_http_xflow_privacy_module.c, docs/privacy.md).
 */

#ifndef NGX_HTTP_XFLOW_PRIVACY_MODULE_H
#define NGX_HTTP_XFLOW_PRIVACY_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_format.h"


typedef struct {
    ngx_str_t       extra;      /* ,"kid":..,"cookies":{..},"ua":..,"geo":{..} */
    ngx_str_t       ip;         /* the envelope's "ip"; NULL data: none */
    ngx_str_t       ua_ref;     /* set: publish to the UA dictionary */
    ngx_str_t       ua_value;   /* {"ua":"..."} */
    ngx_uint_t      ua_topic;
} ngx_http_xflow_privacy_t;


extern ngx_module_t  ngx_http_xflow_privacy_module;


/* Once per request that produces: NGX_OK or NGX_ERROR. */
ngx_int_t ngx_http_xflow_privacy_request(ngx_http_request_t *r,
    ngx_http_xflow_privacy_t *pv);

/* "NAME=REF" of one cookie of the request, or empty (no key, no cookie). */
ngx_int_t ngx_http_xflow_privacy_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *out);

/* Per event object: xflow_strip_field; *p, *len replaced when edited. */
ngx_int_t ngx_http_xflow_privacy_event(ngx_http_request_t *r,
    const u_char **p, size_t *len);

/*
 * 1 when the location has xflow_strip_field rules: then bytes that
 * cannot be stripped as one event object never reach a dead letter.
 */
ngx_uint_t ngx_http_xflow_privacy_strips(ngx_http_request_t *r);

/*
 * A value taken from the event object p, len before stripping (key, app):
 * hashed to the event's reference or emptied as the rules did to an equal
 * value in the event.
 */
ngx_int_t ngx_http_xflow_privacy_value(ngx_http_request_t *r,
    const u_char *p, size_t len, xf_str_t *value);

#endif /* NGX_HTTP_XFLOW_PRIVACY_MODULE_H */
