"""The Milvus backend against milvus-lite: the collections, filters, aliases and round trips, and rank
parity with FAISS + bm25s on every question of the bundled test sets (fake embedder; one real-model check).

What lite cannot show (a server's tokenizer, ANN recall and latency on a server, a cluster) is not tested
here: docs/guide.md#milvus."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

import fakes  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
COLLECTION = REPO / "tests/collection/files"
MODES = ("hybrid", "dense", "bm25")


def build_both(corpus: Path, root: Path, uri: str):
    """(FAISS library, Milvus library) over the same generation on disk."""
    from zhengce.library import Library, index_corpus

    index_dir = root / "index"
    index_corpus(corpus, index_dir, model_id=fakes.FAKE_MODEL_ID, show_progress=False)
    faiss_lib = Library.open(corpus, index_dir, build=False)
    os.environ.update(ZHENGCE_BACKEND="milvus", ZHENGCE_MILVUS_URI=uri)
    try:
        result = index_corpus(corpus, index_dir, model_id=fakes.FAKE_MODEL_ID, show_progress=False)
        milvus_lib = Library.open(corpus, index_dir, build=False)
    finally:
        os.environ["ZHENGCE_BACKEND"] = "faiss"
    assert result.report.embedded == 0 and "[g000001]" in result.published  # the vectors were reused, not re-embedded
    return faiss_lib, milvus_lib


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    fakes.install()
    root = tmp_path_factory.mktemp("milvus-bundled")
    return build_both(CORPUS, root, str(root / "milvus.db"))


def questions(testset: str) -> list[str]:
    from zhengce.eval.testset import load_testset

    return [item.query for item in load_testset(REPO / testset)]


def assert_same_hits(faiss_lib, milvus_lib, query: str, **options):
    expected = [h.to_json() for h in faiss_lib.search(query, **options)]
    got = [h.to_json() for h in milvus_lib.search(query, **options)]
    # same passages in the same order with the same scores (keyword scores to the bit, dense to 1e-6)
    assert [h["chunk_id"] for h in got] == [h["chunk_id"] for h in expected], (query, options)
    assert got == expected, (query, options)


def test_the_generation_is_collections_behind_an_alias_with_the_manifest(both):
    from zhengce.index.milvus_backend import client, live_manifest

    faiss_lib, milvus_lib = both
    backend = milvus_lib.index.backend
    milvus = client(backend.target.uri)
    collection, manifest = live_manifest(backend.target)
    assert milvus.describe_alias(backend.target.name)["collection_name"] == collection == backend.meta_collection
    assert manifest["model"] == faiss_lib.index.manifest["model"]  # model id, dimension, runtime: checked on open
    assert manifest["milvus"]["exact"] is True and manifest["milvus"]["chunks"] == len(faiss_lib.index.chunks)
    fields = {f["name"]: f["type"].name for f in milvus.describe_collection(backend.chunks_collection)["fields"]}
    assert fields == {"row": "INT64", "chunk_id": "VARCHAR", "doc_id": "VARCHAR", "year": "INT64", "record": "VARCHAR",
                      "vector": "FLOAT_VECTOR", "keywords": "SPARSE_FLOAT_VECTOR"}
    assert milvus.get_collection_stats(backend.sentences_collection)["row_count"] == len(faiss_lib.index.sentence_owner)
    # the round trip: chunk records, documents and vectors come back as they went in
    assert milvus_lib.index.chunks == faiss_lib.index.chunks
    assert milvus_lib.index.documents == faiss_lib.index.documents
    rows = [0, 7, 3]
    assert (backend.chunk_vectors(rows) == faiss_lib.index.vectors[rows]).all()
    assert (backend.sentence_vectors(7) == faiss_lib.index.sentence_vectors[faiss_lib.index.sentence_owner == 7]).all()


def test_keyword_scores_are_bm25s_scores_to_the_bit(both):
    from zhengce.index.backend import backend_of
    from zhengce.index.tokenize import tokenize

    faiss_lib, milvus_lib = both
    for query in ["积分入学政策", "学前教育 学前教育 学位", "教师 培训 教师", "没有的词汇"]:
        tokens = tokenize(query)
        assert (backend_of(milvus_lib.index).keyword_scores(tokens) == backend_of(faiss_lib.index).keyword_scores(tokens)).all()


@pytest.mark.parametrize("testset", ["eval/testset_2018.jsonl"])
def test_rank_parity_on_every_question_of_the_bundled_test_set(both, testset):
    faiss_lib, milvus_lib = both
    for query in questions(testset):
        for mode in MODES:
            assert_same_hits(faiss_lib, milvus_lib, query, k=10, mode=mode)


def test_rank_parity_on_every_question_of_the_collection(tmp_path):
    faiss_lib, milvus_lib = build_both(COLLECTION, tmp_path, str(tmp_path / "milvus.db"))
    assert len(faiss_lib.documents) == 14
    for query in questions("eval/testset_collection.jsonl"):
        for mode in MODES:
            assert_same_hits(faiss_lib, milvus_lib, query, k=10, mode=mode)
        assert milvus_lib.ask(query).to_json() == faiss_lib.ask(query).to_json()
    # metadata filters, and compare (chunk vectors fetched from Milvus)
    assert_same_hits(faiss_lib, milvus_lib, "学前教育学位", k=10, years=[2019])
    doc = faiss_lib.documents[0]["doc_id"]
    assert_same_hits(faiss_lib, milvus_lib, "学前教育学位", k=10, docs=[doc])
    assert milvus_lib.compare("学前教育").to_json() == faiss_lib.compare("学前教育").to_json()


def test_candidates_from_milvus_search_honour_the_filters(both):
    """Above the exact size Milvus proposes the candidates (chunks and best sentences, filtered by year or
    document); on a corpus smaller than the candidate count they are every allowed chunk."""
    import numpy as np

    faiss_lib, milvus_lib = both
    backend = milvus_lib.index.backend
    vector = milvus_lib.embedder.encode_queries(["积分入学"])[0]
    everything = backend.dense_candidates(vector, 200, None)
    assert everything.tolist() == list(range(len(milvus_lib.index.chunks)))
    index = milvus_lib.index
    mask = index.row_year_array == 2018
    assert backend.filter_expression(mask, "row") == "year in [2018]"
    assert backend.dense_candidates(vector, 200, mask).tolist() == np.flatnonzero(mask).tolist()
    some = np.zeros(len(index.chunks), dtype=bool)
    some[[2, 5, 9]] = True
    assert backend.filter_expression(some, "row") == "row in [2, 5, 9]"
    assert backend.dense_candidates(vector, 2, some).tolist() in ([2, 5], [2, 9], [5, 9], [2, 5, 9])
    backend.exact = False  # the large-index path: candidates from Milvus, similarities from fetched vectors
    try:
        for mode in ("hybrid", "dense"):
            assert_same_hits(faiss_lib, milvus_lib, "积分入学政策", k=10, mode=mode)
    finally:
        backend.exact = True


def test_a_new_generation_switches_the_alias_keeps_the_previous_and_readers_follow(tmp_path, corpus_copy, monkeypatch):
    from zhengce.index.milvus_backend import client, generation_numbers
    from zhengce.library import Library

    monkeypatch.setenv("ZHENGCE_BACKEND", "milvus")
    monkeypatch.setenv("ZHENGCE_MILVUS_URI", str(tmp_path / "milvus.db"))
    lib = Library.open(corpus_copy, tmp_path / "index")  # builds: disk generation, then Milvus g000001
    first = lib.index.backend
    before = len(lib.index.chunks)
    (corpus_copy / "新增文件.txt").write_text("临澜市2030年体育工作要点\n一、推进校园足球\n全市新建足球场二十块，每所学校每周开展足球课。\n",
                                           encoding="utf-8")
    result = lib.update()
    assert result.report.embedded > 0 and result.report.reused >= before  # only the new document was embedded
    assert "[g000002]" in result.published
    assert len(lib.index.chunks) > before and lib.index.backend.meta_collection != first.meta_collection
    # the generation a reader opened before stays searchable after the switch
    assert first.keyword_scores(["积分"]).max() > 0
    other = Library.open(corpus_copy, tmp_path / "index", build=False)
    lib.update()  # g000003: g000001 is dropped, g000002 kept as the previous one
    milvus = client(str(tmp_path / "milvus.db"))
    assert generation_numbers(milvus, first.target.name) == [2, 3]
    other.index.backend.checked -= 60  # as if FOLLOW_SECONDS had passed
    assert "全市新建足球场二十块" in other.search("足球场", k=1)[0].text
    assert other.index.backend.meta_collection == lib.index.backend.meta_collection


def test_the_manifest_is_checked_on_open(both, monkeypatch):
    from zhengce.index.milvus_backend import open_milvus
    from zhengce.index.store import IndexMismatch, IndexMissing
    from zhengce.index.backend import MilvusTarget

    target = both[1].index.backend.target
    with pytest.raises(IndexMismatch, match="was built with model"):
        open_milvus(target, model_id="another/model")
    with pytest.raises(IndexMissing, match="build it with: zhengce index --backend milvus"):
        open_milvus(MilvusTarget(target.uri, "zhengce_nothing_here"))


def test_the_cli_indexes_searches_and_asks_on_milvus(tmp_path, capsys, monkeypatch):
    from zhengce.cli import main

    where = ["--corpus", str(CORPUS), "--index-dir", str(tmp_path / "index")]
    milvus = ["--backend", "milvus", "--milvus-uri", str(tmp_path / "milvus.db")]
    assert main(["index", "--quiet", *where, *milvus]) == 0
    assert "published → Milvus index zhengce_" in capsys.readouterr().out
    assert main(["search", "积分入学政策", "--json", *where, *milvus]) == 0
    on_milvus = capsys.readouterr().out
    os.environ["ZHENGCE_BACKEND"] = "faiss"
    assert main(["search", "积分入学政策", "--json", *where]) == 0
    assert capsys.readouterr().out == on_milvus
    assert main(["ask", "积分入学政策是什么？", *where, *milvus]) == 0
    assert "[1]" in capsys.readouterr().out
    monkeypatch.delenv("ZHENGCE_MILVUS_URI")
    assert main(["search", "积分入学", *where, "--backend", "milvus"]) == 1  # no URI: a one-line error
    err = capsys.readouterr().err
    assert err.startswith("zhengce: error: --backend milvus needs a Milvus URI") and err.count("\n") == 1


def test_eval_numbers_are_identical_on_milvus(tmp_path, monkeypatch):
    from zhengce.eval.run import run_eval

    summary_faiss, _, meta = run_eval(REPO / "eval/testset_2018.jsonl", CORPUS, ["hybrid", "bm25"], k=10)
    assert meta["backend"] == "faiss"
    monkeypatch.setenv("ZHENGCE_BACKEND", "milvus")
    monkeypatch.setenv("ZHENGCE_MILVUS_URI", str(tmp_path / "milvus.db"))
    summary_milvus, _, meta = run_eval(REPO / "eval/testset_2018.jsonl", CORPUS, ["hybrid", "bm25"], k=10)
    assert meta["backend"] == "milvus"
    assert without_latency(summary_milvus) == without_latency(summary_faiss)  # every quality number identical
    from zhengce.index.milvus_backend import client

    assert client(str(tmp_path / "milvus.db")).list_collections() == []  # eval's temporary index was dropped


def without_latency(summary):
    if isinstance(summary, dict):
        return {k: without_latency(v) for k, v in summary.items() if "latency" not in k}
    return "nan" if summary != summary else summary  # NaN (no item of a kind) equals itself here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lite_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """milvus-lite as a server (several processes; an embedded .db opens in one); returns it and its URI."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                               "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError("milvus-lite server did not start")
            time.sleep(0.3)


