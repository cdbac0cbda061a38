// The full command line through commander: help, usage errors in commander's words, and the
// runtime command. main.ts comes here only for what fast-args.ts does not take.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, parseJobs } from './fast-args.js';

function build(): Command {
  const program = new Command();
  program
    .name('libvirt-harness')
    .description('Model and real libvirt 9.0.0 side by side for NUMA tuning (xml2argv, xml2xml)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  for (const [op, summary] of [
    ['argv', "print the QEMU command line in libvirt's .args layout (xml2argv)"],
    ['xml', 'print the canonical inactive XML, as virsh define + dumpxml --inactive (xml2xml)'],
  ] as const) {
    program
      .command(op)
      .description(`${summary}; several files (or a directory, or a glob): each result under a "==> FILE <==" line, errors as "FILE: message"`)
      .argument('<file...>', 'domain XML files, directories (their *.xml) or globs')
      .addOption(new Option('--profile <name>', 'capability profile: nocaps, nocaps+FLAG,…, x86_64-latest, x86_64-5.2.0, host').default(DEFAULTS.profile))
      .addOption(new Option('--impl <impl>', 'model (TypeScript) or libvirt (the real virsh/libvirtd)').choices(['model', 'libvirt']).default(DEFAULTS.impl))
      .addOption(new Option('--jobs <n>', 'virsh sessions at once for --impl libvirt').default(DEFAULTS.jobs).argParser((v) => {
        const n = parseJobs(v);
        if (n === null) throw new InvalidArgumentError('a positive integer is wanted.');
        return n;
      }))
      .addOption(new Option('--host <host>', 'where the real libvirt runs: this machine, or an emulated multi-node host (a VM): emulated (libvirt 9.0.0), sid (Debian sid: libvirt 12.8, QEMU 11.1, kernel 7.2)').choices(['host', 'emulated', 'sid']).default('host'))
      .option('--topology <name>', 'emulated host topology (harness/emulated/topologies/)', 'mock8')
      .option('--uri <uri>', 'libvirt connection for --impl libvirt (default qemu:///system; e.g. a series build\'s private daemon)')
      .action(async (files: string[], opts: { profile: string; impl: 'model' | 'libvirt'; jobs: number; host: string; topology: string; uri?: string }) => {
        const { host, topology, ...rest } = opts;
        if (host === 'emulated' || host === 'sid' || rest.profile === 'emulated' || rest.profile === 'sid') {
          const em = await import('../emulated/cli.js');
          const image = host === 'sid' || (host === 'host' && rest.profile === 'sid') ? 'sid' : 'emulated';
          rest.profile = em.emulatedProfile(rest.profile, topology, image)!;
          if (host !== 'host' && rest.impl === 'libvirt') {
            await em.runInEmulated(op, files, ['--impl', 'libvirt'], { topology, profile: rest.profile, image });
          }
        }
        // Loaded here, not at the top: help and usage errors need none of the model.
        const { runFiles } = await import('./run-files.js');
        process.exit(await runFiles({ op, files, ...rest }));
      });
  }

  program
    .command('runtime')
    .description('start the domain paused under the real libvirt, read what QEMU and the kernel did with its memory, compare with the model; several files: each result under a "==> FILE <==" line, errors as "FILE: message", the worst exit status')
    .argument('<file...>', 'domain XML files')
    .option('--json', 'print {"expected", "observed", "match"} as JSON (default: a summary and the diff)')
    .addOption(new Option('--profile <name>', 'profile for the prediction').default('host'))
    .option('--expect <file>', 'predict from this XML instead of FILE (e.g. the original of a modified copy)')
    .addOption(new Option('--accel <mode>', 'accelerator: auto (KVM when a paused KVM guest starts, else TCG), kvm, tcg').choices(['auto', 'kvm', 'tcg']).default('auto'))
    .addOption(new Option('--jobs <n>', 'guests at once for several files').default(1).argParser((v) => {
      const n = parseJobs(v);
      if (n === null) throw new InvalidArgumentError('a positive integer is wanted.');
      return n;
    }))
    .addOption(new Option('--host <host>', 'start the guest on this machine or inside an emulated multi-node host (a VM): emulated (libvirt 9.0.0), sid (libvirt 12.8)').choices(['host', 'emulated', 'sid']).default('host'))
    .option('--topology <name>', 'emulated host topology (harness/emulated/topologies/)', 'mock8')
    .option('--kernel <version>', "emulated host kernel (6.1 or 6.12 from the image, 7.2 from scripts/build-emulated-kernels.sh; default: the topology's, 7.2 for --host sid)")
    .option('--uri <uri>', 'libvirt connection (default qemu:///system; e.g. a series build\'s private daemon)')
    .action(async (files: string[], opts: { json?: boolean; profile: string; expect?: string; accel: 'auto' | 'kvm' | 'tcg'; jobs: number; host: string; topology: string; kernel?: string; uri?: string }) => {
      if (opts.host === 'emulated' || opts.host === 'sid') {
        // The same command runs inside, against the libvirt there (TCG: no KVM in the VM).
        const { runInEmulated } = await import('../emulated/cli.js');
        await runInEmulated('runtime', files, [...(opts.json ? ['--json'] : []), '--accel', 'tcg', '--jobs', String(opts.jobs)], { topology: opts.topology, kernel: opts.kernel, profile: opts.profile, image: opts.host }, opts.expect ? { '--expect': opts.expect } : {});
      }
      // exit 0: observation matches the prediction; 1: it does not (or an input could not be
      // read or predicted); 2: the guest could not be started (libvirt's reason, or why the
      // runtime backend cannot run here) on stderr.
      const { runtimeCommand } = await import('./runtime-command.js');
      await runtimeCommand(files, opts);
    });
  program
    .command('merge-reports')
    .description('fold the summaries of shard runs (npm test -- --shard I/N --summary-json F) into one JUnit file and one summary')
    .argument('<summary...>', 'summary JSON files of the shards')
    .option('--junit <file>', 'write the merged JUnit XML here')
    .option('--summary-json <file>', 'write the merged summary here')
    .option('--html <file>', 'write the merged self-contained HTML report here')
    .action(async (files: string[], opts: { junit?: string; summaryJson?: string; html?: string }) => {
      const { mergeReports } = await import('../reporters/merge.js');
      try {
        process.exit(mergeReports(files, opts));
      } catch (e) {
        process.stderr.write(`merge-reports: ${(e as Error).message.split('\n')[0]}\n`);
        process.exit(2);
      }
    });
  program
    .command('probe')
    .description('probe the libvirt inside an emulated host into .cache/profiles/emulated-TOPOLOGY.json (emulated-sid-TOPOLOGY.json for sid): the --profile emulated (sid) facts')
    .addOption(new Option('--host <host>', 'only emulated hosts are probed here (the machine: node scripts/probe-host.mjs)').choices(['emulated', 'sid']).makeOptionMandatory())
    .option('--topology <name>', 'emulated host topology', 'mock8')
    .option('--kernel <version>', 'emulated host kernel')
    .action(async (opts: { host: 'emulated' | 'sid'; topology: string; kernel?: string }) => {
      const { probeEmulated } = await import('../emulated/cli.js');
      await probeEmulated({ topology: opts.topology, kernel: opts.kernel, image: opts.host });
    });
  return program;
}

export async function runProgram(argv: string[]): Promise<void> {
  await build().parseAsync(argv).catch((e: unknown) => {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; anything else commander rejects is a usage error.
      process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2);
    }
    throw e;
  });
}
