/**
 * The CIDR set at 10k / 100k / 1M entries (80% IPv4, 20% IPv6; the real FireHOL and Spamhaus
 * sets from ../shared/data first when present) against a linear ipaddr.js scan — what a user
 * of ipaddr.js alone would write. Lookups are timed from the string, parsing included.
 *
 *   pnpm exec tsx bench/cidr.ts
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Ipaddr from 'ipaddr.js';
import { buildCidrSet } from '../packages/core/src/network/cidr-set.js';
import { parseIp } from '../packages/core/src/network/ip.js';
import { parseListText } from '../packages/core/src/network/list-file.js';
import { prng } from '../packages/core/src/cli/synthetic.js';

// ipaddr.js is a dependency of @actiongate/core, resolved from there.
const ipaddr = createRequire(new URL('../packages/core/package.json', import.meta.url))('ipaddr.js') as typeof Ipaddr;
const root = fileURLToPath(new URL('..', import.meta.url));
const shared = resolve(root, '../shared/data/blocklists');

function entries(count: number): string[] {
  const out: string[] = [];
  if (existsSync(shared)) for (const name of readdirSync(shared)) out.push(...parseListText(readFileSync(join(shared, name), 'utf8')).entries);
  const random = prng(count);
  const hex = () => Math.floor(random() * 0x10000).toString(16);
  while (out.length < count) {
    out.push(out.length % 5 === 0 ? `2001:${hex()}:${hex()}::/48` : `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 16) * 16}/28`);
  }
  return out.slice(0, count);
}

function probes(n: number, version: 4 | 6): string[] {
  const random = prng(7 + version);
  const hex = () => Math.floor(random() * 0x10000).toString(16);
  return Array.from({ length: n }, () => (version === 4 ? `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}` : `2001:${hex()}:${hex()}:${hex()}::${hex()}`));
}

function nsPerLookup(fn: (text: string) => unknown, texts: string[], rounds: number): number {
  let sink = 0;
  const t = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const text of texts) if (fn(text)) sink++;
  return Number(process.hrtime.bigint() - t) / (rounds * texts.length) + (sink < 0 ? 1 : 0);
}

export async function run() {
  const v4 = probes(10_000, 4);
  const v6 = probes(10_000, 6);
  const rows = [];
  for (const count of [10_000, 100_000, 1_000_000]) {
    const list = entries(count);
    const t = process.hrtime.bigint();
    const keep = buildCidrSet(list.map((cidr) => ({ cidr, list: 0 })));
    const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
    const heapMb = keep.bytes / 1048576;
    const lookup = (text: string) => keep.match(parseIp(text)!).length;
    nsPerLookup(lookup, v4, 20); // warm-up
    const row: Record<string, number | string> = {
      entries: count,
      buildMs: Math.round(buildMs),
      tablesMb: +heapMb.toFixed(1),
      v4Ns: Math.round(nsPerLookup(lookup, v4, 50)),
      v6Ns: Math.round(nsPerLookup(lookup, v6, 50)),
    };
    if (count <= 100_000) {
      const parsed = list.map((cidr) => ipaddr.parseCIDR(cidr));
      const linear = (text: string) => {
        const ip = ipaddr.parse(text);
        for (const range of parsed) if (ip.kind() === range[0].kind() && ip.match(range)) return true;
        return false;
      };
      const sample = v4.slice(0, count === 10_000 ? 500 : 50);
      row.linearNs = Math.round(nsPerLookup(linear, sample, 1));
      row.speedup = Math.round((row.linearNs as number) / (row.v4Ns as number));
    }
    rows.push(row);
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const rows = await run();
  console.log('| entries | build ms | tables MB | IPv4 ns/lookup | IPv6 ns/lookup | ipaddr.js linear ns/lookup | speed-up |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.entries} | ${r.buildMs} | ${r.tablesMb} | ${r.v4Ns} | ${r.v6Ns} | ${r.linearNs ?? '–'} | ${r.speedup ? `${r.speedup}×` : '–'} |`);
}
