"""Traditional and simplified characters are one script for keyword search; passages stay as written."""
import json
import time

import pytest

from fakes import HashEmbedder
from zhengce.index.search import search
from zhengce.index.store import IndexOutdated, build_index, current_generation, load_index
from zhengce.index.tokenize import tokenize
from zhengce.ingest.clean import normalize_for_index, to_simplified
from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus
from zhengce.settings import ChunkConfig

# Our own fictional plan, written in traditional characters.
TRADITIONAL_PLAN = """某縣2020年教育工作要點
一、學前教育
本縣將新建三所幼兒園，擴大學前教育資源。加強幼兒園教師隊伍建設，提高保教質量，讓適齡兒童就近入園。
二、義務教育
推進義務教育優質均衡發展，逐步消除大班額，完善積分入學制度，保障隨遷子女平等接受教育。
"""
PASSAGE = "本縣將新建三所幼兒園，擴大學前教育資源。"


def test_both_scripts_give_the_same_tokens():
    assert tokenize(PASSAGE) == tokenize("本县将新建三所幼儿园，扩大学前教育资源。")
    assert {"新建", "幼儿园", "学前教育", "资源"} <= set(tokenize(PASSAGE))
    assert tokenize("學校 積分入學") == tokenize("学校 积分入学")


def test_conversion_is_by_phrase_and_leaves_simplified_text_alone(cleaned_2018):
    assert to_simplified("乾燥的天氣") == "干燥的天气" and to_simplified("乾隆") == "乾隆"
    assert normalize_for_index("ＡＢＣ學校，") == "abc学校,"
    assert to_simplified(cleaned_2018) == cleaned_2018  # the bundled (simplified) plan is unchanged
    assert to_simplified("學\ud800校") == "学?校"  # a lone surrogate in a pasted query is no crash


def test_normalizing_is_fast_on_a_large_text(cleaned_2018):
    big = (cleaned_2018 * 200)[:1_000_000]  # ~1M characters, 3 MB: a generous bound, not a benchmark
    normalize_for_index("預熱")  # the converter loads once
    start = time.perf_counter()
    assert normalize_for_index(big)
    assert time.perf_counter() - start < 2.0


@pytest.fixture
def mixed_corpus(corpus_copy):
    (corpus_copy / "某縣2020年教育工作要點.txt").write_text(TRADITIONAL_PLAN, encoding="utf-8")
    return corpus_copy


def test_a_simplified_query_finds_a_traditional_passage(mixed_corpus, tmp_path):
    documents, problems = ingest_corpus(mixed_corpus)
    assert not problems
    build_index(tmp_path / "idx", documents, chunk_corpus(documents), HashEmbedder(), ChunkConfig())
    index = load_index(tmp_path / "idx")
    hit = search(index, HashEmbedder(), "新建幼儿园", k=1, mode="bm25")[0]
    assert hit.doc_id == "某縣2020年教育工作要點"
    assert PASSAGE in hit.text  # shown as written, in traditional characters
    assert {"新建", "幼儿园"} <= set(hit.matched)
    # and the other way round: a traditional query finds the simplified plan
    hit = search(index, HashEmbedder(), "積分入學 電腦派位", k=1, mode="bm25")[0]
    assert hit.doc_id == "晋江2018年教育工作要点"
    # "do the documents ever mention 随迁子女" checks see the traditional plan in simplified characters
    assert "随迁子女" in index.plain_text


def test_an_index_cut_with_another_tokenizer_is_outdated(corpus_copy, tmp_path):
    documents, _ = ingest_corpus(corpus_copy)
    build_index(tmp_path / "idx", documents, chunk_corpus(documents), HashEmbedder(), ChunkConfig())
    generation = current_generation(tmp_path / "idx")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["keyword"]["tokenizer"].startswith("t2s+")
    manifest["keyword"]["tokenizer"] = "jieba-search+policy-terms-0123456789ab"  # before t2s
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexOutdated, match="cuts keywords with .*rebuild with: zhengce index"):
        load_index(tmp_path / "idx")
