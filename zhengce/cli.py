"""The `zhengce` command: the people's commands (app/cli.py) and the evaluation's (eval/cli.py) under one
name, one error handler and the options they share. Heavy imports happen inside the commands."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from zhengce.paths import default_corpus_dir, default_index_dir


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from zhengce.errors import ZhengceError

    # the backend options stand for their environment variables, so that every layer (and eval's own
    # builds) reads one setting; see index/backend.py
    if getattr(args, "backend", None):
        os.environ["ZHENGCE_BACKEND"] = args.backend
    if getattr(args, "milvus_uri", None):
        os.environ["ZHENGCE_MILVUS_URI"] = args.milvus_uri
    try:
        return args.run(args) or 0
    except ZhengceError as exc:
        print(f"zhengce: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zhengce: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line unless asked for the traceback
        if os.environ.get("ZHENGCE_DEBUG"):
            raise
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        print(f"zhengce: unexpected error: {type(exc).__name__}: {message} (set ZHENGCE_DEBUG=1 for details)", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    from zhengce.app import cli as people
    from zhengce.eval import cli as numbers

    parser = argparse.ArgumentParser(
        prog="zhengce",
        description="政策 zhengce — search and question answering over Chinese policy documents.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, default=None, help="corpus folder (env ZHENGCE_CORPUS; default: bundled corpus/ or ./corpus)")
    common.add_argument("--index-dir", type=Path, default=None, help="index folder (env ZHENGCE_INDEX_DIR; default: <data dir>/index)")
    common.add_argument("--backend", choices=["faiss", "milvus"], default=None,
                        help="where the index is searched: faiss (default, in this process) or milvus (env ZHENGCE_BACKEND)")
    common.add_argument("--milvus-uri", default=None, metavar="URI",
                        help="Milvus server http://host:19530 or a milvus-lite file such as data/milvus.db (env ZHENGCE_MILVUS_URI)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    people.add_commands(sub, common)
    numbers.add_commands(sub, common)
    return parser


def dirs(args) -> tuple[Path, Path]:
    return args.corpus or default_corpus_dir(), args.index_dir or default_index_dir()


def chunk_config(args):
    """--chunk-size / --chunk-overlap over the defaults; ChunkConfig checks the values."""
    from zhengce.settings import ChunkConfig

    defaults = ChunkConfig()
    return ChunkConfig(
        chunk_size=defaults.chunk_size if args.chunk_size is None else args.chunk_size,
        chunk_overlap=defaults.chunk_overlap if args.chunk_overlap is None else args.chunk_overlap,
        min_chars=defaults.min_chars,
    )


if __name__ == "__main__":
    sys.exit(main())
