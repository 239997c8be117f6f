"""Where the vectors and the keyword index are searched: the boundary between our ranking code and the
store that holds the index.

index/search.py asks a backend five things: keyword (BM25) scores for the query's tokens, dense
candidates for a vector (within a row mask), the blended chunk/best-sentence similarity of some rows,
chunk vectors (feedback, compare) and a chunk's sentence vectors (answers). Fusion, year/place
preference, feedback and the no-answer verdict stay in index/search.py and index/answerable.py,
identical for every backend.

Two backends:
- FaissBackend: the generation on disk (FAISS + bm25s, index/store.py), in this process. The default;
  no server.
- MilvusBackend (index/milvus_backend.py): the generation in Milvus collections, selected by
  `--backend milvus --milvus-uri URI` or ZHENGCE_BACKEND=milvus + ZHENGCE_MILVUS_URI.

Rows are the positions of chunks in the generation (LoadedIndex.chunks); every backend numbers them alike.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zhengce.errors import ZhengceError

BACKENDS = ("faiss", "milvus")


@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus index lives: a server URI (http://host:19530) or a local milvus-lite path (x.db),
    and the alias its live generation goes by."""

    uri: str
    name: str


def milvus_target(index_dir: Path) -> MilvusTarget | None:
    """The Milvus index that stands for index_dir, or None for the default (FAISS on disk).

    Its name comes from the index folder's absolute path: the builder keeps the folder (its FAISS
    generation is the embedding cache that makes rebuilds embed only changed chunks), a temporary index
    (eval) never replaces the live one, and servers behind a load balancer pass the same --index-dir."""
    backend = os.environ.get("ZHENGCE_BACKEND", "faiss").strip().lower() or "faiss"
    if backend not in BACKENDS:
        raise ZhengceError(f"unknown backend {backend!r} (ZHENGCE_BACKEND / --backend); choose one of {', '.join(BACKENDS)}")
    if backend == "faiss":
        return None
    uri = os.environ.get("ZHENGCE_MILVUS_URI", "").strip()
    if not uri:
        raise ZhengceError("--backend milvus needs a Milvus URI: --milvus-uri http://host:19530 (or a local path such as "
                           "data/milvus.db for milvus-lite), or set ZHENGCE_MILVUS_URI")
    return MilvusTarget(uri, name_for(index_dir))


def name_for(index_dir: Path) -> str:
    return "zhengce_" + hashlib.sha1(str(Path(index_dir).resolve()).encode("utf-8")).hexdigest()[:10]


def backend_of(index):
    """The backend that searches this loaded index: its own (a Milvus index) or FAISS over its arrays."""
    own = getattr(index, "backend", None)
    return own if own is not None else FaissBackend(index)


