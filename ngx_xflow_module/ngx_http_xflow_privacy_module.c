/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_privacy_module.c - the privacy directives and their
 * configuration: the hash key, the cookies to reference, the User-Agent
 * dictionary and its shared zone, the strip rules, the client address
 * mode, GeoIP.  What they do per request is ngx_http_xflow_privacy.c;
 * docs/privacy.md is the contract.
 *
 *   xflow_hash_key /etc/xflow/hash.key id=2024b;
 *   xflow_cookie_ref sensorsdata2015jssdkcross ph_*;
 *   xflow_ua_dictionary xflow.ua ttl=1d size=1m;
 *   xflow_strip_field properties.$user_agent hash;
 *   xflow_privacy standard;
 *   xflow_consent gpc cookie=consent=yes;
 *   xflow_client_ip truncate;
 *   xflow_geoip city=/var/lib/GeoIP/GeoLite2-City.mmdb asn=...;
 *
 * The key, the GeoIP databases and the compiled rules are loaded with the
 * configuration (nginx -t checks them) and shared by the workers through
 * fork; the "seen" table of the User-Agent dictionary is shared memory.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_variables.h"
#include "ngx_http_xflow_privacy_module.h"
#include "ngx_http_xflow_util.h"
#include "ngx_http_xflow_topic.h"

#include "xf_cookie.h"
#include "xf_geo.h"
#include "xf_hashref.h"
#include "xf_seen.h"
#include "xf_strip.h"


