"""The Python API, and what the CLI, the web app and eval all call: build the index, open it with its
model, search, answer, compare, add documents.

    lib = Library.open(corpus="corpus", index="data/index")   # builds the index if there is none
    hits = lib.search("积分入学政策", k=5, years=[2018])
    answer = lib.ask("今年新增多少学位？")
    changes = lib.compare("学前教育")
    lib.add(["2019年教育工作要点.docx"])

Arguments are checked here, once, with one-line ZhengceError messages; the functions below the API
(index.search.search, answer.answer_question, compare.compare) trust what they are given.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zhengce.errors import ZhengceError
from zhengce.index import embed
from zhengce.index.backend import milvus_target
from zhengce.index.embed import Embedder, default_model_id
from zhengce.index.search import MODES, Hit, search
from zhengce.index.store import BuildReport, IndexMissing, IndexOutdated, LoadedIndex, build_index, current_generation, load_index, read_manifest
from zhengce.ingest.duplicates import NearDuplicate, fingerprint, near_duplicates
from zhengce.ingest.pipeline import CorpusProblem, chunk_corpus, ingest_corpus
from zhengce.paths import default_corpus_dir, default_index_dir
from zhengce.settings import AnswerConfig, ChunkConfig, CompareConfig, JudgeConfig, SearchConfig

if TYPE_CHECKING:  # loaded on first use: `import zhengce` stays light
    from zhengce.add import AddResult
    from zhengce.answer import Answer, Generator
    from zhengce.compare import Comparison


@dataclass(frozen=True)
class IndexResult:
    report: BuildReport
    problems: list[CorpusProblem]  # files skipped, one line each
    notes: list[NearDuplicate] = field(default_factory=list)  # indexed, but they look like copies of others
    published: str = ""  # with the Milvus backend: where the generation went, "Milvus index NAME at URI [g000002]"


def check_corpus_dir(corpus_dir: Path) -> None:
    if not corpus_dir.is_dir():
        raise ZhengceError(f"corpus folder {corpus_dir} does not exist; pass --corpus DIR or set ZHENGCE_CORPUS")


def index_corpus(
    corpus_dir: Path,
    index_dir: Path,
    model_id: str | None = None,
    chunk_config: ChunkConfig = ChunkConfig(),
    show_progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexResult:
    """on_progress(chunks done, chunks in all): for a page that shows the build (the web app's uploads)."""
    from tqdm import tqdm

    check_corpus_dir(corpus_dir)
    documents, problems = ingest_corpus(corpus_dir)
    if not documents:
        reasons = "; ".join(p.reason for p in problems) or "no supported files: .txt .md .html .docx .pdf .doc .wps"
        raise ZhengceError(f"no readable documents in {corpus_dir} ({reasons})")
    chunks = chunk_corpus(documents, chunk_config)
    embedder = embed.load_embedder(model_id or default_model_id())
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not show_progress, file=sys.stderr) as bar:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            bar.update(n)
            if on_progress:
                on_progress(done, len(chunks))

        report = build_index(index_dir, documents, chunks, embedder, chunk_config, progress=advance)
        advance(len(chunks) - done)  # chunks reused from the last build count as done
    target, published = milvus_target(index_dir), ""
    if target is not None:
        # the generation on disk is the embedding cache; Milvus gets a copy as a new generation, switched by alias
        from zhengce.index.milvus_backend import publish, where

        published = f"{where(target)} [{publish(target, load_index(index_dir))}]"
    notes = near_duplicates([fingerprint(d.meta.file, d.meta.title, d.text) for d in documents])
    return IndexResult(report, problems, notes, published)


def open_index(index_dir: Path) -> tuple[LoadedIndex, Embedder]:
    """Load the index and the model it was built with (ZHENGCE_MODEL, if set, must agree)."""
    requested = os.environ.get("ZHENGCE_MODEL")
    target = milvus_target(index_dir)
    if target is not None:
        from zhengce.index.milvus_backend import open_milvus

        index = open_milvus(target, model_id=requested or None)
    else:
        index = load_index(index_dir, model_id=requested or None)
    return index, embed.load_embedder(index.model_id)


def ensure_index(corpus_dir: Path, index_dir: Path, show_progress: bool = True, model_id: str | None = None) -> IndexResult | None:
    """Build the index when there is none yet (the main job's first run) or when an older zhengce built it;
    otherwise leave it alone. The corpus is the source of truth, so a rebuild loses nothing."""
    try:
        read_manifest(current_generation(index_dir))
        target = milvus_target(index_dir)
        if target is not None:
            from zhengce.index.milvus_backend import live_manifest

            live_manifest(target)
        return None
    except (IndexMissing, IndexOutdated) as exc:
        if isinstance(exc, IndexOutdated):
            print(f"zhengce: {str(exc).split(';')[0]}; rebuilding it from {corpus_dir}", file=sys.stderr)
        elif not corpus_dir.is_dir():
            raise ZhengceError(
                f"no index at {index_dir}, and no corpus folder {corpus_dir} to build it from; pass --corpus DIR "
                "(or set ZHENGCE_CORPUS), or build one with: zhengce index --corpus DIR"
            ) from None
        return index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=show_progress)


