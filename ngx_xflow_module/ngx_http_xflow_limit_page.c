/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_limit_page.c - the limit report as a page a person
 * reads: what a browser gets from the xflow_limit_report location (it
 * asks for text/html), while curl and scripts keep getting the JSON.
 *
 * The page is static: it fetches the same location's JSON
 * (?format=json) every 5 s and draws, per zone, the policy, how full the
 * table is, the decisions of the last minute and since start, enforced
 * beside dry run, and the top keys in a table sorted by any column.  No
 * script or style from elsewhere: the page works on an isolated network.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_limit_module.h"


static const char  ngx_http_xflow_limit_page[] =
NGX_HTTP_XFLOW_PAGE_HEAD("xflow rate limits")
".dry b{color:#a15c00}.enf b{color:#b42318}.ok b{color:#1a7f37}\n"
"table{border-collapse:collapse;margin-top:.4em;min-width:40em}\n"
"th,td{border-bottom:1px solid #e4e7ec;padding:.25em .6em;"
"text-align:right}\n"
"th:first-child,td:first-child{text-align:left;font-family:monospace}\n"
"th{cursor:pointer;background:#f4f6f9;user-select:none}\n"
"th.sorted::after{content:' \\2193'}\n"
".bar{background:#e4e7ec;height:6px;border-radius:3px;width:12em;"
"display:inline-block;vertical-align:middle}\n"
".bar i{display:block;height:6px;border-radius:3px;background:#3b6fd8}\n"
"</style></head><body>\n"
"<h1>xflow rate limits</h1>\n"
"<div class=\"meta\" id=\"when\">loading&hellip;</div>\n"
"<div id=\"zones\"></div>\n"
"<script>\n"
"'use strict';\n"
"const sortBy = {};\n"
NGX_HTTP_XFLOW_PAGE_EL
"function card(cls, label, value) {\n"
"  const c = el('div', {class: 'card ' + cls});\n"
"  c.append(el('b', {}, value.toLocaleString()), label);\n"
"  return c;\n"
"}\n"
"function keys(z, box) {\n"
"  const cols = [['key', 'key'], ['rejected', 'rejected (enforced)'],\n"
"    ['rejected_dry_run', 'would be rejected (dry run)'],\n"
"    ['passed', 'passed']];\n"
"  const by = sortBy[z.name] || 'rejected_dry_run';\n"
"  const rows = z.top.slice().sort((a, b) => by === 'key'\n"
"    ? String(a.key).localeCompare(String(b.key)) : b[by] - a[by]);\n"
"  const t = el('table'), hr = el('tr');\n"
"  for (const [k, label] of cols) {\n"
"    const th = el('th', k === by ? {class: 'sorted'} : {}, label);\n"
"    th.onclick = () => { sortBy[z.name] = k; draw(last); };\n"
"    hr.append(th);\n"
"  }\n"
"  t.append(hr);\n"
"  for (const r of rows) {\n"
"    const tr = el('tr');\n"
"    for (const [k] of cols) tr.append(el('td', {},\n"
"      k === 'key' ? r[k] : Number(r[k]).toLocaleString()));\n"
"    t.append(tr);\n"
"  }\n"
"  if (!rows.length) {\n"
"    box.append(el('p', {class: 'meta'}, 'No key was refused.'));\n"
"  } else {\n"
"    box.append(t);\n"
"  }\n"
"}\n"
"let last = null;\n"
"function draw(d) {\n"
"  last = d;\n"
"  const root = document.getElementById('zones');\n"
"  root.textContent = '';\n"
"  for (const z of d.zones) {\n"
"    const box = el('section');\n"
"    box.append(el('h2', {}, z.name));\n"
"    box.append(el('div', {class: 'meta'}, 'key ' + z.key + ', '\n"
"      + z.rate + ' ' + z.unit + ' per ' + z.per + ', burst ' + z.burst\n"
"      + (z.overflow ? ', over it: to ' + z.overflow\n"
"                    : ', over it: the retry status')));\n"
"    const used = z.table.capacity\n"
"      ? z.table.used / z.table.capacity : 0;\n"
"    const bar = el('span', {class: 'bar'});\n"
"    const fill = el('i');\n"
"    fill.style.width = Math.round(used * 100) + '%';\n"
"    bar.append(fill);\n"
"    const tb = el('div', {class: 'meta'});\n"
"    tb.append('table ', bar, ' ' + z.table.used.toLocaleString()\n"
"      + ' of ' + z.table.capacity.toLocaleString() + ' keys, '\n"
"      + z.table.active.toLocaleString() + ' active');\n"
"    box.append(tb);\n"
"    for (const [span, s] of [['last minute', z.last_minute],\n"
"                             ['since start', z.total]]) {\n"
"      const cs = el('div', {class: 'cards'});\n"
"      cs.append(el('div', {class: 'meta'}, span));\n"
"      cs.append(card('ok', 'passed', s.passed),\n"
"        card('enf', 'rejected (enforced)', s.rejected),\n"
"        card('dry', 'would be rejected (dry run)', s.rejected_dry_run),\n"
"        card('', 'table full', s.table_full));\n"
"      box.append(cs);\n"
"    }\n"
"    keys(z, box);\n"
"    root.append(box);\n"
"  }\n"
"  if (!d.zones.length) root.append(el('p', {}, 'No limit zone.'));\n"
"  document.getElementById('when').textContent = 'as of '\n"
"    + new Date().toLocaleTimeString() + ' (refreshed every 5 s; '\n"
"    + 'the JSON: ?format=json)';\n"
"}\n"
NGX_HTTP_XFLOW_PAGE_LOAD("5000");


/*
 * The page for a browser: it asks for text/html first and did not ask
 * for the JSON by name.
 */
ngx_int_t
ngx_http_xflow_limit_page_wanted(ngx_http_request_t *r)
{
    ngx_str_t         value;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) == NGX_OK) {
        return value.len == 4 && ngx_strncmp(value.data, "html", 4) == 0;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 6
            && ngx_strncasecmp(h[i].key.data, (u_char *) "accept", 6) == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "text/html", 9 - 1)
               != NULL)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_xflow_limit_page_send(ngx_http_request_t *r)
{
    return ngx_http_xflow_send_page(r, ngx_http_xflow_limit_page);
}
