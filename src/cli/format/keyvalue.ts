/** virsh's `Key:   value` blocks (dominfo): the label padded to 15 columns, then a space. */

/** Renders `[label, value]` pairs as virsh's dominfo does. */
export function formatKeyValue(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${(k + ':').padEnd(15)} ${v}\n`).join('');
}
