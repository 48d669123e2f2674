import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EXPORT_TARGETS, type ExportTarget } from '../../selection/exportTargets.js';

interface ExportFlags {
  to: ExportTarget;
  output?: string;
  withoutScore?: boolean;
  dataset?: string;
  tree?: string;
  branches?: string[];
  name?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description("write cuts.json's hard cuts in another tool's language (docs/export.md)")
    .argument('<cuts>', 'the cuts.json of a run')
    .addOption(
      new Option('--to <target>', 'sql | numpy | rdf | servicex').choices(EXPORT_TARGETS).makeOptionMandatory(),
    )
    .option('-o, --output <file>', 'write to this file (default: stdout)')
    .option(
      '--without-score',
      'drop the classifier score cut, which cannot be exported (the export then keeps more events)',
    )
    .option('--dataset <did>', 'servicex: the Rucio dataset, scope:name')
    .option('--tree <name>', 'servicex: the TTree to read')
    .option(
      '--branches <names...>',
      'servicex: branches to deliver, globs allowed (the branches the cuts read are added)',
    )
    .option('--name <sample>', 'servicex: the sample name', 'diffskim')
    .addHelpText(
      'after',
      `
Examples:
  diffskim export runs/toy2d/cuts.json --to rdf
  diffskim export cuts.json --to servicex --dataset user.me:ttbar --tree Events -o request.yaml`,
    )
    .action(async (path: string, flags: ExportFlags) => {
      if (flags.output && resolve(flags.output) === resolve(path)) {
        throw new Error(`--output ${flags.output} is the cuts file itself; name another file`);
      }
      const [{ readCutsFile }, { exportCuts }, { writeFileAtomic }] = await Promise.all([
        import('../../selection/cutsFile.js'),
        import('../../selection/export.js'),
        import('../../util/atomicWrite.js'),
      ]);
      const cuts = await readCutsFile(path);
      const { dataset, tree, branches, name } = flags;
      const text = exportCuts(cuts, flags.to, {
        withoutScore: flags.withoutScore,
        servicex: { dataset, tree, branches, name },
      });
      if (cuts.score && flags.withoutScore) {
        process.stderr.write(
          `diffskim: dropped the score cut (score > ${cuts.score.value}): the export keeps more events than the skim\n`,
        );
      }
      const out = text.endsWith('\n') ? text : `${text}\n`;
      if (flags.output) await writeFileAtomic(flags.output, out);
      else process.stdout.write(out);
    });
}
