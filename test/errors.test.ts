/** VirtError: libvirt's codes and domains, messages with libvirt's prefixes, brand checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, ErrorDomain, VirtError, isVirtError } from '../src/index.js';
import { virtError } from '../src/errors.js';

test('codes and domains are libvirt numbers; messages carry libvirt prefixes', () => {
  const e = virtError(ErrorCode.DEVICE_MISSING, 'disk vdz not found');
  assert.equal(e.code, 99);
  assert.equal(e.domain, ErrorDomain.DOMAIN);
  assert.equal(e.codeName, 'VIR_ERR_DEVICE_MISSING');
  assert.equal(e.message, 'device not found: disk vdz not found');
  assert.equal(virtError(ErrorCode.OPERATION_INVALID, 'domain is not running').message, 'Requested operation is not valid: domain is not running');
  assert.equal(ErrorCode.XML_DETAIL, 35);
  assert.equal(ErrorCode.XML_ERROR, 27);
  assert.equal(ErrorCode.NO_DOMAIN, 42);
});

test('brand check works for look-alikes from another copy; subclasses keep their own instanceof', () => {
  const e = new VirtError(ErrorCode.INTERNAL_ERROR, 'x');
  assert.ok(e instanceof VirtError);
  assert.ok(e instanceof Error);
  class Sub extends VirtError {}
  assert.ok(new Sub(1, 'y') instanceof Sub);
  assert.equal(e instanceof Sub, false);
  assert.equal(isVirtError(new Error('plain')), false);
  assert.ok(isVirtError(e, ErrorCode.INTERNAL_ERROR));
  assert.equal(isVirtError(e, ErrorCode.NO_DOMAIN), false);
});

test('from() wraps foreign errors and keeps VirtErrors', () => {
  const e = new VirtError(ErrorCode.NO_DOMAIN, 'n');
  assert.equal(VirtError.from(e), e);
  const w = VirtError.from(new TypeError('boom'), ErrorCode.SYSTEM_ERROR);
  assert.equal(w.code, ErrorCode.SYSTEM_ERROR);
  assert.equal(w.message, 'boom');
  assert.ok(w.cause instanceof TypeError);
});
