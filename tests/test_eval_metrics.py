"""Metrics against hand-computed values (arithmetic in the comments)."""
import math

import pytest

from zhengce.eval import metrics


def cov(*sets):
    return [frozenset(s) for s in sets]


def test_covers_whole_and_at_a_chunk_boundary():
    gold = "推广以社保为主要依据的来晋务工人员子女入学政策"  # 23 characters → min overlap max(8, 12) = 12
    assert metrics.min_overlap(gold) == 12
    assert metrics.covers("……" + gold + "，完善积分入学", gold)
    assert metrics.covers("逐步消除大班额。推广以社保为主要依据的来", gold)  # ends with gold[:12]
    assert not metrics.covers("逐步消除大班额。推广以社保为主要依据", gold)  # ends with gold[:10]: too little


def test_covers_needs_the_piece_at_the_edge():
    gold = "推广以社保为主要依据的来晋务工人员子女入学政策"
    assert not metrics.covers("务工人员子女入学政策，完善积分入学", gold)  # 10-character suffix < 12
    assert metrics.covers("依据的来晋务工人员子女入学政策，完善积分入学", gold)  # 15-character suffix ≥ 12
    assert not metrics.covers("加快来晋务工人员子女入学政策研究和以社保为主要依据", gold)  # pieces in the middle / too short


def test_short_gold_must_be_whole():
    assert metrics.min_overlap("家长评学校") == 8  # 8 ≥ 5 characters: only whole containment counts
    assert metrics.covers("学生评教师、家长评学校的“三评”活动", "家长评学校")
    assert not metrics.covers("家长评学", "家长评学校")
    assert not metrics.covers("评学校", "家长评学校")


def test_covered_golds():
    assert metrics.covered_golds("强化“一岗双责”，继续", ["班子成员落实“一岗双责”责任", "强化“一岗双责”"]) == {1}


def test_hit_mrr_recall_ndcg_by_hand():
    # ranks 1..4 cover: nothing, gold 0, gold 0 again, gold 1; two golds
    c = cov(set(), {0}, {0}, {1})
    assert metrics.first_relevant_rank(c, 10) == 2
    assert metrics.hit_at(c, 1) == 0.0
    assert metrics.hit_at(c, 3) == 1.0
    assert metrics.reciprocal_rank(c) == 0.5  # 1/2
    assert metrics.recall_at(c, 2, 3) == 0.5  # {0} of 2 golds
    assert metrics.recall_at(c, 2, 4) == 1.0  # {0, 1}
    # DCG = 1/log2(3) + 0 (repeat) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    # IDCG (2 golds) = 1/log2(2) + 1/log2(3) = 1 + 0.63093 = 1.63093 → nDCG = 0.65093
    assert metrics.ndcg_at(c, 2, 10) == pytest.approx(0.65093, abs=1e-5)
    assert metrics.ndcg_at(c, 2, 3) == pytest.approx(0.63093 / 1.63093, abs=1e-5)


def test_misses_and_cutoffs():
    c = cov(set(), set(), set(), set(), set(), {0})
    assert metrics.hit_at(c, 5) == 0.0
    assert metrics.reciprocal_rank(c, 10) == pytest.approx(1 / 6)
    assert metrics.reciprocal_rank(c, 5) == 0.0
    assert metrics.ndcg_at(c, 1, 10) == pytest.approx(1 / math.log2(7))  # 0.35621 / 1
    assert metrics.ndcg_at([], 1) == 0.0
    assert metrics.recall_at([], 1, 5) == 0.0


def test_ndcg_capped_when_one_passage_covers_two_golds():
    # rank 1 covers both: DCG = 2/1 = 2 > IDCG 1.63093 → capped at 1
    assert metrics.ndcg_at(cov({0, 1}), 2) == 1.0


def test_percentile_and_flag_rates():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0  # position 1.5 → 20 + 0.5·10
    assert metrics.percentile(values, 95) == pytest.approx(38.5)  # position 2.85 → 30 + 0.85·10
    assert metrics.percentile([7.0], 95) == 7.0
    assert math.isnan(metrics.percentile([], 50))
    # 3 of 4 out-of-scope flagged; 1 of 5 answerable flagged
    assert metrics.flag_rates([True, True, False, True], [False, True, False, False, False]) == (0.75, 0.2)


def test_gold_is_compared_after_normalization_but_a_different_character_never_matches():
    gold = "完善“积分入学”和“电脑派位”制度"
    assert metrics.covers('……完善"积分入学" 和"电脑派位"制度，', gold)  # straight quotes and a space (OCR, re-typing)
    assert metrics.covers("完善积分入学和电脑派位制度", gold)  # quotes dropped
    assert not metrics.covers("完善积分入学和电脑排位制度", gold)  # 排 for 派: a typo is not a match by default


