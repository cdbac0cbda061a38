// The model in process: per-case time over two sets of libvirt's own inputs — the NUMA family
// (the cases the model covered first) and the memory territory (issue 20: inputs with <numatune>,
// <numa>, <memoryBacking>, <maxMemory> or a memory device that today's model answers) — for
// today's model and, in the same run with passes interleaved, the model of an earlier commit
// (before.ts), so "the new vocabulary does not slow the old cases" is a ratio of one run.
import { readFileSync } from 'node:fs';
import type { Operation } from '../backends/types.js';
import { libvirtCases } from '../runner/libvirt-cases.js';
import type { RunModel } from './before.js';
import { median } from './stats.js';

const OPS: Operation[] = ['argv', 'xml'];
export const MEMORY_TERRITORY = /<numatune\b|<numa\b|<memoryBacking\b|<maxMemory\b|<memory\s+model=/;

export interface ModelFigures {
  cases: number;
  calls: number;
  medianMs: number;
  meanMs: number;
  casesPerSecond: number;
}

export interface Loaded { id: string; op: Operation; profile: string; input: Buffer }

/** libvirt's memory-territory cases of `tree` that today's model answers (refusals left out). */
export function memoryTerritory(tree: string, run: RunModel): Loaded[] {
  const out: Loaded[] = [];
  for (const c of libvirtCases(tree, false).cases) {
    if ((c.op !== 'argv' && c.op !== 'xml') || c.modelWhy) continue;
    const input = readFileSync(c.input);
    if (!MEMORY_TERRITORY.test(input.toString('utf8'))) continue;
    const o = run(c.op, input, c.profile);
    if (o.kind === 'error' && o.message.startsWith('not modelled:')) continue;
    out.push({ id: c.id, op: c.op, profile: c.profile, input });
  }
  return out;
}

/** Per-case figures of each runner on the same cases: each sample is one whole pass over an
 *  operation's cases divided by their number (single sub-millisecond calls would mostly time the
 *  timer and GC pauses); the runners' passes alternate so both see the same machine. */
export function timeModels(runs: RunModel[], cases: Loaded[], iterations: number, warmup: number): Partial<Record<Operation, ModelFigures>>[] {
  for (let i = 0; i < warmup; i++) for (const run of runs) for (const c of cases) run(c.op, c.input, c.profile);
  const samples = runs.map(() => ({ argv: [] as number[], xml: [] as number[] }));
  const total = runs.map(() => ({ argv: 0, xml: 0 }));
  for (let i = 0; i < iterations; i++) {
    for (const op of OPS) {
      const list = cases.filter((c) => c.op === op);
      if (!list.length) continue;
      // Each runner takes every place in turn (rotated, then reversed): whichever runs after
      // another inherits its garbage, and with three runners a fixed middle one was 3-5% off.
      const k = i % (2 * runs.length);
      const order = runs.map((_, r) => (r + k) % runs.length);
      if (k >= runs.length) order.reverse();
      for (const r of order) {
        const run = runs[r];
        const t0 = performance.now();
        for (const c of list) run(c.op, c.input, c.profile);
        const dt = performance.now() - t0;
        samples[r][op].push(dt / list.length);
        total[r][op] += dt;
      }
    }
  }
  return runs.map((_, r) => {
    const out: Partial<Record<Operation, ModelFigures>> = {};
    for (const op of OPS) {
      const n = cases.filter((c) => c.op === op).length;
      if (!n) continue;
      const meanMs = total[r][op] / (samples[r][op].length * n);
      out[op] = { cases: n, calls: samples[r][op].length * n, medianMs: median(samples[r][op]), meanMs, casesPerSecond: 1000 / meanMs };
    }
    return out;
  });
}
