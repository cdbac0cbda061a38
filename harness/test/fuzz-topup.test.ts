// The top-up (topup.ts) and replay descriptors (replay.ts): a top-up stream gives exactly its
// fault, and the model says that fault's message on most of its domains (as fuzz-reach.test.ts
// checks for the main mix); a descriptor gives back the very domain the run generated, a run
// index or a shrunk value, for the main draw and for a top-up stream alike.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { runModel } from '../backends/model.js';
import { FAULTS } from '../fuzz/faults.js';
import { rawDomainSpec } from '../fuzz/generate.js';
import { EXEMPTIONS, modelTemplates, type Reach } from '../fuzz/reach.js';
import { renderDomain } from '../fuzz/render.js';
import { arbitraryOf, describeReplay, draw, replayDomain, type Replay, type Source } from '../fuzz/replay.js';
import { tame } from '../fuzz/tame.js';
import { faultFor, topUpAims, topUpSeed, topUpSpecFor, TOP_UP_PER_AIM } from '../fuzz/topup.js';
import { loadProfile, useHostFacts } from '../profiles/load.js';

const templates = modelTemplates();
const byText = new Map(templates.map((x) => [x.text, x]));
// The same simulated host as fuzz-reach.test.ts: two NUMA nodes, QEMU 7.2, libvirt 9.0.0 and 11.3.0.
const facts = join(import.meta.dirname, '..', '..', 'cases', 'hosts', 'two-node-intel.json');
const dir = mkdtempSync(join(tmpdir(), 'lvh-topup-'));
const HOSTS: [string, string][] = [['9.0.0', facts], ['11.3.0', join(dir, 'host-11.3.0.json')]];
writeFileSync(HOSTS[1][1], JSON.stringify({ ...JSON.parse(readFileSync(facts, 'utf8')), libvirtVersion: '11.3.0' }));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const RUN_SEED = 31337;
const strip = ({ share: _s, aim: _a, ...rest }: ReturnType<typeof replayDomain>) => rest;

t.test('a top-up seed is a 32-bit integer of the run seed and the message', async (t) => {
  const aim = FAULTS[0].aim;
  t.equal(topUpSeed(RUN_SEED, aim), topUpSeed(RUN_SEED, aim), 'the same run seed and message: the same seed');
  t.not(topUpSeed(RUN_SEED, aim), topUpSeed(RUN_SEED + 1, aim), 'another run seed: another stream');
  const seeds = new Set(FAULTS.map((f) => topUpSeed(RUN_SEED, f.aim)));
  t.equal(seeds.size, FAULTS.length, 'every message its own stream');
  for (const s of seeds) if (!Number.isInteger(s) || s < -(2 ** 31) || s >= 2 ** 31) t.fail(`not a 32-bit integer: ${s}`);
  t.throws(() => topUpSpecFor({ kvm: false }, 'no such message'), /no fault aims at 'no such message'/);
});

t.test('the top-up aims at the messages missed and not exempt that a fault aims at', async (t) => {
  const aimed = FAULTS[3].aim;
  const reach: Reach[] = [
    { template: FAULTS[0].aim, model: 3, libvirt: 3 },
    { template: aimed, model: 2, libvirt: 0 },
    { template: FAULTS[5].aim, model: 0, libvirt: 0, exempt: 'a host fact' },
    { template: 'a message no fault aims at', model: 0, libvirt: 0 },
  ];
  t.same(topUpAims(reach), [aimed]);
  t.ok(faultFor(aimed));
  t.equal(faultFor('a message no fault aims at'), undefined);
});

