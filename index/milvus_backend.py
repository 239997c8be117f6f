"""The index in Milvus: a built generation published as collections, switched by an alias.

    <name>                    alias → the live generation's meta collection (switched atomically)
    <name>__g000007_meta      key → JSON: the manifest (model, dimension, schema checks), the BM25
                              vocabulary, the documents (split in parts: a VARCHAR holds 64 KiB)
    <name>__g000007_chunks    row, chunk_id, doc_id, year, the chunk record, its vector (FLAT or HNSW,
                              inner product) and its BM25 weights as a sparse vector (inner product)
    <name>__g000007_sentences id, chunk_row, doc_id, year, one vector per sentence

A generation is built on disk first (index/store.py: FAISS + bm25s, embedding only changed chunks) and
then copied here, so both backends hold the same numbers. BM25 is ours: each chunk's sparse vector holds
bm25s's per-term weights computed with our tokenize(), and a query's holds its term counts, so the inner
product is the BM25 score (Milvus's own BM25 Function keeps word statistics per segment and has no
Chinese analyzer we can match: docs/guide.md#milvus). Search recomputes the keyword scores from the
returned weights in bm25s's order of addition, so they are identical to FAISS + bm25s to the bit.

Each process holds the chunk records and documents (for the reader, the years and places); vectors and
keyword weights stay in Milvus.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zhengce.errors import ZhengceError
from zhengce.index.backend import MilvusTarget, blend
from zhengce.index.store import IndexCorrupt, IndexMismatch, IndexMissing, IndexOutdated, LoadedIndex, check_manifest
from zhengce.ingest.records import Chunk
from zhengce.settings import DenseIndexConfig

MILVUS_SCHEMA = 1  # the collections' layout; a change makes older ones IndexOutdated
MAX_WINDOW = 16_384  # Milvus's largest topk and query window
PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes and a Chinese character takes 3 in UTF-8
RECORD_BYTES = 65_535
BATCH = 1_000  # rows per insert
FOLLOW_SECONDS = 2.0  # how often a serving process checks whether the alias moved

_clients: dict[str, object] = {}


def client(uri: str):
    """One client per URI and process: milvus-lite refuses a second opening of the same .db."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise ZhengceError("the Milvus backend needs pymilvus: pip install 'zhengce[milvus]'") from None
    if uri not in _clients:
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            _clients[uri] = MilvusClient(uri)
        except Exception as exc:
            detail = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            hint = ("; a milvus-lite .db opens in one process only: share it with `milvus-lite server --data-dir DIR "
                    "--port 19530` and --milvus-uri http://127.0.0.1:19530") if "://" not in uri else ""
            raise ZhengceError(f"cannot open Milvus at {uri} ({detail}){hint}") from None
    return _clients[uri]


def where(target: MilvusTarget) -> str:
    return f"Milvus index {target.name} at {target.uri}"


# ---------------------------------------------------------------- publishing a generation


def generation_numbers(milvus, name: str) -> list[int]:
    prefix = f"{name}__g"
    return sorted({int(c[len(prefix):len(prefix) + 6]) for c in milvus.list_collections()
                   if c.startswith(prefix) and c[len(prefix):len(prefix) + 6].isdigit()})


def keyword_weights(bm25) -> list[dict[int, float]]:
    """Each chunk's {token id: BM25 weight}, from bm25s's token-major score matrix."""
    scores = bm25.scores
    indptr, docs, data = (np.asarray(scores[k]) for k in ("indptr", "indices", "data"))
    tokens = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((tokens, docs))
    per_doc: list[dict[int, float]] = [{} for _ in range(int(scores["num_docs"]))]
    for doc, token, weight in zip(docs[order].tolist(), tokens[order].tolist(), data[order].tolist()):
        per_doc[doc][token] = weight
    return per_doc


