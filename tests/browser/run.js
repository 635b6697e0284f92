#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// make test-browser: the real browser SDKs of seven families (Sensors
// Data, PostHog, Mixpanel, Amplitude, Segment, RudderStack, Snowplow),
// from npm, in Debian's Chromium, sending to xflow across origins.
//
//   page  http://127.0.0.1:<page port>/   this directory's page.html and
//                                        the SDK bundles (node_modules;
//                                        Segment's built here by esbuild)
//   xflow http://127.0.0.1:<xflow port>/  Debian's nginx with
//                                        build/ngx_xflow_module.so
//   Kafka build/xflow-devbroker           read back with kcat
//
// Each mode gets a fresh browser context.  The page loads the SDK, sends a
// page view and custom events whose properties hold nested objects,
// arrays, Chinese text, an emoji and quoting characters; the last event
// goes as the page is left (sendBeacon) in the modes that send that way;
// then the page is loaded again (SDKs re-send what they kept).  Then every
// event of the run must be in Kafka exactly once, with its properties,
// and the browser must have seen no CORS error, no failed upload and no
// request to any origin but the page's and xflow's (no CDN, no remote
// configuration: the machine has no internet, and neither must the SDKs).
//
// record.js (make record-captures) drives the same page against a
// recording server instead, through runMode.
//
// Environment: XFLOW_MODULE, NGINX_BIN, CHROMIUM, XF_BROWSER_MODES
// (e.g. "sensors:ajax,posthog:default"), XF_TEST_KEEP=1 keeps the
// temporary directory.

'use strict';

const assert = require('assert');
const crypto = require('crypto');
const childProcess = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const here = __dirname;
const root = path.resolve(here, '../..');
const moduleSo = process.env.XFLOW_MODULE || path.join(root, 'build/ngx_xflow_module.so');
const devbroker = path.join(root, 'build/xflow-devbroker');
const nginxBin = process.env.NGINX_BIN || '/usr/sbin/nginx';
const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';

const MODES = [
  // sdk, mode, when the last event is tracked (page.html: shop()):
  //   now       with the others
  //   pagehide  as the page goes away (Sensors' beacon mode: sendBeacon)
  //   queued    right before leaving: PostHog flushes its queue by
  //             sendBeacon on page exit
  ['sensors', 'ajax', 'now'],
  ['sensors', 'beacon', 'pagehide'],
  ['sensors', 'image', 'now'],
  ['sensors', 'batch', 'now'],
  ['posthog', 'default', 'queued'],
  ['posthog', 'nocompress', 'queued'],
  // mixpanel-browser: batch (XHR POST, verbose=1), one request per event
  // by XHR POST with base64 data= (xhr) or JSON data= (json), XHR GET,
  // an <img> GET (image), sendBeacon (beacon)
  ['mixpanel', 'batch', 'now'],
  ['mixpanel', 'xhr', 'now'],
  ['mixpanel', 'json', 'now'],
  ['mixpanel', 'get', 'now'],
  ['mixpanel', 'image', 'now'],
  ['mixpanel', 'beacon', 'now'],
  // @amplitude/analytics-browser: fetch, XHR, sendBeacon, gzip
  // (CompressionStream), the Batch API endpoint
  ['amplitude', 'fetch', 'now'],
  ['amplitude', 'xhr', 'now'],
  ['amplitude', 'beacon', 'now'],
  ['amplitude', 'gzip', 'now'],
  ['amplitude', 'batch', 'now'],
  // @segment/analytics-next: one fetch per call, or batches to /b
  ['segment', 'standard', 'now'],
  ['segment', 'batching', 'now'],
  // @rudderstack/analytics-js: XHR per call, XHR batches, beacons
  ['rudderstack', 'xhr', 'now'],
  ['rudderstack', 'batch', 'now'],
  ['rudderstack', 'beacon', 'now'],
  // @snowplow/browser-tracker: POST, GET, buffered POST, keepalive fetch
  ['snowplow', 'post', 'now'],
  ['snowplow', 'get', 'now'],
  ['snowplow', 'batch', 'now'],
  ['snowplow', 'keepalive', 'now'],
];

