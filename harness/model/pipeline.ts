// The model's two operations on a parsed tree, pure: xml2xml and xml2argv.
import { buildArgs, formatArgs } from './argv.js';
import { formatDomain } from './format.js';
import { parseDomain } from './parse.js';
import { postParse } from './postparse.js';
import type { Profile } from './profile.js';
import type { XmlElement } from './xml-tree.js';
import { notModelled } from './errors.js';
import type { Domain } from './domain.js';

/** A domain libvirt accepts with a uuid it makes up: its output is random, not a prediction. */
function withUuid(d: Domain): Domain {
  if (!d.uuid) notModelled('a domain without a <uuid> (libvirt generates a random one)');
  return d;
}

/** Canonical inactive XML, as `virsh define` + `dumpxml --inactive` prints it. */
export function xml2xml(root: XmlElement, profile: Profile): string {
  return formatDomain(withUuid(postParse(parseDomain(root, profile.behaviour), profile)), profile.behaviour);
}

/** The QEMU command line in libvirt's .args layout. */
export function xml2argv(root: XmlElement, profile: Profile): string {
  const d = postParse(parseDomain(root, profile.behaviour), profile);
  const args = buildArgs(d, profile); // its start-time checks first: their errors are modelled
  withUuid(d);
  return formatArgs(args);
}
