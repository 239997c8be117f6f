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