for (const [version, file] of HOSTS) {
  t.test(`each top-up stream gives exactly its fault, and the model says its message (libvirt ${version})`, async (t) => {
    useHostFacts(file);
    const profile = loadProfile('host');
    t.equal(profile.libvirtVersion, version);
    const host = { kvm: profile.flags.kvm };
    for (const f of FAULTS) {
      const seed = topUpSeed(RUN_SEED, f.aim);
      const specs = fc.sample(topUpSpecFor(host, f.aim), { seed, numRuns: TOP_UP_PER_AIM });
      // The same draws through the main mix's parts: the fault, on the tamed domain, and nothing else.
      const bases = fc.sample(fc.tuple(fc.noBias(fc.nat(7)), rawDomainSpec), { seed, numRuns: TOP_UP_PER_AIM });
      const exact = specs.every((s, i) => s.share === 'top-up' && s.aim === f.aim
        && JSON.stringify(strip(s)) === JSON.stringify(strip(f.apply(tame(bases[i][1], host), bases[i][0]))));
      t.ok(exact, `${TOP_UP_PER_AIM} domains, each exactly tame + this fault: ${f.aim}`);
      const ex = EXEMPTIONS.find((e) => e.template === f.aim && e.applies(profile));
      if (ex) continue;
      const re = byText.get(f.aim)!.re;
      const hit = specs.filter((s) => {
        const xml = renderDomain(s);
        const said = (['argv', 'xml'] as const).map((op) => runModel(op, xml, 'host')).find((o) => o.kind === 'error');
        return said !== undefined && said.kind === 'error' && re.test(said.message);
      }).length;
      t.ok(hit >= TOP_UP_PER_AIM / 2, `${hit}/${TOP_UP_PER_AIM} top-up domains: ${f.aim}`);
    }
  });
}

/** Shrink one value of a source's stream toward "has a <vcpu>" and return fast-check's result. */
function shrunkFrom(source: Source, seed: number, index: number): { path: string; xml: string } | null {
  let calls = 0;
  const details = fc.check(fc.property(arbitraryOf(source), (s) => (calls++ === 0 ? false : s.vcpu === undefined)), { seed, path: String(index), numRuns: 1 });
  if (!details.failed || !details.counterexample || !details.counterexamplePath) return null;
  return { path: details.counterexamplePath, xml: renderDomain(details.counterexample[0]) };
}

t.test('a replay descriptor gives back the run\'s domain, a run index or a shrunk value', async (t) => {
  useHostFacts(facts);
  const aim = 'internal error: missing cpuset for vcpupin';
  const sources: [Source, number][] = [[{ kind: 'main' }, RUN_SEED], [{ kind: 'top-up', aim }, topUpSeed(RUN_SEED, aim)]];
  for (const [source, seed] of sources) {
    const run = draw(source, seed, 40);
    t.equal(run.specs.length, 40);
    t.same(run.replays.map((r) => r.path), run.specs.map((_, i) => String(i)), `${source.kind}: the run index is the path`);
    for (const i of [0, 1, 17, 39]) {
      t.equal(renderDomain(replayDomain(run.replays[i])), renderDomain(run.specs[i]), `${source.kind} #${i}: the same XML`);
    }
    if (source.kind === 'top-up') t.ok(run.specs.every((s) => s.aim === aim), 'every top-up domain carries its aim');
    // A shrunk value: the path's shrink steps are walked again.
    const i = run.specs.findIndex((s) => s.vcpu !== undefined);
    t.ok(i >= 0, `${source.kind}: a domain with a <vcpu> to shrink`);
    const shrunk = shrunkFrom(source, seed, i);
    t.ok(shrunk && shrunk.path.includes(':'), `${source.kind}: shrinking took steps (${shrunk?.path})`);
    if (!shrunk) continue;
    const r: Replay = { source, seed, path: shrunk.path };
    t.equal(renderDomain(replayDomain(r)), shrunk.xml, `${source.kind}: the shrunk path gives the shrunk XML`);
    t.not(shrunk.xml, renderDomain(run.specs[i]), `${source.kind}: and it is not the unshrunk domain`);
  }
});

t.test('a descriptor reads as words that fit an XML comment', async (t) => {
  const main = describeReplay({ source: { kind: 'main' }, seed: 1, path: '351:0:2' });
  t.equal(main, 'main draw, fast-check seed 1, path 351:0:2');
  const top = describeReplay({ source: { kind: 'top-up', aim: "XML error: Invalid value '…' for element or attribute '…'" }, seed: -42, path: '3' });
  t.match(top, /^top-up aimed at "XML error: Invalid value '…' for element or attribute '…'", fast-check seed -42, path 3$/);
  t.notMatch(describeReplay({ source: { kind: 'top-up', aim: 'a -- b' }, seed: 1, path: '0' }), /--/, 'no "--" inside an XML comment');
});
