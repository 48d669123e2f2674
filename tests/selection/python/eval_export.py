"""Evaluates exported cut expressions with numpy, as an analyst's Python would.

Usage: eval_export.py INPUT.json   (INPUT: {"columns": {name: {"list": bool, "values": [...]}},
"numpy": [expr...], "uproot": [expr or null...]}); prints the ids each selects:
{"numpy": [[id...]...], "uproot": [...]}.

awkward is not installed here, so `ak` is a stand-in with the semantics awkward documents for the
few functions the exports use: num and any (axis=1), fill_none, and slicing list[:, :n]. A missing
value (awkward's None) is a masked entry. Flat nulls are NaN, as the numpy target asks.
"""
import json
import sys
import types

import numpy as np


class Jagged:
    """A list column: offsets into values, and which lists are not null."""

    def __init__(self, offsets, values, valid):
        self.offsets, self.values, self.valid = offsets, values, valid

    def counts(self):
        return np.diff(self.offsets)

    def __getitem__(self, key):
        rows, inner = key
        assert rows == slice(None) and inner.start is None and inner.step is None, key
        counts = np.minimum(self.counts(), inner.stop)
        starts = np.repeat(self.offsets[:-1], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return Jagged(np.concatenate([[0], np.cumsum(counts)]), self.values[starts + within], self.valid)

    def _apply(self, other, f):
        values = f(self.values, other.values if isinstance(other, Jagged) else other)
        return Jagged(self.offsets, values, self.valid)

    def __gt__(self, other):
        return self._apply(other, np.greater)

    def __lt__(self, other):
        return self._apply(other, np.less)

    def __and__(self, other):
        return self._apply(other, np.logical_and)


def num(j, axis=1):
    assert axis == 1
    return np.ma.masked_array(j.counts(), mask=~j.valid)


def any_(j, axis=1):
    assert axis == 1
    out = np.zeros(len(j.valid), dtype=bool)
    np.logical_or.at(out, np.repeat(np.arange(len(j.valid)), j.counts()), j.values.astype(bool))
    return np.ma.masked_array(out, mask=~j.valid)


def fill_none(x, value):
    return np.ma.filled(x, value) if isinstance(x, np.ma.MaskedArray) else x


ak = types.SimpleNamespace(num=num, any=any_, fill_none=fill_none)


def column(spec):
    values = spec['values']
    if not spec['list']:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    lists = [v or [] for v in values]
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in lists])]).astype(np.int64)
    flat = np.array([np.nan if x is None else x for v in lists for x in v], dtype=np.float64)
    return Jagged(offsets, flat, np.array([v is not None for v in values]))


data = json.load(open(sys.argv[1]))
ev = {name: column(values) for name, values in data['columns'].items()}
ids = ev['id'].astype(np.int64)


def selected(mask):
    return ids[np.broadcast_to(np.asarray(mask, dtype=bool), ids.shape)].tolist()


out = {'numpy': [], 'uproot': []}
for expr in data['numpy']:
    out['numpy'].append(selected(eval(expr, {'np': np, 'ak': ak, 'ev': ev})))
# uproot's language: branch names as variables, get(name) for any name, numpy's abs, awkward's
# num and any; the cut keeps the events where it is not 0.
uproot_scope = {'abs': np.absolute, 'num': num, 'any': any_, 'get': ev.__getitem__, **ev}
for expr in data['uproot']:
    # A request without a cut delivers every event.
    out['uproot'].append(selected(True if expr is None else eval(expr, dict(uproot_scope)) != 0))
print(json.dumps(out))
