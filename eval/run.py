"""Run a test set against an index: per-item results, then aggregates per mode × split × tag.

The model is loaded once (load_embedder caches it) and each configuration gets one index, built into a
temporary folder from the corpus so the numbers describe the code as it is, not a stale data/index.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from zhengce.eval import metrics
from zhengce.eval.testset import OUT_OF_SCOPE, TestItem, find_golds, missing_gold
from zhengce.errors import ZhengceError
from zhengce.answer import choose_evidence
from zhengce.index.answerable import verdict_for
from zhengce.index.search import MODES, Hit
from zhengce.index.store import LoadedIndex
from zhengce.library import Library, index_corpus
from zhengce.settings import ChunkConfig

HIT_KS = (1, 3, 5)
MRR_K = NDCG_K = 10
TOP_SHOWN = 3  # passages listed for each failed query


@dataclass(frozen=True)
class Passage:
    rank: int
    section: str
    text: str
    dense_score: float | None
    bm25_score: float | None
    relevant: bool


@dataclass(frozen=True)
class ItemResult:
    id: str
    query: str
    tags: tuple[str, ...]
    split: str
    mode: str
    answerable: bool
    first_rank: int | None  # rank of the first passage covering a gold substring, within k
    hit: dict[int, float]  # k → hit@k
    recall: float  # recall@k (the run's k)
    rr: float  # reciprocal rank within MRR_K
    ndcg: float
    flagged: bool  # the judge said "not answerable"
    hedged: bool  # the judge said "answerable", but only just (the app shows a caution)
    confidence: float
    reason: str
    seconds: float  # search time for this query (embedding + retrieval + fusion)
    top: tuple[Passage, ...]
    # hybrid only (what people get): the documents the answer quoted, and whether one is not the gold
    # document (None when the item names no gold document, or for other modes)
    answer_docs: tuple[str, ...] = ()
    wrong_document: bool | None = None

    @property
    def failed(self) -> bool:
        """Shown in the failure list: answerable but missed in the top 5, the judge got it wrong, or the
        answer quoted another document than the gold one."""
        if not self.answerable:
            return not self.flagged
        return self.hit[5] == 0.0 or self.flagged or bool(self.wrong_document)

    def to_json(self) -> dict:
        row = asdict(self)
        row["hit"] = {f"hit@{k}": v for k, v in self.hit.items()}
        return row


def check_testset(items: list[TestItem], index: LoadedIndex, fuzzy_gold: bool = False) -> None:
    """Every gold must be in the documents, so a typo in a test set stops the eval. With fuzzy_gold (an
    OCRed corpus) a gold the reading lost even approximately (a short one with a misread character) is
    counted as a miss instead, and reported: the OCRed corpus's numbers are then lower, never higher."""
    missing = missing_gold(items, [d["text"] for d in index.documents], fuzzy=fuzzy_gold)
    if missing and not fuzzy_gold:
        shown = "; ".join(f"{i}: {g!r}" for i, g in missing[:3])
        raise ZhengceError(f"{len(missing)} gold substring(s) are not in the indexed documents ({shown}); "
                           "fix the test set or re-index (an OCRed or re-typed corpus: --fuzzy-gold)")


def gold_counts(items: list[TestItem], index: LoadedIndex) -> dict[str, int]:
    """With --fuzzy-gold: how many golds the documents hold only nearly, and how many not even so."""
    found = [how for _, _, how in find_golds(items, [d["text"] for d in index.documents], fuzzy=True)]
    return {"approximate_golds": found.count("approximate"), "unfound_golds": found.count(None)}


