/**
 * Keeps the hidden class of a short-lived object shape alive for the life of the process.
 *
 * Why: V8 reaches an object's final hidden class ("map") through transitions that it holds only
 * weakly. An object a call creates and drops (the parser of one document, the device index and PCI
 * address set of one define) leaves no object of its shape behind between calls, so the next full
 * GC frees the map, and every function optimized against it is deoptimized ("weak objects" in
 * `--trace-deopt`). On the define path that is some sixty functions at each full GC, then a second
 * or more of slow defines while they are optimized again. One exemplar of each such shape, held
 * here, keeps the map and so the optimized code. An exemplar must be built exactly as the real
 * objects are (same constructor, same field kinds), or it holds a different map.
 */
const exemplars: object[] = [];

/** Holds `exemplar` for the life of the process and returns it. */
export function keepShape<T extends object>(exemplar: T): T {
  exemplars.push(exemplar);
  return exemplar;
}
