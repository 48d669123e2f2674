/**
 * A multi-sample NanoAOD-like dataset, deterministic for a seed (scripts/gen-samples.ts writes it;
 * a pipeline's `generate:` key too, on first use):
 *
 *   OUT/<process>/nano_<k>.parquet   events (the same basenames in every sample)
 *   OUT/<process>.runs.parquet       NanoAOD's Runs table: one row per file (genEventCount,
 *                                    genEventSumw, genEventSumw2), beside the folder so that the
 *                                    folder holds events only
 *   OUT/samples.yaml                 each sample: role, cross-section (pb), inputs, sums; luminosity
 *                                    (written last: a folder with it is complete)
 *
 * Processes: ttH (signal), ttbar, W+jets (NLO: ~10 % negative genWeight) and QCD (LO, weight 1).
 * Columns as in NanoAOD: run, luminosityBlock, event, genWeight, PV_npvs, MET_pt, MET_phi, nJet,
 * Jet_pt/eta/phi/mass/btagDeepFlavB (lists, pT-ordered), Jet_hadronFlavour, nMuon, Muon_pt/eta/phi/
 * pfRelIso04_all/charge, nElectron, Electron_pt/eta/phi/charge, HLT_IsoMu24, HLT_Ele32_WPTight_Gsf,
 * HLT_PFHT1050. The signal has more jets, a higher HT and two or more b-tagged jets.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { stringify } from 'yaml';
import { type EventBatch, makeBatch } from '../batch/batch.js';
import type { DType } from '../batch/schema.js';
import { parquetSink } from '../sinks/parquetSink.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { normalSampler, seededRandom } from '../util/random.js';

export interface Process {
  name: string;
  role: 'signal' | 'background';
  /** pb, 13 TeV: ttH and ttbar from the LHC Higgs / top working groups, W+jets (W -> l nu) NNLO, QCD HT 500-700 LO. */
  crossSection: number;
  generator: string;
  /** Share of events with a negative genWeight (NLO matching); 0 for LO. */
  negativeWeights: number;
  /** Jets: at least `minJets`, Poisson beyond with mean `extraJets`; pT = 20 GeV + exponential of `jetPt` GeV. */
  minJets: number;
  extraJets: number;
  jetPt: number;
  /** b jets among them (before the limit of the jets there are). */
  bJets: (random: () => number) => number;
  /** Prompt leptons (from W decays): probability of one, of two. */
  oneLepton: number;
  twoLeptons: number;
  /** Width (GeV) of the MET resolution per component, on top of the neutrinos. */
  metResolution: number;
}

const bernoulli = (random: () => number, p: number) => (random() < p ? 1 : 0);

export const PROCESSES: Process[] = [
  {
    name: 'ttH',
    role: 'signal',
    crossSection: 0.5071,
    generator: 'aMC@NLO-like',
    negativeWeights: 0.1,
    minJets: 4,
    extraJets: 2.2,
    jetPt: 60,
    bJets: (r) => 2 + bernoulli(r, 0.58) * 2,
    oneLepton: 0.44,
    twoLeptons: 0.1,
    metResolution: 20,
  },
  {
    name: 'ttbar',
    role: 'background',
    crossSection: 831.76,
    generator: 'aMC@NLO-like',
    negativeWeights: 0.1,
    minJets: 2,
    extraJets: 2,
    jetPt: 45,
    bJets: (r) => 1 + bernoulli(r, 0.85),
    oneLepton: 0.44,
    twoLeptons: 0.1,
    metResolution: 18,
  },
  {
    name: 'WJets',
    role: 'background',
    crossSection: 61526.7,
    generator: 'aMC@NLO-like',
    negativeWeights: 0.12,
    minJets: 0,
    extraJets: 1.3,
    jetPt: 30,
    bJets: (r) => bernoulli(r, 0.05),
    oneLepton: 0.67,
    twoLeptons: 0,
    metResolution: 15,
  },
  {
    name: 'QCD_HT500to700',
    role: 'background',
    crossSection: 31630,
    generator: 'MadGraph-LO-like',
    negativeWeights: 0,
    minJets: 2,
    extraJets: 2.5,
    jetPt: 90,
    bJets: (r) => bernoulli(r, 0.12),
    oneLepton: 0,
    twoLeptons: 0,
    metResolution: 25,
  },
];

