"""The running server while the library changes, with the fake embedder slowed down so that the index
build takes seconds: 20 people asking through the API during an upload's re-index, and the server killed
(SIGKILL) in the middle of one. Marked `slow` (servers and a process; ~30 s together)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from zhengce.app.web import start
from zhengce.cli import main
from zhengce.index.embed import use_embedder
from zhengce.index.store import current_generation, load_index
from zhengce.library import Library

import fakes
from conftest import REPO
from plans import PLAN_2019, write_docx
from test_web_manage import PASSWORD, SAFETY_PLAN, SAFETY_QUESTION, upload
from webkit import free_port

pytestmark = pytest.mark.slow
QUESTIONS = ["积分入学政策", "今年新增多少学位", SAFETY_QUESTION, "普惠性幼儿园覆盖率目标", "今天天气怎么样"]
# a longer invented document: its re-index embeds ~100 sentences, several seconds at the slowed pace
LONG_PLAN = SAFETY_PLAN + [f"{i}.第{i}项措施：学校每学期组织{i}次食品安全培训，校长带头检查后厨卫生。" for i in range(2, 40)]


def chunks_of(index_dir: Path, generation: str) -> dict[str, dict]:
    lines = (index_dir / generation / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["chunk_id"]: row for row in map(json.loads, lines)}


def test_twenty_people_ask_while_an_upload_reindexes(tmp_path, corpus_copy):
    index_dir = tmp_path / "index"
    assert main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]) == 0
    use_embedder(fakes.SlowHashEmbedder(delay=0.4))  # documents only: questions are encoded at full speed
    demo = start(Library.open(corpus_copy, index_dir, build=False), "127.0.0.1", free_port(), admin_password=PASSWORD)
    from gradio_client import Client

    try:
        clients = [Client(demo.local_url, verbose=False) for _ in range(21)]
        before = current_generation(index_dir).name
        uploaded, rows, errors = threading.Event(), [], []

        def person(number: int) -> None:
            client, asked_after = clients[number], 0
            while asked_after < 2:  # keep asking through the build, and twice after it
                asked_after += uploaded.is_set()
                question = QUESTIONS[(number + len(rows)) % len(QUESTIONS)]
                try:
                    row = client.predict(question=question, api_name="/ask")
                except Exception as exc:  # any failed request fails the test
                    errors.append(f"{type(exc).__name__}: {exc}")
                    return
                (errors if "error" in row else rows).append(row)

        people = [threading.Thread(target=person, args=(n,)) for n in range(20)]
        for thread in people:
            thread.start()
        time.sleep(1)
        plan = write_docx(tmp_path / "晋江市2021年校园食品安全工作方案.docx", LONG_PLAN)
        started = time.monotonic()
        lines = upload(clients[20], [plan])
        build_seconds = time.monotonic() - started
        uploaded.set()
        for thread in people:
            thread.join(timeout=120)
        assert "已添加 added 晋江市2021年校园食品安全工作方案.docx" in lines and "索引已更新" in lines, lines
        after = current_generation(index_dir).name
        assert errors == []
        by_generation = {g: [r for r in rows if r["generation"] == g] for g in (before, after)}
        print(f"{len(rows)} answers during a {build_seconds:.1f} s upload: {len(by_generation[before])} from {before}, "
              f"{len(by_generation[after])} from {after}")
        assert build_seconds > 2 and len(by_generation[before]) >= 20 and len(by_generation[after]) >= 40
        assert len(rows) == sum(map(len, by_generation.values()))
        # every passage an answer shows is that generation's, word for word, with that generation's title
        for generation, answers in by_generation.items():
            chunks = chunks_of(index_dir, generation)
            for row in answers:
                for hit in row["citations"] + row["possibly_related"]:
                    assert chunks[hit["chunk_id"]]["text"] == hit["text"] and chunks[hit["chunk_id"]]["title"] == hit["title"]
        assert not any(h["doc_id"] == "晋江市2021年校园食品安全工作方案" for r in by_generation[before] for h in r["citations"])
        assert any(r["citations"] and r["citations"][0]["doc_id"] == "晋江市2021年校园食品安全工作方案" for r in by_generation[after])
    finally:
        demo.close()


def serve(corpus: Path, index_dir: Path, port: int, delay: float) -> subprocess.Popen:
    env = {**os.environ, "ZHENGCE_ADMIN_PASSWORD": PASSWORD, "ZHENGCE_FAKE_EMBED_DELAY": str(delay), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_cli.py"), "serve", "--corpus", str(corpus), "--index-dir", str(index_dir),
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    for line in process.stdout:  # the main job prints its URL once it listens
        if "web chat at" in line:
            return process
    raise AssertionError(f"zhengce serve exited with {process.wait()}")


def test_killed_during_an_uploads_reindex_nothing_is_lost(tmp_path, corpus_copy):
    from gradio_client import Client

    index_dir = tmp_path / "index"
    args = ["--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]
    assert main(["index", *args]) == 0
    indexed_before = {d["doc_id"] for d in load_index(index_dir).documents}
    generation = current_generation(index_dir).name
    port = free_port()
    server = serve(corpus_copy, index_dir, port, delay=1.0)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        plan = write_docx(tmp_path / "晋江市2019年教育工作要点.docx", PLAN_2019 + LONG_PLAN[3:])  # ~8 s to embed

        def upload_until_killed() -> None:
            try:
                upload(client, [plan])
            except Exception:
                pass  # the server dies under it

        threading.Thread(target=upload_until_killed, daemon=True).start()
        deadline = time.monotonic() + 60
        while not (corpus_copy / "changes.jsonl").exists():  # copied and catalogued: the re-index has begun
            assert time.monotonic() < deadline, "the upload never reached the corpus"
            time.sleep(0.1)
        time.sleep(1.5)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        server.kill()
    assert current_generation(index_dir).name == generation  # the build never switched

    server = serve(corpus_copy, index_dir, port, delay=0)
    try:
        row = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(question="积分入学政策", api_name="/ask")
        assert row["generation"] == generation and row["answerable"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert main(["index", *args]) == 0  # the re-run
    indexed = {d["doc_id"] for d in load_index(index_dir).documents}
    in_corpus = (corpus_copy / "晋江市2019年教育工作要点.docx").exists()
    catalogued = "晋江市2019年教育工作要点.docx" in {e["file"] for e in tomllib.loads((corpus_copy / "catalog.toml").read_text("utf-8"))["document"]}
    assert in_corpus == catalogued == ("晋江市2019年教育工作要点" in indexed)  # all of it, or none
    assert indexed_before <= indexed  # nothing indexed before was lost
    assert not any(p.name.startswith(".tmp-") for p in index_dir.iterdir())
