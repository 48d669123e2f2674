"""Recompiles diffskim_client/diffskim.desc, the descriptor set of the repository's proto/
(needs grpcio-tools); the client builds its message classes from it at import.

Usage: python3 generate_descriptors.py [--check]
--check exits 1 when the shipped file differs from what proto/ compiles to (the tests run it).
"""
import pathlib
import sys
import tempfile

from grpc_tools import protoc

HERE = pathlib.Path(__file__).resolve().parent
PROTO = HERE.parent.parent / 'proto'
DESCRIPTORS = HERE / 'diffskim_client' / 'diffskim.desc'


def compile_descriptors() -> bytes:
    with tempfile.TemporaryDirectory() as out:
        target = pathlib.Path(out) / 'diffskim.desc'
        protos = [str(PROTO / 'diffskim' / 'v1' / f'{name}.proto') for name in ('batch', 'diffskim')]
        if protoc.main(['protoc', f'-I{PROTO}', f'--descriptor_set_out={target}', *protos]) != 0:
            sys.exit('protoc failed')
        return target.read_bytes()


def main():
    compiled = compile_descriptors()
    if '--check' in sys.argv:
        if not DESCRIPTORS.exists() or DESCRIPTORS.read_bytes() != compiled:
            sys.exit(f'{DESCRIPTORS} is stale: run python3 clients/python/generate_descriptors.py')
        return
    DESCRIPTORS.write_bytes(compiled)


if __name__ == '__main__':
    main()
