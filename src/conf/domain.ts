/**
 * A domain definition: a typed view over the domain's ordered XML tree. Reading
 * goes through typed getters; edits change the tree, so formatting is a plain
 * serialize and nothing virtkit does not model is ever lost or reordered.
 */
import { el, serializeXml, serializeXmlBytes, type XmlElement, type XmlNode } from '../xml/index.js';
import { readDevice, type DeviceDef } from './devices/index.js';
import { DOMAIN_ORDER, DEVICES_ORDER } from './devices/kinds.js';
import { readDisk, type DiskDef } from './devices/disk.js';
import { readInterface, type InterfaceDef } from './devices/interface.js';
import { readController, type ControllerDef } from './devices/controller.js';
import { DeviceIndex } from './device-index.js';

/** Rank of each device kind in libvirt's formatter order. */
const DEVICE_RANK = new Map<string, number>(DEVICES_ORDER.map((n, i) => [n, i]));

export interface OsDef {
  type: string;
  arch?: string;
  machine?: string;
  boot: string[];
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

export class DomainDef {
  readonly root: XmlElement;
  /** Set by withDeviceIndex: device lookups read it instead of walking `<devices>`. */
  #index: DeviceIndex | undefined;

  constructor(root: XmlElement) {
    this.root = root;
  }

  /** `<domain type>`: qemu, kvm, xen, test, ... */
  get type(): string {
    return this.root.attr('type') ?? '';
  }
  get name(): string {
    return this.root.childText('name') ?? '';
  }
  get uuid(): string {
    return this.root.childText('uuid') ?? '';
  }
  get title(): string | undefined {
    return this.root.childText('title');
  }
  get description(): string | undefined {
    return this.root.child('description')?.text();
  }
  get metadata(): XmlElement | undefined {
    return this.root.child('metadata');
  }
  /** `<memory>` in KiB (after defaults). */
  get memoryKiB(): number {
    return Number(this.root.childText('memory') ?? 0);
  }
  get currentMemoryKiB(): number {
    return Number(this.root.childText('currentMemory') ?? this.memoryKiB);
  }
  get vcpus(): number {
    return Number(this.root.childText('vcpu') ?? 1);
  }
  /** vCPUs online now (`<vcpu current>`; the maximum when absent). */
  get currentVcpus(): number {
    const current = this.root.child('vcpu')?.attr('current');
    return current === undefined ? this.vcpus : Number(current);
  }
  get os(): OsDef {
    const os = this.root.child('os');
    const t = os?.child('type');
    return {
      type: t?.text().trim() || 'hvm',
      arch: t?.attr('arch'),
      machine: t?.attr('machine'),
      boot: os?.elements('boot').map((b) => b.attr('dev') ?? '') ?? [],
      kernel: os?.childText('kernel'),
      initrd: os?.childText('initrd'),
      cmdline: os?.childText('cmdline'),
    };
  }
  /** Names of the enabled `<features>` children (acpi, apic, pae, ...). */
  get features(): string[] {
    return this.root.child('features')?.elements().map((e) => e.name) ?? [];
  }
  get cpuMode(): string | undefined {
    return this.root.child('cpu')?.attr('mode');
  }
  get clockOffset(): string | undefined {
    return this.root.child('clock')?.attr('offset');
  }
  get onPoweroff(): string | undefined {
    return this.root.childText('on_poweroff');
  }
  get onReboot(): string | undefined {
    return this.root.childText('on_reboot');
  }
  get onCrash(): string | undefined {
    return this.root.childText('on_crash');
  }
  /** Running id from a live XML (`<domain id='N'>`), undefined in inactive XML. */
  get id(): number | undefined {
    const v = this.root.attr('id');
    return v === undefined ? undefined : Number(v);
  }

  /** The `<devices>` element, created in libvirt's position when missing. */
  devicesElement(): XmlElement {
    const d = this.root.child('devices');
    if (d) return d;
    const created = el('devices');
    this.root.insertOrdered(created, DOMAIN_ORDER);
    return created;
  }

