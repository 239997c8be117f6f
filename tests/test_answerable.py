"""The no-answer verdict: its signals pinned by hand (arithmetic in comments), and checked with the real model."""
import pytest

from zhengce.index.answerable import CALIBRATED, JUDGE, content_coverage, judge

BM25_CAP = JUDGE.bm25_cap
from zhengce.index.default_model import DEFAULT_MODEL_ID
from zhengce.index.search import Hit

PASSAGE = "推广以社保为主要依据的来晋务工人员子女入学政策，完善“积分入学”和“电脑派位”制度。"
MODEL = DEFAULT_MODEL_ID
LIMITS = CALIBRATED[DEFAULT_MODEL_ID]


def hit(rank, dense, bm25, text="text"):
    return Hit(rank, 0.0, f"c{rank}", "d", "t", 2018, "s", text, dense, bm25, ())


def evidence(dense, bm25, coverage):
    return dense + LIMITS.bm25_weight * min(bm25, BM25_CAP) / BM25_CAP + LIMITS.coverage_weight * coverage


def test_coverage_counts_question_characters_whose_keyword_is_in_the_passage():
    assert content_coverage("积分入学政策", PASSAGE) == 1.0
    # 房价调控政策: keywords 房价, 调控, 政策 (6 characters); only 政策 occurs → 2/6
    assert content_coverage("房价调控政策", PASSAGE) == pytest.approx(2 / 6)
    # stopwords (怎么, 样) are not content; 今天天气 shares nothing
    assert content_coverage("今天天气怎么样", PASSAGE) == 0.0
    assert content_coverage("？？", PASSAGE) == 0.0


def test_chinese_questions_need_similarity_plus_keyword_evidence():
    # a passage with every question word and a strong BM25 match, similarity just under the threshold
    strong = hit(1, LIMITS.threshold - 0.005, BM25_CAP, PASSAGE)
    assert evidence(LIMITS.threshold - 0.005, BM25_CAP, 1.0) >= LIMITS.threshold
    assert judge("积分入学政策", [strong], MODEL).answerable
    # the same similarity with no keyword evidence falls short
    weak = hit(1, LIMITS.threshold - 0.005, 0.0, "与问题无关的段落。")
    verdict = judge("房价调控政策", [weak], MODEL)
    assert not verdict.answerable and "可能没有" in verdict.reason and verdict.confidence < 0.5


def test_bm25_evidence_is_capped():
    # a huge keyword score cannot carry a dissimilar passage: 0.80 + at most the full weights < threshold
    assert evidence(0.80, 60.0, 1.0) < LIMITS.threshold
    assert not judge("积分入学", [hit(1, 0.80, 60.0, PASSAGE)], MODEL).answerable


def test_best_scores_come_from_any_of_the_top_hits():
    # hybrid order need not be dense order: the best similarity sits at rank 2
    hits = [hit(1, 0.80, 0.0), hit(2, LIMITS.threshold + 0.01, 0.0)]
    assert judge("外来务工人员的子女怎么入学", hits, MODEL).answerable


def test_questions_without_chinese_use_similarity_alone():
    assert judge("Will schools have legal advisers?", [hit(1, LIMITS.threshold_other + 0.01, None)], MODEL).answerable
    assert not judge("How do I apply for a passport?", [hit(1, LIMITS.threshold_other - 0.01, None)], MODEL).answerable


def test_uncalibrated_models_and_keyword_only_search_use_coverage():
    assert judge("积分入学政策", [hit(1, 0.1, 3.0, PASSAGE)], "fake:hash-384").answerable
    assert not judge("房价调控政策", [hit(1, 0.99, 3.0, PASSAGE)], "fake:hash-384").answerable  # 2/6 < 0.5
    assert judge("积分入学", [hit(1, None, 3.0, PASSAGE)], MODEL).answerable
    assert JUDGE.coverage_only_min == 0.5
    assert not judge("食品安全检查", [], MODEL).answerable


def test_answers_just_above_the_threshold_are_hedged():
    # confidence = logistic((score − threshold) / 0.01): +0.01 → 0.73 (hedged), +0.03 → 0.95 (sure)
    just = judge("外来务工人员的子女怎么入学", [hit(1, LIMITS.threshold + 0.01, 0.0)], MODEL)
    assert just.answerable and just.hedged and "把握不大" in just.reason
    sure = judge("外来务工人员的子女怎么入学", [hit(1, LIMITS.threshold + 0.03, 0.0)], MODEL)
    assert sure.answerable and not sure.hedged and "把握不大" not in sure.reason
    below = judge("外来务工人员的子女怎么入学", [hit(1, LIMITS.threshold - 0.01, 0.0)], MODEL)
    assert not below.answerable and not below.hedged
    # coverage-only verdicts (uncalibrated models) have no similarity scale to be unsure on
    assert not judge("积分入学政策", [hit(1, 0.1, 3.0, PASSAGE)], "fake:hash-384").hedged


