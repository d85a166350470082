/**
 * Policy compilation: a JSON document in, an immutable compiled policy out, or a `PolicyError`
 * listing every problem. Everything that can be decided once (schema validation, durations,
 * list tries, regexes, rule functions) is decided here, so that `evaluate` only runs functions.
 */
import { dirname, resolve } from 'node:path';
import { PolicyError, type PolicyProblem } from '../errors.js';
import { compileContent, type CompiledContent } from '../content/signals.js';
import { compileLimits, type CompiledLimit } from '../limits/limits.js';
import { compileLists, type CompiledLists } from '../network/lists.js';
import { createClientIpResolver, trustedProxyProblems, type ClientIp, type ClientIpInput } from '../network/client-ip.js';
import { compileRules, type CompiledRules } from '../rules/compile.js';
import { policyFileReader } from './files.js';
import { durationProblem, parseBanDuration, parseDuration } from './duration.js';
import { escape, schemaProblems } from './schema.js';
import type { PolicyDocument } from './types.js';

export interface CompiledPolicy {
  /** `name@version`. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly mode: 'enforce' | 'monitor';
  readonly failMode: 'open' | 'closed' | 'memory';
  /** The file the policy was loaded from, if any. */
  readonly file: string | undefined;
  /** The validated document (deeply frozen). */
  readonly document: PolicyDocument;
  readonly resolveIp: (input: ClientIpInput) => ClientIp | null;
  readonly lists: CompiledLists;
  readonly limits: readonly CompiledLimit[];
  readonly content: CompiledContent;
  readonly scoring: { readonly challenge?: number; readonly block?: number; readonly challengeKind: string };
  readonly bans: {
    readonly after: number;
    readonly withinMs: number;
    /** Ban lengths in ms; `null` = permanent. */
    readonly ladder: readonly (number | null)[];
    readonly forgetMs: number;
    readonly jitter: number;
  };
  readonly challenges: { readonly rememberMs: number; readonly kind: string };
  readonly feedback: { readonly rememberMs: number };
  readonly rules: CompiledRules;
  /** Valid but suspicious parts (shown by `actiongate validate`). */
  readonly warnings: readonly PolicyProblem[];
}

export interface CompileOptions {
  /** The policy's file: named in errors, and list files resolve relative to it. */
  file?: string;
  /** Where relative list files are read from when there is no `file`. @default process.cwd() */
  baseDir?: string;
}

const MARKER = Symbol.for('actiongate.compiledPolicy');

/** True for the result of `compilePolicy` / `loadPolicy`. */
export function isCompiledPolicy(value: unknown): value is CompiledPolicy {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}

/**
 * Validates and compiles a policy document. Throws `PolicyError` with every problem; never
 * returns a half-compiled policy. List files are read synchronously, once.
 */
