// What a libvirt bug report needs for one crash case (cases/crashes/NAME.xml + NAME.json):
// version, minimal XML, the virsh command, the daemon's last log lines, the backtrace.
//
//   npm run crash-report -- [--check] [--json] cases/crashes/NAME.xml
//
// --check runs the case again on a fresh private libvirtd of the installed libvirt (never the
// machine's) and reports whether it still kills it, with that run's log and backtrace.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { CrashCase } from './crashes.js';
import { libvirtVersion, REPEAT } from './crashes.js';
import { DaemonPool } from './pool.js';
import { describeReplay } from './replay.js';

const USAGE = 'usage: npm run crash-report -- [--check] [--json] cases/crashes/NAME.xml';

function die(msg: string, code = 2): never {
  process.stderr.write(`crash-report: ${msg}\n`);
  process.exit(code);
}

async function check(c: CrashCase, xml: string) {
  const pool = await DaemonPool.open(1);
  try {
    // Up to REPEAT sends, as the fuzzer does: a corrupted heap often dies a call later.
    let r = await pool.run(0, { index: -1, op: c.op, xml }, false);
    for (let n = 1; n < REPEAT && r.kind !== 'crash'; n++) r = await pool.run(0, { index: -1, op: c.op, xml }, false);
    const version = libvirtVersion();
    if (r.kind !== 'crash') return { crashes: false, version, answer: r.kind === 'error' ? r.message : '(libvirt rendered it)' };
    const d = r.event.death;
    return { crashes: true, version, signature: r.event.signature, how: d.how, logTail: d.logTail, stderrTail: d.stderrTail, backtrace: d.backtrace ?? [], noBacktrace: d.noBacktrace };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  for (const a of args) if (a.startsWith('--') && !['--check', '--json'].includes(a)) die(`unknown option '${a}'\n${USAGE}`);
  if (!file) die(USAGE);
  const side = file.replace(/\.xml$/, '.json');
  if (!file.endsWith('.xml') || !existsSync(file)) die(`no such crash case: ${file}`);
  if (!existsSync(side)) die(`${side} is missing: not a crash case written by the fuzzer`);
  let c: CrashCase;
  try {
    c = JSON.parse(readFileSync(side, 'utf8')) as CrashCase;
  } catch (e) {
    die(`${side}: ${(e as Error).message}`);
  }
  const xml = readFileSync(file, 'utf8');
  const again = args.includes('--check') ? await check(c, xml) : undefined;
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({ ...c, check: again }, null, 2) + '\n');
    process.exitCode = again && !again.crashes ? 1 : 0;
    return;
  }
  const name = basename(file);
  const p: string[] = [];
  p.push(`# libvirtd crashes: ${c.signature}`, '');
  p.push(`libvirt: ${c.libvirt.daemon}${c.libvirt.package ? ` (Debian package ${c.libvirt.package})` : ''}; QEMU driver; found by a differential fuzzer (seed ${c.found.seed}${c.found.replay ? `; replay: ${describeReplay(c.found.replay)}` : ''}, shrunk in ${c.found.shrinks} step(s))`, '');
  p.push('## Reproduce', '', '```', c.command, '```', '');
  p.push(`The daemon dies (${c.how})${c.sends && c.sends > 1 ? ` on the ${c.sends}th send of the same XML (the first corrupts its heap)` : ''}; virsh reports "End of file while reading data". ${c.op === 'argv' ? 'Parsing the XML is enough: no guest is started.' : 'Defining the domain is enough: no guest is started.'}`, '');
  p.push(`## Minimal XML (${name})`, '', '```xml', c.xml.trimEnd(), '```', '');
  p.push('## libvirtd log (last lines)', '', '```', ...c.logTail, ...(c.stderrTail.length ? ['--- daemon stderr ---', ...c.stderrTail] : []), '```', '');
  p.push('## Backtrace (crashing thread)', '');
  if (c.backtrace.length) p.push('```', ...c.backtrace, '```', '', 'Symbols are the exported ones only (no debug symbols installed).');
  else p.push(`none: ${c.noBacktrace ?? 'not recorded'}`);
  const others = (c as CrashCase & { otherReleases?: { libvirt: string; result: string; checked: string }[] }).otherReleases ?? [];
  if (others.length) p.push('', '## Other releases', '', ...others.map((o) => `- libvirt ${o.libvirt}: ${o.result} (checked ${o.checked})`));
  if (again) {
    p.push('', `## Checked again now (${again.version.daemon}, a fresh private daemon)`, '');
    if (!again.crashes) p.push(`It does NOT crash any more: libvirt answered ${JSON.stringify(again.answer)}.`);
    else {
      p.push(`Still crashes: ${again.signature}.`);
      if (again.backtrace?.length) p.push('', '```', ...again.backtrace.slice(0, 15), '```');
    }
  }
  process.stdout.write(p.join('\n') + '\n');
  process.exitCode = again && !again.crashes ? 1 : 0;
}

main().catch((e: Error) => die(e.message.split('\n')[0], 1));
