"""政策 zhengce — search and question answering over Chinese policy documents.

    import zhengce
    lib = zhengce.Library.open(corpus="corpus")     # builds the index on first use
    for hit in lib.search("积分入学政策", k=3):
        print(hit.title, hit.section, hit.text)
    print(lib.ask("今年新增多少学位？").text)

Layers, one way: zhengce.ingest → zhengce.index → zhengce (this package: Library, answer, compare,
add) → zhengce.app (CLI, web) and zhengce.eval (test sets, metrics, benchmark).
Names are loaded on first use, so `import zhengce.ingest.clean` does not load the model stack.
"""
from __future__ import annotations

from zhengce.errors import ZhengceError

__version__ = "0.1.0"
__all__ = ["Library", "ZhengceError", "Hit", "Answer", "Comparison", "__version__"]

_LAZY = {
    "Library": "zhengce.library",
    "Hit": "zhengce.index.search",
    "Answer": "zhengce.answer",
    "Comparison": "zhengce.compare",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zhengce' has no attribute {name!r}")
