/**
 * The interactive prompt on a real terminal: util-linux `script` gives virtkit a
 * pseudo-terminal, keystrokes go in with pauses so readline sees them as typed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MAIN, URI_VARIABLES } from './helpers.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Types each chunk after a pause; resolves with the terminal transcript and exit status. */
function typeAt(chunks: readonly string[], args: readonly string[] = []): Promise<{ code: number | null; screen: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  for (const name of URI_VARIABLES) delete env[name];
  // argv array: `script -c` takes one command string, so only our fixed, quoted path goes into it.
  const command = [process.execPath, MAIN, ...args].map((w) => `'${w}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Drop terminal control sequences readline writes, keep the text.
      resolve({ code, screen: screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '') });
    });
    let delay = 1500;
    for (const chunk of chunks) {
      setTimeout(() => child.stdin.write(chunk), delay);
      delay += 400;
    }
    setTimeout(() => child.stdin.end(), delay + 500);
  });
}

describe('interactive prompt', { skip: !hasScript && !process.env['CI'] ? 'util-linux script is not installed' : false }, () => {
  it('banner and prompt name virtkit; Tab completes commands and domain names; a failed command still ends with 0', async () => {
    const r = await typeAt(['domin\t', 'te\t', '\n', 'dominfo nosuch\n', 'quit\n']);
    assert.match(r.screen, /^Welcome to virtkit, the virtualization interactive terminal\.\n\nType: {2}'help' for help with commands\n {7}'quit' to quit\n\n/);
    assert.match(r.screen, /virtkit # dominfo test \n+Id: +1\nName: +test\n/);
    assert.match(r.screen, /error: failed to get domain 'nosuch'/);
    assert.equal(r.code, 0);
  });
  it("console: virsh's greeting, the test driver's guest echoes, the escape character (^]) ends it", async () => {
    const r = await typeAt(['hello', '\x1d'], ['console', 'test']);
    assert.match(r.screen, /^Connected to domain 'test'\nEscape character is \^\] \(Ctrl \+ \]\)\nhello\n/);
    assert.equal(r.code, 0);
  });
  it('console from the interactive prompt gives the terminal back to the prompt', async () => {
    const r = await typeAt(['console test\r', 'abc', '\x1d', 'domid test\r', 'quit\r']);
    assert.match(r.screen, /virtkit # console test\n+Connected to domain 'test'\n[^\n]*\nabc\n+virtkit # domid test\n+1\n/);
    assert.equal(r.code, 0);
  });
});
