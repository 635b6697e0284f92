/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_bots_page.c - the bot report as a page a person reads:
 * what a browser gets from the xflow_bot_report location (the limit
 * report's rule: ngx_http_xflow_limit_page_wanted()), while curl and
 * scripts keep getting the JSON.
 *
 * The page is static, as the limit report's: it fetches the same
 * location's JSON (?format=json) every 5 s and draws what xflow_bots
 * decided, enforced beside dry run, and the top bot User-Agents and ASNs
 * in tables sorted by any column.  No script or style from elsewhere.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_util.h"


static const char  ngx_http_xflow_bot_page[] =
NGX_HTTP_XFLOW_PAGE_HEAD("xflow bots")
".dry b{color:#a15c00}.enf b{color:#b42318}\n"
"table{border-collapse:collapse;margin-top:.4em;min-width:40em}\n"
"th,td{border-bottom:1px solid #e4e7ec;padding:.25em .6em;"
"text-align:right}\n"
"th:first-child,td:first-child,.t{text-align:left;"
"font-family:monospace}\n"
"th{cursor:pointer;background:#f4f6f9;user-select:none}\n"
"th.sorted::after{content:' \\2193'}\n"
"</style></head><body>\n"
"<h1>xflow bots</h1>\n"
"<div class=\"meta\" id=\"when\">loading&hellip;</div>\n"
"<div class=\"cards\" id=\"cards\"></div>\n"
"<h2>Top bot User-Agents</h2><div id=\"ua\"></div>\n"
"<h2>Top ASNs of bots</h2><div id=\"asn\"></div>\n"
"<script>\n"
"'use strict';\n"
"const sortBy = {ua: 'requests', asn: 'requests'};\n"
"let last = null;\n"
NGX_HTTP_XFLOW_PAGE_EL
"function table(id, rows, cols, none) {\n"
"  const box = document.getElementById(id), by = sortBy[id];\n"
"  box.textContent = '';\n"
"  if (!rows.length) {\n"
"    box.append(el('p', {class: 'meta'}, none));\n"
"    return;\n"
"  }\n"
"  const t = el('table'), hr = el('tr');\n"
"  for (const [k, label] of cols) {\n"
"    const cls = (k === by ? 'sorted ' : '')\n"
"      + (typeof rows[0][k] === 'number' ? '' : 't');\n"
"    const th = el('th', {class: cls}, label);\n"
"    th.onclick = () => { sortBy[id] = k; draw(last); };\n"
"    hr.append(th);\n"
"  }\n"
"  t.append(hr);\n"
"  rows = rows.slice().sort((a, b) => typeof a[by] === 'number'\n"
"    ? b[by] - a[by] : String(a[by]).localeCompare(String(b[by])));\n"
"  for (const r of rows) {\n"
"    const tr = el('tr');\n"
"    for (const [k] of cols) tr.append(el('td',\n"
"      typeof r[k] === 'number' ? {} : {class: 't'},\n"
"      typeof r[k] === 'number' ? r[k].toLocaleString() : String(r[k])));\n"
"    t.append(tr);\n"
"  }\n"
"  box.append(t);\n"
"}\n"
"function draw(d) {\n"
"  last = d;\n"
"  const cs = document.getElementById('cards');\n"
"  cs.textContent = '';\n"
"  for (const k of ['mark', 'route', 'drop']) {\n"
"    for (const [pre, cls, what] of [['', 'enf', ''],\n"
"                                    ['dry_run_', 'dry', ' (dry run)']]) {\n"
"      const c = el('div', {class: 'card ' + cls});\n"
"      c.append(el('b', {}, d.decisions[pre + k].toLocaleString()),\n"
"               k + what);\n"
"      cs.append(c);\n"
"    }\n"
"  }\n"
"  table('ua', d.user_agents, [['user_agent', 'User-Agent'],\n"
"    ['why', 'pattern or AS'], ['requests', 'requests'],\n"
"    ['error', 'overcount at most']], 'No bot seen.');\n"
"  table('asn', d.asns.map(a => Object.assign({}, a,\n"
"    {asn: 'AS' + a.asn, listed: a.listed ? 'yes' : 'no'})),\n"
"    [['asn', 'ASN'],\n"
"    ['listed', 'in xflow_bot_asns'], ['requests', 'requests'],\n"
"    ['error', 'overcount at most']],\n"
"    'No AS known for the bots seen (no ASN database, or local addresses).');\n"
"  document.getElementById('when').textContent = d.requests\n"
"    .toLocaleString() + ' bot requests since start, as of '\n"
"    + new Date().toLocaleTimeString() + ' (refreshed every 5 s; '\n"
"    + 'the JSON: ?format=json)';\n"
"}\n"
NGX_HTTP_XFLOW_PAGE_LOAD("5000");


ngx_int_t
ngx_http_xflow_bot_page_send(ngx_http_request_t *r)
{
    return ngx_http_xflow_send_page(r, ngx_http_xflow_bot_page);
}