def read_rows(array: np.ndarray, rows) -> np.ndarray:
    """array[rows] (in its stored dtype) for a memory-mapped .npy read with pread rather than through
    the map. A page fault maps the file's neighbouring pages too (read-around, fault-around), so the few
    hundred scattered rows a query scores left gigabytes of a large index mapped into the process: 4.4 GB
    RSS beyond the model after 20 queries at 1M chunks, 1.6 GB of it sentence vectors. pread copies only
    the rows asked for; the file's pages stay in the page cache, which the kernel can drop.
    Consecutive rows (a chunk's sentences) are read in one call. Anything but a whole .npy memory map
    (an in-memory array, a slice of a map) is indexed as usual."""
    rows = np.asarray(rows, dtype=np.int64)
    filename = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or filename is None or array.ndim != 2 or not rows.size:
        return np.asarray(array[rows])
    row_bytes = array.shape[1] * array.dtype.itemsize
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    if ordered[0] < 0 or ordered[-1] >= len(array):
        raise IndexError(f"row {ordered[0] if ordered[0] < 0 else ordered[-1]} outside {len(array)} rows")
    breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
    starts, ends = np.concatenate([[0], breaks]), np.concatenate([breaks, [len(ordered)]])
    gathered = np.empty((len(rows), array.shape[1]), dtype=array.dtype)
    fd = os.open(filename, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != array.offset + array.nbytes:  # not the whole file's array (a slice)
            return np.asarray(array[rows])
        for start, end in zip(starts.tolist(), ends.tolist()):
            want = (end - start) * row_bytes
            got = os.preadv(fd, [memoryview(gathered[start:end]).cast("B")], array.offset + int(ordered[start]) * row_bytes)
            if got != want:
                raise OSError(f"short read from {filename}: {got} of {want} bytes")
    finally:
        os.close(fd)
    out = np.empty_like(gathered)
    out[order] = gathered
    return out


def blend(chunk: np.ndarray, best: np.ndarray, has: np.ndarray, sentence_weight: float) -> np.ndarray:
    """Dense score = (1 - w) · chunk cosine + w · best sentence cosine; a chunk without a full sentence keeps
    its own score (best = chunk there)."""
    best = np.where(has, best, chunk).astype(chunk.dtype, copy=False)
    return (1 - sentence_weight) * chunk + sentence_weight * best


class FaissBackend:
    """The generation's arrays in this process: bm25s for keywords, FAISS (exact or HNSW) for dense
    candidates, the (memory-mapped) vector arrays for similarities."""

    def __init__(self, index):
        self.index = index

    @property
    def exact(self) -> bool:
        return self.index.exact

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        bm25 = self.index.bm25
        tokens = [t for t in tokens if t in bm25.vocab_dict]
        if not tokens:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(bm25.get_scores(tokens), dtype=np.float32)

    def dense_candidates(self, vector: np.ndarray, n: int, mask: np.ndarray | None) -> np.ndarray:
        import faiss

        index = self.index
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(n, index.dense.hnsw.efSearch)
        if mask is not None:
            params.sel = faiss.IDSelectorBatch(np.flatnonzero(mask).astype(np.int64))
        _, found = index.dense.search(vector[None, :], n, params=params)
        return found[0][found[0] >= 0]

    def similarity(self, vector: np.ndarray, rows: np.ndarray, sentence_weight: float) -> np.ndarray:
        index = self.index
        every_row = len(rows) == len(index.chunks)
        # Scoring every row reads the (memory-mapped) vectors in place; gathering rows first would copy them.
        chunk = index.vectors @ vector if every_row else read_rows(index.vectors, rows) @ vector
        if index.sentence_vectors is None or not len(rows):
            return chunk
        start, end = (bound[rows] for bound in index.sentence_bounds)
        counts = end - start
        has = counts > 0
        best = chunk.copy()
        if not has.any():
            pass
        elif every_row:
            # sentences are stored in chunk order, so each chunk's run starts where the previous one's ended
            best[has] = np.maximum.reduceat(index.sentence_vectors @ vector, start[has])
        else:
            lengths, firsts = counts[has], start[has]
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            # the sentence rows of every chosen chunk, without a Python loop: first + 0, 1, … count-1
            picked = np.repeat(firsts - offsets, lengths) + np.arange(lengths.sum())
            best[has] = np.maximum.reduceat(read_rows(index.sentence_vectors, picked) @ vector, offsets)
        return blend(chunk, best, has, sentence_weight)

    def chunk_vectors(self, rows: list[int]) -> np.ndarray:
        return read_rows(self.index.vectors, rows).astype(np.float32, copy=False)  # an index before 2026-12 may hold float16

    def sentence_vectors(self, row: int) -> np.ndarray | None:
        """The chunk's sentence vectors in order, or None for an index built before sentence vectors."""
        index = self.index
        if index.sentence_owner is None:
            return None
        owner = index.sentence_owner
        rows = np.arange(np.searchsorted(owner, row, "left"), np.searchsorted(owner, row, "right"))
        return read_rows(index.sentence_vectors, rows).astype(np.float32, copy=False)  # large: float16