/** Integrated luminosity (fb^-1) written into samples.yaml: CMS 2018. */
export const LUMINOSITY = 59.7;

export interface GenOptions {
  files: number;
  eventsPerFile: number;
  seed: number;
}

export interface SampleSums {
  name: string;
  files: string[];
  genEventCount: number;
  genEventSumw: number;
  genEventSumw2: number;
}

const TYPES: Record<string, DType> = {
  run: 'uint32',
  luminosityBlock: 'uint32',
  event: 'int64',
  genWeight: 'float32',
  PV_npvs: 'int32',
  MET_pt: 'float32',
  MET_phi: 'float32',
  nJet: 'int32',
  Jet_pt: 'float32',
  Jet_eta: 'float32',
  Jet_phi: 'float32',
  Jet_mass: 'float32',
  Jet_btagDeepFlavB: 'float32',
  Jet_hadronFlavour: 'int32',
  nMuon: 'int32',
  Muon_pt: 'float32',
  Muon_eta: 'float32',
  Muon_phi: 'float32',
  Muon_pfRelIso04_all: 'float32',
  Muon_charge: 'int32',
  nElectron: 'int32',
  Electron_pt: 'float32',
  Electron_eta: 'float32',
  Electron_phi: 'float32',
  Electron_charge: 'int32',
  HLT_IsoMu24: 'bool',
  HLT_Ele32_WPTight_Gsf: 'bool',
  HLT_PFHT1050: 'bool',
};

/** Growing list columns: per event, push values then close(). */
class Lists {
  readonly offsets: Int32Array;
  private readonly values: Record<string, number[]> = {};
  private event = 0;

  constructor(
    n: number,
    readonly names: string[],
  ) {
    this.offsets = new Int32Array(n + 1);
    for (const name of names) this.values[name] = [];
  }

  push(row: Record<string, number>): void {
    for (const name of this.names) this.values[name].push(row[name]);
  }

  close(): void {
    this.offsets[++this.event] = this.values[this.names[0]].length;
  }

  columns(): Record<string, { offsets: Int32Array; values: Float32Array | Int32Array }> {
    const array = (name: string) => (TYPES[name] === 'int32' ? Int32Array : Float32Array).from(this.values[name]);
    return Object.fromEntries(this.names.map((name) => [name, { offsets: this.offsets, values: array(name) }]));
  }
}

