/** Capability probe of the real QEMU binary, its per-binary cache, and the KVM probe guest. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, isVirtError } from '../../src/index.js';
import { capsCacheFile, clearCapsMemo, qemuCapabilities } from '../../src/drivers/qemu/caps/cache.js';
import { probeKvm, runProbeGuest } from '../../src/drivers/qemu/caps/kvm-probe.js';
import { capsFromProbe, hostFromProbes } from '../../src/drivers/qemu/caps/model.js';
import { QEMU_7_2_X86_64 } from '../../src/conf/caps/index.js';
import { QEMU, privateDir, qemuTestOptions } from './helpers.js';

const opts = qemuTestOptions();

describe('QEMU capability probe', opts, () => {
  const dir = privateDir('vk-caps-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('asks the binary: version, arch, machines (default first, aliases), QOM types, QMP commands and events', async () => {
    clearCapsMemo();
    const caps = await qemuCapabilities(QEMU, { cacheDir: dir });
    assert.equal(caps.emulator, QEMU);
    assert.equal(caps.arch, 'x86_64');
    assert.equal(caps.versionNumber, caps.version.major * 1e6 + caps.version.minor * 1e3 + caps.version.micro);
    assert.ok(caps.versionNumber >= 7_000_000);
    const first = caps.machines.tcg[0]!;
    assert.equal(first.isDefault, true);
    assert.equal(first.alias, 'pc');
    assert.match(first.name, /^pc-i440fx-\d+\.\d+$/);
    assert.equal(first.defaultCpu, 'qemu64');
    const q35 = caps.machines.tcg.find((m) => m.alias === 'q35');
    assert.match(q35?.name ?? '', /^pc-q35-/);
    assert.ok(!caps.machines.tcg.some((m) => m.name === 'none'));
    for (const t of ['virtio-net-pci', 'virtio-blk-pci', 'scsi-hd', 'usb-storage', 'qemu-xhci', 'pcie-root-port', 'virtio-scsi-pci']) {
      assert.ok(caps.qomTypes.includes(t), t);
    }
    for (const c of ['blockdev-add', 'device_add', 'device_del', 'netdev_add', 'set_link', 'qom-list']) assert.ok(caps.commands.includes(c), c);
    assert.ok(caps.events.includes('DEVICE_DELETED'));
    // KVM is judged by running a guest, never by /dev/kvm alone.
    assert.equal(typeof caps.kvm.usable, 'boolean');
    assert.ok(caps.kvm.reason.length > 0);
    if (!existsSync('/dev/kvm')) assert.equal(caps.kvm.usable, false);
    if (caps.kvm.usable) assert.ok(caps.machines.kvm.length > 0);
    else assert.deepEqual(caps.machines.kvm, []);
  });

  test("feeds the capability model: on QEMU 7.2 it equals define-time defaults' built-in QEMU 7.2 table, KVM aside", async () => {
    const probe = await qemuCapabilities(QEMU, { cacheDir: dir });
    const caps = capsFromProbe(probe);
    assert.equal(caps.flags.has('kvm'), probe.kvm.usable);
    if (probe.version.major !== 7 || probe.version.minor !== 2) return; // the table describes 7.2 only
    const builtin = QEMU_7_2_X86_64;
    assert.deepEqual([...caps.flags].filter((f) => f !== 'kvm').sort(), [...builtin.flags].filter((f) => f !== 'kvm').sort());
    const strip = (m: object) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    assert.equal(caps.machines.tcg[0]!.name, builtin.machines.tcg[0]!.name, 'the preferred machine first');
    assert.deepEqual([...caps.machines.tcg].sort(byName).map(strip), [...builtin.machines.tcg].sort(byName).map(strip));
    assert.equal(Math.floor(caps.version / 1000), Math.floor(builtin.version / 1000));
    assert.deepEqual(hostFromProbes([probe]).emulators, { x86_64: QEMU });
  });

  test('the result is cached per binary in a private file and reused by a later process', async () => {
    const file = capsCacheFile(QEMU, dir);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    // Mark the cached copy: a fresh process (memo cleared) must return the marked data without probing.
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    cached.probe.version.package = 'from-cache';
    writeFileSync(file, JSON.stringify(cached));
    clearCapsMemo();
    assert.equal((await qemuCapabilities(QEMU, { cacheDir: dir })).version.package, 'from-cache');
    // A torn file is probed again.
    writeFileSync(file, '{"key": {');
    clearCapsMemo();
    assert.notEqual((await qemuCapabilities(QEMU, { cacheDir: dir })).version.package, 'from-cache');
  });

  test('a binary whose mtime changed is probed again', async () => {
    // A wrapper stands in for a binary whose file we may touch.
    const copy = join(dir, 'qemu-wrapper');
    writeFileSync(copy, `#!/bin/sh\nexec ${QEMU} "$@"\n`, { mode: 0o755 });
    clearCapsMemo();
    await qemuCapabilities(copy, { cacheDir: dir, kvmTimeoutMs: 200 });
    const file = capsCacheFile(copy, dir);
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    cached.probe.version.package = 'stale';
    writeFileSync(file, JSON.stringify(cached));
    clearCapsMemo();
    assert.equal((await qemuCapabilities(copy, { cacheDir: dir })).version.package, 'stale');
    const t = new Date(Date.now() - 3600_000);
    utimesSync(copy, t, t);
    // The in-process memo notices the change too, without clearing.
    assert.notEqual((await qemuCapabilities(copy, { cacheDir: dir, kvmTimeoutMs: 200 })).version.package, 'stale');
  });

  test('bad emulators fail with a VirtError', async () => {
    await assert.rejects(qemuCapabilities('relative/qemu'), (e: unknown) => isVirtError(e, ErrorCode.INVALID_ARG));
    await assert.rejects(qemuCapabilities('/nonexistent/qemu-system-x86_64', { cacheDir: dir }), (e: unknown) => {
      assert.ok(isVirtError(e, ErrorCode.INTERNAL_ERROR));
      assert.match((e as Error).message, /Cannot check QEMU binary \/nonexistent\/qemu-system-x86_64: ENOENT/);
      return true;
    });
    await assert.rejects(qemuCapabilities('/bin/false', { cacheDir: dir }), (e: unknown) => isVirtError(e));
  });
});

describe('KVM probe guest', opts, () => {
  test('the probe guest itself runs to completion under TCG, so a KVM verdict judges KVM, not the guest', async () => {
    const v = await runProbeGuest(QEMU, 'tcg', 10_000);
    assert.equal(v.usable, true, v.reason);
    assert.ok((v.elapsedMs ?? Infinity) < 10_000);
  });

  test('a guest that does not finish in time is judged unusable', async () => {
    const v = await runProbeGuest(QEMU, 'tcg', 1);
    assert.equal(v.usable, false);
    assert.match(v.reason, /did not finish within 1 ms|could not run/);
  });

  test('a missing KVM device is unusable without running anything', async () => {
    const v = await probeKvm(QEMU, { device: '/nonexistent/kvm' });
    assert.deepEqual(v, { usable: false, reason: '/nonexistent/kvm is not usable: ENOENT' });
  });
});
