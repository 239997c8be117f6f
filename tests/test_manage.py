"""zhengce remove / edit / changes, the file-name checks, and generations pinned by a running server."""
import tomllib

import pytest

from zhengce.cli import main
from zhengce.errors import ZhengceError
from zhengce.index.store import current_generation, generation_names, load_index, pin_generation, prune_generations, unpin_generation
from zhengce.ingest.load import LoadError
from zhengce.manage import check_edit, check_file_name, read_changes, record_change
from plans import PLAN_2019, write_docx


@pytest.fixture
def indexed(tmp_path, corpus_copy):
    """The bundled corpus plus the invented 2019 plan, added with zhengce add."""
    index_dir = tmp_path / "index"
    docx = write_docx(tmp_path / "晋江市2019年教育工作要点.docx", PLAN_2019)
    args = ["--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]
    assert main(["add", str(docx), *args]) == 0
    return corpus_copy, index_dir, args


def catalog_entries(corpus_dir):
    return {e["file"]: e for e in tomllib.loads((corpus_dir / "catalog.toml").read_text("utf-8"))["document"]}


def test_remove_moves_the_file_aside_drops_its_entry_and_rebuilds(indexed, capsys):
    corpus, index_dir, args = indexed
    assert load_index(index_dir).years == [2018, 2019]
    assert main(["remove", "晋江市2019年教育工作要点", *args]) == 0
    assert "removed 晋江市2019年教育工作要点.docx" in capsys.readouterr().out
    assert load_index(index_dir).years == [2018]
    assert not (corpus / "晋江市2019年教育工作要点.docx").exists()
    assert [p.name.split("-", 2)[2] for p in (corpus / ".removed").iterdir()] == ["晋江市2019年教育工作要点.docx"]
    assert set(catalog_entries(corpus)) == {"晋江2018年教育工作要点.txt"}
    assert [(c.action, c.file) for c in read_changes(corpus)] == [("removed", "晋江市2019年教育工作要点.docx"), ("added", "晋江市2019年教育工作要点.docx")]


def test_remove_refuses_unknown_and_last_documents_changing_nothing(indexed, capsys):
    corpus, index_dir, args = indexed
    generation = current_generation(index_dir)
    assert main(["remove", "晋江市2019年教育工作要点", "no-such-doc", *args]) == 1
    assert "no document 'no-such-doc'" in capsys.readouterr().err
    assert main(["remove", "晋江市2019年教育工作要点", "晋江2018年教育工作要点", *args]) == 1
    assert "cannot remove every document" in capsys.readouterr().err
    assert current_generation(index_dir) == generation and (corpus / "晋江市2019年教育工作要点.docx").exists()
    assert len(read_changes(corpus)) == 1  # only the add


def test_edit_writes_the_catalog_and_the_index_shows_it(indexed, capsys):
    corpus, index_dir, args = indexed
    assert main(["edit", "晋江市2019年教育工作要点.docx", "--year", "2021", "--doc-number", "晋教〔2021〕3号", *args]) == 0
    entry = catalog_entries(corpus)["晋江市2019年教育工作要点.docx"]
    assert (entry["year"], entry["doc_number"]) == (2021, "晋教〔2021〕3号")
    document = next(d for d in load_index(index_dir).documents if d["doc_id"] == "晋江市2019年教育工作要点")
    assert (document["year"], document["doc_number"]) == (2021, "晋教〔2021〕3号")
    change = read_changes(corpus)[0]
    assert change.action == "edited" and "year 2019→2021" in change.detail and "(command line)" in change.who
    assert main(["changes", *args[:4]]) == 0 and "edited 晋江市2019年教育工作要点.docx: year 2019→2021" in capsys.readouterr().out


def test_edit_checks_its_fields():
    assert check_edit({"title": " 新标题 ", "year": "2019", "issuer": ""}) == {"title": "新标题", "year": 2019}
    for bad, message in [({"year": "1800"}, "not between"), ({"source": "x"}, "cannot edit source"),
                         ({"title": "a\nb"}, "one line"), ({"title": " "}, "nothing to change")]:
        with pytest.raises(ZhengceError, match=message):
            check_edit(bad)


@pytest.mark.parametrize("name, reason", [
    ("../../x.txt", "a path, not a file name"),
    ("/etc/passwd.txt", "a path, not a file name"),
    ("a\\b.txt", "a path, not a file name"),
    ("bad\x07name.txt", "control or invisible characters"),
    ("rtl\u202etxt.exe.txt", "control or invisible characters"),
    (".hidden.txt", "hidden or temporary"),
    ("长" * 130 + ".txt", "more than 120"),
    ("notes.exe", "unsupported file type .exe"),
    ("", "without a name"),
])
def test_file_names_that_are_refused(name, reason):
    with pytest.raises(LoadError, match=reason) as caught:
        check_file_name(name)
    assert "\n" not in str(caught.value)


def test_a_good_file_name_passes():
    assert check_file_name("晋江市2019年教育工作要点（修订）.docx") == "晋江市2019年教育工作要点（修订）.docx"


def test_the_change_log_skips_a_damaged_line(tmp_path):
    record_change(tmp_path, "甲", "added", "a.txt", "《甲》")
    with open(tmp_path / "changes.jsonl", "a", encoding="utf-8") as f:
        f.write('{"time": "2020-01-0')  # a write cut short
    record_change(tmp_path, "乙", "removed", "a.txt")
    assert [(c.who, c.action) for c in read_changes(tmp_path)] == [("乙", "removed"), ("甲", "added")]


def test_a_pinned_generation_is_pruned_only_once_unpinned(indexed):
    corpus, index_dir, args = indexed
    serving = current_generation(index_dir)
    fd = pin_generation(serving)
    for _ in range(2):  # two newer generations: the pinned one is now older than keep=2
        assert main(["index", *args]) == 0
    names = generation_names(index_dir)
    assert serving.name in names and len(names) == 3
    unpin_generation(fd)
    prune_generations(index_dir, keep=2)
    assert serving.name not in generation_names(index_dir) and len(generation_names(index_dir)) == 2
    assert not any(p.name.startswith(".tmp-") for p in index_dir.iterdir())