def describe(corpus_dir: Path, index_dir: Path) -> dict:
    from zhengce.index.default_model import default_model_cache

    info: dict = {
        "corpus": {"path": str(corpus_dir), "exists": corpus_dir.is_dir()},
        "index": {"path": str(index_dir)},
        "model": {"configured": default_model_id(), "cache": str(default_model_cache())},
    }
    if corpus_dir.is_dir():
        info["corpus"]["files"] = sorted(
            p.name for p in corpus_dir.iterdir() if p.is_file() and p.name not in ("catalog.toml", "changes.jsonl") and not p.name.startswith(".")
        )
    target = milvus_target(index_dir)
    if target is not None:
        info["index"]["milvus"] = {"uri": target.uri, "name": target.name}
    try:
        if target is not None:
            from zhengce.index.milvus_backend import open_milvus

            index = open_milvus(target)
        else:
            index = load_index(index_dir)
    except ZhengceError as exc:
        info["index"]["status"] = str(exc)
        return info
    manifest = index.manifest
    info["index"].update(
        status="ok",
        generation=index.path.name,
        created=manifest["created"],
        schema_version=manifest["schema_version"],
        chunks=len(index.chunks),
        chunker=manifest["chunker"],
        keyword=manifest["keyword"],
        dense=manifest["dense"],
        documents_per_year={str(y): n for y, n in sorted(Counter(d["year"] for d in index.documents).items(), key=lambda kv: str(kv[0]))},
        documents=[
            {k: d.get(k, "") for k in ("doc_id", "title", "year", "issuer", "co_issuers", "date", "doc_number", "doc_type",
                                       "notice_title", "file", "chunk_count")}
            for d in index.documents
        ],
    )
    info["model"].update(index_model=manifest["model"]["id"], dimension=manifest["model"]["dimension"])
    return info


# ---------------------------------------------------------------- argument checks (once, for every caller)


def check_text(text, empty_message: str) -> str:
    if not isinstance(text, str):
        raise ZhengceError(f"expected text, not {type(text).__name__}: {text!r}")
    if not text.strip():
        raise ZhengceError(empty_message)
    return text.strip()


