import type { SampleYield } from './sampleYields.js';

/**
 * The totals of several samples' yields (the report's last row). Apart from sampleYields.ts, which
 * reads events, so that the command line's summaries load no reader.
 */
export function totalOf(samples: SampleYield[]): Omit<SampleYield, 'name' | 'process' | 'role'> {
  const sum = (k: keyof SampleYield) => samples.reduce((a, s) => a + (s[k] as number), 0);
  const yieldIn = sum('yieldIn');
  const yieldKept = sum('yieldKept');
  return {
    eventsIn: sum('eventsIn'),
    eventsKept: sum('eventsKept'),
    eventsCut: sum('eventsCut'),
    yieldIn,
    sumW2In: sum('sumW2In'),
    yieldKept,
    sumW2Kept: sum('sumW2Kept'),
    efficiency: yieldIn !== 0 ? yieldKept / yieldIn : NaN,
  };
}
