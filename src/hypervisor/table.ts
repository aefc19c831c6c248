/** A driver's domains, indexed by name and UUID (ids are looked up among the running ones). */
import { normalizeUuid } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DomainObj } from './domain-obj.js';

export class DomainTable {
  readonly #byName = new Map<string, DomainObj>();
  readonly #byUuid = new Map<string, DomainObj>();

  get size(): number {
    return this.#byName.size;
  }
  all(): IterableIterator<DomainObj> {
    return this.#byName.values();
  }
  /** Installs the current value of domain `name` (undefined: it is gone). */
  set(name: string, obj: DomainObj | undefined): void {
    const old = this.#byName.get(name);
    if (old && this.#byUuid.get(old.uuid) === old) this.#byUuid.delete(old.uuid);
    if (obj) {
      // Keyed by the domain's own copy of its name: `name` may be a slice of the XML it was defined from.
      this.#byName.set(obj.name === name ? obj.name : name, obj);
      this.#byUuid.set(obj.uuid, obj);
    } else {
      this.#byName.delete(name);
    }
  }
  clear(): void {
    this.#byName.clear();
    this.#byUuid.clear();
  }
  findName(name: string): DomainObj | undefined {
    return this.#byName.get(name);
  }
  findUuid(uuid: string): DomainObj | undefined {
    const direct = this.#byUuid.get(uuid);
    if (direct) return direct;
    const u = normalizeUuid(uuid);
    return u === undefined ? undefined : this.#byUuid.get(u);
  }
  findId(id: number): DomainObj | undefined {
    for (const o of this.#byName.values()) if (o.live && o.live.id === id) return o;
    return undefined;
  }
}

export function noDomainByName(name: string): Error {
  return virtError(ErrorCode.NO_DOMAIN, `no domain with matching name '${name}'`);
}
export function noDomainByUuid(uuid: string): Error {
  return virtError(ErrorCode.NO_DOMAIN, `no domain with matching uuid '${uuid}'`);
}
export function noDomainById(id: number): Error {
  return virtError(ErrorCode.NO_DOMAIN, `no domain with matching id ${id}`);
}
