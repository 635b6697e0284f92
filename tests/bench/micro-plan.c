/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro-plan.c - what the catalog, a 500-event tracking plan, ten kill
 * switches and 200 bot patterns add to each event.  Not a test: prints
 * numbers for docs/benchmarks.md.  Instructions come from callgrind, run
 * twice with different counts so that the set-up cancels out: `make
 * bench-plan` builds it (build/micro-plan STAGE N) and runs each stage.
 *
 * STAGE: none (the loop alone), catalog, plan, kill, all (those three),
 * bots (the indexed set of 200 patterns and the server signatures
 * against a browser's User-Agent: no match, so every byte is read),
 * bots-scan (the same patterns looked for one by one, memmem each, as
 * the match was before the set) and all-bots (all and bots).  The event
 * is the bench's 314-byte page view (tests/bench/payloads/event300.json)
 * with its properties, named after one of 64 of the plan's events.  The
 * bot check is done once per request; here once per event, as for
 * uploads of one event.  `make bench-plan` runs every stage.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_catalog.h"
#include "xf_plan.h"
#include "xf_hygiene.h"
#include "xf_bot.h"


/* A browser's User-Agent, as the bench's realmix sends (no bot). */
static const char  ua[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/* Words of made-up operator patterns: crawler and probe names. */
static const char *const  words[] = {
    "acme", "brightscan", "crawlco", "datapull", "echoprobe", "fetchly",
    "grabber", "harvest", "indexer", "jetcheck", "kiteprobe", "linkwalk",
    "metricsping", "netsurvey", "orbitscan", "pagewatch", "quickfetch",
    "rankspy", "sitecheck", "trawler", "uptimer", "vigil", "webgauge",
    "xscan", "yieldbot", "zonewatch"
};


/* The plain scan the set replaced: every pattern looked for in turn. */
static ssize_t
bots_scan(const xf_str_t *p, size_t n, const xf_str_t *s, size_t ns,
    const u_char *u, size_t len)
{
    u_char  low[XF_BOT_UA_MAX];
    size_t  i;

    len = len < sizeof(low) ? len : sizeof(low);

    for (i = 0; i < len; i++) {
        low[i] = u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i];
    }

    for (i = 0; i < ns; i++) {
        if (memmem(low, len, s[i].data, s[i].len)) {
            return XF_BOT_SERVER;
        }
    }

    for (i = 0; i < n; i++) {
        if (memmem(low, len, p[i].data, p[i].len)) {
            return (ssize_t) i;
        }
    }

    return -1;
}


static const char  event[] =
    "{\"event\":\"page_view\",\"ts\":1732492800123,"
    "\"uid\":\"u-30877432d1026706\",\"sid\":\"s-d7e805da846a\","
    "\"url\":\"https://shop.example.com/p/32c3bb81?ref=home&pos=0\","
    "\"ref\":\"https://www.example.org/search?q=e3c29b\","
    "\"ua\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "Chrome/120.0 Safari/537.36\",\"properties\":{\"price\":57.74,"
    "\"qty\":1,\"url\":\"/p/32c3bb81\",\"ref\":\"home\"}}";


int
main(int argc, char **argv)
{
    char               *text, names[64][16], tok[10][64];
    void               *mem;
    size_t              i, len, n, line, size;
    uint64_t            sum;
    xf_str_t            app, name, toks[10][2];
    xf_plan_t          *plan;
    xf_catalog_t       *cat;
    xf_kill_rule_t      rules[10];
    xf_kill_event_t     kev;
    xf_plan_result_t    res;
    xf_catalog_event_t  cev;
    const char         *stage;
    char                err[256], made[200][24];
    size_t              np, ns;
    xf_str_t            pats[200], servers[64], uas;
    xf_bot_set_t        set;

    stage = argc > 1 ? argv[1] : "all";
    n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;

    /* 500 events, each with a required number and three typed ones */
    text = malloc(256 * 1024);
    len = (size_t) sprintf(text, "{\"apps\": {\"shop\": {\"tier\": \"t\", "
                           "\"events\": {");

    for (i = 0; i < 500; i++) {
        len += (size_t) sprintf(text + len,
            "%s\"e%03zu\": {\"required\": [\"price\"], \"properties\": "
            "{\"price\": {\"type\": \"number\"}, \"qty\": {\"type\": "
            "\"integer\"}, \"url\": {\"type\": \"string\"}, \"ref\": "
            "{\"type\": [\"string\", \"null\"]}}}", i ? "," : "", i);
    }

    sprintf(text + len, "}}}}");

    if (xf_plan_parse((u_char *) text, strlen(text), &xf_alloc_libc, &plan,
                      err, sizeof(err), &line)
        != XF_OK)
    {
        fprintf(stderr, "plan: %zu: %s\n", line, err);
        return 1;
    }

    for (i = 0; i < 10; i++) {
        snprintf(tok[i], sizeof(tok[i]), "app=killed%zu", i);
        toks[i][0].data = (u_char *) tok[i];
        toks[i][0].len = strlen(tok[i]);
        toks[i][1].data = (u_char *) "drop";
        toks[i][1].len = 4;

        if (xf_kill_parse(toks[i], 2, &xf_alloc_libc, &rules[i], err,
                          sizeof(err))
            != XF_OK)
        {
            fprintf(stderr, "kill: %s\n", err);
            return 1;
        }
    }

    /* 200 patterns: the shipped ones, then made-up ones to 200 */
    for (np = 0; xf_bot_patterns[np]; np++) {
        pats[np].data = (const u_char *) xf_bot_patterns[np];
        pats[np].len = strlen(xf_bot_patterns[np]);
    }

    for (i = 0; np < 200; np++, i++) {
        snprintf(made[i], sizeof(made[i]), "%s-%zu/",
                 words[i % (sizeof(words) / sizeof(words[0]))], i);
        pats[np].data = (const u_char *) made[i];
        pats[np].len = strlen(made[i]);
    }

    for (ns = 0; xf_bot_servers[ns]; ns++) {
        servers[ns].data = (const u_char *) xf_bot_servers[ns];
        servers[ns].len = strlen(xf_bot_servers[ns]);
    }

    if (xf_bot_set_build(&set, pats, np, servers, ns, &xf_alloc_libc)
        != XF_OK)
    {
        fprintf(stderr, "bots: cannot build the set\n");
        return 1;
    }

    uas.data = (const u_char *) ua;
    uas.len = sizeof(ua) - 1;

    size = xf_catalog_size_for(3445);
    mem = calloc(1, size);
    cat = xf_catalog_init(mem, size, 1, 1);

    for (i = 0; i < 64; i++) {
        snprintf(names[i], sizeof(names[i]), "e%03zu", i * 7);
    }

    app.data = (u_char *) "shop";
    app.len = 4;
    sum = 0;

    for (i = 0; i < n; i++) {
        name.data = (u_char *) names[i & 63];
        name.len = 4;

        if (strcmp(stage, "bots") == 0 || strcmp(stage, "all-bots") == 0) {
            sum += (uint64_t) (xf_bot_set_match(&set, &uas) + 2);
        }

        if (strcmp(stage, "bots-scan") == 0) {
            sum += (uint64_t) (bots_scan(pats, np, servers, ns, uas.data,
                                         uas.len) + 2);
        }

        if (strcmp(stage, "kill") == 0 || strcmp(stage, "all") == 0
            || strcmp(stage, "all-bots") == 0)
        {
            kev.app = app;
            kev.name = name;
            kev.distinct_id.data = (u_char *) "u-30877432d1026706";
            kev.distinct_id.len = 18;
            kev.p = (const u_char *) event;
            kev.len = sizeof(event) - 1;
            sum += (uint64_t) (xf_kill_match(rules, 10, &kev) + 1);
        }

        res.verdict = XF_CATALOG_PLAN_NONE;

        if (strcmp(stage, "plan") == 0 || strcmp(stage, "all") == 0
            || strcmp(stage, "all-bots") == 0)
        {
            xf_plan_check(plan, &app, &name, (const u_char *) event,
                          sizeof(event) - 1, &res);
            sum += res.verdict;
        }

        if (strcmp(stage, "catalog") == 0 || strcmp(stage, "all") == 0
            || strcmp(stage, "all-bots") == 0)
        {
            cev.app = app;
            cev.name = name;
            cev.format = XF_FMT_POSTHOG;
            cev.p = (const u_char *) event;
            cev.len = sizeof(event) - 1;
            cev.error = XF_OK;
            cev.plan = res.verdict;
            sum += xf_catalog_record(cat, &cev, i);
        }
    }

    printf("%s: %zu events, %llu\n", stage, n, (unsigned long long) sum);

    return 0;
}
