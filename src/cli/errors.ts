/** How the CLI reports failures: virsh's `error: MESSAGE` lines, hints, and --debug details. */
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';

// VirtError's brand-based `instanceof` would make every VirtError look like a subclass; each subclass brands itself.
const usageBrand = Symbol('virtkit.cli.UsageError');
const commandBrand = Symbol('virtkit.cli.CommandError');

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** A command-line mistake (unknown command or option, missing argument); may carry a "did you mean" hint. */
export class UsageError extends VirtError {
  readonly hint?: string;

  constructor(message: string, hint?: string) {
    super(ErrorCode.INVALID_ARG, message, { domain: ErrorDomain.NONE });
    this.hint = hint;
    (this as unknown as Record<symbol, boolean>)[usageBrand] = true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, usageBrand);
  }
}

/** A failed API call with virsh's context line ("Failed to attach device from FILE") before the library's message. */
export class CommandError extends VirtError {
  readonly context: string;
  /** virsh printed the reason first (its own checks report at once) and its context line after it. */
  readonly contextLast: boolean;

  constructor(context: string, cause: VirtError, contextLast = false) {
    super(cause.code, cause.message, { domain: cause.domain, cause });
    this.context = context;
    this.contextLast = contextLast;
    (this as unknown as Record<symbol, boolean>)[commandBrand] = true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value, commandBrand);
  }
}

/** Runs `fn`; a VirtError it throws is re-thrown with virsh's context line (after the reason with `contextLast`). */
export async function withContext<T>(context: string, fn: () => Promise<T>, contextLast = false): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof VirtError && !(err instanceof UsageError) && !(err instanceof CommandError)) {
      throw new CommandError(context, err, contextLast);
    }
    throw err;
  }
}

/** Formats any thrown value as the stderr lines virsh would print. */
export function formatError(err: unknown, debug: boolean): string {
  const lines: string[] = [];
  if (err instanceof VirtError) {
    const context = err instanceof CommandError ? `error: ${err.context}` : undefined;
    if (context && !(err as CommandError).contextLast) lines.push(context);
    lines.push(`error: ${err.message}`);
    if (context && (err as CommandError).contextLast) lines.push(context);
    if (err instanceof UsageError && err.hint) lines.push(`hint: ${err.hint}`);
    if (debug) lines.push(`error: code=${err.code} (${err.codeName}) domain=${err.domain}`);
  } else {
    // Anything else escaping a command is a virtkit bug, never the user's fault.
    const e = err instanceof Error ? err : new Error(String(err));
    lines.push(`error: internal error: ${e.message}`);
    if (debug && e.stack) lines.push(e.stack);
  }
  return lines.join('\n') + '\n';
}
