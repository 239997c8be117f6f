"""The web app through its API (gradio_client) against a launched server, with the fake embedder."""
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from zhengce.answer import answer_question
from zhengce.app.web import Shelf, mark_sentences, reader_html, reply_markdown, shown_question, sources_html, start

from conftest import REPO
from webkit import free_port

POINTS_SECTION = "四、强化统筹推动，促进各类教育协调发展 > 2.义务教育优质均衡"


@pytest.fixture(scope="module")
def server(fake_library):
    demo = start(fake_library, "127.0.0.1", free_port())
    yield demo.local_url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def test_ask_endpoint_returns_the_structured_answer(client):
    row = client.predict(question="积分入学政策", api_name="/ask")
    assert row["answerable"] is True and row["answer"].endswith("]")
    assert any(c["section"] == POINTS_SECTION and c["marker"] >= 1 and c["highlights"] for c in row["citations"])


def test_ask_endpoint_filters_and_history(client):
    row = client.predict(question="积分入学政策", years=[2018], doc_ids=["晋江2018年教育工作要点"], k=2, api_name="/ask")
    assert len(row["citations"]) + len(row["possibly_related"]) == 2
    row = client.predict(question="那民办学校呢？", history=["积分入学政策"], api_name="/ask")
    assert row["search_query"] == "积分入学政策 那民办学校呢？"
    row = client.predict(question="积分入学政策", years=[2017], api_name="/ask")
    assert "2017" in row["error"]


def test_ask_endpoint_robustness(client):
    assert "请输入问题" in client.predict(question="", api_name="/ask")["error"]
    row = client.predict(question="积分入学政策？" * 1500, api_name="/ask")  # 10,500 characters
    assert len(row["question"]) == 300 and any("问题过长" in n for n in row["notices"])
    row = client.predict(question="<script>alert(1)</script>今天天气怎么样", api_name="/ask")
    assert row["question"].startswith("<script>") and row["answerable"] is False  # data stays data


def test_twenty_people_asking_at_once_all_get_answers(server):
    """Load test: 20 clients in 20 threads, loopback only, bounded to 120 s."""
    from gradio_client import Client

    questions = ["积分入学政策", "今年新增多少学位", "职业学校和企业怎么合作培养人才", "普惠性幼儿园覆盖率目标", "今天天气怎么样"] * 4

    def one(question):
        started = time.perf_counter()
        row = Client(server, verbose=False).predict(question=question, api_name="/ask")
        return row, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, questions, timeout=120))
    wall = time.perf_counter() - started
    assert len(results) == 20 and all("answer" in row and row["question"] == q for (row, _), q in zip(results, questions))
    latencies = sorted(seconds for _, seconds in results)
    print(f"\n20 concurrent asks: wall {wall:.1f}s, median {latencies[10]:.2f}s, max {latencies[-1]:.2f}s")
    assert wall < 120


