// The memory territory of the model (issue 20): <memoryBacking>, huge pages, <maxMemory> and
// memory devices. Hostile sizes and page sizes the host lacks get libvirt's words (checked
// against libvirt's own expected files by scripts/memory-coverage.mjs; here the edges its
// test data does not reach), never a crash or a hang; each numatune mode meets each backend as
// the series says: restrictive leaves host-nodes and policy out, whoever the memory belongs to.
import t from 'tap';
import { runModel } from '../backends/model.js';
import { hostProfile, loadProfile } from '../profiles/load.js';
import type { HostFacts } from '../model/host-facts.js';
import { xml2argv } from '../model/pipeline.js';
import { readXml } from '../xml/read.js';

const L9 = 'x86_64-latest';
const L11 = 'x86_64-latest@11.3.0';

/** A guest of one or two NUMA cells with `backing` in <memoryBacking>, `devices` in <devices>. */
function domain(o: { backing?: string; numatune?: string; cells?: 0 | 1 | 2; devices?: string; maxMemory?: string; memory?: string } = {}): string {
  const cells = o.cells ?? 1;
  const numa = cells === 0 ? '' : `<numa>${Array.from({ length: cells }, (_, i) => `<cell id='${i}' cpus='${i}' memory='1048576' unit='KiB'/>`).join('')}</numa>`;
  return `<domain type='qemu'><name>mem</name><uuid>6c766863-f022-4a11-9e00-000000000020</uuid>
${o.maxMemory ?? ''}<memory unit='KiB'>${o.memory ?? String(cells ? cells * 1048576 : 1048576)}</memory>
${o.backing !== undefined ? `<memoryBacking>${o.backing}</memoryBacking>` : ''}
<vcpu placement='static'>${Math.max(cells, 1)}</vcpu>${o.numatune ? `<numatune>${o.numatune}</numatune>` : ''}
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model>${numa}</cpu>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><memballoon model='none'/>${o.devices ?? ''}</devices></domain>`;
}

const argv = (xml: string, profile = L9): string => {
  const o = runModel('argv', xml, profile);
  return o.kind === 'ok' ? o.text : `ERROR ${o.message}`;
};
const objects = (text: string): Record<string, unknown>[] =>
  [...text.matchAll(/-object '(\{[^']*\})'/g)].map((m) => JSON.parse(m[1]) as Record<string, unknown>);
const backend = (text: string, id: string): Record<string, unknown> | undefined => objects(text).find((o) => o.id === id);

