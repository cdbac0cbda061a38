// scripts/in-build.sh: a series build runs where it sees its version's slot paths, each key in a
// mount namespace of its own, and nothing of it reaches the machine's mount table. The rule
// series-daemon-paths and the emulated host's start script follow the slot.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { seriesPaths } from '../runner/rules.js';
import { seriesStartScript } from '../emulated/series-inside.js';
import { inBuild, type SeriesBuild } from '../series/manifest.js';
import { projectRoot } from '../emulated/topology.js';

const SCRIPT = join(projectRoot(), 'scripts', 'in-build.sh');
// A slot and keys no build has: every directory they name is made and removed here.
const SLOT = 'v0.0.0';
const KEYS = ['00000000000000a1', '00000000000000b2'];
const parents = ['/var/lib/lvh-build', '/var/lib/lvh', '/run/lvh'].filter((d) => !existsSync(d));
const madeHere = [`/var/lib/lvh-build/${SLOT}`, `/var/lib/lvh/${SLOT}`, `/run/lvh/${SLOT}`, ...KEYS.flatMap((k) => [`/var/lib/lvh/${k}`, `/run/lvh/${k}`])];

const inb = (root: string, key: string | null, sh: string) =>
  spawnSync('bash', [SCRIPT, '--slot', SLOT, '--root', root, ...(key ? ['--state', key] : []), '--', 'bash', '-c', sh], { encoding: 'utf8' });

t.test('each key sees its own build and state at the slot; the machine sees no mount', { skip: process.getuid?.() !== 0 ? 'mount namespaces need root' : false }, async (t) => {
  t.teardown(() => {
    for (const d of madeHere) rmSync(d, { recursive: true, force: true });
    for (const d of parents) try { rmdirSync(d); } catch { /* something else uses it now */ }
  });
  const roots = KEYS.map((k) => { const r = mkdtempSync(join(tmpdir(), `lvh-inbuild-${k}-`)); writeFileSync(join(r, 'which'), k); return r; });
  t.teardown(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });
  const ownNs = execFileSync('readlink', ['/proc/self/ns/mnt'], { encoding: 'utf8' }).trim();
  for (const [i, k] of KEYS.entries()) {
    const r = inb(roots[i]!, k, `cat /var/lib/lvh-build/${SLOT}/which; echo; echo state-${k} > /var/lib/lvh/${SLOT}/f; echo run-${k} > /run/lvh/${SLOT}/f; readlink /proc/self/ns/mnt`);
    t.equal(r.status, 0, `key ${k} ran: ${r.stderr}`);
    const [which, ns] = r.stdout.trim().split('\n');
    t.equal(which, k, `the slot's build root is ${k}'s build`);
    t.not(ns, ownNs, 'in a mount namespace of its own');
    t.equal(readFileSync(`/var/lib/lvh/${k}/f`, 'utf8').trim(), `state-${k}`, `what it wrote to /var/lib/lvh/${SLOT} is ${k}'s state dir`);
    t.equal(readFileSync(`/run/lvh/${k}/f`, 'utf8').trim(), `run-${k}`, `and /run/lvh/${SLOT} its runtime dir`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  t.notMatch(mounts, new RegExp(`lvh(-build)?/${SLOT.replaceAll('.', '\\.')}`), 'no mount of the slot on the machine');
  const noState = inb(roots[0]!, null, `ls /var/lib/lvh/${SLOT}`);
  t.equal(noState.stdout.trim(), '', 'without --state the slot\'s state dir is the empty mount point');
});

t.test('bad input: one line, exit 2, nothing run', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--slot', '9.0.0', '--root', '/tmp', '--', 'true'], /^in-build: ERROR: bad slot '9\.0\.0'/],
    [['--slot', SLOT, '--root', '/nonexistent-lvh', '--', 'true'], /^in-build: ERROR: no build directory \/nonexistent-lvh/],
    [['--slot', SLOT, '--root', '/tmp', '--state', 'KEY', '--', 'true'], /^in-build: ERROR: bad key 'KEY'/],
    [['--slot', SLOT, '--root', '/tmp'], /^in-build: ERROR: no command after --/],
    [['--paths', '../etc'], /^in-build: ERROR: bad slot/],
  ];
  for (const [args, msg] of cases) {
    const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, msg);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.same(execFileSync('bash', [SCRIPT, '--paths', 'v9.0.0'], { encoding: 'utf8' }).trim().split('\n'),
    ['BUILD_ROOT=/var/lib/lvh-build/v9.0.0', 'STATE_DIR=/var/lib/lvh/v9.0.0', 'RUN_DIR=/run/lvh/v9.0.0']);
});

