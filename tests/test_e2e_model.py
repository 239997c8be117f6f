"""End to end with the real default model: corpus → index → cited search results."""
import json

import pytest

from zhengce.cli import main
from zhengce.library import index_corpus
from zhengce.index.default_model import DEFAULT_MODEL_ID
from zhengce.index.embed import load_embedder
from zhengce.index.search import search
from zhengce.index.store import load_index

from conftest import CORPUS

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("real") / "index"
    result = index_corpus(CORPUS, index_dir, model_id=DEFAULT_MODEL_ID, show_progress=False)
    assert result.report.embedded == result.report.chunks and not result.problems
    return load_index(index_dir, model_id=DEFAULT_MODEL_ID), index_dir


def test_points_policy_query_finds_its_section(real_index):
    index, _ = real_index
    top = search(index, load_embedder(DEFAULT_MODEL_ID), "积分入学政策", k=5)[0]
    assert "积分入学" in top.text
    assert top.section == "四、强化统筹推动，促进各类教育协调发展 > 2.义务教育优质均衡"
    assert top.year == 2018 and top.title == "晋江市2018年教育工作要点"


@pytest.mark.parametrize(
    "question, section",
    [
        ("职业学校和企业怎么合作培养人才", "4.职业教育产教融合"),
        ("今年新增多少学位", "1.加强教育配套规划建设"),
        ("普惠性幼儿园覆盖率目标", "1.学前教育公益普惠"),
    ],
)
def test_paraphrased_questions_find_their_section(real_index, question, section):
    index, _ = real_index
    hits = search(index, load_embedder(DEFAULT_MODEL_ID), question, k=3)
    assert any(h.section.endswith(section) for h in hits), [h.section for h in hits]


def test_dense_only_search_understands_english(real_index):
    index, _ = real_index
    hits = search(index, load_embedder(DEFAULT_MODEL_ID), "How many smart classrooms will be built?", k=3)
    assert any("智慧教室" in h.text for h in hits)
    assert hits[0].bm25_score == 0.0 or hits[0].dense_score > 0.5


def test_cli_search_with_the_real_model(real_index, capsys, monkeypatch):
    _, index_dir = real_index
    monkeypatch.delenv("ZHENGCE_MODEL")
    assert main(["search", "积分入学政策", "--json", "--k", "2", "--index-dir", str(index_dir)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["section"].endswith("2.义务教育优质均衡") and hits[0]["dense_score"] > 0.7
