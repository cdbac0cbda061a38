// What libvirt checks against the host before it builds a command line (qemuProcessPrepareDomain):
// the virtiofsd of each virtiofs share, then the guest CPU (its name in the release's CPU map,
// and on KVM the probed verdict of the host CPU). Where the answer is the host's and the profile
// does not carry it, the input is refused as not modelled.
import { fail, notModelled } from './errors.js';
import type { Domain } from './domain.js';
import type { Profile } from './profile.js';

/** qemuProcessPrepareDomain's external devices: each virtiofs filesystem that has no socket
 *  needs a virtiofsd, found through the host's vhost-user descriptors, or its own <binary>,
 *  which later releases run for its capabilities (whether that path answers is the host's). */
function prepareVirtiofs(d: Domain, profile: Profile): void {
  if (!profile.virtiofsd) return;
  for (const fs of d.devices.filesystems) {
    if (fs.socket !== undefined) continue;
    if (fs.binary?.path !== undefined) {
      if (profile.behaviour.virtiofsBinaryRun) notModelled(`a virtiofsd <binary path='${fs.binary.path}'> the daemon runs for its capabilities`);
    } else if (profile.virtiofsd === 'missing') fail('OPERATION_FAILED', 'Unable to find a satisfying virtiofsd');
  }
}

/** QEMU's own base models: on a live host's TCG guest the model reproduces only these (below). */
const TCG_BASE_MODELS = new Set(['qemu64', 'qemu32']);

/** qemuProcessUpdateGuestCPU on a custom model: libvirt looks it up in its x86 CPU map
 *  (x86ModelFromCPU, virCPUx86Update: "Unknown CPU model X"). On a live host's TCG guest it then
 *  compares the model with the TCG CPU (check='partial') and adds the features its map and QEMU
 *  define differently (-cpu EPYC,monitor=off): the model knows neither, so it answers only for
 *  QEMU's base models there. */
function checkCpuModel(d: Domain, name: string, profile: Profile): void {
  if (profile.cpuMapModels && !profile.cpuMapModels.has(name)) fail('INTERNAL_ERROR', `Unknown CPU model ${name}`);
  if (d.type === 'qemu' && profile.liveHost && !TCG_BASE_MODELS.has(name) && !Object.values(profile.defaultCpuModel).includes(name))
    notModelled(`a custom CPU model '${name}' on a TCG guest (libvirt compares it with QEMU's TCG CPU and adjusts its features)`);
}

/** The external devices first, then the guest CPU; returns the -cpu model, if any. */
export function prepareDomain(d: Domain, profile: Profile): string | undefined {
  prepareVirtiofs(d, profile);
  prepareVirtiofs(d, profile);
  let cpuArg = d.cpu?.model?.name;
  if (cpuArg !== undefined && (d.cpu!.mode ?? 'custom') === 'custom') checkCpuModel(d, cpuArg, profile);
  // …whose update compares a custom CPU with the host CPU unless check='none': the host profile
  // carries libvirt's probed verdict per model (probe-host.mjs).
  if (d.type === 'kvm' && d.cpu?.model && d.cpu.check !== 'none') {
    const verdict = d.cpu.check === 'partial' ? profile.kvmCpuModels?.[d.cpu.model.name] : undefined;
    if (!verdict) notModelled(`a custom CPU model '${d.cpu.model.name}' on a KVM guest with check='${d.cpu.check}' (profile ${profile.name} has no verdict of the host CPU for it)`);
    if ('error' in verdict!) {
      const prefix = 'the CPU is incompatible with host CPU: ';
      if (!verdict.error.startsWith(prefix)) notModelled(`host CPU check answer '${verdict.error}'`);
      fail('CPU_INCOMPATIBLE', verdict.error.slice(prefix.length));
    }
    cpuArg = (verdict as { cpu: string }).cpu;
  }
  return cpuArg;
}
