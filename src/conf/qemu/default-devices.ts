/**
 * Devices every QEMU machine has, which libvirt therefore writes into the definition
 * (qemuDomainDefAddDefaultDevices): PS/2 mouse and keyboard on x86, the USB controller (PIIX3's on pc,
 * the best XHCI/EHCI QEMU offers on q35), q35's SATA controller, the PCI root, the balloon, the audio
 * backend.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el } from '../../xml/index.js';
import { hasCap } from '../caps/machines.js';
import { CAP } from '../caps/flags.js';
import type { DomainDef } from '../domain.js';
import type { QemuContext } from './context.js';
import { isX86Arch, machineIsI440fx, machineIsQ35 } from './machine-kind.js';
import { own } from '../../shared/own.js';

const controllerIndex = (c: { attr(n: string): string | undefined }): number => Number(c.attr('index') ?? 0);

function addController(def: DomainDef, type: string, index: number, model?: string): void {
  def.addDevice(el('controller', { type, index, model }));
}

export function addUsbController(def: DomainDef, index: number, model: string | undefined): void {
  addController(def, 'usb', index, model);
  if (model !== 'ich9-ehci1') return;
  // An ICH9 EHCI controller comes with its three UHCI companions on the same index.
  for (const [companion, startport] of [
    ['ich9-uhci1', 0],
    ['ich9-uhci2', 2],
    ['ich9-uhci3', 4],
  ] as const) {
    def.addDevice(el('controller', { type: 'usb', index, model: companion }, el('master', { startport })));
  }
}

function maybeAddInput(def: DomainDef, type: string, bus: string): void {
  const inputBus = defaultInputBus(def);
  for (const i of def.peekNamed('input')) if (i.attr('type') === type && (i.attr('bus') ?? inputBus) === bus) return;
  def.addDevice(el('input', { type, bus }));
}

/** The bus an `<input>` without one is on (PS/2 on x86). */
export function defaultInputBus(def: DomainDef): string {
  return isX86Arch(def.arch) ? 'ps2' : 'usb';
}

export function addDefaultDevices(def: DomainDef, ctx: QemuContext): void {
  const x86 = isX86Arch(ctx.arch);
  if (x86) {
    maybeAddInput(def, 'mouse', 'ps2');
    maybeAddInput(def, 'keyboard', 'ps2');
  }
  let addUsb = true;
  let usbModel: string | undefined;
  let addSata = false;
  let root: string | undefined;
  if (x86) {
    const machine = def.machine;
    const arch = def.arch;
    if (machine === 'isapc') addUsb = false;
    else if (machineIsQ35(machine, arch)) {
      root = 'pcie-root';
      addSata = true;
      if (hasCap(ctx.caps, CAP.QEMU_XHCI)) usbModel = 'qemu-xhci';
      else if (hasCap(ctx.caps, CAP.NEC_USB_XHCI)) usbModel = 'nec-xhci';
      else if (hasCap(ctx.caps, CAP.ICH9_USB_EHCI1)) usbModel = 'ich9-ehci1';
      else addUsb = false;
    } else if (machineIsI440fx(machine, arch)) root = 'pci-root';
  } else {
    // Other architectures: virtkit models x86 machines only.
    addUsb = false;
  }
  const controllers = def.elementsNamed('controller');
  if (addUsb && !controllers.some((c) => c.attr('type') === 'usb' && controllerIndex(c) === 0)) addUsbController(def, 0, usbModel);
  if (addSata && !controllers.some((c) => c.attr('type') === 'sata' && controllerIndex(c) === 0)) addController(def, 'sata', 0);
  if (root) {
    const existing = controllers.find((c) => c.attr('type') === 'pci' && controllerIndex(c) === 0);
    if (!existing) addController(def, 'pci', 0, root);
    else if (existing.attr('model') !== root) {
      throw virtError(
        ErrorCode.XML_ERROR,
        `The PCI controller with index='0' must be model='${root}' for this machine type, but model='${existing.attr('model') ?? ''}' was found instead`,
      );
    }
  }
  if (x86 && def.peekNamed('memballoon').length === 0) def.addDevice(el('memballoon', { model: 'virtio' }));
  addDefaultAudio(def, ctx);
}

/** The audio backend libvirt 9 gives a guest without `<audio>` (qemuDomainDefAddDefaultAudioBackend). */
function addDefaultAudio(def: DomainDef, ctx: QemuContext): void {
  if (def.peekNamed('audio').length > 0) return;
  const audio = defaultAudio(def, ctx);
  if (audio) def.addDevice(audio);
}

/** The backend qemuDomainDefSuggestDefaultAudioBackend picks, or undefined when none is added. */
export function defaultAudio(def: DomainDef, ctx: QemuContext): ReturnType<typeof el> | undefined {
  const cfg = ctx.config;
  let add = false;
  let passthrough = false;
  let backend = 'none';
  const graphics = def.peekNamed('graphics');
  for (const g of graphics) {
    switch (g.attr('type')) {
      case 'vnc':
        passthrough = !!cfg.vncAllowHostAudio;
        if (!passthrough) backend = 'none';
        add = true;
        break;
      case 'spice':
        passthrough = false;
        backend = 'spice';
        add = true;
        break;
      case 'sdl':
        passthrough = true;
        add = true;
        break;
    }
  }
  if (graphics.length === 0) {
    passthrough = !!cfg.nogfxAllowHostAudio;
    if (!passthrough) backend = 'none';
    add = true;
  }
  let sdlDriver: string | undefined;
  if (add && passthrough) {
    const env = cfg.env?.['QEMU_AUDIO_DRV'];
    if (env === undefined) add = false;
    else backend = own(AUDIO_ENV_NAMES, env) ?? env;
  }
  if (add && backend === 'sdl') sdlDriver = cfg.env?.['SDL_AUDIODRIVER'];
  if (!add) return undefined;
  const audio = el('audio', { id: 1, type: backend });
  if (sdlDriver) audio.attrs.push(['driver', sdlDriver]);
  return audio;
}

/** QEMU_AUDIO_DRV names that differ from libvirt's audio type names. */
const AUDIO_ENV_NAMES: Record<string, string> = { pa: 'pulseaudio', wav: 'file' };
