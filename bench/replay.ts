/**
 * `actiongate replay` at scale: N synthetic actions (default 1M) written as a traffic file, then
 * replayed three ways, so the CLI's own cost is a ratio and its memory bound is shown:
 *
 *   1. bare: the same actions straight into guard.evaluate in a loop (no file, no report);
 *   2. replay(): the CLI's replay function in this process (file streaming, NDJSON parsing, the
 *      report and hit-rate aggregates);
 *   3. the built bin, `node packages/core/dist/cli.js replay`, as an operator runs it, once as is
 *      and once with a 128 MB heap cap (it must finish: memory is bounded).
 *
 *   pnpm build && pnpm exec tsx bench/replay.ts [N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '@actiongate/memory';
import { createGuard, loadPolicy } from '@actiongate/core';
import { openNdjson } from '../packages/core/src/cli/ndjson.js';
import { replay } from '../packages/core/src/cli/replay.js';
import { syntheticStream } from '../packages/core/src/cli/synthetic.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/core/dist/cli.js');
const policyFile = join(root, 'rules/classifieds.json');

export async function run(options: { actions?: number } = {}) {
  const actions = options.actions ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'ag-bench-replay-'));
  const traffic = join(dir, 'traffic.ndjson');
  try {
    execFileSync(process.execPath, [bin, 'synthetic', '--actions', String(actions), '--out', traffic], { stdio: 'ignore' });
    const policy = await loadPolicy(policyFile);

    let clock = 0;
    const guard = createGuard({ policy, store: new MemoryStore(), now: () => clock, random: () => 0.5 });
    const bareStart = process.hrtime.bigint();
    for (const item of syntheticStream({ actions })) {
      clock = item.at;
      await guard.evaluate(item.action);
    }
    const bareSeconds = Number(process.hrtime.bigint() - bareStart) / 1e9;
    await guard.close();

    const input = await openNdjson(traffic);
    const inProcess = await replay({ policies: [policy], lines: input.lines });

    const cli = (args: string[]) => JSON.parse(execFileSync(process.execPath, [...args, bin, 'replay', '--policy', policyFile, '--format', 'json', traffic], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const plain = cli([]);
    const capped = cli(['--max-old-space-size=128']);
    return {
      actions,
      bare: Math.round(actions / bareSeconds),
      inProcess: Math.round(inProcess.actionsPerSecond),
      overhead: +(actions / bareSeconds / inProcess.actionsPerSecond).toFixed(2),
      bin: Math.round(plain.actionsPerSecond),
      binRssMb: Math.round(plain.peakRssMb),
      cappedBin: Math.round(capped.actionsPerSecond),
      cappedRssMb: Math.round(capped.peakRssMb),
      cappedActions: capped.actions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  const r = await run(n ? { actions: n } : {});
  console.log(`\n### actiongate replay, ${r.actions.toLocaleString('en')} synthetic actions through rules/classifieds.json\n`);
  console.log('| run | actions/s | peak RSS MB |\n| --- | --- | --- |');
  console.log(`| guard.evaluate in a loop (no file, no report) | ${r.bare} | – |`);
  console.log(`| replay() in process (file, parsing, report) | ${r.inProcess} (${r.overhead}× the loop's time) | – |`);
  console.log(`| \`node packages/core/dist/cli.js replay\` | ${r.bin} | ${r.binRssMb} |`);
  console.log(`| the same with \`--max-old-space-size=128\` | ${r.cappedBin} (${r.cappedActions} actions) | ${r.cappedRssMb} |`);
}
