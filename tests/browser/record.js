#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// make record-captures: the real browser SDKs of tests/browser (run.js
// drives the page, in Debian's Chromium) sending to a recording server
// instead of xflow; every request written to
// tests/fixtures/sdk-captures/<sdk>__<mode>.json in the capture format
// (tests/fixtures/sdk-captures/README.md).
//
//   page      http://127.0.0.1:<port>/   page.html and the SDK bundles
//   recorder  http://127.0.0.1:<port>/   this server: answers each SDK as
//                                        xflow does (docs/formats.md,
//                                        "Answers"), CORS preflights
//                                        included, and keeps the request
//
// The SDKs send to their own default paths (page.html, paths=sdk), the
// ones docs/deploy/nginx.conf serves, as an app with a made-up id.
//
// Environment: CHROMIUM, XF_RECORD_MODES ("segment:standard,mixpanel",
// a family alone for all its modes; default: Segment, RudderStack,
// Snowplow, Mixpanel and Amplitude), XF_RECORD_DIR (default
// tests/fixtures/sdk-captures).

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const run = require('./run.js');

const here = __dirname;
const root = path.resolve(here, '../..');
const outDir = process.env.XF_RECORD_DIR ||
               path.join(root, 'tests/fixtures/sdk-captures');

const FAMILIES = ['segment', 'rudderstack', 'snowplow', 'mixpanel',
                  'amplitude'];

// What each family is on npm, the app it sends as (made up).
const SDK = {
  sensors: { pkg: 'sa-sdk-javascript', app: 'default' },
  posthog: { pkg: 'posthog-js',
             app: 'phc_XflowRecorderToken0123456789abcdefABCDEF' },
  mixpanel: { pkg: 'mixpanel-browser',
              app: 'f0e1d2c3b4a5968778695a4b3c2d1e0f' },
  amplitude: { pkg: '@amplitude/analytics-browser',
               app: '7f3e9a2c5b8d4e6f1a0c3b5d7e9f2a4c' },
  segment: { pkg: '@segment/analytics-next',
             app: 'XfSegmentWriteKey0123456789ABCDEF' },
  rudderstack: { pkg: '@rudderstack/analytics-js',
                 app: '2XfRudderWriteKey0123456789ab' },
  snowplow: { pkg: '@snowplow/browser-tracker', app: 'xflow-test-shop' },
};

// How page.html configures each mode (its sdkConfig is in the file).
const DESCRIPTION = {
  'sensors:ajax': "send_type: 'ajax': XHR POST data= form per event",
  'sensors:beacon': "send_type: 'beacon': sendBeacon per event",
  'sensors:image': "send_type: 'image': one GET per event via <img>",
  'sensors:batch': 'batch_send: data_list= POSTs of what localStorage ' +
                   'holds',
  'posthog:default': 'fetch, gzip as the remote config allows; the ' +
                     'queue flushed by sendBeacon on page exit',
  'posthog:nocompress': 'disable_compression: true',
  'mixpanel:batch': 'batch_requests: true: XHR POST of a data= JSON ' +
                    'array batch, verbose=1',
  'mixpanel:xhr': 'batch_requests: false: one XHR POST per event, ' +
                  'data= base64 JSON',
  'mixpanel:json': "batch_requests: false, api_payload_format: 'json': " +
                   'one XHR POST per event, data= plain JSON',
  'mixpanel:get': "batch_requests: false, api_method: 'GET': one XHR " +
                  'GET per event, data= in the query',
  'mixpanel:image': "batch_requests: false, api_method: 'GET', img: " +
                    'true: one <img> GET per event (img=1)',
  'mixpanel:beacon': "batch_requests: false, api_transport: " +
                     "'sendBeacon': one sendBeacon per event",
  'amplitude:fetch': "transport: 'fetch' to /2/httpapi (HTTP API v2)",
  'amplitude:xhr': "transport: 'xhr' to /2/httpapi",
  'amplitude:beacon': "transport: 'beacon' (sendBeacon, text/plain) to " +
                      '/2/httpapi',
  'amplitude:gzip': 'enableRequestBodyCompression: true: fetch with ' +
                    'Content-Encoding: gzip (CompressionStream)',
  'amplitude:batch': 'useBatch: true: the Batch API, serverUrl ' +
                     '/amplitude/batch',
  'segment:standard': 'the Segment.io plugin, one fetch per call to ' +
                      '/v1/p, /v1/t (text/plain, writeKey in the body)',
  'segment:batching': "deliveryStrategy 'batching' (size 10, timeout " +
                      '1 s): batches to /v1/b',
  'rudderstack:xhr': 'XhrQueue: one XHR POST per call to /v1/page, ' +
                     '/v1/track (Authorization: Basic write key)',
  'rudderstack:batch': 'XhrQueue with batch (10 items, 1 s): ' +
                       'POST /v1/batch',
  'rudderstack:beacon': 'useBeacon: BeaconQueue, sendBeacon to ' +
                        '/beacon/v1/batch?writeKey=',
  'snowplow:post': "eventMethod 'post', bufferSize 1: POST " +
                   '/com.snowplowanalytics.snowplow/tp2 per event',
  'snowplow:get': "eventMethod 'get': GET /i per event, the event in " +
                  'the query',
  'snowplow:batch': "eventMethod 'post', bufferSize 4: the four " +
                    'events in one tp2 POST',
  'snowplow:keepalive': "eventMethod 'post', keepalive: true: fetch " +
                        'with keepalive per event',
};

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEA' +
                        'AAIBRAA7', 'base64');

