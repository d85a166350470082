/**
 * List files as operators get them: one IP or CIDR per line with `#` or `;` comments (Spamhaus
 * DROP text, FireHOL netsets and ipsets), or Spamhaus DROP NDJSON (`{"cidr": …}` per line).
 * Bad lines are reported with their line numbers, never thrown, so one typo in a feed does not
 * drop the other million entries.
 */
import { readFile } from 'node:fs/promises';
import { parseCidr } from './ip.js';

export interface ListParse {
  /** Canonical CIDRs (host bits cleared). */
  entries: string[];
  problems: { line: number; message: string }[];
}

export function parseListText(text: string): ListParse {
  const entries: string[] = [];
  const problems: ListParse['problems'] = [];
  const lines = text.split(/\r?\n/);
  const ndjson = text.trimStart().startsWith('{');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    const lineNumber = index + 1;
    if (ndjson) {
      const line = raw.trim();
      if (line === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        problems.push({ line: lineNumber, message: 'not valid JSON' });
        continue;
      }
      if (typeof record !== 'object' || record === null) {
        problems.push({ line: lineNumber, message: 'not a JSON object' });
        continue;
      }
      const cidr = (record as { cidr?: unknown }).cidr;
      if (cidr === undefined && (record as { type?: unknown }).type === 'metadata') continue;
      const parsed = typeof cidr === 'string' ? parseCidr(cidr) : null;
      if (parsed) entries.push(parsed.text);
      else problems.push({ line: lineNumber, message: `${JSON.stringify(cidr ?? null).slice(0, 60)} is not an IP address or CIDR` });
      continue;
    }
    const comment = raw.search(/[#;]/);
    const line = (comment < 0 ? raw : raw.slice(0, comment)).trim();
    if (line === '') continue;
    const parsed = parseCidr(line);
    if (parsed) entries.push(parsed.text);
    else problems.push({ line: lineNumber, message: `${JSON.stringify(line.slice(0, 60))} is not an IP address or CIDR` });
  }
  return { entries, problems };
}

/** Reads and parses a list file; an unreadable file is a result with `error`, not an exception. */
export async function loadListFile(path: string): Promise<ListParse & { error?: string }> {
  try {
    return parseListText(await readFile(path, 'utf8'));
  } catch (error) {
    return { entries: [], problems: [], error: `cannot read ${path}: ${(error as Error).message}` };
  }
}
