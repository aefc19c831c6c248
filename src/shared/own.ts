/**
 * Table lookups with keys that come from XML or callers. `table[key]` on a plain object also finds
 * Object.prototype's members: `unit='__proto__'` or `arch='constructor'` would read an object or a
 * function instead of "not found". `own` reads only the table's own entries.
 */
export function own<V>(table: Readonly<Record<string, V>>, key: string | undefined): V | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
