/**
 * `pnpm soak`: the soak under faults at length. Several processes evaluate through RedisStore on
 * a private redis-server for minutes while it is killed and restarted twice and paused once; the
 * run must keep every decision in time, degrade only during the faults, count exactly after each
 * recovery, leak nothing (each process exits by itself) and keep the heap flat. The same harness
 * and checks as the short run in `pnpm test` (`packages/adapters-redis/test/soak.test.ts`).
 *
 *   pnpm soak                       10 minutes, 4 processes × 450 decisions/s (over a million)
 *   SOAK_SECONDS=60 SOAK_WORKERS=3 SOAK_RATE=400 pnpm soak
 *   SOAK_JSON=soak.json pnpm soak   also writes the whole report
 *
 * Exits 1 when a property broke, listing which. Never touches a Redis it did not start.
 */
import { writeFileSync } from 'node:fs';
import { checkSoak, runSoak, SHORT_SOAK, summarise } from '../packages/adapters-redis/test/fixtures/soak.js';

const number = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return value;
};

const report = await runSoak({
  ...SHORT_SOAK,
  seconds: number('SOAK_SECONDS', 600),
  workers: number('SOAK_WORKERS', 4),
  rate: number('SOAK_RATE', 450),
  storeTimeoutMs: number('SOAK_STORE_TIMEOUT_MS', SHORT_SOAK.storeTimeoutMs),
  outageMs: number('SOAK_OUTAGE_MS', 5_000),
  pauseMs: number('SOAK_PAUSE_MS', 3_000),
  warmupMs: number('SOAK_WARMUP_MS', 10_000),
  log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
});
if (process.env.SOAK_JSON) writeFileSync(process.env.SOAK_JSON, JSON.stringify(report, null, 2));
console.log(`\n${summarise(report)}`);
const problems = checkSoak(report);
if (problems.length > 0) {
  console.log(`\nFAILED:\n- ${problems.join('\n- ')}`);
  process.exitCode = 1;
} else {
  console.log('\nall properties held');
}
