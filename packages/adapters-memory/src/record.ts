/**
 * Records keyed by any string, for store results: `__proto__`, `constructor` or `toString` are
 * plain keys, as with `Object.create(null)`, because the chain holds no object with a setter or an
 * inherited property. But where `Object.create(null)` makes a slow dictionary object every time
 * (2–3× the cost to create and fill: two per subject of every decision), instances of a
 * constructor keep V8's fast object layout.
 */
function NoPrototype(): void {}
NoPrototype.prototype = Object.create(null) as object;

/** A fresh record with no reachable prototype properties. */
export function emptyRecord<T>(): Record<string, T> {
  return new (NoPrototype as unknown as new () => Record<string, T>)();
}
