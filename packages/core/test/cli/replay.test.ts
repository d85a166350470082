import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, ensureBuilt, fixture, root, run, tempDir } from './bin.js';

beforeAll(ensureBuilt, 200_000);
const temp = tempDir();
afterAll(temp.remove);

const policy = relative(root, fixture('policy.json'));
const strict = relative(root, fixture('policy-strict.json'));
const traffic = relative(root, fixture('traffic.ndjson'));
const T = 1767600000000; // the fixture's first line, 2026-01-05T08:00:00Z

/*
 * The fixture traffic, by line (policy.json: ip-burst 3 per minute, 3 violations in 1h → 1h ban,
 * casino +50, anonymous casino +40, challenge at 40, block at 80, Tor → challenge, office allowlist):
 *   1, 2        legitimate ads                                   allow, allow
 *   3           spam from the listed 203.0.113.0/24              block (recorded: allow)
 *   4           casino ad, anonymous (50 + 40)                   block
 *   5           casino ad, registered (50)                       challenge
 *   6–12        a flood from 198.18.0.9, one minute              allow ×3, throttle ×2, ban at 12's
 *                                                                 third violation (11), block (12)
 *   13, 14, 15  not JSON / an invalid action / not an object     skipped
 *   16          legitimate, through the trusted proxy            allow
 *   17          legitimate, but through Tor                      challenge
 *   18          casino text from the allowlisted office          allow
 *   19          the first user again, an hour later              allow
 *   20          the flood IP within its hour's ban               block
 */
