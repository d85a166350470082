/**
 * Where a decision's time goes: a CPU profile of whole decisions through the reference policy
 * (the workload of bench/evaluate.ts: 100k-CIDR list, ~1 KB ads, MemoryStore, each action parsed
 * from its JSON text, the parse inside the profile), taken after a warm-up with the inspector's
 * sampling profiler, then the inclusive share of the functions that matter printed as a table. The profile is written too, for Chrome DevTools or speedscope.
 * Shares move little with the host's speed (only absolute times do); the profiler itself adds
 * roughly half to each decision's CPU time.
 *
 * The built packages (bench/built.ts): `pnpm build` first.
 *
 *   pnpm exec tsx bench/profile.ts                 DECISIONS=100000, OUT=bench/results/evaluate.cpuprofile
 *                                                  VARIANT=day (bench/workload.ts), or VARIANT=repeat
 *   VARIANT=view pnpm exec tsx bench/profile.ts    `page.view` from 50,000 addresses behind a trusted proxy
 *                                                  (bench/http-overhead.ts's route, without the HTTP server)
 *   VARIANT=submit ...                             `ad.submit` without content, the same addresses
 *
 * Two tables: inclusive shares (a function and all it calls) and self shares (its own code, with
 * what V8 inlined into it), the latter with the profiler's idle time left out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Action } from '@actiongate/core';
import { core, memory } from './built.js';
import { blocklistFile } from './blocklist.js';
import { workload, type WorkloadName } from './workload.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const decisions = Number(process.env.DECISIONS ?? 100_000);
const out = process.env.OUT ?? join(root, 'bench/results/evaluate.cpuprofile');

const variant = process.env.VARIANT ?? 'day';
if (!['day', 'repeat', 'view', 'submit'].includes(variant)) throw new Error(`VARIANT=${variant}: day, repeat, view or submit`);
const document = JSON.parse(readFileSync(join(root, 'rules/classifieds.json'), 'utf8'));
const withContent = variant === 'day' || variant === 'repeat';
if (withContent) document.lists['big-blocklist'] = { files: [blocklistFile(100_000)], score: 30 };
const policy = core.compilePolicy(document, { file: join(root, 'rules/classifieds.json') });
const WARM_UP = 30_000;
// As bench/evaluate.ts: each action parsed from its JSON text before its decision.
const { lines, at } = withContent
  ? workload(variant as WorkloadName, WARM_UP + decisions)
  : {
      lines: Array.from({ length: 50_000 }, (_, i) => JSON.stringify({
        action: variant === 'submit' ? 'ad.submit' : 'page.view',
        request: { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` } },
      })),
      at: [],
    };
let clock = Date.UTC(2026, 0, 5);
const guard = core.createGuard({ policy, store: new memory.MemoryStore({ maxKeys: 500_000 }), now: () => clock });
const next = (i: number): Action => {
  clock = at[i] ?? clock + 50;
  return JSON.parse(lines[i % lines.length]!) as Action;
};
for (let i = 0; i < WARM_UP; i++) await guard.evaluate(next(i));

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const cpu = process.cpuUsage();
for (let i = WARM_UP; i < WARM_UP + decisions; i++) await guard.evaluate(next(i));
const used = process.cpuUsage(cpu);
const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
session.disconnect();
await guard.close();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(profile));

// Inclusive time per function: each sample counts once for every distinct function on its stack.
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
let total = 0;
for (const time of self.values()) total += time;
const inclusive = new Map<string, number>();
for (const [id, time] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame;
    // The line tells apart functions of one name in one file (the guard's and the content signals' `evaluate`).
    const file = frame.url.split('/').pop();
    const name = `${frame.functionName || '(anonymous)'} (${file ? `${file}:${frame.lineNumber + 1}` : 'native'})`;
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + time);
  }
}
console.log(`${decisions} decisions, ${((used.user + used.system) / decisions).toFixed(1)} µs of CPU each under the profiler; profile: ${out}\n`);
console.log('| function (file:line) | share of the profile, inclusive |\n| --- | --- |');
for (const [name, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40))) {
  console.log(`| ${name} | ${((100 * time) / total).toFixed(1)}% |`);
}

// Self time per function, the profiler's idle ticks (waiting for nothing) left out.
const selfByName = new Map<string, number>();
let busy = 0;
for (const [id, time] of self) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)') continue;
  const file = frame.url.split('/').pop();
  const name = `${frame.functionName || '(anonymous)'} (${file ? `${file}:${frame.lineNumber + 1}` : 'native'})`;
  selfByName.set(name, (selfByName.get(name) ?? 0) + time);
  busy += time;
}
console.log('\n| function (file:line) | share of the busy profile, self |\n| --- | --- |');
for (const [name, time] of [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40))) {
  console.log(`| ${name} | ${((100 * time) / busy).toFixed(1)}% |`);
}
