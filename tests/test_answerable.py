"""The no-answer verdict from hits, with the calibrated constants (arithmetic in comments)."""
from index.answerable import judge
from index.search import Hit


def hit(rank, dense, bm25):
    return Hit(rank, 0.0, f"c{rank}", "d", "t", 2018, "s", "text", dense, bm25, ())


def test_chinese_question_needs_similarity_plus_keyword_evidence():
    # 0.870 + 0.08·min(1.5, 6)/6 = 0.870 + 0.02 = 0.890 ≥ 0.884 → answerable
    assert judge("学校会不会请律师帮忙", [hit(1, 0.870, 1.5), hit(2, 0.860, 0.5)]).answerable
    # 0.870 + 0.08·0.3/6 = 0.874 < 0.884 → flagged
    verdict = judge("房价调控政策", [hit(1, 0.870, 0.3)])
    assert not verdict.answerable and "probably not covered" in verdict.reason
    assert verdict.confidence < 0.5


def test_bm25_evidence_is_capped():
    # 0.80 + 0.08·min(60, 6)/6 = 0.88 < 0.884: a huge keyword score cannot carry a dissimilar passage
    assert not judge("积分入学", [hit(1, 0.80, 60.0)]).answerable


def test_best_scores_come_from_any_hit_not_only_the_first():
    # hybrid order need not be dense order: the best similarity is 0.90 at rank 2 → 0.90 + 0.08·(2/6) ≥ 0.884
    assert judge("外来务工人员的子女怎么入学", [hit(1, 0.85, 2.0), hit(2, 0.90, 0.0)]).answerable


def test_english_uses_its_own_threshold():
    assert judge("Will schools have legal advisers?", [hit(1, 0.77, None)]).answerable  # 0.77 ≥ 0.75
    assert not judge("How do I apply for a passport?", [hit(1, 0.72, None)]).answerable


def test_no_hits_and_keyword_only():
    assert not judge("食品安全检查", []).answerable
    assert judge("积分入学", [hit(1, None, 3.0)]).answerable