/** One file's events of a process, as one batch per `batchRows`. */
export function* processEvents(p: Process, file: number, o: GenOptions, batchRows = 8192): Generator<EventBatch> {
  const random = seededRandom(`gen-samples:${o.seed}:${p.name}:${file}`);
  const normal = normalSampler(random);
  const expo = (mean: number) => -mean * Math.log(1 - random());
  const phi = () => Math.PI * (2 * random() - 1);
  const poisson = (mean: number) => {
    let [k, t] = [0, random()];
    for (const limit = Math.exp(-mean); t > limit; k++) t *= random();
    return k;
  };
  /** Normal within |eta| < max (the tracker's acceptance). */
  const eta = (width: number, max: number) => {
    for (;;) {
      const x = width * normal();
      if (Math.abs(x) < max) return x;
    }
  };
  for (let start = 0; start < o.eventsPerFile; start += batchRows) {
    const n = Math.min(batchRows, o.eventsPerFile - start);
    const flat = Object.fromEntries(
      ['run', 'luminosityBlock', 'genWeight', 'PV_npvs', 'MET_pt', 'MET_phi', 'nJet', 'nMuon', 'nElectron'].map((c) => [
        c,
        new Float64Array(n),
      ]),
    );
    const event = new BigInt64Array(n);
    const triggers = {
      HLT_IsoMu24: new Uint8Array(n),
      HLT_Ele32_WPTight_Gsf: new Uint8Array(n),
      HLT_PFHT1050: new Uint8Array(n),
    };
    const jets = new Lists(n, ['Jet_pt', 'Jet_eta', 'Jet_phi', 'Jet_mass', 'Jet_btagDeepFlavB', 'Jet_hadronFlavour']);
    const muons = new Lists(n, ['Muon_pt', 'Muon_eta', 'Muon_phi', 'Muon_pfRelIso04_all', 'Muon_charge']);
    const electrons = new Lists(n, ['Electron_pt', 'Electron_eta', 'Electron_phi', 'Electron_charge']);
    for (let i = 0; i < n; i++) {
      const index = file * o.eventsPerFile + start + i;
      flat.run[i] = 1;
      flat.luminosityBlock[i] = 1 + Math.floor(index / 1000);
      event[i] = BigInt(index + 1);
      // NLO: one weight magnitude per event up to a few per cent, a sign from the matching.
      flat.genWeight[i] = p.negativeWeights > 0 ? (random() < p.negativeWeights ? -1 : 1) * (1 + 0.02 * normal()) : 1;
      flat.PV_npvs[i] = Math.max(1, Math.round(30 + 8 * normal()));

      const nJet = p.minJets + poisson(p.extraJets);
      const nB = Math.min(nJet, p.bJets(random));
      const pts = Array.from({ length: nJet }, () => 20 + expo(p.jetPt)).sort((a, b) => b - a);
      // Which jets are b jets: any, at random (b jets are not always the leading ones).
      const isB = pts.map((_, k) => k < nB);
      for (let k = isB.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1));
        [isB[k], isB[j]] = [isB[j], isB[k]];
      }
      let ht = 0;
      pts.forEach((pt, k) => {
        ht += pt;
        const btag = isB[k] ? 1 - 0.6 * random() ** 2 : 0.4 * random() ** 4;
        jets.push({
          Jet_pt: pt,
          Jet_eta: eta(1.4, 2.4),
          Jet_phi: phi(),
          Jet_mass: pt * (0.08 + 0.1 * random()),
          Jet_btagDeepFlavB: btag,
          Jet_hadronFlavour: isB[k] ? 5 : 0,
        });
      });
      jets.close();

      // Prompt leptons from W decays (a neutrino each), muon or electron alike;
      // without one, a soft non-prompt muon (from a b decay) now and then.
      const u = random();
      const prompt = u < p.twoLeptons ? 2 : u < p.twoLeptons + p.oneLepton ? 1 : 0;
      let [metX, metY] = [p.metResolution * normal(), p.metResolution * normal()];
      let [nMu, nEle, isoMu, ele32] = [0, 0, false, false];
      for (let l = 0; l < prompt; l++) {
        const pt = 15 + expo(35);
        const charge = random() < 0.5 ? -1 : 1;
        if (random() < 0.5) {
          const iso = expo(0.04);
          muons.push({
            Muon_pt: pt,
            Muon_eta: eta(1.2, 2.4),
            Muon_phi: phi(),
            Muon_pfRelIso04_all: iso,
            Muon_charge: charge,
          });
          isoMu ||= pt > 24 && iso < 0.15 && random() < 0.92;
          nMu++;
        } else {
          electrons.push({
            Electron_pt: pt,
            Electron_eta: eta(1.2, 2.5),
            Electron_phi: phi(),
            Electron_charge: charge,
          });
          ele32 ||= pt > 32 && random() < 0.85;
          nEle++;
        }
        const [nuPt, nuPhi] = [10 + expo(35), phi()];
        metX += nuPt * Math.cos(nuPhi);
        metY += nuPt * Math.sin(nuPhi);
      }
      if (prompt === 0 && random() < 0.03 * nB + 0.02) {
        const pt = 5 + expo(8);
        muons.push({
          Muon_pt: pt,
          Muon_eta: eta(1.2, 2.4),
          Muon_phi: phi(),
          Muon_pfRelIso04_all: 0.2 + expo(0.5),
          Muon_charge: random() < 0.5 ? -1 : 1,
        });
        nMu++;
      }
      muons.close();
      electrons.close();
      [flat.nJet[i], flat.nMuon[i], flat.nElectron[i]] = [nJet, nMu, nEle];
      flat.MET_pt[i] = Math.hypot(metX, metY);
      flat.MET_phi[i] = Math.atan2(metY, metX);
      triggers.HLT_IsoMu24[i] = isoMu ? 1 : 0;
      triggers.HLT_Ele32_WPTight_Gsf[i] = ele32 ? 1 : 0;
      triggers.HLT_PFHT1050[i] = ht > 1050 && random() < 0.98 ? 1 : 0;
    }
    const typed = Object.fromEntries(
      Object.entries(flat).map(([c, v]) => [
        c,
        TYPES[c] === 'float32'
          ? Float32Array.from(v)
          : TYPES[c] === 'uint32'
            ? Uint32Array.from(v)
            : Int32Array.from(v),
      ]),
    );
    const { run, luminosityBlock, genWeight, PV_npvs, MET_pt, MET_phi, nJet, nMuon, nElectron } = typed;
    yield makeBatch(
      {
        run,
        luminosityBlock,
        event,
        genWeight,
        PV_npvs,
        MET_pt,
        MET_phi,
        nJet,
        ...jets.columns(),
        nMuon,
        ...muons.columns(),
        nElectron,
        ...electrons.columns(),
        ...triggers,
      },
      TYPES,
    );
  }
}

