import { describe, expect, it } from 'vitest';
import { createGuard } from '@actiongate/core';
import { MemoryStore } from '@actiongate/memory';
import { createReportBuilder } from '../../src/cli/aggregate.js';
import { renderDecisionReport } from '../../src/cli/render-text.js';
import { cell, displayWidth, printable } from '../../src/cli/terminal.js';

describe('displayWidth', () => {
  it('counts wide and full-width characters as two columns, combining marks and joiners as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('ünïcödé')).toBe(7);
    expect(displayWidth('e\u0301')).toBe(1); // e + combining acute
    expect(displayWidth('山田太郎')).toBe(8);
    expect(displayWidth('ｓｐａｍ')).toBe(8); // full-width Latin
    expect(displayWidth('스팸')).toBe(4);
    expect(displayWidth('スパム')).toBe(6);
    expect(displayWidth('𠀋')).toBe(2); // CJK extension B, a surrogate pair
    expect(displayWidth('🚫')).toBe(2);
    expect(displayWidth('👩\u200d💻')).toBe(4); // two pictures and a zero-width joiner
    expect(displayWidth('½ · ×')).toBe(5);
  });
});

describe('cell', () => {
  it('pads to terminal columns, escapes controls as printable does, and keeps longer text whole', () => {
    expect(cell('ab', 5)).toBe('ab   ');
    expect(cell('山田', 5)).toBe('山田 ');
    expect(cell('山田太郎です', 5)).toBe('山田太郎です');
    expect(cell('a\u001b[2Jb', 4)).toBe(printable('a\u001b[2Jb'));
    expect(cell('x\u202e', 10)).toBe('x\\u202e   ');
  });

  it('lines up a report whose actor ids and reasons are Japanese, Korean or emoji', async () => {
    const T = Date.UTC(2026, 0, 5, 8);
    const guard = createGuard({
      policy: { name: 'wide', limits: [{ id: 'burst', actions: ['post'], by: 'actor', window: '1h', max: 1, onExceed: 'block' }] },
      store: new MemoryStore(),
      now: () => T,
    });
    const builder = createReportBuilder();
    for (const actor of ['山田太郎', '김철수', 'plain-ascii', '🚫spam']) {
      for (let i = 0; i < 2; i++) builder.add(await guard.evaluate({ action: 'post', actor: { id: actor } }));
    }
    await guard.close();
    const text = renderDecisionReport(builder.build());
    const rows = text.split('\n').filter((line) => ['山田太郎', '김철수', 'plain-ascii', '🚫spam'].some((actor) => line.includes(actor)));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    // In each section, the first count after an actor's column starts in the same terminal column.
    const countColumn = (line: string) => displayWidth(line.slice(0, line.search(/(?<=\S) +\d/) + 1)) + (/(?<=\S)( +)\d/.exec(line)![1]!.length);
    const bySection = new Map<number, number[]>();
    for (const line of rows) {
      const indent = /^ */.exec(line)![0].length;
      bySection.set(indent, [...(bySection.get(indent) ?? []), countColumn(line)]);
    }
    for (const columns of bySection.values()) expect(new Set(columns).size).toBe(1);
  });
});
