/**
 * Text from logs and traffic (actor ids, actions, reasons) is attacker-chosen; printed raw, an
 * escape sequence in an actor id would drive the operator's terminal (clear it, rewrite lines,
 * set the window title). Every such string goes through `printable` before it reaches a tty.
 */

// C0 controls (tab included), DEL and the C1 controls (U+009B is a one-character CSI).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with control characters shown as `\u001b`-style escapes. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `printable` for a message of several lines: its newlines kept, every other control escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
