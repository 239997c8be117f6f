"""Managing the library through the running web app's API (gradio_client), with the fake embedder: the
admin checks, uploads good and bad, edit and remove, the change log, and a generation made by the command
line picked up without a restart."""
import json
import time
from pathlib import Path

import pytest

from zhengce.app.web import start
from zhengce.app.web_manage import admin_secret, check_uploads
from zhengce.cli import main
from zhengce.errors import ZhengceError
from zhengce.index.store import current_generation, generation_names
from zhengce.library import Library, index_corpus
from zhengce.manage import read_changes
from zhengce.settings import UploadConfig

import fakes
from plans import PLAN_2019, write_docx, write_pdf, write_text, write_zip_bomb_docx
from webkit import free_port

PASSWORD = "correct-horse-7"
LIMITS = UploadConfig(max_files=5, max_bytes=1024 * 1024)
# an invented document whose words the bundled 2018 plan does not use (虚构测试数据)
SAFETY_PLAN = [
    "晋江市2021年校园食品安全工作方案",
    "晋江市教育局",
    "（2021年4月）",
    "一、工作目标",
    "全市中小学校食堂每月开展一次食品安全自查，学校负责人陪餐制度覆盖率达到100%。",
    "二、主要措施",
    "1.严格食材采购查验",
    "建立食材供应商黑名单制度，冷链食品全部查验检疫证明。",
]
SAFETY_QUESTION = "校园食堂食品安全自查多久一次"


@pytest.fixture
def library(tmp_path, corpus_copy):
    index_dir = tmp_path / "index"
    index_corpus(corpus_copy, index_dir, model_id=fakes.FAKE_MODEL_ID, show_progress=False)
    return Library.open(corpus_copy, index_dir, build=False)


@pytest.fixture
def server(library):
    demo = start(library, "127.0.0.1", free_port(), admin_password=PASSWORD, upload_config=LIMITS)
    yield demo
    demo.close()


@pytest.fixture
def client(server):
    from gradio_client import Client

    return Client(server.local_url, verbose=False)


def upload(client, files, password=PASSWORD):
    from gradio_client import handle_file

    return client.predict(password, "测试员", [handle_file(str(f)) for f in files], api_name="/upload")


def ask(client, question):
    return client.predict(question=question, api_name="/ask")


def corpus_state(library):
    corpus, index_dir = library.corpus_dir, library.index_dir
    return sorted(p.name for p in corpus.iterdir()), (corpus / "catalog.toml").read_bytes(), current_generation(index_dir)


def test_management_calls_are_refused_without_the_password(client, library, tmp_path):
    before = corpus_state(library)
    plan = write_text(tmp_path / "plan.txt", SAFETY_PLAN)
    assert "wrong admin password" in upload(client, [plan], password="guess")
    assert "wrong admin password" in upload(client, [plan], password="")
    assert "wrong admin password" in client.predict("", "x", "晋江2018年教育工作要点", api_name="/remove")
    assert "wrong admin password" in client.predict("guess", "x", "晋江2018年教育工作要点", "t", "2017", "", "", "", api_name="/edit")
    assert corpus_state(library) == before and read_changes(library.corpus_dir) == []


def test_without_an_admin_password_management_is_off(library, tmp_path):
    from gradio_client import Client, handle_file

    demo = start(library, "127.0.0.1", free_port())
    try:
        client = Client(demo.local_url, verbose=False)
        plan = write_text(tmp_path / "plan.txt", SAFETY_PLAN)
        before = corpus_state(library)
        for password in ("", PASSWORD):
            assert "management is off" in client.predict(password, "x", [handle_file(str(plan))], api_name="/upload")
            assert "management is off" in client.predict(password, "x", "晋江2018年教育工作要点", api_name="/remove")
        assert corpus_state(library) == before
        config = client.view_api(return_format="dict", print_info=False)
        assert "/upload" in config["named_endpoints"]  # the endpoint exists and refuses; the page hides it
    finally:
        demo.close()


