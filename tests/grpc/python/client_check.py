"""Drives clients/python's diffskim_client against a server; prints what it got as JSON.

Usage: client_check.py SPEC.json, SPEC: {"address", "token", "tls_cert" (a PEM path or null),
"calls": [{"op": "describe"|"stream"|"skim"|"evaluate", ...arguments}]}. Each call's result is a
summary computed with numpy: for a stream, events and per column the sum and the count of
non-null values (a list column: of its counts, its values and its non-null lists).
"""
import json
import pathlib
import sys

import grpc
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / 'clients' / 'python'))
from diffskim_client import Client, ListColumn  # noqa: E402


def summarize(batches):
    out = {'events': 0, 'batches': 0, 'columns': {}}
    for batch in batches:
        out['batches'] += 1
        out['events'] += len(next(iter(batch.values())))
        for name, col in batch.items():
            s = out['columns'].setdefault(name, {'sum': 0.0, 'valid': 0})
            if isinstance(col, ListColumn):
                valid = np.ones(len(col), bool) if col.valid is None else col.valid
                assert (col.counts[~valid] == 0).all()
                s['sum'] += float(col.values.astype(np.float64).sum())
                s['valid'] += int(valid.sum())
                s['count_sum'] = s.get('count_sum', 0) + int(col.counts.sum())
            else:
                s['sum'] += float(np.ma.sum(col.astype(np.float64)) or 0)
                s['valid'] += int(np.ma.count(col))
    return out


def run(client, call):
    op = call.pop('op')
    if op == 'describe':
        return client.describe(**call)
    if op == 'stream':
        return summarize(client.stream(**call))
    if op == 'skim':
        return client.skim(**call)
    if op == 'evaluate':
        # The test server's model scores x * 0.5: checked here against numpy's own product.
        batches = [{'x': np.arange(n, dtype=np.float64) - 7.25} for n in call['sizes']]
        scores = list(client.evaluate(batches))
        errors = [np.abs(s - (b['x'] * 0.5).astype(np.float32)).max() for s, b in zip(scores, batches)]
        return {'lengths': [len(s) for s in scores], 'max_error': float(max(errors))}
    raise ValueError(op)


spec = json.load(open(sys.argv[1]))
tls = pathlib.Path(spec['tls_cert']).read_bytes() if spec.get('tls_cert') else False
results = []
server_name = 'localhost' if tls else None
with Client(spec['address'], token=spec.get('token'), tls=tls, server_name=server_name, timeout=120) as c:
    for call in spec['calls']:
        try:
            results.append(run(c, call))
        except grpc.RpcError as e:
            results.append({'code': e.code().name, 'details': e.details()})
        except ValueError as e:  # refused by the client before any call
            results.append({'error': str(e)})
        except ConnectionError as e:  # a stream that did not bring every event the server sent
            results.append({'incomplete': str(e)})
print(json.dumps(results))