def check_k(k, limit: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
        raise ZhengceError(f"k (the number of passages) must be a whole number from 1 to {limit}, not {k!r}")
    return k


def check_years(years) -> set[int] | None:
    """None, one year or several: 2018, [2018, 2019], {"2018"}. Anything else is a one-line error."""
    if years is None:
        return None
    items = [years] if isinstance(years, (int, str)) else years
    problem = ZhengceError(f"years must be years such as 2018 or [2018, 2019], not {years!r}")
    if not isinstance(items, Iterable):
        raise problem
    items = list(items)
    if not items or any(isinstance(y, bool) or not isinstance(y, (int, str)) or not str(y).strip().isdigit() for y in items):
        raise problem
    return {int(y) for y in items}


def check_docs(docs) -> set[str] | None:
    if docs is None:
        return None
    items = [docs] if isinstance(docs, str) else docs
    if not isinstance(items, Iterable) or not all(isinstance(d, str) and d for d in items) or not list(items):
        raise ZhengceError(f"docs must be document ids (file names without extension), not {docs!r}")
    return set(items)


# ---------------------------------------------------------------- the API


@dataclass
class Library:
    """An indexed corpus and its model, ready to search. Open it with Library.open()."""

    corpus_dir: Path
    index_dir: Path
    index: LoadedIndex
    embedder: Embedder
    search_config: SearchConfig = field(default_factory=SearchConfig)
    answer_config: AnswerConfig = field(default_factory=AnswerConfig)
    judge_config: JudgeConfig = field(default_factory=JudgeConfig)
    compare_config: CompareConfig = field(default_factory=CompareConfig)

    @classmethod
    def open(
        cls,
        corpus: str | os.PathLike | None = None,
        index: str | os.PathLike | None = None,
        *,
        model: str | None = None,
        build: bool = True,
        progress: bool = False,
        search_config: SearchConfig = SearchConfig(),
        answer_config: AnswerConfig = AnswerConfig(),
        judge_config: JudgeConfig = JudgeConfig(),
        compare_config: CompareConfig = CompareConfig(),
    ) -> "Library":
        """corpus: the folder of documents (default: $ZHENGCE_CORPUS or the bundled corpus/); index: where
        the index lives (default: $ZHENGCE_INDEX_DIR or <data dir>/index). With build=True an index that is
        missing, or was built by an older zhengce, is built from the corpus first (progress: show a bar)."""
        corpus_dir = Path(corpus) if corpus is not None else default_corpus_dir()
        index_dir = Path(index) if index is not None else default_index_dir()
        if build:
            ensure_index(corpus_dir, index_dir, show_progress=progress, model_id=model)
        loaded, embedder = open_index(index_dir)
        return cls(corpus_dir, index_dir, loaded, embedder, search_config, answer_config, judge_config, compare_config)

    @property
    def documents(self) -> list[dict]:
        """One record per indexed document: doc_id, title, year, issuer, date, file, chunk_count, text, outline."""
        return self.index.documents

    @property
    def years(self) -> list[int]:
        return self.index.years

    def search(self, query: str, k: int = 5, *, mode: str = "hybrid", years=None, docs=None) -> list[Hit]:
        """The k best passages for a query; years / docs restrict to those years / document ids."""
        query = check_text(query, "empty query; type a question or some keywords, e.g. 积分入学政策")
        self.follow_live()
        if mode not in MODES:
            raise ZhengceError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        return search(
            self.index, self.embedder, query, k=check_k(k, self.search_config.max_k), mode=mode,
            years=check_years(years), doc_ids=check_docs(docs), config=self.search_config,
        )

    def ask(
        self, question: str, k: int = 5, *, years=None, docs=None, history: Iterable[str] = (),
        generator: "Generator | None" = None, generator_name: str = "",
    ) -> "Answer":
        """An answer quoted from the passages, each sentence cited; or a plain "not answered" with the
        closest passages. history: earlier questions of the conversation (for follow-ups like 那民办呢？)."""
        from zhengce.answer import answer_question

        question = check_text(question, "请输入问题，例如：积分入学政策是什么？ (empty question)")
        self.follow_live()
        return answer_question(
            self.index, self.embedder, question, k=check_k(k, self.answer_config.max_k), years=check_years(years),
            doc_ids=check_docs(docs), history=[str(h) for h in history], generator=generator, generator_name=generator_name,
            config=self.answer_config, search_config=self.search_config, judge_config=self.judge_config,
        )

    def compare(self, topic: str, *, years=None, k: int = 3, series: str | None = None) -> "Comparison":
        """The topic's best passages per year and what changed between consecutive years, within one
        series of documents (same issuer and kind); series: e.g. "临澜市教育局·要点" (default: the topic's)."""
        from dataclasses import replace

        from zhengce.compare import compare

        topic = check_text(topic, "empty topic; e.g. zhengce compare 学前教育")
        chosen = check_years(years)
        config = replace(self.compare_config, k=check_k(k, self.answer_config.max_k))
        return compare(self.index, self.embedder, topic, years=sorted(chosen) if chosen else None, config=config, series=series)

    def add(self, files: Iterable[str | os.PathLike], *, year: int | None = None, title: str | None = None,
            replace: bool = False, progress: bool = False) -> "AddResult":
        """Copy files into the corpus, catalog them, update the index and reopen it."""
        from zhengce.add import add_documents

        paths = [Path(f) for f in ([files] if isinstance(files, (str, os.PathLike)) else files)]
        if not paths:
            raise ZhengceError("no files to add")
        if year is not None:
            year = next(iter(check_years(year)))
        result = add_documents(paths, self.corpus_dir, self.index_dir, year=year, title=title, replace=replace,
                               model_id=self.index.model_id, show_progress=progress)
        if result.index is not None:
            self.reload()
        return result

    def update(self, progress: bool = False) -> "IndexResult":
        """Re-read the corpus and rebuild the index (only changed chunks are embedded again), then reopen it."""
        result = index_corpus(self.corpus_dir, self.index_dir, model_id=self.index.model_id, show_progress=progress)
        self.reload()
        return result

    def reload(self) -> None:
        self.index, self.embedder = open_index(self.index_dir)

    def follow_live(self) -> None:
        """A Milvus index switched to a new generation by another process (zhengce index on the builder) is
        picked up by the next question; questions already running finish on the one they started with,
        which is kept (DenseIndexConfig.keep_generations)."""
        backend = getattr(self.index, "backend", None)
        if backend is not None and backend.replaced():
            self.index, self.embedder = open_index(self.index_dir)

    def info(self) -> dict:
        """Corpus, index and model facts (what `zhengce info --json` prints)."""
        return describe(self.corpus_dir, self.index_dir)
