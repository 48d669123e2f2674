"""Regenerates diffskim_client/_stubs from the repository's proto/ (needs grpcio-tools).

Usage: python3 generate_stubs.py [--check]
The stubs are shipped so that the client needs only grpcio, protobuf and numpy; --check exits 1
when the shipped ones differ from what proto/ gives (tests run it).
"""
import pathlib
import re
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO = HERE.parent.parent / 'proto'
STUBS = HERE / 'diffskim_client' / '_stubs'
FILES = ['batch_pb2.py', 'diffskim_pb2.py', 'diffskim_pb2_grpc.py']


def generate():
    with tempfile.TemporaryDirectory() as out:
        protos = [str(PROTO / 'diffskim' / 'v1' / f'{name}.proto') for name in ('batch', 'diffskim')]
        if protoc.main(['protoc', f'-I{PROTO}', f'--python_out={out}', f'--grpc_python_out={out}', *protos]) != 0:
            sys.exit('protoc failed')
        # The generated modules import each other as the package diffskim.v1; here they are one folder.
        return {
            name: re.sub(r'^from diffskim\.v1 import', 'from . import', (pathlib.Path(out) / 'diffskim' / 'v1' / name).read_text(),
                         flags=re.M)
            for name in FILES
        }


def main():
    stubs = generate()
    if '--check' in sys.argv:
        stale = [name for name, text in stubs.items() if not (STUBS / name).exists() or (STUBS / name).read_text() != text]
        if stale:
            sys.exit(f'stale stubs {stale}: run python3 clients/python/generate_stubs.py')
        return
    STUBS.mkdir(exist_ok=True)
    (STUBS / '__init__.py').write_text('"""Generated from proto/ by generate_stubs.py; do not edit."""\n')
    for name, text in stubs.items():
        (STUBS / name).write_text(text)


if __name__ == '__main__':
    main()
