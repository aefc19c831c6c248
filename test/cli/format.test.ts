/** Output formatters against text captured from virsh 9.0 (`virsh -c test:///default`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../src/api/events.js';
import { formatEvent } from '../../src/cli/format/events.js';
import { formatJson } from '../../src/cli/format/json.js';
import { formatKeyValue } from '../../src/cli/format/keyvalue.js';
import { reasonName, stateName } from '../../src/cli/format/states.js';
import { formatTable } from '../../src/cli/format/table.js';

describe('formatTable', () => {
  it('matches virsh list --all', () => {
    const expected = ' Id   Name   State\n' + '-----------------------\n' + ' 1    test   running\n' + ' -    t2     shut off\n';
    assert.equal(formatTable(['Id', 'Name', 'State'], [['1', 'test', 'running'], ['-', 't2', 'shut off']]), expected);
  });
  it('matches virsh domiflist', () => {
    const expected =
      ' Interface   Type      Source    Model   MAC\n' +
      '------------------------------------------------------------\n' +
      ' testnet0    network   default   -       aa:bb:cc:dd:ee:ff\n';
    assert.equal(formatTable(['Interface', 'Type', 'Source', 'Model', 'MAC'], [['testnet0', 'network', 'default', '-', 'aa:bb:cc:dd:ee:ff']]), expected);
  });
  it('matches virsh list --inactive with no rows', () => {
    assert.equal(formatTable(['Id', 'Name', 'State'], []), ' Id   Name   State\n--------------------\n');
  });
  it('drops the header in quiet mode and sizes columns by the rows (virsh -q)', () => {
    assert.equal(formatTable(['Id', 'Name', 'State'], [['1', 'test', 'running']], true), ' 1   test   running\n');
  });
});

describe('formatKeyValue', () => {
  it('pads labels like virsh dominfo', () => {
    assert.equal(formatKeyValue([['Id', '1'], ['Max memory', '8388608 KiB']]), 'Id:             1\nMax memory:     8388608 KiB\n');
  });
});

describe('formatJson', () => {
  it('writes absent values as null', () => {
    assert.deepEqual(JSON.parse(formatJson([{ a: 1, b: undefined }])), [{ a: 1, b: null }]);
  });
});

describe('states and events', () => {
  it('names states and reasons as virsh does', () => {
    assert.equal(stateName(5), 'shut off');
    assert.equal(reasonName(5, 2), 'destroyed');
    assert.equal(reasonName(1, 1), 'booted');
    assert.equal(reasonName(42, 7), 'unknown');
  });
  it('prints event lines as virsh event does', () => {
    const domain = { name: 'vm1', uuid: 'u', id: 1 };
    assert.equal(formatEvent({ type: 'lifecycle', domain, event: 2, detail: 0 } as DomainEvent), "event 'lifecycle' for domain 'vm1': Started Booted");
    assert.equal(formatEvent({ type: 'lifecycle', domain, event: 5, detail: 1 } as DomainEvent), "event 'lifecycle' for domain 'vm1': Stopped Destroyed");
    assert.equal(formatEvent({ type: 'device-removed', domain, alias: 'net1' }), "event 'device-removed' for domain 'vm1': net1");
  });
});
