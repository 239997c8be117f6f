import json
from pathlib import Path

import numpy as np
import pytest

from zhengce.settings import ChunkConfig, DenseIndexConfig
from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus
from fakes import HashEmbedder
from zhengce.index.search import fuse_rrf, fusion_weights, search
from zhengce.index.store import IndexCorrupt, IndexMismatch, IndexMissing, build_index, current_generation, load_index


def build(corpus: Path, index_dir: Path, embedder=None, config=ChunkConfig(), dense_config=DenseIndexConfig()):
    documents, _ = ingest_corpus(corpus)
    return build_index(index_dir, documents, chunk_corpus(documents, config), embedder or HashEmbedder(), config, dense_config=dense_config)


def test_round_trip_keeps_chunks_vectors_and_manifest(corpus_copy, tmp_path):
    report = build(corpus_copy, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    assert len(index.chunks) == report.chunks == index.dense.ntotal == len(index.vectors)
    documents, _ = ingest_corpus(corpus_copy)
    assert [c.chunk_id for c in index.chunks] == [c.chunk_id for c in chunk_corpus(documents)]
    manifest = index.manifest
    assert manifest["schema_version"] == 1 and manifest["model"] == {"id": "fake:hash-384", "dimension": 384, "embed_text": "text+sentences/3"}
    assert manifest["chunker"] == {"chunk_size": 300, "chunk_overlap": 0, "min_chars": 30}
    assert {"chunks.jsonl", "vectors.npy", "dense.faiss", "documents.jsonl"} <= set(manifest["files"])
    assert manifest["documents"][0]["sha256"] and manifest["documents"][0]["file"] == "晋江2018年教育工作要点.txt"
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-5)
    # one vector per sentence, each pointing at its chunk; every chunk has at least one sentence here
    assert index.sentence_vectors.shape[0] == len(index.sentence_owner) > len(index.chunks)
    assert set(index.sentence_owner.tolist()) == set(range(len(index.chunks)))
    assert index.documents[0]["text"].startswith("晋江市2018年教育工作要点\n晋江市教育局")


