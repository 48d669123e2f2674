/**
 * Column names with wildcards, as `skim.keep` and `columns.candidates` take them: `*` any
 * characters, `?` one. The matcher of a name that holds neither is null (the name stands for itself).
 */
export function columnPattern(name: string): RegExp | null {
  if (!/[*?]/.test(name)) return null;
  const escaped = name
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}