describe('actiongate replay', () => {
  it('replays labelled traffic on a virtual clock and reports against labels and recorded verdicts', async () => {
    const { code, stdout, stderr } = await run(['replay', '--policy', policy, '--format', 'json', traffic]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.actions).toBe(17);
    expect(result.skipped.count).toBe(3);
    expect(result.skipped.first.map((s: { line: number }) => s.line)).toEqual([13, 14, 15]);
    expect(result.skipped.first[1].error).toContain('invalid action: action: expected a non-empty string');
    const stats = result.stats[0];
    expect(stats.policy).toBe('fixture@1');
    expect(stats.byVerdict).toEqual({ allow: 8, challenge: 2, throttle: 2, block: 5 });
    expect(stats.labels).toEqual({ spam: 11, ham: 6, spamStopped: 8, hamAllowed: 5, hamChallenged: 1, hamThrottled: 0, hamBlocked: 0 });
    expect(stats.recorded).toEqual({ compared: 4, same: 3, changes: { 'allow→block': 1 } });
    expect(stats.scenarios.flood).toEqual({ allow: 3, challenge: 0, throttle: 2, block: 3 });
    // SpamAssassin-style hit rates: the limit only hits spam, the Tor rule only ham.
    const hit = (key: string) => stats.hits.find((h: { key: string }) => h.key === key);
    expect(hit('limit:ip-burst')).toMatchObject({ hits: 4, spamHits: 4, hamHits: 0, so: 1 });
    expect(hit('limit:ip-burst').spamPercent).toBeCloseTo((100 * 4) / 11, 6);
    expect(hit('rule:tor-exit')).toMatchObject({ hits: 1, spamHits: 0, hamHits: 1, so: 0 });
    expect(hit('rule:tor-exit').hamPercent).toBeCloseTo(100 / 6, 6);
    // The flood IP was banned for the ladder's first rung (1h) at line 11 (T + 15 s).
    const report = result.reports[0];
    expect(report.blocked.ips[0]).toMatchObject({ key: '198.18.0.9', count: 3, bans: 1, banUntil: T + 15_000 + 3_600_000 });
    expect(report.limits.violations).toEqual([{ key: 'ip-burst', count: 4, error: 0 }]);
    expect(report.from).toBe(T);
    expect(report.to).toBe(T + 3_605_000);
    // Skipped lines are named on stderr, with their numbers.
    expect(stderr).toContain(`${traffic}:13: not valid JSON`);
    expect(stderr).toContain(`${traffic}:15: not a traffic object`);
    expect(stderr).toContain(`${traffic}: 3 lines skipped, the rest processed`);
    // Not a terminal: no progress bar.
    expect(stderr).not.toContain('\r');
  });

  it('prints the text report with the label lines, scenarios, hit rates and the decision report', async () => {
    const { code, stdout } = await run(['replay', '--policy', policy, traffic]);
    expect(code).toBe(0);
    expect(stdout).toContain('Replay through fixture@1 (fresh MemoryStore, virtual clock)');
    expect(stdout).toMatch(/^17 actions from .*traffic\.ndjson in [\d.]+ s \([\d,]+ actions\/s, peak RSS \d+ MB\); 3 lines skipped/m);
    expect(stdout).toContain('  spam stopped          72.7% (8 of 11)');
    expect(stdout).toContain('  legitimate allowed    83.3% (5 of 6)');
    expect(stdout).toContain('  legitimate blocked    0');
    expect(stdout).toContain('  legitimate challenged 1, throttled 0');
    expect(stdout).toContain('Against the recorded verdicts (4 lines had one): 3 the same, 1 changed');
    expect(stdout).toMatch(/^ {2}flood +3 +0 +2 +3$/m);
    expect(stdout).toMatch(/^ +4 +36\.4% +0\.0% +1\.00 {2}limit:ip-burst$/m);
    expect(stdout).toContain('Rate-limit violations (decisions that exceeded each limit):');
  });

  it('is deterministic: two runs give the same report', async () => {
    const [a, b] = await Promise.all([run(['replay', '--policy', policy, '--format', 'json', traffic]), run(['replay', '--policy', policy, '--format', 'json', traffic])]);
    const strip = (text: string) => {
      const { seconds: _s, actionsPerSecond: _a, peakRssMb: _p, ...rest } = JSON.parse(text);
      return rest;
    };
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
  });

  it('replays traffic at the end of the Date range, its bans ending beyond it, without crashing', async () => {
    // The fixture's lines moved to the last second of the Date range: the flood's 1h ban ends
    // after year 275760, which the report shows as a number.
    const shifted = join(temp.dir, 'far.ndjson');
    const lines = readFileSync(fixture('traffic.ndjson'), 'utf8').split('\n').flatMap((line) => {
      try {
        const record = JSON.parse(line);
        return typeof record === 'object' && record !== null && typeof record.at === 'number' ? [JSON.stringify({ ...record, at: record.at - T + 8.64e15 - 3_605_000 })] : [];
      } catch {
        return [];
      }
    });
    writeFileSync(shifted, `${lines.join('\n')}\n`);
    const { code, stdout, stderr } = await run(['replay', '--policy', policy, shifted]);
    expect(stderr).not.toContain('unexpected failure');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}198\.18\.0\.9 +\d+ +1 {2}\d+ ms \(beyond the date range\)$/m);
  });

  it('evaluates a line earlier than one before it at the latest time seen, and counts it out of order', async () => {
    const file = join(temp.dir, 'unordered.ndjson');
    const log = join(temp.dir, 'unordered-decisions.ndjson');
    const at = [T, T + 120_000, T + 60_000, T + 180_000];
    writeFileSync(file, `${at.map((t, i) => JSON.stringify({ at: t, action: { action: 'ad.submit', ip: `192.0.2.${i + 1}` } })).join('\n')}\n`);
    const { code, stdout } = await run(['replay', '--policy', policy, '--format', 'json', '--log', log, file]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ actions: 4, outOfOrder: 1 });
    const decisions = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(decisions.map((d) => d.at)).toEqual([T, T + 120_000, T + 120_000, T + 180_000]);
    const text = await run(['replay', '--policy', policy, file]);
    expect(text.stdout).toContain('; 1 out of time order (evaluated at the latest time seen)');
  });

  it('--max-keys bounds the subjects each store keeps: a forgotten flooder starts over', async () => {
    // policy.json: ip-burst 3 a minute. One IP sends 5 within the minute, another IP between.
    const file = join(temp.dir, 'max-keys.ndjson');
    const ips = ['198.18.0.1', '198.18.0.1', '198.18.0.1', '198.18.0.2', '198.18.0.1', '198.18.0.1'];
    writeFileSync(file, `${ips.map((ip, i) => JSON.stringify({ at: T + i * 1000, action: { action: 'ad.submit', ip } })).join('\n')}\n`);
    const verdicts = async (args: string[]) => {
      const { code, stdout } = await run(['replay', '--policy', policy, '--format', 'json', ...args, file]);
      expect(code).toBe(0);
      return JSON.parse(stdout).reports[0].byVerdict;
    };
    expect(await verdicts([])).toMatchObject({ allow: 4, throttle: 2 });
    expect(await verdicts(['--max-keys', '1'])).toMatchObject({ allow: 6, throttle: 0 });
  });

  it('reads an ISO time without a zone as UTC, so the replay is the same in every time zone', async () => {
    const file = join(temp.dir, 'iso.ndjson');
    const times = ['2026-01-05T08:00:00', '2026-01-05 08:00:30.5', '2026-01-05T09:00:00+01:00', '2026-01-05T08:01Z'];
    writeFileSync(file, `${times.map((at) => JSON.stringify({ at, action: { action: 'ad.submit', ip: '192.0.2.1' } })).join('\n')}\n`);
    for (const TZ of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      const { code, stdout } = await run(['replay', '--policy', policy, '--format', 'json', file], { env: { TZ } });
      expect(code).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.actions).toBe(4);
      expect(result.outOfOrder).toBe(1); // 09:00+01:00 is 08:00 UTC, before 08:00:30.5
      expect([result.reports[0].from, result.reports[0].to]).toEqual([T, T + 60_000]);
    }
  });

  it('judges a policy in monitor mode against the labels as it answers and as it would if enforced', async () => {
    // The fixture policy in monitor mode: everything is allowed, and wouldBe says what enforcing would give.
    const document = JSON.parse(readFileSync(fixture('policy.json'), 'utf8'));
    document.version = 'm';
    document.mode = 'monitor';
    for (const list of Object.values(document.lists) as { files?: string[] }[]) if (list.files) list.files = list.files.map((f) => fixture(f));
    const monitored = join(temp.dir, 'monitor.json');
    writeFileSync(monitored, JSON.stringify(document));
    const { code, stdout } = await run(['replay', '--policy', monitored, '--format', 'json', traffic]);
    expect(code).toBe(0);
    const stats = JSON.parse(stdout).stats[0];
    expect(stats.byVerdict).toEqual({ allow: 17, challenge: 0, throttle: 0, block: 0 });
    expect(stats.labels).toMatchObject({ spam: 11, spamStopped: 0, hamAllowed: 6 });
    // As enforcing would answer, less the flood IP's block within its ban (a monitor-mode policy bans nobody).
    expect(stats.labelsIfEnforced).toEqual({ spam: 11, ham: 6, spamStopped: 7, hamAllowed: 5, hamChallenged: 1, hamThrottled: 0, hamBlocked: 0 });
    const text = await run(['replay', '--policy', monitored, traffic]);
    expect(text.stdout).toContain('Against the labels if enforced (what monitor mode held back, wouldBe, counted):\n  spam stopped          63.6% (7 of 11)');
    // An enforcing policy has nothing held back to show.
    expect(JSON.parse((await run(['replay', '--policy', policy, '--format', 'json', traffic])).stdout).stats[0].labelsIfEnforced).toBeNull();
    const compared = await run(['replay', '--policy', policy, '--compare', monitored, traffic]);
    expect(compared.stdout).toMatch(/^ {2}if enforced \(wouldBe: what monitor mode held back, counted\)\n {2}spam stopped +as above +63\.6% \(7\)$/m);
  });

  it('--compare shows what changes: transitions, legitimate actions newly stopped, spam newly stopped, hits side by side', async () => {
    const { code, stdout } = await run(['replay', '--policy', policy, '--compare', strict, '--format', 'json', traffic]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.policies).toEqual(['fixture@1', 'fixture@2']);
    const cmp = result.comparison;
    expect(cmp.actions).toBe(17);
    // strict: ip-burst 2 instead of 3; casino +40 for every status; a rule challenging "sofa".
    expect(cmp.transitions).toEqual({ 'allow→challenge': 2, 'challenge→block': 1, 'allow→throttle': 1, 'throttle→block': 1 });
    expect(cmp.changed).toBe(5);
    expect(cmp.hamNewlyStopped.count).toBe(2);
    expect(cmp.hamNewlyStopped.byVerdict).toEqual({ allow: 0, challenge: 2, throttle: 0, block: 0 });
    expect(cmp.hamNewlyStopped.examples.map((e: { line: number }) => e.line)).toEqual([1, 19]);
    expect(cmp.hamNewlyStopped.examples[0]).toMatchObject({ from: 'allow', to: 'challenge', actor: 'u1', reasons: ['content:term:sofa', 'rule:no-furniture'] });
    expect(cmp.spamNewlyStopped.count).toBe(1);
    expect(cmp.spamNewlyStopped.examples[0]).toMatchObject({ line: 8, from: 'allow', to: 'throttle', reasons: ['limit:ip-burst'] });
    expect(cmp.spamNewlyAllowed.count).toBe(0);
    expect(result.stats[1].hits.find((h: { key: string }) => h.key === 'rule:no-furniture')).toMatchObject({ hits: 2, hamHits: 2, so: 0 });

    const text = await run(['replay', '--policy', policy, '--compare', strict, traffic]);
    expect(text.stdout).toContain('Replay comparing A = fixture@1 with B = fixture@2');
    expect(text.stdout).toContain('Legitimate actions newly challenged, throttled or blocked by B: 2 (challenge 2, throttle 0, block 0)');
    expect(text.stdout).toContain('  line 1: ad.submit (ip 192.0.2.1, actor "u1", scenario legit): allow → challenge by content:term:sofa, rule:no-furniture');
    expect(text.stdout).toContain('Spam newly stopped by B: 1');
    expect(text.stdout).toMatch(/^ {2}rule:no-furniture +0 +– +– +– \| +2 +0\.0% +33\.3% +0\.00 \*$/m);
  });

  it('--log writes the decisions, which report reads back; "-" reads stdin; --strict fails on skipped lines', async () => {
    const log = join(temp.dir, 'decisions.ndjson');
    const replay = await run(['replay', '--policy', policy, '--log', log, '--strict', '-'], { input: readFileSync(fixture('traffic.ndjson'), 'utf8') });
    expect(replay.code).toBe(1); // three skipped lines
    expect(replay.stderr).toContain('-:13: not valid JSON');
    const decisions = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(decisions).toHaveLength(17);
    expect(decisions.map((d) => d.verdict).filter((v) => v === 'block')).toHaveLength(5);
    expect(decisions[0]).toMatchObject({ at: T, policy: 'fixture@1', action: 'ad.submit', verdict: 'allow', actor: 'u1' });

    const report = await run(['report', '--format', 'json', log]);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout).byVerdict).toEqual({ allow: 8, challenge: 2, throttle: 2, block: 5 });
  });

  it('draws the progress bar on stderr when it is a terminal, never on stdout', async () => {
    const file = join(temp.dir, 'progress.ndjson');
    expect((await run(['synthetic', '--actions', '2100', '--out', file])).code).toBe(0);
    // util-linux `script` gives the command a pseudo-terminal; stdout goes to a file, so what
    // comes through the terminal is stderr only.
    const out = join(temp.dir, 'progress.out');
    const command = `'${process.execPath}' '${bin}' replay --policy rules/classifieds.json '${file}' > '${out}'`;
    const tty = execFileSync('script', ['-qec', command, '/dev/null'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    expect(tty).toMatch(/\r\[[#·]{30}\] +\d+% {2}[\d,]+ actions {2}[\d,]+\/s/);
    expect(tty).toContain('\r\u001b[K'); // erased at the end
    const report = readFileSync(out, 'utf8');
    expect(report).toMatch(/^2,100 actions from /m);
    expect(report).not.toContain('\r');
    const quiet = execFileSync('script', ['-qec', command.replace(' replay ', ' replay --no-progress '), '/dev/null'], { cwd: root, encoding: 'utf8' });
    expect(quiet).not.toContain('actions/s');
  });

  it('an output file that cannot be opened is an input problem (exit 1, the path named), not an unexpected failure', async () => {
    const missing = join(temp.dir, 'no-such-dir', 'out.ndjson');
    for (const args of [['synthetic', '--actions', '5', '--out', missing], ['replay', '--policy', policy, '--log', missing, traffic]]) {
      const { code, stderr } = await run(args);
      expect(code).toBe(1);
      expect(stderr).not.toContain('unexpected failure');
      expect(stderr).toContain(`cannot write ${missing}: ENOENT`);
    }
  });

  it('refuses a --log that is the traffic file or a policy (exit 2), which opening it would empty before a line is read', async () => {
    const copy = join(temp.dir, 'own-log.ndjson');
    const original = readFileSync(fixture('traffic.ndjson'), 'utf8');
    writeFileSync(copy, original);
    const link = join(temp.dir, 'own-log-link.ndjson');
    symlinkSync(copy, link);
    for (const args of [['--log', copy, copy], ['--log', link, copy], ['--log', policy, traffic]]) {
      const { code, stdout, stderr } = await run(['replay', '--policy', policy, ...args]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('writing it would overwrite what is being read');
    }
    expect(readFileSync(copy, 'utf8')).toBe(original);
    expect(readFileSync(fixture('policy.json'), 'utf8')).toContain('"name": "fixture"');
  });

  it('replays synthetic traffic written by "actiongate synthetic", deterministically for a seed', async () => {
    const file = join(temp.dir, 'synthetic.ndjson');
    const written = await run(['synthetic', '--actions', '300', '--seed', '7', '--out', file]);
    expect(written.code).toBe(0);
    const again = await run(['synthetic', '--actions', '300', '--seed', '7']);
    expect(again.stdout).toBe(readFileSync(file, 'utf8'));
    const lines = again.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(300);
    expect(lines.every((l, i) => i === 0 || l.at >= lines[i - 1].at)).toBe(true);
    expect(new Set(lines.map((l) => l.label))).toEqual(new Set(['spam', 'ham']));
    const { code, stdout } = await run(['replay', '--policy', 'rules/classifieds.json', '--format', 'json', file]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.actions).toBe(300);
    expect(result.skipped.count).toBe(0);
    expect(result.stats[0].labels.spam + result.stats[0].labels.ham).toBe(300);
  });
});
