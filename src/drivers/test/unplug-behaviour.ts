/**
 * How the simulated guest answers unplug requests, set per domain in its XML:
 *
 *   <metadata>
 *     <vkt:unplug xmlns:vkt='urn:virtkit:test' ack='delay' delay-ms='8000'/>
 *   </metadata>
 *
 * ack: `immediate` (default: removal completes within the call), `delay` (the guest
 * answers after delay-ms), `never` (the guest ignores the request), `reject`
 * (the guest refuses after delay-ms, raising device-removal-failed), `vanish` (the request
 * fails — the monitor's reply is lost — although the device did leave the guest).
 *
 * busy='N' (default 0): the first N unplug requests for a device hot-plugged in this run are
 * refused because the guest is still busy with the plug (QEMU >= 6.2: "guest is busy (power
 * indicator blinking)"); busy='1' is "busy once".
 */
import type { DomainDef } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';

export const TEST_NAMESPACE = 'urn:virtkit:test';
/** A simulated guest answers within a day at the latest. */
export const MAX_DELAY_MS = 86_400_000;

export interface UnplugBehaviour {
  ack: 'immediate' | 'delay' | 'never' | 'reject' | 'vanish';
  /** For `delay` and `reject`: milliseconds until the guest answers. */
  delayMs: number;
  /** Requests refused as "guest is busy" after each hot-plug. */
  busy: number;
}

/** The most busy refusals a simulated guest may be told to give per plug. */
export const MAX_BUSY = 100;

function namespaceOf(e: XmlElement): { ns?: string; local: string } {
  const i = e.name.indexOf(':');
  if (i < 0) return { ns: e.attr('xmlns'), local: e.name };
  return { ns: e.attr(`xmlns:${e.name.slice(0, i)}`), local: e.name.slice(i + 1) };
}

/** Reads the behaviour from the domain's metadata; invalid settings are XML_ERROR. */
export function unplugBehaviour(def: DomainDef): UnplugBehaviour {
  const meta = def.metadata;
  const node = meta?.elements().find((e) => {
    const { ns, local } = namespaceOf(e);
    return ns === TEST_NAMESPACE && local === 'unplug';
  });
  if (!node) return { ack: 'immediate', delayMs: 0, busy: 0 };
  const ack = node.attr('ack') ?? 'immediate';
  if (ack !== 'immediate' && ack !== 'delay' && ack !== 'never' && ack !== 'reject' && ack !== 'vanish') {
    throw virtError(ErrorCode.XML_ERROR, `invalid unplug ack '${ack}' in test driver metadata (expected immediate, delay, never, reject or vanish)`);
  }
  const b = node.attr('busy') ?? '0';
  if (!/^\d{1,3}$/.test(b) || Number(b) > MAX_BUSY) {
    throw virtError(ErrorCode.XML_ERROR, `invalid busy '${b}' in test driver metadata: expected a number of refusals from 0 to ${MAX_BUSY}`);
  }
  const d = node.attr('delay-ms') ?? '0';
  if (!/^\d{1,9}$/.test(d) || Number(d) > MAX_DELAY_MS) {
    throw virtError(ErrorCode.XML_ERROR, `invalid delay-ms '${d}' in test driver metadata: expected milliseconds from 0 to ${MAX_DELAY_MS}`);
  }
  return { ack, delayMs: Number(d), busy: Number(b) };
}