  /**
   * Runs `fn` with device lookups (elementsNamed, deviceElements, elementsOfKinds) served by an index
   * of `<devices>` built once, for code that looks devices up many times (define's normalization).
   * addDevice keeps the index current; code that rearranges `<devices>` children itself must call
   * reindexDevices() afterwards.
   */
  withDeviceIndex<T>(fn: () => T): T {
    if (this.#index) return fn();
    this.#index = this.#newIndex();
    try {
      return fn();
    } finally {
      this.#index = undefined;
    }
  }

  /** Re-reads `<devices>` into the index, after code moved, replaced or removed its children directly. */
  reindexDevices(): void {
    if (this.#index) this.#index = this.#newIndex();
  }

  #newIndex(): DeviceIndex {
    return new DeviceIndex(() => this.root.child('devices'));
  }

  /** Every device element, in document order (without `<emulator>`). */
  deviceElements(): XmlElement[] {
    if (this.#index) return this.#index.all().slice();
    return (this.root.child('devices')?.elements() ?? []).filter((e) => e.name !== 'emulator');
  }

  /** The device elements of these kinds, kind by kind in this order, each kind in document order. */
  elementsOfKinds(kinds: readonly string[]): XmlElement[] {
    return (this.#index ?? this.#newIndex()).ofKinds(kinds);
  }

  devices(): DeviceDef[] {
    return this.deviceElements().map(readDevice);
  }
  disks(): DiskDef[] {
    return this.elementsNamed('disk').map(readDisk);
  }
  interfaces(): InterfaceDef[] {
    return this.elementsNamed('interface').map(readInterface);
  }
  controllers(): ControllerDef[] {
    return this.elementsNamed('controller').map(readController);
  }
  /** Device elements named `name` (cheap: no typed view is built). */
  elementsNamed(name: string): XmlElement[] {
    if (this.#index) return this.#index.named(name).slice();
    return this.root.child('devices')?.elements(name) ?? [];
  }
  /**
   * elementsNamed for a loop that only reads: with an index on, the index's own array (no copy), so it
   * must not be kept while devices of this kind are added, moved or removed.
   */
  peekNamed(name: string): readonly XmlElement[] {
    return this.#index ? this.#index.named(name) : this.elementsNamed(name);
  }
  /** deviceElements for a loop that only reads (a later edit of `<devices>` never changes this array). */
  peekDevices(): readonly XmlElement[] {
    return this.#index ? this.#index.all() : this.deviceElements();
  }
  /** Whether a controller of this type (and index) exists, without building typed views. */
  hasController(type: string, index?: number): boolean {
    return this.elementsNamed('controller').some(
      (c) => c.attr('type') === type && (index === undefined || Number(c.attr('index') ?? 0) === index),
    );
  }
  /** `<os><type machine>` and `arch`, read directly (hot path of defaults). */
  get machine(): string | undefined {
    return this.root.child('os')?.child('type')?.attr('machine');
  }
  get arch(): string | undefined {
    return this.root.child('os')?.child('type')?.attr('arch');
  }
  get emulator(): string | undefined {
    return this.root.child('devices')?.childText('emulator');
  }

  /** Adds a device element where libvirt would print it: after the last device of the same kind. */
  addDevice(dev: XmlElement): void {
    const devices = this.devicesElement();
    const kids = devices.children;
    let at = -1;
    if (this.#index) {
      const same = this.#index.named(dev.name);
      if (same.length > 0) at = kids.indexOf(same[same.length - 1]!) + 1;
    } else {
      for (let i = kids.length - 1; i >= 0 && at < 0; i--) {
        const c = kids[i]!;
        if (c.kind === 'element' && c.name === dev.name) at = i + 1;
      }
    }
    if (at < 0) at = orderedPosition(kids, dev.name);
    kids.splice(at, 0, dev);
    this.#index?.addedLast(dev);
  }

  /** Puts a device first in `<devices>` (before any layout text). */
  insertDeviceFirst(dev: XmlElement): void {
    this.devicesElement().children.unshift(dev);
    this.#index?.addedFirst(dev);
  }

  /** Puts a device just before another one (`before` must be in `<devices>`). */
  insertDeviceBefore(dev: XmlElement, before: XmlElement): void {
    const kids = this.devicesElement().children;
    kids.splice(kids.indexOf(before), 0, dev);
    if (dev.name === before.name) this.#index?.insertedBefore(dev, before);
    else this.reindexDevices();
  }

  /** Puts `next` in the place of the device `old`. */
  replaceDevice(old: XmlElement, next: XmlElement): void {
    const kids = this.devicesElement().children;
    kids[kids.indexOf(old)] = next;
    if (next.name === old.name) this.#index?.replaced(old, next);
    else this.reindexDevices();
  }

  /** Removes a device element; returns whether it was there. */
  removeDevice(dev: XmlElement): boolean {
    const removed = this.root.child('devices')?.remove(dev) ?? false;
    if (removed) this.reindexDevices();
    return removed;
  }

  clone(): DomainDef {
    return new DomainDef(this.root.clone());
  }

  toXml(): string {
    return serializeXml(this.root);
  }

  /** toXml() as UTF-8 bytes, written directly (how definitions are stored). */
  toUtf8(): Buffer {
    return serializeXmlBytes(this.root);
  }
}

/**
 * Where a device of a kind `<devices>` does not have yet goes: before the first element of a kind
 * libvirt prints later (as XmlElement.insertOrdered with DEVICES_ORDER; unknown names go last).
 */
function orderedPosition(kids: readonly XmlNode[], name: string): number {
  const rank = DEVICE_RANK.get(name);
  if (rank !== undefined) {
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind === 'element' && (DEVICE_RANK.get(c.name) ?? -1) > rank) return i;
    }
  }
  return kids.length;
}
