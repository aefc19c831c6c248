/** virsh's plain column tables (vsh-table): header, a dashes line, left-aligned padded cells. */

/** Renders rows like virsh: one leading space, 3 spaces between columns, the last column unpadded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], quiet = false): string {
  const all = quiet ? rows : [headers, ...rows];
  const widths = headers.map((_, c) => Math.max(0, ...all.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    ' ' + cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('   ') + '\n';
  let out = '';
  if (!quiet) {
    out += line(headers);
    // virsh draws the rule as wide as the columns plus three per column.
    out += '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * headers.length) + '\n';
  }
  for (const r of rows) out += line(r);
  return out;
}
