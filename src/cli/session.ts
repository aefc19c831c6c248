/** One virtkit invocation's state: URI, output switches, and the connection opened on first use. */
import { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';
import { ErrorCode, VirtError } from '../errors.js';
import type { CliContext } from './command.js';
import { readXmlFile } from './read-input.js';

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

  /** An XML file, read with the library's 10 MiB cap (streaming: never past it) and decoded as strict UTF-8. */
  readFile(path: string): Promise<string> {
    return readXmlFile(path);
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
