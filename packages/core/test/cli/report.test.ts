import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, fixture, root, run, tempDir } from './bin.js';
import { launch, openReport } from './browser.js';

beforeAll(ensureBuilt, 200_000);
const temp = tempDir();
afterAll(temp.remove);

const log = relative(root, fixture('decisions.ndjson'));
const T = 1767600000000;

/*
 * decisions.ndjson: the 17 decisions of replaying traffic.ndjson through policy.json, then
 * hand-written lines: s3 coming back after passing its captcha (a challenge reason, yet allowed),
 * a degraded decision, a monitor-mode decision that would have blocked, two blocks of actors
 * with HTML in their ids on a permanently banned IPv6 /64, and two lines that are not decisions.
 */
describe('actiongate report', () => {
  it('reports verdicts, reasons over time, top blocked subjects with bans, limits, allowed, challenges and degraded decisions', async () => {
    const { code, stdout, stderr } = await run(['report', log]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Actiongate report: ${log}`);
    expect(stdout).toContain('Decisions: 22 from 2026-01-05 08:00 to 2026-01-05 09:00 UTC');
    expect(stdout).toMatch(/^ {2}block +7 +31\.8%$/m);
    expect(stdout).toContain('  monitor: 1 decision was answered less strictly than enforcing would (block 1)');
    expect(stdout).toMatch(/^ {2}2026-01-05 08:00 +7 +2 +2 +4 +53\.3% {2}limit:ip-burst \(4\)$/m);
    expect(stdout).toMatch(/^ {2}ban:ip +5$/m);
    expect(stdout).toMatch(/^ {2}198\.18\.0\.9 +3 +1 {2}2026-01-05T09:00:15Z$/m);
    expect(stdout).toMatch(/^ {2}2001:db8:bad::\/64 +2 +1 {2}permanent$/m);
    expect(stdout).toContain('Bans started: 2 (1 permanent)');
    expect(stdout).toMatch(/^ {4}ip-burst +ip:198\.18\.0\.9 +4$/m);
    expect(stdout).toContain('Allowed submissions: 11');
    expect(stdout).toContain('Challenges issued: 2 (captcha 2)');
    expect(stdout).toContain('  pass rate (inferred): 50.0%, 1 of 2 challenged subjects seen passing');
    expect(stdout).toContain('does not record guard.passChallenge() calls');
    expect(stdout).toContain('Degraded decisions (store unavailable, failMode decided): 1 (allow 1)');
    expect(stderr).toContain(`${log}:23: "at" is not a time in epoch milliseconds`);
    expect(stderr).toContain(`${log}:24: not valid JSON`);
    expect(stderr).toContain(`${log}: 2 lines skipped, the rest processed`);
  });

  it('--format json has every section, exact while the log has fewer distinct keys than kept', async () => {
    const { code, stdout } = await run(['report', '--format', 'json', '--top', '3', log]);
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.decisions).toBe(22);
    expect(r.skipped.count).toBe(2);
    expect(r.byVerdict).toEqual({ allow: 11, challenge: 2, throttle: 2, block: 7 });
    expect(r.monitored).toMatchObject({ decisions: 1, wouldBe: { allow: 0, challenge: 0, throttle: 0, block: 1 } });
    expect(r.timeline.bucketMs).toBe(60_000);
    expect(r.timeline.buckets[0]).toMatchObject({ start: T, verdicts: { allow: 7, challenge: 2, throttle: 2, block: 4 } });
    expect(r.timeline.buckets.reduce((n: number, b: { verdicts: Record<string, number> }) => n + Object.values(b.verdicts).reduce((a, c) => a + c, 0), 0)).toBe(22);
    expect(r.blocked.ips).toHaveLength(3);
    expect(r.blocked.ips[0]).toEqual({ key: '198.18.0.9', count: 3, error: 0, bans: 1, banUntil: T + 15_000 + 3_600_000, lastBlocked: T + 3_605_000 });
    expect(r.blocked.subnets.find((s: { key: string }) => s.key === '2001:db8:bad::/64')).toMatchObject({ count: 2, bans: 1, banUntil: null });
    expect(r.bans).toEqual({ started: 2, permanent: 1 });
    expect(r.limits.violations).toEqual([{ key: 'ip-burst', count: 4, error: 0 }]);
    expect(r.challenges).toMatchObject({ issued: 2, subjects: 2, passed: 1, passRate: 0.5 });
    expect(r.degraded).toEqual({ decisions: 1, byVerdict: { allow: 1, challenge: 0, throttle: 0, block: 0 } });
    expect(r.approximate).toEqual([]);
  });

  it('never prints a control character from the log to the terminal', async () => {
    const file = join(temp.dir, 'escape.ndjson');
    const decision = { at: T, verdict: 'block', reasons: [{ source: 'rule', id: 'r\u001b]0;owned\u0007', message: '', verdict: 'block' }], limits: [], ip: null, actor: '\u001b[2Jevil\u009b31m', degraded: false, action: 'a\u0000' };
    writeFileSync(file, `${JSON.stringify(decision)}\n{"at":1,"verdict":"allow","reasons":"\u001b[5m"}\n`);
    const { code, stdout, stderr } = await run(['report', file]);
    expect(code).toBe(0);
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
    expect(stdout).not.toMatch(control);
    expect(stderr).not.toMatch(control);
    expect(stdout).toContain('\\u001b[2Jevil\\u009b31m');
    expect(stdout).toContain('rule:r\\u001b]0;owned\\u0007');
  });

  it('never prints a bidirectional control or line separator from the log, which would reorder or break the operator\'s lines', async () => {
    const file = join(temp.dir, 'bidi.ndjson');
    const decision = { at: T, verdict: 'block', reasons: [{ source: 'rule', id: 'r\u2066x\u2069', message: '', verdict: 'block' }], limits: [], ip: null, actor: 'evil\u202e1.2.3.4\u2028', degraded: false, action: 'a\u200f\u061c' };
    writeFileSync(file, `${JSON.stringify(decision)}\n\u202enot json\n`);
    const { code, stdout, stderr } = await run(['report', file]);
    expect(code).toBe(0);
    expect(stderr).toContain(':2: not valid JSON (Unexpected token \'\\u202e\'');
    const bidi = /[\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
    expect(stdout).not.toMatch(bidi);
    expect(stderr).not.toMatch(bidi);
    expect(stdout).toContain('evil\\u202e1.2.3.4\\u2028');
    expect(stdout).toContain('rule:r\\u2066x\\u2069');
  });

  it('--format json escapes what JSON.stringify leaves raw (C1 controls, bidi controls), in report, replay and explain, and parses back to the same text', async () => {
    const hostile = 'x\u009b2J\u202ey\u007f\u2066';
    const logFile = join(temp.dir, 'c1.ndjson');
    writeFileSync(logFile, `${JSON.stringify({ at: T, verdict: 'block', reasons: [], limits: [], ip: null, actor: hostile })}\n`);
    const trafficFile = join(temp.dir, 'c1-traffic.ndjson');
    writeFileSync(trafficFile, `${JSON.stringify({ at: T, action: { action: 'ad.submit', ip: '192.0.2.1' }, scenario: hostile })}\n`);
    const actionFile = join(temp.dir, 'c1-action.json');
    writeFileSync(actionFile, JSON.stringify({ action: 'ad.submit', ip: '192.0.2.1', attributes: { ua: hostile } }));
    const policy = relative(root, fixture('policy.json'));
    const report = await run(['report', '--format', 'json', logFile]);
    const replay = await run(['replay', '--format', 'json', '--policy', policy, trafficFile]);
    const explain = await run(['explain', '--format', 'json', '--policy', policy, '--at', String(T), actionFile]);
    for (const { code, stdout } of [report, replay, explain]) {
      expect(code).toBe(0);
      expect(stdout).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(stdout).toContain('x\\u009b2J\\u202ey\\u007f\\u2066');
    }
    expect(JSON.parse(report.stdout).blocked.actors[0].key).toBe(hostile);
    expect(Object.keys(JSON.parse(replay.stdout).stats[0].scenarios)).toEqual([hostile]);
    expect(JSON.parse(explain.stdout).action.attributes.ua).toBe(hostile);
  });

  it('a log that exists but cannot be read (a socket here; without read permission alike) is exit 1 with its path', async () => {
    const socket = join(temp.dir, 'socket.ndjson');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      for (const args of [['report', socket], ['replay', '--policy', relative(root, fixture('policy.json')), socket]]) {
        const { code, stderr } = await run(args);
        expect(code).toBe(1);
        expect(stderr).not.toContain('unexpected failure');
        expect(stderr).toContain(`cannot read ${socket}: ENXIO`);
      }
    } finally {
      server.close();
    }
  });

  it('refuses an --out that is the log being read (exit 2), leaving the log intact', async () => {
    const copy = join(temp.dir, 'own-out.ndjson');
    const original = readFileSync(fixture('decisions.ndjson'), 'utf8');
    writeFileSync(copy, original);
    const { code, stderr } = await run(['report', '--format', 'html', '--out', copy, copy]);
    expect(code).toBe(2);
    expect(stderr).toContain('writing it would overwrite what is being read');
    expect(readFileSync(copy, 'utf8')).toBe(original);
  });

  it('a gzip-compressed log (a rotated one) is exit 1 saying to decompress it, not "No decisions." with exit 0', async () => {
    const gz = join(temp.dir, 'decisions.ndjson.1.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('decisions.ndjson'))));
    const file = await run(['report', gz]);
    expect(file.code).toBe(1);
    expect(file.stdout).toBe('');
    expect(file.stderr).toContain(`${gz} is gzip-compressed: decompress it first, or pipe it in: gunzip -c ${gz} | actiongate … -`);
    const stdin = await run(['replay', '--policy', relative(root, fixture('policy.json')), '-'], { input: gzipSync(readFileSync(fixture('traffic.ndjson'))) });
    expect(stdin.code).toBe(1);
    expect(stdin.stderr).toContain('stdin is gzip-compressed');
    expect(stdin.stderr).not.toContain('unexpected failure');
  });

  it('shows a time beyond the Date range as a number instead of crashing on it, in every format', async () => {
    // A ban ending past year 275760 (a log line's at + retryAfterMs), and decisions at both
    // ends of the Date range, whose widened timeline buckets start before the earliest Date.
    const file = join(temp.dir, 'far.ndjson');
    const far = 8.64e15;
    const lines = [
      { at: far, verdict: 'block', reasons: [{ source: 'ban', id: 'ip:192.0.2.9', message: '', verdict: 'block', retryAfterMs: far }], limits: [], ip: { address: '192.0.2.9', version: 4, subnet: '192.0.2.9' }, actor: null },
      { at: -far, verdict: 'allow', reasons: [], limits: [], ip: null, actor: null },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const text = await run(['report', file]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}192\.0\.2\.9 +1 +1 {2}17280000000000000 ms \(beyond the date range\)$/m);
    expect(text.stdout).toContain('Decisions: 2 from -271821-04-20 00:00 to +275760-09-13 00:00 UTC');
    const html = await run(['report', '--format', 'html', file]);
    expect(html.stderr).toBe('');
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('17280000000000000 ms (beyond the date range)');
    const json = await run(['report', '--format', 'json', file]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).blocked.ips[0].banUntil).toBe(2 * far);
  });

  describe('--format html in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launch();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('is one self-contained page whose charts render from the data, with no network access, no errors, and hostile log text kept as text', async () => {
      const html = join(temp.dir, 'report.html');
      const { code, stderr } = await run(['report', '--format', 'html', '--out', html, log]);
      expect(code).toBe(0);
      expect(stderr).toContain(`wrote ${html}`);
      const source = readFileSync(html, 'utf8');
      // Nothing to fetch: no external URL in any src or href, a CSP that forbids fetching.
      expect(source).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
      expect(source).toContain(`content="default-src 'none';`);

      const { page, requests, errors, dialogs } = await openReport(browser, html);
      expect(requests).toEqual([pathToFileURL(html).href]);
      expect(errors).toEqual([]);

      // Verdicts over time: four segments a bucket, the first minute's stack as in the log.
      const segments = await page.$$eval('#chart-timeline rect[data-verdict]', (rects) => rects.map((r) => ({ verdict: r.getAttribute('data-verdict'), count: Number(r.getAttribute('data-count')), height: Number(r.getAttribute('height')) })));
      expect(segments.length % 4).toBe(0);
      expect(segments.slice(0, 4).map((s) => s.count)).toEqual([7, 2, 2, 4]);
      expect(segments.filter((s) => s.count > 0).every((s) => s.height > 0)).toBe(true);
      expect(segments.reduce((n, s) => n + s.count, 0)).toBe(22);
      // Top reasons and top subjects, as bars with their data.
      const reasons = await page.$$eval('#chart-reasons rect.bar', (rects) => rects.map((r) => [r.getAttribute('data-label'), Number(r.getAttribute('data-count'))]));
      expect(reasons[0]).toEqual(['ban:ip', 5]);
      const ips = await page.$$eval('#chart-ips rect.bar', (rects) => rects.map((r) => r.getAttribute('data-label')));
      expect(ips[0]).toBe('198.18.0.9');
      const box = await page.locator('#chart-timeline').boundingBox();
      expect(box!.width).toBeGreaterThan(500);

      // Actor ids with markup are text: no element was created from them, no script ran.
      await page.click('.tabs button[data-tab="tab-actors"]');
      expect(await page.isVisible('#tab-actors')).toBe(true);
      const actors = await page.$$eval('#tab-actors td code', (cells) => cells.map((c) => c.textContent));
      expect(actors).toContain('<img src=x onerror=alert(1)>');
      expect(actors).toContain('</script><script>alert(2)</script>');
      expect(await page.$$eval('img', (images) => images.length)).toBe(0);
      expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(1);
      expect(dialogs).toEqual([]);

      // The legend hides a verdict: its segments collapse, the others restack from the axis.
      const first = (verdict: string) => page.$eval(`#chart-timeline g.bucket rect[data-verdict="${verdict}"]`, (r) => ({ height: Number(r.getAttribute('height')), y: Number(r.getAttribute('y')) }));
      const challengeBefore = await first('challenge');
      await page.click('.legend button[data-verdict="allow"]');
      expect((await first('allow')).height).toBe(0);
      expect((await first('challenge')).y).toBeGreaterThan(challengeBefore.y);
      await page.click('.legend button[data-verdict="allow"]');
      expect((await first('challenge')).y).toBeCloseTo(challengeBefore.y, 1);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
