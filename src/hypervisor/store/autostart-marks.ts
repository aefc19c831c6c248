/**
 * Which domains of a state folder start with the driver: one empty file per domain in
 * DIR/autostart/, like libvirt's autostart symlinks beside the definitions. Kept apart from
 * the domain records so that a definition and its autostart mark change independently, as
 * in libvirt; creating and removing a file is atomic on its own.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class AutostartMarks {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'autostart');
  }

  has(name: string): boolean {
    try {
      return statSync(join(this.#dir, name)).isFile();
    } catch {
      return false;
    }
  }

  set(name: string, on: boolean): void {
    const path = join(this.#dir, name);
    if (!on) {
      rmSync(path, { force: true });
      return;
    }
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, '', { mode: 0o600 });
  }
}
