from zhengce.ingest.chunk import chunk_document
from zhengce.settings import ChunkConfig
from zhengce.ingest.records import CARD_SECTION, SECTION_SEPARATOR


def section_texts(document):
    """section path → all text under it (its own body and its descendants')."""
    texts = {}
    for section in document.sections:
        for depth in range(1, len(section.path) + 1):
            key = SECTION_SEPARATOR.join(section.path[:depth])
            texts[key] = texts.get(key, "") + section.heading + section.body
    return texts


def test_no_chunk_crosses_a_section(document_2018):
    texts = section_texts(document_2018)
    for config in (ChunkConfig(), ChunkConfig(chunk_size=120), ChunkConfig(chunk_size=600)):
        for chunk in chunk_document(document_2018, config)[1:]:  # [0]: the document's facts (below)
            under = texts[chunk.section]
            # every sentence of the chunk lies in its own section
            for sentence in filter(None, chunk.text.replace("。", "。\n").split("\n")):
                assert sentence.strip("：") in under, (chunk.section, sentence)


def test_chunks_are_bounded_and_never_tiny(document_2018):
    for size in (120, 300, 600):
        config = ChunkConfig(chunk_size=size)
        chunks = chunk_document(document_2018, config)
        assert all(len(c.text) >= config.min_chars for c in chunks)
        assert all(len(c.text) <= size + config.min_chars for c in chunks)
    assert len(chunk_document(document_2018, ChunkConfig(chunk_size=120))) > len(chunk_document(document_2018, ChunkConfig(chunk_size=600)))


def test_long_sections_split_at_sentence_ends(document_2018):
    chunks = chunk_document(document_2018, ChunkConfig(chunk_size=150))
    assert sum(c.section.endswith("3.着力“三名”工程建设") for c in chunks) >= 3
    assert all(c.text[-1] in "。；！？，、" or c is chunks[-1] for c in chunks)


def test_chunk_ids_are_stable_and_unique(document_2018):
    first = chunk_document(document_2018)
    second = chunk_document(document_2018)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)
    # the id is derived from content: a different chunk size keeps the ids of unchanged chunks
    resized = {c.chunk_id for c in chunk_document(document_2018, ChunkConfig(chunk_size=310))}
    assert len(resized & {c.chunk_id for c in first}) >= len(first) // 2


def test_every_chunk_carries_document_metadata(document_2018):
    for chunk in chunk_document(document_2018):
        assert chunk.title == "晋江市2018年教育工作要点" and chunk.year == 2018 and chunk.section


def test_a_documents_facts_are_one_passage_of_their_own(document_2018):
    card, first = chunk_document(document_2018)[:2]
    assert card.section == CARD_SECTION and card.position == 0 and first.position == 1
    assert card.text.startswith("《晋江市2018年教育工作要点》") and "发文机关：晋江市教育局" in card.text and "成文日期：2018年3月" in card.text
