/**
 * Appending to the short lists a decision builds (its planned takes, its batch's takes, its
 * state's bans and limits, its effects' strikes and bans): one to three entries as a rule.
 */

/**
 * `list` with `item` at its end: a new array while the list is short (it may be a shared empty or
 * a shared frozen list, never written to), a push onto the caller's own list past that. A push
 * onto an array literal grows it by 16 places or more (V8's growth step), where these lists hold
 * a handful, so up to three entries an array of the exact size is made instead.
 */
export function appended<T>(list: T[] | undefined, item: T): T[] {
  switch (list === undefined ? 0 : list.length) {
    case 0:
      return [item];
    case 1:
      return [list![0]!, item];
    case 2:
      return [list![0]!, list![1]!, item];
    default:
      list!.push(item);
      return list!;
  }
}
