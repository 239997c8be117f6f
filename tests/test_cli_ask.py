"""zhengce ask: one question, --json, --batch (model loaded once), errors."""
import json

from zhengce.cli import main


def test_ask_prints_the_answer_and_its_sources(fake_index, capsys):
    _, _, index_dir = fake_index
    assert main(["ask", "积分入学政策", "--index-dir", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "§ 四、强化统筹推动，促进各类教育协调发展 > 2.义务教育优质均衡" in out


def test_ask_json(fake_index, capsys):
    _, _, index_dir = fake_index
    assert main(["ask", "积分入学政策", "--json", "--year", "2018", "--index-dir", str(index_dir)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["answerable"] is True and row["citations"][0]["marker"] == 1
    assert row["citations"][0]["highlights"][0] in row["citations"][0]["text"]


def test_ask_out_of_scope(fake_index, capsys):
    _, _, index_dir = fake_index
    assert main(["ask", "今天天气怎么样", "--index-dir", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "没有找到" in out and "possibly related" in out


def test_ask_batch(fake_index, capsys, tmp_path):
    _, _, index_dir = fake_index
    batch = tmp_path / "questions.txt"
    batch.write_text('积分入学政策\n\n{"query": "今天天气怎么样"}\n', encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--json", "--index-dir", str(index_dir)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == ["积分入学政策", "今天天气怎么样"]
    assert [r["answerable"] for r in rows] == [True, False]


def test_ask_errors_are_one_line(fake_index, capsys):
    _, _, index_dir = fake_index
    assert main(["ask", "", "--index-dir", str(index_dir)]) == 1
    assert main(["ask", "积分入学", "--year", "2017", "--index-dir", str(index_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("zhengce: error: empty question") and "2017" in err[1]
