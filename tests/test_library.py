"""The Python API: Library.open builds on first use, arguments are checked once with one-line errors,
and the records are the ones the CLI and the web app use."""
import subprocess
import sys

import pytest

import zhengce
from zhengce import Library, ZhengceError
from zhengce.answer import Answer
from zhengce.compare import Comparison
from zhengce.index.search import Hit
from zhengce.settings import SearchConfig

from conftest import REPO
from plans import add_plans


def test_open_builds_the_index_on_first_use_then_reuses_it(corpus_copy, tmp_path):
    lib = Library.open(corpus=corpus_copy, index=tmp_path / "idx")
    generation = lib.index.path
    assert len(lib.documents) == 1 and lib.years == [2018]
    again = Library.open(corpus=corpus_copy, index=tmp_path / "idx")
    assert again.index.path == generation  # up to date: not rebuilt


def test_search_ask_compare_return_the_shared_records(fake_library):
    hits = fake_library.search("积分入学政策", k=3)
    assert len(hits) == 3 and all(isinstance(h, Hit) for h in hits)
    assert hits[0].section.endswith("2.义务教育优质均衡")
    answer = fake_library.ask("积分入学政策是什么？")
    assert isinstance(answer, Answer) and answer.citations
    assert isinstance(fake_library.compare("学前教育"), Comparison)
    assert zhengce.Hit is Hit and zhengce.Library is Library


@pytest.mark.parametrize("years", [2018, "2018", [2018], (2018,), {2018}, ["2018"]])
def test_years_in_any_reasonable_form(fake_library, years):
    assert {h.year for h in fake_library.search("学前教育", years=years)} == {2018}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lib: lib.search("积分入学", k=-1), "k (the number of passages) must be a whole number from 1 to 100, not -1"),
        (lambda lib: lib.search("积分入学", k=0), "from 1 to 100"),
        (lambda lib: lib.search("积分入学", k=101), "from 1 to 100"),
        (lambda lib: lib.search("积分入学", k=2.5), "whole number"),
        (lambda lib: lib.search("积分入学", k=True), "whole number"),
        (lambda lib: lib.ask("积分入学", k=21), "from 1 to 20"),
        (lambda lib: lib.search("积分入学", years="2018年"), "years must be years such as 2018"),
        (lambda lib: lib.search("积分入学", years=[2018.5]), "years must be years such as 2018"),
        (lambda lib: lib.search("积分入学", years=[]), "years must be years such as 2018"),
        (lambda lib: lib.search("积分入学", years=[2017]), "no documents from 2017"),
        (lambda lib: lib.search("积分入学", docs=[3]), "docs must be document ids"),
        (lambda lib: lib.search("积分入学", mode="fuzzy"), "unknown mode 'fuzzy'"),
        (lambda lib: lib.search("  "), "empty query"),
        (lambda lib: lib.search(None), "expected text"),
        (lambda lib: lib.ask(""), "empty question"),
        (lambda lib: lib.compare(""), "empty topic"),
        (lambda lib: lib.compare("学前教育", years=[1999]), "no documents from 1999"),
    ],
)
def test_bad_arguments_are_one_line_errors(fake_library, call, message):
    with pytest.raises(ZhengceError) as caught:
        call(fake_library)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_no_index_and_no_corpus_says_what_to_pass(tmp_path):
    with pytest.raises(ZhengceError, match="no index at .* and no corpus folder .*pass --corpus DIR"):
        Library.open(corpus=tmp_path / "none", index=tmp_path / "idx")


def test_add_updates_the_index_and_the_library_sees_it(corpus_copy, tmp_path):
    lib = Library.open(corpus=corpus_copy, index=tmp_path / "idx")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    result = lib.add(sorted(add_plans(incoming).iterdir()))  # fictional 2019 (.docx) and 2020 (.pdf) plans
    assert len(result.added) == 2 and lib.years == [2018, 2019, 2020]
    assert any(h.year == 2019 for h in lib.search("智慧教室", years=2019))


def test_settings_reach_the_search(corpus_copy, tmp_path):
    lib = Library.open(corpus=corpus_copy, index=tmp_path / "idx", search_config=SearchConfig(max_k=3))
    assert len(lib.search("学前教育", k=3)) == 3
    with pytest.raises(ZhengceError, match="from 1 to 3"):
        lib.search("学前教育", k=4)
    with pytest.raises(TypeError):
        SearchConfig(rrf=30)  # a typo is an error, not an ignored option


def test_layers_go_one_way():
    """ingest → index → zhengce (API) → app / eval: the greps from the issue, as a test."""
    def imports(folder: str, pattern: str) -> list[str]:
        found = subprocess.run(["grep", "-rnE", pattern, folder, "--include=*.py"], cwd=REPO, capture_output=True, text=True)
        return found.stdout.splitlines()

    assert imports("eval", r"(from|import) (zhengce\.)?app\b") == []
    assert imports("app", r"(from|import) (zhengce\.)?eval\b") == []
    for lower in ("index", "ingest"):
        assert imports(lower, r"(from|import) (zhengce\.)?(eval|app|library|answer|compare|add)\b") == []
    assert imports("ingest", r"(from|import) zhengce\.index\b") == []


def test_import_zhengce_is_light():
    """`import zhengce` (and `zhengce --help`) loads neither torch nor gradio."""
    code = "import sys, zhengce, zhengce.cli; zhengce.cli.build_parser(); print(any(m in sys.modules for m in ('torch', 'gradio', 'faiss')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
