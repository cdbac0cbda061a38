// What every backend returns for one input: the rendered text, or libvirt's one-line error,
// or a reason it could not run here (never reported as a pass).
export type Outcome =
  | { kind: 'ok'; text: string }
  | { kind: 'error'; message: string }
  | { kind: 'skip'; reason: string };

export type Operation = 'argv' | 'xml';

export interface Backend {
  readonly name: 'model' | 'libvirt';
  /** Why this backend cannot run on this machine, or null when it can. */
  unavailable(): Promise<string | null>;
  /** xml2argv: QEMU command line in libvirt's .args layout (virCommandToString with linebreaks: an option and its value share a line). */
  argv(xmlText: string, profile: string): Promise<Outcome>;
  /** xml2xml: canonical inactive XML, as `virsh define` + `virsh dumpxml --inactive` print it. */
  xml(xmlText: string, profile: string): Promise<Outcome>;
  /** Stop everything this backend started (connections, domains). Safe to call twice. */
  close(): Promise<void>;
}
