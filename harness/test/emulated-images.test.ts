// The emulated hosts as images: `emulated` (bookworm, libvirt 9.0.0, the default) and `sid`
// (Debian sid: libvirt 12.8, QEMU 11.1, kernel 7.2). Each has its own facts file name, its own
// profile mapping inside, and a one-line "unavailable" naming the command that builds it.
import t from 'tap';
import { EMULATED_IMAGES, isEmulatedImageId } from '../emulated/image.js';
import { emulatedProfileName } from '../emulated/inside.js';
import { emulatedProfile } from '../emulated/cli.js';
import { parseFileCommand } from '../cli/fast-args.js';

t.test('facts and profile names keep the images apart', async (t) => {
  t.equal(emulatedProfileName('mock8'), 'emulated-mock8', 'the default image keeps its names');
  t.equal(emulatedProfileName('mock8', 'abc123'), 'emulated-mock8-abc123');
  t.equal(emulatedProfileName('tiered', undefined, 'sid'), 'emulated-sid-tiered');
  t.equal(emulatedProfile('host', 'mock8'), 'emulated-mock8');
  t.equal(emulatedProfile('emulated@9.0.0', 'mock8'), 'emulated-mock8@9.0.0');
  t.equal(emulatedProfile('host', 'mock8', 'sid'), 'emulated-sid-mock8', 'inside sid, host means its own facts');
  t.equal(emulatedProfile('sid', 'tiered', 'sid'), 'emulated-sid-tiered');
  t.equal(emulatedProfile('emulated', 'mock8', 'sid'), 'emulated-sid-mock8');
  t.equal(emulatedProfile('x86_64-latest', 'mock8', 'sid'), 'x86_64-latest', 'other profiles pass through');
  t.equal(emulatedProfile('sid', 'mock8'), 'sid', 'sid means nothing to the default image');
});

t.test('image ids', async (t) => {
  t.ok(isEmulatedImageId('sid'));
  t.ok(isEmulatedImageId('emulated'));
  t.notOk(isEmulatedImageId('host'));
  t.notOk(isEmulatedImageId('toString'), 'no inherited names');
  t.equal(EMULATED_IMAGES.sid.kernel, '7.2', 'sid boots its own kernel by default');
  t.match(EMULATED_IMAGES.sid.build, /build-emulated-sid\.sh/);
});

t.test('--profile sid goes to the full parser (it needs --topology)', async (t) => {
  t.equal(parseFileCommand(['argv', '--profile', 'sid', 'a.xml']), null);
  t.not(parseFileCommand(['argv', '--profile', 'x86_64-latest', 'a.xml']), null);
});
