/** One virtkit invocation's state: URI, output switches, and the connection opened on first use. */
import { readFile } from 'node:fs/promises';
import { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';
import type { CliContext } from './command.js';

/** Where output goes; the demo and tests can capture it. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Writes to the process streams; they flush before exit because we never call process.exit(). */
export const processOutput: Output = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Global options of one invocation. */
export interface SessionOptions {
  uri: string;
  quiet: boolean;
  debug: boolean;
  output: Output;
}

const errnoText: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EMFILE: 'Too many open files',
};

/** XML files larger than this are refused, like virsh's VSH_MAX_XML_FILE (10 MiB). */
const MAX_XML_FILE = 10 * 1024 * 1024;

/** Implements CliContext for the commands of one invocation. */
export class Session implements CliContext {
  readonly options: SessionOptions;
  #conn: Promise<Connection> | undefined;
  #quit = false;

  constructor(options: SessionOptions) {
    this.options = options;
  }

  get quiet(): boolean {
    return this.options.quiet;
  }
  /** True after quit/exit. */
  get quitting(): boolean {
    return this.#quit;
  }

  connection(): Promise<Connection> {
    this.#conn ??= Connection.open(this.options.uri);
    return this.#conn;
  }

  async domain(nameIdOrUuid: string): Promise<Domain> {
    const conn = await this.connection();
    try {
      return await conn.lookup(nameIdOrUuid);
    } catch (err) {
      if (err instanceof VirtError && err.code === ErrorCode.NO_DOMAIN) {
        throw new VirtError(ErrorCode.NO_DOMAIN, `failed to get domain '${nameIdOrUuid}'`, { domain: err.domain, cause: err });
      }
      throw err;
    }
  }

  async readFile(path: string): Promise<string> {
    try {
      const buf = await readFile(path);
      if (buf.length > MAX_XML_FILE) {
        throw new VirtError(ErrorCode.SYSTEM_ERROR, `File '${path}' is too large (limit ${MAX_XML_FILE} bytes)`, { domain: ErrorDomain.NONE });
      }
      return buf.toString('utf8');
    } catch (err) {
      if (err instanceof VirtError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why = errnoText[code] ?? (err instanceof Error ? err.message : String(err));
      throw new VirtError(ErrorCode.SYSTEM_ERROR, `Failed to open file '${path}': ${why}`, { domain: ErrorDomain.NONE, cause: err });
    }
  }

  out(text: string): void {
    this.options.output.stdout(text);
  }

  info(text: string): void {
    if (!this.options.quiet) this.options.output.stdout(text);
  }

  quit(): void {
    this.#quit = true;
  }

  /** Closes the connection if one was opened (persists `?state=DIR` state). */
  async close(): Promise<void> {
    const pending = this.#conn;
    this.#conn = undefined;
    if (!pending) return;
    let conn: Connection;
    try {
      conn = await pending;
    } catch {
      // Opening failed: the command that needed the connection already reported it.
      return;
    }
    await conn.close();
  }
}
