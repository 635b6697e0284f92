/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_bot.h - User-Agents of crawlers, monitoring probes and headless
 * browsers: a request whose User-Agent holds one of the patterns (ASCII
 * case aside) is a bot's, unless it is a server-side SDK's (posthog-node
 * and the like send events on behalf of real users, from a server).
 */

#ifndef XF_BOT_H
#define XF_BOT_H

#include "xf_core.h"
#include "xf_format.h"


/* The shipped patterns and server SDK signatures, NULL-ended, lower
   case (docs/data-teams.md lists them). */
extern const char *const  xf_bot_patterns[];
extern const char *const  xf_bot_servers[];

/*
 * The pattern of patterns[0..n) the User-Agent ua holds, ASCII case
 * aside (patterns must be lower case): its index, or -1 for none or for
 * a User-Agent that holds one of servers[0..nservers).  Cost: one pass
 * per pattern over a lower-cased copy of at most 512 bytes of ua.
 */
ssize_t xf_bot_match(const xf_str_t *ua, const xf_str_t *patterns, size_t n,
    const xf_str_t *servers, size_t nservers);

#endif /* XF_BOT_H */
