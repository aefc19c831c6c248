/**
 * The device elements of one `<devices>`, grouped by kind, each kind in document order. A define's
 * normalization runs ~30 passes that each look devices up by kind; with an index they share one walk
 * of `<devices>` instead of each re-walking it (DomainDef.withDeviceIndex).
 */
import type { XmlElement } from '../xml/index.js';
import { keepShape } from '../shared/keep-shape.js';

/** What named() gives for an absent kind (typed read-only; not frozen: V8 copies frozen arrays slowly). */
const NONE: readonly XmlElement[] = [];

export class DeviceIndex {
  readonly #byName = new Map<string, XmlElement[]>();
  /** Devices in document order (without `<emulator>`); undefined once a device was added, until asked again. */
  #all: XmlElement[] | undefined;
  readonly #devices: () => XmlElement | undefined;

  /** `devices` gives the current `<devices>` element (it may be created after the index). */
  constructor(devices: () => XmlElement | undefined) {
    this.#devices = devices;
    const all: XmlElement[] = [];
    const kids = devices()?.children ?? [];
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind !== 'element') continue;
      const same = this.#byName.get(c.name);
      if (same) same.push(c);
      else this.#byName.set(c.name, [c]);
      if (c.name !== 'emulator') all.push(c);
    }
    this.#all = all;
  }

  /** Elements of one kind, in document order (the index's own array: read it, never keep it across edits). */
  named(name: string): readonly XmlElement[] {
    return this.#byName.get(name) ?? NONE;
  }

  /** Every device (without `<emulator>`) in document order. */
  all(): readonly XmlElement[] {
    if (this.#all) return this.#all;
    const out: XmlElement[] = [];
    const kids = this.#devices()?.children ?? [];
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind === 'element' && c.name !== 'emulator') out.push(c);
    }
    this.#all = out;
    return out;
  }

  /** The devices of these kinds, kind by kind in the given order, each kind in document order. */
  ofKinds(kinds: readonly string[]): XmlElement[] {
    const out: XmlElement[] = [];
    for (let k = 0; k < kinds.length; k++) {
      const same = this.#byName.get(kinds[k]!);
      if (same) for (let i = 0; i < same.length; i++) out.push(same[i]!);
    }
    return out;
  }

  /** Records a device just placed after every other device of its kind (DomainDef.addDevice). */
  addedLast(dev: XmlElement): void {
    const same = this.#byName.get(dev.name);
    if (same) same.push(dev);
    else this.#byName.set(dev.name, [dev]);
    this.#all = undefined;
  }

  /** Records a device just placed before every other device of its kind. */
  addedFirst(dev: XmlElement): void {
    const same = this.#byName.get(dev.name);
    if (same) same.unshift(dev);
    else this.#byName.set(dev.name, [dev]);
    this.#all = undefined;
  }

  /** Records a device put just before `before`, a device of the same kind. */
  insertedBefore(dev: XmlElement, before: XmlElement): void {
    const same = this.#byName.get(dev.name)!;
    same.splice(same.indexOf(before), 0, dev);
    this.#all = undefined;
  }

  /** Records that `next`, a device of the same kind, took the place of `old`. */
  replaced(old: XmlElement, next: XmlElement): void {
    const same = this.#byName.get(old.name)!;
    same[same.indexOf(old)] = next;
    this.#all = undefined;
  }
}
keepShape(new DeviceIndex(() => undefined));
