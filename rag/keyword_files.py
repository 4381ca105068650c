"""The keyword index on disk: bm25s segments in a folder beside the store, one manifest, atomic commits.

    files = KeywordFiles(store_dir / "keyword-articles", korean.version)
    index = files.load(korean.tokens_batch)          # None when missing or written by another tokenizer
    index = files.commit(index.with_changes(added, removed, generation=7), articles)   # + that generation's records
    index, articles = files.load_with_articles(korean.tokens_batch)

Every file is written once and never changed; a commit writes the new segment and dead-row files
first and then replaces `manifest.json` atomically, so a reader (or a crash) sees the old index or
the new one, never half of each. Only an ingest holding the store's ingest lock commits.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

from rag.article_snapshot import read_snapshot, write_snapshot
from rag.keyword import KeywordIndex, Segment, Tokenize, build_segment
from rag.types import ArticleInfo

FORMAT = "bm25s-segments-1"
MANIFEST = "manifest.json"
# a newer segment is merged into the one before it once it reaches a quarter of that one's size, so
# sizes fall geometrically: O(log n) segments, and each chunk is rewritten O(log n) times in all
MERGE_RATIO = 4
MAX_SEGMENTS = 12
MAX_DEAD_SHARE = 0.5  # a segment more than half dead is rewritten


class KeywordFilesError(RuntimeError):
    """The keyword index folder cannot be read; it is rebuilt from the store."""


class KeywordFiles:
    def __init__(self, root: Path, tokenizer_version: str) -> None:
        self.root = Path(root)
        self.tokenizer_version = tokenizer_version

    def manifest(self) -> dict | None:
        try:
            data = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or corrupt: the caller rebuilds from the store
        if data.get("format") != FORMAT or data.get("tokenizer") != self.tokenizer_version:
            return None  # another tokenizer's terms must not be mixed with this one's
        return data

    def load(self, tokenize: Tokenize) -> KeywordIndex | None:
        return self.load_with_articles(tokenize)[0]

    def load_with_articles(self, tokenize: Tokenize) -> tuple[KeywordIndex | None, dict[str, ArticleInfo] | None]:
        """The index and the article records committed with it (one manifest read: one generation);
        the records are None when the commit wrote none or their file cannot be used."""
        data = self.manifest()
        if data is None:
            return None, None
        try:
            segments = [self._open(entry) for entry in data["segments"]]
        except (OSError, ValueError, KeyError) as exc:
            raise KeywordFilesError(f"keyword index {self.root} is damaged ({exc}); it is rebuilt") from exc
        articles = read_snapshot(self.root / data["articles"]) if data.get("articles") else None
        return KeywordIndex(segments, tokenize, int(data.get("generation", 0))), articles

    def _open(self, entry: dict) -> Segment:
        import bm25s

        folder = self.root / entry["name"]
        bm = bm25s.BM25.load(folder, mmap=True, show_progress=False)
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        dead = np.load(folder / entry["dead"]).astype(bool) if entry.get("dead") else np.zeros(len(ids), dtype=bool)
        return Segment(
            name=entry["name"], ids=ids, vocab=bm.vocab_dict,
            data=bm.scores["data"], indices=bm.scores["indices"], indptr=bm.scores["indptr"],
            tokens=np.load(folder / "tokens.npy", mmap_mode="r"), offsets=np.load(folder / "offsets.npy"),
            dead=dead,
        )

    def commit(self, index: KeywordIndex, articles: dict[str, ArticleInfo] | None = None) -> KeywordIndex:
        """Persists `index` (merging small segments first) and returns it as loaded from the files.
        `articles`: the store's article records at `index.generation`, kept beside it for start-up."""
        self.root.mkdir(parents=True, exist_ok=True)
        previous = self.manifest() or {}
        known = {e["name"]: e for e in previous.get("segments", [])}
        segments = self._merge(index.segments)
        entries = []
        for seg in segments:
            folder = self.root / seg.name
            if not (folder / "ids.json").is_file():
                self._save(seg, folder)
            entry = {"name": seg.name, "rows": len(seg.ids)}
            if seg.dead.any():
                old = known.get(seg.name, {}).get("dead")
                if old and np.array_equal(np.load(folder / old).astype(bool), seg.dead):
                    entry["dead"] = old
                else:
                    entry["dead"] = f"dead-{uuid.uuid4().hex[:8]}.npy"
                    np.save(folder / entry["dead"], seg.dead)
            entries.append(entry)
        manifest = {"format": FORMAT, "tokenizer": self.tokenizer_version, "generation": index.generation,
                    "segments": entries}
        if articles is not None:
            manifest["articles"] = f"articles-{uuid.uuid4().hex[:12]}.json"
            write_snapshot(self.root / manifest["articles"], articles)
        self._write_manifest(manifest)
        self._collect_garbage(entries, previous.get("segments", []), {manifest.get("articles"), previous.get("articles")})
        return KeywordIndex([self._open(e) for e in entries], index._tokenize, index.generation)

    def _save(self, seg: Segment, folder: Path) -> None:
        retriever = getattr(seg, "retriever", None)
        if retriever is None:  # a segment loaded from elsewhere: rebuild it from its own terms
            ids, terms = zip(*seg.live_terms()) if seg.live else ((), ())
            retriever = build_segment(seg.name, list(ids), list(terms)).retriever
        tmp = folder.with_name(f".tmp-{folder.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        retriever.save(tmp, show_progress=False)
        np.save(tmp / "tokens.npy", np.asarray(seg.tokens))
        np.save(tmp / "offsets.npy", np.asarray(seg.offsets))
        # ids last: a folder with ids.json is complete
        (tmp / "ids.json").write_text(json.dumps(seg.ids, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder)

    def _merge(self, segments: list[Segment]) -> list[Segment]:
        """Merge the newest segments while one is at least 1/MERGE_RATIO of the one before it."""
        segments = [_rewrite([s]) if s.live / max(len(s.ids), 1) < MAX_DEAD_SHARE else s for s in segments]
        while len(segments) >= 2 and (
            MERGE_RATIO * segments[-1].live >= segments[-2].live or len(segments) > MAX_SEGMENTS
        ):
            segments[-2:] = [_rewrite(segments[-2:])]
        return segments

    def _write_manifest(self, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / MANIFEST)  # atomic: readers see the old manifest or the new one

    def _collect_garbage(self, entries: list[dict], previous: list[dict], snapshots: set[str | None]) -> None:
        # keep what the previous manifest named: a reader that just read it may still be opening files
        keep = {e["name"] for e in entries} | {e["name"] for e in previous}
        dead_keep = {e.get("dead") for e in entries} | {e.get("dead") for e in previous}
        for path in self.root.iterdir():
            if path.name.startswith((".manifest-", ".tmp-")):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            elif path.name.startswith("articles-") and path.name not in snapshots:
                path.unlink(missing_ok=True)
            elif path.is_dir() and path.name.startswith("seg-"):
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)
                    continue
                for old in path.glob("dead-*.npy"):
                    if old.name not in dead_keep:
                        old.unlink(missing_ok=True)


def _rewrite(segments: list[Segment]) -> Segment:
    ids: list[str] = []
    terms: list[list[str]] = []
    for seg in segments:
        for cid, words in seg.live_terms():
            ids.append(cid)
            terms.append(words)
    return build_segment(f"seg-{uuid.uuid4().hex[:12]}", ids, terms)
