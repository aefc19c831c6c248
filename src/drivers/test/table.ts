/** The test driver's domains, indexed by name, UUID and running id. */
import { ErrorCode, virtError } from '../../errors.js';
import { normalizeUuid } from '../../conf/index.js';
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
  add(obj: DomainObj): void {
    this.#byName.set(obj.name, obj);
    this.#byUuid.set(obj.uuid, obj);
  }
  delete(obj: DomainObj): void {
    this.#byName.delete(obj.name);
    this.#byUuid.delete(obj.uuid);
  }
  clear(): void {
    this.#byName.clear();
    this.#byUuid.clear();
  }
  findName(name: string): DomainObj | undefined {
    return this.#byName.get(name);
  }
  findUuid(uuid: string): DomainObj | undefined {
    const u = normalizeUuid(uuid);
    return u === undefined ? undefined : this.#byUuid.get(u);
  }
  byName(name: string): DomainObj {
    const o = this.#byName.get(name);
    if (!o) throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching name '${name}'`);
    return o;
  }
  byUuid(uuid: string): DomainObj {
    const o = this.findUuid(uuid);
    if (!o) throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching uuid '${uuid}'`);
    return o;
  }
  byId(id: number): DomainObj {
    for (const o of this.#byName.values()) if (o.live && o.live.id === id) return o;
    throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching id ${id}`);
  }
  /** The object a handle refers to: by UUID (stable across renames and restarts), name as fallback message. */
  resolve(ref: { name: string; uuid: string }): DomainObj {
    const o = this.#byUuid.get(ref.uuid);
    if (!o) throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching uuid '${ref.uuid}' (${ref.name})`);
    return o;
  }
}