// Snowplow's self-describing data (and the page view's context entity)
// carries the test's properties; its tp2 fields are strings, ue_px/cx
// base64url.
function spJson(ev, plain, b64) {
  if (typeof ev[plain] === 'string') return JSON.parse(ev[plain]);
  if (typeof ev[b64] === 'string') {
    return JSON.parse(Buffer.from(ev[b64].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  }
  return null;
}
function spData(ev) {
  try {
    if (ev.e === 'ue') return spJson(ev, 'ue_pr', 'ue_px').data.data;
    const co = spJson(ev, 'co', 'cx');
    const mine = co && co.data.find((c) => /com\.xflow\/browser_test/.test(c.schema));
    return mine ? mine.data : null;
  } catch (e) {
    return null;
  }
}

// A write key sent as HTTP Basic credentials (Segment's and RudderStack's
// XHR uploads) is never the app as sent: xflow names it "wk:" and the
// first 128 bits of its SHA-256 in base64url (core/xf_format_segment.c).
function isApp(rec, app) {
  if (app === rec.app) return true;
  const fp = crypto.createHash('sha256').update(rec.app).digest().subarray(0, 16);
  return app === `wk:${fp.toString('base64url')}`;
}

// Per SDK: the app each mode sends as (events are told apart by it), the
// format xflow names in the envelope, where an event keeps its
// properties and name, and the SDK's own id of an event.
const SDKS = {
  sensors: { src: 'sensors', app: (m) => `xf_${runId}_${m}`,
             props: (ev) => ev.properties, name: (ev) => ev.event,
             key: (ev) => `${ev.type}/${ev.event}/${ev._track_id}` },
  posthog: { src: 'posthog', app: (m) => `phc_xf${runId}${m}0123456789abcdef`,
             props: (ev) => ev.properties, name: (ev) => ev.event,
             key: (ev) => ev.uuid },
  mixpanel: { src: 'mixpanel', app: (m) => `mp${runId}${m}`,
              props: (ev) => ev.properties,
              name: (ev) => (ev.event === '$mp_web_page_view' ? '$pageview' : ev.event),
              key: (ev) => (ev.properties && ev.properties.$insert_id) || JSON.stringify(ev) },
  amplitude: { src: 'amplitude', app: (m) => `amp${runId}${m}`,
               props: (ev) => ev.event_properties, name: (ev) => ev.event_type,
               key: (ev) => ev.insert_id },
  segment: { src: 'segment', app: (m) => `seg${runId}${m}`,
             props: (ev) => ev.properties,
             name: (ev) => (ev.type === 'page' ? ev.name : ev.event),
             key: (ev) => ev.messageId },
  rudderstack: { src: 'segment', app: (m) => `rs${runId}${m}`,
                 props: (ev) => ev.properties,
                 name: (ev) => (ev.type === 'page' ? ev.name : ev.event),
                 key: (ev) => ev.messageId },
  snowplow: { src: 'snowplow', app: (m) => `sp${runId}${m}`,
              props: spData, name: (ev) => (spData(ev) || {}).name,
              key: (ev) => ev.eid },
};

// What every event carries besides xf_test_id.
const PROPS = {
  city: '上海',
  note: '中文测试：下单成功，谢谢！',
  emoji: '🎉 party 👍🏽',
  quoting: 'a "quoted" word, a \\ backslash,\na newline and\ta tab',
  cart: {
    items: [
      { sku: 'A-1', name: '苹果', qty: 2, price: 9.99 },
      { sku: 'B-2', name: 'Café ☕', qty: 1, price: 0.5 },
    ],
    total: 20.48,
    coupon: { code: '春节', percent: 10 },
  },
  tags: ['新品', 'sale', '🔥'],
  flag: true,
  count: 3,
};

const EVENTS = ['$pageview', 'product_viewed', 'add_to_cart', 'order_completed'];

const runId = Date.now().toString(36) + process.pid.toString(36);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xflow-browser-'));
fs.chmodSync(tmp, 0o755);

const children = [];
let failures = 0;

function log(...a) { console.log(...a); }
function fail(msg) { failures++; console.log('FAIL ' + msg); }
let passes = 0;
function ok(msg) { passes++; console.log('ok   ' + msg); }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(50);
  }
}

