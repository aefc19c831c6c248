/** RelaxNG validation (src/conf/schema.ts) against libvirt's schemas, and its agreement with xmllint. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { disposeSchemas, schemaDir, validateDeviceXml, validateDomainXml } from '../src/conf/schema.js';
import { ErrorCode, VirtError } from '../src/errors.js';
import { deviceGrammar, rngVerdicts, setupCorpus, unavailable, xmlFiles } from './conformance/corpus.js';

const DOMAIN = `<domain type='test'>
  <name>demo</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/demo.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>`;

const DISK = "<disk type='file' device='disk'><source file='/a.img'/><target dev='vdb' bus='virtio'/></disk>";

/** Runs `fn` and returns the VirtError it throws. */
async function rejection(fn: () => Promise<unknown>): Promise<VirtError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof VirtError, `expected a VirtError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

function schemasAvailable(): string | undefined {
  try {
    schemaDir();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

after(() => disposeSchemas());

// First, so that a fresh CI machine fetches the corpus (whose schemas then serve every test here).
const corpus = setupCorpus();
const missing = schemasAvailable();
if (missing) {
  unavailable('RelaxNG validation', missing);
} else {
  describe('validateDomainXml', () => {
    test('accepts a good domain', async () => {
      await validateDomainXml(DOMAIN);
    });

    test('rejects an unknown attribute with code 92, naming the schema and the line', async () => {
      const err = await rejection(() => validateDomainXml(DOMAIN.replace("bus='virtio'/>", "bus='virtio' bogus='1'/>")));
      assert.equal(err.code, ErrorCode.XML_INVALID_SCHEMA);
      assert.match(err.message, /^XML document failed to validate against schema: Unable to validate doc against .*domain\.rng\n/);
      // libxml2 backtracks out of <devices>' interleave, so (as in libvirt) only the container is named.
      assert.match(err.message, /\nExtra element devices in interleave\nline 7 \(\/domain\/devices\): /);
    });

    test('rejects a non-domain document', async () => {
      const err = await rejection(() => validateDomainXml('<network><name>x</name></network>'));
      assert.equal(err.code, ErrorCode.XML_INVALID_SCHEMA);
      assert.match(err.message, /Expecting element domain, got network/);
    });

    test('reports malformed XML and DOCTYPEs as XML_DETAIL, before libxml2 sees them', async () => {
      assert.equal((await rejection(() => validateDomainXml('<domain'))).code, ErrorCode.XML_DETAIL);
      const dtd = '<!DOCTYPE d [<!ENTITY x SYSTEM "/etc/passwd">]><domain>&x;</domain>';
      assert.equal((await rejection(() => validateDomainXml(dtd))).code, ErrorCode.XML_DETAIL);
    });

    test('validates quickly once compiled', async () => {
      const t = performance.now();
      for (let i = 0; i < 50; i++) await validateDomainXml(DOMAIN);
      assert.ok(performance.now() - t < 2000, 'the compiled grammar is cached');
    });
  });

  describe('validateDeviceXml', () => {
    test('accepts a lone disk and interface', async () => {
      await validateDeviceXml(DISK);
      await validateDeviceXml("<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>");
    });

    test('accepts other kinds of device', async () => {
      for (const xml of [
        "<watchdog model='i6300esb' action='reset'/>",
        "<graphics type='vnc' port='-1'/>",
        "<controller type='scsi' index='0' model='virtio-scsi'/>",
        "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>",
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
        "<memballoon model='virtio'/>",
      ]) {
        await validateDeviceXml(xml);
      }
    });

    test('rejects a disk without a target', async () => {
      const err = await rejection(() => validateDeviceXml("<disk type='file' device='disk'><source file='/a.img'/></disk>"));
      assert.equal(err.code, ErrorCode.XML_INVALID_SCHEMA);
      assert.match(err.message, /Expecting an element target, got nothing/);
    });

    test('names the offending element and line of a lone device', async () => {
      const err = await rejection(() => validateDeviceXml(DISK.replace("<target dev='vdb'", "\n<target bogus='1' dev='vdb'")));
      assert.equal(err.code, ErrorCode.XML_INVALID_SCHEMA);
      assert.match(err.message, /\(device grammar\)\nline 2 \(\/disk\/target\): Invalid attribute bogus for element target/);
    });

    test('rejects elements that are not devices', async () => {
      const err = await rejection(() => validateDeviceXml(DOMAIN));
      assert.equal(err.code, ErrorCode.XML_INVALID_SCHEMA);
      assert.match(err.message, /Did not expect element domain there/);
    });
  });

  test('schemaDir falls back to the Debian schemas, then to the corpus', () => {
    const saved = process.env['VIRTKIT_SCHEMA_DIR'];
    delete process.env['VIRTKIT_SCHEMA_DIR'];
    try {
      const want = existsSync('/usr/share/libvirt/schemas/domain.rng') ? '/usr/share/libvirt/schemas' : /libvirt-9\.0\.0\/src\/conf\/schemas$/;
      if (typeof want === 'string') assert.equal(schemaDir(), want);
      else assert.match(schemaDir(), want);
    } finally {
      if (saved !== undefined) process.env['VIRTKIT_SCHEMA_DIR'] = saved;
    }
  });

  test('VIRTKIT_SCHEMA_DIR without domain.rng is OPERATION_UNSUPPORTED', async () => {
    const saved = process.env['VIRTKIT_SCHEMA_DIR'];
    process.env['VIRTKIT_SCHEMA_DIR'] = mkdtempSync(join(tmpdir(), 'virtkit-noschema-'));
    try {
      const err = await rejection(() => validateDomainXml(DOMAIN));
      assert.equal(err.code, ErrorCode.OPERATION_UNSUPPORTED);
    } finally {
      if (saved === undefined) delete process.env['VIRTKIT_SCHEMA_DIR'];
      else process.env['VIRTKIT_SCHEMA_DIR'] = saved;
    }
  });
}

// The wasm libxml2 must judge libvirt's own test data exactly as the xmllint CLI does.
if (typeof corpus === 'string') {
  unavailable('validator agrees with xmllint on libvirt test data', corpus);
} else {
  const cases: [string, 'domain' | 'device'][] = [
    ['qemuxml2argvdata', 'domain'],
    ['qemuxml2xmloutdata', 'domain'],
    ['genericxml2xmlindata', 'domain'],
    ['genericxml2xmloutdata', 'domain'],
    ['qemuhotplugtestdevices', 'device'],
  ];
  for (const [folder, kind] of cases) {
    test(`validator agrees with xmllint: ${folder}`, async () => {
      const files = xmlFiles(join(corpus.tests, folder));
      const rng = kind === 'domain' ? join(corpus.schemas, 'domain.rng') : deviceGrammar(corpus.schemas);
      const verdicts = rngVerdicts(rng, files);
      const disagreements: string[] = [];
      for (const file of files) {
        let ours: string | undefined;
        try {
          await (kind === 'domain' ? validateDomainXml : validateDeviceXml)(readFileSync(file, 'utf8'));
        } catch (err) {
          ours = (err as Error).message;
        }
        const theirs = verdicts.get(file);
        if ((ours === undefined) !== (theirs === undefined)) {
          disagreements.push(`${file}: xmllint ${theirs ?? 'valid'} / ours ${ours ?? 'valid'}`);
        }
      }
      const valid = files.filter((f) => verdicts.get(f) === undefined).length;
      console.log(`${folder}: ${files.length} files, ${valid} valid, ${disagreements.length} disagreements`);
      assert.deepEqual(disagreements, []);
    });
  }
}
