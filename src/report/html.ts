import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { describeCut, type CutFlowRow } from '../eval/cutFlow.js';
import type { EvaluatedSample, Evaluation } from '../eval/evaluate.js';
import { totalOf } from '../eval/sampleTotals.js';
import type { SampleCounts, SampleYield } from '../eval/sampleYields.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { formatBytes } from '../util/formatBytes.js';
import type { SampleReport, SamplesReport } from './samples.js';
import type { EvalProvenance, RunReport } from './types.js';

/** What report.html shows: a run's report, an evaluation, or both, and the plot files to embed. */
export interface ReportPage {
  /** The run's report (report.json of `run`). */
  run?: RunReport;
  /** An evaluation with where it came from (eval.json of `eval`, or of a run). */
  evaluation?: Evaluation & EvalProvenance;
  /** The plot files (PNG) to embed, in order; a relative or missing path is looked for in the folder. */
  plots: string[];
}

/**
 * One self-contained report.html in outDir, rendered from the typed report and evaluation (the
 * caller writes it after their JSON). Plots are embedded as base64 PNG data URIs and there is no
 * script, so the file opens offline and can be mailed around. Written atomically.
 */
export async function writeHtmlReport(outDir: string, page: ReportPage): Promise<string> {
  const dir = resolve(outDir);
  const { run, evaluation } = page;
  if (!run && !evaluation) throw new Error(`${dir}: no report.json or eval.json to make a report from`);
  const samples = run?.samples ?? evaluation?.samples;
  const sections = [
    ...(run ? [runSection(run, evaluation?.sample)] : []),
    ...(samples ? [samplesSection(samples, run?.samples ? 'the skim' : 'the cuts')] : []),
    // On a run's page the skim's bytes are measured (above): the evaluation's estimate is not shown.
    ...(evaluation ? [evalSection(evaluation, !run)] : []),
    await plotsSection(dir, page.plots),
  ];
  const title = `diffskim report: ${basename(dir)}`;
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Folder ${esc(dir)}; written ${esc(new Date().toISOString())}. How to read it: docs/reading-the-report.md.</p>
${sections.join('\n')}
</body>
</html>
`;
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, html);
  return path;
}

/** Which events an evaluation counted, in words. */
function sampleText(sample: EvaluatedSample): string {
  if (sample?.split === 'validation')
    return (
      `the validation split only: ${pct(sample.fraction)} of the input events (seed ${esc(sample.seed)}), ` +
      'which training held out'
    );
  return 'every event of the inputs';
}

function runSection(r: RunReport, sample: EvaluatedSample | undefined): string {
  const where = sample?.split === 'validation' ? ' (validation split)' : '';
  const rows: [string, string][] = [];
  if (r.pipeline) rows.push(['pipeline', esc(r.pipeline)]);
  if (Array.isArray(r.inputs)) rows.push(['inputs', esc(shortList(r.inputs))]);
  if (r.backend)
    rows.push([
      'training backend',
      `${esc(r.backend)}${r.trainingEventsPerSecond ? `, ${num(r.trainingEventsPerSecond, 0)} events/s` : ''}`,
    ]);
  if (typeof r.auc === 'number') rows.push(['AUC (validation)', num(r.auc, 4)]);
  const events: [string, string][] = [
    ['events in', int(r.eventsIn)],
    ['events kept', `${int(r.eventsKept)} (${share(r.eventsKept, r.eventsIn)})`],
  ];
  if (typeof r.keptFractionPredicted === 'number')
    events.push(['kept fraction predicted by the soft cuts', pct(r.keptFractionPredicted)]);
  if (typeof r.signalEfficiency === 'number') {
    events.push([`signal efficiency${where}`, pct(r.signalEfficiency)]);
    events.push([`background efficiency${where}`, pct(r.backgroundEfficiency)]);
  }
  const bytes: [string, string][] = [
    ['bytes in (on disk)', bytesText(r.bytesIn)],
    ['bytes out (skim on disk)', bytesText(r.bytesOut)],
    ['bytes saved', bytesShare(r.bytesSaved, r.bytesIn)],
  ];
  if (typeof r.bytesSavedByRows === 'number')
    bytes.push(
      ['saved by dropping events (estimate)', bytesText(r.bytesSavedByRows)],
      ['saved by dropping columns', bytesText(r.bytesSavedByColumns)],
      ['saved by re-encoding (not the cuts)', bytesText(r.bytesSavedByEncoding)],
    );
  const warnings = r.warnings;
  const columns = r.columns ? columnsSection(r) : '';
  return `<section>
<h2>Training run and skim</h2>
${keyValues(rows)}
${r.cuts ? `<h3>Cuts</h3>\n${cutsTable(r.cuts)}` : ''}
<h3>Events and efficiencies</h3>
${keyValues(events)}
<h3>Bytes</h3>
${keyValues(bytes)}
${columns}
${warnings.length ? `<h3>Warnings</h3>\n<ul class="warn">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</section>`;
}

/** Column selection: predicted (soft, end of training) against actual bytes, and the columns dropped. */
function columnsSection(r: RunReport): string {
  const c = r.columns!;
  const pairs: [string, string][] = [
    ['pinned columns', esc(shortList(c.pinned))],
    ['candidates kept (gate open)', esc(shortList(c.kept))],
    ['skim bytes on disk: predicted / actual', `${bytesText(c.predicted.bytesOut)} / ${bytesText(r.bytesOut)}`],
    [
      'saved by dropping columns: predicted / actual',
      `${bytesText(c.predicted.bytesSavedByColumns)} / ${bytesText(r.bytesSavedByColumns)}`,
    ],
    [
      'saved by dropping events: predicted / actual (estimate)',
      `${bytesText(c.predicted.bytesSavedByRows)} / ${bytesText(r.bytesSavedByRows)}`,
    ],
  ];
  const dropped = c.dropped
    .map((d) => {
      const why = d.candidate ? 'gate closed' : 'not pinned';
      return `<tr><td>${esc(d.column)}</td><td>${bytesText(d.bytes)}</td><td>${why}</td></tr>`;
    })
    .join('');
  return `<h3>Columns</h3>
${keyValues(pairs)}
<table><tr><th>column dropped</th><th>bytes in</th><th>why</th></tr>${dropped}</table>`;
}

/** The per-sample table (with its total) and the significance after the cuts. */
function samplesSection(r: SamplesReport | SampleCounts, after: string): string {
  const withBytes = 'total' in r;
  const total = 'total' in r ? r.total : totalOf(r.samples);
  const head = [
    'sample',
    'process',
    'role',
    'events in',
    'events kept',
    'yield before',
    'yield after',
    'efficiency',
    ...(withBytes ? ['bytes in', 'bytes out', 'bytes saved'] : []),
  ];
  const line = (s: SampleYield & Partial<SampleReport>, name: string[]): string[] => [
    ...name.map(esc),
    int(s.eventsIn),
    int(s.eventsKept),
    yieldText(s.yieldIn, s.sumW2In),
    yieldText(s.yieldKept, s.sumW2Kept),
    pct(s.efficiency),
    ...(withBytes ? [bytesText(s.bytesIn), bytesText(s.bytesOut), bytesShare(s.bytesSaved, s.bytesIn)] : []),
  ];
  const rows = [
    ...r.samples.map((s) => line(s, [s.name, s.process, s.role])),
    line(total as SampleYield, ['total', '', '']),
  ];
  const z = r.significance;
  const sigmaB = z.sigmaB > 0 ? ` (sigma_B ${pct(z.sigmaB)} of B)` : '';
  return `<section>
<h2>Samples</h2>
<p>Yields are weighted (sigma x L x w_gen / sum w_gen x factors; negative weights count negatively), ± sqrt(sum w^2).</p>
${table(head, rows, 'samples')}
<h3>After ${esc(after)}</h3>
${keyValues([
  ['signal S', significant(z.signal)],
  ['background B', significant(z.background)],
  ['S / sqrt(B)', num(z.sOverSqrtB, 4)],
  [`Asimov significance Z_A${sigmaB}`, num(z.asimov, 4)],
])}
</section>`;
}

/** A weighted yield ± its statistical error sqrt(sum w^2). */
function yieldText(y: number, sumW2: number): string {
  return `${significant(y)} ± ${significant(Math.sqrt(sumW2))}`;
}

/** A number to 5 significant digits (yields span from 1e-3 to 1e10). */
function significant(x: number): string {
  return Number.isFinite(x) ? x.toLocaleString('en-US', { maximumSignificantDigits: 5 }) : '–';
}

function evalSection(e: Evaluation & EvalProvenance, withBytes: boolean): string {
  const rows: [string, string][] = [];
  if (e.model) rows.push(['model', esc(e.model)]);
  if (e.cutsFile !== undefined) rows.push(['cuts file', esc(e.cutsFile ?? "(the model's learned cuts, no score cut)")]);
  if (Array.isArray(e.inputs)) rows.push(['inputs', esc(shortList(e.inputs))]);
  rows.push(['events evaluated', `${int(e.events)}: ${sampleText(e.sample)}`]);
  if (e.label) {
    rows.push(
      ['label column', esc(e.label)],
      ['signal / background events', `${int(e.signalEvents)} / ${int(e.backgroundEvents)}`],
    );
    if (e.weight)
      rows.push(
        ['weight column', esc(e.weight)],
        ['signal / background weight', `${num(e.signalWeight, 4)} / ${num(e.backgroundWeight, 4)}`],
      );
    rows.push(['AUC', typeof e.auc === 'number' ? num(e.auc, 4) : 'n/a (needs both classes)']);
  } else rows.push(['label column', 'none given: no efficiencies, ROC or AUC']);
  if (e.friend) rows.push(['friend file (scores)', `${esc(e.friend.path)}, ${int(e.friend.rows)} rows`]);
  if (typeof e.eventsPerSecond === 'number')
    rows.push(['speed', `${num(e.eventsPerSecond, 0)} events/s (${num(e.seconds, 2)} s)`]);
  const s = e.savedCuts ?? {};
  const skim: [string, string][] = [
    ['events kept', `${int(s.eventsKept)} (${pct(s.keptFraction)})`],
    ...(typeof s.signalEfficiency === 'number'
      ? ([
          ['signal efficiency', pct(s.signalEfficiency)],
          ['background efficiency', `${pct(s.backgroundEfficiency)} (rejection ${rejection(s.backgroundEfficiency)})`],
        ] as [string, string][])
      : []),
  ];
  if (withBytes)
    skim.push(
      ['bytes in (on disk)', bytesText(s.bytesIn)],
      ['bytes a skim would keep (estimate)', bytesShare(s.bytesKeptEstimate, s.bytesIn)],
      ['bytes a skim would save (estimate)', bytesShare(s.bytesSavedEstimate, s.bytesIn)],
      ['saved by dropping events (estimate)', bytesText(s.bytesSavedByRowsEstimate)],
      ['saved by dropping columns', bytesText(s.bytesSavedByColumns)],
      ["the input files' own overhead (footers, ROOT keys)", bytesText(s.bytesSavedOverhead)],
    );
  return `<section>
<h2>Evaluation</h2>
${keyValues(rows)}
${s.cuts ? `<h3>Cuts evaluated</h3>\n${cutsTable(s.cuts)}` : ''}
<h3>What a skim with these cuts keeps${e.sample?.split === 'validation' ? ' (validation split)' : ''}</h3>
${keyValues(skim)}
${Array.isArray(e.cutFlow) ? `<h3>Cut flow</h3>\n${cutFlowTable(e.cutFlow, Boolean(e.label))}` : ''}
${Array.isArray(e.workingPoints) && e.workingPoints.length ? `<h3>Working points of the model score</h3>\n${workingPointsTable(e.workingPoints)}` : ''}
</section>`;
}

function cutsTable(cuts: CutsFile): string {
  const rows = cuts.cuts.map((c) => [
    esc(c.column),
    esc(c.op),
    c.op === 'between' ? `${num(c.low, 6)} … ${num(c.high, 6)}` : num(c.value, 6),
    esc(describeCut(c)),
  ]);
  if (cuts.score) rows.push(['model score', '>', num(cuts.score.value, 6), esc(`score > ${cuts.score.value}`)]);
  if (rows.length === 0) return '<p>No cuts: every event is kept.</p>';
  return table(['variable', 'op', 'threshold', 'cut'], rows, 'cuts');
}

function cutFlowTable(flow: CutFlowRow[], labelled: boolean): string {
  const head = [
    'step',
    'events',
    'events kept',
    'bytes kept (est.)',
    ...(labelled ? ['signal eff.', 'background eff.'] : []),
  ];
  const rows = flow.map((r) => [
    esc(r.step),
    int(r.events),
    pct(r.fraction.events),
    pct(r.fraction.bytes),
    ...(labelled ? [pct(r.fraction.signal ?? NaN), pct(r.fraction.background ?? NaN)] : []),
  ]);
  return table(head, rows, 'cutflow');
}

function workingPointsTable(points: Evaluation['workingPoints']): string {
  const rows = points.map((p) => [
    pct(p.targetSignalEfficiency),
    num(p.threshold, 4),
    pct(p.signalEfficiency),
    pct(p.backgroundEfficiency),
    rejection(p.backgroundEfficiency),
    pct(p.keptFraction),
    pct(p.keptBytesFraction),
  ]);
  const head = ['target eps_S', 'score ≥', 'eps_S', 'eps_B', '1/eps_B', 'events kept', 'bytes kept (est.)'];
  return table(head, rows, 'workingpoints');
}

const CAPTIONS: Record<string, string> = {
  loss: 'Loss per epoch: training and validation total, and its classification and size terms.',
  cuts: 'Cut thresholds per epoch: how each learned cut moved during training.',
  kept: 'Kept fraction of events and bytes (soft cuts) and validation AUC per epoch.',
  roc: 'ROC curve: background rejection 1/eps_B against signal efficiency eps_S; red points are the working points.',
  scores: 'Model output for signal and background, each normalised to unit area.',
};

/** The plots report.json and eval.json list (not every PNG in the folder: an earlier eval's may linger there). */
async function plotsSection(dir: string, listed: string[]): Promise<string> {
  const files = listed.map((p) => (isAbsolute(p) && existsSync(p) ? p : join(dir, basename(p))));
  const seen = new Set<string>();
  const figures: string[] = [];
  for (const file of files) {
    if (seen.has(basename(file)) || !existsSync(file)) continue;
    seen.add(basename(file));
    const name = basename(file, '.png');
    const caption =
      CAPTIONS[name] ??
      (/^cut-\d+-/.test(name)
        ? `Distribution of ${name.replace(/^cut-\d+-/, '')} for signal and background, with the cut as a dashed line.`
        : /^stack-\d+-/.test(name)
          ? `Weighted yields of ${name.replace(/^stack-\d+-/, '')} per process over all events: backgrounds stacked ` +
            'with their statistical uncertainty, signal as lines, the cut as a dashed line.'
          : name);
    const data = (await readFile(file)).toString('base64');
    figures.push(
      `<figure><img src="data:image/png;base64,${data}" alt="${esc(name)}"><figcaption>${esc(caption)}</figcaption></figure>`,
    );
  }
  return figures.length
    ? `<section>\n<h2>Plots</h2>\n<div class="plots">\n${figures.join('\n')}\n</div>\n</section>`
    : '';
}

function keyValues(rows: [string, string][]): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

/** A table; cells are already escaped HTML. */
function table(head: string[], rows: string[][], id: string): string {
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function num(x: unknown, digits: number): string {
  return typeof x === 'number' && Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits })
    : '–';
}