// ------------------------------------------------------------ services

async function startBroker() {
  const file = path.join(tmp, 'bootstrap');
  const out = fs.openSync(path.join(tmp, 'devbroker.out'), 'w');
  const p = childProcess.spawn(devbroker,
    ['--topics', 'events,xflow_dead_letter', '--bootstrap-file', file],
    { stdio: ['ignore', out, out] });
  children.push(p);
  await waitFor('the dev broker', () => fs.existsSync(file) && fs.statSync(file).size > 0);
  return fs.readFileSync(file, 'utf8').trim();
}

async function startNginx(brokers, port, pageOrigin) {
  const conf = `
load_module ${moduleSo};

worker_processes 2;
error_log ${tmp}/error.log info;
pid ${tmp}/nginx.pid;

events {
    worker_connections 1024;
}

http {
    client_body_temp_path ${tmp}/body;
    log_format xflow '$remote_addr "$request" $status $xflow_format '
                     '$xflow_app $xflow_events/$xflow_rejected $xflow_error '
                     '"$http_origin" "$http_content_type" "$http_content_encoding"';
    access_log ${tmp}/access.log xflow;
    large_client_header_buffers 8 16k;

    xflow_kafka_brokers ${brokers};
    xflow_kafka_conf linger.ms 1;
    xflow_topic events;
    xflow_dead_letter_topic xflow_dead_letter;
    xflow_cors_origins ${pageOrigin};

    server {
        listen 127.0.0.1:${port};

        location = /sa.gif { xflow_collect sensors; }
        location /e/ { xflow_collect posthog; }
        location /i/v0/e/ { xflow_collect posthog; }
        location /batch/ { xflow_collect posthog; }
        location /array/ { xflow_collect posthog; }
        location /flags/ { xflow_collect posthog; }
        location /decide/ { xflow_collect posthog; }
        location /mp/ { xflow_collect mixpanel; }
        location /amp/ { xflow_collect amplitude; }
        location /seg/ { xflow_collect segment; }
        location /rs/ { xflow_collect segment; }
        location /sp/ { xflow_collect snowplow; }
        location / { return 404; }
    }
}
`;
  const confPath = path.join(tmp, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  const args = ['-p', tmp + '/', '-c', confPath, '-e', path.join(tmp, 'error.log')];
  childProcess.execFileSync(nginxBin, ['-t', '-q', ...args], { stdio: 'inherit' });
  const out = fs.openSync(path.join(tmp, 'nginx.out'), 'w');
  const p = childProcess.spawn(nginxBin, [...args, '-g', 'daemon off;'],
    { stdio: ['ignore', out, out] });
  children.push(p);
  p.on('exit', (code) => { p.exited = true; p.code = code; });
  // ready: the master wrote its pid and both workers run (each makes its
  // Kafka producer before it accepts)
  await waitFor('nginx', () => {
    if (p.exited) throw new Error('nginx exited: ' + fs.readFileSync(path.join(tmp, 'error.log'), 'utf8'));
    try {
      const pid = fs.readFileSync(path.join(tmp, 'nginx.pid'), 'utf8').trim();
      const kids = childProcess.execFileSync('pgrep', ['-P', pid], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString().trim().split('\n');
      return kids.length >= 2;
    } catch (e) {
      return false;
    }
  });
  return p;
}

function startPageServer(port) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'application/javascript' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file;
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/') {
      file = path.join(here, 'page.html');
    } else if (url.pathname.startsWith('/bundle/')) {
      file = path.join(tmp, 'bundle', path.basename(url.pathname));
    } else if (url.pathname.startsWith('/nm/')) {
      file = path.join(here, 'node_modules', path.normalize(url.pathname.slice(4)).replace(/^(\.\.[/\\])+/, ''));
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream',
                         'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// Segment's package ships modules, no page script: bundle it here, from
// node_modules, with esbuild (a devDependency), into the temporary
// directory.
async function buildBundles() {
  const esbuild = require('esbuild');
  const entry = path.join(tmp, 'segment-entry.js');
  fs.writeFileSync(entry, "import { AnalyticsBrowser } from '@segment/analytics-next';\n" +
                          'window.AnalyticsBrowser = AnalyticsBrowser;\n');
  await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'iife', platform: 'browser',
    target: 'chrome100', outfile: path.join(tmp, 'bundle', 'segment.js'),
    nodePaths: [path.join(here, 'node_modules')], logLevel: 'warning',
  });
}

