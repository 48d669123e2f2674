/**
 * Writes schemas/cuts.schema.json from cuts.json's zod schema (src/selection/cutsFile.ts), the one
 * definition of the format, formatted as the repository's Prettier settings say;
 * tests/selection/cutsSchema.test.ts fails when the file is out of date.
 *
 *   npx tsx scripts/gen-cuts-schema.ts
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { cutsFileJsonSchema } from '../src/selection/cutsFile.js';

const path = fileURLToPath(new URL('../schemas/cuts.schema.json', import.meta.url));
const options = { ...(await resolveConfig(path)), filepath: path };
await writeFile(path, await format(JSON.stringify(cutsFileJsonSchema()), options));
console.log(`wrote ${path}`);
