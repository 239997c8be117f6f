"""zhengce bench: speed and memory at today's size and at 10k / 100k chunks.

Large sizes use synthetic corpora recombined from the real chunks' sentences, so the text stays realistic.
Embedding 100k chunks with the model would take hours on 2 cores, so each real sentence is embedded once
(cached on disk) and a synthetic chunk's vector is the normalised sum of its sentences' vectors. That keeps
the vectors' distribution realistic for latency and for approximate-search recall, and it is stated in the
report; query vectors always come from the real model.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zhengce.eval.metrics import percentile
from zhengce.index.embed import sentences
from zhengce.ingest.records import Chunk
from zhengce.settings import ChunkConfig, DenseIndexConfig, SearchConfig

QUERIES = [
    "积分入学政策", "今年新增多少学位", "学前教育的目标是什么", "职业学校和企业怎么合作培养人才",
    "学校领导班子怎么考核", "要建几个体育场馆", "智慧教室建设", "民办幼儿园怎么管理", "大班额问题怎么解决",
    "教师师德师风建设有哪些措施", "名校长引进计划", "高中教育多样化发展", "社区教育怎么开展", "党风廉政建设责任",
    "教育国际化有哪些项目", "How many smart classrooms will be built?", "What is the admission policy for migrant children?",
    "普惠性幼儿园覆盖率", "校园足球场建设", "教育信息化平台",
]
SIZES = (10_000, 100_000)


@dataclass
class BenchResult:
    rows: list[dict] = field(default_factory=list)  # one per measurement: what, size, value, unit, target, ok
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, value: float, unit: str, size: str = "", target: str = "", ok: bool | None = None) -> None:
        self.rows.append({"what": what, "size": size, "value": round(value, 3), "unit": unit, "target": target, "ok": ok})


def rss_mb(kind: str = "VmRSS") -> float:
    """Resident memory in MB; kind RssAnon is the process's own, RssFile the pages of files it maps (here the
    memory-mapped vectors and BM25: page cache the kernel can drop)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(kind + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- synthetic corpora


def sentence_pool(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """(section path, sentence) for every complete sentence of the real corpus. Only sentences that end in
    。；！？ are used, so a recombined chunk splits back into exactly the sentences it was made of."""
    return [(c.section, s) for c in chunks for s in sentences(c.text) if s[-1] in "。；！？"]


def sentence_vectors(pool: list[tuple[str, str]], embedder, cache_dir: Path) -> np.ndarray:
    runtime = getattr(embedder, "runtime", None) or ""  # torch and ONNX vectors differ slightly: cached apart
    key = hashlib.sha256(("\n".join(s for _, s in pool) + embedder.model_id + runtime).encode()).hexdigest()[:16]
    path = cache_dir / f"sentences-{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = embedder.encode_documents([s for _, s in pool])
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def synthetic_corpus(pool: list[tuple[str, str]], vectors: np.ndarray, n: int, seed: int = 7) -> tuple[list[Chunk], np.ndarray]:
    """n chunks of 3–5 real sentences each, spread over 2010–2025 and 40-chunk documents, no two with the
    same text. Each chunk's vector is a randomly weighted sum of its sentences' vectors: with a pool of
    ~120 sentences, a million unweighted sums repeat (every set of 3 is drawn about once), and exact ties
    made recall@10 depend on which of two identical vectors an index returned first. Texts are unique
    because an index embeds each distinct text once (the build looks vectors up by text): two chunks with
    one text but different weights would be stored with one vector, not the one the truth was computed from."""
    rng = random.Random(seed)
    chunks, rows = [], np.zeros((n, vectors.shape[1]), dtype=np.float32)
    seen: set[str] = set()  # the chunks' own text strings (the pool may repeat a sentence: chunks overlap)
    for i in range(n):
        for _ in range(1000):
            picks = rng.sample(range(len(pool)), rng.randint(3, 5))
            text = "".join(pool[p][1] for p in picks)
            if text not in seen:
                break
        else:
            raise ValueError(f"a pool of {len(pool)} sentences cannot make {n} distinct chunks")
        seen.add(text)
        year = 2010 + (i // 40) % 16
        doc = f"synthetic-{i // 40:05d}"
        chunks.append(Chunk(hashlib.sha1(f"{doc}{i}".encode()).hexdigest()[:16], doc, f"合成测试文件{i // 40}（{year}年）", year, pool[picks[0]][0], text, i % 40))
        weights = np.array([rng.uniform(0.5, 1.5) for _ in picks], dtype=np.float32)
        rows[i] = weights @ vectors[picks]
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return chunks, rows


@dataclass
class PrecomputedEmbedder:
    """Documents get the precomputed synthetic vectors; queries go to the real model."""

    real: object
    by_text: dict[str, np.ndarray]

    @property
    def model_id(self) -> str:
        return self.real.model_id

    @property
    def dimension(self) -> int:
        return self.real.dimension

    @property
    def runtime(self) -> str | None:
        """The real model's: the synthetic vectors were computed on it, and the index records it."""
        return getattr(self.real, "runtime", None)

    def encode_queries(self, texts):
        return self.real.encode_queries(texts)

    def clear_query_cache(self) -> None:
        clear_query_cache(self.real)

    def encode_documents(self, texts, progress=None):
        out = np.stack([self.by_text[t] for t in texts])
        if progress:
            progress(len(texts))
        return out


def build_synthetic_index(size: int, pool, vectors, embedder, cache_dir: Path) -> tuple[Path, float]:
    """Build (or reuse) the index of a synthetic corpus; returns its folder and the build seconds. Beside it
    goes exact_top10.npy: the exact top 10 chunks of every QUERIES question by float32 cosine, computed
    from the vectors before they were stored (the truth recall is measured against)."""
    from zhengce.index.embed import embedding_text
    from zhengce.index.store import SCHEMA_VERSION, build_index, load_index

    # "f32-sq8": chunk vectors stored float32 (sentences float16), HNSW over 8-bit codes; "weighted-unique":
    # synthetic_corpus's weighted sums of distinct texts. An index cached by an older layout or corpus is rebuilt
    index_dir = cache_dir / f"index-{size}-schema{SCHEMA_VERSION}-f32-sq8-weighted-unique"
    truth = exact_truth_path(index_dir)
    try:
        load_index(index_dir)
        if truth.exists():
            return index_dir, float("nan")
    except Exception:
        pass
    shutil.rmtree(index_dir, ignore_errors=True)
    chunks, rows = synthetic_corpus(pool, vectors, size)
    queries = embedder.encode_queries(QUERIES)
    exact = np.argsort(-(rows @ queries.T), axis=0)[:10].T  # (questions, 10), best first
    by_text = {sentence: vector for (_, sentence), vector in zip(pool, vectors)}
    by_text.update({embedding_text(c): v for c, v in zip(chunks, rows)})
    precomputed = PrecomputedEmbedder(embedder, by_text)
    del rows
    started = time.perf_counter()
    build_index(index_dir, [], chunks, precomputed, ChunkConfig())
    seconds = time.perf_counter() - started
    np.save(truth, exact.astype(np.int64), allow_pickle=False)
    return index_dir, seconds


def size_label(size: int) -> str:
    if size < 1000:  # a test's small index
        return f"{size} chunks (synthetic)"
    return f"{size // 1000}k chunks (synthetic)" if size < 1_000_000 else f"{size / 1e6:g}M chunks (synthetic)"


def exact_truth_path(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + "-exact_top10.npy")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# ---------------------------------------------------------------- measurements


def clear_query_cache(embedder) -> None:
    clear = getattr(embedder, "clear_query_cache", None)  # the fake embedder has no cache
    if clear is not None:
        clear()


def time_queries(fn, queries: list[str], repeats: int, embedder=None) -> list[float]:
    """Milliseconds per call. Each call sees its query as new: the embedder's query cache is cleared
    before it (outside the timing), or repeated passes would time cache hits, not the model."""
    fn(queries[0])  # warm caches (jieba, BLAS threads)
    timings = []
    for _ in range(repeats):
        for query in queries:
            clear_query_cache(embedder)
            started = time.perf_counter()
            fn(query)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_latency(result: BenchResult, label: str, index, embedder, repeats: int, targets: dict[str, float]) -> dict[str, float]:
    from zhengce.index.search import search

    p50s = {}
    floor = time_queries(lambda q: embedder.encode_queries([q]), QUERIES, repeats, embedder)
    result.add("query encoding alone (floor) p50", statistics.median(floor), "ms", label)
    result.add("query encoding alone (floor) p95", percentile(floor, 95), "ms", label)
    p50s["floor"] = statistics.median(floor)
    for mode in ("bm25", "dense", "hybrid"):
        timings = time_queries(lambda q: search(index, embedder, q, k=5, mode=mode), QUERIES, repeats, embedder)
        p50, p95 = statistics.median(timings), percentile(timings, 95)
        target = targets.get(mode)
        result.add(f"{mode} query p50", p50, "ms", label, f"≤ {target:g} ms" if target else "", p50 <= target if target else None)
        result.add(f"{mode} query p95", p95, "ms", label)
        p50s[mode] = p50
    return p50s


def candidate_recall(find, chunk_vectors, queries: np.ndarray, truth: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """For each query: ms of find(query) (the candidate rows, best first), recall@10 of its first 10, and
    recall@10 of the candidates re-scored with chunk_vectors(rows) (what search ranks by)."""
    timings, raw, rescored = [], [], []
    for row, query in enumerate(queries):
        started = time.perf_counter()
        found = find(query)
        timings.append((time.perf_counter() - started) * 1000)
        scores = chunk_vectors(found.tolist()) @ query
        best = found[np.argsort(-scores, kind="stable")[:10]]
        raw.append(len(set(found[:10].tolist()) & set(truth[row].tolist())) / 10)
        rescored.append(len(set(best.tolist()) & set(truth[row].tolist())) / 10)
    return timings, raw, rescored


def measure_ann(result: BenchResult, index, index_dir: Path, embedder, label: str) -> None:
    """The dense side as search runs it at this size: the FAISS call alone (HNSW over 8-bit codes), and
    recall@10 against exact float32 search, of the codes alone and of the candidates re-scored with the
    stored chunk vectors, which is what search ranks by."""
    from zhengce.index.backend import backend_of

    backend = backend_of(index)
    truth = np.load(exact_truth_path(index_dir), allow_pickle=False)
    queries = embedder.encode_queries(QUERIES)
    candidates = SearchConfig().ann_candidates
    # candidates as index/search.py: dense_scores asks for them
    timings, raw, rescored = candidate_recall(lambda q: backend.dense_candidates(q, candidates, None), backend.chunk_vectors, queries, truth)
    what = f"{index.manifest['dense']['faiss']} efSearch={candidates}, {candidates} candidates"
    result.add(f"{what}: FAISS call p50", statistics.median(timings), "ms", label)
    result.add(f"{what}: recall@10 vs exact float32, codes alone", float(np.mean(raw)), "", label)
    recall = float(np.mean(rescored))
    result.add(f"{what}: recall@10 vs exact float32, re-scored (what search ranks)", recall, "", label, "≥ 0.98", recall >= 0.98)


def index_files_mb(index_dir: Path) -> dict[str, float]:
    from zhengce.index.store import current_generation

    generation = current_generation(index_dir)
    sizes = {p.name: p.stat().st_size / 2**20 for p in generation.iterdir() if p.is_file()}
    sizes["bm25/"] = sum(p.stat().st_size for p in (generation / "bm25").iterdir()) / 2**20
    return sizes


def measure_memory(index_dir: Path) -> tuple[float, float, float]:
    """In a fresh process: RSS with the model loaded, then with the index loaded and the 20 QUERIES answered
    (memory-mapped pages they touch count)."""
    code = (
        "import json,sys;from pathlib import Path;from zhengce.eval.bench import rss_mb;"
        "from zhengce.index.store import load_index;from zhengce.index.embed import load_embedder;from zhengce.index.search import search;"
        f"idx_dir=Path({str(index_dir)!r});"
        "from zhengce.index.store import read_manifest,current_generation;"
        "mid=read_manifest(current_generation(idx_dir))['model']['id'];e=load_embedder(mid);e.encode_queries(['热身']);"
        "from zhengce.eval.bench import QUERIES;"
        "a=rss_mb(),rss_mb('RssAnon');i=load_index(idx_dir);[search(i,e,q,k=5) for q in QUERIES];"
        "b=rss_mb(),rss_mb('RssAnon');print(json.dumps([a,b]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    (model_rss, model_anon), (total_rss, total_anon) = json.loads(out.stdout.strip().splitlines()[-1])
    return model_rss, total_rss - model_rss, total_anon - model_anon


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure_build(result: BenchResult, corpus_dir: Path, work: Path, embedder) -> None:
    """Index the real corpus plus fictional recombined documents, then change one document and re-index."""
    from zhengce.library import index_corpus
    from zhengce.index.embed import embedding_text
    from zhengce.index.store import chunk_sentences
    from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus

    corpus = work / "corpus"
    shutil.copytree(corpus_dir, corpus)
    real_chunks = chunk_corpus(ingest_corpus(corpus)[0])
    sentences = [s for _, s in sentence_pool(real_chunks)]
    rng = random.Random(3)
    for number in range(3):  # fictional benchmark documents so the build is long enough to measure
        paragraphs = ["".join(rng.sample(sentences, 4)) for _ in range(12)]
        body = "\n".join(f"{i + 1}.第{i + 1}项工作。{p}" for i, p in enumerate(paragraphs))
        (corpus / f"bench-fictional-{number}.txt").write_text(f"虚构基准测试文件{number}（{2019 + number}年）\n一、重点工作\n{body}\n", encoding="utf-8")
    documents, _ = ingest_corpus(corpus)
    chunks = chunk_corpus(documents)
    # the build embeds each chunk and each of its sentences (index/store.py): time the encoder on exactly those
    texts = [embedding_text(c) for c in chunks] + chunk_sentences(chunks)[0]
    embedder.encode_documents(texts[:16])  # warm-up
    # best of two runs each: a noisy neighbour on a 2-core machine only ever makes a run slower
    encoder_seconds = min(timed(lambda: embedder.encode_documents(texts)) for _ in range(2))
    result.add("encoder alone on the same texts", len(chunks) / encoder_seconds, "chunks/s", f"{len(chunks)} chunks + {len(texts) - len(chunks)} sentences")

    rss_before = rss_mb()
    builds = [timed(lambda: index_corpus(corpus, work / f"index-{n}", model_id=embedder.model_id, show_progress=False)) for n in range(2)]
    build_seconds = min(builds)
    index_dir = work / "index-0"
    ratio = encoder_seconds / build_seconds
    label = f"{len(chunks)} chunks"
    result.add("index build (warm model, best of 2)", build_seconds, "s", label)
    result.add("index build throughput", len(chunks) / build_seconds, "chunks/s", label)
    result.add("build throughput / encoder throughput", ratio, "", label, "≥ 0.90", ratio >= 0.9)
    result.add("RSS growth during builds (model already loaded)", max(0.0, rss_mb() - rss_before), "MB", label)

    changed = corpus / "bench-fictional-1.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("。", "（修订）。", 3), encoding="utf-8")
    started = time.perf_counter()
    again = index_corpus(corpus, index_dir, model_id=embedder.model_id, show_progress=False).report
    result.add("re-index after one document changed", time.perf_counter() - started, "s", f"{again.embedded} of {again.chunks} chunks re-embedded")


def runtime_probe(corpus_dir: str, index_dir: str, repeats: int) -> dict:
    """Run in a fresh process with ZHENGCE_RUNTIME set (measure_runtimes): the default model's load time,
    index build throughput (best of two builds of corpus_dir, model warm) and query encoding p50."""
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.embed import load_embedder, runtime_of
    from zhengce.library import index_corpus

    started = time.perf_counter()
    embedder = load_embedder(DEFAULT_MODEL_ID)
    load_seconds = time.perf_counter() - started
    embedder.encode_documents(["预热。"] * 16)
    builds = []
    for n in range(2):
        folder = Path(index_dir) if n == 0 else Path(index_dir + "-again")
        started = time.perf_counter()
        report = index_corpus(Path(corpus_dir), folder, model_id=DEFAULT_MODEL_ID, show_progress=False).report
        builds.append(time.perf_counter() - started)
    shutil.rmtree(index_dir + "-again", ignore_errors=True)
    encoding = time_queries(lambda q: embedder.encode_queries([q]), QUERIES, repeats, embedder)
    return {"runtime": runtime_of(embedder), "load_s": load_seconds, "chunks": report.chunks,
            "chunks_per_s": report.chunks / min(builds), "query_p50_ms": statistics.median(encoding)}


def measure_runtimes(result: BenchResult, corpus_dir: Path, build_corpus: Path, work: Path, repeats: int, cold_start: bool) -> None:
    """The default runtime against torch fp32, side by side in this run: each in a fresh process (the
    runtime is chosen when the model loads), on the same texts; then serve → first answer on each."""
    probes = {}
    for name in ("", "torch"):  # "": whatever the default is on this CPU
        code = ("import json,sys;from zhengce.eval.bench import runtime_probe;"
                f"print(json.dumps(runtime_probe({str(build_corpus)!r},{str(work / ('index-' + (name or 'default')))!r},{repeats})))")
        env = {**os.environ, "ZHENGCE_RUNTIME": name}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=Path(__file__).resolve().parents[1])
        probes[name] = json.loads(out.stdout.strip().splitlines()[-1])
    default, torch = probes[""], probes["torch"]
    label = f"{default['runtime']} vs torch"
    size = f"{default['chunks']} chunks"
    questions = f"{len(QUERIES)} questions × {repeats}, one thread"
    for key, what, unit, on in (("chunks_per_s", "index build throughput", "chunks/s", size), ("query_p50_ms", "query encoding p50", "ms", questions),
                                ("load_s", "model load (fresh process)", "s", "")):
        result.add(f"{what}, {default['runtime']}", default[key], unit, on)
        result.add(f"{what}, torch fp32", torch[key], unit, on)
    speedup = default["chunks_per_s"] / torch["chunks_per_s"]
    result.add(f"index build throughput, {label}", speedup, "×", size, "≥ 2.5×", speedup >= 2.5)
    ratio = default["query_p50_ms"] / torch["query_p50_ms"]
    result.add(f"query encoding p50, {label}", ratio, "× torch", questions, "≤ 0.4×", ratio <= 0.4)
    if cold_start:
        seconds = {}
        for name in ("", "torch"):
            seconds[name] = measure_cold_start(result, work / ("index-" + (name or "default")), corpus_dir, runtime=name,
                                               what=f"cold start: serve → first answer, {probes[name]['runtime']}")
        if None not in seconds.values():
            result.add(f"cold start, {label}", seconds[""] / seconds["torch"], "× torch", "bundled corpus", "≤ 1× (not slower)", seconds[""] <= seconds["torch"])


def measure_cold_start(result: BenchResult, index_dir: Path, corpus_dir: Path, runtime: str | None = None,
                       what: str = "cold start: serve → first answer") -> float | None:
    """From `zhengce serve` to the first answered question, with the model already built (runtime: the
    ZHENGCE_RUNTIME the server runs with, None: this process's)."""
    try:
        from gradio_client import Client
    except ImportError:
        result.notes.append("cold start not measured: gradio_client is not installed")
        return None
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ZHENGCE_INDEX_DIR": str(index_dir), "ZHENGCE_CORPUS": str(corpus_dir),
           **({"ZHENGCE_RUNTIME": runtime} if runtime is not None else {})}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "zhengce", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
    try:
        while time.perf_counter() - started < 120:
            if server.poll() is not None:
                result.notes.append(f"cold start not measured: zhengce serve exited with {server.returncode}")
                return None
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                client.predict(question="积分入学政策", api_name="/ask")
                seconds = time.perf_counter() - started
                result.add(what, seconds, "s", str(corpus_dir.name), "≤ 20 s", seconds <= 20)
                return seconds
            except Exception:
                time.sleep(0.25)
        result.notes.append("cold start not measured: no answer within 120 s")
        return None
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def backend_env(backend: str, uri: str = ""):
    """The bench decides where its own indexes go: the backend options stand for environment variables
    (zhengce/cli.py), which index_corpus and a spawned `zhengce serve` read."""
    saved = {k: os.environ.get(k) for k in ("ZHENGCE_BACKEND", "ZHENGCE_MILVUS_URI")}
    os.environ["ZHENGCE_BACKEND"] = backend
    os.environ["ZHENGCE_MILVUS_URI"] = uri
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_bench(corpus_dir: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES, repeats: int = 3, cold_start: bool = True,
              runtimes: bool = True, backend: str = "faiss") -> BenchResult:
    """backend "milvus": the same latency table for milvus-lite (run_milvus_bench); "faiss": the default."""
    if backend == "milvus":
        return run_milvus_bench(corpus_dir, out_dir, sizes, repeats)
    if backend != "faiss":
        from zhengce.errors import ZhengceError

        raise ZhengceError(f"unknown backend {backend!r} for zhengce bench; choose faiss or milvus")
    with backend_env("faiss"):
        return run_faiss_bench(corpus_dir, out_dir, sizes, repeats, cold_start, runtimes)


def run_faiss_bench(corpus_dir: Path, out_dir: Path, sizes: tuple[int, ...], repeats: int, cold_start: bool,
                    runtimes: bool) -> BenchResult:
    from zhengce.library import index_corpus
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.embed import load_embedder
    from zhengce.index.store import load_index
    from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus

    result = BenchResult()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = out_dir / "cache"
    model_id = os.environ.get("ZHENGCE_MODEL") or DEFAULT_MODEL_ID
    started = time.perf_counter()
    embedder = load_embedder(model_id)
    result.add("model load (in process)", time.perf_counter() - started, "s")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure_build(result, corpus_dir, work / "build", embedder)
        index_dir = work / "corpus-index"
        index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=False)
        index = load_index(index_dir)
        label = f"corpus ({len(index.chunks)} chunks)"
        p50 = measure_latency(result, label, index, embedder, repeats, {"hybrid": 25.0})
        overhead = (p50["hybrid"] - p50["floor"]) / p50["hybrid"]
        result.add("hybrid search overhead (all but query encoding)", overhead * 100, "% of total", label, "≤ 30%", overhead <= 0.30)
        if cold_start:
            measure_cold_start(result, index_dir, corpus_dir)
        if runtimes and model_id == DEFAULT_MODEL_ID:
            measure_runtimes(result, corpus_dir, work / "build" / "corpus", work / "runtimes", repeats, cold_start)

    pool = sentence_pool(chunk_corpus(ingest_corpus(corpus_dir)[0]))
    vectors = sentence_vectors(pool, embedder, cache_dir)
    for size in sizes:
        index_dir, build_seconds = build_synthetic_index(size, pool, vectors, embedder, cache_dir)
        label = size_label(size)
        if build_seconds == build_seconds:  # not NaN: built in this run
            result.add("index build without embedding (tokenize, BM25, FAISS, files)", build_seconds, "s", label)
            result.add("peak RSS of the bench process so far (model, synthetic corpus and its float32 vectors, build)", peak_rss_mb(), "MB", label)
        index = load_index(index_dir)
        result.add("index type chosen", 0, index.manifest["dense"]["faiss"], label)
        files = index_files_mb(index_dir)
        result.notes.append(
            f"{label} on disk: vectors.npy {files['vectors.npy']:.0f} MB, sentence_vectors.npy {files['sentence_vectors.npy']:.0f} MB "
            f"({len(index.sentence_owner)} sentences, {index.manifest['dense'].get('stored_sentence_vectors', 'float32')}), bm25/ {files['bm25/']:.0f} MB, "
            f"dense.faiss {files['dense.faiss']:.0f} MB, chunks.jsonl {files['chunks.jsonl']:.0f} MB"
        )
        targets = {"hybrid": 60.0} if size >= 1_000_000 else {"hybrid": 50.0} if size >= 100_000 else {}
        measure_latency(result, label, index, embedder, max(1, repeats - 1), targets)
        if size >= 100_000:
            measure_ann(result, index, index_dir, embedder, label)
            model_rss, index_rss, index_anon = measure_memory(index_dir)
            result.add("RSS of model alone (fresh process)", model_rss, "MB", label)
            limit = 3072 if size >= 1_000_000 else 1024
            result.add("RSS beyond the model (index loaded + 20 queries)", index_rss, "MB", label, f"≤ {limit} MB", index_rss <= limit)
            result.add("of which the process's own (RssAnon; the rest is mapped file pages)", index_anon, "MB", label, f"≤ {limit} MB", index_anon <= limit)
        del index
    result.notes.append(
        "Synthetic chunks: 3–5 real sentences recombined; vectors are normalised sums of cached real sentence "
        "embeddings (query vectors come from the real model)."
    )
    return result


# ---------------------------------------------------------------- the Milvus backend (milvus-lite)


def lite_note() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        lite = f"milvus-lite {version('milvus-lite')}"
    except PackageNotFoundError:
        lite = "milvus-lite"
    return (f"Rows marked milvus-lite: {lite}, embedded, is a pure-Python implementation of Milvus's API (loops in Python), "
            "not the Milvus C++ core: its latencies measure lite and say nothing about a Milvus server. The FAISS rows "
            "beside them are the same generation searched in the same run; ratios are lite / FAISS.")


def publish_to_lite(result: BenchResult, uri: str, index_dir: Path, index, label: str):
    """Copy a built generation into the milvus-lite file as `zhengce index --backend milvus` does, and open it
    as search opens it (library.open_index)."""
    from zhengce.index.backend import MilvusTarget, name_for
    from zhengce.index.milvus_backend import open_milvus, publish

    target = MilvusTarget(uri, name_for(index_dir))
    started = time.perf_counter()
    publish(target, index)
    result.add("publish to milvus-lite (copy the built generation, flush, load)", time.perf_counter() - started, "s", label)
    milvus_index = open_milvus(target)
    result.add("index type chosen", 0, f"{index.manifest['dense']['faiss']} (FAISS); {milvus_index.manifest['milvus']['dense']} (milvus-lite)", label)
    return target, milvus_index


def measure_side_by_side(result: BenchResult, label: str, faiss_index, milvus_index, embedder, repeats: int) -> None:
    """Each search mode and ask, through the same functions (index/search.py, zhengce/answer.py), on the same
    generation in FAISS and in milvus-lite."""
    from zhengce.answer import answer_question

    p50s = {}
    for name, index in (("FAISS", faiss_index), ("milvus-lite", milvus_index)):
        where = f"{label}, {name}"
        p50s[name] = measure_latency(result, where, index, embedder, repeats, {})
        asks = time_queries(lambda q: answer_question(index, embedder, q, k=5), QUERIES, repeats, embedder)
        result.add("ask p50", statistics.median(asks), "ms", where)
        result.add("ask p95", percentile(asks, 95), "ms", where)
        p50s[name]["ask"] = statistics.median(asks)
    for what in ("bm25", "dense", "hybrid", "ask"):
        result.add(f"{what} p50, milvus-lite / FAISS", p50s["milvus-lite"][what] / p50s["FAISS"][what], "×", label)


def measure_milvus_ann(result: BenchResult, milvus_index, index_dir: Path, embedder, label: str) -> None:
    """The dense side in milvus-lite as MilvusBackend.dense_candidates asks it (FLAT up to MAX_WINDOW chunks,
    HNSW above): the chunk search alone, and recall@10 against exact float32, of its order and of its
    candidates re-scored with the stored vectors."""
    backend = milvus_index.backend
    truth = np.load(exact_truth_path(index_dir), allow_pickle=False)
    queries = embedder.encode_queries(QUERIES)
    candidates = SearchConfig().ann_candidates
    params = {"metric_type": "IP", "params": {"ef": max(candidates, 64)}}  # the ef dense_candidates uses

    def find(query: np.ndarray) -> np.ndarray:
        hits = backend.milvus.search(backend.chunks_collection, data=[query.tolist()], anns_field="vector", limit=candidates,
                                     output_fields=["row"], search_params=params)[0]
        return np.asarray([h["row"] for h in hits], dtype=np.int64)

    timings, raw, rescored = candidate_recall(find, backend.chunk_vectors, queries, truth)
    what = f"milvus-lite {milvus_index.manifest['milvus']['dense']}, {candidates} candidates"
    result.add(f"{what}: chunk search p50", statistics.median(timings), "ms", label)
    result.add(f"{what}: recall@10 vs exact float32, as returned", float(np.mean(raw)), "", label)
    result.add(f"{what}: recall@10 vs exact float32, re-scored", float(np.mean(rescored)), "", label)


def run_milvus_bench(corpus_dir: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES, repeats: int = 3) -> BenchResult:
    """`zhengce bench --backend milvus`: each index built as the default bench builds it (FAISS + bm25s on
    disk; synthetic sizes from the same cache), published to a milvus-lite file in a temporary folder, then
    searched and asked beside FAISS on the same generation, with recall against exact search at the
    synthetic sizes. Build, cold start, runtimes and memory are left to the default bench: they are the
    same build, and lite's process says nothing about a server's."""
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.embed import load_embedder
    from zhengce.index.milvus_backend import client, drop_index, _clients
    from zhengce.index.store import load_index
    from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus
    from zhengce.library import index_corpus

    result = BenchResult()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = out_dir / "cache"
    model_id = os.environ.get("ZHENGCE_MODEL") or DEFAULT_MODEL_ID
    started = time.perf_counter()
    embedder = load_embedder(model_id)
    result.add("model load (in process)", time.perf_counter() - started, "s")
    with tempfile.TemporaryDirectory(prefix="zhengce-bench-milvus-") as tmp, backend_env("faiss"):
        uri = str(Path(tmp) / "milvus.db")
        client(uri)  # fails here, in one line, without pymilvus
        try:
            index_dir = Path(tmp) / "corpus-index"
            index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=False)
            faiss_index = load_index(index_dir)
            label = f"corpus ({len(faiss_index.chunks)} chunks)"
            _, milvus_index = publish_to_lite(result, uri, index_dir, faiss_index, label)
            measure_side_by_side(result, label, faiss_index, milvus_index, embedder, repeats)

            pool = sentence_pool(chunk_corpus(ingest_corpus(corpus_dir)[0]))
            vectors = sentence_vectors(pool, embedder, cache_dir)
            for size in sizes:
                index_dir, _ = build_synthetic_index(size, pool, vectors, embedder, cache_dir)
                label = size_label(size)
                faiss_index = load_index(index_dir)
                target, milvus_index = publish_to_lite(result, uri, index_dir, faiss_index, label)
                measure_side_by_side(result, label, faiss_index, milvus_index, embedder, max(1, repeats - 1))
                measure_milvus_ann(result, milvus_index, index_dir, embedder, label)
                drop_index(target)  # lite holds collections in memory: free them before the next size
                del faiss_index, milvus_index
        finally:
            _clients.pop(uri).close()  # releases the .db before its folder goes
    result.notes.append(lite_note())
    if sizes:
        result.notes.append(
            "Synthetic chunks: 3–5 real sentences recombined; vectors are normalised sums of cached real sentence "
            "embeddings (query vectors come from the real model)."
        )
    return result


def to_markdown(result: BenchResult) -> str:
    lines = [
        "| measurement | size | value | unit | target | met |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for row in result.rows:
        met = "" if row["ok"] is None else ("yes" if row["ok"] else "**no**")
        value = "" if row["what"] == "index type chosen" else f"{row['value']:g}"
        lines.append(f"| {row['what']} | {row['size']} | {value} | {row['unit']} | {row['target']} | {met} |")
    lines += [""] + [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def save(result: BenchResult, out_dir: Path) -> tuple[Path, Path]:
    import platform

    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}
    md = out_dir / "bench.md"
    md.write_text(f"# zhengce bench ({meta['date']}, {meta['machine']})\n\n" + to_markdown(result), encoding="utf-8")
    js = out_dir / "bench.json"
    js.write_text(json.dumps({"meta": meta, "rows": result.rows, "notes": result.notes}, ensure_ascii=False, indent=2), encoding="utf-8")
    return md, js
