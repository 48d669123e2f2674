import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { setQuietProgress, stopProgress } from '../util/progress.js';
import { Interrupted } from '../util/stopSignal.js';
import { withFsReason } from './fsReason.js';

/**
 * diffskim's command line. Every file in ./commands registers its own subcommand, so a new
 * command is one new file.
 */
const packageJson = join(dirname(fileURLToPath(import.meta.url)), '../../package.json');
const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };

const program = new Command('diffskim')
  .version(version, '-V, --version', 'print the version')
  .description(
    'Learn selection cuts and a classifier together, with a loss that charges for the bytes a skim keeps; then write the hard-cut skim.',
  )
  .option('-q, --quiet', 'no progress output')
  .showHelpAfterError('(run with --help for usage)')
  .hook('preAction', (cmd) => setQuietProgress(Boolean(cmd.opts().quiet)))
  .addHelpText(
    'after',
    `
Examples:
  diffskim run pipelines/toy2d.yaml --out runs/toy2d     train, skim and report (the quick start)
  diffskim skim --cuts runs/toy2d/cuts.json --input data/ --output skims/
  diffskim eval --model runs/toy2d --input new.parquet --out eval/
  diffskim convert events.root events.parquet --tree Events

Progress goes to stderr: a bar on a terminal, JSON lines otherwise. Set DIFFSKIM_DEBUG=1 for stack traces.`,
  );

// Load only the command asked for; none for --version; all of them for the top-level help or an
// unknown name. Registration is cheap: each command loads its heavy modules (DuckDB, TF.js,
// jsroot, Vega) in its action. The commands are .ts files in src/ and .js files in dist/.
const ext = extname(fileURLToPath(import.meta.url));
const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
const available = readdirSync(commandsDir)
  .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
  .sort();
const args = process.argv.slice(2);
const asked = `${args.find((a) => !a.startsWith('-'))}${ext}`;
const versionOnly = args.includes('--version') || args.includes('-V');
for (const file of available.includes(asked) ? [asked] : versionOnly ? [] : available) {
  const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as { register?: (p: Command) => void };
  mod.register?.(program);
}

try {
  await program.parseAsync(process.argv);
} catch (thrown) {
  const e = withFsReason(thrown);
  // A progress bar left on screen would keep the cursor hidden and garble the message.
  stopProgress();
  process.stderr.write(`diffskim: ${e instanceof Interrupted ? '' : 'error: '}${(e as Error).message}\n`);
  if (process.env.DIFFSKIM_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  // A command stopped by a signal exits with 128 + its number (stopOnSignals), else 1.
  process.exit(process.exitCode !== undefined && Number(process.exitCode) > 128 ? process.exitCode : 1);
}
