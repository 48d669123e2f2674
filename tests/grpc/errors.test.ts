import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { toStatus } from '../../src/grpc/errors.js';
import { InputError } from '../../src/sources/inputError.js';

describe('input errors as gRPC statuses', () => {
  it('unreadable is DATA_LOSS, incompatible INVALID_ARGUMENT, changed while read ABORTED (a retry may succeed)', () => {
    const code = (kind: InputError['kind']) => toStatus(new InputError(kind, `a.parquet: ${kind}`)).code;
    expect([code('unreadable'), code('incompatible'), code('changed')]).toEqual([
      status.DATA_LOSS,
      status.INVALID_ARGUMENT,
      status.ABORTED,
    ]);
  });
});
