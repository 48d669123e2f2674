/** Which slice of a run one task does: shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

export function shardName(s: ShardSpec): string {
  return `${s.index}-of-${s.count}`;
}

/** 'I/N' (e.g. '2/8') to a shard spec. */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard '${text}': expected I/N, e.g. 0/4 (I from 0 to N-1)`);
  return checked(Number(m[1]), Number(m[2]), `--shard ${text}`);
}

function parseCount(text: string, where: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new Error(`${where} '${text}': expected a whole number of shards`);
  return Number(text);
}

function checked(index: number, count: number, where: string): ShardSpec {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`${where}: shard count must be at least 1`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new Error(`${where}: shard index ${index} is outside 0..${count - 1} (array indices must run from 0 to N-1)`);
  return { index, count };
}

/**
 * The shard a task should do: `--shard I/N` when given; otherwise the batch system's index,
 * SLURM_ARRAY_TASK_ID or Kubernetes' JOB_COMPLETION_INDEX, with the count from --shard-count,
 * DIFFSKIM_SHARD_COUNT or SLURM_ARRAY_TASK_COUNT (in that order). Null when none is present:
 * an ordinary, unsharded run.
 */
export function resolveShard(
  shard: string | undefined,
  shardCount: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ShardSpec | null {
  if (shard !== undefined) {
    const spec = parseShardSpec(shard);
    if (shardCount !== undefined && parseCount(shardCount, '--shard-count') !== spec.count)
      throw new Error(`--shard ${shard} and --shard-count ${shardCount} disagree on the number of shards`);
    return spec;
  }
  const fromSlurm = env.SLURM_ARRAY_TASK_ID !== undefined;
  const indexText = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
  if (indexText === undefined) {
    if (shardCount !== undefined)
      throw new Error('--shard-count needs a shard index: --shard I/N, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX');
    return null;
  }
  const indexVar = fromSlurm ? 'SLURM_ARRAY_TASK_ID' : 'JOB_COMPLETION_INDEX';
  const [countText, countVar] =
    shardCount !== undefined
      ? [shardCount, '--shard-count']
      : env.DIFFSKIM_SHARD_COUNT !== undefined
        ? [env.DIFFSKIM_SHARD_COUNT, 'DIFFSKIM_SHARD_COUNT']
        : fromSlurm && env.SLURM_ARRAY_TASK_COUNT !== undefined
          ? [env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT']
          : [undefined, ''];
  if (countText === undefined)
    throw new Error(
      `${indexVar} is set but the number of shards is not: pass --shard-count N or set DIFFSKIM_SHARD_COUNT`,
    );
  return checked(
    parseCount(indexText, indexVar),
    parseCount(countText, countVar),
    `${indexVar}=${indexText}, ${countVar}=${countText}`,
  );
}
