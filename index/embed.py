"""Embedders: any sentence-transformers model on torch, and the default model on ONNX Runtime
(index/onnx_encoder.py). Tests use a deterministic fake (tests/fakes.py).

All turn texts into L2-normalised float32 rows, so FAISS inner product is cosine similarity.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from typing import Callable, Protocol

import numpy as np

from zhengce.errors import ZhengceError
from zhengce.ingest.records import Chunk

# What gets embedded (see docs/retrieval.md for the measurements behind it): each chunk's text alone,
# plus each of its sentences. Prefixing the section path made dense hit@5 worse (0.91 → 0.82 on dev):
# the long generic headings (一、全面从严治党，加强教育战线党的建设 > …) pull unrelated chunks together.
EMBED_TEXT_VERSION = "text+sentences/3"
# A line break ends a sentence too: a table's rows (附件 项目计划表) are lines without 。, and as one
# "sentence" a whole table matched a question on its title and was quoted as the answer.
SENTENCE_RE = re.compile(r"[^。；！？\n]+[。；！？]?")
MIN_SENTENCE_CHARS = 6  # shorter pieces ("等。") carry no meaning of their own

# Query/document prefixes for well-known model families that do not declare prompts themselves.
KNOWN_PROMPTS: list[tuple[str, str, str]] = [
    (r"e5", "query: ", "passage: "),
    (r"bge.*zh", "为这个句子生成表示以用于检索相关文章：", ""),
    (r"bge", "Represent this sentence for searching relevant passages: ", ""),
]


class Embedder(Protocol):
    model_id: str
    dimension: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded for a chunk: its text as people read it."""
    return chunk.text


def sentences(text: str) -> list[str]:
    """The sentences of a passage, embedded one by one: a question about one fact matches the sentence
    that states it better than the whole 300-character passage around it."""
    return [s.strip() for s in SENTENCE_RE.findall(text) if len(s.strip()) >= MIN_SENTENCE_CHARS]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# One torch thread per query encoding. Measured on 2 cores: one thread 17 ms p50 / 20 ms max whatever else
# runs; two threads 15 ms on an idle machine but 75 ms p50 / 960 ms max as soon as another process wants a
# core (every parallel region waits for a descheduled thread). One thread also lets the web app encode two
# questions at once. Batches of passages (indexing) use every core: 2× the throughput when idle.
QUERY_THREADS = 1


def use_threads(n: int) -> None:
    """torch's thread count is process-wide; queries and indexing never run at once in one zhengce process."""
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model id or local folder, with the right query/document prompts."""

    runtime = "torch"  # recorded in index manifests (index/onnx_encoder.py RUNTIMES)

    def __init__(self, model_id: str, path: str | None = None, batch_size: int = 16):
        # Offline by default: on government networks a hub lookup hangs until it times out. A model
        # already in the local Hugging Face cache still loads; HF_HUB_OFFLINE=0 allows downloads.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # its per-load "Loading weights" bar is noise to users

        self.model_id = model_id
        self.batch_size = batch_size
        try:
            self.model = SentenceTransformer(path or model_id, device="cpu")
        except Exception as exc:  # the library raises many kinds; the user needs one line
            raise ZhengceError(
                f"cannot load embedding model {model_id!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); "
                "give a local folder or an id already in the Hugging Face cache"
            ) from None
        self.dimension = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else self.model.get_sentence_embedding_dimension())
        self.query_prompt, self.document_prompt = self._prompts()

    def _prompts(self) -> tuple[str, str]:
        prompts = getattr(self.model, "prompts", {}) or {}
        query = prompts.get("query")
        document = prompts.get("passage", prompts.get("document"))
        if query is not None or document is not None:
            return query or "", document or ""
        for pattern, q, d in KNOWN_PROMPTS:
            if re.search(pattern, self.model_id, re.IGNORECASE):
                return q, d
        return "", ""

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self.model.encode(
            [prompt + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        # Answering a question encodes it twice (search, then sentence scoring): the second is a cache hit.
        if len(texts) == 1:
            return self._encode_one_query(texts[0])[None, :].copy()
        use_threads(QUERY_THREADS)
        return self._encode(texts, self.query_prompt)

    @functools.lru_cache(maxsize=256)  # thread-safe; keyed by (self, text)
    def _encode_one_query(self, text: str) -> np.ndarray:
        use_threads(QUERY_THREADS)
        return self._encode([text], self.query_prompt)[0]

    def clear_query_cache(self) -> None:
        """Forget cached query vectors: the benchmark times a question asked for the first time."""
        self._encode_one_query.cache_clear()

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        use_threads(os.cpu_count() or 1)
        return in_length_order(texts, self.batch_size, self.dimension, lambda b: self._encode(b, self.document_prompt), progress)


def in_length_order(
    texts: list[str], batch_size: int, dimension: int, encode: Callable[[list[str]], np.ndarray],
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Encode in batches of similar length, rows back in the texts' order. Sorting by length keeps padding
    small inside each batch: measurably faster on CPU."""
    parts = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(texts), batch_size):
        batch = [texts[i] for i in order[start : start + batch_size]]
        parts.append(encode(batch))
        if progress:
            progress(len(batch))
    if not parts:
        return np.zeros((0, dimension), dtype=np.float32)
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    vectors[order] = np.concatenate(parts)
    return vectors


