"""A client of `diffskim serve` (proto/diffskim/v1/diffskim.proto)."""
import json
from typing import Iterable, Iterator

import grpc
import numpy as np

from . import protocol as pb
from .wire import decode_batch, encode_batch

OPS = {
    '>': pb.CUT_OPS['GREATER'],
    '<': pb.CUT_OPS['LESS'],
    '>=': pb.CUT_OPS['GREATER_EQUAL'],
    '<=': pb.CUT_OPS['LESS_EQUAL'],
    '==': pb.CUT_OPS['EQUAL'],
    'between': pb.CUT_OPS['BETWEEN'],
    'passes': pb.CUT_OPS['PASSES'],
}
# The server keeps messages within gRPC's default 4 MiB, but one very large event may exceed it.
CHANNEL_OPTIONS = [('grpc.max_receive_message_length', 256 * 1024 * 1024)]


def hard_cuts(cuts) -> list:
    """HardCut messages from cuts.json's cuts: [{"column": "x", "op": ">", "value": 1.5}, ...];
    op "passes" keeps the events for which the column, a condition, holds: {"column": "nMuon >= 2", "op": "passes"}."""
    out = []
    for i, cut in enumerate(cuts):
        if cut.get('op') not in OPS:
            raise ValueError(f"cut {i} ({cut.get('column')!r}): op must be one of {list(OPS)}, not {cut.get('op')!r}")
        needs = ('low', 'high') if cut['op'] == 'between' else () if cut['op'] == 'passes' else ('value',)
        if any(key not in cut for key in needs):
            raise ValueError(f"cut {i} ({cut.get('column')!r}): op {cut['op']!r} needs {' and '.join(needs)}")
        out.append(pb.HardCut(column=cut['column'], op=OPS[cut['op']], value=cut.get('value', 0),
                                     low=cut.get('low', 0), high=cut.get('high', 0)))
    return out


class IncompleteStream(ConnectionError):
    """A StreamBatches stream that ended (even with status OK) without all the events the server sent."""


class Client:
    """A channel to one server.

    address: host:port. token: sent as `authorization: Bearer <token>`. tls: True for the system's
    root certificates, or the PEM bytes of the certificate(s) to trust; server_name: the name the
    certificate is for, when it is not the address's host.
    """

    def __init__(self, address: str, token: str | None = None, tls: bool | bytes = False,
                 server_name: str | None = None, timeout: float | None = None):
        options = list(CHANNEL_OPTIONS)
        if tls:
            credentials = grpc.ssl_channel_credentials(root_certificates=None if tls is True else tls)
            if server_name:
                options.append(('grpc.ssl_target_name_override', server_name))
            self._channel = grpc.secure_channel(address, credentials, options)
        else:
            self._channel = grpc.insecure_channel(address, options)
        self._stub = pb.DiffSkimStub(self._channel)
        self._metadata = [('authorization', f'Bearer {token}')] if token else None
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, **kw):
        return method(request, metadata=self._metadata, timeout=kw.get('timeout', self._timeout))

    def describe(self, paths: Iterable[str]) -> dict:
        """Files, schema, rows and bytes of a dataset (files, directories or globs in a data root)."""
        info = self._call(self._stub.Describe, pb.DescribeRequest(paths=list(paths)))
        return {
            'files': [{'path': f.path, 'bytes': f.bytes, 'rows': f.rows, 'row_groups': f.row_groups}
                      for f in info.files],
            'schema': [{'name': f.name, 'type': pb.DTYPE_NAMES[f.type], 'list': f.list,
                        'nullable': f.nullable} for f in info.schema.fields],
            'rows': info.rows,
            'bytes_on_disk': info.bytes_on_disk,
            'column_bytes': dict(info.column_bytes),
            'column_values': dict(info.column_values),
            'unsupported': {u.name: u.type for u in info.unsupported},
        }

    def stream(self, paths: Iterable[str], columns: Iterable[str] = (), where=(), batch_rows: int = 0,
               timeout: float | None = None) -> Iterator[dict]:
        """Batches of the selected events: dicts of column name to a numpy array (masked where a
        column has nulls) or, for a list column, a ListColumn (offsets, values, counts)."""
        request = pb.StreamRequest(paths=list(paths), columns=list(columns), where=hard_cuts(where),
                                             batch_rows=batch_rows)
        fields, events, sent = [], 0, None
        for chunk in self._call(self._stub.StreamBatches, request, timeout=timeout or self._timeout):
            if sent is not None:
                raise IncompleteStream("StreamBatches: a message arrived after the stream's end")
            if chunk.HasField('end'):  # the last message: the events the server sent
                sent = chunk.end.events
            if chunk.HasField('schema'):
                fields = list(chunk.schema.fields)
            if chunk.HasField('batch'):
                events += chunk.batch.length
                yield decode_batch(fields, chunk.batch)
        if sent is None:
            raise IncompleteStream('StreamBatches: the stream ended without its last message: cut short')
        if events != sent:
            raise IncompleteStream(f'StreamBatches: the stream brought {events} events, '
                                   f'where its last message says {sent} were sent')

    def skim(self, inputs: Iterable[str], cuts, output_dir: str, keep: Iterable[str] = (), codec: str = '',
             timeout: float | None = None) -> dict:
        """RunSkim. cuts: cuts.json's content (its score cut needs a server started with a model)
        or a list of its cuts. Returns the report's fields, and `report`, the whole report."""
        cuts_file = cuts if isinstance(cuts, dict) else {'cuts': cuts, 'score': None}
        score = cuts_file.get('score')
        request = pb.SkimRequest(inputs=list(inputs), cuts=hard_cuts(cuts_file['cuts']),
                                           output_dir=output_dir, keep=list(keep), codec=codec,
                                           score_cut=score is not None, score_threshold=score['value'] if score else 0)
        r = self._call(self._stub.RunSkim, request, timeout=timeout or self._timeout)
        return {
            'inputs': list(r.inputs), 'skim_files': list(r.skim_files), 'events_in': r.events_in,
            'events_kept': r.events_kept, 'events_cut': r.events_cut, 'bytes_in': r.bytes_in, 'bytes_out': r.bytes_out,
            'bytes_saved': r.bytes_saved, 'seconds': r.seconds, 'report': json.loads(r.report_json),
        }

    def evaluate(self, batches: Iterable[dict], timeout: float | None = None) -> Iterator[np.ndarray]:
        """The server's model scores (float32) of each batch, a dict of flat numpy columns, in order."""

        def chunks():
            schema = None
            for columns in batches:
                s, b = encode_batch(columns)
                yield pb.BatchChunk(schema=s, batch=b) if s != schema else pb.BatchChunk(batch=b)
                schema = s

        for scores in self._stub.Evaluate(chunks(), metadata=self._metadata, timeout=timeout or self._timeout):
            yield np.frombuffer(scores.scores, dtype='<f4', count=scores.length)
