/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xf_bot.c - bot User-Agents (xf_bot.h).
 */

#include <string.h>

#include "xf_bot.h"


const char *const  xf_bot_patterns[] = {
    /* headless and automated browsers */
    "headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium",
    "webdriver", "slimerjs", "electron/", "cypress",
    /* crawlers */
    "googlebot", "bingbot", "bingpreview", "yandexbot", "baiduspider",
    "duckduckbot", "slurp", "applebot", "petalbot", "ahrefsbot",
    "semrushbot", "mj12bot", "dotbot", "bytespider", "gptbot",
    "claudebot", "ccbot", "amazonbot", "facebookexternalhit",
    "twitterbot", "linkedinbot", "slackbot", "discordbot", "telegrambot",
    "whatsapp", "crawler", "spider", "bot/", "bot;", "+http",
    /* monitoring and performance probes */
    "uptimerobot", "pingdom", "statuscake", "site24x7",
    "datadogsynthetics", "newrelicpinger", "checkly", "lighthouse",
    "pagespeed", "gtmetrix", "chrome-lighthouse",
    /* scripts */
    "python-requests", "python-urllib", "go-http-client", "wget/",
    "libwww-perl", "scrapy",
    NULL
};


/* Server-side SDKs: never bots, whatever else their User-Agent holds. */
const char *const  xf_bot_servers[] = {
    "posthog-node", "posthog-python", "posthog-ruby", "posthog-go",
    "posthog-java", "posthog-php", "analytics-node", "analytics-python",
    "analytics-ruby", "analytics-go", "analytics-java", "sensorsdata",
    "sensorsanalytics", "mixpanel-node", "mixpanel-python",
    "amplitude-node", "amplitude-python", "rudder-sdk-node", "snowplow",
    NULL
};


static int
xf_bot_has(const u_char *low, size_t len, const xf_str_t *p)
{
    return p->len && p->len <= len
           && memmem(low, len, p->data, p->len) != NULL;
}


ssize_t
xf_bot_match(const xf_str_t *ua, const xf_str_t *patterns, size_t n,
    const xf_str_t *servers, size_t nservers)
{
    u_char  low[512];
    size_t  i, len;

    len = xf_min(ua->len, sizeof(low));

    for (i = 0; i < len; i++) {
        low[i] = (ua->data[i] >= 'A' && ua->data[i] <= 'Z')
                 ? ua->data[i] + 32 : ua->data[i];
    }

    for (i = 0; i < nservers; i++) {
        if (xf_bot_has(low, len, &servers[i])) {
            return -1;
        }
    }

    for (i = 0; i < n; i++) {
        if (xf_bot_has(low, len, &patterns[i])) {
            return (ssize_t) i;
        }
    }

    return -1;
}
