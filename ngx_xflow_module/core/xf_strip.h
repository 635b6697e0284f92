/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_strip.h - remove fields from an event, or replace them by their
 * keyed reference, leaving every other byte of the event as it was.
 *
 * A rule is a dotted path and an action:
 *
 *     properties.$user_agent  hash   the value becomes "REF"
 *     properties.$ip          drop   the member is gone
 *
 * Paths walk nested objects only: "a.b" is member b of the object that is
 * the value of member a; arrays are not entered, and a path through a
 * value that is not an object matches nothing.  A '.' always separates
 * segments (a key that holds a dot cannot be named).  Member names are
 * compared after JSON unescaping, as xf_json_object_get() compares them,
 * so "\u0024ip" is "$ip".  Unlike xf_json_object_get(), every member of a
 * duplicated name is acted on, not only the first: downstream parsers
 * disagree about which duplicate wins (most keep the last), and a
 * stripped field must not survive in any of them.
 *
 * Hashing: a string value is hashed over its unescaped text with the tag
 * 'f' (so "\u0061" and "a" give the same reference); any other value
 * (number, literal, object, array) over its JSON text exactly as sent,
 * with the tag 'j', so the string "1" and the number 1 differ.
 *
 * Dropping removes the member together with the comma on its right, and
 * the whitespace up to the next member; the last member of an object
 * takes the comma on its left instead.  When rules meet on one member,
 * drop wins over hash, and an action on a member wins over rules for
 * members inside its value.
 *
 *     {"a":1, "b":2, "c":3}    drop b    {"a":1, "c":3}
 *     {"a":1, "b":2, "c":3}    drop c    {"a":1, "b":2}
 *     { "a":1 }                drop a    {  }
 */

#ifndef XF_STRIP_H
#define XF_STRIP_H

#include "xf_core.h"
#include "xf_hashref.h"


#define XF_STRIP_DEPTH_MAX  8       /* segments of a path */
#define XF_STRIP_SEG_MAX    255     /* bytes of a segment */
#define XF_STRIP_RULES_MAX  64      /* a 64-bit set of live rules */


/*
 * Besides hash and drop, the actions of xflow_privacy standard (the
 * fields the format adapters declare, xf_format_fields()):
 *
 *   id   a persistent identifier: like hash, except that a string value
 *        of a rule that names a cookie is hashed as that cookie
 *        (xf_hashref_cookie(): the reference xflow_cookie_ref gives the
 *        same id in the cookie); and when the conf carries a cookieless
 *        id, the value, of any type, becomes that id instead
 *   ua   a User-Agent: a string value is hashed with the tag 'u', as the
 *        User-Agent header is (the dictionary's reference); any other
 *        value as hash does
 *
 * When replacing rules of different actions meet on one member, the
 * first rule in the list wins.
 */
typedef enum {
    XF_STRIP_HASH = 0,
    XF_STRIP_DROP,
    XF_STRIP_ID,
    XF_STRIP_UA
} xf_strip_action_t;

typedef struct {
    const u_char       *path;       /* caller-owned, outlives the rule */
    const u_char       *cookie;     /* XF_STRIP_ID: the cookie's name, or
                                       NULL; caller-owned */
    size_t              cookie_len;
    xf_strip_action_t   action;
    unsigned            nseg;
    uint16_t            seg_off[XF_STRIP_DEPTH_MAX];
    uint16_t            seg_len[XF_STRIP_DEPTH_MAX];
} xf_strip_rule_t;

/*
 * Fill a rule from a directive's path.  Returns NULL, or a message for
 * nginx -t: an empty segment ("a..b", ".a", "a."), a segment over
 * XF_STRIP_SEG_MAX bytes, more than XF_STRIP_DEPTH_MAX segments.
 */
const char *xf_strip_rule_init(xf_strip_rule_t *rule, const u_char *path,
    size_t len, xf_strip_action_t action);


