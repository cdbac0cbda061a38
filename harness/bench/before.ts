// The model as it was at an earlier commit, compiled from git into .cache/bench/ and loaded
// beside today's, so one bench run times both on the same inputs (a figure from another day
// would compare two machines' loads). The default commit is the one before the memory territory
// (issue 20) came in: the newest first-parent ancestor of HEAD without harness/model/memory-backend.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { runModel } from '../backends/model.js';

export type RunModel = typeof runModel;

export interface Before {
  /** The commit, abbreviated, and how it was chosen. */
  label: string;
  run: RunModel;
}

const git = (root: string, args: string[]): string | null => {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

/** The commit to compare with: `ref` when given, else the parent of the memory territory's first commit. */
function resolve(root: string, ref: string | undefined): { sha: string; label: string } | { skipped: string } {
  if (ref) {
    const sha = git(root, ['rev-parse', '--verify', `${ref}^{commit}`]);
    return sha ? { sha, label: `${ref} (${sha.slice(0, 7)})` } : { skipped: `--before ${ref}: not a commit of this repository` };
  }
  // Along the first parents from HEAD, the newest commit without the memory territory: on this
  // branch its parent commit, once merged the main line as it was before the merge.
  const line = git(root, ['rev-list', '--first-parent', '--max-count=500', 'HEAD'])?.split('\n') ?? [];
  const sha = line.find((c) => git(root, ['cat-file', '-e', `${c}:harness/model/memory-backend.ts`]) === null);
  if (!sha) return { skipped: 'no commit before the memory territory along the first parents of HEAD (pass --before REF)' };
  return { sha, label: `${sha.slice(0, 7)}, the newest first-parent ancestor without the memory territory (harness/model/memory-backend.ts)` };
}

/** Compile that commit's harness/ once (cached by commit) and load its model. */
export async function loadBefore(root: string, ref: string | undefined): Promise<Before | { skipped: string }> {
  const r = resolve(root, ref);
  if ('skipped' in r) return r;
  const dir = join(root, '.cache', 'bench', `model-${r.sha.slice(0, 12)}`);
  if (!existsSync(join(dir, 'dist', 'backends', 'model.js'))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const tar = spawnSync('sh', ['-c', `git -C "$1" archive "$2" harness tsconfig.json package.json | tar -x -C "$3"`, 'sh', root, r.sha, tmp], { encoding: 'utf8' });
      if (tar.status !== 0) return { skipped: `git archive ${r.sha.slice(0, 7)} failed: ${tar.stderr.trim().split('\n').pop()}` };
      symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
      const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: tmp, encoding: 'utf8' });
      if (tsc.status !== 0) return { skipped: `compiling ${r.sha.slice(0, 7)} failed: ${(tsc.stdout + tsc.stderr).trim().split('\n')[0]}` };
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const mod = (await import(pathToFileURL(join(dir, 'dist', 'backends', 'model.js')).href)) as { runModel: RunModel };
  return { label: r.label, run: mod.runModel };
}
