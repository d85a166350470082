/**
 * Condition paths, pre-parsed. json-rules-engine resolves `path` with jsonpath-plus
 * (`JSONPath({ path, json, wrap: false })`) on every condition of every run; the compiled rules
 * parse the plain member-access subset of that language once, at load, into a key list, and
 * walk it the way jsonpath-plus walks plain names: a step follows an *own* property of a truthy
 * value (strings included: `$.name.length` is the length), anything else is `undefined`. So
 * `__proto__`, `constructor` and `prototype` never reach `Object.prototype`.
 *
 * Everything else jsonpath-plus understands (wildcards, filters, slices, unions, recursive
 * descent, `~`, `^`, `@type()`) is left to json-rules-engine, which resolves it with
 * `resolveJsonPath` below; `jsonPathProblem` checks such a path's scripts at load, and refuses
 * the ones that would run without bound (`BoundedScript`).
 */
import { JSONPath } from 'jsonpath-plus';

/**
 * Characters that mean something to jsonpath-plus's tokenizer or tracer, and so never appear in a
 * key this parser accepts (a path using them is valid JSONPath, just not a plain one).
 */
const SPECIAL = new Set([...'.[]\'"~^@,*()?:;#%`\\$ \t\n\r']);

/**
 * `$`, `$.a.b`, `$.a[0]`, `$['a b']`, `$["x"]` as a key list (`[]` for `$`); `null` when the path
 * is not plain member access.
 */
export function parsePlainPath(path: string): string[] | null {
  if (!path.startsWith('$')) return null;
  const keys: string[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      let j = i + 1;
      while (j < path.length && !SPECIAL.has(path[j]!)) j++;
      if (j === i + 1) return null;
      keys.push(path.slice(i + 1, j));
      i = j;
    } else if (c === '[') {
      const quote = path[i + 1];
      if (quote === "'" || quote === '"') {
        const end = path.indexOf(`${quote}]`, i + 2);
        if (end < 0) return null;
        const key = path.slice(i + 2, end);
        // Dots are fine inside quotes (jsonpath-plus escapes them), but a key of dots alone is
        // its recursive-descent operator.
        if (key === '' || /^\.+$/.test(key) || [...key].some((ch) => ch !== '.' && ch !== ' ' && SPECIAL.has(ch))) return null;
        keys.push(key);
        i = end + 2;
      } else {
        const match = /^\[([0-9]+)\]/.exec(path.slice(i));
        if (!match) return null;
        keys.push(match[1]!);
        i += match[0].length;
      }
    } else {
      return null;
    }
  }
  return keys;
}

/**
 * A cheap sanity check for paths left to jsonpath-plus: it starts at the root and its brackets,
 * parentheses and quotes balance. jsonpath-plus accepts nearly any string, so this catches typos,
 * not every path that would fail.
 */
export function isWellFormedPath(path: string): boolean {
  if (!path.startsWith('$')) return false;
  const closing: string[] = [];
  let quote: string | null = null;
  for (const ch of path) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '[' || ch === '(') {
      closing.push(ch === '[' ? ']' : ')');
    } else if (ch === ']' || ch === ')') {
      if (closing.pop() !== ch) return false;
    }
  }
  return quote === null && closing.length === 0;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * What json-rules-engine's almanac yields for a fact value and a pre-parsed path: the path applies
 * only to objects (arrays included); any other fact value comes back as it is.
 */
export function resolvePath(factValue: unknown, keys: readonly string[]): unknown {
  return pathReader(keys)(factValue);
}

/**
 * `resolvePath` for one path, as a function built once; short paths (nearly all of them) get a
 * specialised body without a loop.
 */
