/**
 * The files a policy names are read with a bound: a path naming a device that never ends
 * (`/dev/zero`) killed the process (`std::bad_alloc`, past any catch), a pipe blocked the
 * synchronous compile forever. Both are now a PolicyError naming the file's pointer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate.js';
import { FileTooLargeError, MAX_LIST_FILE_BYTES, readTextFile, readTextFileSync } from '../../src/policy/files.js';
import { compilePolicy } from '../../src/policy/compile.js';

const dir = mkdtempSync(join(tmpdir(), 'actiongate-files-'));
const fifo = join(dir, 'list.fifo');
execFileSync('mkfifo', [fifo]);
const huge = join(dir, 'huge.txt');
writeFileSync(huge, '');
truncateSync(huge, MAX_LIST_FILE_BYTES + 1); // sparse: no disk, no time
const good = join(dir, 'good.txt');
writeFileSync(good, '198.51.100.0/24\n');

const problemsOf = (document: unknown) => {
  try {
    compilePolicy(document, { baseDir: dir });
  } catch (error) {
    return (error as { code: string; problems: { pointer: string; message: string }[] });
  }
  throw new Error('compiled');
};

describe('readTextFileSync', () => {
  it('reads a regular file, and refuses a device, a pipe, a directory and a file past the bound by what they are', () => {
    expect(readTextFileSync(good, 100)).toBe('198.51.100.0/24\n');
    expect(() => readTextFileSync('/dev/zero', 100)).toThrow('a device, not a regular file');
    expect(() => readTextFileSync(fifo, 100)).toThrow('a pipe, not a regular file');
    expect(() => readTextFileSync(dir, 100)).toThrow('a directory, not a regular file');
    expect(() => readTextFileSync(good, 10)).toThrow(FileTooLargeError);
    expect(() => readTextFileSync(good, 16)).not.toThrow();
    expect(() => readTextFileSync(join(dir, 'missing'), 10)).toThrow(/ENOENT/);
  });

  it('the asynchronous reader stops a device at the bound', async () => {
    await expect(readTextFile('/dev/zero', 1 << 20)).rejects.toThrow(FileTooLargeError);
  });
});

describe('compilePolicy with hostile file paths', () => {
  it('a list file that is a device, a pipe or too large is a problem at its pointer, not a crash or a hang', () => {
    const error = problemsOf({ name: 'p', lists: { zero: { verdict: 'block', files: ['/dev/zero'] }, pipe: { verdict: 'block', files: [fifo] }, big: { verdict: 'block', files: [huge] } } });
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.problems).toEqual([
      { pointer: '/lists/zero/files/0', message: expect.stringContaining('a device, not a regular file') },
      { pointer: '/lists/pipe/files/0', message: expect.stringContaining('a pipe, not a regular file') },
      { pointer: '/lists/big/files/0', message: expect.stringContaining(`more than ${MAX_LIST_FILE_BYTES} bytes`) },
    ]);
  });

  it('a content domain file likewise', () => {
    const error = problemsOf({ name: 'p', content: { domains: { shorteners: { files: ['/dev/zero'], score: 5 } } } });
    expect(error.problems).toEqual([expect.objectContaining({ pointer: '/content/domains/shorteners/files/0', message: expect.stringContaining('a device') })]);
  });

  it('still reads a list file relative to the base directory', () => {
    expect(compilePolicy({ name: 'p', lists: { ok: { verdict: 'block', files: ['good.txt'] } } }, { baseDir: dir }).lists.size).toBe(1);
  });
});

describe('actiongate validate', () => {
  it('a policy path naming a device is an error finding, and list files the policy names are read with the bound', async () => {
    expect((await validateFile('/dev/zero')).findings[0]).toMatchObject({ severity: 'error', message: expect.stringMatching(/cannot read the policy file: more than/) });
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ name: 'p', lists: { zero: { verdict: 'block', files: ['/dev/zero'] } } }));
    const result = await validateFile(policy);
    expect(result.valid).toBe(false);
    expect(result.findings).toEqual([expect.objectContaining({ severity: 'error', pointer: '/lists/zero/files/0', message: expect.stringContaining('a device') })]);
  });
});
