import { lastValueFrom, reduce } from 'rxjs';
import { evaluateQuantity, parseQuantity } from '../selection/quantity.js';
import type { SelectionModel } from '../model/model.js';
import { mlpScore } from '../model/score.js';
import { cutColumns, passMask, type CutsFile } from '../selection/cutsFile.js';
import type { EventSource } from '../sources/types.js';

/** Event counts (unweighted) of signal and background, before and after the hard cuts. */
export interface LabelledCounts {
  signal: number;
  background: number;
  signalKept: number;
  backgroundKept: number;
}

/**
 * One streaming pass that counts signal and background events kept by the hard cuts (and the
 * score cut, if any): the efficiencies of the skim.
 */
export async function labelledCounts(source: EventSource, label: string, cuts: CutsFile, model: SelectionModel): Promise<LabelledCounts> {
  const columns = [...new Set([label, ...cutColumns(cuts), ...(cuts.score ? model.features : [])])];
  const start: LabelledCounts = { signal: 0, background: 0, signalKept: 0, backgroundKept: 0 };
  return lastValueFrom(
    source.batches({ columns }).pipe(
      reduce((acc, batch) => {
        const truth = evaluateQuantity(batch, parseQuantity(label));
        const pass = passMask(batch, cuts.cuts);
        // The score cut is on sigmoid(MLP), applied after the hard cuts (cuts.json semantics).
        const score = cuts.score ? mlpScore(model, batch) : undefined;
        for (let i = 0; i < batch.length; i++) {
          const kept = pass[i] === 1 && (!score || score[i] > cuts.score!.value);
          if (truth[i] > 0.5) {
            acc.signal++;
            if (kept) acc.signalKept++;
          } else {
            acc.background++;
            if (kept) acc.backgroundKept++;
          }
        }
        return acc;
      }, start),
    ),
    { defaultValue: start },
  );
}
