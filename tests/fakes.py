"""Test doubles: a deterministic embedder, so most tests run without loading a model."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

FAKE_MODEL_ID = "fake:hash-384"


@dataclass
class HashEmbedder:
    """Deterministic character uni/bi-gram hashing. Texts that share characters get similar vectors,
    which is enough to test indexing, fusion and the app without loading a model."""

    model_id: str = FAKE_MODEL_ID
    dimension: int = 384

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            text = re.sub(r"\s+", "", text.lower())
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for gram in grams:
                digest = hashlib.md5(gram.encode("utf-8")).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = self._encode(texts)
        if progress:
            progress(len(texts))
        return vectors




@dataclass
class SlowHashEmbedder(HashEmbedder):
    """HashEmbedder that takes `delay` seconds per 16 documents, so a test can act while an index is being
    built (ask during a re-index, kill the server in the middle of one). Queries stay fast."""

    delay: float = 0.05

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        import time

        for start in range(0, len(texts), 16):
            time.sleep(self.delay)
            if progress:
                progress(len(texts[start : start + 16]))
        return self._encode(texts)


def install() -> None:
    """Serve HashEmbedder for FAKE_MODEL_ID in this process (zhengce.index.embed.use_embedder);
    ZHENGCE_FAKE_EMBED_DELAY=seconds makes it a SlowHashEmbedder (for a server run as a process)."""
    import os

    from zhengce.index.embed import use_embedder

    delay = float(os.environ.get("ZHENGCE_FAKE_EMBED_DELAY") or 0)
    use_embedder(SlowHashEmbedder(delay=delay) if delay else HashEmbedder())
