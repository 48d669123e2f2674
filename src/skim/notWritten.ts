import { type ColumnType, columnList } from '../sources/types.js';

export function notWrittenWarning(columns: ColumnType[]): string {
  return `not written to the skim: ${columnList(columns)}; a streaming skim (score cut, ROOT or gRPC source) holds numbers, booleans and lists of them only`;
}
