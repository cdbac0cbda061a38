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