static ngx_int_t ngx_http_xflow_privacy_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_xflow_privacy_cleanup(void *data);
static char *ngx_http_xflow_hash_key_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_cookie_ref_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_ua_dictionary_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_strip_field_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_xflow_geoip_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void *ngx_http_xflow_privacy_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_privacy_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_xflow_privacy_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_xflow_privacy_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_conf_enum_t  ngx_http_xflow_client_ip_modes[] = {
    { ngx_string("full"), NGX_HTTP_XFLOW_IP_FULL },
    { ngx_string("truncate"), NGX_HTTP_XFLOW_IP_TRUNCATE },
    { ngx_string("hash"), NGX_HTTP_XFLOW_IP_HASH },
    { ngx_string("drop"), NGX_HTTP_XFLOW_IP_DROP },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_xflow_privacy_commands[] = {

    { ngx_string("xflow_hash_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_hash_key_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_cookie_ref"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_cookie_ref_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_ua_dictionary"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_ua_dictionary_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_strip_field"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_strip_field_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_client_ip"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_xflow_privacy_loc_conf_t, client_ip),
      &ngx_http_xflow_client_ip_modes },

    { ngx_string("xflow_privacy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_xflow_privacy_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_consent"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_xflow_consent_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("xflow_geoip"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_xflow_geoip_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_xflow_privacy_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_xflow_privacy_create_main_conf,
    ngx_http_xflow_privacy_init_main_conf,

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_xflow_privacy_create_loc_conf,
    ngx_http_xflow_privacy_merge_loc_conf
};


ngx_module_t  ngx_http_xflow_privacy_module = {
    NGX_MODULE_V1,
    &ngx_http_xflow_privacy_module_ctx,    /* module context */
    ngx_http_xflow_privacy_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_xflow_hash_key_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_main_conf_t *pmcf = conf;

    u_char              *buf, *kid;
    size_t               kid_len;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, file;
    xf_alloc_t           a;
    const char          *err;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;
    xf_hashref_t        *h;

    value = cf->args->elts;

    file = value[1];
    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    kid = NULL;
    kid_len = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "id=", 3) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected id=ID",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        kid = value[2].data + 3;
        kid_len = value[2].len - 3;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open the hash key \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the hash key \"%V\" is not a key file (over "
                           "4096 bytes or unreadable)", &file);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_access(&fi) & (S_IRWXG | S_IRWXO)) {
        /* the key makes every reference: only its owner should read it */
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "the hash key \"%V\" is readable or writable "
                           "by its group or others (mode 0%c%c%c): "
                           "chmod 0400 it", &file,
                           '0' + ((ngx_file_access(&fi) >> 6) & 7),
                           '0' + ((ngx_file_access(&fi) >> 3) & 7),
                           '0' + (ngx_file_access(&fi) & 7));
    }

    buf = ngx_alloc(4097, cf->log);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = read(fd, buf, 4097);
    ngx_close_file(fd);

    if (n < 0) {
        ngx_explicit_memzero(buf, 4097);
        ngx_free(buf);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read the hash key \"%V\"", &file);
        return NGX_CONF_ERROR;
    }

    ngx_http_xflow_pool_allocator(&a, cf->pool);

    err = xf_hashref_create(buf, n, kid, kid_len, &a, &h);

    /* the secret lives in the hashing state only */
    ngx_explicit_memzero(buf, 4097);
    ngx_free(buf);

    if (err != NULL) {
        /* the message never holds key bytes */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "hash key \"%V\": %s",
                           &file, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        xf_hashref_destroy(h, &a);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_xflow_privacy_cleanup;
    cln->data = h;

    /* the last key configured is the one in use (docs/privacy.md) */
    pmcf->key = h;

    return NGX_CONF_OK;
}


static void
ngx_http_xflow_privacy_noop_free(void *data, void *p)
{
}


static void
ngx_http_xflow_privacy_cleanup(void *data)
{
    xf_hashref_t  *h = data;

    xf_alloc_t  a = { NULL, ngx_http_xflow_privacy_noop_free, NULL };

    /* wipes the key state; its memory goes with the pool */
    xf_hashref_destroy(h, &a);
}


static char *
ngx_http_xflow_cookie_ref_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_loc_conf_t *plcf = conf;

    ngx_str_t            *value;
    ngx_uint_t            i;
    const char           *err;
    xf_cookie_pattern_t  *pat;

    if (ngx_http_xflow_pool_array(cf->pool, &plcf->cookies, 4,
                                  sizeof(xf_cookie_pattern_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        pat = ngx_array_push(plcf->cookies);
        if (pat == NULL) {
            return NGX_CONF_ERROR;
        }

        err = xf_cookie_pattern(pat, value[i].data, value[i].len);
        if (err != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cookie \"%V\": %s",
                               &value[i], err);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_ua_dictionary_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_main_conf_t *pmcf = conf;

    ssize_t      size;
    ngx_int_t    index;
    ngx_str_t   *value, s, name;
    ngx_uint_t   i;

    if (pmcf->ua_topic.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf->ua_topic = value[1];
    pmcf->ua_ttl = 86400;
    size = 1024 * 1024;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            pmcf->ua_ttl = ngx_parse_time(&s, 1);
            if (pmcf->ua_ttl == (time_t) NGX_ERROR || pmcf->ua_ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size < (ssize_t) (16 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\", at least %uz",
                                   &value[i], 16 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    index = ngx_http_xflow_topic_index(cf, &pmcf->ua_topic);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    pmcf->ua_topic_index = index;

    ngx_str_set(&name, "xflow_ua_seen");

    pmcf->ua_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_xflow_privacy_module);
    if (pmcf->ua_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    pmcf->ua_zone->init = ngx_http_xflow_privacy_init_zone;
    pmcf->ua_zone->data = pmcf;

    return NGX_CONF_OK;
}


/*
 * The seen table in the zone's slab pool.  xf_seen_init keeps the entries
 * of a table of the same layout: a reload with the same size reuses it.
 */
static ngx_int_t
ngx_http_xflow_privacy_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                               size;
    ngx_slab_pool_t                     *shpool;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    pmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* the slab pool keeps its header and page table in the zone */
    size = shm_zone->shm.size - shm_zone->shm.size / 64 - 8 * ngx_pagesize;

    if (shpool->data == NULL || (data == NULL && !shm_zone->shm.exists)) {
        shpool->data = ngx_slab_alloc(shpool, size);
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    pmcf->ua_seen = xf_seen_init(shpool->data, size);

    return pmcf->ua_seen ? NGX_OK : NGX_ERROR;
}


static char *
ngx_http_xflow_strip_field_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_loc_conf_t *plcf = conf;

    ngx_str_t           *value;
    const char          *err;
    xf_strip_rule_t     *rule;
    xf_strip_action_t    action;

    value = cf->args->elts;

    action = XF_STRIP_HASH;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "drop") == 0) {
            action = XF_STRIP_DROP;

        } else if (ngx_strcmp(value[2].data, "id") == 0) {
            action = XF_STRIP_ID;

        } else if (ngx_strcmp(value[2].data, "ua") == 0) {
            action = XF_STRIP_UA;

        } else if (ngx_strcmp(value[2].data, "hash") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid action \"%V\", expected hash, "
                               "drop, id or ua", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_xflow_pool_array(cf->pool, &plcf->strip, 4,
                                  sizeof(xf_strip_rule_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (plcf->strip->nelts == XF_STRIP_RULES_MAX) {
        return "has too many rules";
    }

    rule = ngx_array_push(plcf->strip);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    err = xf_strip_rule_init(rule, value[1].data, value[1].len, action);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "field \"%V\": %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_xflow_geoip_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_xflow_privacy_main_conf_t *pmcf = conf;

    char                 err[512];
    ngx_str_t           *value, city, asn;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    if (pmcf->geo) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&city);
    ngx_str_null(&asn);

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "city=", 5) == 0) {
            city.data = value[i].data + 5;
            city.len = value[i].len - 5;

        } else if (ngx_strncmp(value[i].data, "asn=", 4) == 0) {
            asn.data = value[i].data + 4;
            asn.len = value[i].len - 4;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected city= or "
                               "asn=", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if ((city.len && ngx_conf_full_name(cf->cycle, &city, 1) != NGX_OK)
        || (asn.len && ngx_conf_full_name(cf->cycle, &asn, 1) != NGX_OK))
    {
        return NGX_CONF_ERROR;
    }

    pmcf->geo = ngx_pcalloc(cf->pool, sizeof(xf_geo_t));
    if (pmcf->geo == NULL) {
        return NGX_CONF_ERROR;
    }

    /* opened and checked now, so nginx -t refuses a broken file */
    if (xf_geo_open(pmcf->geo, city.len ? (char *) city.data : NULL,
                    asn.len ? (char *) asn.data : NULL, err, sizeof(err))
        != XF_OK)
    {
        pmcf->geo = NULL;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "xflow_geoip: %s", err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        xf_geo_close(pmcf->geo);
        return NGX_CONF_ERROR;
    }

    cln->handler = (ngx_pool_cleanup_pt) xf_geo_close;
    cln->data = pmcf->geo;

    return NGX_CONF_OK;
}


static void *
ngx_http_xflow_privacy_create_main_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->key = NULL;
     *     pmcf->geo = NULL;
     *     pmcf->ua_topic = { 0, NULL };
     *     pmcf->ua_zone = NULL;
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_privacy_main_conf_t));
}


static char *
ngx_http_xflow_privacy_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_xflow_privacy_main_conf_t *pmcf = conf;

    if (pmcf->ua_topic.len && pmcf->key == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"xflow_ua_dictionary\" needs \"xflow_hash_key\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_xflow_privacy_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_xflow_privacy_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_xflow_privacy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->cookies = NGX_CONF_UNSET_PTR;
    conf->strip = NGX_CONF_UNSET_PTR;
    conf->client_ip = NGX_CONF_UNSET_UINT;
    conf->standard = NGX_CONF_UNSET;
    conf->consent_set = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_xflow_privacy_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_xflow_privacy_loc_conf_t *prev = parent;
    ngx_http_xflow_privacy_loc_conf_t *conf = child;

    ngx_uint_t                           i;
    xf_strip_rule_t                     *rules;
    ngx_http_xflow_privacy_main_conf_t  *pmcf;

    ngx_conf_merge_ptr_value(conf->cookies, prev->cookies, NULL);
    ngx_conf_merge_ptr_value(conf->strip, prev->strip, NULL);
    ngx_conf_merge_uint_value(conf->client_ip, prev->client_ip,
                              NGX_HTTP_XFLOW_IP_FULL);
    ngx_conf_merge_value(conf->standard, prev->standard, 0);

    if (conf->consent_set == NGX_CONF_UNSET_UINT) {
        conf->consent_set = prev->consent_set == NGX_CONF_UNSET_UINT
                            ? 0 : prev->consent_set;
        conf->consent = prev->consent;
        conf->consent_cookie = prev->consent_cookie;
        conf->consent_value = prev->consent_value;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_xflow_privacy_module);

    if (pmcf->key) {
        return conf->standard ? ngx_http_xflow_privacy_standard(cf, conf)
                              : NGX_CONF_OK;
    }

    /* a reference needs a key: refuse what cannot be honoured */

    if (conf->standard) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"xflow_privacy standard\" needs "
                           "\"xflow_hash_key\"");
        return NGX_CONF_ERROR;
    }

    if (conf->consent_set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"xflow_consent\" needs \"xflow_hash_key\"");
        return NGX_CONF_ERROR;
    }

    if (conf->cookies) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"xflow_cookie_ref\" needs \"xflow_hash_key\"");
        return NGX_CONF_ERROR;
    }

    if (conf->client_ip == NGX_HTTP_XFLOW_IP_HASH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"xflow_client_ip hash\" needs \"xflow_hash_key\"");
        return NGX_CONF_ERROR;
    }

    if (conf->strip) {
        rules = conf->strip->elts;

        for (i = 0; i < conf->strip->nelts; i++) {
            if (rules[i].action != XF_STRIP_DROP) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"xflow_strip_field ... hash\" (id, "
                                   "ua) needs "
                                   "\"xflow_hash_key\"");
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}