/** Writes every sample's files, Runs table and samples.yaml; returns the sums written. */
export async function generateSamples(out: string, o: GenOptions): Promise<SampleSums[]> {
  const sums: SampleSums[] = [];
  for (const p of PROCESSES) {
    await mkdir(join(out, p.name), { recursive: true });
    const runs = {
      file: [] as string[],
      genEventCount: [] as number[],
      genEventSumw: [] as number[],
      genEventSumw2: [] as number[],
    };
    for (let k = 0; k < o.files; k++) {
      const name = `nano_${k + 1}.parquet`;
      // The Runs sums in float64 over the float32 weights as written.
      let [sumw, sumw2] = [0, 0];
      const batches = [...processEvents(p, k, o)];
      for (const b of batches) {
        for (const w of b.columns.genWeight.values as Float32Array) [sumw, sumw2] = [sumw + w, sumw2 + w * w];
      }
      await lastValueFrom(
        from(batches).pipe(parquetSink(join(out, p.name, name), { codec: 'zstd', rowGroupRows: 8192 })),
      );
      runs.file.push(name);
      runs.genEventCount.push(o.eventsPerFile);
      runs.genEventSumw.push(sumw);
      runs.genEventSumw2.push(sumw2);
    }
    await writeRuns(join(out, `${p.name}.runs.parquet`), runs);
    sums.push({
      name: p.name,
      files: runs.file.map((f) => `${p.name}/${f}`),
      genEventCount: runs.genEventCount.reduce((s, x) => s + x, 0),
      genEventSumw: runs.genEventSumw.reduce((s, x) => s + x, 0),
      genEventSumw2: runs.genEventSumw2.reduce((s, x) => s + x, 0),
    });
  }
  await writeFileAtomic(join(out, 'samples.yaml'), samplesYaml(sums, o));
  return sums;
}

/** NanoAOD's Runs tree, one row per file (run 1): the generator sums a normalisation needs. */
async function writeRuns(
  path: string,
  runs: { file: string[]; genEventCount: number[]; genEventSumw: number[]; genEventSumw2: number[] },
) {
  const n = runs.file.length;
  const batch = makeBatch(
    {
      run: new Uint32Array(n).fill(1),
      fileIndex: Int32Array.from(runs.file, (_, k) => k + 1),
      genEventCount: BigInt64Array.from(runs.genEventCount, BigInt),
      genEventSumw: Float64Array.from(runs.genEventSumw),
      genEventSumw2: Float64Array.from(runs.genEventSumw2),
    },
    { run: 'uint32', fileIndex: 'int32', genEventCount: 'int64', genEventSumw: 'float64', genEventSumw2: 'float64' },
  );
  await lastValueFrom(from([batch]).pipe(parquetSink(path)));
}

function samplesYaml(sums: SampleSums[], o: GenOptions): string {
  const header = [
    `# Written by scripts/gen-samples.ts (--files ${o.files} --events ${o.eventsPerFile} --seed ${o.seed}).`,
    '# crossSection in pb (13 TeV), luminosity in fb^-1. Event weight = crossSection x 1000 x luminosity',
    '# x genWeight / genEventSumw. genEventSumw is the sum of genWeight over every event of the sample',
    '# (before any selection), as in <sample>.runs.parquet (NanoAOD Runs: one row per file, fileIndex k',
    '# for nano_k.parquet).',
  ];
  const samples = PROCESSES.map((p) => {
    const s = sums.find((x) => x.name === p.name)!;
    return {
      name: p.name,
      role: p.role,
      crossSection: p.crossSection,
      generator: p.generator,
      inputs: [`${p.name}/`],
      runs: `${p.name}.runs.parquet`,
      genEventCount: s.genEventCount,
      genEventSumw: s.genEventSumw,
    };
  });
  return `${header.join('\n')}\n${stringify({ luminosity: LUMINOSITY, samples })}`;
}
