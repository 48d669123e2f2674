"""StreamBatches from a diffskim server with grpcio's default settings (4 MiB receive limit).

Usage: stream_summary.py STUBS_DIR ADDRESS PATH [BATCH_ROWS]
STUBS_DIR holds the modules `python3 -m grpc_tools.protoc` generated from proto/. Prints JSON:
events, messages, the largest message's bytes, and each flat column's sum (decoded with numpy),
or the call's status code and details when it fails.
"""
import json
import sys

import grpc
import numpy as np

sys.path.insert(0, sys.argv[1])
from diffskim.v1 import batch_pb2, diffskim_pb2, diffskim_pb2_grpc  # noqa: E402

DTYPES = {batch_pb2.FLOAT32: '<f4', batch_pb2.FLOAT64: '<f8', batch_pb2.INT32: '<i4', batch_pb2.INT64: '<i8'}

address, path = sys.argv[2], sys.argv[3]
batch_rows = int(sys.argv[4]) if len(sys.argv) > 4 else 0
stub = diffskim_pb2_grpc.DiffSkimStub(grpc.insecure_channel(address))
summary = {'events': 0, 'messages': 0, 'max_message_bytes': 0, 'sums': {}}
fields = []
try:
    for chunk in stub.StreamBatches(diffskim_pb2.StreamRequest(paths=[path], batch_rows=batch_rows), timeout=120):
        summary['messages'] += 1
        summary['max_message_bytes'] = max(summary['max_message_bytes'], chunk.ByteSize())
        if chunk.HasField('schema'):
            fields = list(chunk.schema.fields)
        if not chunk.HasField('batch'):
            continue
        summary['events'] += chunk.batch.length
        for field, column in zip(fields, chunk.batch.columns):
            if field.type in DTYPES and not field.list:
                values = np.frombuffer(column.values, dtype=DTYPES[field.type])
                summary['sums'][field.name] = summary['sums'].get(field.name, 0) + int(values.sum())
except grpc.RpcError as e:
    summary = {'code': e.code().name, 'details': e.details()}
print(json.dumps(summary))
