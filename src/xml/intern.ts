/**
 * Names and short attribute values as the parser hands them out: one internalized string per
 * spelling, from a small direct-mapped cache.
 *
 * Why: normalization compares what it reads with string literals thousands of times per define
 * (`attr('type') === 'pci'`, `child('address')`), and V8 compares two strings by pointer only when
 * both are internalized (every literal is); a substring of the document is not, so each such
 * comparison of equal lengths compared characters, and each Map lookup keyed by one hashed it
 * afresh. A cache hit also makes no substring. The cache has a fixed number of slots and a new
 * spelling takes its slot's place, so hostile input cannot grow it: it only misses more.
 */

const SLOTS = 4096;
/** Longest string cached: names and enumerated values are short; paths, UUIDs and MACs are not. */
export const INTERN_MAX_LENGTH = 16;

/** '' marks an empty slot (no cached string is empty). */
const table: string[] = new Array<string>(SLOTS).fill('');

/** Starting value of the hash the caller computes with {@link internStep} over the characters. */
export const INTERN_SEED = 0x811c9dc5;

/** One character into the hash (FNV-1a style, kept in 31 bits). */
export function internStep(h: number, c: number): number {
  return Math.imul(h ^ c, 16777619) & 0x7fffffff;
}

/**
 * s.slice(start, end) as an internalized string, `h` being the hash of its characters
 * (internStep from INTERN_SEED). Only for end - start in 1..INTERN_MAX_LENGTH.
 */
export function internSlice(s: string, start: number, end: number, h: number): string {
  const slot = h & (SLOTS - 1);
  const cached = table[slot]!;
  const len = end - start;
  if (cached.length === len && s.startsWith(cached, start)) return cached;
  const fresh = internalize(s.slice(start, end));
  table[slot] = fresh;
  return fresh;
}

/** The internalized copy of `s`: a property key is internalized, so it comes back as one (index-like keys aside). */
function internalize(s: string): string {
  const holder: Record<string, number> = { [s]: 0 };
  for (const key in holder) return key;
  return s;
}