FOOTBALL_PLAN = "临澜市2031年体育工作要点\n一、推进校园足球\n全市新建足球场三十块。\n"


def build_in_another_process(corpus: Path, index_dir: Path, uri: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "tests/fake_cli.py"), "index", "--quiet", "--corpus", str(corpus),
         "--index-dir", str(index_dir), "--backend", "milvus", "--milvus-uri", uri],
        env={**os.environ, "ZHENGCE_MODEL": fakes.FAKE_MODEL_ID}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_reader_keeps_answering_while_another_process_builds_and_switches(tmp_path, corpus_copy, monkeypatch):
    """This process answers in a loop while `zhengce index --backend milvus` in another process publishes a
    new generation."""
    from zhengce.library import Library

    server, uri = start_lite_server(tmp_path / "data")
    try:
        monkeypatch.setenv("ZHENGCE_BACKEND", "milvus")
        monkeypatch.setenv("ZHENGCE_MILVUS_URI", uri)
        lib = Library.open(corpus_copy, tmp_path / "index")
        first = lib.index.backend.meta_collection
        (corpus_copy / "新增文件.txt").write_text(FOOTBALL_PLAN, encoding="utf-8")
        builder = build_in_another_process(corpus_copy, tmp_path / "index", uri)
        answered = 0
        while builder.poll() is None:
            assert lib.search("积分入学政策", k=3)[0].chunk_id  # never an error while the other process builds
            answered += 1
        out, err = builder.communicate()
        assert builder.returncode == 0, err
        assert "[g000002]" in out and answered > 0
        lib.index.backend.checked -= 60
        assert "全市新建足球场三十块" in lib.search("足球场", k=1)[0].text
        assert lib.index.backend.meta_collection != first
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_on_milvus_keeps_answering_while_another_process_switches_the_alias(tmp_path, corpus_copy):
    """`zhengce serve --backend milvus` (a real server process, asked through gradio_client) answers every
    question while `zhengce index --backend milvus` in another process publishes a new generation, then
    answers from the new one without a restart."""
    from gradio_client import Client

    server, uri = start_lite_server(tmp_path / "data")
    index_dir, port = tmp_path / "index", free_port()
    web = subprocess.Popen(
        [sys.executable, str(REPO / "tests/fake_cli.py"), "serve", "--corpus", str(corpus_copy), "--index-dir", str(index_dir),
         "--backend", "milvus", "--milvus-uri", uri, "--port", str(port)],
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        for line in web.stdout:  # the main job prints its URL once it listens
            if "web chat at" in line:
                break
        else:
            raise AssertionError(f"zhengce serve exited with {web.wait()}")
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = client.predict(question="积分入学政策", api_name="/ask")
        assert first["answerable"] and first["citations"], first
        (corpus_copy / "新增文件.txt").write_text(FOOTBALL_PLAN, encoding="utf-8")
        builder = build_in_another_process(corpus_copy, index_dir, uri)
        answers = []
        while builder.poll() is None:
            row = client.predict(question="积分入学政策", api_name="/ask")
            assert "error" not in row and row["citations"], row  # never an error while the other process builds
            answers.append(row)
        out, err = builder.communicate()
        assert builder.returncode == 0 and "[g000002]" in out, err
        assert answers, "the build finished before a question was asked"
        deadline = time.monotonic() + 20  # the server looks at the alias at most every 2 s
        while True:
            row = client.predict(question="足球场", api_name="/ask")
            if any("全市新建足球场三十块" in c["text"] for c in row["citations"] + row["possibly_related"]):
                break
            assert time.monotonic() < deadline, row
            time.sleep(0.5)
        assert web.poll() is None
    finally:
        web.terminate()
        web.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.model
def test_rank_parity_with_the_real_model(real_model_index, tmp_path):
    from zhengce.index.embed import load_embedder
    from zhengce.index.backend import MilvusTarget
    from zhengce.index.milvus_backend import open_milvus, publish
    from zhengce.index.search import search

    index, embedder, _ = real_model_index
    target = MilvusTarget(str(tmp_path / "milvus.db"), "zhengce_real")
    publish(target, index)
    on_milvus = open_milvus(target, model_id=index.model_id)
    for query in questions("eval/testset_2018.jsonl"):
        expected = [h.to_json() for h in search(index, embedder, query, k=10)]
        assert [h.to_json() for h in search(on_milvus, embedder, query, k=10)] == expected, query
