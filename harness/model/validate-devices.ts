// Device validation in libvirt's order (virDomainDefValidate iterates the devices as
// virDomainDeviceInfoIterate lists them: disks, interfaces, videos, controllers, filesystems,
// watchdogs, memory devices, crypto devices; for each, the generic checks then the driver's).
import { fail } from './errors.js';
import type { Domain } from './domain.js';
import { validateCrypto } from './crypto.js';
import { checkDiskName, validateDiskVhostUser } from './disks.js';
import { validateFilesystem } from './filesystems.js';
import { validateInterface } from './interfaces.js';
import { validateMemoryDevice, validateMemoryDeviceCaps } from './memory-devices.js';
import { isQ35 } from './pci.js';
import { validatePciController, validatePciControllerRanges } from './pci-controllers.js';
import type { Profile } from './profile.js';
import { requireSharedMemory } from './vhost-user.js';
import { validateVideo } from './videos.js';

export function validateDevices(d: Domain, profile: Profile): void {
  const devs = d.devices;
  const q35 = isQ35(d);
  // virDomainDiskDefValidate: a target name, and an address type that fits the bus.
  if (devs.missingTargets.length) fail('XML_DETAIL', `missing target information for device ${devs.missingTargets[0]}`);
  for (const k of devs.disks) {
    if (k.address && (k.bus === 'virtio' ? k.address.type !== 'pci' : k.address.type !== 'drive'))
      fail('CONFIG_UNSUPPORTED', `Invalid address type '${k.address.type}' for the disk '${k.target}' with the bus type '${k.bus}'`);
    validateDiskVhostUser(k);
  }
  for (const k of devs.disks) {
    // qemuValidateDomainDeviceDefAddressDrive
    if (k.address?.type === 'drive' && k.bus === 'ide') {
      if (k.address.controller !== 0) fail('INTERNAL_ERROR', 'Only 1 IDE controller is supported');
      if (k.address.target !== 0) fail('CONFIG_UNSUPPORTED', 'target must be 0 for ide controller');
    }
    if (k.address?.type === 'drive' && k.bus === 'sata') {
      if (k.address.bus !== 0) fail('CONFIG_UNSUPPORTED', 'bus must be 0 for sata controller');
      if (k.address.target !== 0) fail('CONFIG_UNSUPPORTED', 'target must be 0 for sata controller');
    }
    // qemuValidateDomainDeviceDefDisk: the target name, vhost-user-blk and memory its backend can reach.
    checkDiskName(k.target);
    if (k.type === 'vhostuser') {
      if (!profile.flags.vhostUserBlk) fail('CONFIG_UNSUPPORTED', 'vhostuser disk is not supported with this QEMU binary');
      requireSharedMemory(d, profile, 'vhostuser');
    }
  }
  for (const n of devs.nets) validateInterface(d, profile, n);
  for (const v of devs.videos) validateVideo(d, profile, v);
  for (const c of devs.controllers) {
    validatePciControllerRanges(c);
    validatePciController(c, profile);
    // qemuValidateDomainDeviceDefControllerIDE: only i440fx's built-in IDE controller.
    if (c.type !== 'ide' || (c.index === 0 && !q35)) continue;
    fail('CONFIG_UNSUPPORTED', q35 ? 'IDE controllers are unsupported for this QEMU binary or machine type'
      : 'Only a single IDE controller is supported for this machine type');
  }
  for (const f of devs.filesystems) validateFilesystem(d, profile, f);
  // qemuValidateDomainDeviceDefWatchdog
  if (devs.watchdogs.length && !q35) fail('CONFIG_UNSUPPORTED', 'itco model of watchdog is only part of q35 machine');
  for (const m of devs.memories) {
    validateMemoryDevice(d, profile, m);
    validateMemoryDeviceCaps(profile, m);
  }
  for (const _ of devs.cryptos) validateCrypto(profile);
}