function int(x: unknown): string {
  return num(x, 0);
}

/** A fraction as a percentage; small ones keep two significant digits. */
function pct(x: unknown): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  const p = 100 * x;
  return `${p !== 0 && Math.abs(p) < 1 ? p.toPrecision(2) : p.toFixed(1)}%`;
}

function share(x: unknown, of: unknown): string {
  return typeof x === 'number' && typeof of === 'number' && of > 0 ? pct(x / of) : '–';
}

function rejection(effB: unknown): string {
  return typeof effB === 'number' && effB > 0 ? num(1 / effB, 1) : '∞';
}

function bytesText(b: unknown): string {
  return typeof b === 'number' && Number.isFinite(b) ? formatBytes(b) : '–';
}

function bytesShare(b: unknown, of: unknown): string {
  return `${bytesText(b)} (${share(b, of)})`;
}

function shortList(items: string[]): string {
  return items.length <= 3 ? items.join(', ') : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; } h3 { margin-bottom: 0.4em; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; } th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
table.kv th { text-align: left; font-weight: normal; color: #555; background: none; } table.kv td { text-align: left; font-variant-numeric: tabular-nums; }
td { font-variant-numeric: tabular-nums; }
.warn li { color: #a15c00; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; flex: 1 1 480px; max-width: 560px; }
figure img { width: 100%; height: auto; border: 1px solid #eee; } figcaption { font-size: 0.85em; color: #555; }
`;
