/**
 * The CIDR set at 10k / 100k / 1M entries (≈80% IPv4, 20% IPv6, several lists, nested and
 * overlapping ranges; the real FireHOL and Spamhaus sets from ../shared/data/blocklists first
 * when that folder exists, one list per file) against a linear ipaddr.js scan — what a user of
 * ipaddr.js alone would write. Everything is timed from text: build includes parsing the CIDRs,
 * a lookup includes parsing the address. Budgets (DESIGN.md): ≤ 300 ns per IPv4 lookup,
 * ≤ 1 µs IPv6, build ≤ 2 s and ≤ 32 MB at 1M, ≥ 1000× the linear scan at 100k.
 *
 *   pnpm exec tsx bench/cidr.ts
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as Ipaddr from 'ipaddr.js';
import { buildCidrSet, type CidrEntry } from '../packages/core/src/network/cidr-set.js';
import { parseIp } from '../packages/core/src/network/ip.js';
import { parseListText } from '../packages/core/src/network/list-file.js';
import { prng } from '../packages/core/src/cli/synthetic.js';

// ipaddr.js is a dependency of @actiongate/core, resolved from there.
const ipaddr = createRequire(new URL('../packages/core/package.json', import.meta.url))('ipaddr.js') as typeof Ipaddr;
const root = fileURLToPath(new URL('..', import.meta.url));
const shared = resolve(root, '../shared/data/blocklists');

/** Lists the generated ranges are spread over (after the real files' lists). */
const GENERATED_LISTS = 4;

export interface CidrBenchRow {
  entries: number;
  ipv6Entries: number;
  lists: number;
  /** From CIDR text to a ready set. */
  buildMs: number;
  /** Typed-array bytes of the lookup tables. */
  tablesMb: number;
  /** `heapUsed` + `arrayBuffers` growth after a full GC, with the set alive; `null` without a GC. */
  heapMb: number | null;
  /** `parseIp(text)` then `match`: the engine's path. */
  v4Ns: number;
  v6Ns: number;
  /** `matchText(text)`: parse into scratch, no allocation. */
  v4TextNs: number;
  v6TextNs: number;
  /** `ipaddr.parse` + `match` over every parsed range (10k and 100k only). */
  linearNs?: number;
  /** linearNs / v4Ns. */
  speedup?: number;
}

export interface CidrBenchResult extends Array<CidrBenchRow> {
  realFiles: string[];
  gc: 'global.gc' | 'v8 flag' | 'none';
}

/** A full GC: `global.gc` under --expose-gc, else the flag set at run time, else nothing. */
function findGc(): { gc: (() => void) | null; how: CidrBenchResult['gc'] } {
  const global = globalThis as { gc?: () => void };
  if (typeof global.gc === 'function') return { gc: global.gc, how: 'global.gc' };
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return { gc: gc as () => void, how: 'v8 flag' };
  } catch {
    // fall through: heap figures are reported as null
  }
  return { gc: null, how: 'none' };
}

/** A full GC, then a pause: V8 frees ArrayBuffer memory after the GC that found it dead. */
async function settle(gc: (() => void) | null): Promise<void> {
  if (!gc) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
}

/** A flat copy of a string: generated text is a rope until first read, which would count as the set's memory. */
const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

function realEntries(): { entries: CidrEntry[]; files: string[] } {
  const entries: CidrEntry[] = [];
  const files: string[] = [];
  if (!existsSync(shared)) return { entries, files };
  for (const name of readdirSync(shared).sort()) {
    if (!/\.(netset|ipset)$/.test(name)) continue;
    const list = files.push(name) - 1;
    for (const cidr of parseListText(readFileSync(join(shared, name), 'utf8')).entries) entries.push({ cidr: flat(cidr), list });
  }
  return { entries, files };
}

/** Generated ranges: IPv4 /8–/32 (mostly /24 and longer), IPv6 /29–/128 in 2000::/4; nesting happens. */
function generated(count: number, v6Count: number, firstList: number, seed: number): CidrEntry[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const hex = () => int(0x10000).toString(16);
  const out: CidrEntry[] = [];
  for (let i = 0; i < count; i++) {
    const list = firstList + int(GENERATED_LISTS);
    // v6Count of the count, spread evenly.
    if (Math.floor(((i + 1) * v6Count) / count) > Math.floor((i * v6Count) / count)) {
      const prefix = [29, 32, 48, 48, 56, 64, 64, 128][int(8)]!;
      out.push({ cidr: flat(`${(0x2000 + int(0x1000)).toString(16)}:${hex()}:${hex()}:${hex()}:${hex()}::${hex()}/${prefix}`), list });
    } else {
      const prefix = [8, 16, 20, 24, 24, 24, 28, 32, 32, 32][int(10)]!;
      out.push({ cidr: flat(`${1 + int(222)}.${int(256)}.${int(256)}.${int(256)}/${prefix}`), list });
    }
  }
  return out;
}

