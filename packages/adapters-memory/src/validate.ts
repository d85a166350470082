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
        const value = write?.value;
        if (typeof value === 'object' && value !== null) {
          const problem = jsonProblem(value, 0);
          if (problem !== null) throw new TypeError(`${store}: subjects[${i}].set[${j}].value must be JSON (a MarkValue): ${describeProblem(problem)}`);
        } else if (!isJsonScalar(value)) {
          throw new TypeError(`${store}: subjects[${i}].set[${j}].value must be JSON (a MarkValue), got ${show(value)} (${typeof value})`);
        }
      }
    }
  }
}

/** Levels a mark value may nest: far beyond any record the engine writes, and no cycle passes. */
const MAX_MARK_DEPTH = 64;

/** NaN and ±Infinity are not JSON: RedisStore would read them back as null. */
const isJsonScalar = (value: unknown): boolean => value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);

/** A plain object, a prototype-less one, or an `emptyRecord` (whose prototype is an empty null-prototype object). */
function isPlainRecord(value: object): boolean {
  const proto: object | null = Object.getPrototypeOf(value) as object | null;
  if (proto === null || proto === Object.prototype) return true;
  return Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0;
}

/** Where in a mark value it stops being JSON (keys from the outside in; null: the value as a whole), and how. */
interface JsonProblem {
  path: string[] | null;
  why: string;
}

/**
 * What keeps `value` (an object or array) from being a MarkValue, or null. Checked before any of
 * the batch is applied: a cyclic value overflowed MemoryStore's copy with a RangeError after the
 * subjects before it were written (half a batch applied), and a BigInt, a function or
 * `undefined` inside was stored as it was, where RedisStore's JSON dropped or refused it. Every
 * decision's record passes through here: the path is spelled out only for a value that fails.
 */
function jsonProblem(value: object, depth: number): JsonProblem | null {
  if (depth >= MAX_MARK_DEPTH) return { path: null, why: `nests deeper than ${MAX_MARK_DEPTH} levels, or is cyclic` };
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainRecord(value)) return { path: [], why: `is a ${(value.constructor as { name?: string } | undefined)?.name || 'class'} instance, not a plain object` };
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item: unknown = (value as Record<string, unknown>)[key];
    // JSON leaves out a property that is undefined (RedisStore's encoding does), so it passes.
    if (item === undefined && !isArray) continue;
    const problem = typeof item === 'object' && item !== null ? jsonProblem(item, depth + 1) : isJsonScalar(item) ? null : { path: [], why: `holds ${show(item)} (${typeof item})` };
    if (problem !== null) {
      problem.path?.unshift(key);
      return problem;
    }
  }
  return null;
}

const describeProblem = ({ path, why }: JsonProblem) => `${path === null || path.length === 0 ? 'it' : `/${path.join('/')}`} ${why}`;

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
