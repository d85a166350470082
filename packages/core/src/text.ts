/**
 * Strings kept long after the input they came from (a decision's content for feedback, a report's
 * keys and scenarios), cut to a bound as strings of their own. V8 makes a long `slice` a view into
 * the whole string it was cut from, so a kept 8 KB prefix of a 2 MB body kept the 2 MB: the 1,000
 * decisions remembered for feedback held 600 MB after 300 such ads, and a report of long distinct
 * actor ids a megabyte per kept key.
 */

/** The first `max` code units of `text`, copied when cut. UTF-16 both ways: exact for any string, lone surrogates too. */
export function prefixOf(text: string, max: number): string {
  return text.length > max ? Buffer.from(text.slice(0, max), 'utf16le').toString('utf16le') : text;
}
