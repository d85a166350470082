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

// Columns of a character in a terminal: East Asian wide and full-width characters and emoji
// shown as pictures take two, combining marks and format characters (the joiner of an emoji
// sequence) none. The wide ranges are Markus Kuhn's wcwidth's, which terminals and `wcwidth(3)`
// follow, with \p{Emoji_Presentation} for the emoji added since; JavaScript's regular
// expressions have no East_Asian_Width property to ask instead.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;
const EMOJI = /\p{Emoji_Presentation}/u;

function columnsOf(codePoint: number, char: string): number {
  if (codePoint < 0x300) return 1; // ASCII and Latin-1: the usual case, asked first
  if (ZERO_WIDTH.test(char)) return 0;
  const wide =
    (codePoint >= 0x1100 && codePoint <= 0x115f) || codePoint === 0x2329 || codePoint === 0x232a ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) || (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe10 && codePoint <= 0xfe19) || (codePoint >= 0xfe30 && codePoint <= 0xfe6f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) || (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd) || EMOJI.test(char);
  return wide ? 2 : 1;
}

/** The columns `text` takes in a terminal (wide characters two, combining marks none). */
export function displayWidth(text: string): number {
  let columns = 0;
  for (const char of text) columns += columnsOf(char.codePointAt(0)!, char);
  return columns;
}

/**
 * `printable(text)` padded with spaces to `width` terminal columns, for a table's column:
 * `padEnd` counts UTF-16 code units, so a row with a Japanese actor id or an emoji reason pushed
 * every column after it out of line. Text wider than `width` is kept whole, as `padEnd` keeps it.
 */
export function cell(text: string, width: number): string {
  const shown = printable(text);
  return shown + ' '.repeat(Math.max(0, width - displayWidth(shown)));
}
