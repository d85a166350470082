/**
 * From a JSON pointer to a line and column in the file it points into. Policy problems carry
 * RFC 6901 pointers (`/limits/1/window`); an operator's editor wants `classifieds.json:14:52`.
 * One scan of the (already valid) JSON text records where every value starts; a pointer to a
 * member that does not exist (`is required`) falls back to its closest existing parent.
 */
import { escape as escapeSegment } from '../policy/schema.js';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what editors count for the BMP). */
  column: number;
}

export interface Locator {
  /** Where the value at `pointer` (or its deepest existing parent) starts. */
  locate(pointer: string): Position;
  /** The position of a character offset. */
  position(offset: number): Position;
}

/** Nesting deeper than this is not indexed (a policy is never that deep; the scan stays bounded). */
const MAX_DEPTH = 256;

/** Indexes `text`, which must be valid JSON (parse it first). */
export function createLocator(text: string): Locator {
  const starts = lineStarts(text);
  const offsets = indexPointers(text);
  const position = (offset: number): Position => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  };
  return {
    position,
    locate(pointer) {
      for (let current = pointer; ; current = current.slice(0, Math.max(0, current.lastIndexOf('/')))) {
        const offset = offsets.get(current);
        if (offset !== undefined) return position(offset);
        if (current === '') return position(0);
      }
    },
  };
}

/** The position of a character offset in `text` (any text, valid JSON or not). */
export function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Pointer → offset of the first character of its value. Duplicate keys: the last wins, as in `JSON.parse`. */
function indexPointers(text: string): Map<string, number> {
  const offsets = new Map<string, number>();
  let i = 0;
  const space = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff) i++;
      else break;
    }
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  // Recursive to MAX_DEPTH, then deeper nesting is skipped by a flat scan: no input overflows the stack.
  const value = (pointer: string, depth: number): void => {
    space();
    offsets.set(pointer, i);
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) return skipNested();
      const object = c === '{';
      i++;
      space();
      if (text[i] === (object ? '}' : ']')) return void i++;
      for (let index = 0; ; index++) {
        space();
        let segment = String(index);
        if (object) {
          segment = escapeSegment(string());
          space();
          i++; // ':'
        }
        value(`${pointer}/${segment}`, depth + 1);
        space();
        if (text[i++] !== ',') return; // '}' or ']'
      }
    }
    if (c === '"') return void string();
    while (i < text.length && !',}]'.includes(text[i]!) && !/\s/.test(text[i]!)) i++;
  };
  const skipNested = () => {
    let depth = 0;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        string();
        i--;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return void i++;
      }
    }
  };
  value('', 0);
  return offsets;
}
