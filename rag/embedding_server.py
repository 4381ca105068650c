"""Passage embeddings from an OpenAI-compatible `/v1/embeddings` server (infinity-emb, vLLM, llama.cpp).

    local = load_embedder(replace(settings, backend="local"), cache_dir)
    embedder = ServerEmbedder(local, settings)     # no request yet: queries never need the server
    embedder.embed_passages(chunks)                 # checks the server against `local` once, then
                                                    # POST {base_url}/embeddings, batch by batch

Meant for bulk ingest on a machine (a GPU box) that serves the *same* model: the server's vectors
go into a store whose other vectors came from the local model, so before the first passage is
embedded the server must reproduce the local model's vectors on a fixed sample (cosine >= 0.99), else
the embedder refuses with a message that says so. Queries, token counts, the name and the dimension
stay local: a query is one short text (~14 ms here, no network hop), and chunking must count the local
tokenizer's tokens. The check waits for the first passage, not the constructor: an app or a CLI search
started while the server is down must answer from the local model. Query-time work that needs passage
vectors (sentence relevance, rag/relevance.py) takes them from `local` too. Texts are cut to the local model's token limit before they are sent, so a server
with another limit never truncates (or rejects) differently from the local model.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.embedder_base import EmbeddingServerError

MIN_COSINE = 0.99
# the server check: Korean and English, names, numbers, mixed script, of several lengths
CHECK_TEXTS = (
    "LGU+는 중소 협력사 120곳과 상생협력 협약을 맺고 기술 개발 자금을 지원한다.",
    "동반성장 펀드 규모는 1,030억 원이며, 2차 협력사까지 대금 지급 기간을 단축한다고 밝혔다.",
    "SK텔레콤(SKT)과 KT가 ESG 경영 성과를 발표했다 (2023년 3분기).",
    "㈜비플은 ‘상생결제’ 시스템을 도입했다… 효과는 12% 증가.",
    "The company signed a win-win cooperation agreement with 120 small suppliers.",
    "기상청은 내일 전국에 비가 내리고 기온이 떨어질 것이라고 예보했다.",
)


class ServerEmbedder:
    """Passages from the server, everything else from `local` (see the module docstring)."""

    def __init__(self, local: object, settings: EmbeddingSettings, client: object | None = None) -> None:
        import httpx

        if not settings.base_url:
            raise EmbeddingServerError("embedding.backend is 'openai' but RAG_EMBEDDING__BASE_URL is empty")
        self._local = local
        self._settings = settings
        self._url = settings.base_url.rstrip("/") + "/embeddings"
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._client = client or httpx.Client(timeout=settings.timeout_s, headers=headers)
        self.name = local.name
        self.dimension = local.dimension
        self.max_tokens = local.max_tokens
        self._checked: float | None = None
        self._check_lock = threading.Lock()

    @property
    def local(self) -> object:
        """The local model the server reproduces: the embedder for work at question time."""
        return self._local

    @property
    def min_cosine(self) -> float:
        """The check's result (running it first if no passage was embedded yet)."""
        self._ensure_checked()
        return self._checked

    # ------------------------------------------------------------ protocol
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self._ensure_checked()
        return self._embed_passages(texts)

    def _embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        prefixed = [self._settings.passage_prefix + t for t in texts]
        out = np.zeros((len(prefixed), self.dimension), dtype=np.float32)
        step = max(1, self._settings.server_batch_size)
        for start in range(0, len(prefixed), step):
            out[start : start + step] = self._request(prefixed[start : start + step])
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._local.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._local.count_tokens(text)

    # ------------------------------------------------------------ the check
    def _ensure_checked(self) -> None:
        with self._check_lock:  # one check, however many ingest threads ask at once
            if self._checked is None:
                self._checked = self.check()

    def check(self) -> float:
        """Min cosine between the server's and the local model's passage vectors on CHECK_TEXTS;
        raises when it is below MIN_COSINE (another model, other prefixes, no normalization...)."""
        theirs = self._embed_passages(CHECK_TEXTS)
        ours = self._local.embed_passages(CHECK_TEXTS)
        cosines = (theirs * ours).sum(axis=1)
        worst = float(cosines.min())
        if worst < MIN_COSINE:
            raise EmbeddingServerError(
                f"the embeddings server at {self._settings.base_url} (model {self._settings.server_model!r}) does "
                f"not reproduce the local model {self.name}: min cosine {worst:.3f} < {MIN_COSINE} on "
                f"{len(CHECK_TEXTS)} fixed texts. Its vectors would not match the store's, so nothing was sent "
                "to the store; serve the same model (RAG_EMBEDDING__SERVER_MODEL) or unset RAG_EMBEDDING__BASE_URL"
            )
        return worst

    # ------------------------------------------------------------ transport
    def _request(self, texts: list[str]) -> np.ndarray:
        import httpx

        where = f"the embeddings server at {self._settings.base_url}"
        body = {"model": self._settings.server_model, "input": [self._cut(t) for t in texts],
                "encoding_format": "float"}
        try:
            response = self._client.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            raise EmbeddingServerError(
                f"{where} did not answer within {self._settings.timeout_s:g} s (RAG_EMBEDDING__TIMEOUT_S)"
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            # connected, then no answer: a server that died on this request (llama.cpp aborts on a batch
            # larger than its --ubatch-size) must not read as one that was never there
            raise EmbeddingServerError(
                f"{where} closed the connection without an answer to a batch of {len(texts)} texts "
                f"({exc.__class__.__name__}: {exc}); it may have crashed on a batch this large: lower "
                "RAG_EMBEDDING__SERVER_BATCH_SIZE, or let the server take it (llama.cpp: --ubatch-size as large "
                "as --batch-size)"
            ) from exc
        except httpx.HTTPError as exc:
            raise EmbeddingServerError(f"cannot reach {where} ({exc.__class__.__name__}: {exc}); is it running? "
                                       "(RAG_EMBEDDING__BASE_URL)") from exc
        if response.status_code != 200:
            raise EmbeddingServerError(f"{where} answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            rows = sorted(response.json()["data"], key=lambda row: row["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingServerError(f"{where} did not answer like an OpenAI /v1/embeddings endpoint: "
                                       f"{response.text[:200]}") from exc
        if vectors.shape != (len(texts), self.dimension):
            raise EmbeddingServerError(f"{where} returned vectors of shape {vectors.shape}; expected "
                                       f"{(len(texts), self.dimension)} for the local model {self.name}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)  # not every server normalizes

    def _cut(self, text: str) -> str:
        """`text` cut where the local model would truncate it (<s> and </s> take two positions)."""
        truncate = getattr(self._local, "truncate", None)  # optional: not part of the embedder protocol
        return truncate(text, self.max_tokens - 2) if truncate else text
