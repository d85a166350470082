/**
 * List files as operators download them: one IP or CIDR per line with `#` or `;` comments
 * (FireHOL netsets and ipsets, Spamhaus DROP text `1.2.3.0/24 ; SBL123`), or Spamhaus DROP
 * NDJSON (`{"cidr":"1.10.16.0/20","sblid":…}` per line, then a metadata line). Feeds are other
 * people's files: a bad line is reported with its number and skipped, never thrown, so one typo
 * does not drop the other million entries — and an unreadable file is a result, not an exception.
 */
import { MAX_LIST_FILE_BYTES, readTextFile } from '../policy/files.js';
import { shown } from '../errors.js';
import { parseCidr } from './ip.js';

export interface ListProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface ListParse {
  /** Canonical CIDRs (`1.2.3.4/32`, `2001:db8::/32`), host bits cleared, in file order. */
  entries: string[];
  /** Lines that were skipped; after `MAX_PROBLEMS`, one last problem counts the rest. */
  problems: ListProblem[];
}

/** Problems listed one by one; a file that is all garbage says so in one more line, not a million. */
export const MAX_PROBLEMS = 100;

/** Parses a list file's text. Never throws. */
export function parseListText(text: string): ListParse {
  const entries: string[] = [];
  const problems: ListProblem[] = [];
  let skipped = 0;
  let lastSkipped = 0;
  const problem = (line: number, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ line, message });
    else {
      skipped++;
      lastSkipped = line;
    }
  };

  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a BOM is not content
  const ndjson = firstVisible(body) === '{';
  const lines = body.split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    if (ndjson) {
      const raw = lines[index]!.trim();
      if (raw === '') continue;
      const cidr = ndjsonCidr(raw);
      if (cidr === METADATA) continue;
      if (typeof cidr !== 'string') {
        problem(line, cidr.error);
        continue;
      }
      const parsed = parseCidr(cidr);
      if (parsed) entries.push(parsed.text);
      else problem(line, `${show(cidr)} is not an IP address or CIDR`);
      continue;
    }
    const raw = lines[index]!;
    const comment = raw.search(/[#;]/);
    const value = (comment < 0 ? raw : raw.slice(0, comment)).trim();
    if (value === '') continue;
    const parsed = parseCidr(value);
    if (parsed) entries.push(parsed.text);
    else problem(line, `${show(value)} is not an IP address or CIDR`);
  }
  if (skipped > 0) problems.push({ line: lastSkipped, message: `${skipped} more invalid line${skipped === 1 ? '' : 's'} not listed` });
  return { entries, problems };
}

/** The first character that is not whitespace, without copying the text. */
function firstVisible(text: string): string {
  const match = /\S/.exec(text);
  return match ? match[0] : '';
}

const METADATA = Symbol('metadata');

/** The `cidr` of one NDJSON record; `METADATA` for Spamhaus's closing `{"type":"metadata",…}`. */
function ndjsonCidr(line: string): string | typeof METADATA | { error: string } {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { error: 'not a JSON line' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { error: 'not a JSON object' };
  const cidr = Object.hasOwn(record, 'cidr') ? (record as { cidr: unknown }).cidr : undefined;
  if (typeof cidr === 'string') return cidr;
  if (cidr === undefined && (record as { type?: unknown }).type === 'metadata') return METADATA;
  return { error: cidr === undefined ? 'has no "cidr"' : `"cidr" is ${show(cidr)}, not a string` };
}

const show = (value: unknown): string => shown(value, 61);

/** A list file read and parsed; `error` when it could not be read (then `entries` is empty). */
export interface ListFile extends ListParse {
  error?: string;
}

/** Reads and parses a list file (UTF-8). An unreadable file returns `error` instead of throwing. */
export async function loadListFile(path: string): Promise<ListFile> {
  let text: string;
  try {
    text = await readTextFile(path, MAX_LIST_FILE_BYTES);
  } catch (error) {
    return { entries: [], problems: [], error: `cannot read ${path}: ${(error as Error).message}` };
  }
  return parseListText(text);
}