def default_model_id() -> str:
    from zhengce.index.default_model import DEFAULT_MODEL_ID

    return os.environ.get("ZHENGCE_MODEL") or DEFAULT_MODEL_ID


_loaded: dict[str, Embedder] = {}


def load_embedder(model_id: str) -> Embedder:
    """Load once per process: the CLI's batch mode and the web app reuse the same model. The default model
    runs on ONNX Runtime (ZHENGCE_RUNTIME=torch|onnx-fp32|onnx-int8 chooses; see index/onnx_encoder.py)."""
    if model_id in _loaded:
        return _loaded[model_id]
    from zhengce.index.default_model import DEFAULT_MODEL_ID, ensure_default_model

    if model_id == DEFAULT_MODEL_ID:
        from zhengce.index.onnx_encoder import RUNTIME_HINT, OnnxEmbedder, default_runtime, ensure_onnx_model

        runtime = default_runtime()
        try:
            path = ensure_default_model()
        except RuntimeError as exc:
            raise ZhengceError(str(exc)) from None
        if runtime == SentenceTransformerEmbedder.runtime:
            embedder: Embedder = SentenceTransformerEmbedder(model_id, path=str(path))
        else:
            try:
                embedder = OnnxEmbedder(model_id, path, ensure_onnx_model(path), runtime)
            except Exception as exc:  # export, quantization and ONNX Runtime raise many kinds; the user needs one line
                raise ZhengceError(
                    f"cannot run the default embedding model on {runtime} ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}); "
                    f"{RUNTIME_HINT}"
                ) from None
    else:
        embedder = SentenceTransformerEmbedder(model_id)
    _loaded[model_id] = embedder
    return embedder


def runtime_of(embedder: Embedder) -> str | None:
    """What computes the embedder's vectors (torch, onnxruntime-int8, …); None for embedders that do not say
    (tests' fake, in-house services): their model_id alone names their vectors."""
    return getattr(embedder, "runtime", None)


def expected_runtime(model_id: str) -> str | None:
    """The runtime load_embedder(model_id) serves in this process, without loading anything."""
    if model_id in _loaded:
        return runtime_of(_loaded[model_id])
    from zhengce.index.default_model import DEFAULT_MODEL_ID

    if model_id == DEFAULT_MODEL_ID:
        from zhengce.index.onnx_encoder import default_runtime

        return default_runtime()
    return SentenceTransformerEmbedder.runtime


def use_embedder(embedder: Embedder) -> None:
    """Serve this embedder object for its model_id in this process: an embedder that is not a
    sentence-transformers model (an in-house service, the tests' deterministic fake). Indexes record the
    model_id, so an index built with it is opened with it again."""
    _loaded[embedder.model_id] = embedder
