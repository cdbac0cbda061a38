// The XML reader keeps one saxes parser for the process: a refused document must not leave
// state behind for the next one, and errors must carry libxml2's wording (virsh's format).
import t from 'tap';
import { readXml } from '../xml/read.js';

t.test('errors come out in libxml2 wording, one line', async (t) => {
  const cases: [string, string][] = [
    ['<domain><a></domain>', '(domain_definition):1: Opening and ending tag mismatch: a line 1 and domain'],
    ['<domain a="1" a="2"/>', '(domain_definition):1: Attribute a redefined'],
    ['<domain>', '(domain_definition):1: Premature end of data in tag domain line 1'],
  ];
  for (const [input, message] of cases) t.throws(() => readXml(input), { message }, input);
});

t.test('a refused document leaves the shared parser clean', async (t) => {
  t.throws(() => readXml('<domain><name>'));
  const tree = readXml("<domain type='qemu'><name>x</name></domain>");
  t.same(tree, { name: 'domain', attrs: [['type', 'qemu']], children: [{ name: 'name', attrs: [], children: [], text: 'x' }], text: '' });
});

t.test('attribute values are normalised as XML requires', async (t) => {
  const tree = readXml("<a x='1\n2 &amp; &#10;'/>");
  t.same(tree.attrs, [['x', '1 2 & \n']]);
});

t.test('non-UTF-8 input goes to libxml2 and is refused with its message', async (t) => {
  t.throws(() => readXml(Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x2f, 0x3e])), /\(domain_definition\):1: /);
});

t.test('the fast reader only accepts what saxes accepts, and builds the same tree', async (t) => {
  const { readFileSync, existsSync } = await import('node:fs');
  const { join, dirname } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const fg = (await import('fast-glob')).default;
  const { fastRead } = await import('../xml/fast-read.js');
  const { saxesRead } = await import('../xml/read.js');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const tree = join(root, '.cache', 'libvirt-src', 'libvirt-9.0.0', 'tests');
  const files = [
    ...fg.sync('cases/*.xml', { cwd: root, absolute: true }),
    ...(existsSync(tree) ? fg.sync(['qemuxml2argvdata/*.xml', 'qemuxml2xmloutdata/*.xml', 'genericxml2xmlindata/*.xml'], { cwd: tree, absolute: true }) : []),
  ];
  // Mutations near markup characters make malformed variants of every file.
  let seed = 42;
  const rnd = (k: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
  const marks = ['<', '>', '&', "'", '"', '/', '=', ' ', '!', '?', ']]>', '&#0;', '&foo;', '--'];
  let accepted = 0;
  let checked = 0;
  const wrong: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const variants = [text];
    for (let k = 0; k < 6; k++) {
      const at = rnd(text.length);
      variants.push(k % 2 ? text.slice(0, at) + text.slice(at + 1 + rnd(3)) : text.slice(0, at) + marks[rnd(marks.length)] + text.slice(at));
    }
    for (const v of variants) {
      checked++;
      const fast = fastRead(v);
      if (!fast) continue;
      accepted++;
      const strict = saxesRead(v);
      if (JSON.stringify(fast) !== JSON.stringify(strict)) wrong.push(`${f} (variant ${variants.indexOf(v)})`);
    }
  }
  t.same(wrong.slice(0, 5), [], `fast tree differs from saxes (${wrong.length} of ${accepted} accepted, ${checked} checked)`);
  t.ok(accepted > files.length / 2, `the fast path is actually taken (${accepted} of ${checked})`);
});