def evaluate_item(item: TestItem, hits: list[Hit], mode: str, k: int, seconds: float, lib: Library,
                  fuzzy_gold: bool = False) -> ItemResult:
    coverage = [metrics.covered_golds(h.text, item.gold, fuzzy=fuzzy_gold) for h in hits]
    # judged on what `ask` would quote: the evidence among the top 5 (ask's default k)
    verdict = verdict_for(lib.index, item.query, hits, lib.judge_config, evidence=choose_evidence(lib.index, lib.embedder, item.query, item.query, hits[:5])[0], embedder=lib.embedder)
    n_gold = len(item.gold)
    answer_docs, wrong = (), None
    if mode == "hybrid" and item.answerable:
        answer = lib.ask(item.query)
        answer_docs = tuple(dict.fromkeys(c.hit.doc_id for c in answer.citations))
        if item.doc:
            wrong = any(doc != Path(item.doc).stem for doc in answer_docs)
    return ItemResult(
        id=item.id,
        query=item.query,
        tags=item.tags,
        split=item.split,
        mode=mode,
        answerable=item.answerable,
        first_rank=metrics.first_relevant_rank(coverage, k) if item.answerable else None,
        hit={hk: metrics.hit_at(coverage, hk) for hk in HIT_KS},
        recall=metrics.recall_at(coverage, n_gold, k),
        rr=metrics.reciprocal_rank(coverage, MRR_K),
        ndcg=metrics.ndcg_at(coverage, n_gold, NDCG_K),
        flagged=not verdict.answerable,
        hedged=verdict.hedged,
        confidence=round(verdict.confidence, 4),
        reason=verdict.reason,
        seconds=seconds,
        answer_docs=answer_docs,
        wrong_document=wrong,
        top=tuple(
            Passage(h.rank, h.section, h.text, h.dense_score, h.bm25_score, bool(c))
            for h, c in zip(hits[:TOP_SHOWN], coverage)
        ),
    )


def check_options(modes: list[str], k: int) -> None:
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ZhengceError(f"unknown mode {(unknown or [''])[0]!r}; choose from {', '.join(MODES)}")
    if not max(HIT_KS + (MRR_K,)) <= k <= 100:
        raise ZhengceError(f"--k must be between {max(HIT_KS + (MRR_K,))} and 100 (MRR@10 and nDCG@10 need ten passages)")


def run_items(items: list[TestItem], lib: Library, modes: list[str], k: int = 10, fuzzy_gold: bool = False) -> list[ItemResult]:
    check_options(modes, k)
    check_testset(items, lib.index, fuzzy_gold)
    lib.embedder.encode_queries(["warm-up"])  # the first call pays one-off costs; keep them out of p95
    results = []
    for mode in modes:
        for item in items:
            started = time.perf_counter()
            hits = lib.search(item.query, k=k, mode=mode)
            seconds = time.perf_counter() - started
            results.append(evaluate_item(item, hits, mode, k, seconds, lib, fuzzy_gold))
    return results


def summarize_group(results: list[ItemResult]) -> dict:
    """Metrics over one group of results (one mode; any mix of items)."""
    answerable = [r for r in results if r.answerable]
    out_of_scope = [r for r in results if not r.answerable]
    row: dict = {"n": len(answerable), "n_out_of_scope": len(out_of_scope)}
    for hk in HIT_KS:
        row[f"hit@{hk}"] = metrics.mean([r.hit[hk] for r in answerable])
    row["recall@k"] = metrics.mean([r.recall for r in answerable])
    row["mrr@10"] = metrics.mean([r.rr for r in answerable])
    row["ndcg@10"] = metrics.mean([r.ndcg for r in answerable])
    flagged, false_flags = metrics.flag_rates([r.flagged for r in out_of_scope], [r.flagged for r in answerable])
    row["oos_flagged"] = flagged
    row["false_flags"] = false_flags
    # the caution band: out-of-scope questions flagged or at least hedged; answerable ones hedged
    row["oos_flagged_or_hedged"], row["hedged"] = metrics.flag_rates(
        [r.flagged or r.hedged for r in out_of_scope], [r.hedged for r in answerable]
    )
    with_doc = [r for r in answerable if r.wrong_document is not None]
    # answers quoting another document than the gold one, among answerable questions naming their document
    row["wrong_doc"] = metrics.mean([float(r.wrong_document) for r in with_doc])
    latencies = [r.seconds * 1000 for r in results]
    row["latency_ms_p50"] = metrics.percentile(latencies, 50)
    row["latency_ms_p95"] = metrics.percentile(latencies, 95)
    return row


