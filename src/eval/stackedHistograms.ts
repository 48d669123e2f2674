import type { EventBatch } from '../batch/batch.js';
import type { HardCut } from '../selection/cutsFile.js';
import { valuesOf } from '../selection/expr/index.js';
import { binLocator, type CutRange, histogramEdges } from './cutHistograms.js';

/** One process's weighted histogram of a cut variable. */
export interface ProcessHistogram {
  process: string;
  role: 'signal' | 'background';
  /** Sum of event weights per bin (a yield, not unit area). */
  yields: number[];
  /** Sum of squared event weights per bin: the statistical variance of each yield. */
  sumW2: number[];
  /** Weight below the first edge, above the last, and of events with no value (NaN, empty list). */
  underflow: number;
  overflow: number;
  missing: number;
}

/** The weighted histograms of one cut variable, one per process, for a stacked plot. */
export interface StackedDistribution {
  column: string;
  cut: HardCut;
  /** Bin edges (bins + 1). */
  edges: number[];
  /** In the order the processes were first seen. */
  processes: ProcessHistogram[];
}

interface Filling {
  yields: Float64Array;
  sumW2: Float64Array;
  under: number;
  over: number;
  missing: number;
}

/**
 * Weighted histograms of each cut variable per process, over every event given (before any cut),
 * in bounded memory: fixed bins (histogramEdges) and one pair of arrays per process and variable.
 */
export class StackedHistograms {
  private readonly edges: number[][];
  private readonly byProcess = new Map<string, Filling[]>();

  constructor(private readonly ranges: CutRange[]) {
    this.edges = ranges.map((r) => histogramEdges(r));
  }

  add(batch: EventBatch, process: string, weights: ArrayLike<number>): void {
    let fillings = this.byProcess.get(process);
    if (!fillings) {
      fillings = this.edges.map((e) => ({
        yields: new Float64Array(e.length - 1),
        sumW2: new Float64Array(e.length - 1),
        under: 0,
        over: 0,
        missing: 0,
      }));
      this.byProcess.set(process, fillings);
    }
    for (const [j, range] of this.ranges.entries()) {
      const x = valuesOf(batch, range.cut.column);
      const h = fillings[j];
      const n = this.edges[j].length - 1;
      const binOf = binLocator(this.edges[j]);
      for (let i = 0; i < x.length; i++) {
        const w = weights[i];
        if (Number.isNaN(x[i])) h.missing += w;
        else {
          const k = binOf(x[i]);
          if (k < 0) h.under += w;
          else if (k >= n) h.over += w;
          else {
            h.yields[k] += w;
            h.sumW2[k] += w * w;
          }
        }
      }
    }
  }

  /** The histograms, each process with its role. */
  distributions(roles: Map<string, 'signal' | 'background'>): StackedDistribution[] {
    return this.ranges.map((range, j) => ({
      column: range.cut.column,
      cut: range.cut,
      edges: this.edges[j],
      processes: [...this.byProcess].map(([process, fillings]) => ({
        process,
        role: roles.get(process) ?? 'background',
        yields: Array.from(fillings[j].yields),
        sumW2: Array.from(fillings[j].sumW2),
        underflow: fillings[j].under,
        overflow: fillings[j].over,
        missing: fillings[j].missing,
      })),
    }));
  }
}
