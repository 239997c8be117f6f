"""The 2018 test set, the eval runner, its report files and the `zhengce eval` command (fake embedder)."""
import json
from collections import Counter

import pytest

from zhengce.cli import main
from zhengce.paths import latest_eval_report as latest_report
from zhengce.eval.testset import BLIND_TESTSET, load_testset, missing_gold
from zhengce.errors import ZhengceError


def test_every_gold_substring_is_in_the_cleaned_corpus(corpus_copy):
    from zhengce.ingest.pipeline import ingest_corpus

    documents, _ = ingest_corpus(corpus_copy)
    assert missing_gold(load_testset(), [d.text for d in documents]) == []
    assert missing_gold(load_testset(BLIND_TESTSET), [d.text for d in documents]) == []


def test_blind_testset_is_held_out_only():
    items = load_testset(BLIND_TESTSET)
    tags = Counter(t for i in items for t in i.tags)
    assert {i.split for i in items} == {"heldout"}
    assert tags["english"] >= 25 and tags["paraphrase"] >= 25 and tags["out_of_scope"] >= 20


def test_missing_gold_is_reported():
    items = load_testset()
    assert missing_gold(items[:1], ["nothing relevant"]) == [(items[0].id, items[0].gold[0])]


def test_testset_shape():
    items = load_testset()
    tags = Counter(t for i in items for t in i.tags)
    assert len([i for i in items if i.answerable]) >= 100
    assert tags["out_of_scope"] >= 15
    for tag in ("keyword", "question", "paraphrase", "numeric", "english"):
        assert tags[tag] >= 10, tag
    # a held-out half of the paraphrase and English questions, never tuned on
    for tag in ("paraphrase", "english"):
        splits = Counter(i.split for i in items if i.tags[0] == tag)
        assert abs(splits["dev"] - splits["heldout"]) <= 1, (tag, splits)
    assert len({i.query for i in items}) == len(items), "duplicate questions"


def test_testset_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "query": "x", "tags": ["keyword"], "split": "train", "gold": ["y"]}\n', encoding="utf-8")
    with pytest.raises(ZhengceError, match="split must be one of"):
        load_testset(bad)
    bad.write_text('{"id": "a", "query": "x", "tags": ["keyword"], "split": "dev"}\n', encoding="utf-8")
    with pytest.raises(ZhengceError, match="gold evidence exactly when"):
        load_testset(bad)
    bad.write_text('{"id": "a", "query": "x", "tags": ["keyword"], "split": "dev", "gold": ["y"], "golds": 1}\n', encoding="utf-8")
    with pytest.raises(ZhengceError, match="unknown fields"):
        load_testset(bad)


