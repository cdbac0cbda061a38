// Host-specific rewrites, each named so a report can say which ones were applied. They are
// applied to both sides of a comparison, never to hide a difference the rule does not name.
export interface Rule {
  name: string;
  why: string;
  apply(text: string): string;
}

/** The PATH libvirtd hands QEMU is the daemon's own environment, not a property of the domain. */
export const DAEMON_PATH: Rule = {
  name: 'daemon-path',
  why: "PATH= is libvirtd's own environment",
  apply: (t) => t.replace(/^PATH=.* \\$/m, 'PATH=<daemon PATH> \\'),
};

export const PROJECT_RULES: Rule[] = [DAEMON_PATH];

export function normalise(text: string, rules: Rule[]): { text: string; applied: string[] } {
  const applied: string[] = [];
  let out = text;
  for (const r of rules) {
    const next = r.apply(out);
    if (next !== out) applied.push(r.name);
    out = next;
  }
  return { text: out, applied };
}
