// The fuzzer's private libvirtd: it is not the machine's, it answers, and it goes away with its
// owner even when the owner is SIGKILLed. Skips (with the reason) where it cannot run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { crashSignature } from '../fuzz/daemon.js';
import { crashShape } from '../fuzz/crashes.js';

const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist', 'fuzz', 'daemon.js');
const why = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/sbin/libvirtd') ? 'no /usr/sbin/libvirtd' : !existsSync(dist) ? 'run npm run build first' : null;

t.test('crash signatures skip allocator and libc frames', async (t) => {
  const bt = [
    '#0 0x1 in g_log_structured_array () from /lib/libglib-2.0.so.0',
    '#4 0x2 in g_realloc () from /lib/libglib-2.0.so.0',
    '#5 0x3 in virReallocN () from /lib/libvirt.so.0',
    '#7 0x4 in virDomainDefSetVcpusMax () from /lib/libvirt.so.0',
  ];
  t.equal(crashSignature({ how: 'SIGTRAP', backtrace: bt, stderrTail: [] }), 'SIGTRAP in virDomainDefSetVcpusMax');
  t.equal(crashSignature({ how: 'SIGABRT', stderrTail: ['(process:1): GLib-ERROR **: 20:51:58.926: ../glib/gmem.c:207: failed to allocate 343 bytes'] }),
    'SIGABRT: failed to allocate N bytes');
  t.equal(crashSignature({ how: 'SIGSEGV', backtrace: bt, stderrTail: [], requestErrors: [
    '2026-11-30 21:09:16.183+0000: 16235: error : virDomainNumaDefNodeDistanceParseXML:718 : XML error: NUMA distances defined without siblings',
  ] }), 'dies after an error in virDomainNumaDefNodeDistanceParseXML', 'the error path names a heap corruption, not where it died');
  t.equal(crashShape("<vcpu placement='static'>-1</vcpu>"), "<vcpu placement='…'>…</vcpu>");
});

t.test('a private daemon dies with its SIGKILLed owner', { skip: why ?? false }, async (t) => {
  const machine = existsSync('/run/libvirtd.pid') ? readFileSync('/run/libvirtd.pid', 'utf8').trim() : null;
  // A child process owns the daemon, prints its pid, then waits to be killed.
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { PrivateDaemon } = await import(${JSON.stringify(dist)});
    const d = await PrivateDaemon.start();
    process.stdout.write(JSON.stringify({ pid: d.pid, uri: d.uri }) + '\\n');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => { buf += b; if (buf.includes('\n')) resolve(buf.trim()); });
    child.once('exit', (c) => reject(new Error(`owner exited (${c}) before starting the daemon`)));
  });
  const { pid, uri } = JSON.parse(line) as { pid: number; uri: string };
  t.ok(existsSync(`/proc/${pid}`), 'the daemon runs');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /libvirtd/, 'it is a libvirtd');
  t.notOk(uri.includes('qemu:///system'), 'its URI is not the machine\'s');
  t.not(String(pid), machine, 'it is not the machine\'s daemon');
  child.kill('SIGKILL');
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gone = !existsSync(`/proc/${pid}`) || /^[^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  }
  t.ok(gone, 'the daemon went away within 10 s of its owner\'s SIGKILL');
  if (machine) t.equal(readFileSync('/run/libvirtd.pid', 'utf8').trim(), machine, 'the machine\'s libvirtd is the same');
});
