/** `--json` output of listing commands: one pretty-printed JSON document per command. */

/** Serializes a listing for scripts; absent (`undefined`) fields are written as null so every row has the same keys. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v), 2) + '\n';
}