function log(...a) { console.log(...a); }

// ------------------------------------------------------------ reading

// UTF-8, with what mixpanel-browser's base64 encoder writes: each UTF-16
// unit of a pair as 3 bytes of its own (CESU-8) becomes the character; a
// lone half, like any other malformed sequence, U+FFFD.
function utf8(buf) {
  const cps = [];
  let i = 0;
  const cont = (k) => i + k < buf.length && (buf[i + k] & 0xc0) === 0x80;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) { cps.push(b); i++; continue; }
    if (b >= 0xc2 && b < 0xe0 && cont(1)) {
      cps.push(((b & 0x1f) << 6) | (buf[i + 1] & 0x3f));
      i += 2;
      continue;
    }
    if (b >= 0xe0 && b < 0xf0 && cont(1) && cont(2)) {
      const cp = ((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) |
                 (buf[i + 2] & 0x3f);
      if (cp < 0x800) { cps.push(0xfffd); i += 3; continue; }
      if (cp >= 0xd800 && cp < 0xdc00 && buf[i + 3] === 0xed) {
        i += 3;
        if (cont(1) && cont(2)) {
          const lo = ((buf[i] & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) |
                     (buf[i + 2] & 0x3f);
          if (lo >= 0xdc00 && lo < 0xe000) {
            cps.push(0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
            i += 3;
            continue;
          }
        }
        cps.push(0xfffd);
        continue;
      }
      cps.push(cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp);
      i += 3;
      continue;
    }
    if (b >= 0xf0 && b < 0xf5 && cont(1) && cont(2) && cont(3)) {
      cps.push(((b & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) |
               ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f));
      i += 4;
      continue;
    }
    cps.push(0xfffd);
    i++;
  }
  let s = '';
  for (let k = 0; k < cps.length; k += 4096) {
    s += String.fromCodePoint(...cps.slice(k, k + 4096));
  }
  return s;
}

function isGzip(buf) {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function jsonish(s) { return /^\s*[[{]/.test(s); }

// Percent-decoding of a form value; '+' stays (base64 text).
function pct(s) {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try { return decodeURIComponent(m); } catch (e) { return m; }
  });
}

// One form field's value: JSON, base64 of (gzip of) JSON, or text.
function readField(raw, layers) {
  const v = pct(raw);
  const out = { layers: layers.concat(['url-decoding']),
                rawLength: raw.length };
  if (jsonish(v)) {
    try {
      out.value = JSON.parse(v);
      out.layers.push('json');
      return out;
    } catch (e) { /* text */ }
  }
  if (v.length >= 8 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    let bytes = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'),
                            'base64');
    const l = ['base64'];
    if (isGzip(bytes)) {
      try {
        bytes = zlib.gunzipSync(bytes);
        l.push('gzip');
      } catch (e) { /* not gzip after all */ }
    }
    const text = utf8(bytes);
    if (jsonish(text)) {
      try {
        out.value = JSON.parse(text);
        out.layers.push(...l, 'utf-8', 'json');
        return out;
      } catch (e) { /* text */ }
    }
  }
  out.value = v;
  return out;
}

function readForm(text, layers) {
  const form = {};
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = pct(eq < 0 ? part : part.slice(0, eq));
    form[name] = readField(eq < 0 ? '' : part.slice(eq + 1),
                           layers.concat([`form field "${name}"`]));
  }
  return form;
}