def test_fuzzy_gold_allows_one_misread_chinese_character_in_17():
    gold = "遴选设立20个以上的名教师孵化工作室"  # 18 characters after normalization
    ocr = "二是遂选设立20个以上的名教师孵化工作室，发挥"
    assert not metrics.covers(ocr, gold)
    assert metrics.covers(ocr, gold, fuzzy=True)  # 遂 for 遴: 100·(1 − 1/18) = 94.4 ≥ 94
    assert not metrics.covers("二是遂选设立20个以上的名教帅孵化工作室", gold, fuzzy=True)  # two misread: 100·(1 − 2/18) = 88.9
    # 16 characters with one misread: 100·(1 − 1/16) = 93.75 < 94, a gold this short must match exactly
    assert not metrics.covers("推进陈埭民族中学创建省一级达标校", "推进陈棣民族中学创建省一级达标校", fuzzy=True)
    # only Chinese characters may differ: a figure never does ("90%" is another year's "92%")
    assert not metrics.covers("公办学校接收随迁子女比例不低于92%，健全家庭经济困难学生精准资助机制。",
                              "公办学校接收随迁子女比例不低于90%", fuzzy=True)
    # a figure just after the gold is not an edit: 埭 dropped, the window ends on the "2" of the next item
    assert metrics.covers("积极探索和推行代建制，继续在陈镇开展试点2.推进", "积极探索和推行代建制，继续在陈埭镇开展试点", fuzzy=True)
    # a passage shorter than the gold, and inside it, is not a match (partial ratio would score it 100)
    assert not metrics.covers("名教师孵化工作室", gold, fuzzy=True)


def test_fuzzy_gold_at_a_chunk_boundary():
    gold = "在完成晋江市中心城区教育布局图则初步成果设计的基础上进行审核批准"  # 32 characters: a piece of ≥ 16 counts
    end_piece = "……开展布局调研。在完成普江市中心城区教育布局图则初步成果"  # 20 characters of the gold, 普 for 晋
    assert not metrics.covers(end_piece, gold)
    assert metrics.covers(end_piece, gold, fuzzy=True)  # 100·(1 − 1/20) = 95 ≥ 94
    assert metrics.covers("普江市中心城区教育布局图则初步成果设计的基础上进行审核批准，年内", gold, fuzzy=True)  # start piece, 28 characters
    assert not metrics.covers("……开展布局调研。在完成普江市中心城区", gold, fuzzy=True)  # 10 characters < 16


def test_find_golds_strict_catches_typos_fuzzy_counts_approximate_ones():
    from zhengce.eval.testset import TestItem, find_golds, missing_gold

    text = '二是遂选设立20个以上的名教师孵化工作室。完善"积分入学"和"电脑派位"制度。建设50个智慧教室。'
    items = [TestItem("a", "q", ("遴选设立20个以上的名教师孵化工作室",), ("keyword",), "dev"),
             TestItem("b", "q", ("完善“积分入学”和“电脑派位”制度",), ("keyword",), "dev"),
             TestItem("c", "q", ("建设60个智慧教室",), ("numeric",), "dev")]
    assert missing_gold(items, [text]) == [("a", "遴选设立20个以上的名教师孵化工作室"), ("c", "建设60个智慧教室")]
    assert [how for _, _, how in find_golds(items, [text], fuzzy=True)] == ["approximate", "exact", None]


@pytest.mark.slow
def test_fuzzy_gold_adds_no_false_pairs_on_the_text_corpora():
    """On the text they were written against, normalized and fuzzy matching accept exactly the (gold,
    chunk) pairs that raw matching does: a near match never lands on another passage, not even on the
    collection's other-year documents with the same sentences and other figures."""
    from pathlib import Path

    from zhengce.eval.testset import load_testset
    from zhengce.ingest.pipeline import chunk_corpus, ingest_corpus

    repo = Path(__file__).resolve().parents[1]
    for testset, corpus in (("eval/testset_2018.jsonl", "corpus"), ("eval/testset_collection.jsonl", "tests/collection/files")):
        chunks = chunk_corpus(ingest_corpus(repo / corpus)[0])
        golds = {g for item in load_testset(repo / testset) for g in item.gold}
        raw = {(g, c.chunk_id) for g in golds for c in chunks if metrics.covers_exactly(c.text, g)}
        assert {(g, c.chunk_id) for g in golds for c in chunks if metrics.covers(c.text, g)} == raw, testset
        assert {(g, c.chunk_id) for g in golds for c in chunks if metrics.covers(c.text, g, fuzzy=True)} == raw, testset
