// The Debian archives come from the machine's own apt sources (scripts/lib/debs.sh), in both of
// apt's formats, and the repository names no package host.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function mirrors(files: Record<string, string>, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const etc = mkdtempSync(join(tmpdir(), 'lvh-apt-'));
  try {
    mkdirSync(join(etc, 'sources.list.d'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
    const r = spawnSync('bash', ['-c', '. scripts/lib/debs.sh; c=$(debian_codename); m=$(debian_mirror) && s=$(debian_security_mirror) && echo "$m $s"'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, LVH_APT_ETC: etc, LVH_DEBIAN_MIRROR: '', LVH_DEBIAN_SECURITY_MIRROR: '', ...env } });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  } finally {
    rmSync(etc, { recursive: true, force: true });
  }
}

const codename = spawnSync('bash', ['-c', '. /etc/os-release && echo "$VERSION_CODENAME"'], { encoding: 'utf8' }).stdout.trim();

t.test('one-line format, with options and comments', async (t) => {
  const r = mirrors({ 'sources.list': `# deb http://old.example/debian ${codename} main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.local/debian/ ${codename} main\ndeb http://mirror.local/security ${codename}-security main\n` });
  t.equal(r.out, 'http://mirror.local/debian http://mirror.local/security', r.err);
});

t.test('deb822, a disabled stanza skipped, other repositories ignored', async (t) => {
  const r = mirrors({
    'sources.list.d/other.sources': 'Types: deb\nURIs: http://vendor.local/node\nSuites: nodistro\nComponents: main\n',
    'sources.list.d/debian.sources': `Types: deb\nURIs: http://off.local/debian\nSuites: ${codename}\nEnabled: no\n\nTypes: deb deb-src\nURIs: http://mirror.local/deb\nSuites: ${codename} ${codename}-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.local/sec\nSuites: ${codename}-security\n`,
  });
  t.equal(r.out, 'http://mirror.local/deb http://mirror.local/sec', r.err);
});

t.test('no source for the suite: a one-line error naming the variable; the variables override', async (t) => {
  const none = mirrors({ 'sources.list': 'deb http://vendor.local/x nodistro main\n' });
  t.not(none.code, 0);
  t.match(none.err, /set LVH_DEBIAN_MIRROR/);
  const over = mirrors({}, { LVH_DEBIAN_MIRROR: 'http://a.local/d/', LVH_DEBIAN_SECURITY_MIRROR: 'http://a.local/s' });
  t.equal(over.out, 'http://a.local/d http://a.local/s');
});

t.test('the repository names no package host', async (t) => {
  // Spelled in parts so that this file does not name them either.
  const hosts = ['deb', 'debian.org'].join('.') + '|' + ['security', 'debian', 'org'].join('\\.') + '|' + ['snapshot', 'debian', 'org'].join('\\.') + '|ftp\\.[a-z]+\\.debian';
  const r = spawnSync('git', ['grep', '-n', '-I', '-E', hosts], { cwd: root, encoding: 'utf8' });
  t.equal(r.stdout, '', 'git grep finds no Debian package host');
});
