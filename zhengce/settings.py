"""Every tuning setting of zhengce, in one place: frozen dataclasses with documented defaults.

Pass an instance to change one (`search(..., config=SearchConfig(rrf_k=30))`); a typo in a field name is
a TypeError, not a silently ignored option. Each default carries one line of reason; the measurements
behind it are in docs/retrieval.md (search, answers, the no-answer verdict) and docs/benchmark.md (the
dense index), so they do not go stale here.

This module imports nothing from the project: every layer (ingest, index, the API, app, eval) reads it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ChunkConfig:
    """How sections are split into chunks (ingest/chunk.py)."""

    chunk_size: int = 300  # characters; the evaluation measures which size retrieves best
    chunk_overlap: int = 0  # neighbouring chunks share nothing: a chunk never spans two sections anyway
    min_chars: int = 30  # a piece shorter than this is merged into its neighbour

    def __post_init__(self) -> None:
        from zhengce.errors import ZhengceError

        if self.chunk_size < 50 or not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise ZhengceError("chunk size must be at least 50 and chunk overlap between 0 and half the chunk size")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DenseIndexConfig:
    """The FAISS index (index/store.py): exact inner product for small corpora, HNSW above."""

    # exact scoring costs ~0.6 ms per 1,000 chunks on 2 cores; HNSW + sentence re-scoring stays ~5 ms at 100k
    exact_search_max_chunks: int = 20_000
    hnsw_m: int = 32  # graph degree: recall@10 vs exact ≥ 0.99 at 100k (docs/benchmark.md)
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64
    quantizer_training_rows: int = 100_000  # HNSW stores 8-bit codes; their per-dimension ranges come from this many rows
    keep_generations: int = 2  # the current index and the one before it stay on disk


@dataclass(frozen=True)
class SearchConfig:
    """Hybrid search (index/search.py) and its year handling (index/years.py)."""

    max_k: int = 100  # passages one search may return (the API, the CLI and the web app check this one limit)
    rrf_k: int = 60  # the usual reciprocal-rank constant; damps the difference between rank 1 and rank 2
    candidates_per_hit: int = 4  # each retriever proposes k×4 candidates before fusion...
    min_candidates: int = 50  # ...and at least this many
    english_bm25_weight: float = 0.5  # an English question's BM25 (glossary words only) votes at half weight
    sentence_weight: float = 0.5  # dense score = ½ chunk cosine + ½ best sentence cosine
    ann_candidates: int = 200  # chunks an HNSW index proposes before sentence scores re-rank them
    feedback_passages: int = 3  # pseudo-relevance feedback: the query vector moves toward its 3 best passages...
    feedback_weight: float = 0.5  # ...by half their mean vector
    keyword_min_share: float = 0.5  # in hybrid fusion BM25 votes only for passages scoring ≥ half its best
    year_pool_factor: int = 3  # k×3 fused candidates give year preference/diversity room to reorder
    year_max_share: float = 0.6  # no year named: one year gets at most ceil(0.6·k) of the top k (k=5 → 3)


@dataclass(frozen=True)
class AnswerConfig:
    """Extractive answers (zhengce/answer.py)."""

    max_k: int = 20  # passages an answer may draw on; more only dilutes the sentences it picks from
    max_question_chars: int = 300  # the model reads 512 tokens; a longer question is almost always a paste accident
    max_answer_sentences: int = 3
    sentence_margin: float = 0.03  # quote sentences scoring within this of the best one: close seconds add facts
    keyword_weight: float = 0.05  # sentence score = cosine + weight × keyword coverage: breaks near-ties
    possibly_related: int = 3  # passages shown under a refusal
    followup_max_chars: int = 16  # a short question starting with 那/还有… leans on the previous one
    one_document: bool = True  # quote only the best passage's document, unless the question compares
    # which document: the top passage's, unless another of the top passages' documents (same named year and
    # place) holds a sentence that answers better by this much. A plan's general passage often outranks the
    # notice that states the figure (民办…招生计划 → the plan; …不超过…8% → the enrolment notice).
    document_choices: int = 3  # passages (from the top) whose documents may be chosen
    document_switch_margin: float = 0.01  # collection dev: the one other document scoring higher (by .0045) was wrong
    number_weight: float = 0.02  # a question asking how many/much prefers sentences that state a number


@dataclass(frozen=True)
class Calibration:
    """One model's similarity scale for the no-answer verdict (fitted on a test set's dev half)."""

    bm25_weight: float  # added to the similarity for a capped BM25 of JudgeConfig.bm25_cap
    coverage_weight: float  # added to the similarity for full keyword coverage
    threshold: float  # Chinese questions: similarity + evidence must reach this
    threshold_other: float  # questions without Chinese: similarity alone must reach this


@dataclass(frozen=True)
class JudgeConfig:
    """The no-answer verdict (index/answerable.py)."""

    judge_hits: int = 5  # the verdict looks at the top 5 hits whatever k the caller asked for, so eval = app
    coverage_passages: int = 3  # coverage is the best over the top 3 passages: the answer may sit in the 2nd
    bm25_cap: float = 6.0  # BM25 scores above this all count as "a strong keyword match"
    confidence_scale: float = 0.01  # 0.01 above the threshold → confidence 0.73; 0.03 above → 0.95
    hedge_confidence: float = 0.9  # below this an "answerable" verdict is shown with a caution (把握不大)
    missing_concept_override: float = 0.99  # a concept no document mentions refuses unless this sure anyway
    coverage_only_min: float = 0.5  # uncalibrated models: half the question's keywords must occur in a passage
    mention_window: int = 20  # the words of one concept name must occur within 20 characters of each other
    mention_looks: int = 2000  # occurrences of its rarest word examined at most (keeps a large corpus fast)
    # a question naming 石桥县 whose topic a same-level place's document (青禾县) matches this much better
    # than any 石桥县 passage is about something 石桥县's documents do not cover (collection dev half: the
    # answerable questions' gap ≤ 0.016, the out-of-scope one's 0.053; docs/retrieval.md)
    sibling_place_margin: float = 0.035


@dataclass(frozen=True)
class CompareConfig:
    """Comparing a topic across years (zhengce/compare.py)."""

    k: int = 3  # passages shown per year
    base_k: int = 5  # passages per year a clause is looked for before it counts as new/dropped
    subject_match: float = 0.7  # difflib ratio of two figures' subjects to be "the same target"
    same_wording: float = 0.5  # Dice of character bigrams (numbers masked) for "the same measure"
    # passage cosine above which two measures say the same (multilingual-e5-small). Different measures of
    # two years' 学前教育 passages reach 0.955–0.966 (完善学前教育保障机制 / 开展学前教育集团化办学试点: 0.9648
    # on torch, 0.9661 on int8), the same measure reworded 0.968+ with wording Dice ≥ 0.64: 0.965 sat
    # inside the noise between runtimes, so 0.97.
    same_meaning: float = 0.97
    same_heading: float = 0.6  # difflib ratio of two sections' last headings (numbering stripped) to align them
    min_clause_chars: int = 6


@dataclass(frozen=True)
class UploadConfig:
    """What the web app's Documents tab accepts in one upload (app/web_manage.py), checked before anything
    is written to the corpus."""

    max_files: int = 20  # more at once is a folder copy: use `zhengce add` or drop them into corpus/
    max_bytes: int = 50 * 1024 * 1024  # per file; the same limit `zhengce add` applies (ingest/load.py)