typedef struct {
    const xf_strip_rule_t  *rules;
    size_t                  n;      /* at most XF_STRIP_RULES_MAX */
    xf_hashref_t           *h;      /* needed when a rule hashes */
    const u_char           *anon;   /* XF_HASHREF_LEN bytes: the
                                       cookieless id that replaces every
                                       XF_STRIP_ID value; or NULL */

    /*
     * Or NULL.  Called by xf_strip() for each string a ua rule replaced:
     * its unescaped text (valid during the call only) and its reference,
     * so that the caller can publish it to the User-Agent dictionary.
     */
    void                  (*ua)(void *data, const u_char *text, size_t len,
                                const u_char *ref);
    void                   *ua_data;
} xf_strip_conf_t;


/*
 * Room for the edited event: a hashed value grows to at most 24 bytes,
 * and each one takes at least five bytes of the input ("k":1,).
 */
#define xf_strip_bound(len)  ((len) + 23 * ((len) / 5 + 1))

/*
 * Apply the rules to the event object p, len (exactly a span that
 * xf_json_scan_value() or xf_json_split() accepted; it is not validated
 * again, and on anything else the result is garbage but no byte outside
 * p..len is read).
 *
 * When no rule matches, nothing is written and *out_len is 0: the caller
 * keeps the original bytes.  Otherwise the edited event is in dst and
 * *out_len is its length (never 0: an object keeps its braces).
 * a provides scratch for unescaping string values that hold escapes
 * (freed before return).  Returns XF_OK, XF_ERR_NOT_OBJECT when p is not
 * an object, XF_ERR_BUFFER when cap is too small (xf_strip_bound(len)
 * always suffices), XF_ERR_NOMEM.
 */
xf_status_t xf_strip(const xf_strip_conf_t *conf, const xf_alloc_t *a,
    const u_char *p, size_t len, u_char *dst, size_t cap, size_t *out_len);


/*
 * What the rules do to a value taken out of the event: the Kafka key, the
 * envelope's app and the name are read from the event before it is
 * stripped, and must not carry in clear what the event no longer does.
 * value (unescaped text, as the format adapters take it: a string's
 * text, a number as written) is compared with the value of every member
 * a rule acts on in the event p, len (as for xf_strip()); when one is
 * equal, the value is dropped (a drop rule) or replaced by the very
 * reference the event now holds (a hash rule: tag 'f' when the member
 * was a string, 'j' otherwise; an id or ua rule as in the event, the
 * cookieless id included).  Drop wins over the others.  Nothing matched,
 * no rule, or p not an object: KEEP.  Returns XF_OK or XF_ERR_NOMEM.
 */

typedef enum {
    XF_STRIP_PROBE_KEEP = 0,
    XF_STRIP_PROBE_HASH,
    XF_STRIP_PROBE_DROP
} xf_strip_probe_action_t;

typedef struct {
    xf_strip_probe_action_t  action;
    u_char                   ref[XF_HASHREF_LEN];
    size_t                   ref_len;
} xf_strip_probe_t;

/* The probe described above: its result in *res. */
xf_status_t xf_strip_probe(const xf_strip_conf_t *conf, const xf_alloc_t *a,
    const u_char *p, size_t len, const u_char *value, size_t value_len,
    xf_strip_probe_t *res);


#define XF_STRIP_PROBES_MAX  2     /* an event's key and its app */

/*
 * xf_strip() and xf_strip_probe() of n values in one walk: the event is
 * edited exactly as xf_strip() edits it, and values[i], value_lens[i] is
 * probed exactly as xf_strip_probe() would, its result in res[i] (an
 * empty value, and any past XF_STRIP_PROBES_MAX, is KEEP).  A glue that
 * reads the key and the app out of every event walks each event once
 * instead of three times; a hashed value's reference is the one the edit
 * wrote, not computed again.  Returns what xf_strip() does; every result
 * is KEEP on XF_ERR_NOT_OBJECT, and res is not to be used on another
 * error (XF_ERR_BUFFER: call again with more room).
 */
xf_status_t xf_strip_values(const xf_strip_conf_t *conf,
    const xf_alloc_t *a, const u_char *p, size_t len, u_char *dst,
    size_t cap, size_t *out_len, const u_char *const *values,
    const size_t *value_lens, size_t n, xf_strip_probe_t *res);

#endif /* XF_STRIP_H */
