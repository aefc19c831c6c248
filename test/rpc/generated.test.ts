/**
 * The committed protocol tables are exactly what the generator makes from libvirt 9.0.0's .x files
 * (as go-libvirt checks its generated files): nobody edits them by hand, and a change of the
 * generator or of the procedure selection shows up here until `npm run gen:rpc` is run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { generateAll } from '../../src/rpc/gen/generate.js';
import { remoteProcedureSelection } from '../../src/rpc/gen/selection.js';
import { RemoteProcedure, remoteProcedures, remoteProceduresApi } from '../../src/rpc/generated/remote-protocol.js';
import { setupCorpus, unavailable } from '../conformance/corpus.js';

const repo = resolve(import.meta.dirname, '../..');
const corpus = setupCorpus();
if (typeof corpus === 'string') {
  unavailable('generated protocol tables match the corpus', corpus);
} else {
  test('regenerating from the corpus reproduces every committed file byte for byte', () => {
    const files = generateAll(corpus.root);
    assert.equal(files.size, 3);
    for (const [rel, text] of files) {
      assert.equal(readFileSync(join(repo, rel), 'utf8'), text, `${rel} differs from the generator's output: run npm run gen:rpc`);
    }
  });
}

test('the tables carry libvirt 9.0.0 procedure numbers and annotations', () => {
  // Numbers cross-checked with libvirt-semantics.md §6 (go-libvirt's tables).
  const expect: Record<string, number> = {
    CONNECT_OPEN: 1,
    CONNECT_CLOSE: 2,
    CONNECT_GET_TYPE: 3,
    DOMAIN_ATTACH_DEVICE: 8,
    DOMAIN_GET_XML_DESC: 14,
    DOMAIN_GET_INFO: 16,
    CONNECT_SUPPORTS_FEATURE: 60,
    AUTH_LIST: 66,
    CONNECT_GET_URI: 110,
    DOMAIN_ATTACH_DEVICE_FLAGS: 160,
    DOMAIN_DETACH_DEVICE_FLAGS: 161,
    DOMAIN_UPDATE_DEVICE_FLAGS: 174,
    DOMAIN_GET_STATE: 212,
    CONNECT_LIST_ALL_DOMAINS: 273,
    CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
    DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
    DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED: 333,
    DOMAIN_DEFINE_XML_FLAGS: 350,
    DOMAIN_EVENT_CALLBACK_DEVICE_ADDED: 354,
    CONNECT_REGISTER_CLOSE_CALLBACK: 360,
    DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED: 367,
    DOMAIN_DETACH_DEVICE_ALIAS: 392,
  };
  for (const [name, num] of Object.entries(expect)) {
    assert.equal((RemoteProcedure as Record<string, number>)[name], num, name);
    if (name in remoteProcedures) assert.equal(remoteProcedures[name as keyof typeof remoteProcedures].proc, num, name);
  }
  assert.equal(Object.keys(remoteProcedures).length, remoteProcedureSelection.length);
  assert.equal(remoteProcedures.CONNECT_OPEN.priority, 'high');
  assert.deepEqual(remoteProcedures.DOMAIN_ATTACH_DEVICE_FLAGS.acl, ['domain:write', 'domain:save:!VIR_DOMAIN_AFFECT_CONFIG|VIR_DOMAIN_AFFECT_LIVE', 'domain:save:VIR_DOMAIN_AFFECT_CONFIG']);
  assert.equal(remoteProceduresApi[RemoteProcedure.DOMAIN_GET_XML_DESC], 'virDomainGetXMLDesc');
  assert.equal(remoteProceduresApi[RemoteProcedure.DOMAIN_BLOCK_RESIZE], 'virDomainBlockResize');
  assert.equal(remoteProceduresApi[RemoteProcedure.DOMAIN_EVENT_CALLBACK_LIFECYCLE], undefined);
});
