import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, run, tempDir } from './bin.js';
import { launch, openReport } from './browser.js';

beforeAll(ensureBuilt, 200_000);
const temp = tempDir();
afterAll(temp.remove);

describe('actiongate demo', () => {
  it('runs validate, synthetic, replay, explain and report on bundled traffic and writes the HTML report, which renders in Chromium', async () => {
    // Two levels that do not exist yet: made like `mkdir -p`.
    const out = join(temp.dir, 'nested', 'demo');
    const { code, stdout } = await run(['demo', '--out', out]);
    expect(code).toBe(0);
    const steps = [...stdout.matchAll(/^\$ actiongate (\w+)/gm)].map((m) => m[1]);
    expect(steps).toEqual(['validate', 'synthetic', 'replay', 'explain', 'report']);
    expect(stdout).toMatch(/rules\/classifieds\.json: classifieds@\S+ is valid/);
    expect(stdout).toMatch(/^1390 labelled ad submissions \(650 spam\) over one virtual day$/m);
    expect(stdout).toMatch(/spam stopped\s+\d+\.\d% \(\d+ of 650\)/);
    expect(stdout).toMatch(/legitimate blocked\s+0$/m);
    expect(stdout).toMatch(/^Verdict: (CHALLENGE|THROTTLE|BLOCK)/m); // the explained spam submission
    const html = join(out, 'report.html');
    expect(stdout).toContain(`HTML report (open it in a browser): ${html}`);
    const decisions = readFileSync(join(out, 'decisions.ndjson'), 'utf8').trim().split('\n');
    expect(decisions).toHaveLength(1390);

    const browser = await launch();
    try {
      const { page, requests, errors } = await openReport(browser, html);
      expect(requests).toEqual([pathToFileURL(html).href]);
      expect(errors).toEqual([]);
      const total = await page.$$eval('#chart-timeline rect[data-count]', (rects) => rects.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0));
      expect(total).toBe(1390);
      expect(await page.$$eval('#chart-reasons rect.bar', (r) => r.length)).toBeGreaterThan(5);
      expect(await page.$$eval('#chart-ips rect.bar', (r) => r.length)).toBeGreaterThan(0);
      const shot = join(out, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      // `ACTIONGATE_SCREENSHOT=docs/report-screenshot.png pnpm exec vitest run packages/core/test/cli/demo.test.ts`
      // refreshes the screenshot in the docs.
      if (process.env.ACTIONGATE_SCREENSHOT) copyFileSync(shot, process.env.ACTIONGATE_SCREENSHOT);
      expect(existsSync(shot)).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('an --out that is a file, not a directory, is exit 1 naming it, not an unexpected failure', async () => {
    const file = join(temp.dir, 'a-file');
    writeFileSync(file, '');
    const { code, stderr } = await run(['demo', '--out', file]);
    expect(code).toBe(1);
    expect(stderr).not.toContain('unexpected failure');
    expect(stderr).toContain(`actiongate demo: cannot use ${file} as the output directory: EEXIST`);
  });

  // Node's mkdir({ recursive: true }) never returned here: /proc makes no entries, and answers ENOENT.
  it.runIf(process.platform === 'linux')('an --out where no directory can be made (/proc/x/y) is exit 1 naming it, not a hang', async () => {
    const { code, stderr } = await run(['demo', '--out', '/proc/actiongate-x/y']);
    expect(code).toBe(1);
    expect(stderr).toContain('actiongate demo: cannot use /proc/actiongate-x/y as the output directory: ENOENT');
  });
});
