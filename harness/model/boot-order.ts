// Boot order: per-device <boot order> or the <os><boot dev> list, never both
// (virDomainDefBootOrderPostParse), and the bootindex each device gets on the command line
// (qemuProcessPrepareDeviceBootorder for the <os> list, the device's own order otherwise).
import { fail } from './errors.js';
import type { BootDev, Domain } from './domain.js';

/** The devices that carry a <boot order>, in virDomainDeviceInfoIterate order. */
const ordered = (d: Domain): { bootOrder?: number }[] => [...d.devices.disks, ...d.devices.nets, ...d.devices.filesystems];

const anyBootOrder = (devs: readonly { bootOrder?: number }[]): boolean => {
  for (let i = 0; i < devs.length; i++) if (devs[i].bootOrder) return true;
  return false;
};

/** virDomainDefBootOrderPostParse (after the duplicate controller check): no order twice, not
 *  both kinds, and without either the first disk boots. */
export function bootOrderPostParse(d: Domain, osBootWritten: boolean): void {
  const { disks, nets, filesystems } = d.devices;
  // Most domains give no device a boot order: then only the <os> list decides.
  if (!anyBootOrder(disks) && !anyBootOrder(nets) && !anyBootOrder(filesystems)) {
    if (!osBootWritten) d.os.boot = ['hd'];
    return;
  }
  const seen = new Set<number>();
  for (const dev of ordered(d)) {
    if (!dev.bootOrder) continue;
    if (seen.has(dev.bootOrder)) fail('CONFIG_UNSUPPORTED', `boot order '${dev.bootOrder}' used for more than one device`);
    seen.add(dev.bootOrder);
  }
  if (osBootWritten && seen.size) fail('CONFIG_UNSUPPORTED', 'per-device boot elements cannot be used together with os/boot elements');
  if (!osBootWritten && !seen.size) d.os.boot = ['hd'];
}

export interface BootIndexes {
  disks: number[];
  nets: number[];
}

/** qemuProcessPrepareDeviceBootorder: with an <os> boot list, the first disk gets the position of
 *  the last 'hd', the first cdrom that of the last 'cdrom', the first interface that of the last
 *  'network'; without one, each device its own order. */
export function bootIndexes(d: Domain): BootIndexes {
  const { disks, nets } = d.devices;
  if (!d.os.boot.length) return { disks: disks.map((k) => k.bootOrder ?? 0), nets: nets.map((n) => n.bootOrder ?? 0) };
  const last = (dev: BootDev): number => d.os.boot.lastIndexOf(dev) + 1;
  const left = { disk: last('hd'), cdrom: last('cdrom') };
  const out: BootIndexes = { disks: [], nets: nets.map((_, i) => (i === 0 ? last('network') : 0)) };
  for (const k of disks) {
    const kind = k.device ?? 'disk';
    out.disks.push(left[kind]);
    left[kind] = 0;
  }
  return out;
}
