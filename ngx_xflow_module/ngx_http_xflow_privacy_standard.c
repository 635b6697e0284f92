/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_privacy_standard.c - xflow_privacy and xflow_consent:
 * the standard treatment of the fields each format adapter declares
 * (xf_format_fields()), merged with the location's xflow_strip_field
 * rules into one rule set per format when the configuration is loaded,
 * and how a visitor's consent is read.  What they do per request is
 * ngx_http_xflow_privacy.c; docs/privacy.md is the contract.
 *
 *   xflow_privacy standard;
 *   xflow_consent gpc cookie=cookie_consent=granted;
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_privacy_module.h"

#include "xf_format.h"
#include "xf_strip.h"


char *
ngx_http_xflow_privacy_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->standard != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "standard") == 0) {
        plcf->standard = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        plcf->standard = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected standard or off",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * xflow_consent gpc | cookie=NAME=VALUE ... | off: what tells that a
 * visitor consents to persistent identifiers.
 */
char *
ngx_http_xflow_consent_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_loc_conf_t *plcf = conf;

    u_char      *eq;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (plcf->consent_set != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    plcf->consent_set = 1;
    plcf->consent = 0;
    ngx_str_null(&plcf->consent_cookie);
    ngx_str_null(&plcf->consent_value);

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        plcf->consent_set = 0;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "gpc") == 0) {
            plcf->consent |= NGX_HTTP_XFLOW_CONSENT_GPC;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cookie=", 7) == 0
            && plcf->consent_cookie.len == 0)
        {
            plcf->consent_cookie.data = value[i].data + 7;
            eq = ngx_strlchr(value[i].data + 7,
                             value[i].data + value[i].len, '=');

            if (eq == NULL || eq == value[i].data + 7
                || eq + 1 == value[i].data + value[i].len)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": expected cookie=NAME=VALUE",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            plcf->consent_cookie.len = eq - plcf->consent_cookie.data;
            plcf->consent_value.data = eq + 1;
            plcf->consent_value.len = value[i].data + value[i].len - eq - 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected gpc or "
                           "one cookie=NAME=VALUE", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * xflow_privacy standard: per format, the location's own rules first
 * (so that they win where they meet a field), then every field the
 * format's adapter declares that no rule of the location names.
 */
char *
ngx_http_xflow_privacy_standard(ngx_conf_t *cf,
    ngx_http_xflow_privacy_loc_conf_t *conf)
{
    size_t                    plen;
    ngx_uint_t                f, i, nuser, taken;
    const char               *err;
    xf_strip_rule_t          *rule, *user;
    xf_strip_action_t         action;
    const xf_format_field_t  *fld;

    nuser = conf->strip ? conf->strip->nelts : 0;
    user = conf->strip ? conf->strip->elts : NULL;

    for (f = XF_FMT_JSON; f < XF_FMT_MAX; f++) {

        conf->std[f] = ngx_array_create(cf->pool, nuser + 16,
                                        sizeof(xf_strip_rule_t));
        if (conf->std[f] == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < nuser; i++) {
            rule = ngx_array_push(conf->std[f]);
            if (rule == NULL) {
                return NGX_CONF_ERROR;
            }

            *rule = user[i];

            if (rule->action != XF_STRIP_HASH) {
                continue;
            }

            /*
             * "hash" on a field the adapter knows for an id stays an id:
             * without consent it must still become the cookieless id.
             */
            plen = rule->seg_off[rule->nseg - 1]
                   + rule->seg_len[rule->nseg - 1];

            for (fld = xf_format_fields(f); fld->path; fld++) {
                if (fld->kind == XF_FIELD_ID
                    && ngx_strlen(fld->path) == plen
                    && ngx_strncmp(rule->path, fld->path, plen) == 0)
                {
                    rule->action = XF_STRIP_ID;

                    if (fld->cookie) {
                        rule->cookie = (const u_char *) fld->cookie;
                        rule->cookie_len = ngx_strlen(fld->cookie);
                    }

                    break;
                }
            }
        }

        for (fld = xf_format_fields(f); fld->path; fld++) {
            plen = ngx_strlen(fld->path);
            taken = 0;

            for (i = 0; i < nuser; i++) {
                rule = &user[i];

                if (rule->seg_off[rule->nseg - 1]
                    + rule->seg_len[rule->nseg - 1] == plen
                    && ngx_strncmp(rule->path, fld->path, plen) == 0)
                {
                    taken = 1;
                    break;
                }
            }

            if (taken) {
                continue;
            }

            if (conf->std[f]->nelts == XF_STRIP_RULES_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"xflow_privacy standard\" and the "
                                   "\"xflow_strip_field\" rules are more "
                                   "than %d for the format \"%s\"",
                                   XF_STRIP_RULES_MAX, xf_format_name(f));
                return NGX_CONF_ERROR;
            }

            action = fld->kind == XF_FIELD_ID ? XF_STRIP_ID
                     : fld->kind == XF_FIELD_UA ? XF_STRIP_UA
                     : fld->kind == XF_FIELD_IP ? XF_STRIP_DROP
                     : XF_STRIP_HASH;

            rule = ngx_array_push(conf->std[f]);
            if (rule == NULL) {
                return NGX_CONF_ERROR;
            }

            err = xf_strip_rule_init(rule, (const u_char *) fld->path, plen,
                                     action);
            if (err != NULL) {
                /* the adapters' table is the code's: a bug, not config */
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%s\": %s", fld->path, err);
                return NGX_CONF_ERROR;
            }

            if (fld->cookie) {
                rule->cookie = (const u_char *) fld->cookie;
                rule->cookie_len = ngx_strlen(fld->cookie);
            }
        }
    }

    return NGX_CONF_OK;
}
