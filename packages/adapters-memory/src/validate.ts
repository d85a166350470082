/**
 * The one check of a store batch every adapter runs before applying any of it: the Store
 * contract's numbers must be ones the window arithmetic can keep (finite, windows of some length),
 * or the batch is rejected with a TypeError naming the offending field.
 */
import type { StoreBatch } from '@actiongate/core';

/**
 * Rejects the numbers that would corrupt state (a NaN slot never leaves, a NaN cost empties a
 * slot, a NaN end never comes). Checked for the whole batch first, so a bad batch changes nothing.
 * Every adapter runs it before applying anything: `store` names the adapter in the message.
 */
export function validateBatch(batch: StoreBatch, store: string): void {
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.subjects)) {
    throw new TypeError(`${store}: apply() needs a batch { now, subjects: [] }, got ${show(batch)}`);
  }
  if (!Number.isFinite(batch.now)) throw new TypeError(`${store}: batch.now must be a finite number (ms), got ${show(batch.now)}`);
  const subjects = batch.subjects;
  for (let i = 0; i < subjects.length; i++) {
    const ops = subjects[i]!;
    if (typeof ops?.subject !== 'string') throw new TypeError(`${store}: subjects[${i}].subject must be a string, got ${show(ops?.subject)}`);
    const take = ops.take;
    if (take !== undefined) {
      for (let j = 0; j < take.length; j++) {
        const t = take[j]!;
        // typeof first: `'60000' >= 1` holds, and a string length then concatenates into the
        // window's arithmetic (a window whose hits never leave); a string max compares as a number.
        if (typeof t?.windowMs !== 'number' || !(t.windowMs >= 1 && t.windowMs < Infinity) || !Number.isFinite(t.cost) || typeof t.max !== 'number' || Number.isNaN(t.max)) {
          throw new TypeError(`${store}: subjects[${i}].take[${j}] needs windowMs >= 1 and finite cost and max, got ${show(t)}`);
        }
        // Two takes of one window would each be judged against the count before either, and
        // both admitted: twice the window's max in one call.
        for (let k = 0; k < j; k++) {
          if (take[k]!.name === t.name) throw new TypeError(`${store}: subjects[${i}].take[${j}] takes window ${show(t.name)} again (take[${k}]): one take per window and subject`);
        }
      }
    }
    const add = ops.add;
    if (add !== undefined) {
      for (let j = 0; j < add.length; j++) {
        const a = add[j]!;
        if (typeof a?.windowMs !== 'number' || !(a.windowMs >= 1 && a.windowMs < Infinity) || !Number.isFinite(a.cost) || (a.at !== undefined && !Number.isFinite(a.at))) {
          throw new TypeError(`${store}: subjects[${i}].add[${j}] needs windowMs >= 1, a finite cost and at, got ${show(a)}`);
        }
      }
    }
    const set = ops.set;
    if (set !== undefined) {
      for (let j = 0; j < set.length; j++) {
        const write = set[j];
        const until = write?.until;
        const ifLater = write?.ifLater;
        if (until !== null && (typeof until !== 'number' || Number.isNaN(until))) {
          throw new TypeError(`${store}: subjects[${i}].set[${j}].until must be a time (ms) or null, got ${show(until)}`);
        }
        if (ifLater !== undefined && typeof ifLater !== 'boolean') {
          throw new TypeError(`${store}: subjects[${i}].set[${j}].ifLater must be a boolean when given, got ${show(ifLater)}`);
        }
      }
    }
  }
}

/** A short rendering of a bad value for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 80)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
