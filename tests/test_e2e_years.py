"""Done-when of issue 5, with the real model: add a 2019 plan (.docx) and a 2020 plan (.pdf), see how the
学前教育 targets changed in the 年度对比 tab, and get year-correct answers to year-specific questions."""
import json

import pytest

from zhengce.cli import main
from zhengce.library import open_index
from zhengce.index.default_model import DEFAULT_MODEL_ID
from zhengce.index.search import search
from plans import PLAN_2019, PLAN_2020, TABLE_2019, write_docx, write_pdf

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    import shutil

    from conftest import CORPUS

    root = tmp_path_factory.mktemp("e2e-years")
    corpus, index_dir, incoming = root / "corpus", root / "index", root / "incoming"
    shutil.copytree(CORPUS, corpus)
    incoming.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHENGCE_MODEL", DEFAULT_MODEL_ID)
    args = ["--corpus", str(corpus), "--index-dir", str(index_dir), "--quiet"]
    try:
        assert main(["index", *args]) == 0
        assert main(["add", str(write_docx(incoming / "晋江市2019年教育工作要点.docx", PLAN_2019, TABLE_2019)), *args]) == 0
        assert main(["add", str(write_pdf(incoming / "2020年要点.pdf", PLAN_2020)), *args]) == 0
        yield open_index(index_dir), index_dir
    finally:
        mp.undo()


def test_all_three_years_indexed_from_their_formats(added):
    (index, _), _ = added
    assert index.years == [2018, 2019, 2020]
    formats = {d["year"]: d["file"].rsplit(".", 1)[1] for d in index.documents}
    assert formats == {2018: "txt", 2019: "docx", 2020: "pdf"}


@pytest.mark.parametrize(
    "question, year, words",
    [
        ("2019年智慧教室建设目标", 2019, "80个智慧教室"),
        ("2020年建设多少个智慧教室", 2020, "100个智慧教室"),
        ("2018年普惠性学前教育覆盖率目标", 2018, "83%"),
        ("2020年普惠性学前教育覆盖率要达到多少", 2020, "90%"),
        ("2019年新建公办幼儿园多少所", 2019, "12所"),
    ],
)
def test_year_specific_questions_get_that_years_passage(added, question, year, words):
    (index, embedder), _ = added
    top = search(index, embedder, question, k=3)[0]
    assert top.year == year and words in top.text, (top.year, top.section, top.text)


def test_a_question_without_a_year_sees_several_years(added):
    (index, embedder), _ = added
    hits = search(index, embedder, "普惠性学前教育覆盖率", k=5)
    assert len({h.year for h in hits}) >= 2 and max([h.year for h in hits].count(y) for y in {h.year for h in hits}) <= 3


def test_compare_tab_shows_how_the_preschool_targets_changed(added, monkeypatch):
    from gradio_client import Client

    from webkit import launch_compare_tab

    from zhengce.library import Library

    _, index_dir = added
    monkeypatch.setenv("ZHENGCE_MODEL", DEFAULT_MODEL_ID)
    demo, url = launch_compare_tab(Library.open(index=index_dir, build=False))
    try:
        page, data = Client(url, verbose=False).predict("学前教育", ["2018", "2019", "2020"], 3, api_name="/compare")
    finally:
        demo.close()
    changes = {(n["year_before"], n["year_after"], n["subject"], n["before"], n["after"]) for n in data["numbers"]}
    assert {(2018, 2019, "普惠性学前教育覆盖率", "83%", "88%"), (2019, 2020, "普惠性学前教育覆盖率", "88%", "90%")} <= changes
    assert all(data["passages"][y][0]["section"].endswith("1.学前教育公益普惠") for y in ("2018", "2019", "2020"))
    new = {(m["year"], m["clause"]) for m in data["measures"] if m["kind"] == "new"}
    assert (2019, "开展学前教育集团化办学试点") in new and (2020, "实施农村幼儿园质量提升工程") in new
    assert '<span class="zc-old">83%</span> → <span class="zc-up">88%</span>' in page


def test_cli_compare_with_the_real_model(added, capsys, monkeypatch):
    _, index_dir = added
    monkeypatch.delenv("ZHENGCE_MODEL")
    assert main(["compare", "学前教育", "--years", "2019,2020", "--json", "--index-dir", str(index_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any((n["subject"], n["before"], n["after"]) == ("普惠性学前教育覆盖率", "88%", "90%") for n in data["numbers"])