t.test('hostile sizes get libvirt\'s words, quickly', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['page size 0', domain({ backing: "<hugepages><page size='0'/></hugepages>" }), /^hugepage size can't be zero$/],
    ['negative page size', domain({ backing: "<hugepages><page size='-2048'/></hugepages>" }), /^XML error: Invalid value '-2048' for element or attribute '\.\/@size'$/],
    ['page size past 2^64 bytes', domain({ backing: "<hugepages><page size='18446744073709551615' unit='EiB'/></hugepages>" }), /^numerical overflow: value too large: 18446744073709551615EiB$/],
    ['page size with an unknown unit', domain({ backing: "<hugepages><page size='2' unit='MiBi'/></hugepages>" }), /^invalid argument: unknown suffix 'MiBi'$/],
    ['page size the host lacks', domain({ backing: "<hugepages><page size='5' unit='M'/></hugepages>" }), /^internal error: Unable to find any usable hugetlbfs mount for 5120 KiB$/],
    ['maxMemory past 2^63 bytes', domain({ maxMemory: "<maxMemory slots='16' unit='PiB'>9999999</maxMemory>" }), /^numerical overflow: value too large: 9999999PiB$/],
    ['maxMemory slots not a number', domain({ maxMemory: "<maxMemory slots='-1' unit='GiB'>8</maxMemory>" }), /^XML error: Failed to parse memory slot count$/],
    ['allocation threads not a number', domain({ backing: "<allocation mode='immediate' threads='x'/>" }), /^XML error: Failed to parse memory allocation threads$/],
    ['unknown source type', domain({ backing: "<source type='hugetlbfs'/>" }), /^unsupported configuration: unknown memoryBacking\/source\/type 'hugetlbfs'$/],
    ['device without size', domain({ maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='dimm'><target><node>0</node></target></memory>" }),
      /^XML error: missing element or attribute '\.\/size'$/],
    ['negative device node', domain({ maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='dimm'><target><size unit='MiB'>128</size><node>-1</node></target></memory>" }),
      /^XML error: invalid value of memory device node$/],
    ['device node beyond the cells', domain({ maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='dimm'><target><size unit='MiB'>128</size><node>3</node></target></memory>" }),
      /^can't add memory backend for guest node '3' as the guest has only '1' NUMA nodes configured$/],
    ['virtio-mem block not a power of two', domain({ maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='virtio-mem'><target><size unit='MiB'>512</size><node>0</node><block unit='KiB'>3072</block><requested unit='MiB'>0</requested></target></memory>" }),
      /^block size must be a power of two$/],
    ['devices past the total memory', domain({ maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='dimm'><target><size unit='GiB'>4</size><node>0</node></target></memory>" }),
      /^XML error: Total size of memory devices exceeds the total memory size$/],
    ['devices past maxMemory', domain({ memory: String(5 * 1048576), maxMemory: "<maxMemory slots='4' unit='GiB'>2</maxMemory>", devices: "<memory model='dimm'><target><size unit='GiB'>4</size><node>0</node></target></memory>" }),
      /^XML error: maximum memory size must be equal or greater than the actual memory size$/],
    ['a NUMA cell overflowing when aligned', domain({ cells: 1, memory: '1048576' }).replace("memory='1048576' unit='KiB'", "memory='9007199254740991' unit='KiB'"),
      /^unsupported configuration: memory size of NUMA node '0' overflowed after alignment$/],
  ];
  for (const [what, xml, want] of cases) {
    for (const profile of [L9, L11]) {
      const t0 = performance.now();
      const o = runModel('argv', xml, profile);
      const ms = performance.now() - t0;
      t.equal(o.kind, 'error', `${what} (${profile}): refused`);
      if (o.kind === 'error') {
        t.match(o.message, want, `${what} (${profile}): ${o.message}`);
        t.notOk(/\n|    at /.test(o.message), `${what} (${profile}): one line, no stack`);
        t.notMatch(o.message, /^not modelled/, `${what} (${profile}): libvirt's words, not a refusal`);
      }
      t.ok(ms < 1000, `${what} (${profile}): answered in ${ms.toFixed(1)} ms`);
    }
  }
});

t.test('a memory device of size 0 is accepted, as libvirt does (QEMU refuses it at start)', async (t) => {
  const xml = domain({ memory: '1048576', maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: "<memory model='dimm'><target><size unit='KiB'>0</size><node>0</node></target></memory>" });
  t.match(argv(xml), /-object '\{"qom-type":"memory-backend-ram","id":"memdimm0","size":0\}'/);
});

t.test('huge page sizes are host facts', async (t) => {
  const facts = (hugetlbfs: HostFacts['hugetlbfs']): HostFacts => ({
    libvirtVersion: '9.0.0', qemuVersion: '7.2.0', qemuBinary: '/usr/bin/qemu-system-x86_64', daemonPath: '/usr/bin',
    stateDirTemplate: '/var/lib/libvirt/qemu/domain--1-{name}', monitorTemplate: 'path=/var/lib/libvirt/qemu/domain--1-{name}/monitor.sock',
    machineAliases: { pc: 'pc-i440fx-7.2' }, numaNodes: [{ id: 0, memoryKiB: 1 << 20, cpus: [0, 1] }], kvmUsable: false, hugetlbfs,
    virtTypes: ['qemu'], defaultCpuModels: { qemu: { x86_64: 'qemu64', i686: 'qemu32' }, kvm: {} },
    emulators: { x86_64: '/usr/bin/qemu-system-x86_64' },
  });
  const none = hostProfile(facts([]));
  const two = hostProfile(facts([{ mount: '/dev/hugepages', sizeKiB: 2048, default: true }]));
  const xml = domain({ cells: 0, backing: '<hugepages/>' });
  t.match(runModel('argv', xml, 'x86_64-latest').kind, 'ok');
  // The host profile is built per test here: call the model through the profile object.
  const { xml2argv } = await import('../model/pipeline.js');
  const { readXml } = await import('../xml/read.js');
  const run = (p: typeof none, x: string): string => { try { return xml2argv(readXml(x), p); } catch (e) { return `ERROR ${(e as Error).message}`; } };
  t.equal(run(none, xml), 'ERROR internal error: hugetlbfs filesystem is not mounted or disabled by administrator config', 'no mount: libvirt\'s error');
  t.match(run(two, xml), /"mem-path":"\/dev\/hugepages\/libvirt\/qemu\/-1-mem"/, 'the default size names its mount');
  t.equal(run(two, domain({ cells: 0, backing: "<hugepages><page size='1' unit='G'/></hugepages>" })),
    'ERROR internal error: Unable to find any usable hugetlbfs mount for 1048576 KiB', 'a size the host lacks');
  t.match(run(two, domain({ cells: 0, backing: "<hugepages><page size='4' unit='KiB'/></hugepages>" })), /"qom-type":"memory-backend-ram","id":"pc.ram"/,
    'a page of the system page size is no huge page');
});

t.test('each numatune mode on each backend: restrictive leaves the policy to the kernel', async (t) => {
  const modes = ['strict', 'preferred', 'interleave', 'restrictive'] as const;
  const policy = { strict: 'bind', preferred: 'preferred', interleave: 'interleave' } as Record<string, string>;
  const backings: [string, string, string][] = [
    ['ram', '', 'memory-backend-ram'],
    ['file', "<source type='file'/>", 'memory-backend-file'],
    ['memfd', "<source type='memfd'/>", 'memory-backend-memfd'],
    ['huge pages', '<hugepages/>', 'memory-backend-file'],
    ['memfd huge pages', "<hugepages><page size='1' unit='G'/></hugepages><source type='memfd'/>", 'memory-backend-memfd'],
  ];
  const dimm = "<memory model='dimm'><target><size unit='MiB'>512</size><node>0</node></target></memory>";
  const virtioMem = "<memory model='virtio-mem'><source><nodemask>1</nodemask></source><target><size unit='MiB'>512</size><node>0</node><block unit='KiB'>2048</block><requested unit='MiB'>256</requested></target></memory>";
  for (const profile of [L9, L11]) {
    for (const mode of modes) {
      for (const [what, backing, type] of backings) {
        const xml = domain({ backing, memory: String(2 * 1048576), numatune: `<memory mode='${mode}' nodeset='0-1'/>`, maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>", devices: dimm + virtioMem });
        const text = argv(xml, profile);
        for (const id of ['ram-node0', 'memdimm0', 'memvirtiomem0']) {
          const b = backend(text, id);
          t.ok(b, `${profile} ${mode} ${what}: ${id} exists${b ? '' : `: ${text.slice(0, 200)}`}`);
          if (!b) continue;
          t.equal(b['qom-type'], type, `${profile} ${mode} ${what}: ${id} is ${type}`);
          // virtio-mem's own <source><nodemask> takes the mode of the guest's <memory>.
          const nodes = id === 'memvirtiomem0' ? [1] : [0, 1];
          if (mode === 'restrictive') {
            t.notOk('host-nodes' in b || 'policy' in b, `${profile} restrictive ${what}: ${id} has no host-nodes/policy`);
          } else {
            t.same(b['host-nodes'], nodes, `${profile} ${mode} ${what}: ${id} host-nodes`);
            t.equal(b.policy, policy[mode], `${profile} ${mode} ${what}: ${id} policy`);
          }
        }
      }
    }
  }
});

t.test('the thread context of a preallocated restrictive backend differs by release', async (t) => {
  const xml = domain({ backing: '<hugepages/>', numatune: "<memory mode='restrictive' nodeset='1'/>" });
  const t9 = argv(xml, L9);
  const t11 = argv(xml, L11);
  t.notMatch(t9, /thread-context/, '9.0.0 takes the nodes from host-nodes, which restrictive leaves out');
  t.match(t11, /\{"qom-type":"thread-context","id":"tc-ram-node0","node-affinity":\[1\]\}/, '11.3.0 takes the nodemask itself');
  t.equal(backend(t11, 'ram-node0')?.['prealloc-context'], 'tc-ram-node0');
  const strict = domain({ backing: '<hugepages/>', numatune: "<memory mode='strict' nodeset='1'/>" });
  t.match(argv(strict, L9), /"node-affinity":\[1\]/, 'strict: both releases preallocate on the node');
});

t.test('11.x narrows a thread context to the nodes of the emulator\'s CPUs', async (t) => {
  // The test profiles' host: CPUs 0-3 on node 0, 4-7 on 1, 8-11 on 2, 12-15 on 3.
  const pinned = (cpus: string, nodes: string): string => domain({ backing: '<hugepages/>', numatune: `<memory mode='strict' nodeset='${nodes}'/>` })
    .replace("<vcpu placement='static'>", `<vcpu placement='static' cpuset='${cpus}'>`);
  t.match(argv(pinned('4-5', '1-3'), L11), /"node-affinity":\[1\]/, 'vCPUs on node 1: only node 1 of 1-3');
  t.match(argv(pinned('0,9,13', '1-3'), L11), /"node-affinity":\[2,3\]/, 'CPUs on nodes 0, 2, 3: nodes 2 and 3');
  const none = argv(pinned('0-1', '1-3'), L11);
  t.notMatch(none, /thread-context|prealloc-context/, 'no node in common: no thread context at all');
  t.equal(backend(none, 'ram-node0')?.prealloc, true, 'the backend still preallocates');
  t.match(argv(pinned('0-1', '1-3'), L9), /"node-affinity":\[1,2,3\]/, '9.0.0 takes host-nodes as they are');
  const emulatorpin = pinned('0-15', '0-1').replace('<os>', "<cputune><emulatorpin cpuset='4'/></cputune><os>");
  t.match(argv(emulatorpin, L11), /"node-affinity":\[1\]/, '<emulatorpin> comes before <vcpu cpuset>');
  const unknown = { ...loadProfile(L11), hostNodeCpus: undefined };
  t.throws(() => xml2argv(readXml(pinned('4', '1')), unknown), { name: 'NotModelledError', message: /^not modelled: a preallocated backend with emulator CPUs under profile/ },
    'a host whose CPUs per node are unknown is refused, not guessed');
});

t.test('outside the vocabulary stays an honest refusal with the path', async (t) => {
  const o = runModel('argv', domain({ backing: '<hugepages><page size="2048"><extra/></page></hugepages>' }), L9);
  t.same(o, { kind: 'error', message: 'not modelled: element <extra> (at domain/memoryBacking/hugepages/page/extra)' });
});

t.test('SGX EPC memory: a backend the machine takes, sized against QEMU\'s EPC sections', async (t) => {
  const epc = (size: string, nodes = '0-1'): string => domain({ cells: 2, maxMemory: "<maxMemory slots='4' unit='GiB'>8</maxMemory>",
    devices: `<memory model='sgx-epc'><source><nodemask>${nodes}</nodemask></source><target><size unit='MiB'>${size}</size><node>1</node></target></memory>` });
  for (const profile of ['x86_64-7.0.0', 'x86_64-7.0.0@11.3.0']) {
    const text = argv(epc('64'), profile);
    t.match(text, /-machine pc,usb=off,dump-guest-core=off,sgx-epc\.0\.memdev=memepc0,sgx-epc\.0\.node=1 /, `${profile}: the machine names the EPC and its node`);
    t.same(backend(text, 'memepc0'), { 'qom-type': 'memory-backend-epc', id: 'memepc0', prealloc: true, size: 67108864, 'host-nodes': [0, 1], policy: 'bind' });
    t.notMatch(text, /"driver":"sgx/, 'no -device for it');
    t.equal(argv(epc('512'), profile), 'ERROR unsupported configuration: sgx epc size 262144 on host node 0 is less than requested size 524288');
  }
  t.equal(argv(epc('64'), L11), "ERROR unsupported configuration: sgx epc isn't supported by this QEMU binary", 'QEMU 10.0 has no sgx-epc');
  t.match(runModel('argv', epc('64', '5'), 'x86_64-7.0.0'), { kind: 'error', message: /^not modelled: an sgx-epc nodemask naming node 5/ });
});

t.test("a domain name is written as it is in every per-domain path, '$&' and '$$' included", async (t) => {
  // String.replaceAll would read them as replacement patterns (found 2026-12-06: HOME held
  // 'domain--1-a{name}b'); libvirt's domxml-to-native writes HOME='/var/lib/libvirt/qemu/domain--1-a$&b'.
  const xml = domain({ backing: "<source type='file'/>" }).replace('<name>mem</name>', () => '<name>a$&amp;b$$c</name>');
  for (const profile of [L9, L11]) {
    const out = argv(xml, profile);
    // The state directory's place differs by release (/tmp/lib in 9.0.0's test profile).
    t.match(out, /^HOME='\/[a-z/]+\/domain--1-a\$&b\$\$c' \\$/m, `${profile}: HOME`);
    t.match(out, /^XDG_CONFIG_HOME='\/[a-z/]+\/domain--1-a\$&b\$\$c\/\.config' \\$/m, `${profile}: XDG_CONFIG_HOME`);
    t.match(out, /"mem-path":"[^"]*-1-a\$&b\$\$c\/ram-node0"/, `${profile}: the file backend's mem-path`);
    t.notMatch(out, /\{name\}|\{stateDir\}/, `${profile}: no template left`);
  }
});

t.test('repeated <memoryBacking> elements and children are all read, as libvirt\'s XPath does', async (t) => {
  // Two <memoryBacking>: the memfd source of the second, the threads of the first.
  const two = domain({ cells: 0 }).replace('<vcpu',
    "<memoryBacking><source/><allocation threads='2'/></memoryBacking><memoryBacking><source type='memfd'/><allocation mode='immediate'/><locked/></memoryBacking><vcpu");
  const ram = backend(argv(two), 'pc.ram');
  t.equal(ram?.['qom-type'], 'memory-backend-memfd', 'source from the first <source> that has a type');
  t.equal(ram?.prealloc, true, 'allocation mode from the second <allocation>');
  t.equal(ram?.['prealloc-threads'], 2, 'threads from the first');
  t.match(argv(two), /-overcommit mem-lock=on/, '<locked/> of the second element counts');
  // The pages of both <hugepages> make one list, so two pages on one node intersect.
  const pages = "<hugepages><page size='2048' nodeset='0'/></hugepages><hugepages><page size='2048' nodeset='0'/></hugepages>";
  t.match(argv(domain({ backing: pages })), /^ERROR .*hugepages of sizes 2048 and 2048 intersect/);
  // A size's number and its unit are two reads: the first <size>, the first unit.
  const dimm = "<memory model='dimm'><target><size>128</size><size unit='MiB'>1</size><node>0</node></target></memory>";
  const out = argv(domain({ maxMemory: "<maxMemory slots='2' unit='KiB'>4194304</maxMemory>", devices: dimm }));
  t.equal(backend(out, 'memdimm0')?.size, 128 * 1024 * 1024, '128 MiB, the unit from the second <size>');
});

t.test("a non-ASCII name's short form follows the daemon's locale", async (t) => {
  const { shortName } = await import('../model/memory-backend.js');
  const bytes = loadProfile(L9);
  const chars = { ...bytes, shortNameChars: true };
  const d = (name: string) => ({ name }) as Parameters<typeof shortName>[0];
  // 'numa-' + 7 × 'é' + '-' is 20 bytes and 13 characters.
  t.equal(shortName(d('numa-ééééééé-guest'), bytes), 'numa-ééééééé-', 'C locale: 20 bytes');
  t.equal(shortName(d('numa-ééééééé-guest'), chars), 'numa-ééééééé-guest', 'UTF-8: 18 characters, no cut');
  t.equal(shortName(d('a'.repeat(25)), bytes), 'a'.repeat(20), 'ASCII: the same either way');
  t.equal(shortName(d('é'.repeat(25)), chars), 'é'.repeat(20));
  t.equal(shortName(d('é'.repeat(10)), bytes), 'é'.repeat(10), '20 bytes exactly: whole');
  t.throws(() => shortName(d('x' + 'é'.repeat(10)), bytes), /not modelled: a domain name whose first 20 bytes end inside a character/);
});

t.test('<memtune> limits as virDomainParseMemoryLimit reads them', async (t) => {
  const xml = (tune: string): string => {
    const o = runModel('xml', domain({ cells: 0 }).replace('<vcpu', `<memtune>${tune}</memtune><vcpu`), L9);
    return o.kind === 'ok' ? (/<memtune>[\s\S]*?<\/memtune>/.exec(o.text)?.[0] ?? 'none').replace(/\s+/g, ' ') : `ERROR ${o.message}`;
  };
  t.equal(xml("<hard_limit unit='b'>1025</hard_limit>"), "<memtune> <hard_limit unit='KiB'>2</hard_limit> </memtune>", 'KiB rounded up');
  t.equal(xml('<hard_limit>9007199254740990</hard_limit>'), "<memtune> <hard_limit unit='KiB'>9007199254740990</hard_limit> </memtune>", 'one below unlimited is a limit');
  t.equal(xml('<hard_limit>9007199254740991</hard_limit>'), 'none', 'unlimited is no limit, and no empty <memtune>');
  t.equal(xml("<hard_limit unit='bytes'>9223372036854774784</hard_limit>"), 'none', 'UNLIMITED << 10 bytes: still unlimited');
  t.equal(xml("<hard_limit unit='bytes'>9223372036854774785</hard_limit>"), 'ERROR numerical overflow: value too large: 9223372036854774785bytes', 'one byte more: overflow');
  t.equal(xml("<soft_limit>x</soft_limit>"), "ERROR XML error: Invalid value 'x' for element or attribute './memtune/soft_limit[1]'");
  t.equal(xml('<min_guarantee>0</min_guarantee>'), 'none', 'min_guarantee 0 is absent');
  t.equal(argv(domain({ cells: 0 }).replace('<vcpu', '<memtune><min_guarantee>1</min_guarantee></memtune><vcpu')),
    "ERROR unsupported configuration: Parameter 'min_guarantee' not supported by QEMU.", 'the QEMU driver refuses min_guarantee');
});
