// <video> with <model type='virtio'>: QEMU's virtio-vga/virtio-gpu (whose blob resources need
// guest RAM in memfd) or, with <driver name='vhostuser'>, a vhost-user GPU process that maps
// guest memory. Parse (virDomainVideoDefParseXML), post-parse (the first video is the primary
// one), validation (qemuValidateDomainDeviceDefVideo), XML (virDomainVideoDefFormat) and the
// command line (qemuBuildVideoCommandLine).
import { fail, notModelled } from './errors.js';
import type { Domain, PciAddress } from './domain.js';
import type { Video } from './domain-devices.js';
import type { Props } from './memory-backend.js';
import type { Behaviour, Profile } from './profile.js';
import { parseUInt, propEnum, propSwitch, propUInt } from './props.js';
import { attr, child, childrenNamed, firstAttr, type XmlElement } from './xml-tree.js';

const VIDEO_TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'] as const;

/** The <driver name>: vhost-user or the default. */
function parseVideoDriver(el: XmlElement): boolean {
  const drv = child(el, 'driver');
  if (!drv) return false;
  const name = propEnum(drv, 'name', ['default', 'qemu', 'vhostuser'] as const, false, true);
  if (name && name !== 'vhostuser') notModelled(`video driver '${name}'`);
  return name === 'vhostuser';
}

/** 9.0.0: string(./model/@ATTR) across every <model>, the driver read before the type. */
function parseVideo900(el: XmlElement, models: XmlElement[]): Video {
  // virStringParseYesNo: anything but yes/no is ignored.
  const primary = firstAttr(models, 'primary') === 'yes';
  const vhostuser = parseVideoDriver(el);
  const type = firstAttr(models, 'type') || 'default';
  if (!(VIDEO_TYPES as readonly string[]).includes(type)) fail('CONFIG_UNSUPPORTED', `unknown video model '${type}'`);
  if (type !== 'virtio') notModelled(`video model '${type}'`);
  const h = firstAttr(models, 'heads') || undefined;
  const heads = h === undefined ? 1 : parseUInt(h); // virStrToLong_uip
  if (heads === null) fail('INTERNAL_ERROR', `cannot parse video heads '${h}'`);
  return { vhostuser, heads: heads!, primary };
}

/** 11.x: the first <model> as one node (virDomainVideoModelDefParseXML), then the driver. */
function parseVideoModelNode(el: XmlElement, model: XmlElement, readBlob: boolean): Video {
  // virXMLPropTristateBool's failure is reported and then ignored: an invalid value is no.
  const primary = attr(model, 'primary') === 'yes';
  const type = propEnum(model, 'type', VIDEO_TYPES) ?? 'default';
  if (type !== 'virtio') notModelled(`video model '${type}'`);
  const heads = propUInt(model, 'heads', false) ?? 1;
  const blob = readBlob ? propSwitch(model, 'blob') : undefined;
  const video: Video = { vhostuser: false, heads, primary };
  if (blob !== undefined) video.blob = blob;
  video.vhostuser = parseVideoDriver(el);
  return video;
}

/** virDomainVideoDefParseXML for a virtio video. */
export function parseVideo(el: XmlElement, parsePci: (el: XmlElement) => PciAddress, behaviour: Behaviour): Video {
  const models = childrenNamed(el, 'model');
  if (!models.length) notModelled('a <video> without <model> (the driver picks a default model)');
  const video = behaviour.videoModelOneNode ? parseVideoModelNode(el, models[0], behaviour.videoBlob) : parseVideo900(el, models);
  const addr = child(el, 'address');
  if (addr) video.address = parsePci(addr);
  return video;
}

/** The parser puts a primary='yes' video first; post-parse marks the first one primary. */
export function orderVideos(videos: Video[]): Video[] {
  const primary = videos.findIndex((v) => v.primary);
  const out = primary > 0 ? [videos[primary], ...videos.filter((_, i) => i !== primary)] : [...videos];
  if (out.length) out[0].primary = true;
  return out;
}

