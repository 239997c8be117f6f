"""Sentence-level dense scoring: sentence splitting and the blended chunk score, by hand."""
from types import SimpleNamespace

import numpy as np
import pytest

from zhengce.index.embed import sentences
from zhengce.index.search import dense_scores


def test_sentences_split_at_chinese_sentence_ends_and_drop_fragments():
    text = "完成10个足球场的建设和改造提升工作。等。探索全面推行并联审批制度；进一步简化审批流程"
    assert sentences(text) == ["完成10个足球场的建设和改造提升工作。", "探索全面推行并联审批制度；", "进一步简化审批流程"]


def make_index(vectors, sentence_vectors=None, owner=None):
    from zhengce.index.store import LoadedIndex
    from zhengce.ingest.records import Chunk

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


def test_feedback_moves_the_query_toward_its_best_passages():
    from zhengce.index.search import feedback_vector
    from zhengce.settings import SearchConfig

    assert (SearchConfig().feedback_passages, SearchConfig().feedback_weight) == (3, 0.5)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]], dtype=np.float32)
    index = SimpleNamespace(vectors=vectors)
    query = np.array([1.0, 0.0], dtype=np.float32)
    # best three by score: rows 0, 2, 1 → mean (0.533, 0.6); query + ½·mean = (1.267, 0.3), normalised
    moved = feedback_vector(index, query, np.array([0.9, 0.5, 0.8, 0.1]), None)
    np.testing.assert_allclose(moved, np.array([1.2667, 0.3]) / np.hypot(1.2667, 0.3), rtol=1e-3)
    # a filter keeps excluded passages out of the feedback: only rows 1 and 3 → mean (-0.5, 0.5)
    mask = np.array([False, True, False, True])
    moved = feedback_vector(index, query, np.array([0.9, 0.5, 0.8, 0.1]), mask)
    np.testing.assert_allclose(moved, np.array([0.75, 0.25]) / np.hypot(0.75, 0.25), rtol=1e-3)
