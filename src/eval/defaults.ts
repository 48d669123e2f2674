/** Signal efficiencies at which an evaluation reports the score threshold, by default. */
export const DEFAULT_EFFICIENCIES = [0.5, 0.7, 0.9];