/** Probes: half inside listed ranges, half anywhere. */
function probes(entries: readonly CidrEntry[], version: 4 | 6, n: number): string[] {
  const random = prng(7 + version);
  const int = (k: number) => Math.floor(random() * k);
  const hex = () => int(0x10000).toString(16);
  const listed = entries.filter((e) => (typeof e.cidr === 'string' ? e.cidr.includes(':') === (version === 6) : e.cidr.version === version));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 && listed.length > 0) {
      const cidr = listed[int(listed.length)]!.cidr as string;
      out.push(parseIp(cidr.slice(0, cidr.indexOf('/')))!.address);
    } else {
      out.push(version === 4 ? `${int(224)}.${int(256)}.${int(256)}.${int(256)}` : `${(0x2000 + int(0x1000)).toString(16)}:${hex()}:${hex()}:${hex()}::${hex()}`);
    }
  }
  // Flat strings, as a socket or header parser hands them over.
  return out.map(flat);
}

function nsPer(fn: (text: string) => unknown, texts: readonly string[], minMs: number): number {
  let sink = 0;
  for (const text of texts) if (fn(text)) sink++; // warm-up
  let rounds = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    for (const text of texts) if (fn(text)) sink++;
    rounds++;
    elapsed = Number(process.hrtime.bigint() - start);
  } while (elapsed < minMs * 1e6);
  if (sink < 0) console.log(sink);
  return elapsed / (rounds * texts.length);
}

export async function run(options: { sizes?: readonly number[] } = {}): Promise<CidrBenchResult> {
  const sizes = options.sizes ?? [10_000, 100_000, 1_000_000];
  const { gc, how } = findGc();
  const real = realEntries();
  const rows: CidrBenchRow[] = [];
  for (const count of sizes) {
    // Real ranges for up to 60% of the set (they are IPv4), generated ones for the rest, so that
    // about a fifth of every size is IPv6.
    const realPart = real.entries.slice(0, Math.floor(count * 0.6));
    const entries = [...realPart, ...generated(count - realPart.length, Math.round(count * 0.2), real.files.length, count)];
    const lists = real.files.length + GENERATED_LISTS;
    const v4 = probes(entries, 4, 4096);
    const v6 = probes(entries, 6, 4096);

    await settle(gc);
    const before = process.memoryUsage();
    const t = process.hrtime.bigint();
    const set = buildCidrSet(entries, lists);
    const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
    await settle(gc);
    const after = process.memoryUsage();
    const heapMb = gc ? (after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)) / 1048576 : null;

    const row: CidrBenchRow = {
      entries: entries.length,
      ipv6Entries: entries.filter((e) => (e.cidr as string).includes(':')).length,
      lists,
      buildMs: Math.round(buildMs),
      tablesMb: +(set.bytes / 1048576).toFixed(1),
      heapMb: heapMb === null ? null : +heapMb.toFixed(1),
      v4Ns: Math.round(nsPer((text) => set.match(parseIp(text)!), v4, 300)),
      v6Ns: Math.round(nsPer((text) => set.match(parseIp(text)!), v6, 300)),
      v4TextNs: Math.round(nsPer((text) => set.matchText(text), v4, 300)),
      v6TextNs: Math.round(nsPer((text) => set.matchText(text), v6, 300)),
    };
    if (count <= 100_000) {
      const ranges = entries.map((e) => ipaddr.parseCIDR(e.cidr as string));
      const linear = (text: string) => {
        const ip = ipaddr.parse(text);
        const kind = ip.kind();
        let found = 0;
        for (const range of ranges) if (range[0].kind() === kind && ip.match(range)) found++;
        return found;
      };
      row.linearNs = Math.round(nsPer(linear, v4.slice(0, count <= 10_000 ? 256 : 32), 200));
      row.speedup = Math.round(row.linearNs / row.v4Ns);
    }
    rows.push(row);
  }
  return Object.assign(rows, { realFiles: real.files, gc: how });
}

export function table(result: CidrBenchResult): string {
  const lines = [
    '| entries (IPv6) | lists | build ms | heap MB | tables MB | IPv4 ns (parseIp+match / matchText) | IPv6 ns (parseIp+match / matchText) | ipaddr.js linear ns | speed-up |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of result) {
    lines.push(
      `| ${r.entries} (${r.ipv6Entries}) | ${r.lists} | ${r.buildMs} | ${r.heapMb ?? 'n/a'} | ${r.tablesMb} | ${r.v4Ns} / ${r.v4TextNs} | ${r.v6Ns} / ${r.v6TextNs} | ${r.linearNs ?? '–'} | ${r.speedup ? `${r.speedup}×` : '–'} |`,
    );
  }
  const source = result.realFiles.length > 0 ? `real lists: ${result.realFiles.join(', ')} + generated ranges` : 'generated ranges only (../shared/data/blocklists not found)';
  lines.push('', `${source}; heap via ${result.gc === 'none' ? 'no GC available: heap not measured' : result.gc}; Node ${process.version}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  console.log(table(await run()));
}