def test_upload_ask_edit_remove_without_a_restart(client, server, library, tmp_path):
    docx = write_docx(tmp_path / "晋江市2021年校园食品安全工作方案.docx", SAFETY_PLAN)
    pdf = write_pdf(tmp_path / "晋江市2019年教育工作要点.pdf", PLAN_2019)
    first = ask(client, SAFETY_QUESTION)
    lines = upload(client, [docx, pdf])
    assert "已添加 added 晋江市2021年校园食品安全工作方案.docx: 《晋江市2021年校园食品安全工作方案》 2021年 晋江市教育局" in lines
    assert "已添加 added 晋江市2019年教育工作要点.pdf: 《晋江市2019年教育工作要点》 2019年 晋江市教育局" in lines
    assert "索引已更新 index updated" in lines

    row = ask(client, SAFETY_QUESTION)
    assert row["generation"] != first["generation"] and row["answerable"]
    assert row["citations"][0]["doc_id"] == "晋江市2021年校园食品安全工作方案" and "每月" in row["answer"]

    lines = client.predict(PASSWORD, "测试员", "晋江市2021年校园食品安全工作方案", "", "2022", "", "", "晋教〔2022〕5号", api_name="/edit")
    assert "已修改 edited 晋江市2021年校园食品安全工作方案.docx" in lines
    row = ask(client, SAFETY_QUESTION)
    assert row["citations"][0]["year"] == 2022

    lines = client.predict(PASSWORD, "测试员", "晋江市2021年校园食品安全工作方案", api_name="/remove")
    assert "已删除 removed 晋江市2021年校园食品安全工作方案.docx" in lines
    row = ask(client, SAFETY_QUESTION)
    assert all(c["doc_id"] != "晋江市2021年校园食品安全工作方案" for c in row["citations"] + row["possibly_related"])

    log = read_changes(library.corpus_dir)
    assert [(c.action, c.file) for c in log] == [
        ("removed", "晋江市2021年校园食品安全工作方案.docx"), ("edited", "晋江市2021年校园食品安全工作方案.docx"),
        ("added", "晋江市2019年教育工作要点.pdf"), ("added", "晋江市2021年校园食品安全工作方案.docx"),
    ]
    assert all(c.who.startswith("测试员 (web, 127.0.0.1)") for c in log)
    assert "year →2022" in log[1].detail or "year 2021→2022" in log[1].detail
    # only the live generation and the one before it stay: the server no longer answers from the others
    assert len(generation_names(library.index_dir)) == 2


def test_bad_uploads_each_get_one_line_and_change_nothing(client, library, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 40)
    write_zip_bomb_docx(bad / "bomb.docx")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%% cut off here")
    (bad / "large.txt").write_bytes(("教育" * 300_000).encode("utf-8"))  # 1.7 MB, the test limit is 1 MB
    (bad / "notes.exe").write_bytes(b"MZ")
    before = corpus_state(library)
    expected = {
        "empty.txt": "the file is empty",
        "binary.txt": "not a text file in a known encoding",
        "bomb.docx": "zip bomb?",
        "broken.pdf": "broken.pdf:",
        "large.txt": "more than the 1 MB limit per file",
        "notes.exe": "unsupported file type .exe",
    }
    for name, reason in expected.items():
        lines = upload(client, [bad / name]).splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"- 未添加 not added: {name}") and reason in lines[0], lines
    many = [write_text(bad / f"plan-{i}.txt", [f"第{i}号通知", "内容。"]) for i in range(100)]
    lines = upload(client, many).splitlines()
    assert lines == ["- 未添加 not added: 100 files at once, more than 5; upload them in smaller batches (or use zhengce add)"]
    assert corpus_state(library) == before and read_changes(library.corpus_dir) == []


def test_upload_names_are_checked_before_anything_is_written(tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    good = write_text(folder / "plan.txt", SAFETY_PLAN)
    hidden = folder / ".plan.txt"
    hidden.write_bytes(good.read_bytes())
    accepted, lines = check_uploads([good, hidden, Path("/no/such/dir/x.txt")], LIMITS)
    assert accepted == [good]
    assert lines[0].startswith(".plan.txt: a hidden or temporary file name") and "cannot read the upload" in lines[1]


def test_admin_password_from_the_environment_or_a_token_file(tmp_path):
    assert admin_secret({}) is None and admin_secret({"ZHENGCE_ADMIN_PASSWORD": ""}) is None
    assert admin_secret({"ZHENGCE_ADMIN_PASSWORD": PASSWORD}) == PASSWORD
    token = tmp_path / "token"
    token.write_text("s3cret-token-value\n", encoding="utf-8")
    assert admin_secret({"ZHENGCE_ADMIN_TOKEN_FILE": str(token)}) == "s3cret-token-value"
    with pytest.raises(ZhengceError, match="at least 8"):
        admin_secret({"ZHENGCE_ADMIN_PASSWORD": "short"})
    with pytest.raises(ZhengceError, match="cannot read the admin token file"):
        admin_secret({"ZHENGCE_ADMIN_TOKEN_FILE": str(tmp_path / "missing")})


def test_a_generation_made_by_the_command_line_is_served_within_seconds(client, library, tmp_path):
    served = ask(client, SAFETY_QUESTION)["generation"]
    plan = write_text(tmp_path / "晋江市2021年校园食品安全工作方案.txt", SAFETY_PLAN)
    args = ["--corpus", str(library.corpus_dir), "--index-dir", str(library.index_dir), "--quiet"]
    assert main(["add", str(plan), *args]) == 0
    made = time.monotonic()
    while (row := ask(client, SAFETY_QUESTION))["generation"] == served:
        assert time.monotonic() - made < 8, "the server did not pick up the new generation"
        time.sleep(0.2)
    assert row["generation"] == current_generation(library.index_dir).name
    assert row["citations"][0]["doc_id"] == "晋江市2021年校园食品安全工作方案"
    assert json.loads(json.dumps(row))  # plain JSON for scripts
