/** The CLI shell: global options, help, hints, exit status, ';' chains, stdin scripts (subprocess). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainXml, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let vmFile: string;
before(async () => {
  tmp = await tempDir();
  vmFile = await tmp.file('vm1.xml', domainXml('vm1'));
});
after(() => tmp.cleanup());

describe('help', () => {
  it('lists every command grouped like virsh', async () => {
    const r = await virtkit(['help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Domain Management \(help keyword 'domain'\):/);
    assert.match(r.stdout, /Domain Monitoring \(help keyword 'monitor'\):/);
    for (const name of [
      'list', 'define', 'undefine', 'create', 'start', 'destroy', 'shutdown', 'suspend', 'resume', 'dumpxml', 'dominfo',
      'domstate', 'domid', 'domuuid', 'domname', 'attach-device', 'detach-device', 'update-device', 'detach-device-alias',
      'attach-disk', 'detach-disk', 'attach-interface', 'detach-interface', 'change-media', 'domblklist', 'domiflist', 'event', 'help',
    ]) {
      assert.match(r.stdout, new RegExp(`^    ${name} +\\S`, 'm'), name);
    }
  });
  it('prints NAME, SYNOPSIS and OPTIONS for one command', async () => {
    const r = await virtkit(['help', 'attach-device']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /NAME\n {4}attach-device - attach device from an XML file/);
    assert.match(r.stdout, /SYNOPSIS\n {4}attach-device <domain> <file> \[--persistent\] \[--config\] \[--live\] \[--current\]/);
    assert.match(r.stdout, /\[--domain\] <string> {2}domain name, id or uuid/);
    assert.match(r.stdout, /--persistent {5}make live change persistent/);
  });
  it('prints a group by keyword and rejects unknown topics with a hint', async () => {
    assert.match((await virtkit(['help', 'monitor'])).stdout, /domiflist/);
    const r = await virtkit(['help', 'domifno']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: command or command group 'domifno' doesn't exist\nhint: did you mean 'dominfo'\?/);
  });
  it('has --help and --version', async () => {
    const h = await virtkit(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /virtkit \[options\]\.\.\. <command> \[args\.\.\.\]/);
    assert.match(h.stdout, /-c \| --connect=URI/);
    const v = await virtkit(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('mistakes', () => {
  it('unknown command: error, did-you-mean hint, exit 1, no stack trace', async () => {
    const r = await virtkit(['dominf', 'test']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: unknown command: 'dominf'\nhint: did you mean 'dominfo'? Run 'virtkit help' for the list of commands.\n");
    assert.equal(r.stdout, '');
  });
  it('unknown option: error naming the command, hint, exit 1', async () => {
    const r = await virtkit(['list', '--al']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: command 'list' doesn't support option --al\nhint: did you mean --all\?/);
    assert.doesNotMatch(r.stderr, /\bat \S+:\d+/);
  });
  it('unknown global option', async () => {
    const r = await virtkit(['--conect', 'test:///default', 'list']);
    assert.deepEqual([r.code, r.stderr], [1, "error: unsupported option '--conect'. See --help.\n"]);
    const short = await virtkit(['-x', 'list']);
    assert.deepEqual([short.code, short.stderr], [1, "error: unsupported option '-x'. See --help.\n"]);
    const missing = await virtkit(['-c']);
    assert.deepEqual([missing.code, missing.stderr], [1, "error: option '-c'/'--connect' requires an argument\n"]);
  });
  it('missing and extra arguments', async () => {
    const missing = await virtkit(['dominfo']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: command 'dominfo' requires <domain> option/);
    const extra = await virtkit(['domid', 'test', 'extra']);
    assert.equal(extra.code, 1);
    assert.match(extra.stderr, /^error: unexpected data 'extra'/);
  });
  it('a bad command anywhere in a string stops the whole string before anything runs (as virsh)', async () => {
    const r = await virtkit([`define ${vmFile}; list --bogus`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /doesn't support option --bogus/);
  });
  it('unbalanced quotes', async () => {
    const r = await virtkit(['echo "abc']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: missing "\n');
  });
  it('--debug adds the libvirt error code and domain', async () => {
    const r = await virtkit(['--debug', 'dominfo', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: failed to get domain 'nosuch'\nerror: code=42 \(VIR_ERR_NO_DOMAIN\) domain=\d+\n$/);
  });
  it('a bad -c URI: "failed to connect to the hypervisor" once, nothing runs', async () => {
    const r = await virtkit(['-c', 'nosuchdriver:///x', 'echo a; list; echo b']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: failed to connect to the hypervisor\nerror: no connection driver available for 'nosuchdriver:\/\/\/x'[^\n]*\n$/);
  });
});

describe('connection URI', () => {
  it('defaults to test:///default, takes -c/--connect and VIRTKIT_DEFAULT_URI', async () => {
    assert.equal((await virtkit(['uri'])).stdout, 'test:///default\n\n');
    assert.equal((await virtkit(['-c', 'test:///default?unplugTimeout=10', 'uri'])).stdout, 'test:///default?unplugTimeout=10\n\n');
    assert.equal((await virtkit(['--connect=test:///default?unplugTimeout=20', 'uri'])).stdout, 'test:///default?unplugTimeout=20\n\n');
    const env = await virtkit(['uri'], { env: { VIRTKIT_DEFAULT_URI: 'test:///default?unplugTimeout=30' } });
    assert.equal(env.stdout, 'test:///default?unplugTimeout=30\n\n');
  });
});

describe('several commands per invocation', () => {
  it("runs ';'-separated commands in one string and keeps going after a failing one", async () => {
    const r = await virtkit([`define ${vmFile}; dominfo nosuch; domstate vm1; echo done`]);
    assert.equal(r.code, 0, "the status is the last command's, as in virsh");
    assert.equal(r.stdout, `Domain 'vm1' defined from ${vmFile}\n\n\nshut off\n\ndone\n`);
    assert.equal(r.stderr, "error: failed to get domain 'nosuch'\n");
    const last = await virtkit(['domstate test; dominfo nosuch']);
    assert.equal(last.code, 1);
    const strict = await virtkit(['--strict', `define ${vmFile}; dominfo nosuch; domstate vm1`]);
    assert.equal(strict.code, 1, '--strict: any failed command makes the status 1');
  });
  it('exclusive and empty options fail that command only; parse errors refuse the whole string', async () => {
    const r = await virtkit(['domid test; attach-device test /x.xml --current --config; dominfo ""; domid test']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '1\n\n\n\n1\n\n');
    assert.equal(r.stderr, "error: Options --current and --config are mutually exclusive\nerror: Failed to get option 'domain': Option argument is empty\n");
    const parse = await virtkit(['domid test; domid test extra']);
    assert.deepEqual([parse.code, parse.stdout], [1, '']);
  });
  it('splits argv at a standalone ;', async () => {
    const r = await virtkit(['define', vmFile, ';', 'domstate', 'vm1']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /defined from .*\n\nshut off\n\n$/);
  });
  it('reads commands from stdin when it is not a terminal, line by line', async () => {
    const script = `# a comment line\ndefine ${vmFile}\nstart vm1; domstate vm1\n\nlist --name\nbogus-command\ndomid vm1\nquit\necho never\n`;
    const r = await virtkit([], { input: script });
    assert.equal(r.code, 0, 'virsh ends a piped session with 0 whatever failed');
    assert.equal(r.stdout, `Domain 'vm1' defined from ${vmFile}\n\nDomain 'vm1' started\n\nrunning\n\ntest\nvm1\n\n2\n\n`);
    assert.match(r.stderr, /^error: unknown command: 'bogus-command'/);
  });
  it('--strict makes a failed command in a piped script the exit status 1', async () => {
    const r = await virtkit(['--strict'], { input: 'dominfo nosuch\ndomid test\n' });
    assert.deepEqual([r.code, r.stdout], [1, '\n1\n\n']);
  });
  it('an empty stdin does nothing and succeeds', async () => {
    const r = await virtkit([], { input: '' });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  });
  it('--quiet drops headers, status messages and the blank line after each command', async () => {
    const r = await virtkit(['-q', `define ${vmFile}; list --all; domid test`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, ' 1   test   running\n -   vm1    shut off\n1\n');
  });
});
