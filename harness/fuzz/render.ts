// A DomainSpec as domain XML text, the one way the fuzzer writes documents.
import type { AddressSpec, CellSpec, DomainSpec, MemnodeSpec, NumaSpec, NumatuneSpec, SiblingSpec } from './spec.js';


const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

function attrs(pairs: [string, string | undefined][]): string {
  return pairs.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => ` ${k}='${esc(v)}'`).join('');
}

const isQ35 = (machine: string | undefined): boolean => machine === 'q35' || !!machine?.startsWith('pc-q35');

/** The vCPU count the rest of the document is built around (1 when the text is not a count). */
function vcpuMax(s: DomainSpec): number {
  const n = s.vcpu && /^\d+$/.test(s.vcpu.count) ? Number(s.vcpu.count) : 1;
  return n >= 1 && n <= 64 ? n : 1;
}

/** Contiguous shares of 0..max-1 for the cells whose cpus are 'auto' (none left: no attribute). */
function autoCpus(cells: CellSpec[], max: number): Map<number, string> {
  const autos = cells.map((c, i) => (c.cpus === 'auto' ? i : -1)).filter((i) => i >= 0);
  const out = new Map<number, string>();
  let next = 0;
  autos.forEach((cellIdx, k) => {
    const left = autos.length - k;
    const take = Math.max(1, Math.floor((max - next) / left));
    const from = next;
    const to = Math.min(max - 1, next + take - 1);
    next = to + 1;
    if (from <= to) out.set(cellIdx, from === to ? `${from}` : `${from}-${to}`);
  });
  return out;
}

function renderNuma(numa: NumaSpec, max: number, out: string[]): void {
  if (!numa.cells.length && !numa.interconnects.length) {
    out.push('    <numa/>');
    return;
  }
  out.push('    <numa>');
  const n = numa.cells.length;
  const auto = autoCpus(numa.cells, max);
  const order = numa.cells.map((_, i) => i);
  if (numa.reverse) order.reverse();
  for (const i of order) {
    const c = numa.cells[i];
    const id = c.id === 'index' ? String(i) : c.id === 'absent' ? undefined : c.id;
    const cpus = c.cpus === 'auto' ? auto.get(i) : c.cpus === 'none' ? undefined : c.cpus;
    const mem = c.memory ?? { value: '131072', unit: 'KiB' };
    const a = attrs([['id', id], ['cpus', cpus], ['memory', mem.value], ['unit', mem.unit], ['memAccess', c.memAccess], ['discard', c.discard]]);
    const kids: string[] = [];
    if (c.distances !== undefined) {
      const sibs: SiblingSpec[] = c.distances === 'full'
        ? Array.from({ length: n }, (_, j) => ({ id: String(j), value: j === i ? '10' : String(20 + ((i + j) % 2)) }))
        : c.distances;
      if (sibs.length) {
        kids.push('        <distances>');
        for (const s of sibs) kids.push(`          <sibling${attrs([['id', s.id], ['value', s.value]])}/>`);
        kids.push('        </distances>');
      } else kids.push('        <distances/>');
    }
    for (const k of c.caches) {
      kids.push(`        <cache${attrs([['level', k.level], ['associativity', k.associativity], ['policy', k.policy]])}>`);
      if (k.size) kids.push(`          <size${attrs([['value', k.size.value], ['unit', k.size.unit]])}/>`);
      if (k.line) kids.push(`          <line${attrs([['value', k.line.value], ['unit', k.line.unit]])}/>`);
      kids.push('        </cache>');
    }
    if (kids.length) out.push(`      <cell${a}>`, ...kids, '      </cell>');
    else out.push(`      <cell${a}/>`);
  }
  if (numa.interconnects.length) {
    out.push('      <interconnects>');
    for (const ic of numa.interconnects) {
      out.push(`        <${ic.kind}${attrs([['initiator', ic.initiator], ['target', ic.target], ['cache', ic.cache], ['type', ic.type], ['value', ic.value], ...(ic.kind === 'bandwidth' ? [['unit', ic.unit] as [string, string | undefined]] : [])])}/>`);
    }
    out.push('      </interconnects>');
  }
  out.push('    </numa>');
}