// The recorder's own reading of a request: the layers it peeled and
// what it found (the expected result of the tests).
function readBody(method, query, headers, body) {
  const layers = [];
  let buf = body;
  const enc = (headers['content-encoding'] || '').toLowerCase();
  if (enc === 'gzip') {
    buf = zlib.gunzipSync(buf);
    layers.push('Content-Encoding: gzip');
  } else if (isGzip(buf)) {
    buf = zlib.gunzipSync(buf);
    layers.push('gzip (raw gzip bytes in body; no Content-Encoding ' +
                'header)');
  }
  const dec = { layers };
  if (buf.length !== body.length || layers.length) {
    dec.decompressedLength = buf.length;
  }
  if (buf.length === 0) {
    // a GET beacon: the event is the query (Snowplow's pixel), unless a
    // data= field holds it (queryParams)
    const q = new URLSearchParams(query);
    if (method === 'GET' && query && !q.has('data') && !q.has('data_list')
        && q.has('e')) {
      dec.layers.push('query', 'url-decoding');
      dec.kind = 'query';
      dec.value = Object.fromEntries(q.entries());
      return dec;
    }
    dec.kind = 'empty';
    return dec;
  }
  const text = utf8(buf);
  layers.push('utf-8');
  if (jsonish(text)) {
    try {
      dec.value = JSON.parse(text);
      layers.push('json');
      dec.kind = 'json';
      return dec;
    } catch (e) { /* below */ }
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    layers.push('application/x-www-form-urlencoded');
    dec.kind = 'form';
    dec.form = readForm(text, []);
    return dec;
  }
  dec.kind = 'text';
  dec.text = text;
  return dec;
}

