// Domain -> XML text exactly as virDomainDefFormat prints an inactive definition
// (two-space indent, single-quoted attributes, element order of domain_conf.c).
import { formatBitmap, CPUMASK_LEN } from './bitmap.js';
import type { Address, Domain, NumaCell, PciAddress } from './domain.js';
import { BEHAVIOUR_9_0_0, type Behaviour } from './profile.js';
import { formatIdmap } from './idmap.js';
import { formatMaxMemory, formatMemoryBacking, formatMemoryDevice, formatMemtune } from './format-memory.js';
import { formatPciControllerOpts } from './pci-controllers.js';
import { formatDisk } from './disks.js';
import { formatFilesystem } from './filesystems.js';
import { formatInterface } from './interfaces.js';
import { formatVideo } from './videos.js';
import { formatCrypto } from './crypto.js';
import { esc } from './escape.js';

const hex = (n: number, width: number): string => '0x' + n.toString(16).padStart(width, '0');

function formatAddress(a: Address): string {
  if (a.type === 'drive')
    return `<address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/>`;
  const p = a as PciAddress;
  const multi = p.multifunction === undefined ? '' : ` multifunction='${p.multifunction ? 'on' : 'off'}'`;
  return `<address type='pci' domain='${hex(p.domain, 4)}' bus='${hex(p.bus, 2)}' slot='${hex(p.slot, 2)}' function='${hex(p.function, 1)}'${multi}/>`;
}

function formatCell(c: NumaCell, out: string[], ind: string, behaviour: Behaviour): void {
  let attrs = ` id='${c.id}'`;
  if (c.cpus) attrs += ` cpus='${formatBitmap(c.cpus)}'`;
  attrs += ` memory='${c.memoryKiB}' unit='KiB'`;
  if (c.memAccess) attrs += ` memAccess='${c.memAccess}'`;
  if (c.discard !== undefined) attrs += ` discard='${c.discard ? 'yes' : 'no'}'`;
  const kids: string[] = [];
  if (c.distances) {
    kids.push(`${ind}  <distances>`);
    c.distances.forEach((v, i) => { if (v) kids.push(`${ind}    <sibling id='${i}' value='${v}'/>`); });
    kids.push(`${ind}  </distances>`);
  }
  for (const k of c.caches) {
    // virNumaCacheFormat leaves out a zero line size, and in 9.0.0 'none' too.
    const all = behaviour.numaCachePlainProps;
    const assoc = all || k.associativity !== 'none' ? ` associativity='${k.associativity}'` : '';
    const pol = all || k.policy !== 'none' ? ` policy='${k.policy}'` : '';
    kids.push(`${ind}  <cache level='${k.level}'${assoc}${pol}>`);
    kids.push(`${ind}    <size value='${k.sizeKiB}' unit='KiB'/>`);
    if (k.lineBytes) kids.push(`${ind}    <line value='${k.lineBytes}' unit='B'/>`);
    kids.push(`${ind}  </cache>`);
  }
  if (kids.length) out.push(`${ind}<cell${attrs}>`, ...kids, `${ind}</cell>`);
  else out.push(`${ind}<cell${attrs}/>`);
}

function formatCpu(d: Domain, out: string[], behaviour: Behaviour): void {
  const cpu = d.cpu;
  if (!cpu) return;
  const hasBody = cpu.model || cpu.topology || cpu.cells.length;
  let attrs = '';
  if (cpu.mode) attrs += ` mode='${cpu.mode}'`;
  if (cpu.match) attrs += ` match='${cpu.match}'`;
  if (cpu.check) attrs += ` check='${cpu.check}'`;
  if (!hasBody) {
    if (attrs) out.push(`  <cpu${attrs}/>`);
    return;
  }
  out.push(`  <cpu${attrs}>`);
  if (cpu.model) out.push(`    <model${cpu.model.fallback ? ` fallback='${cpu.model.fallback}'` : ''}>${esc(cpu.model.name)}</model>`);
  if (cpu.topology) {
    const t = cpu.topology;
    const clusters = t.clusters !== undefined ? ` clusters='${t.clusters}'` : '';
    out.push(`    <topology sockets='${t.sockets}' dies='${t.dies}'${clusters} cores='${t.cores}' threads='${t.threads}'/>`);
  }
  if (cpu.cells.length) {
    out.push('    <numa>');
    for (const c of cpu.cells) formatCell(c, out, '      ', behaviour);
    if (cpu.interconnects.length) {
      out.push('      <interconnects>');
      for (const ic of cpu.interconnects) {
        let a = ` initiator='${ic.initiator}' target='${ic.target}'`;
        if (ic.cache) a += ` cache='${ic.cache}'`;
        a += ` type='${ic.type}' value='${ic.value}'`;
        if (ic.kind === 'bandwidth') a += ` unit='KiB'`;
        out.push(`        <${ic.kind}${a}/>`);
      }
      out.push('      </interconnects>');
    }
    out.push('    </numa>');
  }
  out.push('  </cpu>');
}

