/** How failures are printed: virsh's error lines, hints, --debug details, internal errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError, formatError, UsageError, withContext } from '../../src/cli/errors.js';
import { ErrorCode, VirtError } from '../../src/errors.js';

describe('formatError', () => {
  it('prints a VirtError as one error line, with --debug its code and domain', () => {
    const err = new VirtError(ErrorCode.NO_DOMAIN, "failed to get domain 'x'");
    assert.equal(formatError(err, false), "error: failed to get domain 'x'\n");
    assert.equal(formatError(err, true), "error: failed to get domain 'x'\nerror: code=42 (VIR_ERR_NO_DOMAIN) domain=20\n");
  });
  it('adds the hint of a usage error', () => {
    assert.equal(formatError(new UsageError("unknown command: 'x'", "did you mean 'y'?"), false), "error: unknown command: 'x'\nhint: did you mean 'y'?\n");
  });
  it('puts virsh\'s context line first for failed API calls', async () => {
    const err = await withContext('Failed to attach disk', () => Promise.reject(new VirtError(ErrorCode.OPERATION_INVALID, 'domain is not running'))).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof CommandError);
    assert.equal((err as CommandError).code, ErrorCode.OPERATION_INVALID);
    assert.equal(formatError(err, false), 'error: Failed to attach disk\nerror: domain is not running\n');
  });
  it('does not wrap usage errors or wrap twice', async () => {
    const usage = new UsageError('bad');
    assert.equal(await withContext('ctx', () => Promise.reject(usage)).catch((e: unknown) => e), usage);
    assert.ok(!(usage instanceof CommandError));
    assert.ok(!(new VirtError(1, 'x') instanceof UsageError));
  });
  it('reports anything else as an internal error, the stack only with --debug', () => {
    assert.equal(formatError(new TypeError('boom'), false), 'error: internal error: boom\n');
    assert.match(formatError(new TypeError('boom'), true), /^error: internal error: boom\nTypeError: boom\n {4}at /);
    assert.equal(formatError('weird', false), 'error: internal error: weird\n');
  });
});