// ------------------------------------------------------------- browser

// Debian's Chromium, headless, and the User-Agent of its headed self.
async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    // an ordinary browser to the SDKs: no "HeadlessChrome", no webdriver
    ignoreDefaultArgs: ['--enable-automation'],
    args: ['--no-sandbox', '--headless=new', '--disable-gpu',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--disable-blink-features=AutomationControlled'],
  });
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ` +
                    `Chrome/${browser.version().split('.')[0]}.0.0.0 Safari/537.36`;
  return { browser, userAgent };
}

// Everything the browser did with xflow's origin, per mode.
function watch(context, pageOrigin, xflowOrigin, record) {
  const pending = new Set();
  context.on('request', (req) => {
    if (!req.url().startsWith(xflowOrigin)) {
      if (!req.url().startsWith(pageOrigin + '/') && !/^(data|blob|about):/.test(req.url()))
        record.external.push(`${req.method()} ${req.url().slice(0, 120)}`);
      return;
    }
    pending.add(req);
    record.requests.push({ method: req.method(), url: req.url().slice(xflowOrigin.length),
                           type: req.resourceType() });
  });
  context.on('requestfinished', async (req) => {
    if (!pending.delete(req)) return;
    const res = await req.response().catch(() => null);
    if (!res) return;
    const h = res.headers();
    record.responses.push({ method: req.method(), url: req.url().slice(xflowOrigin.length),
                            type: req.resourceType(),
                            status: res.status(), acao: h['access-control-allow-origin'],
                            acac: h['access-control-allow-credentials'] });
  });
  context.on('requestfailed', (req) => {
    if (!pending.delete(req)) return;
    record.failed.push({ method: req.method(), url: req.url().slice(xflowOrigin.length),
                         type: req.resourceType(), error: req.failure() && req.failure().errorText });
  });
  return {
    // no upload in flight for `ms`
    quiet: async (ms = 1000, max = 15000) => {
      const end = Date.now() + max;
      let since = Date.now();
      while (Date.now() < end) {
        if (pending.size > 0) since = Date.now();
        if (Date.now() - since >= ms) return;
        await sleep(50);
      }
    },
  };
}

// opts (record.js): app, the app to send as; sdkPaths, the SDKs at their
// default paths (page.html); phase(name), told as the run enters page,
// unload and revisit.
async function runMode(browser, userAgent, pageOrigin, xflowOrigin, sdk,
                       mode, exit, opts = {}) {
  const app = opts.app || SDKS[sdk].app(mode);
  const phase = opts.phase || (() => {});
  const record = { sdk, mode, app, requests: [], responses: [], failed: [], console: [],
                   errors: [], external: [] };
  const context = await browser.newContext({ userAgent });
  const net = watch(context, pageOrigin, xflowOrigin, record);
  const page = await context.newPage();
  page.on('console', (m) => record.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => record.errors.push(String(e)));

  const url = (ph) => `${pageOrigin}/?` + new URLSearchParams({
    sdk, mode, phase: ph, app, run: runId, target: xflowOrigin,
    props: JSON.stringify(PROPS),
    ...(opts.sdkPaths ? { paths: 'sdk' } : {}),
  });

  // page: view, two events, the last one now or at exit
  phase('page');
  await page.goto(url('page'));
  await page.waitForFunction(() => window.__xf.ready || window.__xf.errors.length, null,
                             { timeout: 15000 });
  Object.assign(record, await page.evaluate(() => {
    let config = null;
    try {
      config = JSON.parse(JSON.stringify(window.__xf.config));
    } catch (e) { /* cyclic */ }
    return { config, bundle: window.__xf.bundle };
  }));
  await page.evaluate((e) => window.__xf.shop(e), exit);
  await net.quiet(1500);
  if (exit === 'queued') {
    await page.evaluate(() => window.__xf.track('order_completed', 3));
  }
  // leave the page: pagehide, beacons
  phase('unload');
  await page.goto('about:blank');
  await sleep(1000);

  // revisit: the SDK starts again and sends what it kept
  phase('revisit');
  await page.goto(url('revisit'));
  await page.waitForFunction(() => window.__xf.ready || window.__xf.errors.length, null,
                             { timeout: 15000 });
  await sleep(mode === 'batch' ? 3000 : 1500);
  await net.quiet(1500);
  record.errors.push(...await page.evaluate(() => window.__xf.errors));
  await page.goto('about:blank');
  await sleep(500);
  await context.close();
  return record;
}

// ------------------------------------------------------------- Kafka

function readTopic(brokers, topic) {
  const out = childProcess.execFileSync('kcat',
    ['-C', '-b', brokers.split(',')[0], '-t', topic, '-o', 'beginning', '-e', '-q', '-J'],
    { maxBuffer: 64 << 20 }).toString();
  return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).payload);
}

function short(url) { return url.length > 80 ? url.slice(0, 77) + '...' : url; }

// Sensors sends nested objects as JSON text: compare those decoded.
function sameValue(sent, got, sdk) {
  if (sdk === 'sensors' && typeof sent === 'object' && !Array.isArray(sent)
      && typeof got === 'string') {
    try { got = JSON.parse(got); } catch (e) { return false; }
  }
  try { assert.deepStrictEqual(got, sent); return true; } catch (e) { return false; }
}

function checkMode(rec, envelopes, deadLetters, access, pageOrigin) {
  const label = `${rec.sdk}/${rec.mode}`;
  let bad = 0;
  const no = (msg) => { bad++; fail(`${label}: ${msg}`); };

  // the browser's side: no CORS trouble, no failed upload, answers as
  // the SDK wants them
  const cors = rec.console.filter((l) => /CORS|Access-Control/i.test(l));
  if (cors.length) no('CORS errors in the console:\n    ' + cors.join('\n    '));
  const failed = {};
  for (const f of rec.failed) {
    const k = `${f.method} ${f.url.split('?')[0]} (${f.type}) failed: ${f.error}`;
    failed[k] = (failed[k] || 0) + 1;
  }
  for (const [k, n] of Object.entries(failed)) no(`${n} x ${k}`);
  if (rec.errors.length) no('page errors: ' + rec.errors.join('; '));
  if (rec.external.length) no('requests to other origins: ' + [...new Set(rec.external)].join('; '));
  for (const r of rec.responses) {
    const want = r.method === 'OPTIONS' ? [200, 204] : [200];
    if (!want.includes(r.status)) no(`${r.method} ${short(r.url)}: status ${r.status}`);
    if (r.acao !== undefined && r.acao !== pageOrigin) no(`${r.method} ${short(r.url)}: Access-Control-Allow-Origin ${r.acao}`);
    // XHR and fetch read the answer: it must allow the page.  (Beacons,
    // images and scripts do not; their headers are not all reported.)
    if ((r.type === 'xhr' || r.type === 'fetch') && r.acao === undefined)
      no(`${r.method} ${r.url}: no Access-Control-Allow-Origin`);
  }

  // Kafka: the run's events, by app
  const mine = envelopes.filter((e) => isApp(rec, e.app));
  const dead = deadLetters.filter((d) => JSON.stringify(d).includes(runId) || d.app === rec.app);
  if (dead.length) no(`${dead.length} dead letters: ${JSON.stringify(dead).slice(0, 500)}`);

  // every event once: by the SDK's own id of each event
  const sdk = SDKS[rec.sdk];
  const seen = new Map();
  for (const e of mine) {
    const key = sdk.key(e.event);
    if (key === undefined || key === null) no(`an event without the SDK's id: ${JSON.stringify(e.event).slice(0, 200)}`);
    seen.set(key, (seen.get(key) || 0) + 1);
    if (e.v !== 1 || e.src !== sdk.src || e.ip !== '127.0.0.1' || !/^[0-9a-f]{32}$/.test(e.id))
      no(`envelope: ${JSON.stringify({ v: e.v, id: e.id, src: e.src, ip: e.ip, app: e.app })}`);
  }
  for (const [key, n] of seen) if (n !== 1) no(`event ${key} arrived ${n} times`);

  // ours: each once, named right, properties intact
  const ids = EVENTS.map((_, n) => `${runId}:${rec.mode}:${n}`);
  for (let n = 0; n < ids.length; n++) {
    const got = mine.filter((e) => (sdk.props(e.event) || {}).xf_test_id === ids[n]);
    if (got.length !== 1) { no(`${EVENTS[n]} (${ids[n]}) arrived ${got.length} times`); continue; }
    const ev = got[0].event;
    const props = sdk.props(ev);
    if (sdk.name(ev) !== EVENTS[n]) no(`${ids[n]} is named ${sdk.name(ev)}, not ${EVENTS[n]}`);
    for (const [k, v] of Object.entries(PROPS)) {
      if (!sameValue(v, props[k], rec.sdk))
        no(`${EVENTS[n]}: property ${k} is ${JSON.stringify(props[k])}, sent ${JSON.stringify(v)}`);
    }
  }

  const extra = mine.filter((e) => !String((sdk.props(e.event) || {}).xf_test_id || '').startsWith(runId))
                    .map((e) => e.event.event || e.event.type || e.event.e || Object.keys(e.event).find((k) => k[0] === '$'));
  // what xflow answered this mode's app, from its access log: beacons
  // sent while the page goes away are not all visible to the browser side
  const byPath = {};
  for (const a of access.filter((a) => isApp(rec, a.app))) {
    const enc = a.encoding && a.encoding !== '-' ? ` (${a.encoding})` : '';
    const k = `${a.method} ${a.path.replace(/\/array\/[^/]+\//, '/array/<token>/')}${enc} ${a.status}`;
    byPath[k] = (byPath[k] || 0) + 1;
  }
  for (const [k, n] of Object.entries(byPath)) {
    if (k.endsWith(' 000')) no(`xflow finished ${n} x ${k.slice(0, -4)} without an answer (status 000)`);
  }
  if (!bad) {
    ok(`${label}: ${mine.length} events in Kafka, each once, ${EVENTS.length} of ours with their properties` +
       (extra.length ? ` (+ the SDK's own: ${extra.join(', ')})` : '') +
       `; xflow answered ${JSON.stringify(byPath)}; no CORS error`);
  }
  return bad;
}

