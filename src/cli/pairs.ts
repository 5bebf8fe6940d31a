/** `name=value` items on the command line (capabilities, requirements). */

/** A value as typed: JSON when it is JSON (true, 4, "x", [1]), else the text itself. */
export function parseJsonish(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The items as a record; `bad(item)` is thrown for one that is not name=value. */
export function parsePairs(items: readonly string[], bad: (item: string) => Error): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw bad(item);
    record[item.slice(0, eq)] = parseJsonish(item.slice(eq + 1));
  }
  return record;
}
