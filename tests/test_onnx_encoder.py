"""The default model on ONNX Runtime (index/onnx_encoder.py) against the same model on torch.

int8 vectors depend slightly on the batch they are computed in (activations are quantized per batch, padding
included), so equality is checked as cosine similarity with a tolerance, never exactly.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zhengce.errors import ZhengceError
from zhengce.index import embed
from zhengce.index.onnx_encoder import cpu_has_vnni, default_runtime

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

SENTENCES = [
    "完善“积分入学”和“电脑派位”制度。",
    "提高普惠性学前教育覆盖率至83%以上。",
    "积分入学政策是什么？",
    "深化“放管服”改革，持续优化营商环境，降低制度性交易成本。",
    "各区县（市）人民政府，市政府各部门、各直属单位：现将《实施方案》印发给你们，请认真贯彻执行。",
    "今年新增多少公办幼儿园学位？",
    "加强教师队伍建设，落实中小学教师工资待遇不低于当地公务员平均工资收入水平。",
    "推进智慧校园建设，新建智慧教室200间。",
    "职业学校和企业怎么合作培养技术技能人才？",
    "全面落实党风廉政建设主体责任和监督责任。",
    "实施名校长、名教师引进计划，引进高层次教育人才10名以上。",
    "化解城镇大班额问题，小学班额控制在45人以内。",
    "支持民办教育规范发展，加强对民办幼儿园的年检和日常监管。",
    "本办法自2019年1月1日起施行，有效期五年。",
    "对符合条件的随迁子女，按照就近入学原则统筹安排到公办学校就读。",
    "建设社区教育学习中心，办好老年大学。",
    "市财政每年安排专项资金5000万元，用于支持校园足球发展。",
    "高中阶段毛入学率达到95%。",
    "严禁在职中小学教师有偿补课。",
    "各单位要高度重视，加强组织领导，确保各项任务落到实处。",
]
assert len(SENTENCES) == 20


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


# ---------------------------------------------------------------- choosing the runtime (no model needed)


def test_vnni_is_read_from_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n", encoding="utf-8")
    assert cpu_has_vnni(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx_vnni\n", encoding="utf-8")
    assert cpu_has_vnni(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n", encoding="utf-8")
    assert not cpu_has_vnni(cpuinfo)
    assert not cpu_has_vnni(tmp_path / "missing")


def test_runtime_comes_from_the_environment_or_the_cpu(monkeypatch):
    monkeypatch.delenv("ZHENGCE_RUNTIME", raising=False)
    assert default_runtime() == ("onnxruntime-int8-smoothquant" if cpu_has_vnni() else "onnxruntime-fp32")
    for value, runtime in (("torch", "torch"), ("onnx-fp32", "onnxruntime-fp32"), ("onnx-int8", "onnxruntime-int8-smoothquant")):
        monkeypatch.setenv("ZHENGCE_RUNTIME", value)
        assert default_runtime() == runtime
    monkeypatch.setenv("ZHENGCE_RUNTIME", "onnx-int4")
    with pytest.raises(ZhengceError, match="ZHENGCE_RUNTIME='onnx-int4' is not one of: torch, onnx-fp32, onnx-int8"):
        default_runtime()


# ---------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def model_dirs() -> tuple[Path, Path]:
    from zhengce.index.default_model import ensure_default_model
    from zhengce.index.onnx_encoder import ensure_onnx_model

    model_dir = ensure_default_model()
    return model_dir, ensure_onnx_model(model_dir)


@pytest.fixture(scope="module")
def embedders(model_dirs) -> dict:
    """The default model on each runtime, built directly (not through load_embedder's per-process cache)."""
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.onnx_encoder import OnnxEmbedder

    model_dir, onnx_dir = model_dirs
    return {
        "torch": embed.SentenceTransformerEmbedder(DEFAULT_MODEL_ID, path=str(model_dir)),
        "onnxruntime-fp32": OnnxEmbedder(DEFAULT_MODEL_ID, model_dir, onnx_dir, "onnxruntime-fp32"),
        "onnxruntime-int8-smoothquant": OnnxEmbedder(DEFAULT_MODEL_ID, model_dir, onnx_dir, "onnxruntime-int8-smoothquant"),
    }


@pytest.mark.model
@pytest.mark.parametrize("runtime, floor", [("onnxruntime-fp32", 0.9999), ("onnxruntime-int8-smoothquant", 0.999)])
def test_onnx_vectors_match_torch(embedders, runtime, floor):
    torch_model, onnx_model = embedders["torch"], embedders[runtime]
    assert (onnx_model.model_id, onnx_model.dimension) == (torch_model.model_id, torch_model.dimension)
    assert (onnx_model.query_prompt, onnx_model.document_prompt) == (torch_model.query_prompt, torch_model.document_prompt) == ("query: ", "passage: ")
    documents = onnx_model.encode_documents(SENTENCES)
    assert documents.dtype == np.float32 and documents.shape == (20, 384)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, rtol=1e-5)
    assert cosines(documents, torch_model.encode_documents(SENTENCES)).min() >= floor
    assert cosines(onnx_model.encode_queries(SENTENCES), torch_model.encode_queries(SENTENCES)).min() >= floor