def test_a_concept_no_document_mentions_makes_the_question_unanswerable():
    from types import SimpleNamespace

    from zhengce.index.answerable import missing_concepts

    plan = SimpleNamespace(plain_text="完成10个足球场的建设。实施新扩建项目。推广积分入学。逐步消除大班额。")
    missing = missing_concepts("校车安全管理有什么规定", plan)
    assert len(missing) == 1 and missing[0].startswith("校车")  # 校车安全 or 校车, as the word lists name it
    assert missing_concepts("今年扩建多少学校", plan) == []  # mentioned (the index drops the brackets of 新（扩）建)
    assert missing_concepts("一个班人太多怎么办", plan) == []  # names nothing the word lists know
    # similarity alone would answer it; the missing concept decides, and the reason names it
    sure = hit(1, LIMITS.threshold + 0.03, 0.0)
    verdict = judge("校车安全管理有什么规定", [sure], MODEL, ["校车"])
    assert not verdict.answerable and "“校车”" in verdict.reason
    # an almost certain match is only hedged (the question may be half answered)
    certain = judge("积分入学和校车", [hit(1, LIMITS.threshold + 0.08, BM25_CAP, PASSAGE)], MODEL, ["校车"])
    assert certain.confidence >= JUDGE.missing_concept_override and certain.answerable and certain.hedged and "“校车”" in certain.reason
    # a question unanswerable anyway keeps its verdict; its reason now says what is missing
    anyway, plain = judge("校车", [hit(1, 0.5, 0.0)], MODEL, ["校车"]), judge("校车", [hit(1, 0.5, 0.0)], MODEL)
    assert (anyway.answerable, anyway.confidence) == (plain.answerable, plain.confidence) == (False, plain.confidence)
    assert anyway.reason.startswith("文件中没有提到“校车”") and anyway.reason.endswith(plain.reason.split("：", 1)[1])
    # the scores' own verdict is replaced, not repeated after it ("没有提到…：文件中有相关内容：…" read as a contradiction)
    refused = judge("校车安全管理有什么规定", [sure], MODEL, ["校车"])
    assert "文件中有相关内容" not in refused.reason and refused.reason.endswith(f"阈值 {LIMITS.threshold:.3f}")
    assert "文件中有相关内容" not in certain.reason
    assert judge("外来务工人员的子女怎么入学", [sure], MODEL, []).answerable


def test_plain_text_keeps_headings_and_drops_brackets(fake_index):
    index, _, _ = fake_index
    assert "一、全面从严治党" in index.plain_text and "新扩建" in index.plain_text and "（" not in index.plain_text


def test_a_name_is_mentioned_when_its_words_stand_close_together():
    from zhengce.index.answerable import mentioned

    plan = "积极引进国际双语和高端民办幼儿园，满足社会需求。" + "甲" * 50 + "加强校园安全管理。"
    assert mentioned("民办幼儿园", plan)  # verbatim
    assert mentioned("双语幼儿园", plan)  # 国际双语和高端民办幼儿园: both words within a clause
    assert not mentioned("校车安全", plan)  # 校车 is never written
    far = "双语" + "乙" * (JUDGE.mention_window + 5) + "幼儿园"
    assert not mentioned("双语幼儿园", far)  # both words, but nowhere near each other


def test_an_english_question_misses_a_concept_when_no_chinese_word_of_its_glossary_term_is_mentioned():
    from types import SimpleNamespace

    from zhengce.index.answerable import missing_concepts

    plan = SimpleNamespace(plain_text="全年新建公办幼儿园5所。推广积分入学。加强校园安全管理，开展防溺水教育。")
    assert missing_concepts("How do I apply for a passport?", plan) == ["passport（护照）"]
    assert missing_concepts("How many new public kindergartens will be built?", plan) == []  # 公办幼儿园
    assert missing_concepts("What does the plan do about drowning?", plan) == []  # drowning → 溺水 防溺水 …: one is enough
    assert missing_concepts("What does the plan say?", plan) == []  # no glossary term: nothing to miss
    # English confidence is similarity alone: however high, a missing concept refuses instead of hedging
    sure = [hit(1, LIMITS.threshold_other + 0.1, None)]
    assert judge("How do I apply for a passport?", sure, MODEL).confidence >= JUDGE.missing_concept_override
    certain = judge("How do I apply for a passport?", sure, MODEL, ["passport（护照）"])
    assert not certain.answerable and not certain.hedged and "“passport（护照）”" in certain.reason
