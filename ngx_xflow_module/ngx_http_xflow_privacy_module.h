/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_privacy_module.h - keyed references instead of cookies,
 * User-Agents and chosen fields; GeoIP; what the envelope says of the
 * client address (docs/privacy.md is the contract).
 *
 * The part's files, in the order calls may go (never back up the list):
 *
 *   ngx_http_xflow_privacy_module.c  directives, configuration, the key,
 *                                    the GeoIP databases, the UA zone
 *   ngx_http_xflow_privacy_standard.c  xflow_privacy, xflow_consent: the
 *                                    standard rule sets per format
 *   ngx_http_xflow_privacy.c         per request and per event
 *
 * Threads and phases: nginx runs every function below in one thread.
 * "Config time" is the master (or nginx -t) reading the configuration;
 * "worker" is a worker process's event loop, serving a request.  The
 * key, the databases and the compiled rules are loaded at config time
 * and shared by the workers through fork, read-only; the "seen" table of
 * the User-Agent dictionary is shared memory.
 */

#ifndef NGX_HTTP_XFLOW_PRIVACY_MODULE_H
#define NGX_HTTP_XFLOW_PRIVACY_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "xf_format.h"


/*
 * What every envelope of one request shares, from
 * ngx_http_xflow_privacy_request().  Every ngx_str_t points into r->pool
 * (ip may point at r->connection->addr_text): valid for the request.
 */
typedef struct {
    /* ,"kid":..,"cookies":{..},"ua":..,"geo":{..} */
    ngx_str_t       extra;
    ngx_str_t       ip;         /* the envelope's "ip"; NULL data: none */
    ngx_str_t       ua_ref;     /* set: publish to the UA dictionary */
    ngx_str_t       ua_value;   /* {"ua":"..."} */
    ngx_uint_t      ua_topic;
    /* User-Agents of the events (xflow_privacy standard's ua fields)
       seen first here: publish them too, to ua_topic */
    ngx_uint_t      nbody;
    ngx_str_t      *body_ref;
    ngx_str_t      *body_value;
} ngx_http_xflow_privacy_t;


extern ngx_module_t  ngx_http_xflow_privacy_module;


/*
 * ---------------------------------------------------------------------
 * The API the rest of the glue uses
 * ---------------------------------------------------------------------
 */

/**
 * @brief Fills @p pv with what every envelope of the request shares: the
 *        key id, the references of the xflow_cookie_ref cookies and of
 *        the User-Agent, the GeoIP member, and the address text as
 *        xflow_client_ip wants it.
 *
 * When this worker is the first to see the User-Agent within the
 * dictionary's TTL, pv->ua_ref and pv->ua_value are set: the caller
 * publishes them once to topic pv->ua_topic; so are the pv->nbody
 * User-Agents the request's events carried (body_ref[i], body_value[i]),
 * which is why this is called after the events were stripped.  A failed
 * GeoIP lookup leaves the member out and is logged (throttled).
 *
 * @returns NGX_OK, or NGX_ERROR (no memory, a hashing failure).
 *
 * Memory: everything in @p pv is allocated from r->pool (see the type).
 *
 * Called from: a worker, once per request that produces events.
 */
ngx_int_t ngx_http_xflow_privacy_request(ngx_http_request_t *r,
    ngx_http_xflow_privacy_t *pv);

/**
 * @brief The reference of one cookie of the request as "NAME=REF": what a
 *        format adapter may see of the Cookie header (Snowplow's "sp"),
 *        so that no raw cookie value becomes an event field or a key.
 *
 * @returns NGX_OK with @p out set, or empty when there is no
 *          xflow_hash_key or no such cookie; NGX_ERROR.
 *
 * Memory: out->data is allocated from r->pool.  @p name is the caller's,
 *         NUL-terminated.
 *
 * Called from: a worker, while the upload is decoded.
 */
ngx_int_t ngx_http_xflow_privacy_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *out);

/**
 * @brief Applies the location's xflow_strip_field rules to one event, a
 *        validated JSON object.
 *
 * @returns NGX_OK with *p and *len replaced by the edited copy, or kept
 *          when no rule matched or the bytes are not one object;
 *          NGX_ERROR.
 *
 * Memory: the edited copy is allocated from r->pool; the original bytes
 *         stay the caller's.
 *
 * Called from: a worker, per event of a decoded upload.
 */
ngx_int_t ngx_http_xflow_privacy_event(ngx_http_request_t *r,
    const u_char **p, size_t *len);

/**
 * @brief Whether the location has xflow_strip_field rules: then bytes
 *        that cannot be stripped as one event object never reach a dead
 *        letter.
 *
 * @returns 1 or 0.
 *
 * Called from: a worker, per upload.
 */
ngx_uint_t ngx_http_xflow_privacy_strips(ngx_http_request_t *r);

/**
 * @brief The xflow_hash_key state, for what a format adapter keys
 *        itself: a Segment write key becomes the app as its keyed
 *        reference.
 *
 * @returns the state, or NULL when no xflow_hash_key is set.
 *
 * Memory: the configuration's (each worker's copy after fork).
 *
 * Called from: a worker, per upload, before its format is parsed.
 */
xf_hashref_t *ngx_http_xflow_privacy_hash_key(ngx_http_request_t *r);

/**
 * @brief Treats a value read out of the event object @p p, @p len before
 *        it was stripped (the Kafka key, the envelope's app, $xflow_app)
 *        as the rules treated an equal value in the event: hashed to the
 *        event's reference, or emptied.
 *
 * @returns NGX_OK with *value replaced when a rule applied; NGX_ERROR.
 *
 * Memory: a replaced value->data is allocated from r->pool.
 *
 * Called from: a worker, per event of a decoded upload.
 */
