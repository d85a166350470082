/**
 * The benchmarks' 100k-entry CIDR list: the real FireHOL and Spamhaus sets from ../shared/data
 * when present, topped up with generated ranges. Apart from bench/evaluate.ts so that source
 * benchmarks (bench/ab.ts) can use it without loading the built packages.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../packages/core/src/cli/synthetic.js';

const shared = resolve(fileURLToPath(new URL('..', import.meta.url)), '../shared/data/blocklists');

/** A list file of `count` entries: the real blocklists first, generated /24s and /48s after. */
export function blocklistFile(count: number): string {
  const lines: string[] = [];
  if (existsSync(shared)) {
    for (const name of readdirSync(shared)) {
      for (const line of readFileSync(join(shared, name), 'utf8').split('\n')) {
        if (line && !line.startsWith('#')) lines.push(line.trim());
      }
    }
  }
  const random = prng(99);
  while (lines.length < count) {
    lines.push(lines.length % 5 === 0
      ? `2001:${Math.floor(random() * 0xffff).toString(16)}:${Math.floor(random() * 0xffff).toString(16)}::/48`
      : `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.0/24`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ag-bench-'));
  const file = join(dir, 'big.txt');
  writeFileSync(file, lines.slice(0, count).join('\n'));
  return file;
}
