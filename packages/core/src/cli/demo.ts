/**
 * `actiongate demo`: seeded synthetic classified-ads traffic replayed through a policy on a
 * virtual clock with the in-process store, then a report against the traffic's labels.
 */
import { MemoryStore } from '@actiongate/memory';
import { createGuard } from '../guard.js';
import { loadPolicy } from '../policy/load.js';
import type { Decision } from '../types.js';
import { createReportBuilder, formatReport, type Report } from './report.js';
import { syntheticTraffic } from './synthetic.js';

export interface DemoOptions {
  policy: string;
  seed?: number;
  users?: number;
}

export interface DemoResult {
  report: Report;
  decisions: Decision[];
  decisionsPerSecond: number;
  text: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const policy = await loadPolicy(options.policy);
  const traffic = syntheticTraffic({ seed: options.seed ?? 42, ...(options.users ? { users: options.users } : {}) });
  let clock = traffic[0]?.at ?? 0;
  const guard = createGuard({ policy, store: new MemoryStore(), now: () => clock, random: () => 0.5 });
  const builder = createReportBuilder();
  const decisions: Decision[] = [];
  const started = process.hrtime.bigint();
  for (const item of traffic) {
    clock = item.at;
    const decision = await guard.evaluate(item.action);
    decisions.push(decision);
    builder.add(decision, item.label, item.scenario);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await guard.close();
  const report = builder.build();
  const decisionsPerSecond = traffic.length / seconds;
  const text = formatReport(report, { title: `Actiongate demo: ${traffic.length} synthetic ad submissions through ${policy.id} (MemoryStore, virtual clock)`, decisionsPerSecond });
  return { report, decisions, decisionsPerSecond, text };
}
