/** What a procedure handler sees of the client it serves. */
import type { Driver } from '../drivers/driver.js';
import type { EventCallbacks } from './event-callbacks.js';

export interface CallContext {
  /** The driver opened by CONNECT_OPEN; throws libvirt's "connection not open" before that. */
  readonly driver: Driver;
  /** The URI as the client asked for it, normalised (what CONNECT_GET_URI reports). */
  readonly uri: string;
  /** True on the read-only socket or when the client opened with VIR_CONNECT_RO. */
  readonly readOnly: boolean;
  /** libvirt counts unix sockets as secure, plain TCP not. */
  readonly secure: boolean;
  /** Opens the connection (CONNECT_OPEN). */
  open(name: string | null, flags: number): Promise<void>;
  /** Closes the driver side of the connection (CONNECT_CLOSE); the socket stays until the client hangs up. */
  close(): Promise<void>;
  /** Event callbacks of this client. */
  readonly events: EventCallbacks;
}

/** The libvirt release whose protocol virtkitd speaks (9.0.0), reported as the daemon's library version. */
export const PROTOCOL_LIBVIRT_VERSION = 9_000_000;
