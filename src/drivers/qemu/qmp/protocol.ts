/**
 * QMP wire shapes and the commands virtkit sends, typed. Only what the driver uses is listed;
 * `QmpClient.executeRaw` reaches any other command.
 */

export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** The first line QEMU sends on a monitor connection. */
export interface QmpGreeting {
  QMP: { version: QmpVersion; capabilities: string[] };
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpErrorBody {
  class: string;
  desc: string;
}

/** `query-machines` entry. */
export interface QmpMachineInfo {
  name: string;
  alias?: string;
  'is-default'?: boolean;
  'cpu-max': number;
  'hotpluggable-cpus': boolean;
  'numa-mem-supported': boolean;
  deprecated: boolean;
  'default-cpu-type'?: string;
  'default-ram-id'?: string;
}

export interface QmpBlockInfo {
  device: string;
  qdev?: string;
  removable: boolean;
  locked: boolean;
  tray_open?: boolean;
  inserted?: { file: string; 'node-name'?: string; drv: string; ro: boolean };
}

export interface QmpPciDevice {
  bus: number;
  slot: number;
  function: number;
  qdev_id: string;
  class_info: { class: number; desc?: string };
  id: { vendor: number; device: number };
  pci_bridge?: { bus: { number: number }; devices?: QmpPciDevice[] };
}

export interface QmpPciBus {
  bus: number;
  devices: QmpPciDevice[];
}

export interface QomProperty {
  name: string;
  type: string;
}

/** A JSON value as QMP carries it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

interface Cmd<A, R> {
  args: A;
  ret: R;
}
type NoArgs = Record<string, never> | undefined;
type Empty = Record<string, never>;

/** Commands with their argument and return types. */
export interface QmpCommands {
  qmp_capabilities: Cmd<{ enable?: string[] } | undefined, Empty>;
  'query-version': Cmd<NoArgs, QmpVersion>;
  'query-status': Cmd<NoArgs, { status: string; running: boolean; singlestep?: boolean }>;
  'query-kvm': Cmd<NoArgs, { enabled: boolean; present: boolean }>;
  'query-target': Cmd<NoArgs, { arch: string }>;
  'query-machines': Cmd<NoArgs, QmpMachineInfo[]>;
  'query-qmp-schema': Cmd<NoArgs, { 'meta-type': string; name: string }[]>;
  'qom-list-types': Cmd<{ implements?: string; abstract?: boolean } | undefined, { name: string; parent?: string }[]>;
  'qom-list': Cmd<{ path: string }, QomProperty[]>;
  'qom-list-properties': Cmd<{ typename: string }, QomProperty[]>;
  'qom-get': Cmd<{ path: string; property: string }, Json>;
  'query-block': Cmd<NoArgs, QmpBlockInfo[]>;
  'query-named-block-nodes': Cmd<{ flat?: boolean } | undefined, { 'node-name': string; drv: string; file: string; image?: { 'virtual-size'?: number } }[]>;
  'query-pci': Cmd<NoArgs, QmpPciBus[]>;
  'query-chardev': Cmd<NoArgs, { label: string; filename: string; 'frontend-open': boolean }[]>;
  'human-monitor-command': Cmd<{ 'command-line': string }, string>;
  cont: Cmd<NoArgs, Empty>;
  stop: Cmd<NoArgs, Empty>;
  quit: Cmd<NoArgs, Empty>;
  system_powerdown: Cmd<NoArgs, Empty>;
  system_reset: Cmd<NoArgs, Empty>;
  'blockdev-add': Cmd<JsonObject, Empty>;
  'blockdev-del': Cmd<{ 'node-name': string }, Empty>;
  'blockdev-reopen': Cmd<{ options: JsonObject[] }, Empty>;
  'blockdev-open-tray': Cmd<{ id: string; force?: boolean }, Empty>;
  'blockdev-close-tray': Cmd<{ id: string }, Empty>;
  'blockdev-remove-medium': Cmd<{ id: string }, Empty>;
  'blockdev-insert-medium': Cmd<{ id: string; 'node-name': string }, Empty>;
  netdev_add: Cmd<JsonObject, Empty>;
  netdev_del: Cmd<{ id: string }, Empty>;
  device_add: Cmd<JsonObject, Empty>;
  device_del: Cmd<{ id: string }, Empty>;
  set_link: Cmd<{ name: string; up: boolean }, Empty>;
}

export type QmpCommandName = keyof QmpCommands;
