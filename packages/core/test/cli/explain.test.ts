import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGuard, loadPolicy, type Action } from '@actiongate/core';
import { RedisStore } from '@actiongate/redis';
import { ensureBuilt, fixture, root, run, tempDir } from './bin.js';

beforeAll(ensureBuilt, 200_000);
const temp = tempDir();
afterAll(temp.remove);

const policy = relative(root, fixture('policy.json'));

describe('actiongate explain', () => {
  it('shows the normalised action, every fact, lists, content, limits, each rule condition with its fact value, and the verdict', async () => {
    const { code, stdout } = await run(['explain', '--policy', policy, '--at', '2026-01-05T10:00:00Z', fixture('action.json')]);
    expect(code).toBe(0);
    expect(stdout).toContain('Explain: ad.submit through fixture@1 at 2026-01-05T10:00:00.000Z (dry run: nothing counted or written)');
    // The client IP walked out of X-Forwarded-For past the trusted proxy.
    expect(stdout).toContain('  ip          192.0.2.60 (IPv4, counted as ip:192.0.2.60) from the x-forwarded-for header');
    for (const fact of ['action', 'ip', 'actor', 'content', 'limits', 'history', 'score', 'attributes']) expect(stdout).toMatch(new RegExp(`^  ${fact} +\\S`, 'm'));
    expect(stdout).toContain('  actor       {"id":"s9","status":"anonymous","createdAt":1767596400000,"ageMs":10800000}');
    expect(stdout).toContain('  +50   term:casino: content contains "casino"');
    expect(stdout).toMatch(/✓ ip-burst +1m by ip +within: this action would make it 1 of 3 per 1m for ip:192\.0\.2\.60 \(2 left\)/);
    expect(stdout).toContain('the compiled rules fired the same');
    expect(stdout).toContain('  ✓ casino-anonymous → score +40: casino ad from an anonymous account');
    expect(stdout).toContain('        ✓ content $.terms contains "casino"  (fact: ["casino"])');
    expect(stdout).toContain('  ✗ tor-exit → would challenge: submitted through Tor');
    expect(stdout).toContain('        ✗ attributes $.tor equal true  (fact: undefined)');
    expect(stdout).toContain('  = 90 (score 90 reached the block threshold)');
    expect(stdout).toContain('Verdict: BLOCK');
  });

  it('--format json carries the facts the guard built and json-rules-engine\'s trace', async () => {
    const { code, stdout } = await run(['explain', '--policy', policy, '--format', 'json', '--at', '1767607200000', fixture('action.json')]);
    expect(code).toBe(0);
    const e = JSON.parse(stdout);
    expect(e.at).toBe(1767607200000);
    expect(e.facts.score).toBe(50);
    expect(e.facts.actor.ageMs).toBe(1767607200000 - 1767596400000);
    expect(e.rulesAgree).toBe(true);
    expect(e.rules.map((r: { rule: string; result: boolean }) => [r.rule, r.result])).toEqual([['casino-anonymous', true], ['tor-exit', false]]);
    expect(e.rules[0].conditions.all[1]).toMatchObject({ fact: 'actor', path: '$.status', operator: 'equal', value: 'anonymous', factResult: 'anonymous', result: true, evaluated: true });
    expect(e.lists).toEqual([{ id: 'spam-range', matched: false, verdict: 'block' }, { id: 'office', matched: false, verdict: 'allow' }]);
    expect(e.limits.map((l: { id: string; applies: boolean }) => [l.id, l.applies])).toEqual([['ip-burst', true], ['actor-daily', true]]);
    expect(e.decision).toMatchObject({ verdict: 'block', score: 90, dryRun: true });
  });

  it('explains a limit that does not apply, and why', async () => {
    const action = join(temp.dir, 'comment.json');
    writeFileSync(action, JSON.stringify({ action: 'comment.post', ip: '192.0.2.9' }));
    const { code, stdout } = await run(['explain', '--policy', policy, action]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/· ip-burst +1m by ip +not counted: action "comment\.post" is not one of \["ad\.submit"\]/);
    expect(stdout).toContain('  actor       none');
    expect(stdout).toContain('Verdict: ALLOW');
  });

  it('--line replays the lines before it, then explains that line as the replay met it', async () => {
    const { code, stdout } = await run(['explain', '--policy', policy, '--line', '12', fixture('traffic.ndjson')]);
    expect(code).toBe(0);
    expect(stdout).toContain('after replaying the 11 earlier traffic lines into it');
    expect(stdout).toContain('at 2026-01-05T08:00:16.000Z');
    expect(stdout).toMatch(/✗ ip-burst +1m by ip +exceeded: 3 of 3 per 1m used by ip:198\.18\.0\.9/);
    expect(stdout).toContain('  block     ban:ip:198.18.0.9: 3 violations within 1h: banned for 1h (rung 1 of 2)');
    const bad = await run(['explain', '--policy', policy, '--line', '13', fixture('traffic.ndjson')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('traffic.ndjson:13: not valid JSON');
  });

  it('--line counts the earlier lines it evaluated, as replay counts actions, not the lines replay skips', async () => {
    // Lines 13-15 are skipped by replay (not JSON, an invalid action, not a traffic object): 12 actions come before line 16.
    const { code, stdout } = await run(['explain', '--policy', policy, '--line', '16', fixture('traffic.ndjson')]);
    expect(code).toBe(0);
    expect(stdout).toContain('after replaying the 12 earlier traffic lines into it');
    const json = await run(['explain', '--policy', policy, '--line', '16', '--format', 'json', fixture('traffic.ndjson')]);
    expect(JSON.parse(json.stdout).replayedBefore).toBe(12);
  });

  it('--line with stdin ("-") is a usage error (exit 2) saying to use a file, not a stack trace', async () => {
    const { code, stderr } = await run(['explain', '--policy', policy, '--line', '12', '-'], { input: readFileSync(fixture('traffic.ndjson'), 'utf8') });
    expect(code).toBe(2);
    expect(stderr).not.toContain('unexpected failure');
    expect(stderr).toContain('--line reads the traffic file twice');
    expect(stderr).toContain('Usage: actiongate explain');
  });

  it('reads an action file that starts with a byte order mark (as an editor may save it), like policies and traffic', async () => {
    const file = join(temp.dir, 'bom.json');
    writeFileSync(file, `\uFEFF${readFileSync(fixture('action.json'), 'utf8')}`);
    const { code, stdout, stderr } = await run(['explain', '--policy', policy, '--at', '2026-01-05T10:00:00Z', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Verdict: BLOCK');
  });

  it('refuses an action file past its bound (a device that never ends) with exit 1, memory bounded', async () => {
    const { code, stderr } = await run(['explain', '--policy', policy, '/dev/zero']);
    expect(code).toBe(1);
    expect(stderr).toContain('cannot read /dev/zero: more than 16777216 bytes (16 MB)');
  });

  it('reports a malformed action file and an invalid action with exit 1', async () => {
    const broken = join(temp.dir, 'broken.json');
    writeFileSync(broken, '{\n  "action": "ad.submit",\n  "ip": \n}');
    const syntax = await run(['explain', '--policy', policy, broken]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain(`${broken}:4:1: not valid JSON`);
    const invalid = join(temp.dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ action: 'ad.submit', actor: { id: 42 } }));
    const action = await run(['explain', '--policy', policy, invalid]);
    expect(action.code).toBe(1);
    expect(action.stderr).toContain('actor.id: expected a non-empty string, got number 42');
  });

  it('escapes control characters of the action in an error message, as in every other output', async () => {
    // An ActionError names the offending field: here a content key chosen by the client.
    const file = join(temp.dir, 'escape.json');
    writeFileSync(file, JSON.stringify({ action: 'ad.submit', content: { 'title\u001b]0;owned\u0007\u001b[2J': 5 } }));
    const { code, stderr } = await run(['explain', '--policy', policy, file]);
    expect(code).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(stderr).toContain('content.title\\u001b]0;owned\\u0007\\u001b[2J: expected a string, got number 5');
  });

  it('refuses an action whose attributes nest deeper than the guard takes, naming the field, instead of crashing', async () => {
    // Deep enough to overflow the stack of JSON.stringify (and of a rule's recursive path).
    const depth = 20_000;
    const file = join(temp.dir, 'deep.json');
    writeFileSync(file, `{"action":"ad.submit","ip":"192.0.2.1","attributes":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    for (const format of ['text', 'json']) {
      const { code, stderr } = await run(['explain', '--policy', policy, '--format', format, '--at', '1767600000000', file]);
      expect(code).toBe(1);
      expect(stderr).not.toContain('unexpected failure');
      expect(stderr).toContain(`attributes.deep${'[0]'.repeat(31)}: nested deeper than 32 levels (or circular)`);
    }
  });

  it('shows an actor.createdAt beyond the Date range as a number instead of crashing on it', async () => {
    const file = join(temp.dir, 'far-created.json');
    writeFileSync(file, JSON.stringify({ action: 'ad.submit', ip: '192.0.2.1', actor: { id: 'a', status: 'registered', createdAt: 1e20 } }));
    const { code, stdout, stderr } = await run(['explain', '--policy', policy, '--at', '1767600000000', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('"a" (registered, created 100000000000000000000 ms (beyond the date range))');
  });
});

describe('actiongate explain --store redis://', () => {
  const url = inject('redisUrl');
  const prefix = `agcli-${randomUUID().slice(0, 8)}`;
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  });

  /** A project directory with @actiongate/redis and ioredis installed, as a user's app has them. */
  function project(): string {
    const dir = join(temp.dir, 'app');
    mkdirSync(join(dir, 'node_modules/@actiongate'), { recursive: true });
    symlinkSync(join(root, 'packages/adapters-redis'), join(dir, 'node_modules/@actiongate/redis'), 'dir');
    symlinkSync(realpathSync(join(root, 'node_modules/ioredis')), join(dir, 'node_modules/ioredis'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "name": "app", "private": true }');
    return dir;
  }

  /** Every key of the test's prefix with its record: the whole state explain must leave alone. */
  async function snapshot(client: Redis): Promise<Record<string, string>> {
    const keys = (await client.keys(`${prefix}*`)).sort();
    return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, (await client.getBuffer(key))?.toString('base64') ?? ''] as const)));
  }

  it('explains against live Redis state without consuming or writing anything', async () => {
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    clients.push(client);
    const guard = createGuard({ policy: await loadPolicy(fixture('policy.json')), store: new RedisStore({ client, prefix }) });
    const action: Action = { action: 'ad.submit', ip: '192.0.2.90', actor: { id: 'r1', status: 'registered' }, content: { title: 'Oak desk' } };
    writeFileSync(join(temp.dir, 'live.json'), JSON.stringify(action));
    expect((await guard.evaluate(action)).verdict).toBe('allow');
    expect((await guard.evaluate(action)).verdict).toBe('allow');

    const cwd = project();
    const before = await snapshot(client);
    const explained = await run(['explain', '--policy', fixture('policy.json'), '--store', url, '--prefix', prefix, '--format', 'json', join(temp.dir, 'live.json')], { cwd });
    expect(explained.stderr).toBe('');
    expect(explained.code).toBe(0);
    const e = JSON.parse(explained.stdout);
    expect(e.store).toBe(`redis ${url} (prefix ${prefix})`);
    // Two taken: this one would make three, the maximum.
    expect(e.limits[0].state).toMatchObject({ id: 'ip-burst', count: 3, max: 3, exceeded: false });
    expect(e.decision).toMatchObject({ verdict: 'allow', dryRun: true });
    expect(await snapshot(client)).toEqual(before);

    // Nothing was consumed: the real third attempt is still admitted, and then the window is full.
    expect((await guard.evaluate(action)).verdict).toBe('allow');
    const full = await run(['explain', '--policy', fixture('policy.json'), '--store', url, '--prefix', prefix, join(temp.dir, 'live.json')], { cwd });
    expect(full.code).toBe(0);
    expect(full.stdout).toContain('Store: redis ');
    expect(full.stdout).toMatch(/✗ ip-burst +1m by ip +exceeded: 3 of 3 per 1m used by ip:192\.0\.2\.90/);
    expect(full.stdout).toContain('Verdict: THROTTLE');
    await guard.close();
  });

  it('fails with exit 1 when Redis cannot be reached, without printing the password', async () => {
    const { code, stderr } = await run(['explain', '--policy', fixture('policy.json'), '--store', 'redis://:hunter2@127.0.0.1:1', fixture('action.json')], { cwd: join(temp.dir, 'app') });
    expect(code).toBe(1);
    expect(stderr).toContain('cannot connect to redis://:***@127.0.0.1:1');
    expect(stderr).not.toContain('hunter2');
    // ioredis also takes the password from the query string.
    const query = await run(['explain', '--policy', fixture('policy.json'), '--store', 'redis://127.0.0.1:1/?password=hunter3&db=0', fixture('action.json')], { cwd: join(temp.dir, 'app') });
    expect(query.code).toBe(1);
    expect(query.stderr).toContain('cannot connect to redis://127.0.0.1:1/?password=***&db=0');
    expect(query.stderr).not.toContain('hunter3');
  });

  it('says what to install when @actiongate/redis is not in the project', async () => {
    const { code, stderr } = await run(['explain', '--policy', fixture('policy.json'), '--store', url, fixture('action.json')], { cwd: temp.dir });
    expect(code).toBe(1);
    expect(stderr).toContain('--store needs @actiongate/redis: install it in this project');
  });
});
