// Collects per-backend results during a run: the one-line summaries CI prints and the JUnit
// XML that GitLab/Jenkins/GitHub read (each failure carries its diff).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';

// The package is CommonJS: under NodeNext its default export may arrive wrapped once more.
const junitBuilder: Builder = (junitModule as unknown as { default?: Builder }).default ?? (junitModule as unknown as Builder);

interface Entry { id: string; pair: string; status: 'pass' | 'fail' | 'skip' | 'todo'; detail?: string; ms: number }

export class Tally {
  private entries: Entry[] = [];
  changed: string[] = [];
  /** The series build under test, when there is one (named in every report). */
  series?: string;

  record(id: string, pair: string, status: Entry['status'], detail?: string, ms = 0): void {
    this.entries.push({ id, pair, status, detail, ms });
  }

  summary() {
    const backends: Record<string, { pass: number; fail: number; skip: number; todo: number; skipReasons: string[] }> = {};
    for (const e of this.entries) {
      const b = (backends[e.pair] ??= { pass: 0, fail: 0, skip: 0, todo: 0, skipReasons: [] });
      b[e.status]++;
      if (e.status === 'skip' && e.detail) b.skipReasons.push(e.detail);
    }
    const count = (s: Entry['status']) => this.entries.filter((e) => e.status === s).length;
    const failedIds = [...new Set(this.entries.filter((e) => e.status === 'fail').map((e) => `${e.id} [${e.pair}]`))];
    return { series: this.series, backends, pass: count('pass'), fail: count('fail'), skip: count('skip'), todo: count('todo'), failedIds, changed: this.changed };
  }

  writeSummary(file: string): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(this.summary(), null, 2));
  }

  writeJunit(file: string): void {
    const builder = junitBuilder;
    const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
    for (const e of this.entries) {
      let suite = suites.get(e.pair);
      if (!suite) { suite = builder.testSuite().name(`libvirt-harness ${e.pair}`); suites.set(e.pair, suite); }
      const tc = suite.testCase().className(e.id.split('/').slice(0, 2).join('.')).name(`${e.id} [${e.pair}]`).time(e.ms / 1000);
      if (e.status === 'fail') tc.failure(e.detail ?? 'mismatch');
      else if (e.status === 'skip' || e.status === 'todo') tc.skipped();
    }
    mkdirSync(dirname(file), { recursive: true });
    builder.writeTo(file);
  }
}
