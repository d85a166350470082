/**
 * The actions the whole-decision benchmarks send (bench/evaluate.ts, bench/profile.ts), as JSON
 * text: a host gets an action from a request body, so each decision parses its own, with fresh
 * strings and objects (re-sending one parsed object flattered a decision by about a quarter).
 *
 * - `day`: days of the synthetic classifieds site one after another (`syntheticStream`: the same
 *   users and attackers every day, at the stream's own times), each ad body topped up to 1 KB with
 *   seeded sentences, so no two ads share their text by accident. Most decisions are allowed,
 *   attackers get banned and come back banned; the store grows as a real one does (a subject per
 *   address, account and text).
 * - `repeat`: the first day's 1,418 actions again and again, 50 ms apart, every body topped up
 *   with the same 1 KB: within a minute every account is over its limits and banned and every
 *   text a duplicate, so every decision is a block. The workload of the figures before
 *   2026-12-03's fifth session, kept to compare with them.
 */
import { prng, syntheticStream, syntheticTraffic } from '../packages/core/src/cli/synthetic.js';

export type WorkloadName = 'day' | 'repeat';

export interface Workload {
  /** Each action as JSON text. */
  lines: string[];
  /** When each happens (epoch ms): the guard's clock for it. */
  at: number[];
}

const WORDS = (
  'the a my our this that with and or but for from to in on at by of new old used good great fine small large clean working ' +
  'original spare extra manual box cable charger receipt case bag cover light heavy fast slow quiet simple modern classic wooden ' +
  'metal plastic leather glass blue green black white grey brown family moving house flat garden garage kitchen office school ' +
  'weekend evening morning price offer cash pickup delivery local nearby city centre station street near park river bridge market shop'
).split(' ');

const REPEATED_FILLER = ' Pick up in the evening, cash or bank transfer, no shipping. Original receipt and box included.'.repeat(10);

/** `count` actions of the workload `name`. */
export function workload(name: WorkloadName, count: number): Workload {
  const lines: string[] = [];
  const at: number[] = [];
  if (name === 'repeat') {
    const traffic = syntheticTraffic({ seed: 7 });
    const start = Date.UTC(2026, 0, 5);
    for (let i = 0; i < count; i++) {
      const action = traffic[i % traffic.length]!.action;
      lines.push(JSON.stringify({ ...action, content: { ...action.content, body: `${action.content?.body ?? ''}${REPEATED_FILLER}`.slice(0, 1024) } }));
      at.push(start + 50 * i);
    }
    return { lines, at };
  }
  const random = prng(5);
  const sentence = () => {
    const words: string[] = [];
    for (let n = 6 + Math.floor(random() * 10); n > 0; n--) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    return `${words.join(' ')}.`;
  };
  for (const item of syntheticStream({ seed: 7, actions: count })) {
    let body = item.action.content?.body ?? '';
    while (body.length < 1024) body += ` ${sentence()}`;
    lines.push(JSON.stringify({ ...item.action, content: { ...item.action.content, body: body.slice(0, 1024) } }));
    at.push(item.at);
  }
  return { lines, at };
}
