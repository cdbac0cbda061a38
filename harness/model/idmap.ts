// <idmap>: the user-namespace id maps (virDomainIdmapDefParseXML, virDomainDefIdMapValidate).
// The QEMU driver keeps them and formats them back, sorted by start; nothing reaches QEMU. Several
// of libvirt's memory-hotplug inputs carry one.
import { fail } from './errors.js';
import { parseUInt } from './props.js';
import { attr, child, childrenNamed, merged, type XmlElement } from './xml-tree.js';

export interface IdMapEntry { start: number; target: number; count: number }
export interface IdMap { uid: IdMapEntry[]; gid: IdMapEntry[] }

function entries(els: XmlElement[]): IdMapEntry[] {
  const out = els.map((el) => {
    const n = (name: string): number => {
      const v = parseUInt(attr(el, name) ?? '');
      if (v === null) fail('XML_ERROR', 'invalid idmap start/target/count settings');
      return v!;
    };
    return { start: n('start'), target: n('target'), count: n('count') };
  });
  return out.sort((a, b) => a.start - b.start);
}

/** Read after the devices, like libvirt; undefined when there is no <uid> and no <gid>. */
export function parseIdmap(root: XmlElement): IdMap | undefined {
  const el = merged(root, 'idmap'); // ./idmap/uid, ./idmap/gid: every <idmap>
  if (!el) return undefined;
  return parseIdmapOf(el);
}

/** An <idmap> element (the domain's, or a virtiofs filesystem's). */
export function parseIdmapOf(el: XmlElement): IdMap | undefined {
  const uid = entries(childrenNamed(el, 'uid'));
  const gid = entries(childrenNamed(el, 'gid'));
  return uid.length || gid.length ? { uid, gid } : undefined;
}

/** virDomainDefIdMapValidate */
export function validateIdmap(m: IdMap | undefined): void {
  if (!m) return;
  if (!m.uid.length !== !m.gid.length) fail('CONFIG_UNSUPPORTED', 'uid and gid should be mapped both');
  if ((m.uid.length && m.uid[0].start !== 0) || (m.gid.length && m.gid[0].start !== 0))
    fail('CONFIG_UNSUPPORTED', 'You must map the root user of container');
}

/** After </os>; printed only when there is a uid map (as libvirt does). */
export function formatIdmap(m: IdMap | undefined, ind: string): string[] {
  if (!m?.uid.length) return [];
  const line = (k: string, e: IdMapEntry): string => `${ind}  <${k} start='${e.start}' target='${e.target}' count='${e.count}'/>`;
  return [`${ind}<idmap>`, ...m.uid.map((e) => line('uid', e)), ...m.gid.map((e) => line('gid', e)), `${ind}</idmap>`];
}
