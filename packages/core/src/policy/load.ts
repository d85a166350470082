/**
 * Loading a policy from a JSON file: read, parse with a line and column on syntax errors, then
 * `compilePolicy` with list files resolved relative to the policy file.
 */
import { proveContentPatterns } from '../content/signals.js';
import { PolicyError } from '../errors.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { MAX_POLICY_FILE_BYTES, readTextFile } from './files.js';

/** Reads, validates and compiles a policy file. Throws `PolicyError` (code `POLICY_FILE` when unreadable). */
export async function loadPolicy(path: string): Promise<CompiledPolicy> {
  let text: string;
  try {
    text = await readTextFile(path, MAX_POLICY_FILE_BYTES);
  } catch (error) {
    throw new PolicyError([{ pointer: '', message: `cannot read the policy file: ${(error as Error).message}`, file: path }], { file: path, code: 'POLICY_FILE', cause: error });
  }
  const document = parsePolicyJson(text, path);
  // The ReDoS proofs off the event loop first: the compile then finds them remembered.
  await proveContentPatterns(document);
  return compilePolicy(document, { file: path });
}

export { FileTooLargeError, MAX_POLICY_FILE_BYTES, readTextFile } from './files.js';

/**
 * `JSON.parse` with the error located by line and column. A leading byte order mark (Windows
 * editors write one) is not content, as in list files; JSON.parse alone refuses it.
 */
export function parsePolicyJson(text: string, file?: string): unknown {
  try {
    return JSON.parse(withoutBom(text));
  } catch (error) {
    const message = (error as Error).message;
    // Node 20's messages do not always carry a position, so find it ourselves.
    const offset = jsonErrorOffset(text);
    const before = text.slice(0, offset).split('\n');
    const where = ` at line ${before.length}, column ${before.at(-1)!.length + 1}`;
    throw new PolicyError([{ pointer: '', message: `not valid JSON${where}: ${message}`, ...(file ? { file } : {}) }], { ...(file ? { file } : {}), code: 'POLICY_FILE', cause: error });
  }
}

/** `text` without a leading byte order mark. */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** Offset of the first JSON syntax error in `text` (a small recursive-descent scan; a leading BOM is skipped). */
export function jsonErrorOffset(text: string): number {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => (text.startsWith(word, i) ? (i += word.length) : fail());
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail();
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value(0);
    space();
    return i < text.length ? i : text.length;
  } catch (offset) {
    return Math.min(offset as number, text.length);
  }
}
