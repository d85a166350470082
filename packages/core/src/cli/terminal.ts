/**
 * Text from logs and traffic (actor ids, actions, reasons) is attacker-chosen; printed raw, an
 * escape sequence in an actor id would drive the operator's terminal (clear it, rewrite lines,
 * set the window title), and a bidirectional override would reorder the rest of its line (in a
 * terminal that applies bidi, an actor id ending in U+202E showed its row's counts backwards).
 * Every such string goes through `printable` before it reaches a tty.
 */

// Past the C0 controls: DEL and the C1 controls (U+009B is a one-character CSI), the Unicode
// bidirectional controls (marks, embeddings, overrides, isolates) and the line and paragraph
// separators, which a terminal or a pager may break the line at.
const ACTIVE = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';
// With the C0 controls (tab included).
const CONTROL = new RegExp(`[\\u0000-\\u001f${ACTIVE}]`, 'g');

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with control characters shown as `\u001b`-style escapes. */
export function printable(text: string): string {
  return text.replace(CONTROL, escaped);
}

/** `printable` for a message of several lines: its newlines kept, every other control escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

// What JSON.stringify leaves raw that a terminal acts on (it escapes the C0 controls itself).
// JSON text holds them only inside strings, where an escape is the same character to every parser.
const JSON_RAW = new RegExp(`[${ACTIVE}]`, 'g');

/**
 * `JSON.stringify(value, null, indent)` for `--format json` on stdout: an actor id with U+009B
 * (a one-character CSI) or U+202E came out raw, so the JSON drove the terminal the text format
 * protects. The same JSON to a parser, with those characters as `\u009b` escapes.
 */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_RAW, escaped);
}
