#!/usr/bin/env node
// The peer generator of `blackfriday bench`: the same purchase workload as
// `blackfriday run -s lua`, driven from Node.js over one connection whose
// writes are coalesced per event-loop turn (what Node's Redis clients call
// auto-pipelining). Only Node's `net` module and a small RESP encoder and
// reader, so nothing needs downloading.
//
// usage: node lua-peer.js PORT SHA PREFIX BUYERS IN_FLIGHT
// KEYS and ARGV are those of src/strategy/lua/buy.lua. Prints one JSON line:
// {"purchased":N,"sold_out":N,"errors":N,"seconds":S,"cpu_s":S}.
'use strict';
const net = require('net');

const [port, sha, prefix, buyersArg, inFlightArg] = process.argv.slice(2);
if (!port || !sha || !prefix || !buyersArg) {
  console.error('usage: node lua-peer.js PORT SHA PREFIX BUYERS [IN_FLIGHT]');
  process.exit(2);
}
const buyers = Number(buyersArg);
const inFlight = Math.min(Number(inFlightArg || 10000), buyers);

function bulk(s) {
  return '$' + Buffer.byteLength(s) + '\r\n' + s + '\r\n';
}
function command(args) {
  return '*' + args.length + '\r\n' + args.map(bulk).join('');
}
const [stock, sold, orders] = ['stock', 'sold', 'orders'].map((k) => prefix + k);
function buy(id) {
  const us = String(Date.now() * 1000);
  return command(['EVALSHA', sha, '4', stock, sold, orders, prefix + 'order:' + id,
    '1', String(id), String(id), us]);
}

// Replies of buy.lua are integers or errors: a reader for those, plus
// whatever a simple reply can be, is all this peer needs.
let pending = Buffer.alloc(0);
function replies(chunk, each) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  let at = 0;
  for (;;) {
    const end = pending.indexOf('\r\n', at);
    if (end < 0) break;
    const type = String.fromCharCode(pending[at]);
    const line = pending.toString('latin1', at + 1, end);
    if (type !== ':' && type !== '-' && type !== '+') {
      throw new Error('unexpected reply type ' + type);
    }
    each(type, line);
    at = end + 2;
  }
  pending = pending.subarray(at);
}

const sock = net.connect(Number(port), '127.0.0.1');
sock.setNoDelay(true);
let queued = [];
let scheduled = false;
function send(text) {
  queued.push(text);
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const out = queued.join('');
      queued = [];
      sock.write(out);
    });
  }
}

let next = 0;
let done = 0;
const tally = { purchased: 0, sold_out: 0, errors: 0 };
let started;
const cpu0 = process.cpuUsage();
sock.on('connect', () => {
  started = process.hrtime.bigint();
  while (next < inFlight) send(buy(next++));
});
sock.on('data', (chunk) => {
  replies(chunk, (type, line) => {
    if (type === ':' && line === '1') tally.purchased++;
    else if (type === ':') tally.sold_out++;
    else tally.errors++;
    done++;
    if (next < buyers) send(buy(next++));
  });
  if (done === buyers) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpu_s = (cpu.user + cpu.system) / 1e6;
    console.log(JSON.stringify({ ...tally, seconds, cpu_s }));
    sock.end();
  }
});
sock.on('error', (e) => {
  console.error('peer: ' + e.message);
  process.exit(3);
});