@pytest.mark.model
def test_long_passages_are_truncated_like_torch(embedders):
    """Beyond 512 tokens both cut the same tokens off (the second text differs only after the cut)."""
    long = "推进教育现代化，办好人民满意的教育。" * 80
    texts = [long, long + "这句话在截断之后。"]
    vectors = embedders["onnxruntime-fp32"].encode_documents(texts)
    assert cosines(vectors[:1], vectors[1:])[0] >= 0.99999
    assert cosines(vectors, embedders["torch"].encode_documents(texts)).min() >= 0.9999


@pytest.mark.model
@pytest.mark.parametrize("runtime, floor", [("onnxruntime-fp32", 0.99999), ("onnxruntime-int8-smoothquant", 0.998)])
def test_a_single_query_agrees_with_the_same_query_in_a_batch(embedders, runtime, floor):
    model = embedders[runtime]
    model.clear_query_cache()
    alone = np.concatenate([model.encode_queries([q]) for q in SENTENCES[:5]])
    batch = model.encode_queries(SENTENCES[:5] + ["一个长得多的问题，让这一批里的其他问题都要补齐到它的长度：学前教育三年行动计划的目标是什么？"])
    assert cosines(alone, batch[:5]).min() >= floor
    again = model.encode_queries([SENTENCES[0]])  # a cache hit: the very same vector, a fresh array
    np.testing.assert_array_equal(again, alone[:1])
    again[0, 0] = 99.0
    assert model.encode_queries([SENTENCES[0]])[0, 0] != 99.0


@pytest.mark.model
def test_document_order_and_progress_are_kept(embedders):
    model = embedders["onnxruntime-int8-smoothquant"]
    texts = SENTENCES * 2  # 40 texts: three batches of 16, sorted by length inside
    seen = []
    vectors = model.encode_documents(texts, progress=seen.append)
    assert sum(seen) == 40 and len(seen) == 3
    assert cosines(vectors[:20], vectors[20:]).min() >= 0.998
    assert cosines(vectors, model.encode_documents(list(reversed(texts)))[::-1]).min() >= 0.998
    assert model.encode_documents([]).shape == (0, 384)


@pytest.mark.model
def test_load_embedder_runs_the_default_model_on_the_chosen_runtime(monkeypatch, model_dirs):
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.onnx_encoder import OnnxEmbedder

    for value, runtime in (("onnx-fp32", "onnxruntime-fp32"), ("onnx-int8", "onnxruntime-int8-smoothquant")):
        monkeypatch.setattr(embed, "_loaded", {})
        monkeypatch.setenv("ZHENGCE_RUNTIME", value)
        loaded = embed.load_embedder(DEFAULT_MODEL_ID)
        assert isinstance(loaded, OnnxEmbedder) and loaded.runtime == runtime and loaded.model_id == DEFAULT_MODEL_ID
        assert embed.expected_runtime(DEFAULT_MODEL_ID) == runtime
    monkeypatch.setattr(embed, "_loaded", {})
    monkeypatch.setenv("ZHENGCE_RUNTIME", "torch")
    assert embed.expected_runtime(DEFAULT_MODEL_ID) == "torch"  # decided without loading anything
    assert embed.expected_runtime("BAAI/bge-small-zh-v1.5") == "torch"  # every other model runs on torch


@pytest.mark.model
def test_the_runtime_is_recorded_and_an_index_from_another_one_is_rebuilt(monkeypatch, tmp_path, embedders):
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.store import IndexOutdated, current_generation, load_index, previous_vectors, read_manifest
    from zhengce.library import ensure_index, index_corpus

    index_dir = tmp_path / "index"
    monkeypatch.setattr(embed, "_loaded", {DEFAULT_MODEL_ID: embedders["onnxruntime-int8-smoothquant"]})
    first = index_corpus(CORPUS, index_dir, model_id=DEFAULT_MODEL_ID, show_progress=False).report
    manifest = load_index(index_dir, model_id=DEFAULT_MODEL_ID).manifest
    assert manifest["model"]["runtime"] == "onnxruntime-int8-smoothquant" and manifest["model"]["id"] == DEFAULT_MODEL_ID

    # the same model id on fp32: its vectors are not the int8 ones, so the index is refused in one line ...
    monkeypatch.setattr(embed, "_loaded", {DEFAULT_MODEL_ID: embedders["onnxruntime-fp32"]})
    with pytest.raises(IndexOutdated) as refused:
        load_index(index_dir, model_id=DEFAULT_MODEL_ID)
    assert "\n" not in str(refused.value)
    assert "computed on onnxruntime-int8-smoothquant, this zhengce encodes on onnxruntime-fp32; rebuild with: zhengce index" in str(refused.value)
    assert previous_vectors(index_dir, embedders["onnxruntime-fp32"]) is None  # and none of its vectors is reused
    # ... and the main job rebuilds it, embedding everything again
    rebuilt = ensure_index(CORPUS, index_dir, show_progress=False, model_id=DEFAULT_MODEL_ID).report
    assert rebuilt.embedded == rebuilt.chunks == first.chunks and rebuilt.reused == 0
    assert read_manifest(current_generation(index_dir))["model"]["runtime"] == "onnxruntime-fp32"


