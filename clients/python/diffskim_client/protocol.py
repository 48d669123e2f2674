"""diffskim's messages and service methods, built at import from diffskim.desc (the descriptor
set compiled from proto/ by generate_descriptors.py). Generated _pb2 modules work only with the
protobuf versions near the protoc that made them; a descriptor set works with any."""
import pathlib

from google.protobuf import descriptor_pb2, descriptor_pool

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # protobuf before 4.22
    from google.protobuf.message_factory import MessageFactory

    GetMessageClass = MessageFactory().GetPrototype

_pool = descriptor_pool.DescriptorPool()
_descriptors = (pathlib.Path(__file__).parent / 'diffskim.desc').read_bytes()
for _file in descriptor_pb2.FileDescriptorSet.FromString(_descriptors).file:
    _pool.AddSerializedFile(_file.SerializeToString())


def _message(name):
    return GetMessageClass(_pool.FindMessageTypeByName(f'diffskim.v1.{name}'))


def _enum(name) -> dict:
    return {v.name: v.number for v in _pool.FindEnumTypeByName(f'diffskim.v1.{name}').values}


Field, Schema, ColumnBuffers, Batch, BatchChunk, HardCut = map(
    _message, ['Field', 'Schema', 'ColumnBuffers', 'Batch', 'BatchChunk', 'HardCut'])
DescribeRequest, DatasetInfo, StreamRequest, SkimRequest, SkimReport, Scores = map(
    _message, ['DescribeRequest', 'DatasetInfo', 'StreamRequest', 'SkimRequest', 'SkimReport', 'Scores'])
DTYPE = _enum('DType')
DTYPE_NAMES = {number: name.lower() for name, number in DTYPE.items()}
CUT_OPS = _enum('HardCut.Op')


class DiffSkimStub:
    """The DiffSkim service's methods on a channel."""

    def __init__(self, channel):
        def method(kind, name, request, response):
            return getattr(channel, kind)(f'/diffskim.v1.DiffSkim/{name}',
                                          request_serializer=request.SerializeToString,
                                          response_deserializer=response.FromString)

        self.Describe = method('unary_unary', 'Describe', DescribeRequest, DatasetInfo)
        self.StreamBatches = method('unary_stream', 'StreamBatches', StreamRequest, BatchChunk)
        self.RunSkim = method('unary_unary', 'RunSkim', SkimRequest, SkimReport)
        self.Evaluate = method('stream_stream', 'Evaluate', BatchChunk, Scores)
