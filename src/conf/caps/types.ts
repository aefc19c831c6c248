/**
 * The capability model: what a QEMU binary offers, as far as libvirt's define-time defaults depend on
 * it. Plain data, so it can come from a built-in table (QEMU 7.2 on x86_64, the test driver's default),
 * from libvirt's tests/qemucapabilitiesdata/caps_*.xml files (loadLibvirtCapsXml), or from probing a
 * real binary over QMP (query-machines, qom-list-types, query-cpu-definitions).
 */

/** The accelerator a domain type runs on: `<domain type='kvm'>` → kvm, `type='qemu'` → tcg, `type='hvf'` → hvf (macOS). */
export type Accel = 'kvm' | 'tcg' | 'hvf';

/** One machine type as QEMU's query-machines reports it. */
export interface QemuMachine {
  /** Canonical name: `pc-i440fx-7.2`, `pc-q35-7.2`, `isapc`, `microvm`. */
  name: string;
  /** Alias QEMU resolves to this machine (`pc`, `q35`); libvirt stores the canonical name instead. */
  alias?: string;
  /** QEMU's default machine (used when the domain names none). */
  isDefault?: boolean;
  maxCpus?: number;
  /** Default CPU model as a model name (`qemu64`, not QEMU's type name `qemu64-x86_64-cpu`). */
  defaultCpu?: string;
  /** Name of the machine's default RAM region (`pc.ram`). */
  defaultRamId?: string;
  hotplugCpus?: boolean;
  numaMemSupported?: boolean;
  deprecated?: boolean;
}

/** Capabilities of one QEMU binary. */
export interface QemuCaps {
  /** Absolute path of the binary (`/usr/bin/qemu-system-x86_64`): libvirt looks capabilities up by emulator path. */
  emulator: string;
  /** Guest architecture the binary emulates (libvirt's names: x86_64, i686, aarch64, ppc64, s390x, ...). */
  arch: string;
  /** QEMU version as libvirt encodes it: major * 1,000,000 + minor * 1,000 + micro (7.2.0 → 7002000). */
  version: number;
  /**
   * libvirt's capability names present (`piix3-usb-uhci`, `qemu-xhci`, `pcie-root-port`, ...: the names of
   * `<flag name=…>` in caps_*.xml). `flags.ts` lists the ones the defaults consult and the QOM type that
   * implies each, for a probe.
   */
  flags: ReadonlySet<string>;
  /**
   * Machine types per accelerator, the preferred (default) one first. An accelerator QEMU lacks has an
   * empty list. libvirt keeps both lists because a machine's default CPU differs between KVM and TCG.
   */
  machines: Readonly<{ kvm: readonly QemuMachine[]; tcg: readonly QemuMachine[]; hvf?: readonly QemuMachine[] }>;
}

/**
 * qemu.conf switches and environment that change define-time defaults (libvirt's driver config).
 * Every field is optional; absent means libvirt's default (false / unset).
 */
export interface QemuDriverConfig {
  /** vnc_auto_unix_socket: VNC graphics without a listen get a UNIX socket. */
  vncAutoUnixSocket?: boolean;
  /** spice_auto_unix_socket: the same for SPICE. */
  spiceAutoUnixSocket?: boolean;
  /** vnc_allow_host_audio: VNC guests get the host's audio backend (QEMU_AUDIO_DRV) instead of none. */
  vncAllowHostAudio?: boolean;
  /** nogfx_allow_host_audio: guests without graphics get the host's audio backend instead of none. */
  nogfxAllowHostAudio?: boolean;
  /** spice_tls: SPICE TLS is configured. */
  spiceTLS?: boolean;
  /** security_driver: the model a `<seclabel>` without one gets ('none', 'selinux', 'apparmor'); default 'none'. */
  securityDriver?: string;
  /** libvirt's state directory for QEMU (/var/lib/libvirt/qemu): VNC sockets under it were generated, not configured. */
  libDir?: string;
  /** Where libvirt puts channel sockets it names itself (/var/lib/libvirt/qemu/channel/target). */
  channelTargetDir?: string;
  /** QEMU_AUDIO_DRV and SDL_AUDIODRIVER of libvirtd's environment, read for the host audio backend. */
  env?: Readonly<Record<string, string>>;
}

/**
 * Everything QEMU-type define-time defaults depend on: the host architecture, the QEMU binaries
 * (looked up by emulator path, or by guest architecture when the domain names no emulator) and the
 * driver configuration.
 */
export interface QemuHost {
  /** Host architecture (x86_64): the guest architecture when the domain names none. */
  hostArch: string;
  /** Known binaries. A domain whose emulator is not among them gets no capability-dependent defaults. */
  binaries: readonly QemuCaps[];
  /**
   * Emulator path per guest architecture when it differs from `/usr/bin/qemu-system-<arch>` of a known
   * binary (i686 → /usr/bin/qemu-system-i386).
   */
  emulators?: Readonly<Record<string, string>>;
  config?: QemuDriverConfig;
}