def test_the_server_serves_no_repository_files(server):
    for path in (REPO / "README.md", REPO / "corpus" / "catalog.toml", "/etc/passwd"):
        response = httpx.get(f"{server}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404), (path, response.status_code)


# ---------------------------------------------------------------- rendering, no server needed


def test_markup_in_questions_and_passages_is_shown_as_text(fake_index):
    assert shown_question("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert mark_sentences("甲<b>乙</b>。丙丁。", ["丙丁。"]) == "甲&lt;b&gt;乙&lt;/b&gt;。<mark>丙丁。</mark>"
    index, embedder, _ = fake_index
    answer = answer_question(index, embedder, "积分入学政策")
    page = sources_html(answer, Shelf.from_index(index))
    assert "<mark>" in page and "四、强化统筹推动，促进各类教育协调发展 › 2.义务教育优质均衡" in page
    assert "查看上下文" in page
    bubble = reply_markdown(answer)
    assert "**出处**" in bubble and "[1] 《晋江市2018年教育工作要点》" in bubble


def test_no_answer_is_rendered_as_possibly_related(fake_index):
    index, embedder, _ = fake_index
    answer = answer_question(index, embedder, "今天天气怎么样")
    page = sources_html(answer, Shelf.from_index(index))
    assert "文件中没有找到答案" in page and "可能相关的段落（不作为答案）" in page and 'class="zc-marker"' not in page
    assert "可能相关的段落" in reply_markdown(answer)


def test_reader_shows_the_document_by_its_outline(fake_index):
    index, _, _ = fake_index
    page = reader_html("晋江2018年教育工作要点", Shelf.from_index(index))
    assert "《晋江市2018年教育工作要点》" in page and "目录" in page
    assert page.index("一、全面从严治党") < page.index("2.义务教育优质均衡") < page.index("积分入学")
    assert "选择一份文件" in reader_html("nope", Shelf.from_index(index))


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_zhengce_serve_builds_the_index_prints_the_url_and_stops_cleanly(corpus_copy, tmp_path, stop):
    """The main job's command as a real process: fresh data folder, fake embedder, stopped by Ctrl+C
    (SIGINT) or by a service manager (SIGTERM)."""
    import os
    import signal
    import subprocess
    import sys

    port = free_port()
    env = {**os.environ, "ZHENGCE_HOME": str(tmp_path / "fresh"), "ZHENGCE_MODEL": "fake:hash-384"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_cli.py"), "serve", "--port", str(port), "--corpus", str(corpus_copy)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        # a job started in the background (`cmd &`) inherits SIGINT ignored, and then Ctrl+C cannot reach it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "web chat at" in line or not line:
                break
        assert f"web chat at http://127.0.0.1:{port}/" in "".join(lines), "".join(lines)
        assert any("built the index: 35 chunks" in line for line in lines)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        process.send_signal(getattr(signal, stop))
        # communicate, not wait: it keeps reading stdout, so a server writing on its way out never blocks
        # on a full pipe; the rest of its output explains a failure
        rest, _ = process.communicate(timeout=90)
        assert process.returncode == 0, rest[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "fresh" / "index" / "CURRENT").exists()


LOAD_IN_SCOPE = [
    "积分入学政策", "职业学校和企业怎么合作培养人才", "今年新增多少学位", "普惠性幼儿园覆盖率目标", "智慧教室建设多少个",
    "民办学校招生怎么录取", "如何加强师德师风建设", "高中达标学校创建", "党风廉政建设责任制", "教育国际化有哪些举措",
    "大班额怎么解决", "名师工作室", "终身教育网络", "教师招聘和人才引进", "学前教育三年行动计划",
]
LOAD_OUT_OF_SCOPE = ["食品安全检查", "养老保险缴费比例是多少", "房价调控政策", "医保报销流程", "如何申请营业执照"]


@pytest.mark.model
def test_twenty_people_at_once_with_the_real_model(real_model_library):
    """The same load test with the real model and 20 different questions (15 in scope, 5 not)."""
    from gradio_client import Client

    demo = start(real_model_library, "127.0.0.1", free_port())
    questions = LOAD_IN_SCOPE + LOAD_OUT_OF_SCOPE
    try:
        def one(question):
            started = time.perf_counter()
            return Client(demo.local_url, verbose=False).predict(question=question, api_name="/ask"), time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(one, questions, timeout=240))
        wall = time.perf_counter() - started
    finally:
        demo.close()
    rows = [row for row, _ in results]
    latencies = sorted(seconds for _, seconds in results)
    print(f"\n20 concurrent asks, real model: wall {wall:.1f}s, median {latencies[10]:.1f}s, max {latencies[-1]:.1f}s")
    assert [row["question"] for row in rows] == questions
    # under load every person gets the same answer as when asking alone
    alone = [real_model_library.ask(q).to_json() for q in questions]
    assert [(r["answerable"], r["answer"]) for r in rows] == [(a["answerable"], a["answer"]) for a in alone]
    assert sum(r["answerable"] for r in rows[:15]) >= 13 and not any(r["answerable"] for r in rows[15:])


def test_evaluation_tab_shows_the_latest_report_without_its_chart_link(tmp_path):
    from zhengce.app.web import eval_report_markdown

    assert "zhengce eval" in eval_report_markdown(tmp_path)
    (tmp_path / "eval-20260101-000000.md").write_text("# old\n", encoding="utf-8")
    (tmp_path / "eval-20261129-120000.md").write_text("# zhengce eval\n\n![chart](eval-20261129-120000.png)\n\n| a |\n", encoding="utf-8")
    shown = eval_report_markdown(tmp_path)
    assert shown.startswith("# zhengce eval") and "png" not in shown and "| a |" in shown