/** qemuDomainSupportsVideoVga: a primary virtio video is VGA-compatible where QEMU has it. */
const vgaCompatible = (v: Video, profile: Profile): boolean =>
  v.primary && (v.vhostuser ? profile.flags.vhostUserVga : profile.flags.virtioVga);

/** The QEMU device of a virtio video, as 12.x records it in the XML. */
export function videoDevice(v: Video, profile: Profile): NonNullable<Video['device']> {
  const vga = vgaCompatible(v, profile);
  return v.vhostuser ? (vga ? 'vhost-user-vga' : 'vhost-user-gpu') : vga ? 'virtio-vga' : 'virtio-gpu';
}

/** qemuValidateDomainDeviceDefVideo for a virtio video. */
export function validateVideo(d: Domain, profile: Profile, v: Video): void {
  if (!profile.flags.virtioGpu) fail('CONFIG_UNSUPPORTED', "domain configuration does not support video model 'virtio'");
  if (v.vhostuser && !profile.flags.vhostUserGpu) fail('CONFIG_UNSUPPORTED', "this QEMU does not support 'vhost-user' video device");
  if (v.blob !== undefined) {
    if (!profile.flags.virtioGpuBlob) fail('CONFIG_UNSUPPORTED', "this QEMU does not support 'blob' for virtio-gpu devices");
    if (v.blob && d.memoryBacking?.source !== 'memfd')
      fail('CONFIG_UNSUPPORTED', "'blob' support for virtio-gpu devices requires a memfd memory backend");
  }
}

/** virDomainVideoDefFormat */
export function formatVideo(v: Video, ind: string, address: (a: PciAddress) => string): string[] {
  const out = [`${ind}<video>`];
  if (v.vhostuser) out.push(`${ind}  <driver name='vhostuser'/>`);
  let model = `${ind}  <model type='virtio'`;
  if (v.heads) model += ` heads='${v.heads}'`;
  if (v.primary) model += " primary='yes'";
  if (v.blob !== undefined) model += ` blob='${v.blob ? 'on' : 'off'}'`;
  if (v.device) model += ` device='${v.device}'`;
  out.push(`${model}/>`);
  if (v.address) out.push(`${ind}  ${address(v.address)}`);
  out.push(`${ind}</video>`);
  return out;
}

/** qemuBuildVideoCommandLine for one video: a vhost-user GPU's chardev (the fd libvirt passes
 *  for the GPU process's socket, a profile fact), then the device (qemuDeviceVideoGetModel). */
export function videoArgs(v: Video, index: number, profile: Profile, deviceArg: (props: Props) => string, pci: (a: PciAddress) => Props): string[] {
  const alias = `video${index}`;
  const args: string[] = [];
  const vga = vgaCompatible(v, profile);
  let props: Props;
  if (v.vhostuser) {
    if (profile.vhostUserGpuFd === undefined) notModelled(`a vhost-user GPU under profile ${profile.name} (the GPU process's socket is opened at start)`);
    args.push('-chardev', `socket,id=chr-vu-${alias},fd=${profile.vhostUserGpuFd}`);
    props = [['driver', vga ? 'vhost-user-vga' : 'vhost-user-gpu-pci'], ['id', alias], ...(v.heads ? [['max_outputs', v.heads] as [string, number]] : []), ['chardev', `chr-vu-${alias}`]];
  } else {
    props = [['driver', vga ? 'virtio-vga' : 'virtio-gpu-pci'], ['id', alias], ...(v.heads ? [['max_outputs', v.heads] as [string, number]] : [])];
    if (v.blob !== undefined) props.push(['blob', v.blob]);
  }
  if (!v.address) return notModelled('a video without a PCI address');
  props.push(...pci(v.address));
  args.push('-device', deviceArg(props));
  return args;
}