// ---------------------------------------------------------------- main

async function main() {
  for (const f of [moduleSo, devbroker, chromiumBin]) {
    if (!fs.existsSync(f)) throw new Error(`${f} missing`);
  }
  const undef = childProcess.execFileSync('nm', ['-u', moduleSo]).toString()
    .split('\n').filter((l) => / xf_/.test(l));
  if (undef.length) throw new Error(`${moduleSo} has undefined symbols: ${undef.join(' ')}`);

  let modes = MODES;
  if (process.env.XF_BROWSER_MODES) {
    const want = process.env.XF_BROWSER_MODES.split(',');
    modes = MODES.filter(([s, m]) => want.includes(`${s}:${m}`));
  }

  const [pagePort, xflowPort] = [await freePort(), await freePort()];
  const pageOrigin = `http://127.0.0.1:${pagePort}`;
  const xflowOrigin = `http://127.0.0.1:${xflowPort}`;

  await buildBundles();
  const brokers = await startBroker();
  await startNginx(brokers, xflowPort, pageOrigin);
  const pageServer = await startPageServer(pagePort);
  log(`page ${pageOrigin}, xflow ${xflowOrigin}, Kafka ${brokers}, run ${runId}, ${tmp}`);

  const { browser, userAgent } = await launchBrowser();

  const records = [];
  try {
    for (const [sdk, mode, exit] of modes) {
      const t0 = Date.now();
      records.push(await runMode(browser, userAgent, pageOrigin, xflowOrigin, sdk, mode, exit));
      log(`     ${sdk}/${mode}: browser done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await browser.close();
    pageServer.close();
  }

  // Everything acknowledged is in Kafka already (xflow_ack kafka); beacons
  // have no one waiting for the answer: give them a moment.
  let envelopes = [];
  let dead = [];
  const want = records.length * EVENTS.length;
  for (let i = 0; i < 50; i++) {
    envelopes = readTopic(brokers, 'events').map((p) => JSON.parse(p));
    const ours = envelopes.filter((e) => {
      const sdk = Object.values(SDKS).find((s) => s.src === e.src);
      const p = sdk ? sdk.props(e.event) : e.event.properties;
      return String((p || {}).xf_test_id || '').startsWith(runId);
    });
    if (ours.length >= want) break;
    await sleep(200);
  }
  dead = readTopic(brokers, 'xflow_dead_letter').map((p) => { try { return JSON.parse(p); } catch (e) { return p; } });
  fs.writeFileSync(path.join(tmp, 'events.json'), JSON.stringify(envelopes, null, 1));
  fs.writeFileSync(path.join(tmp, 'records.json'), JSON.stringify(records, null, 1));

  // $remote_addr "$request" $status $xflow_format $xflow_app ...
  const access = fs.readFileSync(path.join(tmp, 'access.log'), 'utf8').split('\n')
    .map((l) => /^\S+ "(\S+) (\S+) [^"]*" (\d+) (\S*) (\S*) .* "([^"]*)"$/.exec(l)).filter(Boolean)
    .map((m) => ({ method: m[1], path: m[2].split('?')[0] + (/compression=base64/.test(m[2]) ? '?compression=base64' : ''),
                   status: m[3], format: m[4], app: m[5], encoding: m[6] }));
  for (const rec of records) checkMode(rec, envelopes, dead, access, pageOrigin);

  const errlog = fs.readFileSync(path.join(tmp, 'error.log'), 'utf8')
    .split('\n').filter((l) => /\[(alert|emerg|crit)\]/.test(l));
  if (errlog.length) fail('nginx error log:\n  ' + errlog.join('\n  '));
}

function cleanup() {
  for (const p of children.reverse()) {
    if (p.exitCode === null && !p.killed) {
      try { p.kill(p.spawnfile === nginxBin ? 'SIGQUIT' : 'SIGTERM'); } catch (e) { /* gone */ }
    }
  }
}

// record.js drives the same page through these
module.exports = { MODES, PROPS, EVENTS, runId, tmp, freePort, sleep,
                   startPageServer, buildBundles, launchBrowser, watch,
                   runMode };

if (require.main === module) main().then(async () => {
  cleanup();
  await sleep(500);
  if (failures) {
    console.log(`kept ${tmp}`);
    console.log(`test-browser: ${passes} passed, ${failures} failed`);
    process.exit(1);
  }
  if (process.env.XF_TEST_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`test-browser: ${passes} passed, 0 failed`);
}, (e) => {
  console.log('test-browser: ' + (e && e.stack || e));
  cleanup();
  console.log(`kept ${tmp}`);
  process.exit(1);
});