export function pathReader(keys: readonly string[]): (factValue: unknown) => unknown {
  // Each step is jsonpath-plus's `val && Object.hasOwn(val, loc)`.
  const step = (value: unknown, key: string) => (value && hasOwn.call(value, key) ? (value as Record<string, unknown>)[key] : undefined);
  const [a, b] = keys as [string, string];
  switch (keys.length) {
    case 0:
      return (value) => value;
    case 1:
      return (value) => (value !== null && typeof value === 'object' ? (hasOwn.call(value, a) ? (value as Record<string, unknown>)[a] : undefined) : value);
    case 2:
      return (value) => (value !== null && typeof value === 'object' ? step(hasOwn.call(value, a) ? (value as Record<string, unknown>)[a] : undefined, b) : value);
    default:
      return (value) => {
        if (value === null || typeof value !== 'object') return value;
        let current: unknown = value;
        for (let i = 0; i < keys.length; i++) current = step(current, keys[i]!);
        return current;
      };
  }
}

/**
 * json-rules-engine's path resolver for the paths the compiler leaves to it (its own is
 * `JSONPath({ path, json, wrap: false })`). Filter and script expressions run in jsonpath-plus's
 * safe mode, named here rather than left to its default: a policy must not be able to run code
 * (the safe evaluator refuses `constructor` and anything outside the value). A filter that fails
 * on an element (`@.price > 10` on a null) does not select it, and a path that fails as a whole
 * (a script whose result is no key) resolves to nothing, as a missing value: facts are the
 * client's to shape, so a path must not turn a request into a rejected evaluate.
 */
export function resolveJsonPath(value: object, path: string): unknown {
  try {
    return JSONPath({ path, json: value as object | unknown[], wrap: false, eval: BoundedScript, ignoreEvalErrors: true });
  } catch {
    return undefined;
  }
}

/** A script `BoundedScript` refuses to build. */
class UnboundedScriptError extends Error {}

/** A script jsonpath-plus evaluates: its `vm.Script`-like class, with the jsep syntax tree it parsed. */
interface ScriptClass {
  new (code: string): { readonly ast: unknown; runInNewContext(context: object): unknown };
}
// jsonpath-plus's own safe evaluator, which it exposes only on its prototype. Should a release
// drop it, every filter is refused (at load, with this message) rather than the import failing.
const SafeScript: ScriptClass =
  (JSONPath.prototype as unknown as { safeVm?: { Script?: ScriptClass } }).safeVm?.Script ??
  class {
    readonly ast: unknown = null;
    constructor() {
      throw new UnboundedScriptError('cannot be checked: this version of jsonpath-plus has no safe evaluator (safeVm.Script), so filters and scripts are refused');
    }
    runInNewContext(): unknown {
      return undefined;
    }
  };

/**
 * Methods a filter or script may call: each reads its value once (time and memory in proportion
 * to the value, which `evaluate` bounds) and changes nothing.
 */
