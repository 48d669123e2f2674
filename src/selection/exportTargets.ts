/** What `diffskim export` writes cuts.json as (a module of its own: the CLI's help lists them without loading the exporters). */
export const EXPORT_TARGETS = ['sql', 'numpy', 'rdf', 'servicex'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];
