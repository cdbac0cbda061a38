// Which host facts a run is judged with: simulated ones (--host-facts), a series build's daemon
// as probed by series.sh, else the machine's (scripts/probe-host.mjs).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostFactsPath } from '../profiles/load.js';
import { defaultBuildsDir } from '../series/manifest.js';
import type { RunOptions } from './options.js';

export function seriesFactsFile(key: string): string {
  return join(defaultBuildsDir(), key, 'host.json');
}

export function runFactsFile(o: Pick<RunOptions, 'hostFacts' | 'series' | 'liveFacts'>): string {
  if (o.hostFacts) return o.hostFacts;
  if (o.liveFacts) return o.liveFacts;
  const series = o.series ? seriesFactsFile(o.series) : null;
  return series && existsSync(series) ? series : hostFactsPath;
}
