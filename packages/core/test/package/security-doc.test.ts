import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/security.md backs every defence with tests, named by file and by the test's own name
// ("walks from the right past trusted proxies only…": a name or its start). A renamed or deleted
// test left the page citing proof that no longer exists; this keeps the two together.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const page = readFileSync(`${root}docs/security.md`, 'utf8');
const rows = page.split('\n').filter((line) => line.startsWith('| **'));

// A cited file: under packages/ (`core/test/…`, `adapters-redis/test/…`, `core/src/testing/…`) or
// the root's bench/; or one of the shared suites, cited by name.
const CITED = /`((?:core|adapters-redis|adapters-memory)\/(?:test|src\/testing)\/[^`]+\.ts|bench\/[^`]+\.ts)`|(conformance suite|lifecycle suite)/g;
const SUITES: Record<string, string> = {
  'conformance suite': 'packages/core/src/testing/index.ts',
  'lifecycle suite': 'packages/core/src/testing/lifecycle.ts',
};
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;

/**
 * The files a row's last cell cites, each with the test names quoted after it (up to the next
 * citation). A name quoted before any citation is an error of the page: `file` is then null.
 */
function citations(row: string): { file: string | null; names: string[] }[] {
  const proof = row.slice(row.lastIndexOf(' | ') + 3);
  const cited = [...proof.matchAll(CITED)];
  const namesIn = (text: string) => [...text.matchAll(QUOTED)].map((quoted) => quoted[1]!.replaceAll('\\"', '"').split('…')[0]!);
  const found = cited.map((match, i) => {
    const names = namesIn(proof.slice(match.index + match[0].length, cited[i + 1]?.index ?? proof.length));
    const file = match[2] !== undefined ? SUITES[match[2]]! : match[1]!.startsWith('bench/') ? match[1]! : `packages/${match[1]!}`;
    return { file, names };
  });
  const uncited = namesIn(proof.slice(0, cited[0]?.index ?? proof.length));
  return uncited.length > 0 ? [{ file: null, names: uncited }, ...found] : found;
}

/** A test file's text with its string escapes undone, so a name matches as vitest prints it. */
const unescaped = (source: string): string => source.replaceAll("\\'", "'").replaceAll('\\"', '"');

describe('docs/security.md cites tests that exist', () => {
  it('has rows, each citing at least one file', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(citations(row).length, row.slice(0, 80)).toBeGreaterThan(0);
  });

  it.each(rows.map((row) => [/\*\*(.+?)\*\*/.exec(row)![1]!, row] as const))('%s: every cited file and test name exists', (_, row) => {
    for (const { file, names } of citations(row)) {
      expect(file, `quoted before any file: ${names.join(', ')}`).not.toBeNull();
      if (file === null) continue;
      expect(existsSync(`${root}${file}`), file).toBe(true);
      const source = unescaped(readFileSync(`${root}${file}`, 'utf8'));
      for (const name of names) expect(source.includes(name), `${file}: "${name}"`).toBe(true);
    }
  });
});
