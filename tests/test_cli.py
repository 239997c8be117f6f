import json
import subprocess
import sys

import pytest

from zhengce.cli import main

HIT_KEYS = {"rank", "score", "chunk_id", "doc_id", "title", "year", "section", "text"}


@pytest.fixture
def indexed(corpus_copy, tmp_path, capsys):
    index_dir = tmp_path / "idx"
    assert main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"]) == 0
    capsys.readouterr()
    return ["--corpus", str(corpus_copy), "--index-dir", str(index_dir)]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json_schema(indexed, capsys):
    code, out, err = run(capsys, "search", "积分入学政策", "--k", "3", "--json", *indexed)
    assert code == 0, err
    hits = json.loads(out)
    assert len(hits) == 3 and [h["rank"] for h in hits] == [1, 2, 3]
    for hit in hits:
        assert HIT_KEYS <= set(hit)
        assert hit["year"] == 2018 and hit["title"] == "晋江市2018年教育工作要点" and " > " in hit["section"]
    assert "积分入学" in hits[0]["text"] and hits[0]["section"].endswith("2.义务教育优质均衡")


def test_search_for_people_shows_citation_and_marks_words(indexed, capsys):
    code, out, _ = run(capsys, "search", "积分入学政策", "--k", "1", *indexed)
    assert code == 0
    assert "《晋江市2018年教育工作要点》 2018年" in out
    assert "§ 四、强化统筹推动，促进各类教育协调发展 > 2.义务教育优质均衡" in out
    assert "【积分入学】" in out


def test_batch_search_prints_one_json_line_per_query(indexed, capsys, tmp_path):
    batch = tmp_path / "queries.txt"
    batch.write_text('积分入学政策\n\n{"query": "学前教育覆盖率"}\n智慧教室\n', encoding="utf-8")
    code, out, err = run(capsys, "search", "--batch", str(batch), "--k", "2", "--json", *indexed)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["query"] for r in rows] == ["积分入学政策", "学前教育覆盖率", "智慧教室"]
    assert all(len(r["hits"]) == 2 and HIT_KEYS <= set(r["hits"][0]) for r in rows)


def test_modes_and_year_filter(indexed, capsys):
    for mode in ("bm25", "dense", "hybrid"):
        code, out, _ = run(capsys, "search", "学前教育", "--mode", mode, "--year", "2018", "--json", *indexed)
        assert code == 0 and json.loads(out)


def test_chunks_and_info(indexed, capsys):
    code, out, _ = run(capsys, "chunks", "--json", "--doc", "晋江2018年教育工作要点", *indexed)
    chunks = json.loads(out)
    assert code == 0 and len(chunks) > 20 and {"chunk_id", "section", "text"} <= set(chunks[0])
    code, out, _ = run(capsys, "info", "--json", *indexed)
    info = json.loads(out)
    assert code == 0 and info["index"]["status"] == "ok"
    assert info["index"]["chunks"] == len(chunks) and info["index"]["documents_per_year"] == {"2018": 1}
    assert info["model"]["index_model"] == "fake:hash-384" and info["model"]["dimension"] == 384


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", ""], "empty query"),
        (["search", "积分入学", "--year", "2017"], "no documents from 2017"),
        (["search", "积分入学", "--k", "0"], "k (the number of passages) must be a whole number from 1 to 100"),
        (["chunks", "--doc", "nope"], "no document 'nope'"),
    ],
)
def test_bad_input_gets_one_line(indexed, capsys, argv, message):
    code, out, err = run(capsys, *argv, *indexed)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_no_index_and_corrupt_index(tmp_path, corpus_copy, capsys):
    code, _, err = run(capsys, "search", "积分入学", "--index-dir", str(tmp_path / "none"), "--corpus", str(tmp_path / "no-corpus"))
    assert code == 1 and "no index" in err and "--corpus" in err and len(err.strip().splitlines()) == 1
    index_dir = tmp_path / "idx"
    main(["index", "--corpus", str(corpus_copy), "--index-dir", str(index_dir), "--quiet"])
    generation = index_dir / (index_dir / "CURRENT").read_text().strip()
    (generation / "chunks.jsonl").write_text("{broken", encoding="utf-8")
    capsys.readouterr()
    code, _, err = run(capsys, "search", "积分入学", "--index-dir", str(index_dir))
    assert code == 1 and "damaged" in err and len(err.strip().splitlines()) == 1


def test_unreadable_corpus_file_is_reported_and_the_rest_indexed(corpus_copy, tmp_path, capsys):
    (corpus_copy / "broken.txt").write_bytes(b"\x00\xff" * 100)
    code, out, err = run(capsys, "index", "--corpus", str(corpus_copy), "--index-dir", str(tmp_path / "idx"), "--quiet")
    assert code == 1 and "skipped broken.txt" in err and "indexed 1 document(s)" in out
    code, out, _ = run(capsys, "search", "积分入学", "--index-dir", str(tmp_path / "idx"), "--json")
    assert code == 0 and json.loads(out)


def test_missing_corpus_folder(tmp_path, capsys):
    code, _, err = run(capsys, "index", "--corpus", str(tmp_path / "missing"), "--index-dir", str(tmp_path / "idx"))
    assert code == 1 and "does not exist" in err


def test_console_script_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zhengce", "search", "积分入学", "--index-dir", str(tmp_path / "none"), "--corpus", str(tmp_path / "no-corpus")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("zhengce: error: no index")
