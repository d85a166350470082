/**
 * The benchmarks' 100k-entry CIDR list: the real FireHOL and Spamhaus sets from ../shared/data
 * when present, topped up with generated ranges. Apart from bench/evaluate.ts so that source
 * benchmarks (bench/ab.ts) can use it without loading the built packages.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../packages/core/src/cli/synthetic.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * ../shared/data/blocklists beside this checkout, or beside the main one when this is a `git
 * worktree` elsewhere (a before/after comparison): without it a tree measures a list of generated
 * ranges only, which blocks other decisions than the real lists do (2026-12-03: worktrees in /tmp
 * had been measured so, against the main checkout's real lists).
 */
function sharedBlocklists(): string | null {
  const candidates = [resolve(repo, '../shared/data/blocklists')];
  try {
    const common = execFileSync('git', ['rev-parse', '--git-common-dir'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    candidates.push(resolve(repo, common, '../../shared/data/blocklists'));
  } catch {
    // not a git checkout: the first place only
  }
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** A list file of `count` entries: the real blocklists first, generated /24s and /48s after. */
export function blocklistFile(count: number): string {
  const lines: string[] = [];
  const shared = sharedBlocklists();
  if (shared === null) console.warn('bench/blocklist.ts: no ../shared/data/blocklists found; the list is generated ranges only');
  else {
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
