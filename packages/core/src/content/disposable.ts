/**
 * Disposable e-mail domains from `mailchecker` (a maintained list of about 55,000 throwaway
 * providers). The list is a 1 MB module that takes ~40 ms and ~9 MB of heap to load, so it is
 * loaded on first use, synchronously, when a policy asks for the check (`content.disposable`):
 * `import '@actiongate/core'` stays cheap, and a policy compiles completely or not at all.
 */
import { requireFromCore } from '../require.js';

let domains: ReadonlySet<string> | undefined;

/** mailchecker's set, loaded once per process. */
function disposableDomains(): ReadonlySet<string> {
  if (!domains) {
    domains = (requireFromCore('mailchecker') as { blacklist(): Set<string> }).blacklist();
  }
  return domains;
}

/** Makes sure the list is loaded (policy compilation calls it, so the first decision does not pay). */
export function loadDisposableDomains(): void {
  disposableDomains();
}

/** True when `domain` or one of its parent domains is a disposable e-mail provider. */
export function isDisposableDomain(domain: string): boolean {
  const set = disposableDomains();
  for (let d = domain.toLowerCase(); ; ) {
    if (set.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot === -1) return false;
    d = d.slice(dot + 1);
  }
}