def small_testset(tmp_path):
    rows = [
        {"id": "k1", "query": "积分入学", "gold": ["完善“积分入学”和“电脑派位”制度"], "tags": ["keyword"], "split": "dev"},
        {"id": "k2", "query": "智慧教室", "gold": ["建设50个智慧教室"], "tags": ["keyword", "numeric"], "split": "heldout"},
        {"id": "o1", "query": "房价调控政策", "tags": ["out_of_scope"], "split": "heldout"},
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_command_writes_report_json_chart(tmp_path, corpus_copy, capsys):
    out = tmp_path / "reports"
    assert latest_report(out) is None
    code = main(["eval", "--corpus", str(corpus_copy), "--testset", str(small_testset(tmp_path)), "--out", str(out), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    summary = printed["summary"]
    assert set(summary) == {"bm25", "dense", "hybrid"}
    # BM25 finds both keyword passages at rank 1 (their words are in no other chunk)
    assert summary["bm25"]["all"]["keyword"]["hit@1"] == 1.0
    assert summary["bm25"]["heldout"]["all"]["n"] == 1 and summary["bm25"]["heldout"]["all"]["n_out_of_scope"] == 1
    files = {k: tmp_path / v for k, v in printed["files"].items()}
    assert files["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(files["json"].read_text(encoding="utf-8"))
    assert {r["id"] for r in data["items"]} == {"k1", "k2", "o1"}
    report = latest_report(out)
    assert report is not None and "## hybrid — heldout" in report and "## Failures" in report
    assert files["chart"].name in report


def test_eval_split_and_bad_mode(tmp_path, corpus_copy, capsys):
    testset = str(small_testset(tmp_path))
    assert main(["eval", "--corpus", str(corpus_copy), "--testset", testset, "--out", str(tmp_path / "o"), "--modes", "bm25", "--split", "dev"]) == 0
    assert "bm25 — dev" in capsys.readouterr().out
    assert main(["eval", "--corpus", str(corpus_copy), "--testset", testset, "--modes", "bm25,sparse"]) == 1
    assert "unknown mode 'sparse'" in capsys.readouterr().err
    assert main(["eval", "--corpus", str(corpus_copy), "--testset", testset, "--k", "5"]) == 1
    assert "--k must be between 10 and 100" in capsys.readouterr().err


def test_the_suite_reports_every_set_on_its_own_corpus(capsys):
    assert main(["eval", "--suite"]) == 0
    out = capsys.readouterr().out
    for line in ("| 2018 plan | heldout |", "| 2018 plan | dev |", "| 2018 plan, blind | heldout |", "| collection | heldout |",
                 "| collection, blind | heldout |"):
        assert line in out
    assert "| 2018 plan, blind | dev |" not in out  # a set without a dev half has no dev line


def test_fuzzy_gold_on_a_retyped_corpus(tmp_path, corpus_copy, capsys):
    """A corpus re-typed the way OCR reads it (straight quotes, 遂 for the rare 遴): strict matching stops
    with a one-line hint, --fuzzy-gold evaluates and counts the gold that matched only approximately."""
    plan = corpus_copy / "晋江2018年教育工作要点.txt"
    text = plan.read_text(encoding="utf-8")
    assert text.count("遴选设立") == 1 and text.count("“积分入学” 和“电脑派位”") == 1
    plan.write_text(text.replace("遴选设立", "遂选设立").replace("“积分入学” 和“电脑派位”", '"积分入学" 和"电脑派位"'), encoding="utf-8")
    rows = [
        {"id": "k1", "query": "积分入学", "gold": ["完善“积分入学”和“电脑派位”制度"], "tags": ["keyword"], "split": "dev"},
        {"id": "r1", "query": "名教师孵化工作室", "gold": ["遴选设立20个以上的名教师孵化工作室"], "tags": ["keyword"], "split": "dev"},
        {"id": "t1", "query": "智慧教室", "gold": ["建设60个智慧教室"], "tags": ["keyword"], "split": "heldout"},  # a typo: 50
    ]
    testset = tmp_path / "retyped.jsonl"
    testset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    args = ["eval", "--corpus", str(corpus_copy), "--testset", str(testset), "--out", str(tmp_path / "o"), "--modes", "bm25"]

    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert "2 gold substring(s) are not in the indexed documents (r1: '遴选设立" in err and "--fuzzy-gold" in err
    assert len(err.splitlines()) == 1

    assert main(args + ["--fuzzy-gold", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["meta"]["approximate_golds"] == 1 and printed["meta"]["gold_match"] == "fuzzy (partial ratio ≥ 94)"
    assert printed["summary"]["bm25"]["dev"]["all"]["hit@5"] == 1.0  # both golds found in their passages
    # the typo is found nowhere, not even nearly (a digit differs): counted as a miss, and reported
    assert printed["meta"]["unfound_golds"] == 1 and printed["summary"]["bm25"]["heldout"]["all"]["hit@5"] == 0.0
    report = latest_report(tmp_path / "o")
    assert "1 gold substring(s) matched only approximately, 1 not found (counted as misses)" in report

    assert main(args + ["--fuzzy-gold"]) == 0
    assert "gold matching fuzzy (partial ratio ≥ 94): 1 gold substring(s) matched only approximately, 1 not found" in capsys.readouterr().out
