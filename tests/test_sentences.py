"""Sentence-level dense scoring: sentence splitting and the blended chunk score, by hand."""
from types import SimpleNamespace

import numpy as np
import pytest

from index.embed import sentences
from index.search import dense_scores


def test_sentences_split_at_chinese_sentence_ends_and_drop_fragments():
    text = "完成10个足球场的建设和改造提升工作。等。探索全面推行并联审批制度；进一步简化审批流程"
    assert sentences(text) == ["完成10个足球场的建设和改造提升工作。", "探索全面推行并联审批制度；", "进一步简化审批流程"]


def make_index(vectors, sentence_vectors=None, owner=None):
    from index.store import LoadedIndex
    from ingest.records import Chunk

    chunks = [Chunk(f"c{i}", "d", "t", 2018, "s", "text", i) for i in range(len(vectors))]
    return LoadedIndex(
        path=None, manifest={"dense": {"exact": True}}, chunks=chunks, documents=[],
        vectors=np.asarray(vectors, dtype=np.float32), dense=None, bm25=None,
        sentence_vectors=None if sentence_vectors is None else np.asarray(sentence_vectors, dtype=np.float32),
        sentence_owner=None if owner is None else np.asarray(owner),
    )


QUERY = np.array([0.6, 0.8], dtype=np.float32)


def test_dense_score_blends_chunk_and_best_sentence():
    index = make_index([[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]], [0, 0, 1])
    # query (0.6, 0.8): chunk cosines (0.6, 0.8); sentence cosines (1.0, 0.6, 0.8) → best per chunk (1.0, 0.8)
    # blended ½·chunk + ½·best = (0.8, 0.8)
    np.testing.assert_allclose(dense_scores(index, QUERY), [0.8, 0.8], rtol=1e-6)


def test_index_without_sentence_vectors_scores_chunks_only():
    index = make_index([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(dense_scores(index, QUERY), [0.6, 0.8], rtol=1e-6)


def test_chunk_without_sentences_keeps_its_own_score():
    index = make_index([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0]], [1])
    # chunk 0 has no sentence: stays 0.6; chunk 1: ½·0.8 + ½·0.8 = 0.8
    assert dense_scores(index, QUERY).tolist() == pytest.approx([0.6, 0.8])
