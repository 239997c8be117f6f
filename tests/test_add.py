"""zhengce add: files are read first, copied only when good, catalogued (comments kept) and indexed."""
import tomllib

from zhengce.cli import main
from zhengce.index.store import current_generation, load_index
from plans import PLAN_2019, PLAN_2020, write_docx, write_pdf


def index_years(index_dir):
    return load_index(index_dir).years


def test_add_docx_and_pdf_with_a_bad_file(tmp_path, corpus_copy, capsys):
    index_dir = tmp_path / "index"
    assert main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]) == 0
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    docx = write_docx(incoming / "晋江市2019年教育工作要点.docx", PLAN_2019)
    pdf = write_pdf(incoming / "2020要点.pdf", PLAN_2020)
    junk = incoming / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 40)
    capsys.readouterr()
    code = main(["add", str(docx), str(pdf), str(junk), "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1  # one file was not added
    assert err.strip().splitlines() == ["zhengce: not added: junk.txt: not a text file in a known encoding (tried UTF-8, GB18030, detection); binary data?"]
    assert "added 晋江市2019年教育工作要点.docx: 《晋江市2019年教育工作要点》 2019年 晋江市教育局 2019年3月" in out
    assert "added 2020要点.pdf: 《晋江市2020年教育工作要点》 2020年 晋江市教育局 2020年2月" in out
    assert not (corpus_copy / "junk.txt").exists() and (corpus_copy / "2020要点.pdf").read_bytes() == pdf.read_bytes()
    assert index_years(index_dir) == [2018, 2019, 2020]
    text = (corpus_copy / "catalog.toml").read_text(encoding="utf-8")
    assert text.startswith("# zhengce corpus catalog")  # the comments people wrote are kept
    entries = {e["file"]: e for e in tomllib.loads(text)["document"]}
    assert entries["2020要点.pdf"]["year"] == 2020 and entries["2020要点.pdf"]["title"] == "晋江市2020年教育工作要点"
    assert entries["晋江2018年教育工作要点.txt"]["original_format"] == "DOC (16 pages)"  # untouched


def test_a_bad_file_alone_changes_nothing(tmp_path, corpus_copy, capsys):
    index_dir = tmp_path / "index"
    main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"])
    generation = current_generation(index_dir)
    catalog = (corpus_copy / "catalog.toml").read_bytes()
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert main(["add", str(broken), "--corpus", str(corpus_copy), "--index-dir", str(index_dir)]) == 1
    assert "not a valid .docx file (corrupt or truncated)" in capsys.readouterr().err
    assert current_generation(index_dir) == generation and (corpus_copy / "catalog.toml").read_bytes() == catalog
    assert not (corpus_copy / "broken.docx").exists()


def test_year_and_title_given_on_the_command_line(tmp_path, corpus_copy, capsys):
    path = tmp_path / "plan.txt"
    path.write_text("一、学前教育\n扩大普惠性资源，新增学位500个。（虚构测试数据）", encoding="utf-8")
    args = ["--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "index"), "--quiet"]
    assert main(["add", str(path), "--year", "2017", "--title", "某县学前教育通知", *args]) == 0
    entry = next(e for e in tomllib.loads((corpus_copy / "catalog.toml").read_text("utf-8"))["document"] if e["file"] == "plan.txt")
    assert (entry["year"], entry["title"]) == (2017, "某县学前教育通知")
    assert index_years(tmp_path / "index") == [2017, 2018]


def test_same_name_other_content_needs_replace(tmp_path, corpus_copy, capsys):
    args = ["--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "index"), "--quiet"]
    first = tmp_path / "a" / "plan.txt"
    first.parent.mkdir()
    first.write_text("晋江市2019年教育工作要点\n一、学前教育\n覆盖率88%。（虚构测试数据）", encoding="utf-8")
    assert main(["add", str(first), *args]) == 0
    second = tmp_path / "plan.txt"
    second.write_text("晋江市2019年教育工作要点\n一、学前教育\n覆盖率89%。（虚构测试数据）", encoding="utf-8")
    assert main(["add", str(second), *args]) == 1
    assert "pass --replace" in capsys.readouterr().err
    assert main(["add", str(second), "--replace", *args]) == 0
    assert "89%" in (corpus_copy / "plan.txt").read_text("utf-8")
    other = write_docx(tmp_path / "plan.docx", PLAN_2019)
    assert main(["add", str(other), *args]) == 1
    assert "already has plan.txt" in capsys.readouterr().err
