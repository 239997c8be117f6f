"""The benchmark's building blocks (the numbers themselves come from `zhengce bench`, not from tests)."""
import json

import numpy as np

from zhengce.eval.bench import QUERIES, BenchResult, build_synthetic_index, exact_truth_path, sentence_pool, synthetic_corpus, to_markdown, time_queries
from fakes import HashEmbedder
from zhengce.index.embed import sentences
from zhengce.index.search import search
from zhengce.index.store import load_index
from zhengce.ingest.pipeline import chunk_corpus


def test_synthetic_corpus_recombines_real_sentences_deterministically(document_2018):
    pool = sentence_pool(chunk_corpus([document_2018]))
    assert len(pool) > 80 and all(s[-1] in "。；！？" for _, s in pool)
    vectors = HashEmbedder().encode_documents([s for _, s in pool])
    chunks, rows = synthetic_corpus(pool, vectors, 200)
    again, _ = synthetic_corpus(pool, vectors, 200)
    assert [c.text for c in chunks] == [c.text for c in again]
    known = {s for _, s in pool}
    for chunk in chunks[:20]:
        parts = sentences(chunk.text)
        assert 3 <= len(parts) <= 5 and set(parts) <= known  # splits back into the sentences it was made of
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)
    assert len({c.year for c in chunks}) == 5  # 40-chunk documents over consecutive years
    # six sentences give only 41 sets of 3–5: the weights still keep all 200 vectors apart (no exact ties)
    few_chunks, few = synthetic_corpus(pool[:6], vectors[:6], 200)
    assert len(np.unique(few.round(5), axis=0)) == 200
    # and no two chunks share a text: the index stores one vector per distinct text
    assert len({c.text for c in few_chunks}) == 200


def test_synthetic_index_is_searchable_and_reused(document_2018, tmp_path):
    embedder = HashEmbedder()
    pool = sentence_pool(chunk_corpus([document_2018]))
    vectors = embedder.encode_documents([s for _, s in pool])
    index_dir, seconds = build_synthetic_index(300, pool, vectors, embedder, tmp_path)
    assert seconds > 0
    index = load_index(index_dir)
    assert len(index.chunks) == 300 and index.sentence_vectors is not None
    assert search(index, embedder, "积分入学", k=3)
    # the truth recall is measured against: each question's exact top 10 by cosine over the chunk vectors
    truth = np.load(exact_truth_path(index_dir))
    scores = np.asarray(index.vectors) @ embedder.encode_queries(QUERIES).T
    assert truth.shape == (len(QUERIES), 10)
    for column, top in enumerate(truth):
        np.testing.assert_allclose(scores[top, column], np.sort(scores[:, column])[::-1][:10], rtol=1e-6)
    _, again = build_synthetic_index(300, pool, vectors, embedder, tmp_path)
    assert again != again  # NaN: the cached index was reused, not rebuilt


def test_markdown_table_marks_missed_targets():
    result = BenchResult()
    result.add("hybrid query p50", 21.0, "ms", "corpus", "≤ 25 ms", True)
    result.add("hybrid query p50", 61.0, "ms", "100k", "≤ 50 ms", False)
    table = to_markdown(result)
    assert "| hybrid query p50 | corpus | 21 | ms | ≤ 25 ms | yes |" in table and "**no**" in table


def test_every_timed_query_is_encoded_afresh():
    # the embedder caches single queries; timing repeated passes would time cache hits, not the model
    class CountingEmbedder:
        cleared = 0

        def clear_query_cache(self):
            self.cleared += 1

    embedder, calls = CountingEmbedder(), []
    timings = time_queries(calls.append, ["甲", "乙"], repeats=3, embedder=embedder)
    assert len(timings) == 6 and embedder.cleared == 6 and calls == ["甲"] + ["甲", "乙"] * 3


def test_bench_backend_milvus_labels_lite_rows_beside_faiss(tmp_path):
    # `zhengce bench --backend milvus` at the bundled corpus and a 300-chunk synthetic index (fake embedder)
    import pytest

    pytest.importorskip("milvus_lite")
    from pathlib import Path

    from zhengce.cli import main

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    out = tmp_path / "bench"
    assert main(["bench", "--backend", "milvus", "--corpus", str(corpus), "--sizes", "300", "--repeats", "1", "--out", str(out)]) == 0
    saved = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    rows = {(r["what"], r["size"]): r for r in saved["rows"]}
    corpus_label = next(r["size"] for r in saved["rows"] if r["size"].startswith("corpus ("))
    for size in (corpus_label, "300 chunks (synthetic)"):
        for what in ("hybrid query p50", "dense query p50", "bm25 query p50", "ask p50"):
            assert rows[(what, f"{size}, FAISS")]["value"] > 0 and rows[(what, f"{size}, milvus-lite")]["value"] > 0
        assert rows[("publish to milvus-lite (copy the built generation, flush, load)", size)]["value"] > 0
        assert "FLAT (milvus-lite)" in rows[("index type chosen", size)]["unit"]
    recall = [r for r in saved["rows"] if r["what"].endswith("recall@10 vs exact float32, re-scored")]
    assert [r["size"] for r in recall] == ["300 chunks (synthetic)"] and recall[0]["value"] == 1.0  # FLAT: exact
    assert any("pure-Python" in note and "say nothing about a Milvus server" in note for note in saved["notes"])
    assert "milvus-lite" in (out / "bench.md").read_text(encoding="utf-8")
    assert not any(r["what"].startswith(("cold start", "index build", "RSS")) for r in saved["rows"])  # left to the default bench


def test_bench_refuses_a_milvus_uri(capsys):
    from zhengce.cli import main

    assert main(["bench", "--backend", "milvus", "--milvus-uri", "http://127.0.0.1:19530"]) == 1
    assert "a Milvus server is not benchmarked" in capsys.readouterr().err


def test_ann_recall_is_measured_as_search_asks_for_candidates(document_2018, tmp_path):
    """measure_ann on an HNSW index (the sizes where the bench calls it): it asks the backend for candidates as
    search does, and recall against the exact top 10 is between 0 and 1 (the codes may miss some)."""
    from zhengce.eval.bench import measure_ann
    from zhengce.index.store import build_index
    from zhengce.settings import ChunkConfig, DenseIndexConfig

    embedder = HashEmbedder()
    chunks = chunk_corpus([document_2018])
    index_dir = tmp_path / "ann"
    build_index(index_dir, [], chunks, embedder, ChunkConfig(), dense_config=DenseIndexConfig(exact_search_max_chunks=10))
    index = load_index(index_dir)
    assert not index.exact
    exact = np.argsort(-(np.asarray(index.vectors, dtype=np.float32) @ embedder.encode_queries(QUERIES).T), axis=0)[:10].T
    np.save(exact_truth_path(index_dir), exact.astype(np.int64))
    result = BenchResult()
    measure_ann(result, index, index_dir, embedder, "test")
    recall = [row for row in result.rows if "re-scored" in row["what"]]
    assert len(recall) == 1 and 0.9 <= recall[0]["value"] <= 1.0, result.rows
