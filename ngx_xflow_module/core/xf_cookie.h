/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_cookie.h - the Cookie header reduced to references of the cookies
 * that identify a device or a session.
 *
 * Parsing follows what browsers send and what RFC 6265 section 5.4
 * servers must accept, tolerantly:
 *   - pairs are separated by ';'; spaces and tabs around names and values
 *     are not part of them; empty pairs ("a=1;;b=2", a trailing ';') are
 *     skipped;
 *   - the name ends at the first '=', so a value may hold '=' (base64);
 *     a pair without '=' is a cookie with an empty name (RFC 6265bis),
 *     which no pattern matches;
 *   - double quotes are part of the value: "a=\"x\"" and "a=x" are
 *     different values and get different references;
 *   - a ';' always ends a pair, inside quotes too, as in browsers.
 * Several Cookie headers are joined by the caller with "; ".
 *
 * Values are read only to be hashed: nothing but the names of the
 * matching cookies and their references is ever written.
 */

#ifndef XF_COOKIE_H
#define XF_COOKIE_H

#include "xf_core.h"
#include "xf_hashref.h"


#define XF_COOKIE_REFS_MAX   32     /* references per request, at most */


/* A configured name: exact, or a prefix when it ended in '*'. */
typedef struct {
    const u_char   *name;           /* caller-owned, without the '*' */
    size_t          len;
    unsigned        prefix;
} xf_cookie_pattern_t;

/*
 * Fill pat from a directive argument ("sensorsdata2015jssdkcross",
 * "ph_*").  The name must be non-empty (a lone "*" is refused: it would
 * keep every cookie), '*' may only end it, and it may not hold bytes a
 * cookie name cannot (controls, space, tab, '"', ',', ';', '=', '\\', DEL).
 * Returns NULL, or a message for nginx -t.  pat->name points into p.
 */
const char *xf_cookie_pattern(xf_cookie_pattern_t *pat, const u_char *p,
    size_t len);


/* One cookie: spans into the header. */
typedef struct {
    const u_char   *name;
    size_t          name_len;
    const u_char   *value;
    size_t          value_len;
} xf_cookie_t;

/*
 * The next cookie of the header at *pos, which ends at end.  Returns 1 and
 * fills c, advancing *pos, or 0 when there are no more.
 */
int xf_cookie_next(const u_char **pos, const u_char *end, xf_cookie_t *c);

/* 1 if the name matches one of the patterns. */
int xf_cookie_match(const xf_cookie_pattern_t *pats, size_t npats,
    const u_char *name, size_t len);


/* Room for the member of a header of len bytes and max_refs references. */
#define xf_cookie_member_bound(len, max_refs)                                 \
    (sizeof(",\"cookies\":{}") - 1 + 6 * (len)                               \
     + (max_refs) * (sizeof("\"\":\"\",") - 1 + XF_HASHREF_LEN))

/*
 * Render the cookies of the header p, len that match a pattern as the
 * envelope member
 *
 *     ,"cookies":{"NAME":"REF",...}
 *
 * in the order they appear; the first cookie of a name wins, later ones
 * of the same name are ignored; names are JSON-escaped.  At most
 * max_refs (capped at XF_COOKIE_REFS_MAX) references are written, so a
 * hostile header cannot grow the envelope without bound.  Nothing is
 * written (*out_len = 0) when no cookie matches.
 * Returns XF_OK, XF_ERR_BUFFER when cap is too small (with
 * xf_cookie_member_bound() it never is) or XF_ERR_NOMEM from the hash.
 */
xf_status_t xf_cookie_member(xf_hashref_t *h, const xf_cookie_pattern_t *pats,
    size_t npats, size_t max_refs, const u_char *p, size_t len, u_char *dst,
    size_t cap, size_t *out_len);

/*
 * xf_cookie_member() in two steps, for a caller that reads the header
 * once for other cookies too (a consent cookie, a format's), or several
 * headers without joining them: xf_cookie_keep() on every cookie, in
 * order, then xf_cookie_render() give exactly what xf_cookie_member()
 * gives for the same cookies.
 *
 * xf_cookie_keep() appends c to kept (*n cookies so far; room for
 * max_refs, capped at XF_COOKIE_REFS_MAX) when its name matches a pattern
 * and no cookie of that name is kept yet.  Returns 1 when kept, else 0.
 * The spans of c are copied: the header must outlive kept.
 */
int xf_cookie_keep(const xf_cookie_pattern_t *pats, size_t npats,
    size_t max_refs, const xf_cookie_t *c, xf_cookie_t *kept, size_t *n);

/*
 * The member of the n cookies kept, as xf_cookie_member() writes it (into
 * at most xf_cookie_member_bound() of their headers' length).  Returns as
 * xf_cookie_member() does.
 */
xf_status_t xf_cookie_render(xf_hashref_t *h, const xf_cookie_t *kept,
    size_t n, u_char *dst, size_t cap, size_t *out_len);

#endif /* XF_COOKIE_H */