def test_no_pickle_files(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    generation = current_generation(tmp_path / "idx")
    for path in generation.rglob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if any array needed pickle
    assert not list(generation.rglob("*.pkl")) and not list(generation.rglob("*.pickle"))


class ExplodingEmbedder(HashEmbedder):
    def encode_documents(self, texts, progress=None):
        if progress:
            progress(len(texts) // 2)
        raise RuntimeError("power cut")


def test_a_crash_mid_build_leaves_the_previous_index_usable(corpus_copy, tmp_path, monkeypatch):
    index_dir = tmp_path / "idx"
    build(corpus_copy, index_dir)
    before = load_index(index_dir)
    (corpus_copy / "new.txt").write_text("晋江市2019年教育工作要点\n一、总体要求\n1.虚构测试数据。新增学位一万个，建设智慧校园。", encoding="utf-8")
    with pytest.raises(RuntimeError, match="power cut"):
        build(corpus_copy, index_dir, embedder=ExplodingEmbedder())
    import faiss

    def broken_write(*args):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(OSError, match="disk full"):
        build(corpus_copy, index_dir)
    after = load_index(index_dir)
    assert after.path == before.path and len(after.chunks) == len(before.chunks)
    assert search(after, HashEmbedder(), "积分入学", k=1)[0].section.endswith("2.义务教育优质均衡")
    monkeypatch.undo()
    build(corpus_copy, index_dir)  # the next build cleans up the half-written folder and succeeds
    assert not list(index_dir.glob(".tmp-*"))
    assert len(load_index(index_dir).chunks) > len(before.chunks)


def test_reindex_embeds_only_changed_chunks(corpus_copy, tmp_path):
    index_dir = tmp_path / "idx"
    first = build(corpus_copy, index_dir)
    assert first.embedded == first.chunks
    again = build(corpus_copy, index_dir)
    assert (again.embedded, again.reused) == (0, first.chunks)
    raw = (corpus_copy / "晋江2018年教育工作要点.txt").read_text(encoding="utf-8")
    (corpus_copy / "晋江2018年教育工作要点.txt").write_text(raw.replace("约 3.86 万个", "约 4.2 万个"), encoding="utf-8")
    (corpus_copy / "2019.txt").write_text("晋江市2019年教育工作要点\n一、总体要求\n1.虚构测试数据。新增学位一万个，建设智慧校园。", encoding="utf-8")
    changed = build(corpus_copy, index_dir)
    assert changed.embedded == 2  # the edited chunk and the new document's only chunk
    assert changed.reused == first.chunks - 1
    assert len(list(index_dir.glob("gen-*"))) == 2  # the live generation and the one before it


def test_index_built_with_another_model_is_refused(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    with pytest.raises(IndexMismatch, match="built with model 'fake:hash-384'"):
        load_index(tmp_path / "idx", model_id="intfloat/multilingual-e5-small")


def test_other_schema_and_damage_are_refused(corpus_copy, tmp_path):
    index_dir = tmp_path / "idx"
    with pytest.raises(IndexMissing, match="zhengce index"):
        load_index(index_dir)
    build(corpus_copy, index_dir)
    generation = current_generation(index_dir)
    (generation / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexCorrupt, match="vectors.npy"):
        load_index(index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="schema 99"):
        load_index(index_dir)


def test_filters_by_year_and_document(corpus_copy, tmp_path):
    (corpus_copy / "jj2019.txt").write_text(
        "晋江市2019年教育工作要点\n一、总体要求\n1.积分入学。虚构测试数据：继续完善积分入学制度，新增学位一万个。", encoding="utf-8"
    )
    build(corpus_copy, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    assert index.years == [2018, 2019]
    for mode in ("bm25", "dense", "hybrid"):
        hits = search(index, HashEmbedder(), "积分入学", k=5, mode=mode, years={2019})
        assert hits and {h.year for h in hits} == {2019}
        hits = search(index, HashEmbedder(), "积分入学", k=5, mode=mode, doc_ids={"晋江2018年教育工作要点"})
        assert hits and {h.doc_id for h in hits} == {"晋江2018年教育工作要点"}


def test_rrf_fusion_by_hand():
    # rows 7 and 3: dense ranks 7 first, 3 second; bm25 ranks 3 first, 9 second
    fused = fuse_rrf([[7, 3], [3, 9]], [1.0, 1.0], k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)  # 0.032522...
    assert fused[7] == pytest.approx(1 / 61)
    assert fused[9] == pytest.approx(1 / 62)
    assert sorted(fused, key=fused.get, reverse=True) == [3, 7, 9]
    weighted = fuse_rrf([[7, 3], [3, 9]], [1.0, 0.0], k=60)
    assert weighted[3] == pytest.approx(1 / 62) and weighted[9] == 0.0


def test_english_questions_do_not_use_the_keyword_index():
    assert fusion_weights("How many school places?") == (1.0, 0.5)  # glossary words, half weight
    assert fusion_weights("积分入学 policy") == (1.0, 1.0)


def test_hits_mark_whole_query_words(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "idx")
    hit = search(load_index(tmp_path / "idx"), HashEmbedder(), "积分入学政策", k=1, mode="bm25")[0]
    assert hit.matched[0] == "积分入学" and "政策" in hit.matched


def test_large_indexes_use_hnsw_and_search_the_same(corpus_copy, tmp_path):
    build(corpus_copy, tmp_path / "exact")
    build(corpus_copy, tmp_path / "ann", dense_config=DenseIndexConfig(exact_search_max_chunks=10))  # pretend 35 chunks is "large"
    exact, ann = load_index(tmp_path / "exact"), load_index(tmp_path / "ann")
    assert exact.exact and exact.manifest["dense"]["faiss"] == "IndexFlatIP"
    assert not ann.exact and ann.manifest["dense"]["faiss"] == "IndexHNSWSQ" and ann.manifest["dense"]["params"]["M"] == 32
    embedder = HashEmbedder()
    for query in ("积分入学政策", "学前教育覆盖率", "智慧教室"):
        for mode in ("dense", "hybrid"):
            assert [h.chunk_id for h in search(ann, embedder, query, k=5, mode=mode)] == [
                h.chunk_id for h in search(exact, embedder, query, k=5, mode=mode)
            ]
    filtered = search(ann, embedder, "积分入学", k=3, mode="dense", doc_ids={"晋江2018年教育工作要点"})
    assert filtered and all(h.doc_id == "晋江2018年教育工作要点" for h in filtered)


def test_an_index_from_an_older_zhengce_is_refused_and_rebuilt_by_the_main_job(corpus_copy, tmp_path, capsys):
    from zhengce.library import ensure_index
    from zhengce.index.store import IndexOutdated

    index_dir = tmp_path / "idx"
    build(corpus_copy, index_dir)
    generation = current_generation(index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["model"]["embed_text"] = "section-path+text/1"
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexOutdated, match="rebuild with: zhengce index"):
        load_index(index_dir)
    assert ensure_index(corpus_copy, index_dir, show_progress=False) is not None
    assert "rebuilding it" in capsys.readouterr().err
    assert load_index(index_dir).path != generation
    assert ensure_index(corpus_copy, index_dir, show_progress=False) is None  # up to date: left alone


def test_keyword_votes_only_for_passages_with_half_the_best_keyword_score():
    import numpy as np

    from zhengce.index.search import keyword_rows
    from zhengce.settings import SearchConfig

    assert SearchConfig().keyword_min_share == 0.5
    scores = np.array([4.0, 1.9, 0.0, 2.0, 3.1], dtype=np.float32)
    # best 4.0 → floor 2.0: rows 0, 4, 3 vote (2.0 counts, 1.9 does not); a zero score never votes
    assert keyword_rows(scores, None, 10) == [0, 4, 3]
    # the floor is taken from the best passage the filter allows: best 3.1 → floor 1.55
    assert keyword_rows(scores, np.array([False, True, True, False, True]), 10) == [4, 1]
    assert keyword_rows(np.zeros(3, dtype=np.float32), None, 10) == []


def synthetic_chunks(document_chunks, n: int):
    """n chunks of three sentences each, recombined from the bundled plan's sentences."""
    from zhengce.index.embed import sentences
    from zhengce.ingest.records import Chunk

    pool = [s for c in document_chunks for s in sentences(c.text) if s[-1] in "。；"]
    return [Chunk(f"c{i:06d}", f"d{i // 40}", f"文件{i // 40}", 2018, "一、总体要求", "".join(pool[(i * 7 + j) % len(pool)] for j in range(3)) + f"第{i}条。", i % 40)
            for i in range(n)]


def test_vectors_stream_to_disk_in_length_order_and_memory_does_not_grow_with_the_corpus(document_2018, tmp_path):
    import tracemalloc
    import zlib

    from zhengce.index.store import embed_into, plan_texts

    class RecordingEmbedder(HashEmbedder):
        """One-hot by text checksum: cheap under tracemalloc, and each text's row is its own."""

        calls: list = []

        def _encode(self, texts):
            out = np.zeros((len(texts), self.dimension), dtype=np.float32)
            out[np.arange(len(texts)), [zlib.crc32(t.encode()) % self.dimension for t in texts]] = 1.0
            return out

        def encode_documents(self, texts, progress=None):
            self.calls.append([len(t) for t in texts])
            return self._encode(texts)

    def peak_bytes(n_chunks: int) -> tuple[int, int, list]:
        plan = plan_texts(synthetic_chunks(chunk_corpus([document_2018]), n_chunks))
        embedder, reported = RecordingEmbedder(), []
        embedder.calls = []
        folder = tmp_path / str(n_chunks)
        folder.mkdir()
        out = [np.lib.format.open_memmap(folder / name, mode="w+", dtype=np.float32, shape=(rows, 384))
               for name, rows in (("c.npy", plan.chunk_count), ("s.npy", len(plan.sentence_owner)))]
        tracemalloc.start()
        embed_into(plan, embedder, None, *out, progress=reported.append, block=256)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # rows land where they belong: the file holds what the embedder gives for each text alone
        np.testing.assert_allclose(out[0][5], embedder._encode([plan.chunks[5].text])[0], atol=1e-6)
        np.testing.assert_allclose(out[1][7], embedder._encode(plan.texts(np.array([plan.chunk_count + 7])))[0], atol=1e-6)
        assert sum(reported) == plan.chunk_count  # the bar counts chunks, sentences included pro rata
        lengths = [n for call in embedder.calls for n in call]
        assert lengths == sorted(lengths) and max(len(c) for c in embedder.calls) == 256  # shortest first, in blocks
        return peak, (plan.chunk_count + len(plan.sentence_owner)) * 384 * 4

    small, _ = peak_bytes(500)
    large, all_vectors = peak_bytes(4000)
    # 8× the chunks: the peak grows by the per-text keys and lengths (a few bytes each), not by the
    # vectors (16000 texts × 1.5 KB = 24 MB), which would all be held at once without streaming
    assert large < small + all_vectors / 10, (small, large, all_vectors)


def test_keyword_index_from_token_ids_scores_like_bm25s_on_token_lists(document_2018):
    import bm25s

    from zhengce.index.store import keyword_index
    from zhengce.index.tokenize import tokenize

    chunks = chunk_corpus([document_2018])
    reference = bm25s.BM25()
    reference.index([tokenize(f"{c.section} {c.text}") or ["∅"] for c in chunks], show_progress=False)
    ours = keyword_index(chunks)
    for query in ("积分入学政策", "学前教育 幼儿园", "教师 培训"):
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        np.testing.assert_allclose(ours.get_scores(tokens), reference.get_scores(tokens), rtol=1e-6)


def test_large_indexes_store_float16_sentence_vectors_and_reuse_them(corpus_copy, tmp_path):
    large = DenseIndexConfig(exact_search_max_chunks=10)
    first = build(corpus_copy, tmp_path / "ann", dense_config=large)
    index = load_index(tmp_path / "ann")
    # chunk vectors float32 (candidates are re-scored with them), sentence vectors float16
    assert index.manifest["dense"]["stored_vectors"] == "float32" and index.vectors.dtype == np.float32
    assert index.manifest["dense"]["stored_sentence_vectors"] == "float16" and index.sentence_vectors.dtype == np.float16
    assert index.manifest["dense"]["params"]["codes"] == "8-bit scalar quantizer"
    np.testing.assert_allclose(np.linalg.norm(index.sentence_vectors.astype(np.float32), axis=1), 1.0, atol=2e-3)
    assert build(corpus_copy, tmp_path / "exact").chunks == first.chunks
    exact = load_index(tmp_path / "exact")  # small indexes keep float32 sentences too: search reads every row
    assert exact.sentence_vectors.dtype == np.float32 and exact.manifest["dense"]["stored_sentence_vectors"] == "float32"
    again = build(corpus_copy, tmp_path / "ann", dense_config=large)
    assert again.embedded == 0 and again.reused == first.chunks  # float16 sentence vectors found again by text
    np.testing.assert_array_equal(load_index(tmp_path / "ann").vectors, index.vectors)
    np.testing.assert_array_equal(load_index(tmp_path / "ann").sentence_vectors, index.sentence_vectors)


def test_a_failed_build_leaves_no_partial_generation(corpus_copy, tmp_path):
    class Failing(HashEmbedder):
        def encode_documents(self, texts, progress=None):
            raise RuntimeError("encoder crashed")

    build(corpus_copy, tmp_path / "idx")
    live = current_generation(tmp_path / "idx")
    with pytest.raises(RuntimeError):
        build(corpus_copy, tmp_path / "idx", embedder=Failing(model_id="fake:other"))
    assert current_generation(tmp_path / "idx") == live and not list((tmp_path / "idx").glob(".tmp-*"))


def test_rows_of_a_memory_mapped_array_are_read_without_the_map(tmp_path):
    """read_rows gives array[rows] (any order, repeats, runs of consecutive rows) for a .npy memory map, and
    falls back to indexing for arrays that are not a whole file's map."""
    from zhengce.index.backend import read_rows

    stored = np.arange(200 * 6, dtype=np.float16).reshape(200, 6)
    np.save(tmp_path / "v.npy", stored)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")
    rows = np.array([17, 3, 4, 5, 199, 0, 17, 120, 121], dtype=np.int64)
    assert np.array_equal(read_rows(mapped, rows), stored[rows]) and read_rows(mapped, rows).dtype == np.float16
    assert np.array_equal(read_rows(mapped[10:50], [0, 39]), stored[[10, 49]])  # a slice: indexed, not pread
    assert read_rows(mapped, []).shape == (0, 6)
    with pytest.raises(IndexError):
        read_rows(mapped, [200])
