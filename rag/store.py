"""The vector store: the only module that imports chromadb.

Two collections per store: `<name>` holds chunks with our vectors (cosine space), `<name>-articles`
holds each cleaned article (for highlighting by offsets) and its content hash. An article's record is
written *after* its chunks, so an interrupted ingest leaves the article unrecorded and the next ingest
redoes it: nothing half-written is ever taken as done.

Chroma is never allowed to embed: every add and query passes vectors (otherwise it downloads an
English ONNX model, see PLATFORM.md).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag.config import StoreSettings
from rag.types import Article, Chunk

log = logging.getLogger(__name__)

_BATCH = 500  # Chroma rejects very large single writes; keep each call moderate


class StoreError(RuntimeError):
    """The store cannot be opened or used: the message says what to do."""


class StoreMismatchError(StoreError):
    """The store was built with another embedding model or dimension."""


def _open_client(settings: StoreSettings):
    import chromadb  # imported here: importing chromadb costs seconds

    client_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.host:
        try:
            return chromadb.HttpClient(host=settings.host, port=settings.port, settings=client_settings)
        except (ValueError, OSError) as exc:  # chromadb raises ValueError when the server is down
            raise StoreError(
                f"cannot reach the Chroma server at {settings.host}:{settings.port} ({exc}); "
                f"start it with `chroma run --path DIR --host {settings.host} --port {settings.port}`"
            ) from exc
    settings.dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.dir), settings=client_settings)


class ChromaStore:
    """Chunks + vectors + articles in Chroma, stamped with the embedding model that built them.

    `model_name`/`dimension` identify the embedder (`embedder.name`, `embedder.dimension`);
    `model_setting` is the settings value that chose it, which lets an unchanged re-ingest confirm the
    store matches without loading the model at all.
    """

    def __init__(self, settings: StoreSettings, model_setting: str) -> None:
        self.settings = settings
        self.model_setting = model_setting
        self._client = _open_client(settings)
        self._chunks = self._client.get_or_create_collection(
            settings.collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        self._articles = self._client.get_or_create_collection(
            f"{settings.collection}-articles",
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        meta = self._chunks.metadata or {}
        if meta.get("embedding_setting") not in (None, model_setting):
            self._mismatch(meta, f"setting {model_setting!r}")

    @property
    def location(self) -> str:
        if self.settings.host:
            return f"chroma://{self.settings.host}:{self.settings.port}/{self.settings.collection}"
        return f"{self.settings.dir} (collection {self.settings.collection})"

    def bind_model(self, model_name: str, dimension: int) -> None:
        """Checks the store was built by this embedder; stamps an unstamped (new) store with it."""
        meta = dict(self._chunks.metadata or {})
        if "embedding_model" not in meta:
            meta.update(embedding_model=model_name, dimension=dimension, embedding_setting=self.model_setting)
            self._chunks.modify(metadata=meta)
        elif meta.get("embedding_model") != model_name or meta.get("dimension") != dimension:
            self._mismatch(meta, f"{model_name!r} (dimension {dimension})")

    def _mismatch(self, meta: dict, current: str) -> None:
        raise StoreMismatchError(
            f"the store at {self.location} was built with embedding model {meta.get('embedding_model')!r} "
            f"(dimension {meta.get('dimension')}, setting {meta.get('embedding_setting')!r}), but the settings "
            f"now name {current}; its vectors would give garbage results. Rebuild it with: "
            f"python -m rag ingest --rebuild --store {self.settings.dir}"
        )

    # --- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        return self._chunks.count()

    def doc_hashes(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content_hash, path) of every fully ingested article."""
        got = self._articles.get(include=["metadatas"])
        return {i: (m.get("content_hash", ""), m.get("path", "")) for i, m in zip(got["ids"], got["metadatas"])}

    def article(self, doc_id: str) -> Article | None:
        got = self._articles.get(ids=[doc_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return _article_from_record(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (text + metadata), in a stable order."""
        chunks: list[Chunk] = []
        offset = 0
        while True:
            got = self._chunks.get(include=["metadatas", "documents"], limit=5000, offset=offset)
            chunks.extend(_chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]))
            if len(got["ids"]) < 5000:
                break
            offset += 5000
        chunks.sort(key=lambda c: (c.doc_id, c.start, c.chunk_id))
        return chunks

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk_id, cosine similarity), best first."""
        total = self.count()
        if total == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=min(n, total), include=["distances"]
        )
        # cosine space: distance = 1 - cosine similarity
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(got["ids"][0], got["distances"][0])]

    def similarities(self, vector: np.ndarray, chunk_ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine similarity of the query to the given chunks (for candidates found by keyword)."""
        if not chunk_ids:
            return {}
        got = self._chunks.get(ids=list(chunk_ids), include=["embeddings"])
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        if matrix.size == 0:
            return {}
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
        sims = matrix @ (np.asarray(vector, dtype=np.float32) / (np.linalg.norm(vector) + 1e-12))
        return dict(zip(got["ids"], map(float, sims)))

    # --- writing -------------------------------------------------------------------------------

    def delete_docs(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self._articles.delete(ids=[doc_id])  # first: a crash in between leaves it "not ingested"
            self._chunks.delete(where={"doc_id": doc_id})

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, content_hash: str) -> None:
        for lo in range(0, len(chunks), _BATCH):
            part = chunks[lo : lo + _BATCH]
            self._chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=np.asarray(vectors[lo : lo + _BATCH], dtype=np.float32),
                documents=[c.text for c in part],
                metadatas=[_chunk_metadata(c, content_hash) for c in part],
            )

    def put_article(self, article: Article) -> None:
        """Marks the article as fully ingested: call after its chunks are stored."""
        self._articles.upsert(
            ids=[article.doc_id],
            embeddings=[[1.0]],  # the article collection is a key-value table; its vector is unused
            documents=[article.text],
            metadatas=[
                {
                    "title": article.title,
                    "date": article.date or "",
                    "publisher": article.publisher or "",
                    "path": article.path,
                    "content_hash": article.content_hash,
                }
            ],
        )


def drop_store(settings: StoreSettings) -> None:
    """Deletes a store's collections whatever model built them (`ingest --rebuild`)."""
    client = _open_client(settings)
    existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
    for name in (settings.collection, f"{settings.collection}-articles"):
        if name in existing:
            client.delete_collection(name)


def _chunk_metadata(chunk: Chunk, content_hash: str) -> dict:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "date": chunk.date or "",
        "publisher": chunk.publisher or "",
        "start": chunk.start,
        "end": chunk.end,
        "n_tokens": chunk.n_tokens,
        "content_hash": content_hash,
    }


def _chunk_from_record(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=meta["doc_id"],
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        publisher=meta.get("publisher") or None,
        n_tokens=int(meta.get("n_tokens", 0)),
    )


def _article_from_record(doc_id: str, text: str, meta: dict) -> Article:
    return Article(
        doc_id=doc_id,
        text=text,
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        publisher=meta.get("publisher") or None,
        path=meta.get("path", ""),
        content_hash=meta.get("content_hash", ""),
    )
