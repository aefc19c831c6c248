/**
 * Whole sessions: one invocation on test:///default (state lives in the process,
 * like virsh's test:///default), several invocations sharing test:///default?state=DIR,
 * a script on stdin, and the `--demo` that `npm start` runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainXml, outputs, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let web: string;
before(async () => {
  tmp = await tempDir();
  web = await tmp.file('web.xml', domainXml('web', { cdrom: true }));
});
after(() => tmp.cleanup());

describe('test:///default, one invocation', () => {
  it('define → start → hot-plug → inspect → unplug → stop → undefine', async () => {
    const script = [
      `define ${web}`,
      'start web',
      'attach-interface web bridge br0 --model virtio --mac 52:54:00:12:34:56',
      'attach-disk web /images/data.img vdb --targetbus virtio --persistent',
      'domiflist web',
      'domblklist web',
      'change-media web hdc --eject',
      'detach-interface web bridge --mac 52:54:00:12:34:56',
      'detach-disk web vdb --persistent',
      'domiflist web',
      'domblklist web --inactive',
      'shutdown web',
      'undefine web',
      'list --all --name',
    ].join('; ');
    const r = await virtkit([script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const o = outputs(r.stdout);
    assert.equal(o.length, 14);
    assert.deepEqual(
      [o[0], o[1], o[2], o[3], o[6], o[7], o[8], o[11], o[12], o[13]],
      [
        `Domain 'web' defined from ${web}`,
        "Domain 'web' started",
        'Interface attached successfully',
        'Disk attached successfully',
        'Successfully ejected media.',
        'Interface detached successfully',
        'Disk detached successfully',
        "Domain 'web' is being shutdown",
        "Domain 'web' has been undefined",
        'test',
      ],
    );
    assert.match(o[4]!, /^ vnet\d+ +network +default +virtio +52:54:00:00:00:01\n vnet\d+ +bridge +br0 +virtio +52:54:00:12:34:56$/m);
    assert.match(o[5]!, /^ vda +\/images\/web\.img\n hdc +\/iso\/old\.iso\n vdb +\/images\/data\.img$/m);
    assert.doesNotMatch(o[9]!, /br0/);
    assert.doesNotMatch(o[10]!, /vdb/);
  });
  it('state is per process, as with virsh: a second invocation starts fresh', async () => {
    await virtkit(['define', web]);
    const r = await virtkit(['list', '--all', '--name']);
    assert.equal(r.stdout, 'test\n\n');
  });
});

describe('test:///default?state=DIR, several invocations', () => {
  it('shares domains, live names and hot-plugged devices between processes', async () => {
    const uri = `test:///default?state=${tmp.dir}/state`;
    const vk = async (...args: string[]) => {
      const r = await virtkit(['-c', uri, ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.equal(await vk('define', web), `Domain 'web' defined from ${web}\n\n`);
    assert.equal(await vk('start', 'web'), "Domain 'web' started\n\n");
    assert.equal(await vk('attach-interface', 'web', 'network', 'default', '--model', 'e1000e', '--persistent'), 'Interface attached successfully\n\n');
    const nics = JSON.parse(await vk('domiflist', 'web', '--json')) as { interface: string; mac: string; alias: string; model: string }[];
    assert.equal(nics.length, 2);
    const added = nics.find((n) => n.model === 'e1000e')!;
    assert.match(added.interface, /^vnet\d+$/);
    assert.match(added.alias, /^net\d+$/);

    // Detach with the XML cut from the live definition another process dumped.
    const live = await vk('dumpxml', 'web');
    const cut = live.match(new RegExp(`<interface type='network'>(?:(?!</interface>)[\\s\\S])*${added.mac}[\\s\\S]*?</interface>`))![0];
    assert.match(cut, new RegExp(`<target dev='${added.interface}'/>`));
    const nicFile = await tmp.file('nic-live.xml', cut);
    assert.equal(await vk('detach-device', 'web', nicFile, '--persistent'), 'Device detached successfully\n\n');
    assert.doesNotMatch(await vk('domiflist', 'web'), /e1000e/);
    assert.doesNotMatch(await vk('domiflist', 'web', '--inactive'), /e1000e/);

    assert.equal(await vk('list', '--all'), ' Id   Name   State\n----------------------\n 1    test   running\n 2    web    running\n\n');
    await vk('destroy', 'web');
    await vk('undefine', 'web');
    assert.equal(await vk('list', '--all', '--name'), 'test\n\n');
  });
  it('runs a script from stdin against the shared state', async () => {
    const uri = `test:///default?state=${tmp.dir}/state-stdin`;
    const first = await virtkit(['-c', uri], { input: `define ${web}\nstart web\nattach-disk web /images/extra.img vdc --live\n` });
    assert.equal(first.code, 0, first.stderr);
    const second = await virtkit(['-c', uri, '-q'], { input: 'domblklist web\ndomstate web\n' });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, ' vda   /images/web.img\n hdc   /iso/old.iso\n vdc   /images/extra.img\nrunning\n');
  });
});

describe('--demo (npm start)', () => {
  it('runs the hot-plug demo with allocated names and exits 0', async () => {
    const r = await virtkit(['--demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const line of [
      'virtkit # start demo',
      "Domain 'demo' started",
      'virtkit # attach-interface demo network default --model virtio --live',
      'Interface attached successfully',
      'Disk attached successfully',
      'virtkit # domiflist demo',
      "      <alias name='net0'/>",
      "      <target dev='vnet0'/>",
      'Device detached successfully',
    ]) {
      assert.ok(r.stdout.includes(line), `missing: ${line}`);
    }
    assert.match(r.stdout, / vnet0 +network +default +virtio +52:54:00(:[0-9a-f]{2}){3}\n/);
    assert.match(r.stdout, /<address type='pci' domain='0x0000' bus='0x00' slot='0x0\d' function='0x0'\/>/);
    // The last domiflist is empty: the interface was detached by its live XML.
    assert.match(r.stdout, /virtkit # domiflist demo\n Interface +Type +Source +Model +MAC\n-+\n\nvirtkit # dominfo demo/);
  });
});
