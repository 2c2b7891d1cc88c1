#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Fills a testbed (build-aux/testbed.sh start DIR) with agentless devices,
// as a big server has them:
//
//   node build-aux/testbed-fill.js DIR N [GROUPS]
//   node build-aux/testbed-fill.js DIR --rename K [FROM TO]
//
// Logs into the control channel as the testbed's admin, creates GROUPS
// (default 20) device groups of type 3 ("local devices, no agent") named
// "fill-01"… with `createmesh` (or takes those it made before), then adds N
// devices spread over them with `addlocaldevice` ("dev-00001"…, numbered on
// from those already there, host 10.x.y.z), many in flight at once.
// Prints one line: "N devices in G groups, S s". With --rename, renames the
// first K devices named FROM… (default "dev-", in name order) to TO…
// (default "ren-") followed by the rest of their name, with `changedevice`, one after the
// other as fast as the server takes them. The account and password
// come from DIR/testbed.env, never from the command line.
'use strict';

const fs = require('fs');
const path = require('path');

const [dir, countArg, groupsArg] = process.argv.slice(2);
if (!dir || !countArg) {
  console.error('usage: testbed-fill.js DIR N [GROUPS]');
  process.exit(2);
}
const renaming = countArg === '--rename';
const count = parseInt(renaming ? groupsArg : countArg, 10);
const groups = renaming ? 0 : parseInt(groupsArg || '20', 10);
const from = (renaming && process.argv[5]) || 'dev-';
const to = (renaming && process.argv[6]) || 'ren-';

const env = {};
for (const line of fs.readFileSync(path.join(dir, 'testbed.env'), 'utf8').split('\n')) {
  const m = /^([A-Z_]+)=(.*)$/.exec(line);
  if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
}
const cache = process.env.MCR_TESTBED_CACHE ||
  path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME, '.cache'), 'mcrouter-testbed');
const WebSocket = require(path.join(cache, 'node_modules', 'ws'));

const b64 = (s) => Buffer.from(s).toString('base64');
const ws = new WebSocket(`wss://127.0.0.1:${env.MCR_TEST_PORT}/control.ashx`, {
  rejectUnauthorized: false, // the testbed's own self-signed certificate, on loopback
  headers: { 'x-meshauth': `${b64(env.MCR_TEST_USER)},${b64(env.MCR_TEST_PASS)}` },
  perMessageDeflate: false,
});

const started = Date.now();
const pending = new Map(); // responseid -> resolve
let nextId = 1;

function request(message) {
  return new Promise((resolve) => {
    const id = `fill${nextId++}`;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ ...message, responseid: id }));
  });
}

function fail(why) {
  console.error(`testbed-fill: ${why}`);
  process.exit(1);
}

ws.on('error', (e) => fail(e.message));
ws.on('close', () => { if (pending.size > 0) fail('the server closed the control channel'); });
ws.on('message', (data) => {
  let msg;
  try { msg = JSON.parse(data.toString()); } catch (e) { return; }
  if (msg.action === 'serverinfo' && !ws.filling) {
    ws.filling = true;
    (renaming ? rename() : fill()).then(() => ws.close(), (e) => fail(e.message || String(e)));
  }
  if (msg.action === 'nodes' && msg.nodes && ws.onNodes) ws.onNodes(msg.nodes);
  if (msg.action === 'meshes' && msg.meshes && ws.onMeshes) ws.onMeshes(msg.meshes);
  const resolve = msg.responseid ? pending.get(msg.responseid) : undefined;
  if (resolve) {
    pending.delete(msg.responseid);
    resolve(msg);
  }
});

function ask(action, hook) {
  return new Promise((resolve) => {
    ws[hook] = resolve;
    ws.send(JSON.stringify({ action }));
  });
}

async function fill() {
  const meshes = await ask('meshes', 'onMeshes');
  const nodes = await ask('nodes', 'onNodes');
  let first = 1;
  for (const n of [].concat(...Object.values(nodes))) {
    const m = /^[a-z]+-(\d+)$/.exec(n.name || '');
    if (m) first = Math.max(first, parseInt(m[1], 10) + 1);
  }
  const meshIds = [];
  for (let g = 1; g <= groups; g++) {
    const name = `fill-${String(g).padStart(2, '0')}`;
    const known = meshes.find((m) => m.name === name && m.mtype === 3);
    if (known) {
      meshIds.push(known._id);
      continue;
    }
    const reply = await request({ action: 'createmesh', meshname: name, meshtype: 3, desc: 'testbed-fill' });
    if (reply.result !== 'ok') fail(`createmesh ${name}: ${reply.result}`);
    meshIds.push(reply.meshid);
  }
  // Many requests in flight, not all: the server answers each after a
  // random-bytes callback and a database write.
  const window = 256;
  let next = 0;
  let done = 0;
  await new Promise((resolveAll) => {
    const launch = () => {
      while (next < count && next - done < window) {
        const i = next++;
        const n = first + i;
        request({
          action: 'addlocaldevice',
          meshid: meshIds[i % meshIds.length],
          devicename: `dev-${String(n).padStart(5, '0')}`,
          hostname: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          type: 4,
        }).then((reply) => {
          if (reply.result !== 'ok') fail(`addlocaldevice: ${reply.result}`);
          done++;
          if (done === count) resolveAll();
          else launch();
        });
      }
    };
    if (count === 0) resolveAll();
    else launch();
  });
  console.log(`${count} devices in ${groups} groups, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function rename() {
  const nodes = await new Promise((resolve) => {
    ws.onNodes = resolve;
    ws.send(JSON.stringify({ action: 'nodes' }));
  });
  const all = [].concat(...Object.values(nodes))
    .filter((n) => typeof n.name === 'string' && n.name.startsWith(from))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, count);
  for (const n of all)
    ws.send(JSON.stringify({ action: 'changedevice', nodeid: n._id, name: to + n.name.slice(from.length) }));
  // No answer comes for a change that worked: give the server time to send
  // its events before the channel closes.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  console.log(`${all.length} devices renamed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
