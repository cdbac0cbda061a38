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

// libvirt's own expected files come from its test environment (tests/qemuxml2argvtest.c and
// testutilsqemu.c); the real daemon runs on this host. These rules map the documented
// differences of environment, one each; capabilities are not rewritten (cases whose expected
// file is not for this host's QEMU are skipped instead).

/** Test env sets USER/LOGNAME=test; the real daemon passes neither. */
export const TEST_ENV: Rule = {
  name: 'test-env',
  why: 'USER=test / LOGNAME=test exist only in the test environment',
  apply: (t) => t.replace(/^(USER|LOGNAME)=test \\\n/gm, ''),
};

/** Per-domain state: /tmp/lib/domain--1-N in tests, /var/lib/libvirt/qemu/domain--1-N for real. */
export const STATE_DIR: Rule = {
  name: 'state-dir',
  why: "the test driver's state dir is /tmp/lib, the daemon's /var/lib/libvirt/qemu",
  apply: (t) => t.replaceAll('/tmp/lib/domain--1-', '/var/lib/libvirt/qemu/domain--1-'),
};

/** The monitor: tests pass fd=1729, the daemon a socket path. */
export const MONITOR: Rule = {
  name: 'monitor-socket',
  why: 'tests hand QEMU an fd (fd=1729), the daemon a socket path',
  apply: (t) => t.replace(/(socket,id=charmonitor,)(?:fd=1729|path=[^,]*monitor\.sock)/g, '$1<monitor>'),
};

/** Tests strip machine aliases ('pc' stays 'pc'); the daemon resolves them. */
export const MACHINE_ALIAS: Rule = {
  name: 'machine-alias',
  why: "libvirt's tests keep 'pc'/'q35' as written; the daemon resolves them to pc-i440fx-7.2/pc-q35-7.2",
  apply: (t) => t.replace(/-machine pc-i440fx-7\.2,/g, '-machine pc,').replace(/-machine pc-q35-7\.2,/g, '-machine q35,')
    .replace(/machine='pc-i440fx-7\.2'/g, "machine='pc'").replace(/machine='pc-q35-7\.2'/g, "machine='q35'"),
};

/** libvirt's mock NUMA reports a missing node in its own words. */
export const MOCK_NUMA_ERROR: Rule = {
  name: 'mock-numa-error',
  why: "tests/virnumamock.c words a missing host node differently from the real virnuma.c",
  apply: (t) => t.replace(/^error: internal error: Mock: no numa node set is available at bit (\d+)$/m, 'error: unsupported configuration: NUMA node $1 is unavailable'),
};

export const LIBVIRT_TESTS_VS_REAL_RULES: Rule[] = [DAEMON_PATH, TEST_ENV, STATE_DIR, MONITOR, MACHINE_ALIAS, MOCK_NUMA_ERROR];

/** A series build's private daemon keeps its state under /var/lib/lvh/<key>/ and /run/lvh/<key>/
 *  (scripts/series-daemon.sh) instead of /var/lib/ and /run/; a build of recipe 3+ names them by
 *  its version's slot (/var/lib/lvh/v9.0.0/: the paths it was built for, scripts/in-build.sh). */
export function seriesPaths(b: { key: string; slot?: string }): Rule {
  const names = b.slot ? [b.key, b.slot] : [b.key];
  return {
    name: 'series-daemon-paths',
    why: `the series build ${b.key} runs a private daemon rooted at /var/lib/lvh/${b.slot ?? b.key}/`,
    apply: (t) => names.reduce((u, n) => u.replaceAll(`/var/lib/lvh/${n}/lib/`, '/var/lib/').replaceAll(`/var/lib/lvh/${n}/`, '/var/lib/').replaceAll(`/run/lvh/${n}/`, '/run/'), t),
  };
}

/** An XML parse error names its input: libvirt's tests parse a file (its path, then libxml2's
 *  two context lines), virsh a string ("(domain_definition):N:" in 9.0.0, "at line N:" in 11.3.0). */
export const XML_ERROR_INPUT: Rule = {
  name: 'xml-error-input',
  why: "an XML parse error names the test's input file (with libxml2's context lines), or virsh's string input",
  apply: (t) => t
    .replace(/^error: (?:ABS_SRCDIR\/|\/)[^\s:]*\.xml:(\d+): (.*)\n[^\n]*\n-*\^\n?$/m, 'error: <input>:$1: $2\n')
    .replace(/^error: (?:\(domain_definition\):|at line )(\d+): /m, 'error: <input>:$1: '),
};

export const LIBVIRT_TESTS_VS_MODEL_RULES: Rule[] = [XML_ERROR_INPUT];

/** A QEMU that exits at start is worded by libvirt after whichever of its two paths saw it first:
 *  the monitor connect failing ("process exited while connecting to monitor") or the monitor's
 *  EOF once connected ("qemu unexpectedly closed the monitor"). Which one wins is timing, not
 *  the domain; both carry QEMU's own message after the colon, which stays compared. */
export const QEMU_EXIT_RACE: Rule = {
  name: 'qemu-exit-race',
  why: "libvirt words a QEMU that exits at start after whichever path saw it first (monitor connect or monitor EOF)",
  // 11.3.0 capitalises QEMU and names the guest: "QEMU unexpectedly closed the monitor (vm='NAME'): ".
  apply: (t) => t.replace(/internal error: (?:qemu|QEMU) unexpectedly closed the monitor(?: \(vm='[^']*'\))?: /g, 'internal error: process exited while connecting to monitor: '),
};

export const RUNTIME_RULES: Rule[] = [QEMU_EXIT_RACE];