def parts(text: str) -> list[str]:
    return [text[i:i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]


def create_collections(milvus, prefix: str, dimension: int, exact: bool, config: DenseIndexConfig) -> dict[str, str]:
    from pymilvus import DataType

    names = {k: f"{prefix}_{k}" for k in ("meta", "chunks", "sentences")}
    schema = milvus.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=512)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("year", DataType.INT64)  # -1: no year
    schema.add_field("record", DataType.VARCHAR, max_length=RECORD_BYTES)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("keywords", DataType.SPARSE_FLOAT_VECTOR)
    params = milvus.prepare_index_params()
    if exact:
        params.add_index("vector", index_type="FLAT", metric_type="IP")
    else:
        params.add_index("vector", index_type="HNSW", metric_type="IP",
                         params={"M": config.hnsw_m, "efConstruction": config.hnsw_ef_construction})
    params.add_index("keywords", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    milvus.create_collection(names["chunks"], schema=schema, index_params=params)

    schema = milvus.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("chunk_row", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("year", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    params = milvus.prepare_index_params()
    if exact:
        params.add_index("vector", index_type="FLAT", metric_type="IP")
    else:
        params.add_index("vector", index_type="HNSW", metric_type="IP",
                         params={"M": config.hnsw_m, "efConstruction": config.hnsw_ef_construction})
    milvus.create_collection(names["sentences"], schema=schema, index_params=params)

    schema = milvus.create_schema(auto_id=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("value", DataType.VARCHAR, max_length=RECORD_BYTES)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    params = milvus.prepare_index_params()
    params.add_index("unused", index_type="FLAT", metric_type="L2")
    milvus.create_collection(names["meta"], schema=schema, index_params=params)
    return names


def insert_batches(milvus, collection: str, rows) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            count += milvus.insert(collection, batch)["insert_count"]
            batch = []
    if batch:
        count += milvus.insert(collection, batch)["insert_count"]
    return count


def publish(target: MilvusTarget, index: LoadedIndex, config: DenseIndexConfig = DenseIndexConfig()) -> str:
    """Copy a built generation (FAISS + bm25s on disk) into new collections, then switch the alias to them.
    Readers see the old generation or the new one, never half of one; the previous one is kept."""
    milvus = client(target.uri)
    numbers = generation_numbers(milvus, target.name)
    generation = f"g{(numbers[-1] + 1 if numbers else 1):06d}"
    prefix = f"{target.name}__{generation}"
    if index.sentence_vectors is None:
        raise IndexOutdated(f"index in {index.path.parent} has no sentence vectors; rebuild with: zhengce index")
    n = len(index.chunks)
    # Exact search scores every chunk per query (a window of at most MAX_WINDOW); above, Milvus proposes candidates
    exact = index.exact and n <= MAX_WINDOW
    names = create_collections(milvus, prefix, int(index.vectors.shape[1]), exact, config)
    try:
        weights = keyword_weights(index.bm25)
        vocab = {token: int(i) for token, i in index.bm25.vocab_dict.items()}

        def chunk_rows():
            for row, chunk in enumerate(index.chunks):
                record = json.dumps(chunk.to_json(), ensure_ascii=False)
                if len(record.encode("utf-8")) > RECORD_BYTES:
                    raise ZhengceError(f"chunk {chunk.chunk_id} is too long for Milvus ({len(record)} characters); "
                                       "index with a smaller --chunk-size")
                yield {"row": row, "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id,
                       "year": -1 if chunk.year is None else chunk.year, "record": record,
                       "vector": np.asarray(index.vectors[row], dtype=np.float32).tolist(), "keywords": weights[row]}

        def sentence_rows():
            owner = index.sentence_owner
            for i in range(len(owner)):
                chunk = index.chunks[int(owner[i])]
                yield {"id": i, "chunk_row": int(owner[i]), "doc_id": chunk.doc_id,
                       "year": -1 if chunk.year is None else chunk.year,
                       "vector": np.asarray(index.sentence_vectors[i], dtype=np.float32).tolist()}

        chunk_count = insert_batches(milvus, names["chunks"], chunk_rows())
        sentence_count = insert_batches(milvus, names["sentences"], sentence_rows())
        documents = parts(json.dumps(index.documents, ensure_ascii=False))
        vocab_parts = parts(json.dumps(vocab, ensure_ascii=False))
        manifest = {
            **index.manifest,
            "milvus": {"schema": MILVUS_SCHEMA, "generation": generation, "collections": names, "chunks": n,
                       "sentences": len(index.sentence_owner), "exact": exact, "built_from": str(index.path),
                       "parts": {"documents": len(documents), "vocab": len(vocab_parts)},
                       "keyword": "BM25 weights from bm25s as a sparse vector, inner product (computed in Python)",
                       "dense": "FLAT" if exact else f"HNSW M={config.hnsw_m} efConstruction={config.hnsw_ef_construction}"},
        }
        meta = [{"key": "manifest", "value": json.dumps(manifest, ensure_ascii=False)}]
        meta += [{"key": f"documents/{i}", "value": p} for i, p in enumerate(documents)]
        meta += [{"key": f"vocab/{i}", "value": p} for i, p in enumerate(vocab_parts)]
        for row in meta:
            if len(row["value"].encode("utf-8")) > RECORD_BYTES:  # a part of 16,000 characters fits unless 4-byte ones crowd it
                raise ZhengceError(f"index part {row['key']} is too long for Milvus; report this")
            row["unused"] = [0.0, 0.0]
        insert_batches(milvus, names["meta"], meta)
        for name in names.values():
            milvus.flush(name)
            milvus.load_collection(name)
        if chunk_count != n or sentence_count != len(index.sentence_owner):
            raise IndexCorrupt(f"{where(target)}: wrote {chunk_count} of {n} chunks, {sentence_count} of "
                               f"{len(index.sentence_owner)} sentences; run zhengce index again")
    except BaseException:
        for name in names.values():  # never live: safe to drop
            milvus.drop_collection(name)
        raise
    switch_alias(milvus, target.name, names["meta"])
    prune(milvus, target.name, keep=config.keep_generations)
    return generation


def switch_alias(milvus, alias: str, collection: str) -> None:
    if live_collection(milvus, alias) is None:
        milvus.create_alias(collection, alias)
    else:
        milvus.alter_alias(collection, alias)


def live_collection(milvus, alias: str) -> str | None:
    # asked first: describe_alias on an unknown alias logs a traceback inside pymilvus before it raises
    if alias not in milvus.list_aliases().get("aliases", []):
        return None
    return milvus.describe_alias(alias)["collection_name"]


def prune(milvus, name: str, keep: int) -> None:
    """Drop generations older than the last `keep` (the live one is never dropped)."""
    live = live_collection(milvus, name)
    numbers = generation_numbers(milvus, name)
    for number in numbers[: max(0, len(numbers) - keep)]:
        prefix = f"{name}__g{number:06d}_"
        if live and live.startswith(prefix):
            continue
        for collection in milvus.list_collections():
            if collection.startswith(prefix):
                milvus.drop_collection(collection)


def drop_index(target: MilvusTarget) -> None:
    """Remove every generation and the alias (a temporary index, e.g. eval's)."""
    milvus = client(target.uri)
    if live_collection(milvus, target.name) is not None:
        milvus.drop_alias(target.name)
    for collection in milvus.list_collections():
        if collection.startswith(f"{target.name}__g"):
            milvus.drop_collection(collection)


# ---------------------------------------------------------------- opening the live generation


def meta_values(milvus, collection: str, keys: list[str]) -> dict[str, str]:
    found = {}
    for i in range(0, len(keys), 100):
        for row in milvus.get(collection, ids=keys[i:i + 100], output_fields=["key", "value"]):
            found[row["key"]] = row["value"]
    missing = [k for k in keys if k not in found]
    if missing:
        raise IndexCorrupt(f"Milvus collection {collection} lacks {', '.join(missing[:3])}; rebuild with: zhengce index")
    return found


def live_manifest(target: MilvusTarget) -> tuple[str, dict]:
    """(the live meta collection, its manifest), checked like a manifest on disk."""
    milvus = client(target.uri)
    collection = live_collection(milvus, target.name)
    if collection is None:
        raise IndexMissing(f"no index {target.name} in Milvus at {target.uri}; build it with: zhengce index --backend milvus")
    try:
        manifest = json.loads(meta_values(milvus, collection, ["manifest"])["manifest"])
    except json.JSONDecodeError as exc:
        raise IndexCorrupt(f"{where(target)} has an unreadable manifest ({exc}); rebuild with: zhengce index") from None
    if manifest.get("milvus", {}).get("schema") != MILVUS_SCHEMA:
        raise IndexOutdated(f"{where(target)} has Milvus layout {manifest.get('milvus', {}).get('schema')}, this zhengce "
                            f"needs {MILVUS_SCHEMA}; rebuild with: zhengce index --backend milvus")
    return collection, check_manifest(manifest, where(target))


def open_milvus(target: MilvusTarget, model_id: str | None = None) -> "MilvusIndex":
    milvus = client(target.uri)
    collection, manifest = live_manifest(target)
    if model_id is not None and manifest["model"]["id"] != model_id:
        raise IndexMismatch(f"{where(target)} was built with model {manifest['model']['id']!r}, not {model_id!r}; "
                            "rebuild with: zhengce index --backend milvus (or use the model it was built with)")
    layout = manifest["milvus"]
    keys = [f"documents/{i}" for i in range(layout["parts"]["documents"])] + [f"vocab/{i}" for i in range(layout["parts"]["vocab"])]
    values = meta_values(milvus, collection, keys)
    documents = json.loads("".join(values[f"documents/{i}"] for i in range(layout["parts"]["documents"])))
    vocab = json.loads("".join(values[f"vocab/{i}"] for i in range(layout["parts"]["vocab"])))
    n = layout["chunks"]
    chunks: list[Chunk | None] = [None] * n
    for start in range(0, n, MAX_WINDOW):
        for row in milvus.query(layout["collections"]["chunks"], filter=f"row >= {start} and row < {start + MAX_WINDOW}",
                                output_fields=["row", "record"], limit=MAX_WINDOW):
            chunks[row["row"]] = Chunk.from_json(json.loads(row["record"]))
    if any(c is None for c in chunks):
        raise IndexCorrupt(f"{where(target)} is missing chunks ({sum(c is None for c in chunks)} of {n}); rebuild with: zhengce index")
    backend = MilvusBackend(target, collection, layout, vocab, manifest["model"]["dimension"])
    index = MilvusIndex(Path(target.name) / layout["generation"], manifest, chunks, documents, None, None, None, backend=backend)
    backend.index = index
    return index


@dataclass
class MilvusIndex(LoadedIndex):
    """A live Milvus generation: chunk records and documents here, vectors and keyword weights in Milvus."""

    backend: "MilvusBackend | None" = None


class MilvusBackend:
    """index/backend.py's boundary over the generation's collections."""

    def __init__(self, target: MilvusTarget, meta_collection: str, layout: dict, vocab: dict[str, int], dimension: int):
        self.target = target
        self.meta_collection = meta_collection
        self.chunks_collection = layout["collections"]["chunks"]
        self.sentences_collection = layout["collections"]["sentences"]
        self.n = layout["chunks"]
        self.exact = bool(layout["exact"])
        self.vocab = vocab
        self.dimension = dimension
        self.index: MilvusIndex | None = None
        self.checked = time.monotonic()

    @property
    def milvus(self):
        return client(self.target.uri)

    def replaced(self) -> bool:
        """Whether the alias now points to a newer generation (checked at most every FOLLOW_SECONDS)."""
        if time.monotonic() - self.checked < FOLLOW_SECONDS:
            return False
        self.checked = time.monotonic()
        live = live_collection(self.milvus, self.target.name)
        return live is not None and live != self.meta_collection

    # -------------------------------------------------- keywords

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        scores = np.zeros(self.n, dtype=np.float32)
        if not ids:
            return scores
        query = {}
        for token in ids:
            query[token] = query.get(token, 0.0) + 1.0
        found = self.milvus.search(self.chunks_collection, data=[query], anns_field="keywords", limit=min(self.n, MAX_WINDOW),
                                   output_fields=["row", "keywords"], search_params={"metric_type": "IP"})[0]
        for hit in found:
            weights = sparse_dict(hit["keywords"])
            # bm25s adds one query token's weight at a time in float32; the same order gives the same bits
            total = np.float32(0.0)
            for token in ids:
                total = np.float32(total + np.float32(weights.get(token, 0.0)))
            scores[hit["row"]] = total
        return scores

    # -------------------------------------------------- dense

    def filter_expression(self, mask: np.ndarray | None, row_field: str) -> str:
        """A row mask as a Milvus filter: by year or document where it is exactly that, else by rows."""
        if mask is None:
            return ""
        index = self.index
        years = sorted(set(index.row_year_array[mask].tolist()))
        if np.array_equal(mask, np.isin(index.row_year_array, years)):
            return f"year in {years}"
        docs = sorted(set(index.row_doc_array[mask].tolist()))
        if np.array_equal(mask, np.isin(index.row_doc_array, docs)):
            return f"doc_id in {json.dumps(docs, ensure_ascii=False)}"
        return f"{row_field} in {np.flatnonzero(mask).tolist()}"

    def dense_candidates(self, vector: np.ndarray, n: int, mask: np.ndarray | None) -> np.ndarray:
        """The n chunks closest to the vector and the n chunks with the closest sentences."""
        if mask is not None and not mask.any():
            return np.zeros(0, dtype=np.int64)
        limit = min(n, self.n)
        params = {"metric_type": "IP", "params": {"ef": max(limit, 64)}}
        chunks = self.milvus.search(self.chunks_collection, data=[vector.tolist()], anns_field="vector", limit=limit,
                                    filter=self.filter_expression(mask, "row"), output_fields=["row"], search_params=params)[0]
        sentences = self.milvus.search(self.sentences_collection, data=[vector.tolist()], anns_field="vector", limit=limit,
                                       filter=self.filter_expression(mask, "chunk_row"), output_fields=["chunk_row"],
                                       group_by_field="chunk_row", search_params=params)[0]
        return np.union1d([h["row"] for h in chunks], [h["chunk_row"] for h in sentences]).astype(np.int64)

    def similarity(self, vector: np.ndarray, rows: np.ndarray, sentence_weight: float) -> np.ndarray:
        if len(rows) == self.n and self.n <= MAX_WINDOW:
            return self.every_similarity(vector, sentence_weight)
        rows = [int(r) for r in rows]
        chunk = self.chunk_vectors(rows) @ vector if rows else np.zeros(0, dtype=np.float32)
        per_row = self.sentences_of(rows)
        has = np.array([len(per_row.get(r, ())) > 0 for r in rows], dtype=bool)
        best = chunk.copy()
        if has.any():
            # the same product and reduction as FaissBackend.similarity over gathered rows: the same bits
            picked = np.concatenate([per_row[r] for r, h in zip(rows, has) if h])
            lengths = np.array([len(per_row[r]) for r, h in zip(rows, has) if h])
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            best[has] = np.maximum.reduceat(picked @ vector, offsets)
        return blend(chunk, best, has, sentence_weight)

    def every_similarity(self, vector: np.ndarray, sentence_weight: float) -> np.ndarray:
        """Every chunk's blended score from two exhaustive Milvus searches: chunks, and sentences grouped by
        chunk (the best sentence of each)."""
        params = {"metric_type": "IP"}
        chunk = np.zeros(self.n, dtype=np.float32)
        for hit in self.milvus.search(self.chunks_collection, data=[vector.tolist()], anns_field="vector", limit=self.n,
                                      output_fields=["row"], search_params=params)[0]:
            chunk[hit["row"]] = hit["distance"]
        best = np.zeros(self.n, dtype=np.float32)
        has = np.zeros(self.n, dtype=bool)
        for hit in self.milvus.search(self.sentences_collection, data=[vector.tolist()], anns_field="vector", limit=self.n,
                                      output_fields=["chunk_row"], group_by_field="chunk_row", group_size=1,
                                      search_params=params)[0]:
            best[hit["chunk_row"]] = hit["distance"]
            has[hit["chunk_row"]] = True
        return blend(chunk, best, has, sentence_weight)

    # -------------------------------------------------- fetching

    def chunk_vectors(self, rows: list[int]) -> np.ndarray:
        rows = [int(r) for r in rows]
        found = {}
        for i in range(0, len(rows), MAX_WINDOW):
            part = sorted(set(rows[i:i + MAX_WINDOW]))
            for row in self.milvus.query(self.chunks_collection, filter=f"row in {part}", output_fields=["row", "vector"], limit=len(part)):
                found[row["row"]] = row["vector"]
        if len(found) < len(set(rows)):
            raise IndexCorrupt(f"{where(self.target)} lost chunk vectors; rebuild with: zhengce index --backend milvus")
        return np.asarray([found[r] for r in rows], dtype=np.float32).reshape(len(rows), self.dimension)

    def sentences_of(self, rows: list[int]) -> dict[int, np.ndarray]:
        """chunk row → its sentence vectors in order."""
        grouped: dict[int, list[tuple[int, list[float]]]] = {}
        wanted = sorted(set(rows))
        for i in range(0, len(wanted), 1000):
            part = wanted[i:i + 1000]
            for row in self.milvus.query(self.sentences_collection, filter=f"chunk_row in {part}",
                                         output_fields=["id", "chunk_row", "vector"], limit=MAX_WINDOW):
                grouped.setdefault(row["chunk_row"], []).append((row["id"], row["vector"]))
        return {row: np.asarray([v for _, v in sorted(items)], dtype=np.float32).reshape(len(items), self.dimension)
                for row, items in grouped.items()}

    def sentence_vectors(self, row: int) -> np.ndarray | None:
        return self.sentences_of([row]).get(int(row), np.zeros((0, self.dimension), dtype=np.float32))


def sparse_dict(value) -> dict[int, float]:
    """A sparse vector as pymilvus returns it (a dict, or scipy-like rows) → {token id: weight}."""
    if isinstance(value, dict):
        return {int(k): float(v) for k, v in value.items()}
    if hasattr(value, "tocoo"):
        coo = value.tocoo()
        return {int(k): float(v) for k, v in zip(coo.col, coo.data)}
    return {int(k): float(v) for k, v in value}
