/** The device elements of `<devices>` and the order libvirt prints them in. */

/** Element names libvirt formats inside `<devices>`, in its formatter's order (virDomainDefFormatInternal). */
export const DEVICES_ORDER = [
  'emulator',
  'disk',
  'controller',
  'lease',
  'filesystem',
  'interface',
  'smartcard',
  'serial',
  'parallel',
  'console',
  'channel',
  'input',
  'tpm',
  'graphics',
  'sound',
  'audio',
  'video',
  'hostdev',
  'redirdev',
  'redirfilter',
  'hub',
  'watchdog',
  'memballoon',
  'rng',
  'panic',
  'shmem',
  'memory',
  'iommu',
  'vsock',
  'crypto',
  'nvram',
] as const;

/** Device kinds a `<devices>` child or a hot-plug XML may be (everything but `emulator`). */
export const DEVICE_KINDS = new Set<string>(DEVICES_ORDER.filter((n) => n !== 'emulator'));

/** Kinds whose typed model virtkit reads and validates; the rest are kept verbatim. */
export type ModelledKind =
  | 'disk'
  | 'interface'
  | 'controller'
  | 'input'
  | 'graphics'
  | 'video'
  | 'serial'
  | 'console'
  | 'channel'
  | 'memballoon'
  | 'rng'
  | 'watchdog'
  | 'hostdev';

/** Order of children inside `<domain>` as libvirt prints them. */
export const DOMAIN_ORDER = [
  'name',
  'uuid',
  'genid',
  'title',
  'description',
  'metadata',
  'maxMemory',
  'memory',
  'currentMemory',
  'blkiotune',
  'memtune',
  'memoryBacking',
  'vcpu',
  'vcpus',
  'iothreads',
  'iothreadids',
  'cputune',
  'numatune',
  'resource',
  'sysinfo',
  'bootloader',
  'bootloader_args',
  'os',
  'idmap',
  'features',
  'cpu',
  'clock',
  'on_poweroff',
  'on_reboot',
  'on_crash',
  'on_lockfailure',
  'pm',
  'perf',
  'devices',
  'seclabel',
  'keywrap',
  'launchSecurity',
];

/** Order of children of `<interface>` (virDomainNetDefFormat), used when virtkit adds one. */
export const INTERFACE_ORDER = [
  'mac',
  'source',
  'vlan',
  'virtualport',
  'ip',
  'route',
  'script',
  'downscript',
  'backenddomain',
  'target',
  'guest',
  'model',
  'driver',
  'backend',
  'filterref',
  'tune',
  'teaming',
  'link',
  'mtu',
  'coalesce',
  'bandwidth',
  'port',
  'boot',
  'rom',
  'alias',
  'address',
  'acpi',
];

/** Order of children of `<disk>` (virDomainDiskDefFormat), used when virtkit adds one. */
export const DISK_ORDER = [
  'driver',
  'auth',
  'source',
  'backingStore',
  'backenddomain',
  'geometry',
  'blockio',
  'target',
  'iotune',
  'readonly',
  'shareable',
  'transient',
  'serial',
  'wwn',
  'vendor',
  'product',
  'encryption',
  'boot',
  'alias',
  'address',
];

/** Generic order tail for other devices: alias then address come last (before acpi). */
export const GENERIC_DEVICE_TAIL = ['alias', 'address', 'acpi'];