def summarize(results: list[ItemResult]) -> dict:
    """{mode: {split: {tag: metrics}}} with split in all/dev/heldout and tag "all" plus every tag.
    Out-of-scope items enter the flag rates of every tag they carry and of "all"."""
    summary: dict = {}
    for mode in dict.fromkeys(r.mode for r in results):
        summary[mode] = {}
        for split in ("all", "dev", "heldout"):
            rows = [r for r in results if r.mode == mode and split in ("all", r.split)]
            if not rows:
                continue  # e.g. a test set that is all held-out has no dev table
            tags = sorted({t for r in rows for t in r.tags}, key=tag_order)
            per_tag = {"all": summarize_group(rows)}
            for tag in tags:
                per_tag[tag] = summarize_group([r for r in rows if tag in r.tags])
            summary[mode][split] = per_tag
    return summary


TAG_ORDER = ("keyword", "question", "paraphrase", "colloquial", "numeric", "english", "year_specific", "place_specific",
             "confuser", "traditional", "cross_domain", OUT_OF_SCOPE, "near", "far")


def tag_order(tag: str) -> tuple[int, str]:
    return (TAG_ORDER.index(tag) if tag in TAG_ORDER else len(TAG_ORDER), tag)


def evaluate_corpus(
    items: list[TestItem], corpus_dir: Path, modes: list[str], k: int = 10, chunk_config: ChunkConfig = ChunkConfig(),
    fuzzy_gold: bool = False,
) -> tuple[LoadedIndex, list[ItemResult]]:
    """Build a temporary index of the corpus with this configuration (and the configured model) and run
    the test set on it."""
    from zhengce.index.backend import milvus_target

    with tempfile.TemporaryDirectory(prefix="zhengce-eval-") as tmp:
        work = Path(tmp) / "index"
        target = milvus_target(work)  # with --backend milvus: a temporary Milvus index, dropped afterwards
        try:
            index_corpus(corpus_dir, work, chunk_config=chunk_config, show_progress=False)
            lib = Library.open(corpus_dir, work, build=False)
            return lib.index, run_items(items, lib, modes, k, fuzzy_gold)
        finally:
            if target is not None:
                from zhengce.index.milvus_backend import drop_index

                drop_index(target)


def run_eval(
    testset: Path,
    corpus_dir: Path,
    modes: list[str],
    k: int = 10,
    index_dir: Path | None = None,
    chunk_config: ChunkConfig = ChunkConfig(),
    splits: tuple[str, ...] = ("dev", "heldout"),
    fuzzy_gold: bool = False,
) -> tuple[dict, list[ItemResult], dict]:
    """(summary, per-item results, meta). Evaluates index_dir when given, else a fresh index of the corpus.
    fuzzy_gold: a gold may match a passage nearly (eval/metrics.py), for OCRed or re-typed corpora."""
    from zhengce.eval.testset import load_testset
    from zhengce.index.embed import EMBED_TEXT_VERSION

    check_options(modes, k)  # before the model loads and the index is built
    items = [i for i in load_testset(testset) if i.split in splits]
    if not items:
        raise ZhengceError(f"no items of split {', '.join(splits)} in {testset}")
    if index_dir is not None:
        lib = Library.open(corpus_dir, index_dir, build=False)
        index, results = lib.index, run_items(items, lib, modes, k, fuzzy_gold)
    else:
        index, results = evaluate_corpus(items, corpus_dir, modes, k, chunk_config, fuzzy_gold)
    meta = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "testset": str(testset),
        "items": len(items),
        "answerable": sum(1 for i in items if i.answerable),
        "out_of_scope": sum(1 for i in items if not i.answerable),
        "modes": modes,
        "k": k,
        "model": index.model_id,
        "embed_text": index.manifest["model"].get("embed_text", EMBED_TEXT_VERSION),
        "chunker": index.manifest["chunker"],
        "keyword": index.manifest["keyword"]["tokenizer"],
        "chunks": len(index.chunks),
        "index": str(index_dir) if index_dir else "fresh temporary index of " + str(corpus_dir),
        "backend": "milvus" if "milvus" in index.manifest else "faiss",
        "gold_match": f"fuzzy (partial ratio ≥ {metrics.FUZZY_GOLD_MIN_SCORE:g})" if fuzzy_gold else "exact",
        **(gold_counts(items, index) if fuzzy_gold else {"approximate_golds": 0, "unfound_golds": 0}),
    }
    return summarize(results), results, meta
