// The fuzzer's report: every figure with its denominator (what was generated, compared,
// accepted, refused, crashed), as JSON or text. Written whatever happened during the run.
import type { Operation } from '../backends/types.js';
import type { CrashCaseReport, CrashKind } from './findings.js';
import type { Options } from './options.js';
import { describeReplay, type Replay } from './replay.js';
import type { Result, Verdict } from './verdicts.js';
import { missed, type Reach } from './reach.js';
import { CONFIRM_PER_CAUSE } from './recheck.js';

const OPS: Operation[] = ['argv', 'xml'];

/** Error message (numbers folded) -> [model argv, model xml, libvirt argv, libvirt xml]. */
export type Counts = Map<string, number[]>;

export interface ReportInput {
  o: Options;
  results: Result[];
  seconds: { total: number; generate: number; model: number; libvirt: number; topUp: number; shrink: number };
  accepted: number;
  refused: number;
  refusedBy: Map<string, number>;
  errors: Counts;
  /** The catalogue after the whole run (main draw and top-up). */
  reached: Reach[];
  /** The catalogue after the main draw alone: what the top-up aimed at. */
  reachedMain: Reach[];
  /** Model messages no catalogue template matches (reach.ts outsideCatalogue). */
  outside: { message: string; count: number }[];
  /** Per fault aim (faults.ts): domains aimed at it that libvirt answered, and how many it refused with that message. */
  aims: { aim: string; aimed: number; met: number }[];
  /** Generated domains per share of the mix (generate.ts MIX). */
  shares: { raw: number; tame: number; fault: number };
  /** The top-up (topup.ts): K domains per aim, domain indices from..to-1 (after the main draw's). */
  topUp: { perAim: number; aims: { aim: string; seed: number; from: number; to: number }[]; from: number; to: number; seconds: number };
  /** Per top-up aim: its domains libvirt answered, and how many it refused with that message. */
  topUpAimsMet: { aim: string; aimed: number; met: number }[];
  causes: { signature: string; domains: number; first: number; diff: string; cases: { name: string; file: string; goldens: string[]; from: number; replay: Replay; shrinks: number; libvirtRuns: number; diff: string; xml: string }[] }[];
  crashKinds: CrashKind[];
  crashCases: CrashCaseReport[];
  crashNotes: string[];
  unstable: { index: number; op: string; run: string; fresh: string }[];
  garbled: { index: number; op: string; libvirt: string; model: string }[];
  /** Disagreements re-run on a fresh daemon as met (recheck.ts), and those that disagreed there too. */
  rechecks: { rerun: number; confirmed: number };
  infra: string[];
  machine: { before: string; after: string };
  restarts: number;
}

