/** Host commands: version, hostname. */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { virtkit } from './helpers.js';

describe('host commands', () => {
  it("version: virsh's four lines, naming virtkit as the library", async () => {
    const r = await virtkit(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Compiled against library: virtkit \d+\.\d+\.\d+\nUsing library: virtkit \d+\.\d+\.\d+\nUsing API: \S+ 9\.0\.0\nRunning hypervisor: \S+ \d+\.\d+\.\d+\n\n$/);
  });
  it("hostname: the connection's host", async () => {
    assert.equal((await virtkit(['hostname'])).stdout, `${hostname()}\n\n`);
  });
});
