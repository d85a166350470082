import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuard, loadPolicy, watchPolicy, type CompiledPolicy } from '../../src/index.js';

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

describe('watchPolicy', () => {
  it('reloads on change, keeps the old policy on a bad one, and follows rename-over saves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-watch-'));
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ name: 'p', version: '1' }));
    const guard = createGuard({ policy: await loadPolicy(file) });
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
});