export function buildReport(r: ReportInput) {
  const count = (v: Verdict, from = 0, to = r.results.length): number => r.results.slice(from, to).filter((x) => x?.verdict === v).length;
  const generated = r.o.count;
  const topUpDomains = r.topUp.to - r.topUp.from;
  const figures = {
    /** The main draw (--count). */
    generated,
    /** Top-up domains (topup.ts), after the main draw's. */
    topUp: topUpDomains,
    /** Every domain of the run: the denominator of the figures below. */
    domains: generated + topUpDomains,
    /** Both sides gave an answer the rules can compare (agree + disagree). */
    compared: count('agree') + count('disagree'),
    agree: count('agree'),
    disagree: count('disagree'),
    refusedByModel: count('not-modelled'),
    /** Not sent to libvirt on purpose: none since the fuzzer runs a private daemon. */
    keptAway: 0,
    /** Inputs that kill a fresh private libvirtd alone. */
    crashes: count('crash'),
    skipped: count('skip'),
    /** libvirt answered differently on a fresh daemon (and then agreed with the model). */
    unstable: count('unstable'),
    /** libvirt's message cut short, on a fresh daemon too (a libvirt heap bug on that input). */
    garbled: count('garbled'),
  };
  const perOp = Object.fromEntries(OPS.map((op) => [op, Object.fromEntries((['agree', 'disagree', 'not-modelled', 'skip', 'crash'] as const).map((v) => [v, r.results.filter((x) => x?.ops[op] === v).length]))]));
  const table = [...r.errors].sort((a, b) => (b[1][0] + b[1][1] + b[1][2] + b[1][3]) - (a[1][0] + a[1][1] + a[1][2] + a[1][3]) || (a[0] < b[0] ? -1 : 1));
  return {
    seed: r.o.seed, count: r.o.count, jobs: r.o.jobs, write: r.o.write, seconds: r.seconds,
    figures,
    libvirt: {
      /** Domains libvirt answered (argv and xml), of all the run's (figures.domains). */
      answered: r.accepted + r.refused,
      accepted: r.accepted,
      refused: r.refused,
      crashed: figures.crashes,
      refusedByMessage: [...r.refusedBy].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([message, domains]) => ({ message, domains })),
    },
    perOp,
    crashes: { events: r.crashKinds.reduce((s, k) => s + k.events, 0), daemonRestarts: r.restarts, kinds: r.crashKinds, cases: r.crashCases, notes: r.crashNotes },
    unstable: r.unstable,
    garbled: r.garbled,
    rechecks: r.rechecks,
    machineDaemon: { before: r.machine.before, after: r.machine.after, same: r.machine.before === r.machine.after },
    infrastructure: r.infra,
    errors: table.map(([message, [ma, mx, la, lx]]) => ({ message, model: { argv: ma, xml: mx }, libvirt: { argv: la, xml: lx } })),
    shares: r.shares,
    topUp: {
      /** --top-up: domains per aim. */
      domainsPerAim: r.topUp.perAim,
      domains: topUpDomains,
      /** Messages the main draw missed that a fault aims at: the top-up's aims. */
      aims: r.topUp.aims.length,
      seconds: r.topUp.seconds,
      /** Missed by the main draw and not exempt (with a fault or without). */
      missedByMainDraw: missed(r.reachedMain).map((x) => x.template),
      compared: count('agree', r.topUp.from, r.topUp.to) + count('disagree', r.topUp.from, r.topUp.to),
      agree: count('agree', r.topUp.from, r.topUp.to),
      disagree: count('disagree', r.topUp.from, r.topUp.to),
      perAim: r.topUp.aims.map((a) => {
        const met = r.topUpAimsMet.find((x) => x.aim === a.aim);
        const after = r.reached.find((x) => x.template === a.aim);
        return { aim: a.aim, seed: a.seed, domains: a.to - a.from, first: a.from, answered: met?.aimed ?? 0, met: met?.met ?? 0, reached: (after?.libvirt ?? 0) > 0 };
      }),
    },
    /** Faults whose aim is exempt on this host are listed apart and left out of the sums. */
    faults: (() => {
      const exempt = new Set(r.reached.filter((y) => y.exempt).map((y) => y.template));
      const live = r.aims.filter((a) => !exempt.has(a.aim));
      return { aimed: live.reduce((n, a) => n + a.aimed, 0), met: live.reduce((n, a) => n + a.met, 0), perAim: live, exemptAims: r.aims.filter((a) => exempt.has(a.aim)) };
    })(),
    /** The model's error catalogue (reach.ts): per message, model answers and libvirt agreeing. */
    messages: {
      catalogue: r.reached.length,
      reached: r.reached.filter((x) => !x.exempt && x.libvirt > 0).length,
      exempt: r.reached.filter((x) => x.exempt).length,
      missed: missed(r.reached).map((x) => x.template),
      perMessage: r.reached,
      outside: r.outside,
    },
    causes: r.causes,
  };
}

export type Report = ReturnType<typeof buildReport>;

const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');
const of = (a: number, b: number): string => `${a}/${b} (${pct(a, b)})`;