function renderNumatune(nt: NumatuneSpec, ncells: number, out: string[]): void {
  const memnodes: MemnodeSpec[] = [];
  if (nt.allCells) {
    const ids = Array.from({ length: ncells }, (_, i) => i);
    if (nt.allCells.order === 'desc') ids.reverse();
    for (const id of ids) memnodes.push({ cellid: String(id), mode: nt.allCells.mode, nodeset: nt.allCells.nodeset ?? '0' });
  }
  memnodes.push(...nt.memnodes);
  if (!nt.memory && !memnodes.length) {
    out.push('  <numatune/>');
    return;
  }
  out.push('  <numatune>');
  if (nt.memory) out.push(`    <memory${attrs([['mode', nt.memory.mode], ['nodeset', nt.memory.nodeset], ['placement', nt.memory.placement]])}/>`);
  for (const m of memnodes) out.push(`    <memnode${attrs([['cellid', m.cellid], ['mode', m.mode], ['nodeset', m.nodeset]])}/>`);
  out.push('  </numatune>');
}

/** The domain XML text for a spec (no comment line). */
export function renderDomain(s: DomainSpec): string {
  const out: string[] = [];
  const max = vcpuMax(s);
  out.push(`<${s.root}${attrs([['type', s.type]])}>`);
  out.push(`  <name>${esc(s.name)}</name>`);
  out.push(`  <uuid>${esc(s.uuid)}</uuid>`);
  if (s.maxMemory) out.push(`  ${s.maxMemory}`);
  if (s.memory) out.push(`  <memory${attrs([['unit', s.memory.unit]])}>${esc(s.memory.value)}</memory>`);
  if (s.currentMemory) out.push(`  <currentMemory${attrs([['unit', s.currentMemory.unit]])}>${esc(s.currentMemory.value)}</currentMemory>`);
  if (s.memtune) out.push(`  ${s.memtune}`);
  if (s.memoryBacking) out.push(`  ${s.memoryBacking}`);
  if (s.vcpu) {
    const c = s.vcpu.current;
    const current = c === 'one' ? '1' : c === 'max' ? String(max) : c === 'over' ? String(max + 1) : c;
    out.push(`  <vcpu${attrs([['placement', s.vcpu.placement], ['cpuset', s.vcpu.cpuset], ['current', current]])}>${esc(s.vcpu.count)}</vcpu>`);
  }
  if (s.iothreads !== undefined) out.push(`  <iothreads>${esc(s.iothreads)}</iothreads>`);
  if (s.cputune) {
    const ct = s.cputune;
    if (!ct.vcpupins.length && !ct.emulatorpins.length && !ct.iothreadpins.length) out.push('  <cputune/>');
    else {
      out.push('  <cputune>');
      for (const p of ct.vcpupins) out.push(`    <vcpupin${attrs([['vcpu', p.id], ['cpuset', p.cpuset]])}/>`);
      for (const p of ct.emulatorpins) out.push(`    <emulatorpin${attrs([['cpuset', p.cpuset]])}/>`);
      for (const p of ct.iothreadpins) out.push(`    <iothreadpin${attrs([['iothread', p.id], ['cpuset', p.cpuset]])}/>`);
      out.push('  </cputune>');
    }
  }
  const ncells = s.cpu?.numa?.cells.length ?? 0;
  if (s.numatune) {
    renderNumatune(s.numatune, ncells, out);
    if (s.numatuneTwice) renderNumatune(s.numatune, ncells, out);
  }
  out.push('  <os>');
  out.push(`    <type${attrs([['arch', s.arch], ['machine', s.machine]])}>hvm</type>`);
  for (const dev of s.boot) out.push(`    <boot${attrs([['dev', dev]])}/>`);
  if (s.bootmenu) out.push(`    <bootmenu${attrs([['enable', s.bootmenu.enable], ['timeout', s.bootmenu.timeout]])}/>`);
  out.push('  </os>');
  if (s.idmap) out.push(`  ${s.idmap}`);
  if (s.features) {
    const f = [s.features.acpi && '<acpi/>', s.features.apic && '<apic/>', s.features.pae && '<pae/>'].filter(Boolean);
    if (f.length) out.push('  <features>', ...f.map((x) => `    ${x}`), '  </features>');
    else out.push('  <features/>');
  }
  if (s.cpu) {
    const c = s.cpu;
    const a = attrs([['mode', c.mode], ['match', c.match], ['check', c.check]]);
    const body: string[] = [];
    if (c.model) body.push(`    <model${c.fallback !== undefined ? attrs([['fallback', c.fallback]]) : ''}>${esc(c.model)}</model>`);
    if (c.topology) {
      const t = c.topology;
      if (t.kind === 'match') {
        const threads = max % 2 === 0 && max > 2 ? 2 : 1;
        body.push(`    <topology sockets='${max / threads}' dies='1' cores='1' threads='${threads}'/>`);
      } else body.push(`    <topology${attrs([['sockets', t.sockets], ['dies', t.dies], ['cores', t.cores], ['threads', t.threads]])}/>`);
    }
    if (c.numa) renderNuma(c.numa, max, body);
    if (body.length) out.push(`  <cpu${a}>`, ...body, '  </cpu>');
    else out.push(`  <cpu${a}/>`);
  }
  if (s.clock) out.push(`  <clock offset='utc'/>`);
  if (s.lifecycle) out.push('  <on_poweroff>destroy</on_poweroff>', '  <on_reboot>restart</on_reboot>');
  if (s.lifecycle || s.onCrash !== undefined) out.push(`  <on_crash>${esc(s.onCrash ?? 'destroy')}</on_crash>`);
  if (s.devices) {
    const d = s.devices;
    out.push('  <devices>');
    const addr = (a: AddressSpec | undefined, ind: string): string[] => (a ? [`${ind}<address${attrs([['type', a.type], ['domain', a.domain], ['controller', a.controller], ['bus', a.bus], ['slot', a.slot], ['target', a.target], ['unit', a.unit], ['function', a.function]])}/>`] : []);
    if (d.emulator) out.push('    <emulator>/usr/bin/qemu-system-x86_64</emulator>');
    d.disks.forEach((k, i) => {
      out.push(`    <disk type='block' device='disk'>`);
      out.push(`      <source dev='/dev/lvhvg/fuzz-${i}'/>`);
      if (k.target !== undefined || k.bus !== undefined) out.push(`      <target${attrs([['dev', k.target], ['bus', k.bus]])}/>`);
      out.push(...addr(k.address, '      '));
      out.push('    </disk>');
    });
    if (d.usb) {
      const open = `    <controller type='usb' index='0'${d.usb === 'default' ? '' : attrs([['model', d.usb]])}`;
      if (d.usbAddress) out.push(`${open}>`, ...addr(d.usbAddress, '      '), '    </controller>');
      else out.push(`${open}/>`);
    }
    for (const c of d.extra) out.push(`    ${c}`);
    if (d.pciRoot) out.push(`    <controller type='pci' index='0' model='${d.pciRoot === 'match' ? (isQ35(s.machine) ? 'pcie-root' : 'pci-root') : d.pciRoot}'/>`);
    if (d.inputs) out.push(`    <input type='mouse' bus='ps2'/>`, `    <input type='keyboard' bus='ps2'/>`);
    if (d.audio) out.push(`    <audio id='1' type='none'/>`);
    if (d.memballoon) {
      if (d.memballoonAddress) out.push(`    <memballoon model='${d.memballoon}'>`, ...addr(d.memballoonAddress, '      '), '    </memballoon>');
      else out.push(`    <memballoon model='${d.memballoon}'/>`);
    }
    out.push('  </devices>');
  } else {
    out.push('  <devices>', '    <emulator>/usr/bin/qemu-system-x86_64</emulator>', '  </devices>');
  }
  out.push(`</${s.root}>`);
  const text = out.join('\n') + '\n';
  if (s.truncate) {
    // Drop a closing tag in the middle: libxml2 reports the mismatch.
    const lines = text.split('\n');
    const at = lines.findIndex((l) => /^ {2}<\/(os|devices|numatune|cputune|cpu)>$/.test(l));
    if (at >= 0) lines.splice(at, 1);
    return lines.join('\n');
  }
  return text;
}
