// <crypto model='virtio' type='qemu'> with <backend model='builtin'>: virtio-crypto backed by
// QEMU's own implementation (virDomainCryptoDefParseXML, qemuValidateDomainDeviceDefCrypto,
// virDomainCryptoDefFormat, qemuBuildCryptoCommandLine). libvirt >= 9.x knows it
// (behaviour.cryptoDevices); 9.0.0 does not read the element.
import { fail, notModelled } from './errors.js';
import type { PciAddress } from './domain.js';
import type { Crypto } from './domain-devices.js';
import type { Props } from './memory-backend.js';
import type { Profile } from './profile.js';
import { propEnum, propUInt } from './props.js';
import { child, childrenNamed, type XmlElement } from './xml-tree.js';

/** virDomainCryptoDefParseXML */
export function parseCrypto(el: XmlElement, parsePci: (el: XmlElement) => PciAddress): Crypto {
  propEnum(el, 'model', ['virtio'] as const, true);
  propEnum(el, 'type', ['qemu'] as const, true);
  const backends = childrenNamed(el, 'backend');
  if (backends.length !== 1) fail('XML_ERROR', 'only one crypto backend is supported');
  const backend = propEnum(backends[0], 'model', ['builtin', 'lkcf'] as const, true)!;
  if (backend !== 'builtin') notModelled(`crypto backend '${backend}'`);
  const crypto: Crypto = {};
  const queues = propUInt(backends[0], 'queues', false);
  if (queues) crypto.queues = queues;
  const addr = child(el, 'address');
  if (addr) crypto.address = parsePci(addr);
  return crypto;
}

/** qemuValidateDomainDeviceDefCrypto: the model must be one QEMU has (builtin always is). */
export function validateCrypto(profile: Profile): void {
  if (!profile.flags.virtioCrypto) fail('CONFIG_UNSUPPORTED', 'crypto model virtio is not supported');
}

/** virDomainCryptoDefFormat */
export function formatCrypto(c: Crypto, ind: string, address: (a: PciAddress) => string): string[] {
  const out = [`${ind}<crypto model='virtio' type='qemu'>`, `${ind}  <backend model='builtin'${c.queues ? ` queues='${c.queues}'` : ''}/>`];
  if (c.address) out.push(`${ind}  ${address(c.address)}`);
  out.push(`${ind}</crypto>`);
  return out;
}

/** qemuBuildCryptoCommandLine for one device: the backend object, then virtio-crypto-pci. */
export function cryptoArgs(c: Crypto, index: number, objectArg: (props: Props) => string, deviceArg: (props: Props) => string, pci: (a: PciAddress) => Props): string[] {
  const alias = `crypto${index}`;
  const obj: Props = [['qom-type', 'cryptodev-backend-builtin'], ['id', `obj${alias}`]];
  if (c.queues) obj.push(['queues', c.queues]);
  if (!c.address) return notModelled('a crypto device without a PCI address');
  return ['-object', objectArg(obj), '-device', deviceArg([['driver', 'virtio-crypto-pci'], ['cryptodev', `obj${alias}`], ['id', alias], ...pci(c.address)])];
}
