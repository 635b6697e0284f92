/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ngx_http_xflow_catalog_page.c - the xflow_catalog location: the
 * catalog as JSON for scripts, and as a page a person reads when a
 * browser asks for text/html (the limit report's rule, one function for
 * both: ngx_http_xflow_limit_page_wanted()).
 *
 * The page is static, as the limit report's: it fetches the same
 * location's JSON (?format=json) every 10 s and draws one table of what
 * arrives, sortable by any column and filtered by a text box, with each
 * event's properties and their types under it.  No script or style from
 * elsewhere: the page works on an isolated network.
 */

#include "ngx_http_xflow_module.h"
#include "ngx_http_xflow_catalog_module.h"
#include "ngx_http_xflow_limit_module.h"
#include "ngx_http_xflow_util.h"


static const char  ngx_http_xflow_catalog_page[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>xflow event catalog</title>\n"
"<style>\n"
"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}\n"
"h1{font-size:20px;margin:0 0 .2em}\n"
".meta{color:#5b6475;margin:.2em 0 .6em}\n"
".cards{display:flex;gap:.6em;flex-wrap:wrap;margin:.4em 0}\n"
".card{border:1px solid #d5dae3;border-radius:6px;padding:.4em .8em;"
"min-width:9em}\n"
".card b{display:block;font-size:18px}\n"
".bad b{color:#b42318}.ok b{color:#1a7f37}\n"
"table{border-collapse:collapse;margin-top:.4em;min-width:60em}\n"
"th,td{border-bottom:1px solid #e4e7ec;padding:.25em .6em;"
"text-align:right;vertical-align:top}\n"
"th:nth-child(-n+3),td:nth-child(-n+3){text-align:left;"
"font-family:monospace}\n"
"th{cursor:pointer;background:#f4f6f9;user-select:none}\n"
"th.sorted::after{content:' \\2193'}\n"
"td.props{text-align:left;font-family:monospace;font-size:12px;"
"color:#5b6475}\n"
".warn{color:#b42318}\n"
"input{font:inherit;padding:.2em .4em;width:20em}\n"
"</style></head><body>\n"
"<h1>xflow event catalog</h1>\n"
"<div class=\"meta\" id=\"when\">loading&hellip;</div>\n"
"<div class=\"cards\" id=\"cards\"></div>\n"
"<input id=\"filter\" placeholder=\"filter: app, format or event\">\n"
"<div id=\"rows\"></div>\n"
"<script>\n"
"'use strict';\n"
"let sortBy = 'events', last = null;\n"
"const cols = [['app', 'app'], ['format', 'format'], ['event', 'event'],\n"
"  ['events', 'events'], ['bytes', 'bytes'], ['avg', 'bytes/event'],\n"
"  ['invalid', 'invalid'], ['conforms', 'plan: conforms'],\n"
"  ['unknown', 'plan: unknown'], ['nonconforming', 'plan: invalid'],\n"
"  ['first_seen', 'first seen'], ['last_seen', 'last seen']];\n"
"const text = new Set(['app', 'format', 'event']);\n"
"function el(tag, attrs, t) {\n"
"  const e = document.createElement(tag);\n"
"  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);\n"
"  if (t !== undefined) e.textContent = t;\n"
"  return e;\n"
"}\n"
"function card(cls, label, value) {\n"
"  const c = el('div', {class: 'card ' + cls});\n"
"  c.append(el('b', {}, value.toLocaleString()), label);\n"
"  return c;\n"
"}\n"
"function when(s) {\n"
"  return s ? new Date(s * 1000).toLocaleString() : '';\n"
"}\n"
"function row(e) {\n"
"  return Object.assign({}, e, {\n"
"    avg: e.events ? Math.round(e.bytes / e.events) : 0,\n"
"    conforms: e.plan.conforms, unknown: e.plan.unknown,\n"
"    nonconforming: e.plan.invalid});\n"
"}\n"
"function draw(d) {\n"
"  last = d;\n"
"  const cs = document.getElementById('cards');\n"
"  cs.textContent = '';\n"
"  cs.append(card('ok', 'events', d.events), card('', 'bytes', d.bytes),\n"
"    card('bad', 'invalid', d.invalid),\n"
"    card('', 'entries of ' + d.capacity.toLocaleString(), d.used),\n"
"    card('', 'evicted', d.evicted));\n"
"  const f = document.getElementById('filter').value.toLowerCase();\n"
"  const rows = d.entries.map(row).filter(e => !f\n"
"    || (e.app + ' ' + e.format + ' ' + e.event).toLowerCase()\n"
"       .includes(f));\n"
"  rows.sort((a, b) => text.has(sortBy)\n"
"    ? String(a[sortBy]).localeCompare(String(b[sortBy]))\n"
"    : b[sortBy] - a[sortBy]);\n"
"  const t = el('table'), hr = el('tr');\n"
"  for (const [k, label] of cols) {\n"
"    const th = el('th', k === sortBy ? {class: 'sorted'} : {}, label);\n"
"    th.onclick = () => { sortBy = k; draw(last); };\n"
"    hr.append(th);\n"
"  }\n"
"  t.append(hr);\n"
"  for (const r of rows) {\n"
"    const tr = el('tr');\n"
"    for (const [k] of cols) {\n"
"      const v = r[k];\n"
"      const s = text.has(k) ? v : k.endsWith('_seen') ? when(v)\n"
"        : Number(v).toLocaleString();\n"
"      const td = el('td', {}, s);\n"
"      if ((k === 'invalid' || k === 'nonconforming'\n"
"           || k === 'unknown') && v > 0) td.className = 'warn';\n"
"      if (k === 'invalid' && v > 0) td.title = JSON.stringify(r.reasons);\n"
"      tr.append(td);\n"
"    }\n"
"    t.append(tr);\n"
"    if (r.properties.length) {\n"
"      const pr = el('tr');\n"
"      pr.append(el('td', {}, ''));\n"
"      pr.append(el('td', {class: 'props', colspan: cols.length - 1},\n"
"        r.properties.map(p => p.name + ': ' + p.types.join('|')\n"
"          + ' (' + p.count.toLocaleString() + ')').join(', ')));\n"
"      t.append(pr);\n"
"    }\n"
"  }\n"
"  const box = document.getElementById('rows');\n"
"  box.textContent = '';\n"
"  box.append(rows.length ? t : el('p', {class: 'meta'},\n"
"    'No event arrived yet.'));\n"
"  document.getElementById('when').textContent = 'as of '\n"
"    + new Date().toLocaleTimeString() + ', since ' + when(d.started)\n"
"    + ' (refreshed every 10 s; the JSON: ?format=json)';\n"
"}\n"
"document.getElementById('filter').oninput = () => last && draw(last);\n"
NGX_HTTP_XFLOW_PAGE_LOAD("10000");


ngx_int_t
ngx_http_xflow_catalog_handler(ngx_http_request_t *r)
{
    u_char                              *copy, *dst;
    size_t                               size;
    ngx_int_t                            rc;
    ngx_str_t                            arg;
    xf_str_t                             app;
    xf_alloc_t                           a;
    ngx_slab_pool_t                     *shpool;
    xf_buf_t                             out;
    ngx_http_xflow_catalog_main_conf_t  *cmcf;

    rc = ngx_http_xflow_read_only(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_xflow_limit_page_wanted(r)) {
        return ngx_http_xflow_send_page(r, ngx_http_xflow_catalog_page);
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_xflow_catalog_module);

    if (cmcf->cat == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    app.data = NULL;
    app.len = 0;

    if (ngx_http_arg(r, (u_char *) "app", 3, &arg) == NGX_OK && arg.len) {
        dst = ngx_pnalloc(r->pool, arg.len);
        if (dst == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        app.data = dst;
        ngx_unescape_uri(&dst, &arg.data, arg.len, NGX_UNESCAPE_URI);
        app.len = dst - app.data;
    }

    /* a copy under the lock; the JSON from the copy, without it */
    shpool = (ngx_slab_pool_t *) cmcf->shm_zone->shm.addr;
    size = xf_catalog_size(cmcf->cat);

    copy = ngx_palloc(r->pool, size);
    if (copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);
    ngx_memcpy(copy, cmcf->cat, size);
    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_xflow_pool_allocator(&a, r->pool);
    ngx_memzero(&out, sizeof(xf_buf_t));

    if (xf_catalog_render((xf_catalog_t *) copy, &app, (uint64_t) ngx_time(),
                          &out, &a)
        != XF_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_xflow_send_json(r, NGX_HTTP_OK, out.p, out.len);
}