const BOUNDED_METHODS: ReadonlySet<string> = new Set(['includes', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd', 'at', 'charAt']);

/** Why jsonpath-plus's safe evaluator would still run `ast` without bound, or null. */
function unboundedScript(ast: unknown): string | null {
  const why = 'other methods run without bound on the client\'s values (a regular expression can backtrack catastrophically, repeat and padEnd allocate without limit, push and splice change the facts): compare with the rule\'s operators, or match text with a content pattern, which is checked for ReDoS';
  // Iterative: jsep nests as deep as the expression does.
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    const { type, value, callee } = node as { type?: unknown; value?: unknown; callee?: { type?: unknown; computed?: unknown; property?: { name?: unknown } } };
    if (type === 'Literal' && value instanceof RegExp) return `holds the regular expression ${String(value)}: a regular expression in a filter is not checked for ReDoS and can backtrack catastrophically on the client's text; match text with a content pattern, which is`;
    if (type === 'CallExpression') {
      const method = callee?.type === 'MemberExpression' && callee.computed === false ? callee.property?.name : undefined;
      if (typeof method !== 'string') return `calls a computed or bare function: only ${[...BOUNDED_METHODS].join(', ')} may be called on a value; ${why}`;
      if (!BOUNDED_METHODS.has(method)) return `calls "${method}": only ${[...BOUNDED_METHODS].join(', ')} may be called on a value; ${why}`;
    }
    for (const child of Object.values(node)) if (typeof child === 'object') stack.push(child);
  }
  return null;
}


/**
 * jsonpath-plus's safe evaluator, refusing what it would run without bound. Safe mode keeps a
 * filter from `process` and `constructor`, but it calls any method of the values it reaches: a
 * policy could hang the event loop on a client's text with `@.match(/(a+)+$/)`, past the ReDoS
 * proof every content pattern gets. Refused at load (`jsonPathProblem`); at run time the refusal
 * throws before anything runs, so the path resolves to nothing.
 */
class BoundedScript extends SafeScript {
  constructor(code: string) {
    super(code);
    const problem = unboundedScript(this.ast);
    if (problem !== null) throw new UnboundedScriptError(problem);
  }

  // Its own: jsonpath-plus takes a class as the evaluator only when its prototype owns this.
  override runInNewContext(context: object): unknown {
    return super.runInNewContext(context);
  }

  // jsonpath-plus keys its cache of parsed scripts by `evaluator + 'Script:' + code`: without
  // this, each filter evaluation built and hashed a key holding this class's whole source.
  static override toString(): string {
    return 'bounded';
  }
}

/**
 * Path segments jsonpath-plus evaluates as script: filters `?(…)` and script expressions `(…)`,
 * whatever follows (`?(@.a),0` is all one script to it, which it cannot parse).
 */
const SCRIPT_SEGMENT = /^\??\(/;

/**
 * Why jsonpath-plus would refuse `path` whatever the facts, or null. jsonpath-plus parses a
 * filter or script expression only when it first reaches a value to apply it to, so a syntax
 * error there (`$.a[?(@.b ==)]`) would surface at run time on every evaluate that gets that far.
 * Each script segment (or the filter nested in it, which jsonpath-plus runs in its place; or each
 * member of a union) is run once here on a one-element array, in safe mode with evaluation
 * errors ignored: what still throws is the parser's refusal (jsep's errors carry the
 * `index` of the character) and `BoundedScript`'s (a regular expression, a method call that
 * runs without bound), while a failure on the probe value is a run-time matter.
 */
export function jsonPathProblem(path: string): string | null {
  let segments: string[];
  try {
    segments = [...JSONPath.toPathArray(path)];
  } catch (error) {
    return (error as Error).message;
  }
  // Grows as union members and nested filters turn up; each is shorter than the segment holding it.
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (typeof segment !== 'string') continue;
    if (!SCRIPT_SEGMENT.test(segment)) {
      // A union (`0,?(…)`): jsonpath-plus splits it at the commas and applies each member, unless
      // it is a type selector, which it tests for first (filters and scripts it tests earlier still).
      if (segment.includes(',') && !segment.startsWith('@')) segments.push(...segment.split(','));
      continue;
    }
    const nested = nestedFilter(segment);
    if (nested !== null) {
      segments.push(nested);
      continue;
    }
    const what = `${segment.startsWith('?') ? 'the filter' : 'the script'} ${JSON.stringify(segment)}`;
    try {
      JSONPath({ path: `$[${segment}]`, json: [null], wrap: false, eval: BoundedScript, ignoreEvalErrors: true });
    } catch (error) {
      if (error instanceof UnboundedScriptError) return `${what} ${error.message}`;
      if (isParseError(error)) return `${(error as Error).message} in ${what}`;
    }
  }
  return null;
}

/**
 * The inner filter jsonpath-plus runs in place of a filter that holds one (`?(@.a[?(@.b)])`), by
 * its own test (JSONPath.prototype._trace): it applies that one to each element's `a` and never
 * evaluates the outer text as a script, so the probe above, stopping at the outer filter on a
 * null element, would never reach it.
 */
function nestedFilter(segment: string): string | null {
  if (!segment.startsWith('?(')) return null;
  const match = /@.?([^?]*)[['](\??\(.*?\))(?!.\)\])[\]']/u.exec(segment.replace(/^\?\((.*?)\)$/u, '$1'));
  return match ? match[2]! : null;
}

const isParseError = (error: unknown): boolean => error instanceof Error && typeof (error as { index?: unknown }).index === 'number';