export function formatReport(rep: Report): string {
  const f = rep.figures;
  const s = rep.seconds;
  const p: string[] = [];
  const tu = rep.topUp;
  const domains = `${f.generated} generated + ${f.topUp} top-up domain(s) aimed at ${tu.aims} message(s)`;
  p.push(`fuzz: seed ${rep.seed}, ${domains}, ${rep.jobs} session(s) on a private libvirtd: ${s.total.toFixed(1)} s (generate ${s.generate.toFixed(1)}, model ${s.model.toFixed(1)}, libvirt ${s.libvirt.toFixed(1)}, top-up ${s.topUp.toFixed(1)}, shrink+write ${s.shrink.toFixed(1)})`);
  p.push(`mix: ${rep.shares.raw} raw, ${rep.shares.tame} tamed, ${rep.shares.fault} tamed with one fault aimed at a message (of ${f.generated} generated)`);
  const missedMain = tu.missedByMainDraw.length;
  if (tu.domainsPerAim === 0) p.push(`top-up: off (--top-up 0); the main draw missed ${missedMain} message(s) not exempt`);
  else if (!tu.aims) p.push(`top-up: none needed: the main draw missed ${missedMain} message(s) not exempt${missedMain ? ', none with a fault aimed at it' : ''}`);
  else {
    const answered = tu.perAim.reduce((n, a) => n + a.answered, 0);
    const met = tu.perAim.reduce((n, a) => n + a.met, 0);
    p.push(`top-up: ${f.topUp} tamed domain(s) with one fault, ${tu.domainsPerAim} per message, aimed at the ${tu.aims} message(s) with a fault of the ${missedMain} the main draw missed (not exempt); libvirt said the aim on ${of(met, answered)} it answered; ${tu.perAim.filter((a) => a.reached).length}/${tu.aims} now reached; agreement ${of(tu.agree, tu.compared)} of compared`);
    for (const a of tu.perAim) p.push(`  ${a.reached ? 'reached' : 'MISSED '}: libvirt said it on ${a.met}/${a.answered} answered of #${a.first}..#${a.first + a.domains - 1} (fast-check seed ${a.seed}): ${a.aim}`);
  }
  p.push(`domains ${f.domains} (${domains}): compared ${f.compared}, refused by the model ${of(f.refusedByModel, f.domains)}, kept away ${f.keptAway}, crashes ${f.crashes}, unstable ${f.unstable}, garbled ${f.garbled}, skipped ${f.skipped}`);
  p.push(`agreement: ${of(f.agree, f.compared)} of compared domains; disagree ${f.disagree}`);
  p.push(`re-run on a fresh daemon as met: ${rep.rechecks.rerun} disagreement(s); ${rep.rechecks.confirmed} disagreed there too, the rest unstable, garbled or crashes (after ${CONFIRM_PER_CAUSE} confirmed, a cause's further domains are not re-run)`);
  p.push(`libvirt: accepted ${of(rep.libvirt.accepted, f.domains)} (argv and xml rendered), refused ${of(rep.libvirt.refused, f.domains)}, crashed ${f.crashes}`);
  for (const op of OPS) p.push(`  ${op.padEnd(4)}: ${Object.entries(rep.perOp[op]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  p.push(`machine's libvirtd: ${rep.machineDaemon.same ? 'unchanged' : 'CHANGED'} (${rep.machineDaemon.before} -> ${rep.machineDaemon.after})`);
  for (const i of rep.infrastructure) p.push(`infrastructure: ${i}`);
  for (const g of rep.garbled) p.push(`garbled: #${g.index} ${g.op}: libvirt said '${g.libvirt}' (cut short, on a fresh daemon too), the model '${g.model}'`);
  for (const u of rep.unstable) p.push(`unstable: #${u.index} ${u.op}: libvirt said '${u.run}' in the run, '${u.fresh}' on a fresh daemon (the model's answer)`);
  p.push('');
  p.push(`crashes: ${rep.crashes.events} daemon death(s) of ${rep.crashes.kinds.length} kind(s), ${rep.crashes.daemonRestarts} daemon restart(s) in all`);
  for (const k of rep.crashes.kinds) {
    p.push(`  ${String(k.events).padStart(4)} death(s), ${k.inputs.length} input(s) that crash a fresh daemon alone: ${k.signature}`);
    if (k.inputs.length) p.push(`       inputs: #${k.inputs.slice(0, 10).join(', #')}${k.inputs.length > 10 ? ', …' : ''}`);
    for (const u of k.unattributed.slice(0, 3)) p.push(`       not reproduced alone: in flight #${u.inFlight.join(', #')}; the daemon's last inputs #${u.history.join(', #')}`);
    p.push(`       case(s): ${k.cases.join(', ') || 'none'}`);
  }
  for (const n of rep.crashes.notes) p.push(`  note: ${n}`);
  if (rep.crashes.cases.length) p.push(`crash cases (${rep.crashes.cases.length}):`);
  for (const c of rep.crashes.cases) {
    p.push(`  ${c.status} ${c.file}: inputs #${c.inputs.join(', #')}${c.shrinks !== undefined ? `; ${c.shrinks} shrink step(s), ${c.daemonRuns} daemon run(s), ${c.reproduced ? 'reproduced on a fresh daemon' : 'NOT reproduced on a fresh daemon'}` : ''}`);
    if (c.xml) p.push(c.xml.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
  }
  p.push('');
  p.push(`libvirt refused ${rep.libvirt.refused} domain(s), by its first message (numbers as N):`);
  for (const m of rep.libvirt.refusedByMessage) p.push(`  ${String(m.domains).padStart(5)}  ${m.message}`);
  p.push('');
  p.push(`error messages (${rep.errors.length} distinct; model over all ${f.domains} domains, libvirt over the ${rep.libvirt.answered} it answered):  model argv/xml | libvirt argv/xml`);
  for (const e of rep.errors) p.push(`  ${String(e.model.argv).padStart(5)} ${String(e.model.xml).padStart(5)} | ${String(e.libvirt.argv).padStart(5)} ${String(e.libvirt.xml).padStart(5)}  ${e.message}`);
  const m = rep.messages;
  p.push('');
  p.push(`error messages of the model's catalogue: ${m.reached}/${m.catalogue - m.exempt} reached (said by the model and by libvirt on the same domain; ${m.catalogue - m.exempt - missedMain} by the main draw, ${m.reached - (m.catalogue - m.exempt - missedMain)} by the top-up), ${m.exempt} exempt on this host, ${m.missed.length} missed`);
  const fewest = m.perMessage.filter((y) => !y.exempt && y.libvirt > 0).sort((a, b) => a.libvirt - b.libvirt)[0];
  if (fewest) p.push(`  the least reached: ${fewest.libvirt} answer(s) (argv and xml count apart): ${fewest.template}`);
  for (const x of m.perMessage.filter((y) => !y.exempt && y.libvirt === 0)) p.push(`  MISSED (model ${x.model}, libvirt with it 0): ${x.template}`);
  if (m.outside.length) p.push(`  model messages outside the catalogue (not fail() literals; model answers): ${m.outside.map((o) => `${o.count}× ${o.message}`).join('; ')}`);
  const fa = rep.faults;
  p.push(`  faults (main draw): libvirt said the aimed message for ${of(fa.met, fa.aimed)} of the faulted domains it answered (aims not exempt here); the least effective: ${fa.perAim.slice(0, 3).map((a) => `${a.met}/${a.aimed} ${a.aim}`).join('; ')}`);
  for (const x of m.perMessage.filter((y) => y.exempt)) p.push(`  exempt: ${x.template}\n          (${x.exempt})`);
  p.push('');
  p.push(rep.causes.length ? `disagreements: ${f.disagree} domain(s) of ${rep.causes.length} kind(s)` : 'no disagreements');
  rep.causes.forEach((c, k) => {
    p.push('');
    p.push(`[${k + 1}] ${c.domains} domain(s), first #${c.first}: ${c.signature}`);
    for (const w of c.cases) p.push(`    ${rep.write ? 'wrote' : 'would write'} ${w.file} (shrunk from #${w.from}, ${describeReplay(w.replay)}, ${w.shrinks} shrink step(s), ${w.libvirtRuns} libvirt run(s))`);
    const first = c.cases[0];
    if (first) {
      p.push(`    shrunk input (${first.name}):`);
      p.push(first.xml.trimEnd().split('\n').map((l) => `      ${l}`).join('\n'));
      p.push(first.diff.trimEnd().split('\n').map((l) => `    ${l}`).join('\n'));
    }
  });
  return p.join('\n') + '\n';
}
