"""The vector store: the only module that imports chromadb.

Two collections per store: `<name>` holds chunks with our vectors (cosine space), `<name>-articles`
holds each cleaned article (for highlighting by offsets), its content hash and what the article
manager lists. A chunk counts only while its article's record carries the same content hash: an
article's record is written *after* its chunks and a reader sees chunks through the records it
loaded, so an article's chunks and record become visible together; chunks whose record is missing
or names another hash (a kill between the two writes) are orphans that the next ingest removes.

The chunk collection's metadata holds the store's `generation` (bumped by every committed ingest, so
serving processes notice a change) and `dirty` (an ingest started and has not finished).

Chroma is never allowed to embed: every add and query passes vectors (otherwise it downloads an
English ONNX model, see PLATFORM.md).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import numpy as np

from rag.config import StoreSettings
from rag.filters import date_number, source_matches
from rag.locks import LockBusyError, claim_folder
from rag.types import Article, ArticleInfo, Chunk, Filters

log = logging.getLogger(__name__)

_BATCH = 500  # Chroma rejects very large single writes; keep each call moderate
_PAGE = 5000  # records per read when scanning a whole collection
_DELETE_DOCS = 100  # articles per delete call (their chunks go in the same call, by a doc-id filter)
# stores written before this lack date_int (date filters) and chunk counts: migrated in place
FORMAT = 2


class StoreError(RuntimeError):
    """The store cannot be opened or used: the message says what to do."""


class StoreMismatchError(StoreError):
    """The store was built with another embedding model or dimension."""


class StoreBusyError(StoreError):
    """Another process has this store folder open (Chroma supports one process per folder)."""


@dataclass(frozen=True)
class StoreState:
    generation: int = 0
    dirty: bool = False  # an ingest started and did not finish (killed): orphans may exist


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    content_hash: str
    vector: np.ndarray
    embedded_sha1: str = ""  # `passage_digest` of the text its vector was embedded from ("": not recorded)


def unreachable_message(settings: StoreSettings, exc: BaseException) -> str:
    """What to do when the Chroma server does not answer (at start-up or any call after)."""
    return (f"cannot reach the Chroma server at {settings.host}:{settings.port} ({exc}); "
            f"start it with `chroma run --path DIR --host {settings.host} --port {settings.port}`")


def _open_client(settings: StoreSettings):
    import chromadb  # imported here: importing chromadb costs seconds

    client_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if settings.host:
        try:
            return chromadb.HttpClient(host=settings.host, port=settings.port, settings=client_settings)
        except (ValueError, OSError) as exc:  # chromadb raises ValueError when the server is down
            raise StoreError(unreachable_message(settings, exc)) from exc
    return chromadb.PersistentClient(path=str(settings.dir), settings=client_settings)


@contextmanager
def store_calls(settings: StoreSettings) -> Iterator[None]:
    """Chroma calls inside this raise StoreError, saying what to do, when the server went away (it was up
    when the store opened: a restart, a crash) or the collection vanished (a server restarted on an empty
    --path, another process's `ingest --rebuild`). Without it the web API answered a bare 500 and the CLI
    printed an httpx traceback. Nothing is cached here: once the server answers again, so do the calls."""
    import httpx  # chromadb's HTTP client: already imported by then
    from chromadb.errors import NotFoundError

    try:
        yield
    except httpx.TransportError as exc:  # refused, reset, timed out: the server is not answering
        raise StoreError(unreachable_message(settings, exc)) from exc
    except NotFoundError as exc:
        where = (f"the Chroma server at {settings.host}:{settings.port}" if settings.host
                 else f"the store folder {settings.dir}")
        raise StoreError(
            f"the collection {settings.collection!r} is missing from {where} ({exc}): was the server restarted "
            f"on another --path, or the store rebuilt? Restart it on the store's path, or ingest again with "
            f"`python -m rag ingest`"
        ) from exc


_Method = TypeVar("_Method", bound=Callable)


def _guarded(method: _Method) -> _Method:
    """A ChromaStore method whose Chroma calls raise StoreError (see `store_calls`)."""

    @functools.wraps(method)
    def call(self: "ChromaStore", *args, **kwargs):
        with store_calls(self.settings):
            return method(self, *args, **kwargs)

    return call  # type: ignore[return-value]


def check_store_arg(settings: StoreSettings, store_dir: str | Path | None) -> None:
    """StoreError when `--store DIR` is given while the settings name a Chroma server (the folder would be
    silently ignored: `rag info --store X` printed the server), or when the local store path is a file."""
    if store_dir is not None and settings.host:
        raise StoreError(
            f"--store {store_dir} names a store folder, but store.host is set (RAG_STORE__HOST or rag.toml): the "
            f"store is the Chroma server at {settings.host}:{settings.port}. Drop --store to use the server, or "
            f"unset store.host (e.g. `env -u RAG_STORE__HOST`) to use the folder"
        )
    if not settings.host:
        _not_a_file(Path(store_dir) if store_dir is not None else settings.dir)


def check_store_exists(settings: StoreSettings, given: bool) -> None:
    """StoreError when a local store folder that a command only reads does not exist (nothing is created):
    `given` says whether the user named it (--store), so the message can suspect a typo."""
    if settings.host or settings.dir.exists():
        return
    if given:
        raise StoreError(
            f"no store at {settings.dir}: check the path, or build one there with "
            f"`python -m rag ingest --store {settings.dir} FILES_OR_FOLDERS`"
        )
    raise StoreError(f"no store yet at {settings.dir}: run `python -m rag ingest` first (it reads paths.corpus, the seeds by default, "
                     "or give files and folders)")


def _not_a_file(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"the store path {folder} is a file, not a folder: give --store a folder")


def make_folder(folder: Path) -> None:
    """Creates a local store's folder; StoreError, saying what to give instead, when a file is in its way."""
    _not_a_file(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the store folder {folder}: {exc.strerror or exc}") from exc


def _claim(settings: StoreSettings) -> Callable[[], None]:
    """Claims a local store's folder for this process; StoreBusyError when another process has it open."""
    make_folder(settings.dir)
    try:
        # two PersistentClients on one folder from two processes can hang for minutes or
        # lose writes (PLATFORM.md): refuse the second at once and say what to do instead
        return claim_folder(settings.dir, f"the store folder {settings.dir}")
    except LockBusyError as exc:
        raise StoreBusyError(
            f"{exc}. Chroma does not support two processes on one store folder: stop the other "
            f"process, or serve the store with `chroma run --path {settings.dir} --host 127.0.0.1 "
            f"--port 8000` and point every process at it (RAG_STORE__HOST=127.0.0.1 RAG_STORE__PORT=8000)"
        ) from exc
    except OSError as exc:
        raise StoreError(f"cannot use the store folder {settings.dir}: {exc.strerror or exc}") from exc


def _hnsw(settings: StoreSettings) -> dict:
    # what grew with the store in the old ingest was the number of Chroma calls (one upsert per
    # article into each collection), not HNSW syncing: writes now go one call per group of articles
    return {"space": "cosine", "batch_size": settings.hnsw_batch_size, "sync_threshold": settings.hnsw_sync_threshold,
            "ef_search": settings.hnsw_search_ef}


# copies of one passage (syndicated articles) have one vector: at the cut, HNSW returns whichever
# copies its graph reaches first, another set after another start. Asked for this many more, the cut
# is made here, ties to the chunk id (more copies than this at the cut may still vary)
TIE_MARGIN = 10
_BREADTH_TRIES = 6  # setting the breadth meets a locked database for a moment after a client closes (~3 s in all)


class ChromaStore:
    """Chunks + vectors + articles in Chroma, stamped with the embedding model that built them.

    `model_name`/`dimension` identify the embedder (`embedder.name`, `embedder.dimension`);
    `model_setting` is the settings value that chose it, which lets an unchanged re-ingest confirm the
    store matches without loading the model at all.
    """

    def __init__(self, settings: StoreSettings, model_setting: str) -> None:
        self.settings = settings
        self.model_setting = model_setting
        self._release: Callable[[], None] = lambda: None
        if not settings.host:
            self._release = _claim(settings)
        try:
            with store_calls(settings):
                self._client = _open_client(settings)
                self._chunks = self._client.get_or_create_collection(
                    settings.collection, configuration={"hnsw": _hnsw(settings)}, embedding_function=None
                )
                self._articles = self._client.get_or_create_collection(
                    f"{settings.collection}-articles", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
                self._set_search_breadth(settings)
        except BaseException:
            self._release()
            raise
        meta = self._chunks.metadata or {}
        # a store stamped before the fix to issue 12 may carry the model name as its setting
        if meta.get("embedding_setting") not in (None, model_setting, meta.get("embedding_model")):
            self.close()
            self._mismatch(meta, f"setting {model_setting!r}")

    def close(self) -> None:
        self._release()

    @property
    def location(self) -> str:
        if self.settings.host:
            return f"chroma://{self.settings.host}:{self.settings.port}/{self.settings.collection}"
        return f"{self.settings.dir} (collection {self.settings.collection})"

    @_guarded
    def bind_model(self, model_name: str, dimension: int) -> None:
        """Checks the store was built by this embedder; stamps an unstamped (new) store with it."""
        meta = self._meta()
        if "embedding_model" not in meta:
            meta.update(embedding_model=model_name, dimension=dimension, embedding_setting=self.model_setting,
                        format=FORMAT)
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

    @_guarded
    def _meta(self) -> dict:
        # a Collection object caches its metadata: ask again, another process may have changed it
        return dict(self._client.get_collection(self.settings.collection).metadata or {})

    # --- state ---------------------------------------------------------------------------------

    def state(self) -> StoreState:
        meta = self._meta()
        return StoreState(int(meta.get("generation", 0) or 0), bool(meta.get("dirty", False)))

    @_guarded
    def set_state(self, state: StoreState) -> None:
        meta = self._meta()
        meta.update(generation=state.generation, dirty=state.dirty)
        self._chunks.modify(metadata=meta)

    def needs_migration(self) -> bool:
        meta = self._meta()
        return self.count() > 0 and int(meta.get("format", 1) or 1) < FORMAT

    @_guarded
    def migrate(self) -> int:
        """Adds what older stores lack (date_int, chunk counts) in place; returns chunks updated."""
        counts: dict[str, int] = {}
        updated = 0
        for page in self._pages(self._chunks, ["metadatas"]):
            ids, metas = page["ids"], page["metadatas"]
            for meta in metas:
                counts[meta["doc_id"]] = counts.get(meta["doc_id"], 0) + 1
                meta["date_int"] = date_number(meta.get("date") or None)
            for lo in range(0, len(ids), _BATCH):
                self._chunks.update(ids=ids[lo : lo + _BATCH], metadatas=metas[lo : lo + _BATCH])
            updated += len(ids)
        for page in self._pages(self._articles, ["metadatas"]):
            metas = page["metadatas"]
            for doc_id, meta in zip(page["ids"], metas):
                meta.setdefault("chunks", counts.get(doc_id, 0))
                meta.setdefault("ingested_at", "")
                meta["date_int"] = date_number(meta.get("date") or None)
            for lo in range(0, len(metas), _BATCH):
                self._articles.update(ids=page["ids"][lo : lo + _BATCH], metadatas=metas[lo : lo + _BATCH])
        meta = self._meta()
        meta["format"] = FORMAT
        self._chunks.modify(metadata=meta)
        return updated

    # --- reading -------------------------------------------------------------------------------

    @_guarded
    def count(self) -> int:
        return self._chunks.count()

    def articles(self) -> dict[str, ArticleInfo]:
        """Every recorded (fully ingested) article, without its text."""
        out = {}
        for page in self._pages(self._articles, ["metadatas"]):
            for doc_id, meta in zip(page["ids"], page["metadatas"]):
                out[doc_id] = _info_from_record(doc_id, meta)
        return out

    def doc_hashes(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content_hash, path) of every fully ingested article."""
        return {d: (i.content_hash, i.source) for d, i in self.articles().items()}

    @_guarded
    def article(self, doc_id: str) -> Article | None:
        got = self._articles.get(ids=[doc_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return _article_from_record(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def chunk_owners(self) -> Iterator[tuple[str, str, str]]:
        """(chunk_id, doc_id, content_hash) of every stored chunk: orphans are found by comparing."""
        for page in self._pages(self._chunks, ["metadatas"]):
            for cid, meta in zip(page["ids"], page["metadatas"]):
                yield cid, meta.get("doc_id", ""), meta.get("content_hash", "")

    def chunk_ids(self) -> set[str]:
        out: set[str] = set()
        for page in self._pages(self._chunks, []):
            out.update(page["ids"])
        return out

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (text + metadata), in a stable order."""
        chunks = [
            _chunk_from_record(i, d, m)
            for page in self._pages(self._chunks, ["metadatas", "documents"])
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"])
        ]
        chunks.sort(key=lambda c: (c.doc_id, c.start, c.chunk_id))
        return chunks

    @_guarded
    def chunks(self, chunk_ids: Sequence[str], vectors: bool = False) -> dict[str, StoredChunk]:
        """The given chunks with text, metadata, content hash (and vectors when asked)."""
        if not chunk_ids:
            return {}
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        got = self._get_while_deleting(list(chunk_ids), include)
        embeddings = got.get("embeddings") if vectors else None
        out = {}
        for n, (cid, doc, meta) in enumerate(zip(got["ids"], got["documents"], got["metadatas"])):
            vector = np.asarray(embeddings[n], dtype=np.float32) if embeddings is not None else np.zeros(0)
            out[cid] = StoredChunk(_chunk_from_record(cid, doc, meta), meta.get("content_hash", ""), vector,
                                   meta.get("embedded_sha1", ""))
        return out

    @_guarded
    def vectors_by_digest(self, digests: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vector of each passage digest (`passage_digest`) that some chunk, of any article, was
        embedded from: a renamed or moved file, or a passage two articles share, is not embedded again."""
        wanted = list(dict.fromkeys(d for d in digests if d))
        out: dict[str, np.ndarray] = {}
        for lo in range(0, len(wanted), _BATCH):
            got = self._chunks.get(where={"embedded_sha1": {"$in": wanted[lo:lo + _BATCH]}},
                                   include=["metadatas", "embeddings"])
            for meta, vector in zip(got["metadatas"], got["embeddings"]):
                out.setdefault(meta["embedded_sha1"], np.asarray(vector, dtype=np.float32))
        return out

    def _get_while_deleting(self, ids: list[str], include: list[str], tries: int = 3) -> dict:
        # a get by ids racing another process's delete of some of them can fail inside Chroma
        # ("Error executing plan: Internal error: Error finding id": 2 of 31,493 questions answered
        # during bench/soak_serving.py, server mode); asked again, the deleted ids are simply absent
        from chromadb.errors import InternalError

        for attempt in range(1, tries):
            try:
                return self._chunks.get(ids=ids, include=include)
            except InternalError:
                log.info("chunk read raced a delete; reading again")
                time.sleep(0.05 * attempt)
        return self._chunks.get(ids=ids, include=include)

    def _pages(self, collection, include: list[str]) -> Iterator[dict]:
        offset = 0
        while True:
            with store_calls(self.settings):  # a generator: a decorator would not see its calls
                got = collection.get(include=include, limit=_PAGE, offset=offset)
            if got["ids"]:
                yield got
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    @property
    def search_breadth(self) -> int | None:
        """The HNSW ef_search the chunk collection searches with (None: not reported by Chroma)."""
        return ((self._chunks.configuration_json or {}).get("hnsw") or {}).get("ef_search")

    def _set_search_breadth(self, settings: StoreSettings) -> None:
        """A store made before `store.hnsw_search_ef`, or with another value, gets it: the breadth is
        not baked into the index, so it changes in place. Where the store cannot be changed (a server
        that refuses the write) the store is still used, at its own breadth, and the log says so."""
        had = self.search_breadth
        if had == settings.hnsw_search_ef:
            return
        for attempt in range(_BREADTH_TRIES):
            try:
                self._chunks.modify(configuration={"hnsw": {"ef_search": settings.hnsw_search_ef}})
                self._chunks = self._client.get_collection(settings.collection, embedding_function=None)
                return
            except Exception as exc:  # noqa: BLE001 (chromadb raises its own and plain errors)
                # "database is locked" right after another client on the folder closed: it passes
                if attempt + 1 < _BREADTH_TRIES and "locked" in str(exc):
                    time.sleep(0.2 * (attempt + 1))
                    continue
                log.warning("store.hnsw_search_ef %s could not be set on %s (%s): searching at its own breadth %s",
                            settings.hnsw_search_ef, settings.collection, exc, had)
                return

    @_guarded
    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk_id, cosine similarity), best first, among those `where` allows."""
        # no count() first: it cost 22-28 ms a question at 100k chunks (more than the HNSW search),
        # and Chroma returns what it has when asked for more, also from an empty collection
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=max(1, n) + TIE_MARGIN,
            include=["distances"], where=where or None,
        )
        # cosine space: distance = 1 - cosine similarity
        found = sorted(zip(got["ids"][0], got["distances"][0]), key=lambda kv: (kv[1], kv[0]))[: max(1, n)]
        return [(cid, 1.0 - float(dist)) for cid, dist in found]

    def similarities(self, vector: np.ndarray, chunk_ids: Sequence[str]) -> dict[str, float]:
        """Exact cosine similarity of the query to the given chunks (for candidates found by keyword)."""
        return cosine(vector, self.chunks(chunk_ids, vectors=True))

    # --- writing -------------------------------------------------------------------------------

    @_guarded
    def delete_docs(self, doc_ids: Iterable[str]) -> None:
        # a batch per call: each Chroma delete costs ~0.2 s on 2 cores whatever it deletes (1,076
        # articles one at a time took 200 s, in batches 3.5 s)
        wanted = list(dict.fromkeys(doc_ids))
        for lo in range(0, len(wanted), _DELETE_DOCS):
            part = wanted[lo:lo + _DELETE_DOCS]
            self._articles.delete(ids=part)  # first: a crash in between leaves them "not ingested"
            self._chunks.delete(where={"doc_id": {"$in": part}})

    @_guarded
    def relocate(self, paths: Mapping[str, str]) -> dict[str, ArticleInfo]:
        """Records a new file for unchanged articles (doc id -> path: a folder moved or renamed) and
        returns their records; nothing else of them is written."""
        wanted = list(paths)
        out: dict[str, ArticleInfo] = {}
        for lo in range(0, len(wanted), _BATCH):
            got = self._articles.get(ids=wanted[lo:lo + _BATCH], include=["metadatas"])
            metas = [dict(m, path=paths[d]) for d, m in zip(got["ids"], got["metadatas"])]
            if got["ids"]:
                self._articles.update(ids=got["ids"], metadatas=metas)
            out.update((d, _info_from_record(d, m)) for d, m in zip(got["ids"], metas))
        return out

    @_guarded
    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        for lo in range(0, len(chunk_ids), _BATCH):
            self._chunks.delete(ids=list(chunk_ids[lo : lo + _BATCH]))

    @_guarded
    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, content_hash: str | Sequence[str],
                   passages: Sequence[str] | None = None) -> None:
        """Upserts chunks; `content_hash` is one hash for all, or one per chunk (their articles');
        `passages`: the texts the vectors were embedded from, recorded by digest so a later ingest can reuse them."""
        hashes = [content_hash] * len(chunks) if isinstance(content_hash, str) else list(content_hash)
        digests = [passage_digest(p) for p in passages] if passages is not None else [""] * len(chunks)
        for lo in range(0, len(chunks), _BATCH):
            part = chunks[lo : lo + _BATCH]
            self._chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=np.asarray(vectors[lo : lo + _BATCH], dtype=np.float32),
                documents=[c.text for c in part],
                metadatas=[_chunk_metadata(c, h, d) for c, h, d in zip(part, hashes[lo : lo + _BATCH],
                                                                        digests[lo : lo + _BATCH])],
            )

    def put_article(self, article: Article, chunks: int = 0) -> None:
        """Marks the article as fully ingested: call after its chunks are stored."""
        self.put_articles([(article, chunks)])

    @_guarded
    def put_articles(self, articles: Sequence[tuple[Article, int]]) -> list[ArticleInfo]:
        """Records several articles in one write (each after its chunks are stored); returns the
        records as `articles()` will read them back (the ingest keeps its view without a re-read)."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        written: list[ArticleInfo] = []
        for lo in range(0, len(articles), _BATCH):
            part = articles[lo : lo + _BATCH]
            metas = [_article_metadata(a, n, now) for a, n in part]
            self._articles.upsert(
                ids=[a.doc_id for a, _ in part],
                embeddings=[[1.0]] * len(part),  # the article collection is a key-value table; its vector is unused
                documents=[a.text for a, _ in part],
                metadatas=metas,
            )
            written += [_info_from_record(a.doc_id, m) for (a, _), m in zip(part, metas)]
        return written


def drop_store(settings: StoreSettings) -> None:
    """Deletes a store's collections whatever model built them (`ingest --rebuild`).

    A folder another process has open (a serving app) is refused, as opening it is: dropping it
    there left that app answering 503 "the collection is missing" until it was restarted."""
    release = _claim(settings) if not settings.host else (lambda: None)
    try:
        client = _open_client(settings)
        with store_calls(settings):
            existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
            for name in (settings.collection, f"{settings.collection}-articles"):
                if name in existing:
                    client.delete_collection(name)
    finally:
        release()


def where_clause(filters: Filters | None, doc_ids: Iterable[str]) -> dict | None:
    """The Chroma `where` for filters on chunk metadata; sources are matched against `doc_ids`."""
    if not filters:
        return None
    clauses: list[dict] = []
    if filters.date_from:
        clauses.append({"date_int": {"$gte": date_number(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_int": {"$lte": date_number(filters.date_to)}})
        clauses.append({"date_int": {"$gt": 0}})  # an undated article passes no date filter
    if filters.publisher:
        clauses.append({"publisher": {"$in": list(filters.publisher)}})
    if filters.source:
        wanted = sorted(d for d in doc_ids if any(source_matches(s, d) for s in filters.source))
        # nothing matches: a clause no chunk satisfies, so the search finds nothing rather than everything
        clauses.append({"doc_id": {"$in": wanted or [""]}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def cosine(vector: np.ndarray, stored: dict[str, StoredChunk]) -> dict[str, float]:
    if not stored:
        return {}
    ids = list(stored)
    matrix = np.stack([stored[i].vector for i in ids]).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
    sims = matrix @ (np.asarray(vector, dtype=np.float32) / (np.linalg.norm(vector) + 1e-12))
    return dict(zip(ids, map(float, sims)))


def passage_digest(passage: str) -> str:
    """Names the exact text a vector was embedded from (title included when it was)."""
    return hashlib.sha1(passage.encode("utf-8")).hexdigest()


def _chunk_metadata(chunk: Chunk, content_hash: str, embedded_sha1: str = "") -> dict:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "date": chunk.date or "",
        "date_int": date_number(chunk.date),
        "publisher": chunk.publisher or "",
        "start": chunk.start,
        "end": chunk.end,
        "n_tokens": chunk.n_tokens,
        "content_hash": content_hash,
        "embedded_sha1": embedded_sha1,
    }


def _article_metadata(article: Article, chunks: int, now: str) -> dict:
    return {
        "title": article.title,
        "date": article.date or "",
        "date_int": date_number(article.date),
        "publisher": article.publisher or "",
        "author": article.author or "",  # records written before it was kept read back as None
        "path": article.path,
        "content_hash": article.content_hash,
        "chunks": chunks,
        "ingested_at": now,
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


def _info_from_record(doc_id: str, meta: dict) -> ArticleInfo:
    return ArticleInfo(
        doc_id=doc_id,
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        publisher=meta.get("publisher") or None,
        source=meta.get("path", ""),
        chunks=int(meta.get("chunks", 0) or 0),
        ingested_at=meta.get("ingested_at", ""),
        content_hash=meta.get("content_hash", ""),
        author=meta.get("author") or None,
    )


def _article_from_record(doc_id: str, text: str, meta: dict) -> Article:
    return Article(
        doc_id=doc_id,
        text=text,
        title=meta.get("title", ""),
        date=meta.get("date") or None,
        publisher=meta.get("publisher") or None,
        author=meta.get("author") or None,
        path=meta.get("path", ""),
        content_hash=meta.get("content_hash", ""),
    )
