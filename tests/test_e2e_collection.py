"""The collection fixture with the real model: the questions that went wrong on real pages now go right."""
import pytest

from zhengce import Library
from zhengce.index.default_model import DEFAULT_MODEL_ID

from conftest import REPO

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHENGCE_MODEL", DEFAULT_MODEL_ID)
    lib = Library.open(corpus=REPO / "tests/collection/files", index=tmp_path_factory.mktemp("e2e-collection") / "index",
                       model=DEFAULT_MODEL_ID)
    yield lib
    mp.undo()


@pytest.fixture(autouse=True)
def real_model(monkeypatch):
    monkeypatch.setenv("ZHENGCE_MODEL", DEFAULT_MODEL_ID)


def test_a_simplified_question_finds_the_traditional_passage(collection):
    hits = collection.search("青禾县新增学前教育学位多少个", k=5)
    assert any(h.doc_id == "doc05" and "學前教育學位540個" in h.text for h in hits)


def test_each_year_of_a_series_answers_with_its_own_figure(collection):
    for year, figure in ((2019, "3600个"), (2021, "4500个"), (2023, "2400个")):
        answer = collection.ask(f"临澜市{year}年新增学前教育学位多少个")
        assert answer.answerable and figure in answer.text, (year, answer.text)
        assert {c.hit.year for c in answer.citations} == {year}


def test_a_place_and_year_the_collection_lacks_are_refused(collection):
    for question, named in (("临澜市2020年教育工作要点新增多少义务教育学位", "临澜市2020年"), ("南川市2022年普惠性幼儿园覆盖率", "南川市")):
        answer = collection.ask(question)
        assert not answer.answerable and named in answer.reason and answer.possibly_related


def test_a_topic_only_another_countys_documents_cover_is_refused_for_this_county(collection):
    refused = collection.ask("石桥县城乡居民医保个人缴费标准")
    assert not refused.answerable and "石桥县的文件中没有相关内容" in refused.reason and "青禾县" in refused.reason
    answered = collection.ask("青禾县居民医保个人缴费标准")
    assert answered.answerable and {c.hit.doc_id for c in answered.citations} == {"doc13"}


def test_a_county_question_is_answered_from_that_county(collection):
    answer = collection.ask("石桥县2020年新增学前教育学位多少个")
    assert answer.answerable and "810个" in answer.text and {c.hit.doc_id for c in answer.citations} == {"doc04"}
