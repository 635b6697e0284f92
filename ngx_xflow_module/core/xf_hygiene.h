/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_hygiene.h - what the edge does to events that should not go on as
 * they came: kill switches (drop, dead-letter or reroute an app, an
 * event name, a user by the SHA-256 of its distinct id, or one event by
 * its id), timestamps far in the future (clamped) or old (to a
 * historical topic), and placeholder distinct ids ("undefined", "null",
 * ...) taken for what they are: no id.
 */

#ifndef XF_HYGIENE_H
#define XF_HYGIENE_H

#include "xf_core.h"
#include "xf_format.h"


typedef enum {
    XF_KILL_DROP = 0,               /* answered as accepted, not sent */
    XF_KILL_DEAD_LETTER,
    XF_KILL_ROUTE                   /* to the rule's topic */
} xf_kill_action_t;


/* One kill switch; strings point into the caller's tokens. */
typedef struct {
    xf_str_t           *apps;
    size_t              napps;
    xf_str_t           *events;
    size_t              nevents;
    u_char            (*distinct)[32];  /* SHA-256 of distinct ids */
    size_t              ndistinct;
    xf_str_t           *ids;            /* event ids */
    size_t              nids;
    xf_kill_action_t    action;
    xf_str_t            topic;          /* XF_KILL_ROUTE */
} xf_kill_rule_t;


/*
 * Parse one rule from its directive arguments: app=A[,B...],
 * event=E[,...], distinct_sha256=HEX[,...] (64 hex digits each),
 * id=ID[,...], and one of drop, dead_letter, route=TOPIC.  All the
 * conditions given must hold; at least one is needed.  Memory from a.
 * On error, err (NUL-terminated) says which token is wrong.  XF_OK,
 * XF_ERR_FORM, XF_ERR_NOMEM.
 */
xf_status_t xf_kill_parse(const xf_str_t *tokens, size_t n,
    const xf_alloc_t *a, xf_kill_rule_t *rule, char *err, size_t err_len);

/* What the rules look at of one valid event. */
typedef struct {
    xf_str_t            app;
    xf_str_t            name;
    xf_str_t            distinct_id;
    const u_char       *p;              /* the validated event object */
    size_t              len;
} xf_kill_event_t;

/*
 * The first rule of rules[0..n) the event meets, or -1.  The SHA-256 of
 * the distinct id is computed once, and only when a rule asks for it;
 * an event's id is its top-level "uuid" (PostHog), "messageId"
 * (Segment), "$insert_id" or "insert_id" (Mixpanel, Amplitude) or
 * "event_id" (Snowplow).
 */
ssize_t xf_kill_match(const xf_kill_rule_t *rules, size_t n,
    const xf_kill_event_t *ev);


#define XF_TIME_FIELDS      4       /* time fields read of an event */
#define XF_TIME_RENDER_MAX  40      /* bytes of a time xf_time_render()
                                       writes, at the most */

/* One time field of an event: its value's span, and the time it says. */
typedef struct {
    size_t              off;        /* relative to the event */
    size_t              len;
    int64_t             ms;         /* since the epoch, may be negative */
} xf_time_field_t;

/*
 * The time fields of an event of format f (xf_format_times(f)) that it
 * carries and that parse, in the format's order, into t (room for
 * XF_TIME_FIELDS): t[0] is the event's time.  A time is a number
 * (seconds when below 10^11, else milliseconds; a fraction is dropped),
 * a string of digits (milliseconds, Snowplow) or an ISO 8601 date-time
 * ("2026-12-07T20:40:26.123Z", an offset instead of Z).  Returns how
 * many, 0 for none.
 */
size_t xf_time_fields(xf_format_t f, const u_char *p, size_t len,
    xf_time_field_t *t);

/*
 * The value span of a time as xf_time_fields() found it, rewritten to
 * ms in the same kind (seconds, milliseconds, a string of milliseconds,
 * ISO 8601 in UTC with milliseconds) into dst (room for
 * XF_TIME_RENDER_MAX bytes).  Returns the length written.
 */
size_t xf_time_render(const u_char *orig, size_t orig_len, int64_t ms,
    u_char *dst);

/*
 * The event p..len with each of its time fields t[0..n) that is later
 * than limit rewritten to now, each in its own kind, into dst (room for
 * len + n * XF_TIME_RENDER_MAX bytes): clamping one field and not the
 * other (Segment's timestamp and sentAt) would make a consumer that
 * corrects the device's clock from both move the event into the past.
 * Returns the length written.
 */
size_t xf_time_clamp(const u_char *p, size_t len, const xf_time_field_t *t,
    size_t n, int64_t limit, int64_t now, u_char *dst);


/*
 * 1 when id is a placeholder, not an id: it equals one of list[0..n),
 * ASCII case aside, after surrounding quotes and blanks are removed,
 * or is empty.
 */
int xf_placeholder_id(const xf_str_t *id, const xf_str_t *list, size_t n);

/*
 * The first of the id fields of an event of format f (xf_format_ids(f))
 * that is a string, not empty and no placeholder (xf_placeholder_id()
 * with list[0..n)), unescaped into buf (room for len bytes: no value is
 * longer than the event): 1 with *id set, 0 when there is none.  What
 * stands in for a placeholder distinct id: a user id of "null" beside a
 * real device id is that device's.
 */
int xf_placeholder_other(xf_format_t f, const u_char *p, size_t len,
    const xf_str_t *list, size_t n, u_char *buf, xf_str_t *id);

/* The default list, PostHog's (its capture service's): NULL-ended. */
extern const char *const  xf_placeholder_ids[];

#endif /* XF_HYGIENE_H */
