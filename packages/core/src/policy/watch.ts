/**
 * Reloading a policy file when it changes. Editors save by writing in place or by renaming a new
 * file over the old one, so the directory is watched and events for the file's name count. A
 * file reached through a symlink changes without an event of its name: a Kubernetes ConfigMap
 * update renames a new `..data` symlink into place. So an event for any other name counts when
 * the file it leads to is no longer the one last loaded (another inode, size or mtime). A policy
 * that fails to load keeps the old one in force and is reported to `onError`.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { PolicyError } from '../errors.js';
import type { CompiledPolicy } from './compile.js';
import { loadPolicy } from './load.js';

export interface WatchPolicyOptions {
  /** A reload that failed (the old policy stays in force). @default a process warning (`ActiongateWarning`) */
  onError?: (error: PolicyError | Error) => void;
  /** A reload that succeeded. What it throws goes to `onError` (what `onError` throws, to a process warning). */
  onReload?: (policy: CompiledPolicy) => void;
  /** Quiet time after the last change before reloading. @default 100 */
  debounceMs?: number;
}

export interface PolicyWatcher {
  /** Stops watching; a reload in progress is dropped, not applied. */
  close(): void;
}

export function watchPolicy(path: string, guard: { setPolicy(policy: CompiledPolicy): void }, options: WatchPolicyOptions = {}): PolicyWatcher {
  const file = resolve(path);
  const name = basename(file);
  const debounceMs = options.debounceMs ?? 100;
  // Never silent: a host that passes no onError still learns that its edit did not take. And a
  // callback that throws must not reject the reload chain: every later reload would be skipped,
  // and the rejection would be unhandled.
  const warn = (error: Error, what: string) => process.emitWarning(`${what}: ${error.message}`, 'ActiongateWarning');
  const onError = (error: Error, what = 'policy reload failed, the old policy stays in force') => {
    try {
      if (options.onError) options.onError(error);
      else warn(error, what);
    } catch (thrown) {
      warn(thrown as Error, 'watchPolicy onError threw');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let loading = Promise.resolve();
  /** The identity of the file the symlinks (if any) lead to, when it was last loaded. */
  const identity = () => {
    try {
      const stats = statSync(file);
      return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    } catch {
      return null;
    }
  };
  let loaded = identity();
  let closed = false;

  const reload = () => {
    // Reloads run one after another, so an older file never replaces a newer one.
    loading = loading.then(async () => {
      if (closed) return;
      loaded = identity();
      let policy: CompiledPolicy;
      try {
        policy = await loadPolicy(file);
        // A reload that was reading when close() came applies nothing: the caller may already
        // have handed the guard to another watcher, or closed it.
        if (closed) return;
        guard.setPolicy(policy);
      } catch (error) {
        if (!closed) onError(error as Error);
        return;
      }
      try {
        options.onReload?.(policy);
      } catch (error) {
        onError(error as Error, 'watchPolicy onReload threw (the new policy is in force)');
      }
    });
  };
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name && identity() === loaded) return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on('error', (error) => onError(error));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