// The events a reading holds, whatever the wrapper.
function eventsOf(rec) {
  const dec = rec.decoded;
  let v = dec.value;
  if (v === undefined && dec.form) {
    v = (dec.form.data_list || dec.form.data || {}).value;
  }
  if (v === undefined) {
    const f = rec.queryParams.data_list || rec.queryParams.data;
    v = f && f.value;
  }
  if (v === undefined || v === null || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v;
  for (const k of ['batch', 'events']) {
    if (Array.isArray(v[k])) return v[k];
  }
  if (Array.isArray(v.data) && /payload_data/.test(v.schema || '')) {
    return v.data;
  }
  return [v];
}

function eventName(e) {
  if (!e || typeof e !== 'object') return null;
  return e.event || e.event_type || e.type || e.e || null;
}

// ------------------------------------------------------------ answers

// What xflow answers the family (docs/formats.md, "Answers").
function answer(sdk, rec, nevents) {
  const p = rec.path;
  const q = new URLSearchParams(rec.query);
  const json = (o) => ['application/json', JSON.stringify(o)];
  if (sdk === 'posthog') {
    const m = /\/array\/([^/]+)\/config\.js$/.exec(p);
    const config = { supportedCompression: ['gzip', 'gzip-js'],
                     hasFeatureFlags: false, autocapture_opt_out: false,
                     capturePerformance: false, sessionRecording: false,
                     surveys: false, heatmaps: false, siteApps: [] };
    if (m) {
      return ['application/javascript',
              '(function(){var w=window;w._POSTHOG_REMOTE_CONFIG=' +
              'w._POSTHOG_REMOTE_CONFIG||{};w._POSTHOG_REMOTE_CONFIG[' +
              JSON.stringify(m[1]) + ']={config:' +
              JSON.stringify({ ...config, token: m[1] }) +
              ',siteApps:[]};})();\n'];
    }
    if (/\/(flags|decide)\/?$|\/config$/.test(p)) {
      return json({ ...config, featureFlags: {}, featureFlagPayloads: {},
                    flags: {}, errorsWhileComputingFlags: false });
    }
    return json({ status: 1 });
  }
  if (sdk === 'segment' || sdk === 'rudderstack') {
    return json({ success: true });
  }
  if (sdk === 'mixpanel') {
    if (q.get('img') === '1') return ['image/gif', GIF];
    if (q.get('verbose') === '1') return json({ status: 1, error: null });
    return ['text/plain', '1'];
  }
  if (sdk === 'amplitude') {
    return json({ code: 200, events_ingested: nevents,
                  payload_size_bytes: rec.bodyLength,
                  server_upload_time: Date.now() });
  }
  if (rec.method === 'GET') return ['image/gif', GIF];
  return json({ accepted: nevents, rejected: 0 });
}

// ---------------------------------------------------------- recording

// the mode being recorded: its family, phase and records
const state = { sdk: null, phase: 'page', records: [], seq: 0 };

function cors(req) {
  const h = {};
  if (req.headers.origin) {
    h['Access-Control-Allow-Origin'] = req.headers.origin;
    h.Vary = 'Origin';
    h['Access-Control-Allow-Credentials'] = 'true';
  }
  return h;
}

function handle(req, res, body) {
  const url = new URL(req.url, 'http://x');
  const pairs = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  const queryParams = {};
  const query = url.search;
  if (query.length > 1) {
    Object.assign(queryParams, readForm(query.slice(1), ['query']));
  }
  const rec = {
    seq: ++state.seq,
    receivedAt: new Date().toISOString(),
    remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    httpVersion: req.httpVersion,
    method: req.method,
    url: req.url,
    path: url.pathname,
    query,
    rawHeaders: pairs,
    headers: { ...req.headers },
    bodyLength: body.length,
    bodyBase64: body.toString('base64'),
    queryParams,
  };
  let status = 200;
  let ctype;
  let out;
  const h = cors(req);
  if (req.method === 'OPTIONS') {
    rec.decoded = { layers: [], kind: 'empty' };
    status = 204;
    h['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS';
    if (req.headers['access-control-request-headers']) {
      h['Access-Control-Allow-Headers'] =
        req.headers['access-control-request-headers'];
    }
    h['Access-Control-Max-Age'] = '7200';
    out = '';
  } else {
    try {
      rec.decoded = readBody(req.method, query.slice(1), req.headers, body);
    } catch (e) {
      rec.decoded = { layers: [], kind: 'error', error: String(e) };
    }
    [ctype, out] = answer(state.sdk, rec, eventsOf(rec).length);
    h['Content-Type'] = ctype;
    // as xflow: never from a cache for pixels and the remote config
    if (ctype === 'image/gif') {
      h['Cache-Control'] = 'no-cache, no-store, must-revalidate';
    } else if (ctype === 'application/javascript') {
      h['Cache-Control'] = 'no-store';
    }
  }
  rec.response = { status, contentType: ctype || null, headers: { ...h } };
  rec.phase = state.phase;
  if (state.sdk) state.records.push(rec);
  // a length, not chunks: SDKs that never read the answer leave the
  // browser nothing to wait for
  h['Content-Length'] = String(Buffer.byteLength(out));
  res.writeHead(status, h);
  res.end(out);
}

function startRecorder(port) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function summary(rec) {
  const evs = eventsOf(rec);
  return {
    seq: rec.seq, phase: rec.phase, method: rec.method, path: rec.path,
    query: rec.query.length > 120 ? rec.query.slice(0, 117) + '...'
                                  : rec.query,
    contentType: rec.headers['content-type'] || null,
    contentEncoding: rec.headers['content-encoding'] || null,
    bodyLength: rec.bodyLength, status: rec.response.status,
    bodyLayers: rec.decoded.layers,
    events: evs.map(eventName), eventCount: evs.length,
    origin: rec.headers.origin || null,
  };
}

// The test's own events (xf_test_id) a recording holds, by number.
function ours(records, mode) {
  const got = {};
  for (const rec of records) {
    // Snowplow's base64url ue_px and cx, read in queryParams
    const text = JSON.stringify(eventsOf(rec)) +
                 JSON.stringify(rec.queryParams);
    for (let n = 0; n < run.EVENTS.length; n++) {
      const id = `${run.runId}:${mode}:${n}`;
      if (text.includes(id)) got[n] = (got[n] || 0) + 1;
    }
  }
  return got;
}

async function recordMode(browser, userAgent, pageOrigin, target, t) {
  const [sdk, mode, exit] = t;
  const phases = {};
  state.sdk = sdk;
  state.records = [];
  const t0 = Date.now();
  const br = await run.runMode(browser, userAgent, pageOrigin, target, sdk,
                               mode, exit, {
    app: SDK[sdk].app,
    sdkPaths: true,
    phase: (ph) => { state.phase = ph; phases[ph] = Date.now() - t0; },
  });
  await run.sleep(300);
  const records = state.records;
  state.sdk = null;

  const pkg = SDK[sdk].pkg;
  const version = require(path.join(here, 'node_modules', pkg,
                                    'package.json')).version;
  const statusCounts = {};
  for (const r of records) {
    statusCounts[r.response.status] =
      (statusCounts[r.response.status] || 0) + 1;
  }
  const got = ours(records, mode);
  const problems = [];
  for (let n = 0; n < run.EVENTS.length; n++) {
    if (!got[n]) problems.push(`${run.EVENTS[n]} not sent`);
  }
  for (const f of br.failed) {
    problems.push(`${f.method} ${f.url.slice(0, 80)} failed: ${f.error}`);
  }
  if (br.errors.length) problems.push('page errors: ' + br.errors.join('; '));
  const corsErr = br.console.filter((l) => /CORS|Access-Control/i.test(l));
  if (corsErr.length) problems.push('CORS: ' + corsErr.join('; '));
  if (br.external.length) {
    problems.push('other origins: ' + [...new Set(br.external)].join('; '));
  }
  for (const r of records) {
    if (r.decoded.kind === 'error' || r.decoded.kind === 'text') {
      problems.push(`${r.method} ${r.path}: body not read`);
    }
  }

  const capture = {
    harness: {
      generatedAt: new Date().toISOString(),
      node: process.version,
      playwrightCore: require('playwright-core/package.json').version,
      browser: browser.version(),
      userAgent,
      recorder: 'tests/browser/record.js',
    },
    sdk: { name: sdk, package: pkg, version, bundle: br.bundle },
    mode: { name: mode, description: DESCRIPTION[`${sdk}:${mode}`] || '' },
    target,
    pageOrigin,
    phases,
    sdkConfig: br.config,
    error: problems.length ? problems.join('\n') : null,
    result: {
      targetRequests: records.length, statusCounts,
      testEvents: got, corsConsoleErrors: corsErr.length,
      pageErrors: br.errors.length, externalRequests: br.external,
    },
    wireSummary: records.map(summary),
    serverRecords: records,
    browser: { requests: br.requests, responses: br.responses,
               failed: br.failed, console: br.console },
  };
  const file = path.join(outDir, `${sdk}__${mode}.json`);
  fs.writeFileSync(file, JSON.stringify(capture, null, 1) + '\n');
  const paths = [...new Set(records.map((r) => `${r.method} ${r.path}`))];
  log(`${problems.length ? 'FAIL' : 'ok  '} ${sdk}/${mode} ${pkg} ` +
      `${version}: ${records.length} requests (${paths.join(', ')}) -> ` +
      path.relative(root, file));
  for (const p of problems) log('     ' + p);
  return problems.length;
}

async function main() {
  let modes = run.MODES.filter(([s]) => FAMILIES.includes(s));
  if (process.env.XF_RECORD_MODES) {
    const want = process.env.XF_RECORD_MODES.split(',');
    modes = run.MODES.filter(([s, m]) => want.includes(`${s}:${m}`) ||
                                         want.includes(s));
  }
  fs.mkdirSync(outDir, { recursive: true });
  const pagePort = await run.freePort();
  const recPort = await run.freePort();
  const pageOrigin = `http://127.0.0.1:${pagePort}`;
  const target = `http://127.0.0.1:${recPort}`;

  await run.buildBundles();
  const pageServer = await run.startPageServer(pagePort);
  const recorder = await startRecorder(recPort);
  log(`page ${pageOrigin}, recorder ${target}, run ${run.runId}`);

  const { browser, userAgent } = await run.launchBrowser();
  let bad = 0;
  try {
    for (const t of modes) {
      bad += await recordMode(browser, userAgent, pageOrigin, target, t);
    }
  } finally {
    await browser.close();
    pageServer.close();
    recorder.close();
    fs.rmSync(run.tmp, { recursive: true, force: true });
  }
  return bad;
}

main().then((bad) => {
  log(`record-captures: ${bad ? `${bad} problems` : 'done'}`);
  process.exit(bad ? 1 : 0);
}, (e) => {
  log('record-captures: ' + (e && e.stack || e));
  process.exit(1);
});
