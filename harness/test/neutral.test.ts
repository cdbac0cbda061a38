// The neutral formats the real side uses (harness/neutral/) against libvirt's own files: every
// .args file of libvirt's tests survives virsh's one-line form and back byte for byte, and
// every CPU/node set libvirt printed in its xml2xml outputs prints again the same.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layoutArgs, quoteWord, splitWords } from '../neutral/args-layout.js';
import { printNodeSet, readNodeList } from '../neutral/bitmap-text.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const trees = readdirSync(join(root, '.cache', 'libvirt-src'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, '.cache', 'libvirt-src', d.name, 'tests')))
  .map((d) => join(root, '.cache', 'libvirt-src', d.name));
const dataDirs = (tree: string): string[] => ['qemuxml2argvdata', 'qemuxml2xmloutdata', 'qemuxmlconfdata']
  .map((d) => join(tree, 'tests', d)).filter((d) => existsSync(d));
const filesIn = (dir: string, ext: string): string[] => readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => join(dir, f));

t.test('quoting and splitting (virBufferEscapeShell)', async (t) => {
  t.equal(quoteWord('plain'), 'plain');
  t.equal(quoteWord(''), "''");
  t.equal(quoteWord('{"a":1}'), `'{"a":1}'`);
  t.equal(quoteWord("it's"), `'it'\\''s'`);
  t.same(splitWords(`A=1 /bin/q -x 'a b' c\\ d ''`), ['A=1', '/bin/q', '-x', 'a b', 'c d', '']);
  t.throws(() => splitWords(`-x 'open`), /unbalanced quote/);
  t.throws(() => layoutArgs(['A=1']), /no command/);
});

t.test("libvirt's .args files: one-line form and back", async (t) => {
  if (!trees.length) return t.skip('no libvirt source tree under .cache/libvirt-src (run bash scripts/fetch-libvirt-tests.sh)');
  for (const tree of trees) {
    const files = dataDirs(tree).flatMap((d) => filesIn(d, '.args'));
    let same = 0;
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // virsh prints the command on one line: the same words without the " \" line breaks.
      if (layoutArgs(splitWords(text.replace(/ \\\n/g, ' '))) === text) same++;
      else bad.push(f.slice(tree.length + 1));
    }
    t.ok(files.length > 100, `${tree.split('/').pop()}: ${files.length} .args files found`);
    t.same(bad.slice(0, 10), [], `${tree.split('/').pop()}: ${same}/${files.length} .args files byte for byte`);
  }
});

t.test("CPU and node sets libvirt printed in its xml outputs", async (t) => {
  if (!trees.length) return t.skip('no libvirt source tree under .cache/libvirt-src');
  for (const tree of trees) {
    const sets = new Set<string>();
    for (const d of dataDirs(tree)) for (const f of filesIn(d, '.xml')) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\b(?:cpuset|nodeset|cpus)=['"]([0-9,-]+)['"]/g)) sets.add(m[1]);
    }
    const bad = [...sets].filter((s) => printNodeSet(readNodeList(s)) !== s);
    t.ok(sets.size >= 10, `${tree.split('/').pop()}: ${sets.size} distinct sets found`);
    t.same(bad, [], `${tree.split('/').pop()}: every set prints again as libvirt printed it`);
  }
  t.equal(printNodeSet([5, 0, 1, 2, 3, 7, 8, 3]), '0-3,5,7-8');
  t.equal(printNodeSet([]), '');
  t.throws(() => readNodeList('1-2,x'), /not a node list/);
});
