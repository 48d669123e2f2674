import { type HardCut, preselectionCut, THRESHOLD_OPS } from '../selection/cutsFile.js';
import { compileExpr } from '../selection/expr/index.js';
import { WIRE_OP } from '../sources/grpc/codec.js';
import { invalidArgument } from './errors.js';
import type { HardCutMsg } from '../sources/grpc/messages.js';

/** A wire cut as a cuts.json cut; INVALID_ARGUMENT names the cut when it is malformed. */
export function decodeCut(msg: HardCutMsg, index: number): HardCut {
  const where = `cut ${index} ('${msg.column}')`;
  let bool: boolean;
  try {
    bool = compileExpr(msg.column).bool;
  } catch (e) {
    throw invalidArgument(`${where}: ${(e as Error).message}`);
  }
  const finite = (v: number | undefined, name: string) => {
    if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgument(`${where}: ${name} is not a number`);
    return v;
  };
  const op = THRESHOLD_OPS.find((o) => WIRE_OP[o] === msg.op);
  if (op) return { column: msg.column, op, value: finite(msg.value, 'value') };
  switch (msg.op) {
    case 'BETWEEN': {
      const low = finite(msg.low, 'low');
      const high = finite(msg.high, 'high');
      if (!(low < high)) throw invalidArgument(`${where}: low (${low}) must be below high (${high})`);
      return { column: msg.column, op: 'between', low, high };
    }
    case 'PASSES':
      if (!bool) throw invalidArgument(`${where}: PASSES takes a condition (a comparison, &&, ||, any, all)`);
      return preselectionCut(msg.column);
    default:
      throw invalidArgument(
        `${where}: op must be one of ${[...Object.values(WIRE_OP), 'BETWEEN', 'PASSES'].join(', ')}`,
      );
  }
}
