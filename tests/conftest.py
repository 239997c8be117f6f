from pathlib import Path

import pytest

import fakes

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
RAW_2018 = CORPUS / "晋江2018年教育工作要点.txt"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No test reads or writes the user's data folder; the fake embedder unless a test asks otherwise."""
    monkeypatch.setenv("ZHENGCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ZHENGCE_INDEX_DIR", raising=False)
    monkeypatch.delenv("ZHENGCE_CORPUS", raising=False)
    # FAISS unless a test asks for Milvus; setenv (not delenv) so a `--backend milvus` run in-process is undone
    monkeypatch.setenv("ZHENGCE_BACKEND", "faiss")
    monkeypatch.delenv("ZHENGCE_MILVUS_URI", raising=False)
    monkeypatch.setenv("ZHENGCE_MODEL", fakes.FAKE_MODEL_ID)
    fakes.install()


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture
def cleaned_2018() -> str:
    from zhengce.ingest.clean import clean_text

    return clean_text(RAW_2018.read_text(encoding="utf-8"))


@pytest.fixture
def document_2018():
    from zhengce.ingest.catalog import read_catalog
    from zhengce.ingest.pipeline import ingest_file

    return ingest_file(RAW_2018, read_catalog(CORPUS)[RAW_2018.name])


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """The bundled corpus indexed with the fake embedder, built once per session (read-only for tests)."""
    from zhengce.library import index_corpus
    from zhengce.index.embed import load_embedder
    from zhengce.index.store import load_index

    fakes.install()  # a session fixture runs before the per-test autouse one
    index_dir = tmp_path_factory.mktemp("fake-index") / "index"
    index_corpus(CORPUS, index_dir, model_id=fakes.FAKE_MODEL_ID, show_progress=False)
    return load_index(index_dir), load_embedder(fakes.FAKE_MODEL_ID), index_dir


@pytest.fixture(scope="session")
def fake_library(fake_index):
    """The fake index opened as a Library (read-only for tests)."""
    from zhengce.library import Library

    return Library.open(CORPUS, fake_index[2], build=False)


@pytest.fixture(scope="session")
def real_model_library(real_model_index):
    from zhengce.library import Library

    return Library.open(CORPUS, real_model_index[2], build=False)


@pytest.fixture(scope="session")
def real_model_index(tmp_path_factory):
    """The bundled corpus indexed with the real default model, once per session (~10 s)."""
    from zhengce.library import index_corpus
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.embed import load_embedder
    from zhengce.index.store import load_index

    index_dir = tmp_path_factory.mktemp("real-index") / "index"
    index_corpus(CORPUS, index_dir, model_id=DEFAULT_MODEL_ID, show_progress=False)
    return load_index(index_dir), load_embedder(DEFAULT_MODEL_ID), index_dir
