"""A streamed batch as a pandas DataFrame or an awkward Array (each used only when installed)."""
from .wire import ListColumn


def to_pandas(batch: dict):
    """A DataFrame: flat columns as they are (nulls as NaN or pandas' NA), list columns as lists."""
    import pandas as pd

    def column(values):
        if isinstance(values, ListColumn):
            lists = [values.values[a:b] for a, b in zip(values.offsets[:-1], values.offsets[1:])]
            return lists if values.valid is None else [v if ok else None for v, ok in zip(lists, values.valid)]
        return values

    return pd.DataFrame({name: column(values) for name, values in batch.items()})


def to_awkward(batch: dict):
    """An awkward record Array, one record per event; list columns are jagged, nulls are None."""
    import awkward as ak

    def column(values):
        return values.to_awkward() if isinstance(values, ListColumn) else ak.Array(values)

    return ak.zip({name: column(values) for name, values in batch.items()}, depth_limit=1)
