import type { SampleCounts, SampleYield, Significance } from '../eval/sampleYields.js';
import { totalOf } from '../eval/sampleTotals.js';
import type { SkimResult } from '../skim/runSkim.js';

/** One sample's line of report.json: its skim's files and bytes with its events and weighted yields. */
export interface SampleReport extends SampleYield {
  inputs: string[];
  skimFiles: string[];
  /** Input files on disk, skim files on disk, and the difference. */
  bytesIn: number;
  bytesOut: number;
  bytesSaved: number;
}

/** report.json's `samples`: each sample, their total, and the significance after the skim. */
export interface SamplesReport {
  samples: SampleReport[];
  total: Omit<SampleReport, 'name' | 'process' | 'role' | 'inputs' | 'skimFiles'>;
  significance: Significance;
}

/**
 * Joins each sample's skim with its counted yields. The skim and the yields pass count the same
 * events with the same cuts, so their event counts must agree: a difference (an input changed
 * between the passes) is an error naming the sample.
 */
export function samplesReport(counts: SampleCounts, skims: Map<string, SkimResult>): SamplesReport {
  const samples = counts.samples.map((y): SampleReport => {
    const skim = skims.get(y.name);
    if (!skim) throw new Error(`sample '${y.name}': no skim result`);
    if (skim.eventsIn !== y.eventsIn || skim.eventsKept !== y.eventsKept)
      throw new Error(
        `sample '${y.name}': the skim read ${skim.eventsIn} events and kept ${skim.eventsKept}, but counting ` +
          `its yields read ${y.eventsIn} and kept ${y.eventsKept} (were its inputs changed during the run?)`,
      );
    return {
      ...y,
      inputs: skim.inputs,
      skimFiles: skim.skimFiles,
      bytesIn: skim.bytesIn,
      bytesOut: skim.bytesOut,
      bytesSaved: skim.bytesSaved,
    };
  });
  const sum = (k: 'bytesIn' | 'bytesOut' | 'bytesSaved') => samples.reduce((a, s) => a + s[k], 0);
  return {
    samples,
    total: { ...totalOf(samples), bytesIn: sum('bytesIn'), bytesOut: sum('bytesOut'), bytesSaved: sum('bytesSaved') },
    significance: counts.significance,
  };
}
