"""Python client of diffskim's gRPC service: describe, stream, skim and evaluate.

Depends on grpcio, protobuf and numpy; to_pandas and ListColumn.to_awkward use pandas and awkward
when they are installed.
"""
from .client import Client, IncompleteStream, hard_cuts
from .convert import to_awkward, to_pandas
from .wire import ListColumn

__all__ = ['Client', 'IncompleteStream', 'ListColumn', 'hard_cuts', 'to_awkward', 'to_pandas']
