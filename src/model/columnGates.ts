import { sigmoid } from './cuts.js';

/**
 * Column gates: one learnable gate per candidate column, a hard-concrete variable (Louizos,
 * Welling & Kingma 2018, "Learning sparse neural networks through L0 regularization"):
 *
 *   u ~ U(0, 1),  s = sigmoid((log u - log(1 - u) + log alpha) / beta),
 *   z = clamp(s (zeta - gamma) + gamma, 0, 1),   gamma = -0.1, zeta = 1.1
 *
 * The stretch beyond [0, 1] puts a finite probability on z = 0 exactly (the column is gone) and
 * on z = 1 (fully open), P(z != 0) = sigmoid(log alpha - beta log(-gamma / zeta)) is smooth in
 * log alpha, and it is the expected share of the column's bytes the skim keeps: the size term
 * charges P(open) x the column's bytes. Why not a deterministic sigmoid gate: the classifier
 * would scale its first-layer weights up as the gate shrinks, so a half-closed informative gate
 * costs nothing and drifts shut; a sampled gate that is often exactly 0 cannot be compensated.
 *
 * Each classifier input (feature) is multiplied by the gates of the columns it reads (a column
 * read by several features has one gate and is charged once). At the end the choice is hard:
 * a column stays when P(open) >= 1/2, its features scaled by the deterministic test-time gate
 * clamp(sigmoid(log alpha) (zeta - gamma) + gamma, 0, 1); the others are dropped (hardenGates).
 */
export const GATE_LOW = -0.1;
export const GATE_HIGH = 1.1;
/**
 * log alpha = GATE_RATE x the trained parameter: Adam moves a parameter by about the learning
 * rate per step whatever its gradient, and a gate must travel several units of log alpha in the
 * few hundred steps of a run.
 */
export const GATE_RATE = 10;

export interface ColumnGateSpec {
  /** Candidate columns, one gate each. */
  columns: string[];
  logAlpha: number[];
  /** Per classifier feature, the indices of the gates of the columns it reads ([] when ungated). */
  featureGates: number[][];
  /** beta, the relaxation's temperature (annealed from its start to its end value over the epochs). */
  temperature: number;
  /** Seed of the gates' noise (each step draws with the seed and the step number). */
  seed: number;
}

/** The pipeline's gate settings (`columns.gates`). */
export interface GateConfig {
  /** P(open) each gate starts at. */
  init: number;
  temperature: number;
  temperatureEnd?: number;
}

/** log alpha at which P(open) = p. */
export function logAlphaFor(p: number, temperature: number): number {
  return Math.log(p / (1 - p)) + temperature * Math.log(-GATE_LOW / GATE_HIGH);
}

/** P(z != 0): the expected share of the column's bytes kept. */
export function openProbability(logAlpha: number, temperature: number): number {
  return sigmoid(logAlpha - temperature * Math.log(-GATE_LOW / GATE_HIGH));
}

/** The deterministic gate value at test time. */
export function testGate(logAlpha: number): number {
  return Math.min(1, Math.max(0, sigmoid(logAlpha) * (GATE_HIGH - GATE_LOW) + GATE_LOW));
}

/** Whether the column stays at the end: P(open) >= 1/2. */
export function gateKept(logAlpha: number, temperature: number): boolean {
  return openProbability(logAlpha, temperature) >= 0.5;
}

/** The temperature of an epoch (0-based of `epochs`): geometric from temperature to temperatureEnd. */
export function gateTemperature(config: GateConfig, epoch: number, epochs: number): number {
  if (config.temperatureEnd === undefined) return config.temperature;
  const t = epochs > 1 ? epoch / (epochs - 1) : 1;
  return config.temperature * Math.pow(config.temperatureEnd / config.temperature, t);
}

/**
 * What each classifier input is multiplied by with the hard choice made: the product of its
 * columns' test-time gates, 0 where one of them is dropped. 1 for every feature without gates.
 */
export function featureScales(features: string[], gates: ColumnGateSpec | undefined): number[] {
  if (!gates) return features.map(() => 1);
  const value = gates.logAlpha.map((a) => (gateKept(a, gates.temperature) ? testGate(a) : 0));
  return gates.featureGates.map((g) => g.reduce((p, j) => p * value[j], 1));
}

/** The hard choice at the end of training, recorded in the model file. */
export interface ColumnChoice {
  candidates: string[];
  kept: string[];
  dropped: string[];
}
