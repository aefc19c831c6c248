/** The typed API's door to virtkit's hot-plug contract: only drivers that keep it are asked. */
import type { Driver } from '../drivers/driver.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DetachOptions } from '../shared/hotplug-contract.js';

function unsupported(driver: Driver, what: string): Error {
  return virtError(
    ErrorCode.NO_SUPPORT,
    `${what}: virtkit's hot-plug contract needs a driver that runs the domains (test:///, qemu:///); '${driver.uri}' cannot carry it`,
  );
}

/** The options, when the driver keeps the contract. */
export function contractOptions(driver: Driver, options: DetachOptions): DetachOptions {
  if (!driver.hotplugContract) throw unsupported(driver, 'detach options');
  return options;
}

export async function contractCall<T>(driver: Driver, method: keyof Driver, call: (d: Driver) => Promise<T>): Promise<T> {
  if (!driver.hotplugContract || typeof driver[method] !== 'function') throw unsupported(driver, method);
  return call(driver);
}