t.test('the rule and the emulated host follow the slot', async (t) => {
  const key = 'abcdef0123456789';
  const rule = seriesPaths({ key, slot: 'v9.0.0' });
  t.equal(rule.apply(`-object {"mem-path":"/var/lib/lvh/v9.0.0/lib/libvirt/qemu/ram/1-d/pc.ram"} -chardev socket,path=/var/lib/lvh/${key}/lib/libvirt/qemu/domain-1-d/monitor.sock /run/lvh/v9.0.0/libvirt/qemu/d.pid`),
    '-object {"mem-path":"/var/lib/libvirt/qemu/ram/1-d/pc.ram"} -chardev socket,path=/var/lib/libvirt/qemu/domain-1-d/monitor.sock /run/libvirt/qemu/d.pid');
  t.equal(rule.apply('/var/lib/lvh/v11.3.0/lib/x'), '/var/lib/lvh/v11.3.0/lib/x', "another version's slot is not this build's");
  t.equal(seriesPaths({ key }).apply('/var/lib/lvh/v9.0.0/lib/x'), '/var/lib/lvh/v9.0.0/lib/x', 'a build without a slot maps only its key');

  const root = join(projectRoot(), '.cache', 'builds', key);
  const b = { key, root, uri: `qemu+unix:///system?socket=/run/lvh/${key}/libvirt/libvirt-sock`, slot: 'v9.0.0', buildRoot: '/var/lib/lvh-build/v9.0.0', stateDir: '/var/lib/lvh/v9.0.0', runDir: '/run/lvh/v9.0.0' };
  const sh = seriesStartScript(b);
  t.match(sh, `mount --bind '/project/.cache/builds/${key}' '/var/lib/lvh-build/v9.0.0'`, 'the build at its slot inside');
  t.match(sh, `mount --bind '/var/lib/lvh/${key}' '/var/lib/lvh/v9.0.0'`, "the key's state dir on the slot's");
  t.match(sh, `mount --bind '/run/lvh/${key}' '/run/lvh/v9.0.0'`, "the key's runtime dir on the slot's (its socket at the URI's path)");
  t.match(sh, `LIBVIRT_DIR_OVERRIDE=1 '/var/lib/lvh-build/v9.0.0/build/src/libvirtd'`, 'the daemon started at the slot');
  t.throws(() => seriesStartScript({ ...b, slot: 'v9;rm -rf /' }), /bad slot/);
  const old = seriesStartScript({ key, root, uri: b.uri });
  t.match(old, `mount --bind /project '${projectRoot()}'`, 'a build without a slot: at its own path, as before');

  const built = { ...b, binaries: {} } as unknown as SeriesBuild;
  t.same(inBuild(built, ['x']), ['bash', join(projectRoot(), 'scripts', 'in-build.sh'), '--slot', 'v9.0.0', '--root', root, '--', 'x'], 'programs of a slotted build run through in-build.sh');
  t.same(inBuild(built, ['x'], true).slice(6, 8), ['--state', key], 'a daemon with its state dirs');
  t.same(inBuild({ ...built, slot: undefined }, ['x']), ['x'], 'a build without a slot runs as it is');
});