export function compilePolicy(document: unknown, options: CompileOptions = {}): CompiledPolicy {
  const file = options.file;
  const shape = shapeProblems(document);
  if (shape.length > 0) throw new PolicyError(withFile(shape, file), { file });
  const problems = schemaProblems(document);
  if (problems.length > 0) throw new PolicyError(withFile(problems, file), { file });

  const doc = deepFreeze(structuredClone(document)) as PolicyDocument;
  const warnings: PolicyProblem[] = [];
  const baseDir = file ? dirname(resolve(file)) : (options.baseDir ?? process.cwd());

  const network = doc.network ?? {};
  problems.push(...trustedProxyProblems(network.trustedProxies ?? []));
  const resolveIp = createClientIpResolver(problems.length > 0 ? {} : network);
  const readFile = policyFileReader(baseDir);
  const lists = compileLists(doc.lists ?? {}, { readFile }, problems, warnings);
  const limits = compileLimits(doc.limits, problems);
  const content = compileContent(doc.content, problems, '/content', parseDuration, { readFile, warnings });
  const rules = compileRules(doc.rules ?? [], { pointer: '/rules' });
  problems.push(...rules.problems);
  warnings.push(...rules.warnings);

  // The schema's pattern admits "0s" and lengths past a safe millisecond count, which parse to
  // nothing: a ladder rung would then read as permanent, and the others as undefined.
  const durations: [string, unknown, boolean][] = [
    ['/bans/within', doc.bans?.within, false],
    ['/bans/forget', doc.bans?.forget, false],
    ...(doc.bans?.ladder ?? []).map((rung, i): [string, unknown, boolean] => [`/bans/ladder/${i}`, rung, true]),
    ['/challenges/remember', doc.challenges?.remember, false],
    ['/feedback/remember', doc.feedback?.remember, false],
  ];
  for (const [pointer, text, permanent] of durations) {
    if (text !== undefined && (permanent ? parseBanDuration(text) : parseDuration(text)) === undefined) problems.push({ pointer, message: durationProblem(text) });
  }

  const scoring = doc.scoring ?? {};
  if (scoring.challenge !== undefined && scoring.block !== undefined && scoring.challenge > scoring.block) {
    warnings.push({ pointer: '/scoring', message: `challenge threshold ${scoring.challenge} is above the block threshold ${scoring.block}: scores in between block without a challenge` });
  }
  const bans = doc.bans ?? {};
  const ladder = (bans.ladder ?? ['24h', '7d', 'permanent']).map((rung) => parseBanDuration(rung) ?? null);

  if (problems.length > 0) throw new PolicyError(withFile(problems, file), { file });

  const version = doc.version ?? '0';
  return Object.freeze({
    [MARKER]: true,
    id: `${doc.name}@${version}`,
    name: doc.name,
    version,
    mode: doc.mode ?? 'enforce',
    failMode: doc.failMode ?? 'memory',
    file,
    document: doc,
    resolveIp,
    lists,
    limits: Object.freeze(limits),
    content,
    scoring: Object.freeze({ challenge: scoring.challenge, block: scoring.block, challengeKind: scoring.challengeKind ?? doc.challenges?.kind ?? 'captcha' }),
    bans: Object.freeze({
      after: bans.after ?? 3,
      withinMs: parseDuration(bans.within ?? '1h')!,
      ladder: Object.freeze(ladder),
      forgetMs: parseDuration(bans.forget ?? '30d')!,
      jitter: bans.jitter ?? 0,
    }),
    challenges: Object.freeze({ rememberMs: parseDuration(doc.challenges?.remember ?? '30m')!, kind: doc.challenges?.kind ?? 'captcha' }),
    feedback: Object.freeze({ rememberMs: parseDuration(doc.feedback?.remember ?? '7d')! }),
    rules,
    warnings: Object.freeze(withFile(warnings, file)),
  }) as CompiledPolicy;
}

/**
 * How deep a policy document may nest. The schema validator, the rule checks and the code
 * generator all recurse, so a document a few thousand levels deep (JSON.parse reads any depth)
 * would overflow the stack; real policies nest conditions a handful of levels.
 */
const MAX_DEPTH = 128;

/**
 * What makes a document no JSON document for the validators (found without recursion): a value
 * nested deeper than MAX_DEPTH (the first one), and functions and symbols, which a policy built
 * in code may hold and structuredClone refuses.
 */
function shapeProblems(document: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const stack: [unknown, string, number][] = [[document, '', 0]];
  while (stack.length > 0) {
    const [value, pointer, depth] = stack.pop()!;
    if (typeof value === 'function' || typeof value === 'symbol') problems.push({ pointer, message: `is a ${typeof value}, not a JSON value` });
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return [{ pointer, message: `nests deeper than ${MAX_DEPTH} levels: flatten it` }];
    for (const key of Object.keys(value)) stack.push([(value as Record<string, unknown>)[key], `${pointer}/${escape(key)}`, depth + 1]);
  }
  return problems;
}

function withFile(problems: PolicyProblem[], file: string | undefined): PolicyProblem[] {
  return file ? problems.map((p) => ({ ...p, file: p.file ?? file })) : problems;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
