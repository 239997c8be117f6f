"""The same document twice: identical text is refused or skipped, a near-duplicate is reported."""
import random
import tomllib
from itertools import combinations

import opencc
import pytest

from conftest import REPO
from plans import write_docx, write_html, write_text
from zhengce.cli import main
from zhengce.ingest.duplicates import NEAR_SHARE, fingerprint, near_duplicate_of, near_duplicates, similarity
from zhengce.ingest.pipeline import ingest_corpus, ingest_file

COLLECTION = REPO / "tests" / "collection" / "files"

# Our own fictional plan (虚构测试数据): 柳溪县 and every figure are invented.
PLAN = [
    "柳溪县2021年教育工作要点",
    "一、学前教育普及普惠",
    "全年新建公办幼儿园4所，新增学前教育学位1200个，普惠性幼儿园覆盖率达到86%。",
    "开展幼儿园保教质量评估，组织城乡幼儿园结对帮扶20对，严禁幼儿园提前教授小学课程内容。",
    "二、义务教育优质均衡",
    "新建、改扩建中小学3所，新增义务教育学位2700个，全面消除56人以上大班额。",
    "完善积分入学办法，保障随迁子女在公办学校就读的比例不低于85%。",
    "三、教师队伍建设",
    "公开招聘中小学教师150名，组织全员培训不少于72学时，推进县域内校长教师交流轮岗。",
    "四、保障措施",
    "加强组织领导，强化经费保障，将重点任务完成情况纳入年度督导评估。",
]


def fingerprints_of(*paths):
    return [fingerprint(d.meta.file, d.meta.title, d.text) for d in (ingest_file(p, {}) for p in paths)]


def test_identical_means_the_same_text_whatever_its_line_breaks():
    a = fingerprint("a.txt", "", "一、总则\n本办法适用于全县。")
    b = fingerprint("b.md", "", "一、总则\n\n    本办法适用于全县。\n")
    c = fingerprint("c.txt", "", "一、总则\n本办法适用于全市。")
    assert a.key == b.key != c.key


def test_copies_share_most_text_and_years_of_one_series_do_not(tmp_path):
    """The measure's gap, on the collection's 临澜市教育工作要点 (2019, 2021, 2023: the same headings
    and much boilerplate, other figures) and on copies of its 2019 plan."""
    series = fingerprints_of(*(COLLECTION / name for name in ("doc01.html", "doc02.docx", "doc03.html")))
    for a, b in combinations(series, 2):
        assert similarity(a.shingles, b.shingles) < 0.6, (a.file, b.file)
    body = [line for line in ingest_file(COLLECTION / "doc01.html", {}).text.split("\n") if "扫一扫" not in line]
    rnd = random.Random(1)
    revised = ["".join(str(int(c) + 1) if c.isdigit() and rnd.random() < 0.3 else c for c in line) for line in body]
    copies = fingerprints_of(
        write_docx(tmp_path / "as.docx", [body[0], "临教〔2019〕5号", *body[1:], "抄送：各县（市、区）教育局。"]),
        write_text(tmp_path / "scrape.txt", ["当前位置：首页 > 政务公开", *body, "分享到：微信 微博", "主办单位：临澜市教育局"]),
        write_text(tmp_path / "cut.txt", body[: len(body) * 6 // 10]),  # a scrape that stops early
        write_text(tmp_path / "revised.txt", revised),  # a third of the digits changed
        write_text(tmp_path / "traditional.txt", [opencc.OpenCC("s2t").convert(line) for line in body]),
    )
    for copy in copies:
        note = near_duplicate_of(copy, series)
        assert note and note.other == "doc01.html" and note.similarity >= 0.9, (copy.file, note)
    assert similarity(copies[0].shingles, series[0].shingles) >= NEAR_SHARE > 0.6


def test_a_short_notice_quoting_a_plan_is_not_its_copy():
    plan = fingerprint("plan.txt", "", "\n".join(PLAN))
    quote = fingerprint("notice.txt", "", PLAN[5])  # one paragraph: all of it is in the plan, but it is no copy
    assert similarity(quote.shingles, plan.shingles) == 0.0 and near_duplicate_of(quote, [plan]) is None


def test_all_pairs_at_once_agree_with_pair_by_pair():
    rnd = random.Random(7)
    texts = ["\n".join(rnd.sample(PLAN, 8)) for _ in range(30)]
    texts += [texts[3] + "\n扫一扫在手机打开当前页", "\n".join(PLAN[:8]), "\n".join(PLAN)]
    marks = [fingerprint(f"d{i:02}.txt", "", text) for i, text in enumerate(texts)]
    one_by_one = [n for i, m in enumerate(marks) if (n := near_duplicate_of(m, marks[:i]))]
    at_once = near_duplicates(marks)
    assert at_once and [(n.file, n.other) for n in at_once] == [(n.file, n.other) for n in one_by_one]
    assert [n.similarity for n in at_once] == pytest.approx([n.similarity for n in one_by_one])
    assert near_duplicates(marks[:1]) == [] and near_duplicates([]) == []


def test_indexing_a_folder_skips_the_later_copy(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_text(corpus / "a.txt", PLAN)
    write_text(corpus / "b.txt", [f"  {line}\n" for line in PLAN])  # the same text, other line breaks
    documents, problems = ingest_corpus(corpus)
    assert [d.meta.file for d in documents] == ["a.txt"]
    assert [p.reason for p in problems] == ["b.txt: same content as a.txt (《柳溪县2021年教育工作要点》); only a.txt is indexed"]


def test_zhengce_add_refuses_a_copy_and_notes_a_near_copy(tmp_path, capsys):
    corpus, incoming = tmp_path / "corpus", tmp_path / "incoming"
    corpus.mkdir()
    incoming.mkdir()
    args = ["--corpus", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet"]
    assert main(["add", str(write_text(incoming / "a.txt", PLAN)), *args]) == 0  # no index yet: the corpus is read
    capsys.readouterr()
    catalog = (corpus / "catalog.toml").read_bytes()

    copy = write_text(incoming / "b.txt", [f"{line}\n" for line in PLAN])
    assert main(["add", str(copy), *args]) == 1
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == ["zhengce: not added: b.txt: same content as a.txt (《柳溪县2021年教育工作要点》)"]
    assert not (corpus / "b.txt").exists() and (corpus / "catalog.toml").read_bytes() == catalog
    page = write_html(incoming / "page.html", PLAN)  # its site chrome is cleaned away: the same text again
    assert main(["add", str(page), *args]) == 1 and "page.html: same content as a.txt" in capsys.readouterr().err

    # the issued .docx: 文号 under the title and a 抄送 line at the end, otherwise the same plan
    issued = write_docx(incoming / "c.docx", [PLAN[0], "柳教〔2021〕3号", *PLAN[1:], "抄送：县委办公室，县人民政府办公室。"])
    assert main(["add", str(issued), *args]) == 0
    out, err = capsys.readouterr()
    assert "added c.docx" in out
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: c.docx looks like a near-duplicate of a.txt (") and notes[0].endswith("% same text)")
    assert {e["file"] for e in tomllib.loads((corpus / "catalog.toml").read_text("utf-8"))["document"]} == {"a.txt", "c.docx"}

    assert main(["index", *args]) == 0  # a near-duplicate is indexed, and noted again
    out, _ = capsys.readouterr()
    assert [line for line in out.splitlines() if line.startswith("note:")] == notes
