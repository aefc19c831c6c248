/** One virtkit invocation's state: URI, output switches, and the connection opened on first use. */
import { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';
import { ErrorCode, VirtError } from '../errors.js';
import type { CliContext, LookupBy } from './command.js';
import { CommandError } from './errors.js';
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
  /** --strict: any failed command makes the exit status 1 (virsh reports only the last one). */
  strict?: boolean;
  /** -t/--timing: "(Time: N ms)" after each command. */
  timing?: boolean;
  /** -e/--escape: the console escape sequence. */
  escape?: string;
}

/** virsh's line before the reason a connection could not be opened. */
export const CONNECT_FAILED = 'failed to connect to the hypervisor';

const ANY: LookupBy = { id: true, uuid: true, name: true };
const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

function isNoDomain(err: unknown): boolean {
  return err instanceof VirtError && err.code === ErrorCode.NO_DOMAIN;
}

/** Implements CliContext for the commands of one invocation. */
export class Session implements CliContext {
  readonly options: SessionOptions;
  #conn: Connection | undefined;
  #opening: Promise<Connection> | undefined;
  #quit = false;
  interactive = false;

  constructor(options: SessionOptions) {
    this.options = options;
  }

  get quiet(): boolean {
    return this.options.quiet;
  }
  get escape(): string {
    return this.options.escape ?? '^]';
  }
  /** True after quit/exit. */
  get quitting(): boolean {
    return this.#quit;
  }

  /** Opens `uri`; a failure carries virsh's "failed to connect to the hypervisor" line. */
  async #open(uri: string): Promise<Connection> {
    try {
      return await Connection.open(uri);
    } catch (err) {
      if (err instanceof VirtError) throw new CommandError(CONNECT_FAILED, err);
      throw err;
    }
  }

  /** The connection; a failed attempt is not remembered, so the next command tries again (as virsh does). */
  connection(): Promise<Connection> {
    if (this.#conn) return Promise.resolve(this.#conn);
    this.#opening ??= this.#open(this.options.uri).then(
      (conn) => {
        this.#conn = conn;
        this.#opening = undefined;
        return conn;
      },
      (err: unknown) => {
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  async reconnect(uri: string | undefined): Promise<void> {
    const target = uri ?? this.options.uri;
    const fresh = await this.#open(target);
    const old = this.#conn;
    this.#conn = fresh;
    this.options.uri = target;
    await old?.close();
  }

  async domain(nameIdOrUuid: string, by: LookupBy = ANY): Promise<Domain> {
    const conn = await this.connection();
    const attempts: (() => Promise<Domain>)[] = [];
    if (by.id && /^\d+$/.test(nameIdOrUuid)) attempts.push(() => conn.lookupByID(Number(nameIdOrUuid)));
    if (by.uuid && UUID_RE.test(nameIdOrUuid)) attempts.push(() => conn.lookupByUUID(nameIdOrUuid));
    if (by.name) attempts.push(() => conn.lookupByName(nameIdOrUuid));
    let last: unknown;
    for (const attempt of attempts) {
      try {
        return await attempt();
      } catch (err) {
        if (!isNoDomain(err)) throw err;
        last = err;
      }
    }
    const domain = last instanceof VirtError ? last.domain : undefined;
    throw new VirtError(ErrorCode.NO_DOMAIN, `failed to get domain '${nameIdOrUuid}'`, { domain, cause: last });
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

  note(text: string): void {
    this.options.output.stderr(text);
  }

  quit(): void {
    this.#quit = true;
  }

  /** Closes the connection if one was opened (persists `?state=DIR` state). */
  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    let conn = this.#conn;
    this.#conn = undefined;
    if (!conn && opening) conn = await opening.catch(() => undefined);
    await conn?.close();
  }
}
