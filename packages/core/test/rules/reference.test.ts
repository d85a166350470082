import { Engine } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import type { RulePolicy } from '../../src/policy/types.js';
import { compileRules, type FiredEvent } from '../../src/rules/compile.js';
import { createReferenceInterpreter } from '../../src/rules/reference.js';

/** A condition buried in `depth` nested groups: each level adds microtasks to its chain. */
const nest = (depth: number, leaf: Record<string, unknown>): Record<string, unknown> => (depth === 0 ? leaf : { all: [nest(depth - 1, leaf)] });

/**
 * Three priorities, so a run crosses two priority-set boundaries where engine.status is read. The
 * top rule is slow (a deeply nested condition) when `slow` is true and short-circuits otherwise,
 * so overlapping runs finish at very different times, and a run that finishes sets the status
 * that a slower run then reads between its sets.
 */
const tiered: RulePolicy[] = [
  { name: 'p3', priority: 3, conditions: { all: [{ fact: 'slow', operator: 'equal', value: true, priority: 2 }, nest(8, { fact: 'score', operator: 'greaterThan', value: 0 })] } as RulePolicy['conditions'], event: { type: 'block' } },
  { name: 'p2', priority: 2, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 1 }] }, event: { type: 'challenge' } },
  { name: 'p1', priority: 1, conditions: { all: [{ fact: 'score', operator: 'greaterThan', value: 2 }] }, event: { type: 'throttle' } },
];
const factsFor = (i: number) => ({ score: i % 5, slow: i % 2 === 1 });
const expectedFor = (i: number) => (i % 2 === 1 && i % 5 > 0 ? ['p3'] : []).concat(['p2', 'p1'].slice(0, Math.max(0, (i % 5) - 1)));
const names = (events: readonly FiredEvent[]) => events.map((event) => event.rule);

describe('concurrent runs (json-rules-engine #303)', () => {
  it('a shared Engine really does skip rules when runs overlap — the hazard being designed around', async () => {
    const shared = new Engine(structuredClone(tiered) as never, { allowUndefinedFacts: true });
    const runs = await Promise.all(Array.from({ length: 200 }, (_, i) => shared.run(factsFor(i))));
    const wrong = runs.filter((run, i) => run.events.length !== expectedFor(i).length).length;
    expect(wrong).toBeGreaterThan(0); // 40 of 200 here: every slow run that should also fire p2 or p1
  });

  it('the reference interpreter gives every overlapping run all its rules', async () => {
    const interpreter = createReferenceInterpreter(tiered);
    const runs = await Promise.all(Array.from({ length: 300 }, (_, i) => interpreter.run(factsFor(i))));
    runs.forEach((events, i) => expect(names(events)).toEqual(expectedFor(i)));
  });

  it('overlapping runs that reject do not disturb the others, nor later runs', async () => {
    // Rejects at priority 3 when `list` is missing (value.indexOf of undefined); json-rules-engine
    // still runs that run's lower sets in the background.
    const rules: RulePolicy[] = [{ name: 'boom', priority: 3, conditions: { all: [{ fact: 'action', operator: 'in', value: { fact: 'list' } }] }, event: { type: 'block' } }, ...tiered];
    const interpreter = createReferenceInterpreter(rules, { only: [0, 1, 2, 3] });
    const compiled = compileRules(rules, { facts: null });
    const jobs = Array.from({ length: 200 }, (_, i) => {
      const facts = { ...factsFor(i), action: 'x', ...(i % 3 === 0 ? {} : { list: ['y'] }) };
      return interpreter.run(facts).then(names, () => 'rejected');
    });
    const outcomes = await Promise.all(jobs);
    outcomes.forEach((outcome, i) => expect(outcome).toEqual(i % 3 === 0 ? 'rejected' : expectedFor(i)));
    // One run right after another that rejected: the rejected run's background sets must not
    // finish inside the next run (they would if its engine were reused).
    for (let i = 0; i < 20; i++) {
      await expect(interpreter.run({ ...factsFor(i), action: 'x' })).rejects.toThrow(TypeError);
      expect(names(await interpreter.run({ ...factsFor(3), action: 'x', list: [] }))).toEqual(expectedFor(3));
    }
    expect(() => compiled.evaluate({ score: 3, action: 'x' })).toThrow(TypeError);
  });

  it('mixed compiled and json-rules-engine rules stay correct under concurrency', async () => {
    const rules: RulePolicy[] = [...tiered, { name: 'custom', priority: 2, conditions: { all: [{ fact: 'action', operator: 'startsWith', value: 'ad.' }] }, event: { type: 'score', params: { add: 1 } } }];
    const operators = { startsWith: (a: unknown, b: unknown) => typeof a === 'string' && a.startsWith(b as string) };
    const compiled = compileRules(rules, { facts: null, operators });
    expect(compiled.compiled).toBe(false);
    const facts = Array.from({ length: 200 }, (_, i) => ({ ...factsFor(i), action: i % 3 ? 'ad.submit' : 'comment' }));
    const runs = await Promise.all(facts.map((f) => compiled.evaluate(f)));
    // Each fact set alone, one at a time, on json-rules-engine: the order to match.
    const reference = createReferenceInterpreter(rules, { operators });
    for (let i = 0; i < facts.length; i++) {
      const expected = names(await reference.run(facts[i]!));
      expect(expected.filter((name) => name !== 'custom')).toEqual(expectedFor(i));
      expect(names(runs[i]!)).toEqual(expected);
    }
  });
});

