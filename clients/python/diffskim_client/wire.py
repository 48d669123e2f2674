"""diffskim's columnar wire format (proto/diffskim/v1/batch.proto) to and from numpy.

A column is Arrow's buffers: little-endian values (bools bit-packed, least significant bit
first), int32 offsets for a list column, and a validity bitmap (1 = valid) when a batch has a null.
"""
from dataclasses import dataclass

import numpy as np

from . import protocol as pb

NUMPY_TYPES = {'INT8': '<i1', 'INT16': '<i2', 'INT32': '<i4', 'INT64': '<i8', 'UINT8': '<u1', 'UINT16': '<u2',
               'UINT32': '<u4', 'FLOAT32': '<f4', 'FLOAT64': '<f8'}
DTYPES = {pb.DTYPE[name]: dtype for name, dtype in NUMPY_TYPES.items()}
BOOL = pb.DTYPE['BOOL']
WIRE_TYPES = {np.dtype(dtype): wire for wire, dtype in DTYPES.items()}


@dataclass
class ListColumn:
    """A list column: event i owns values[offsets[i]:offsets[i + 1]]; valid[i] False for a null list.

    `counts` and `values` are what awkward.unflatten takes: ak.unflatten(values, counts), or
    to_awkward() (with awkward installed), which also keeps the nulls.
    """

    offsets: np.ndarray
    values: np.ndarray
    valid: np.ndarray | None = None

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def to_awkward(self):
        import awkward as ak

        lists = ak.unflatten(self.values, self.counts)
        return lists if self.valid is None else ak.mask(lists, self.valid)


def unpack_bits(buffer: bytes, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), count=n, bitorder='little').astype(bool)


def _values(field, buffer: bytes, n: int) -> np.ndarray:
    if field.type == BOOL:
        return unpack_bits(buffer, n)
    if field.type not in DTYPES:
        raise ValueError(f"column '{field.name}': unknown type {field.type}")
    return np.frombuffer(buffer, dtype=DTYPES[field.type], count=n)


def decode_column(field, column, n: int):
    """A column of n events: a numpy array (a masked array when it has nulls), or a ListColumn."""
    valid = unpack_bits(column.validity, n) if column.validity else None
    if not field.list:
        values = _values(field, column.values, n)
        return values if valid is None else np.ma.masked_array(values, mask=~valid)
    offsets = np.frombuffer(column.offsets, dtype='<i4', count=n + 1)
    return ListColumn(offsets, _values(field, column.values, int(offsets[-1])), valid)


def decode_batch(fields, batch) -> dict:
    return {f.name: decode_column(f, c, batch.length) for f, c in zip(fields, batch.columns)}


def encode_batch(columns: dict):
    """Flat numpy columns (numbers or bools) as (Schema, Batch) messages, for Evaluate."""
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f'columns of different lengths: { {k: len(a) for k, a in arrays.items()} }')
    fields, buffers = [], []
    for name, a in arrays.items():
        if a.dtype == np.bool_:
            wire, data = BOOL, np.packbits(a, bitorder='little').tobytes()
        elif a.dtype.newbyteorder('<') in WIRE_TYPES:
            wire, data = WIRE_TYPES[a.dtype.newbyteorder('<')], a.astype(a.dtype.newbyteorder('<')).tobytes()
        else:
            raise ValueError(f"column '{name}': dtype {a.dtype} is not one diffskim sends (numbers or bools)")
        fields.append(pb.Field(name=name, type=wire))
        buffers.append(pb.ColumnBuffers(values=data))
    return pb.Schema(fields=fields), pb.Batch(length=lengths.pop(), columns=buffers)
