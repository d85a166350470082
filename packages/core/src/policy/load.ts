/**
 * Loading a policy from a JSON file: read, parse with a line and column on syntax errors, then
 * `compilePolicy` with list files resolved relative to the policy file.
 */
import { readFile } from 'node:fs/promises';
import { PolicyError } from '../errors.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';

/** Reads, validates and compiles a policy file. Throws `PolicyError` (code `POLICY_FILE` when unreadable). */
export async function loadPolicy(path: string): Promise<CompiledPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PolicyError([{ pointer: '', message: `cannot read the policy file: ${(error as Error).message}`, file: path }], { file: path, code: 'POLICY_FILE', cause: error });
  }
  return compilePolicy(parsePolicyJson(text, path), { file: path });
}

/** `JSON.parse` with the error located by line and column. */
export function parsePolicyJson(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset).split('\n');
      where = ` at line ${before.length}, column ${before.at(-1)!.length + 1}`;
    }
    throw new PolicyError([{ pointer: '', message: `not valid JSON${where}: ${message}`, ...(file ? { file } : {}) }], { ...(file ? { file } : {}), code: 'POLICY_FILE', cause: error });
  }
}