/** virDomainDefFormat(def, VIR_DOMAIN_DEF_FORMAT_INACTIVE | SECURE) for the modelled vocabulary. */
export function formatDomain(d: Domain, behaviour: Behaviour = BEHAVIOUR_9_0_0): string {
  const out: string[] = [];
  out.push(`<domain type='${d.type}'>`);
  out.push(`  <name>${esc(d.name)}</name>`);
  out.push(`  <uuid>${d.uuid}</uuid>`);
  // The memory territory's elements are absent from most domains: a test, not an empty array spread.
  if (d.maxMemory) out.push(...formatMaxMemory(d, '  ', behaviour.memorySlotsForDimmsOnly));
  out.push(`  <memory${d.dumpCore === undefined ? '' : ` dumpCore='${d.dumpCore ? 'on' : 'off'}'`} unit='KiB'>${d.memoryKiB}</memory>`);
  out.push(`  <currentMemory unit='KiB'>${d.currentMemoryKiB}</currentMemory>`);
  // virDomainDefFormatInternal: <blkiotune>, <memtune>, then <memoryBacking>.
  if (d.memtune) out.push(...formatMemtune(d, '  '));
  if (d.memoryBacking) out.push(...formatMemoryBacking(d, '  '));
  let vcpu = `  <vcpu placement='${d.vcpu.placement}'`;
  if (d.vcpu.cpuset && d.vcpu.cpuset.length !== CPUMASK_LEN) vcpu += ` cpuset='${formatBitmap(d.vcpu.cpuset)}'`;
  if (d.vcpu.current !== d.vcpu.max) vcpu += ` current='${d.vcpu.current}'`;
  out.push(`${vcpu}>${d.vcpu.max}</vcpu>`);
  if (d.iothreads) out.push(`  <iothreads>${d.iothreads}</iothreads>`);

  const ct = d.cputune;
  const tune: string[] = [];
  for (const id of [...ct.vcpupin.keys()].sort((a, b) => a - b))
    tune.push(`    <vcpupin vcpu='${id}' cpuset='${formatBitmap(ct.vcpupin.get(id)!)}'/>`);
  if (ct.emulatorpin) tune.push(`    <emulatorpin cpuset='${formatBitmap(ct.emulatorpin)}'/>`);
  for (const id of [...ct.iothreadpin.keys()].sort((a, b) => a - b))
    tune.push(`    <iothreadpin iothread='${id}' cpuset='${formatBitmap(ct.iothreadpin.get(id)!)}'/>`);
  if (tune.length) out.push('  <cputune>', ...tune, '  </cputune>');

  const nt = d.numatune;
  if (nt && (nt.memory || nt.memnodes.size)) {
    out.push('  <numatune>');
    if (nt.memory) {
      const m = nt.memory;
      out.push(m.placement === 'static'
        ? `    <memory mode='${m.mode}' nodeset='${formatBitmap(m.nodeset!)}'/>`
        : `    <memory mode='${m.mode}' placement='${m.placement}'/>`);
    }
    for (const id of [...nt.memnodes.keys()].sort((a, b) => a - b)) {
      const n = nt.memnodes.get(id)!;
      out.push(`    <memnode cellid='${id}' mode='${n.mode}' nodeset='${formatBitmap(n.nodeset)}'/>`);
    }
    out.push('  </numatune>');
  }

  out.push('  <os>');
  out.push(`    <type arch='${d.os.arch}' machine='${esc(d.os.machine)}'>hvm</type>`);
  for (const b of d.os.boot) out.push(`    <boot dev='${b}'/>`);
  const menu = d.os.bootmenu;
  if (menu) out.push(`    <bootmenu enable='${menu.enable}'${menu.timeout !== undefined ? ` timeout='${menu.timeout}'` : ''}/>`);
  out.push('  </os>');
  if (d.idmap) out.push(...formatIdmap(d.idmap, '  '));
  const f = d.features;
  if (f.acpi || f.apic || f.pae) {
    out.push('  <features>');
    if (f.acpi) out.push('    <acpi/>');
    if (f.apic) out.push('    <apic/>');
    if (f.pae) out.push('    <pae/>');
    out.push('  </features>');
  }
  formatCpu(d, out, behaviour);
  out.push(`  <clock offset='${d.clock?.offset ?? 'utc'}'/>`);
  out.push(`  <on_poweroff>${d.onPoweroff ?? 'destroy'}</on_poweroff>`);
  out.push(`  <on_reboot>${d.onReboot ?? 'restart'}</on_reboot>`);
  out.push(`  <on_crash>${d.onCrash ?? 'destroy'}</on_crash>`);

  const devs = d.devices;
  out.push('  <devices>');
  if (devs.emulator) out.push(`    <emulator>${esc(devs.emulator)}</emulator>`);
  for (const k of devs.disks) formatDisk(out, k, '    ', formatAddress);
  for (const c of devs.controllers) {
    const head = `    <controller type='${c.type}' index='${c.index}'${c.model ? ` model='${c.model}'` : ''}`;
    const body: string[] = [];
    if (c.type === 'pci') formatPciControllerOpts(body, c, '      ');
    if (c.address) body.push(`      ${formatAddress(c.address)}`);
    if (body.length) out.push(`${head}>`, ...body, '    </controller>');
    else out.push(`${head}/>`);
  }
  for (const f of devs.filesystems) out.push(...formatFilesystem(f, '    ', formatAddress, formatIdmap));
  for (const n of devs.nets) out.push(...formatInterface(n, '    ', formatAddress));
  for (const i of devs.inputs) out.push(`    <input type='${i.type}' bus='${i.bus}'/>`);
  for (const a of devs.audios) out.push(`    <audio id='${a.id}' type='${a.type}'/>`);
  for (const v of devs.videos) out.push(...formatVideo(v, '    ', formatAddress));
  for (const w of devs.watchdogs ?? []) out.push(`    <watchdog model='${w.model}' action='${w.action}'/>`);
  const mb = devs.memballoon;
  if (mb) {
    if (mb.address) out.push(`    <memballoon model='${mb.model}'>`, `      ${formatAddress(mb.address)}`, '    </memballoon>');
    else out.push(`    <memballoon model='${mb.model}'/>`);
  }
  for (const m of devs.memories) out.push(...formatMemoryDevice(m, '    ', formatAddress));
  for (const c of devs.cryptos) out.push(...formatCrypto(c, '    ', formatAddress));
  out.push('  </devices>');
  out.push('</domain>');
  return out.join('\n') + '\n';
}