@pytest.mark.model
def test_an_index_from_before_runtimes_were_recorded_counts_as_torch(monkeypatch, tmp_path, embedders):
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.store import IndexOutdated, current_generation, read_manifest

    index_dir = tmp_path / "index"
    monkeypatch.setattr(embed, "_loaded", {DEFAULT_MODEL_ID: embedders["onnxruntime-int8-smoothquant"]})
    from zhengce.library import index_corpus

    index_corpus(CORPUS, index_dir, model_id=DEFAULT_MODEL_ID, show_progress=False)
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["model"]["runtime"]
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IndexOutdated, match="computed on torch, this zhengce encodes on onnxruntime-int8-smoothquant"):
        read_manifest(current_generation(index_dir))
    monkeypatch.setattr(embed, "_loaded", {})
    monkeypatch.setenv("ZHENGCE_RUNTIME", "torch")
    assert read_manifest(current_generation(index_dir))["model"]["id"] == DEFAULT_MODEL_ID


@pytest.mark.model
def test_every_weight_matmul_of_the_int8_graph_is_quantized_after_smoothing(model_dirs):
    """SmoothQuant (onnx_encoder._smooth): no weight product left in fp32, one smoothing Mul per product,
    and the marker says how it was made, calibration text included."""
    import onnx

    from zhengce.index.onnx_encoder import CALIBRATION_FILE, FILES, INT8, MARKER_FILE

    _, onnx_dir = model_dirs
    graph = onnx.load(str(onnx_dir / FILES[INT8]), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    ops = [n.op_type for n in graph.node]
    assert not [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    assert ops.count("MatMulInteger") + ops.count("DynamicQuantizeMatMul") == 72  # 12 layers × q, k, v, out, ffn in, ffn out
    assert sum(n.name.endswith("/smooth") for n in graph.node) == 72
    marker = json.loads((onnx_dir / MARKER_FILE).read_text(encoding="utf-8"))
    smoothing = marker["int8"]["smoothing"]
    assert smoothing["method"] == "SmoothQuant" and smoothing["matmuls"] == 72
    import hashlib

    assert smoothing["calibration_sha256"] == marker["calibration_sha256"] == hashlib.sha256(CALIBRATION_FILE.read_bytes()).hexdigest()


def test_another_calibration_text_means_another_onnx_build(monkeypatch, tmp_path):
    """The int8 graph depends on the calibration text: a marker made with another one is not reused."""
    from zhengce.index import onnx_encoder

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    target = tmp_path / "built"
    target.mkdir()
    (target / onnx_encoder.MARKER_FILE).write_text(json.dumps(onnx_encoder._marker_key(model_dir)), encoding="utf-8")
    assert onnx_encoder._built_from(target) == onnx_encoder._marker_key(model_dir)
    other = tmp_path / "calibration.txt"
    other.write_text("另一段校准文本。\n", encoding="utf-8")
    monkeypatch.setattr(onnx_encoder, "CALIBRATION_FILE", other)
    assert onnx_encoder._built_from(target) != onnx_encoder._marker_key(model_dir)


@pytest.mark.model
def test_an_index_from_the_earlier_int8_graph_is_refused_and_rebuilt(monkeypatch, tmp_path, embedders):
    """Indexes built before SmoothQuant recorded "onnxruntime-int8": their vectors are not this graph's."""
    from zhengce.index.default_model import DEFAULT_MODEL_ID
    from zhengce.index.store import IndexOutdated, current_generation, previous_vectors, read_manifest
    from zhengce.library import ensure_index, index_corpus

    index_dir = tmp_path / "index"
    monkeypatch.setattr(embed, "_loaded", {DEFAULT_MODEL_ID: embedders["onnxruntime-int8-smoothquant"]})
    first = index_corpus(CORPUS, index_dir, model_id=DEFAULT_MODEL_ID, show_progress=False).report
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["model"]["runtime"] = "onnxruntime-int8"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IndexOutdated, match="computed on onnxruntime-int8, this zhengce encodes on onnxruntime-int8-smoothquant; rebuild"):
        read_manifest(current_generation(index_dir))
    assert previous_vectors(index_dir, embedders["onnxruntime-int8-smoothquant"]) is None
    rebuilt = ensure_index(CORPUS, index_dir, show_progress=False, model_id=DEFAULT_MODEL_ID).report
    assert rebuilt.embedded == rebuilt.chunks == first.chunks and rebuilt.reused == 0
