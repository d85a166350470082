import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuard, createNdjsonSink } from '../../src/index.js';

describe('NDJSON decision log', () => {
  it('writes one decision per line, parseable, in order', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-log-')), 'decisions.ndjson');
    const sink = createNdjsonSink(file);
    let t = Date.UTC(2026, 0, 1);
    const guard = createGuard({ policy: { name: 'log', limits: [{ id: 'l', by: 'ip', window: '1m', max: 2 }] }, onDecision: sink.write, now: () => t++ });
    for (let i = 0; i < 5; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await guard.close();
    await sink.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((d) => d.verdict)).toEqual(['allow', 'allow', 'throttle', 'throttle', 'block']);
    expect(lines[2].limits[0]).toMatchObject({ id: 'l', count: 2, max: 2, exceeded: true });
    expect(sink.dropped).toBe(0);
  });

  it('drops and counts lines past its buffer instead of growing without bound', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-log-')), 'decisions.ndjson');
    const sink = createNdjsonSink(file, { maxBufferBytes: 1024 });
    const guard = createGuard({ policy: { name: 'log' }, onDecision: sink.write });
    for (let i = 0; i < 200; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(sink.dropped).toBeGreaterThan(0);
    await sink.close();
    const written = readFileSync(file, 'utf8').trim().split('\n').length;
    expect(written + sink.dropped).toBe(200);
  });

  it('counts every line a failed file lost, those it held when it failed included, and close rejects with the error', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-log-')), 'missing-dir', 'decisions.ndjson');
    const sink = createNdjsonSink(file);
    const guard = createGuard({ policy: { name: 'log' }, onDecision: sink.write });
    // Written before the open fails: buffered, then lost with the stream.
    for (let i = 0; i < 5; i++) await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    expect(sink.dropped).toBe(6);
    await expect(sink.close()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('counts decisions that arrive after close as dropped, and close can be called again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-log-')), 'decisions.ndjson');
    const sink = createNdjsonSink(file);
    const guard = createGuard({ policy: { name: 'log' }, onDecision: sink.write });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await sink.close();
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await guard.evaluate({ action: 'a', ip: '192.0.2.1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.dropped).toBe(2);
    await expect(sink.close()).resolves.toBeUndefined();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('refuses a maxBufferBytes that would never bound the buffer', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ag-log-')), 'decisions.ndjson');
    expect(() => createNdjsonSink(file, { maxBufferBytes: Number.NaN })).toThrow(TypeError);
    expect(() => createNdjsonSink(file, { maxBufferBytes: -1 })).toThrow(/maxBufferBytes must be a number of bytes/);
  });
});