ngx_int_t ngx_http_xflow_privacy_value(ngx_http_request_t *r,
    const u_char *p, size_t len, xf_str_t *value);

/**
 * @brief One event, one walk of the strip rules: the event as
 *        ngx_http_xflow_privacy_event() strips it, and the Kafka key
 *        @p key and the envelope's app @p app read out of it before, as
 *        ngx_http_xflow_privacy_value() treats a value.
 *
 * @returns NGX_OK with *p, *len, @p key and @p app replaced as needed;
 *          NGX_ERROR.
 *
 * Memory: the edited copy and replaced values are allocated from r->pool;
 *         the original bytes stay the caller's.
 *
 * Called from: a worker, per valid event of a decoded upload.
 */
ngx_int_t ngx_http_xflow_privacy_strip(ngx_http_request_t *r,
    const u_char **p, size_t *len, xf_str_t *key, xf_str_t *app);

/**
 * @brief The Kafka key after ngx_http_xflow_privacy_strip() (@p orig: its
 *        data before): with xflow_privacy standard, a key no rule
 *        treated (an id the adapter took from outside the event, such as
 *        Snowplow's ?nuid=) is never sent as it came: the reference of
 *        the cookie the adapter was handed stays, anything else becomes
 *        a field reference, or the cookieless id without consent.
 *
 * @returns NGX_OK with *value replaced as needed; NGX_ERROR.
 *
 * Memory: a replaced value->data is allocated from r->pool.
 *
 * Called from: a worker, per valid event, once the request's app is
 *              known (the cookieless id is made of it).
 */
ngx_int_t ngx_http_xflow_privacy_key(ngx_http_request_t *r,
    xf_str_t *value, const u_char *orig);


/*
 * ---------------------------------------------------------------------
 * Shared by the privacy part's own files only
 * ---------------------------------------------------------------------
 */

#include "xf_cookie.h"
#include "xf_geo.h"
#include "xf_hashref.h"
#include "xf_seen.h"


/* xflow_client_ip */
#define NGX_HTTP_XFLOW_IP_FULL      0
#define NGX_HTTP_XFLOW_IP_TRUNCATE  1
#define NGX_HTTP_XFLOW_IP_HASH      2
#define NGX_HTTP_XFLOW_IP_DROP      3


/* Built at config time, read by workers; ua_seen is set per process. */
typedef struct {
    xf_hashref_t               *key;        /* the last xflow_hash_key */
    xf_geo_t                   *geo;
    ngx_str_t                   ua_topic;
    ngx_uint_t                  ua_topic_index;
    time_t                      ua_ttl;
    ngx_shm_zone_t             *ua_zone;
    xf_seen_t                  *ua_seen;    /* per process, after init */
} ngx_http_xflow_privacy_main_conf_t;


/* xflow_consent */
#define NGX_HTTP_XFLOW_CONSENT_GPC  0x01


typedef struct {
    ngx_array_t                *cookies;    /* of xf_cookie_pattern_t */
    ngx_array_t                *strip;      /* of xf_strip_rule_t */
    ngx_uint_t                  client_ip;
    ngx_flag_t                  standard;   /* xflow_privacy standard */
    /* standard: the format's fields and the xflow_strip_field rules,
       built at merge time, indexed by xf_format_t */
    ngx_array_t                *std[XF_FMT_MAX];
    ngx_uint_t                  consent;    /* NGX_HTTP_XFLOW_CONSENT_* */
    ngx_str_t                   consent_cookie;     /* NAME, or empty */
    ngx_str_t                   consent_value;      /* its consenting
                                                       value */
    ngx_uint_t                  consent_set;
} ngx_http_xflow_privacy_loc_conf_t;


/*
 * ngx_http_xflow_privacy_standard.c: the directives xflow_privacy and
 * xflow_consent, and, at merge time with a key, the standard rule sets
 * of a location (conf->std).  Config time.
 */
char *ngx_http_xflow_privacy_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_xflow_consent_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_xflow_privacy_standard(ngx_conf_t *cf,
    ngx_http_xflow_privacy_loc_conf_t *conf);


/* User-Agents of one request's events the dictionary may take. */
#define NGX_HTTP_XFLOW_BODY_UA_MAX  4


/* Per request: the consent decision and the cookieless id, made once. */
typedef struct {
    ngx_uint_t                  nbody;
    ngx_str_t                   body_ref[NGX_HTTP_XFLOW_BODY_UA_MAX];
    ngx_str_t                   body_value[NGX_HTTP_XFLOW_BODY_UA_MAX];
    unsigned                    cookieless:1;
    unsigned                    anon_set:1;
    unsigned                    cookie_set:1;
    u_char                      anon[XF_HASHREF_LEN];
    u_char                      cookie[XF_HASHREF_LEN];    /* the ref an
                                       adapter got for its cookie */

    /* the Cookie headers, read once, when the ctx is made */
    size_t                      nkept;
    xf_cookie_t                 kept[XF_COOKIE_REFS_MAX];  /* of
                                       xflow_cookie_ref, for the member */
    const char                 *fname;  /* the format's cookie (sp) */
    xf_cookie_t                 fcookie;
    unsigned                    fcookie_set:1;
} ngx_http_xflow_privacy_ctx_t;

#endif /* NGX_HTTP_XFLOW_PRIVACY_MODULE_H */
