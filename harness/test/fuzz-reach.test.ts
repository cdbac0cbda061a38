// The fuzzer can reach every error message of the model's catalogue: each message has a fault
// aimed at it or an exemption saying why not, and each fault makes the model say its message on
// most tamed domains. (Whether libvirt says it too is what `npm run fuzz -- --require-reach`
// measures against the real daemon.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { runModel } from '../backends/model.js';
import { FAULTS } from '../fuzz/faults.js';
import { rawDomainSpec } from '../fuzz/generate.js';
import { EXEMPTIONS, modelTemplates, orphanAims } from '../fuzz/reach.js';
import { renderDomain } from '../fuzz/render.js';
import { tame } from '../fuzz/tame.js';
import { loadProfile, useHostFacts } from '../profiles/load.js';

const templates = modelTemplates();
const byText = new Map(templates.map((x) => [x.text, x]));
// A simulated host (two NUMA nodes, no numad, QEMU 7.2) under libvirt 9.0.0 and under 11.3.0:
// host nodes and numad are host facts, so the fuzzer's messages need a host profile.
const facts = join(import.meta.dirname, '..', '..', 'cases', 'hosts', 'two-node-intel.json');
const dir = mkdtempSync(join(tmpdir(), 'lvh-reach-'));
const HOSTS: [string, string][] = [['9.0.0', facts], ['11.3.0', join(dir, 'host-11.3.0.json')]];
writeFileSync(HOSTS[1][1], JSON.stringify({ ...JSON.parse(readFileSync(facts, 'utf8')), libvirtVersion: '11.3.0' }));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the catalogue is read from the model and every message has a fault or an exemption', async (t) => {
  t.ok(templates.length >= 90, `the model's catalogue has ${templates.length} messages`);
  for (const f of FAULTS) t.ok(byText.has(f.aim), `fault aim is in the catalogue: ${f.aim}`);
  t.same(orphanAims(templates, FAULTS.map((f) => f.aim)), [], 'and the fuzzer finds no orphan aim (what --require-reach fails on)');
  t.same(orphanAims(templates, [templates[0].text, 'XML error: a message the model never says']), ['XML error: a message the model never says'], 'an aim outside the catalogue is named');
  for (const e of EXEMPTIONS) t.ok(byText.has(e.template), `exemption is in the catalogue: ${e.template}`);
  const covered = new Set([...FAULTS.map((f) => f.aim), ...EXEMPTIONS.map((e) => e.template)]);
  const bare = templates.filter((x) => !covered.has(x.text)).map((x) => x.text);
  t.same(bare, [], 'messages with neither a fault nor an exemption');
  t.equal(new Set(FAULTS.map((f) => f.aim)).size, FAULTS.length, 'one fault per message');
});

const bases = fc.sample(rawDomainSpec, { seed: 4242, numRuns: 24 }).map(tame);

for (const [version, file] of HOSTS) {
  t.test(`each fault makes the model say its message (two-node host, libvirt ${version})`, async (t) => {
    useHostFacts(file);
    const name = 'host';
    const profile = loadProfile(name);
    t.equal(profile.libvirtVersion, version);
    for (const f of FAULTS) {
      const ex = EXEMPTIONS.find((e) => e.template === f.aim && e.applies(profile));
      if (ex) {
        t.pass(`exempt on ${version}: ${f.aim} (${ex.reason})`);
        continue;
      }
      const re = byText.get(f.aim)!.re;
      let hit = 0;
      bases.forEach((b, i) => {
        const xml = renderDomain(f.apply(b, i % 8));
        const said = (['argv', 'xml'] as const).map((op) => runModel(op, xml, name)).find((o) => o.kind === 'error');
        if (said && said.kind === 'error' && re.test(said.message)) hit++;
      });
      t.ok(hit >= bases.length / 2, `${hit}/${bases.length} tamed domains: ${f.aim}`);
    }
  });
}
