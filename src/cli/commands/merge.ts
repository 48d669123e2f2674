import { join } from 'node:path';
import type { Command } from 'commander';
import { summaryLines } from '../summary.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description(
      'check that every shard of a sharded skim (skim --shard, submit) is complete, then write DIR/report.json for the whole run',
    )
    .argument('<dir>', 'the --output directory of the sharded skim')
    .action(async (dir: string) => {
      const { mergeShards } = await import('../../skim/shard/merge.js');
      const report = await mergeShards(dir);
      console.log(`merged ${report.shards.length} shard(s): ${report.skimFiles.length} skim file(s)`);
      for (const line of summaryLines(report)) console.log(line);
      console.log(`wrote ${join(dir, 'report.json')}`);
    });
}
