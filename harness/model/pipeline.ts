// The model's two operations on a parsed tree, pure: xml2xml and xml2argv.
import { buildArgs, formatArgs } from './argv.js';
import { formatDomain } from './format.js';
import { parseDomain } from './parse.js';
import { postParse } from './postparse.js';
import type { Profile } from './profile.js';
import type { XmlElement } from './xml-tree.js';

/** Canonical inactive XML, as `virsh define` + `dumpxml --inactive` prints it. */
export function xml2xml(root: XmlElement, profile: Profile): string {
  return formatDomain(postParse(parseDomain(root, profile.behaviour), profile), profile.behaviour);
}

/** The QEMU command line in libvirt's .args layout. */
export function xml2argv(root: XmlElement, profile: Profile): string {
  return formatArgs(buildArgs(postParse(parseDomain(root, profile.behaviour), profile), profile));
}
