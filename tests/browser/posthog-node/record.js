#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
//
// posthog-node/record.js - records what posthog-node sends to PostHog's
// v1 capture (POSTHOG_CAPTURE_MODE=v1: POST /i/v1/analytics/events with
// the PostHog-* headers) into tests/fixtures/posthog-v1/, in the format of
// the browser captures (sdk-captures/README.md): the request as it
// reached a recording server on loopback, which answers as PostHog's v1
// capture does, {"results":{uuid:{"result":"ok"}}}.
//
//   make record-posthog-node      (or: node record.js [out-dir])
//
// posthog-node is the version of package.json beside this file (its own
// install: the browser SDKs' @posthog/core stays as it is).  Every id and
// key below is made up.

'use strict';

process.env.POSTHOG_CAPTURE_MODE = 'v1';

const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const { PostHog } = require('posthog-node');

// its package.json is not exported: read beside its node_modules folder
const entry = require.resolve('posthog-node');
const pkg = JSON.parse(fs.readFileSync(path.join(
    entry.slice(0, entry.lastIndexOf('posthog-node') + 12),
    'package.json')));

const outDir = process.argv[2]
    || path.join(__dirname, '..', '..', 'fixtures', 'posthog-v1');

const records = [];


// Node's flat [name, value, ...] as the captures keep them: [[name, value]]
function pairs(flat) {
    const out = [];

    for (let i = 0; i + 1 < flat.length; i += 2) {
        out.push([flat[i], flat[i + 1]]);
    }

    return out;
}

const server = http.createServer((req, res) => {
    const chunks = [];

    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = {};
        const url = new URL(req.url, 'http://127.0.0.1');
        let plain = body;

        for (const [k, v] of Object.entries(req.headers)) {
            headers[k.toLowerCase()] = v;
        }

        if (headers['content-encoding'] === 'gzip') {
            plain = zlib.gunzipSync(body);
        }

        const value = JSON.parse(plain.toString('utf8'));
        const results = {};

        for (const e of value.batch || []) {
            results[e.uuid] = { result: 'ok' };
        }

        records.push({
            phase: 'page',
            method: req.method,
            path: url.pathname,
            query: url.search.replace(/^\?/, ''),
            rawHeaders: pairs(req.rawHeaders),
            headers,
            bodyBase64: body.toString('base64'),
            bodyLength: body.length,
            queryParams: Object.fromEntries(url.searchParams),
            decoded: {
                layers: headers['content-encoding'] === 'gzip'
                    ? ['gzip'] : [],
                kind: 'json',
                value,
            },
        });

        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ results }));
    });
});

server.listen(0, '127.0.0.1', async () => {
    const host = `http://127.0.0.1:${server.address().port}`;
    const config = { host, flushAt: 2, flushInterval: 0,
                     disableCompression: true };
    const client = new PostHog('phc_xflowv1test0000000000000000000000000',
                               config);

    client.capture({
        distinctId: 'user-v1-1',
        event: 'signup',
        properties: { plan: 'pro', nested: { a: [1, null, 'x'] },
                      text: '中文 \u{1F600} "q" \\ \n\t' },
    });
    client.capture({ distinctId: 'user-v1-2', event: '$pageview',
                     properties: { $current_url: 'https://example.com/' } });

    await client.shutdown();
    server.close();

    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'posthog-node__v1.json'),
        JSON.stringify({
            harness: 'tests/browser/posthog-node/record.js',
            sdk: { package: 'posthog-node', version: pkg.version },
            mode: { name: 'v1', description: 'POSTHOG_CAPTURE_MODE=v1, '
                    + 'disableCompression (plain JSON), two events' },
            sdkConfig: { ...config, host: '<recorder>' },
            error: records.length ? null : 'no request recorded',
            wireSummary: records.map((r) => `${r.method} ${r.path} `
                + `${r.bodyLength} bytes, attempt `
                + r.headers['posthog-attempt']),
            serverRecords: records,
        }, null, 2) + '\n');

    process.exit(records.length ? 0 : 1);
});
