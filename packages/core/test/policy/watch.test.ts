import { closeSync, constants, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuard, loadPolicy, watchPolicy, type CompiledPolicy } from '../../src/index.js';

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

/** A policy file `p@1` in a fresh directory, and a guard loaded from it. */
const watched = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ag-watch-'));
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify({ name: 'p', version: '1' }));
  return { dir, file, guard: createGuard({ policy: await loadPolicy(file) }) };
};

describe('watchPolicy', () => {
  it('reloads on change, keeps the old policy on a bad one, and follows rename-over saves', async () => {
    const { dir, file, guard } = await watched();
    const errors: Error[] = [];
    const reloads: CompiledPolicy[] = [];
    const watcher = watchPolicy(file, guard, { onError: (e) => errors.push(e), onReload: (p) => reloads.push(p), debounceMs: 20 });
    try {
      writeFileSync(file, JSON.stringify({ name: 'p', version: '2' }));
      await until(() => guard.policy.id === 'p@2');

      writeFileSync(file, JSON.stringify({ name: 'p', version: '3', limits: [{ id: 'x', by: 'ip', window: 'soon', max: 1 }] }));
      await until(() => errors.length > 0);
      expect(errors[0]).toMatchObject({ code: 'POLICY_INVALID' });
      expect(guard.policy.id).toBe('p@2');

      writeFileSync(join(dir, 'next.json'), JSON.stringify({ name: 'p', version: '4' }));
      renameSync(join(dir, 'next.json'), file);
      await until(() => guard.policy.id === 'p@4');
      expect(reloads.map((p) => p.id)).toContain('p@4');
    } finally {
      watcher.close();
    }
  });

  it('follows a policy mounted from a Kubernetes ConfigMap, whose update swaps a symlink of another name', async () => {
    // The kubelet's layout: policy.json -> ..data/policy.json, ..data -> ..<timestamp>; an update
    // writes a new timestamped directory and renames a new ..data symlink over the old one.
    const dir = mkdtempSync(join(tmpdir(), 'ag-watch-'));
    const version = (n: number) => {
      mkdirSync(join(dir, `..v${n}`));
      writeFileSync(join(dir, `..v${n}`, 'policy.json'), JSON.stringify({ name: 'p', version: String(n) }));
      symlinkSync(`..v${n}`, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    version(1);
    symlinkSync('..data/policy.json', join(dir, 'policy.json'));
    const file = join(dir, 'policy.json');
    const guard = createGuard({ policy: await loadPolicy(file) });
    const reloads: string[] = [];
    const watcher = watchPolicy(file, guard, { onReload: (p) => reloads.push(p.id), debounceMs: 20 });
    try {
      version(2);
      await until(() => guard.policy.id === 'p@2');
      // Other files changing in the directory do not reload an unchanged policy.
      writeFileSync(join(dir, 'unrelated.txt'), 'x');
      await new Promise((r) => setTimeout(r, 150));
      expect(reloads).toEqual(['p@2']);
    } finally {
      watcher.close();
    }
  });

  it('applies nothing after close, not even a reload that was already reading the file', async () => {
    const { file, guard } = await watched();
    const reloads: string[] = [];
    const watcher = watchPolicy(file, guard, { onReload: (p) => reloads.push(p.id), debounceMs: 50 });
    // A named pipe in the policy's place: the reload's read waits until something writes to it.
    rmSync(file);
    execFileSync('mkfifo', [file]);
    // Opening the pipe's write end without blocking fails (ENXIO) until the reload opened its read end.
    let pipe: number | undefined;
    for (let i = 0; i < 200 && pipe === undefined; i++) {
      try {
        pipe = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    expect(pipe).toBeDefined();
    watcher.close();
    writeFileSync(pipe!, JSON.stringify({ name: 'p', version: '2' }));
    closeSync(pipe!);
    await new Promise((r) => setTimeout(r, 200));
    expect(guard.policy.id).toBe('p@1');
    expect(reloads).toEqual([]);
  });

  it('without onError, a failed reload is a process warning rather than silence', async () => {
    const { file, guard } = await watched();
    const warnings: Error[] = [];
    const listener = (warning: Error) => warnings.push(warning);
    process.on('warning', listener);
    const watcher = watchPolicy(file, guard, { debounceMs: 20 });
    try {
      writeFileSync(file, '{"name": "p", "version": "2", "mode": "enforcing"}');
      await until(() => warnings.length > 0);
      expect(warnings[0]).toMatchObject({ name: 'ActiongateWarning', message: expect.stringMatching(/policy reload failed, the old policy stays in force: Invalid policy in .*policy\.json[\s\S]*\/mode/) });
      expect(guard.policy.id).toBe('p@1');
    } finally {
      watcher.close();
      process.off('warning', listener);
    }
  });

  it('survives callbacks that throw: no unhandled rejection, and later reloads still run', async () => {
    const { file, guard } = await watched();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    let errors = 0;
    let reloads = 0;
    const watcher = watchPolicy(file, guard, {
      debounceMs: 20,
      onError: () => {
        errors++;
        throw new Error('the logger is broken');
      },
      onReload: () => {
        reloads++;
        throw new Error('so is the reload hook');
      },
    });
    try {
      writeFileSync(file, '{"name": "p", "mode": "enforcing"}');
      await until(() => errors === 1);
      writeFileSync(file, JSON.stringify({ name: 'p', version: '2' }));
      await until(() => guard.policy.id === 'p@2' && reloads === 1);
      writeFileSync(file, JSON.stringify({ name: 'p', version: '3' }));
      await until(() => guard.policy.id === 'p@3');
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      watcher.close();
      process.off('unhandledRejection', listener);
    }
  });

  it('reads list files again on a reload, but a list file changing alone does not reload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-watch-'));
    const file = join(dir, 'policy.json');
    writeFileSync(join(dir, 'drop.txt'), '192.0.2.1\n');
    writeFileSync(file, JSON.stringify({ name: 'p', version: '1', lists: { drop: { files: ['drop.txt'], verdict: 'block' } } }));
    const guard = createGuard({ policy: await loadPolicy(file) });
    const reloads: string[] = [];
    const watcher = watchPolicy(file, guard, { onReload: (p) => reloads.push(p.id), debounceMs: 20 });
    const blocked = async (ip: string) => (await guard.evaluate({ action: 'a', ip })).verdict === 'block';
    try {
      writeFileSync(join(dir, 'drop.txt'), '192.0.2.1\n192.0.2.2\n');
      await new Promise((r) => setTimeout(r, 150));
      expect(reloads).toEqual([]);
      expect(await blocked('192.0.2.2')).toBe(false);
      writeFileSync(file, JSON.stringify({ name: 'p', version: '2', lists: { drop: { files: ['drop.txt'], verdict: 'block' } } }));
      await until(() => guard.policy.id === 'p@2');
      expect(await blocked('192.0.2.2')).toBe(true);
    } finally {
      watcher.close();
    }
  });
});