describe('the reference interpreter', () => {
  it('leaves frozen policies alone (json-rules-engine writes condition priorities)', async () => {
    const rules = structuredClone([{ name: 'x', conditions: { any: [{ fact: 'score', operator: 'equal', value: 1, priority: 2 }, { fact: 'score', operator: 'equal', value: 2 }] }, event: { type: 'block' as const } }]);
    deepFreeze(rules);
    const before = JSON.stringify(rules);
    const interpreter = createReferenceInterpreter(rules);
    expect(names(await interpreter.run({ score: 2 }))).toEqual(['x']);
    expect(JSON.stringify(rules)).toBe(before);
  });

  it('runs only the rules it is given, keeping their policy indexes', async () => {
    const interpreter = createReferenceInterpreter(tiered, { only: [2] });
    expect((await interpreter.run({ score: 9 })).map((e) => [e.rule, e.index])).toEqual([['p1', 2]]);
  });

  it('hands out frozen events with the rule name, index, priority and mode', async () => {
    const [event] = await createReferenceInterpreter([{ conditions: { all: [] }, mode: 'monitor', priority: 4, event: { type: 'score', params: { add: 5, reason: 'r' } } }]).run({});
    expect(event).toEqual({ type: 'score', params: { add: 5, reason: 'r' }, rule: 'rules[0]', index: 0, priority: 4, mode: 'monitor' });
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event!.params)).toBe(true);
  });

  it('explains every rule: outcome, and what each condition saw', async () => {
    const rules: RulePolicy[] = [
      { name: 'links', conditions: { all: [{ fact: 'content', path: '$.links', operator: 'greaterThan', value: 2 }, { not: { fact: 'actor', path: '$.status', operator: 'equal', value: 'verified' } }] }, event: { type: 'challenge' } },
      { name: 'short-circuit', conditions: { any: [{ fact: 'score', operator: 'greaterThan', value: 10, priority: 2 }, { fact: 'score', operator: 'equal', value: { fact: 'limits', path: '$.max' } }] }, event: { type: 'block' } },
    ];
    const explained = await createReferenceInterpreter(rules).explain({ content: { links: 3 }, actor: { status: 'verified' }, score: 50, limits: { max: 50 } });
    expect(explained).toEqual([
      {
        rule: 'links', index: 0, priority: 1, result: false, event: expect.objectContaining({ rule: 'links' }),
        conditions: {
          evaluated: true, result: false, priority: 1,
          all: [
            { evaluated: true, result: true, fact: 'content', path: '$.links', operator: 'greaterThan', value: 2, factResult: 3, valueResult: 2 },
            { evaluated: true, result: false, priority: 1, not: { evaluated: true, result: true, fact: 'actor', path: '$.status', operator: 'equal', value: 'verified', factResult: 'verified', valueResult: 'verified' } },
          ],
        },
      },
      {
        rule: 'short-circuit', index: 1, priority: 1, result: true, event: expect.objectContaining({ rule: 'short-circuit' }),
        conditions: {
          evaluated: true, result: true, priority: 1,
          any: [
            { evaluated: true, result: true, priority: 2, fact: 'score', operator: 'greaterThan', value: 10, factResult: 50, valueResult: 10 },
            { evaluated: false, fact: 'score', operator: 'equal', value: { fact: 'limits', path: '$.max' } },
          ],
        },
      },
    ]);
  });

  it('throws at creation for a rule json-rules-engine refuses', () => {
    expect(() => createReferenceInterpreter([{ conditions: { all: [{ fact: 'x', operator: 'equal' }] }, event: { type: 'block' } } as never])).toThrow(/value/);
  });
});

function deepFreeze(value: unknown): void {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
}
