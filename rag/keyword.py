"""Korean keyword search: Okapi BM25 over Kiwi terms, in bm25s sparse segments on disk.

Off-the-shelf BM25 tokenizers keep "삼성전자는" as one token, so a query for "삼성전자" never matches it;
Kiwi terms fix that (see PLATFORM.md). bm25s turns pre-tokenized chunks into a sparse term x chunk
score matrix that is saved and memory-mapped, so start-up loads files instead of re-tokenizing.

The index is a list of immutable *segments* (`rag.keyword_files` writes them): an ingest adds one
segment for what it added and marks replaced or deleted rows dead; small segments are merged as they
pile up. IDF is global across segments: a term's IDF counts every live chunk of every segment (each
segment's baked-in IDF is rescaled), and so is BM25's length normalization: bm25s bakes each segment's own
average chunk length into its scores (rows since marked dead still count in it), and a query rescales each
matched entry to the average length of the live chunks of all segments (the stored row terms give each
chunk's length). So a BM25 score, the IDF coverage the fusion ranks on, and which chunks make the keyword
retriever's top n do not depend on how the chunks happen to be split into segments: a store built over
twenty ingests ranks as one built in a single ingest.

    index = KeywordIndex([segment], korean.tokens_batch)
    terms = index.query_terms("삼성전자 펀드")
    index.search(terms, 30)                     # top (chunk_id, BM25), best first
    index.score(terms, ["a.txt#0-1f2e"])         # BM25 of given chunks only
    index.coverage(terms, "a.txt#0-1f2e")        # share of the question's IDF mass in the chunk
    index.coverages(terms, ["a.txt#0-1f2e"])     # the same for many chunks (one IDF computation)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

Tokenize = Callable[[Sequence[str]], list[list[str]]]
# doc_id -> allowed? (filters); evaluated once per distinct article, never per chunk
Allow = Callable[[str], bool]

K1, B = 1.2, 0.75  # Okapi defaults; the score is k1-saturated tf times Lucene's never-negative IDF


def lucene_idf(df: np.ndarray | float, n: int) -> np.ndarray | float:
    """IDF that never goes negative: very common terms add a little instead of hurting."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def doc_of(chunk_id: str) -> str:
    """The article a chunk belongs to: chunk ids are `<doc_id>#<n>-<digest>`."""
    return chunk_id.rsplit("#", 1)[0]


@dataclass
class Segment:
    """One bm25s index over some chunks: CSC score matrix (term columns, chunk rows), memory-mapped.

    `tokens`/`offsets` keep each row's term ids, so segments merge without re-tokenizing and
    coverage can test term presence without a dense matrix.
    """

    name: str
    ids: list[str]
    vocab: dict[str, int]
    data: np.ndarray  # bm25s scores: idf_segment(t) * tf-saturation(d, t)
    indices: np.ndarray  # row of each entry; sorted within a column
    indptr: np.ndarray  # column t spans data[indptr[t]:indptr[t + 1]]
    tokens: np.ndarray  # term ids of every row, concatenated
    offsets: np.ndarray  # row r's term ids are tokens[offsets[r]:offsets[r + 1]]
    dead: np.ndarray  # bool per row: replaced or deleted since the segment was written
    row_of: dict[str, int] = field(default_factory=dict)
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # live chunks per term

    def __post_init__(self) -> None:
        if not self.row_of:
            self.row_of = {cid: i for i, cid in enumerate(self.ids)}
        codes: dict[str, int] = {}
        self.doc_codes = np.array([codes.setdefault(doc_of(c), len(codes)) for c in self.ids], dtype=np.int64)
        self.docs = list(codes)
        counts = np.diff(np.asarray(self.indptr, dtype=np.int64))
        dead_rows = np.flatnonzero(self.dead)
        if dead_rows.size:
            dead_terms = np.concatenate([np.unique(self.row_terms(r)) for r in dead_rows])
            counts = counts - np.bincount(dead_terms, minlength=len(counts))[: len(counts)]
        self.df = counts
        self.built_n = len(self.ids)  # bm25s baked its IDF with this N and the df of all rows
        # bm25s's chunk length is its term count, a chunk without terms counting as one (its "" term)
        self.lengths = np.maximum(np.diff(np.asarray(self.offsets, dtype=np.int64)), 1).astype(np.float64)
        self.built_avgdl = float(self.lengths.mean()) if len(self.ids) else 1.0  # baked in, dead rows too
        self.live_length = float(self.lengths[~np.asarray(self.dead, dtype=bool)].sum())

    @property
    def live(self) -> int:
        return len(self.ids) - int(self.dead.sum())

    def row_terms(self, row: int) -> np.ndarray:
        return np.asarray(self.tokens[self.offsets[row] : self.offsets[row + 1]])

    def term_id(self, term: str) -> int | None:
        tid = self.vocab.get(term)
        return tid if tid is not None and tid < len(self.indptr) - 1 else None

    def column(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = int(self.indptr[tid]), int(self.indptr[tid + 1])
        return np.asarray(self.indices[a:b]), np.asarray(self.data[a:b], dtype=np.float64)

    def baked_idf(self, tid: int) -> float:
        df_all = int(self.indptr[tid + 1] - self.indptr[tid])
        return float(lucene_idf(df_all, self.built_n))

    def live_ids(self) -> Iterable[str]:
        return (cid for cid, dead in zip(self.ids, self.dead) if not dead)

    def with_dead(self, dead: np.ndarray) -> "Segment":
        return Segment(name=self.name, ids=self.ids, vocab=self.vocab, data=self.data, indices=self.indices,
                       indptr=self.indptr, tokens=self.tokens, offsets=self.offsets, dead=dead, row_of=self.row_of)

    def live_terms(self) -> Iterable[tuple[str, list[str]]]:
        """(chunk_id, terms) of every live row: what a merge rewrites, without re-tokenizing."""
        words = np.empty(len(self.vocab), dtype=object)
        words[list(self.vocab.values())] = list(self.vocab.keys())
        for row in np.flatnonzero(~self.dead):
            yield self.ids[row], [w for w in words[self.row_terms(row)].tolist() if w]


def build_segment(name: str, ids: Sequence[str], terms: Sequence[list[str]]) -> Segment:
    """A segment over pre-tokenized chunks, built by bm25s in memory (`rag.keyword_files` saves it)."""
    import bm25s

    retriever = bm25s.BM25(k1=K1, b=B, method="atire", idf_method="lucene")
    # bm25s takes the Kiwi terms as they are; a chunk with no term still gets its row
    retriever.index([list(t) or [""] for t in terms], create_empty_token=False, show_progress=False)
    vocab = retriever.vocab_dict
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(t) for t in terms), dtype=np.int64, count=len(terms)), out=offsets[1:])
    tokens = np.fromiter((vocab[w] for t in terms for w in t), dtype=np.int32, count=int(offsets[-1]))
    scores = retriever.scores
    segment = Segment(name=name, ids=list(ids), vocab=vocab, data=scores["data"], indices=scores["indices"],
                      indptr=scores["indptr"], tokens=tokens, offsets=offsets, dead=np.zeros(len(ids), dtype=bool))
    segment.retriever = retriever  # kept for saving
    return segment


class KeywordIndex:
    """BM25 over the live rows of some segments; immutable once built (a refresh builds a new one)."""

    def __init__(self, segments: Sequence[Segment], tokenize: Tokenize, generation: int = 0) -> None:
        self.segments = list(segments)
        self._tokenize = tokenize
        self.generation = generation
        self._n = sum(s.live for s in self.segments)
        self._avgdl = sum(s.live_length for s in self.segments) / self._n if self._n else 1.0
        self._sounds = None  # rag.romanize.SoundIndex of the vocabulary, built at the first English question

    def __len__(self) -> int:
        return self._n

    def __contains__(self, chunk_id: str) -> bool:
        return self._locate(chunk_id) is not None

    def chunk_ids(self) -> Iterable[str]:
        for seg in self.segments:
            yield from seg.live_ids()

    def with_changes(
        self, added: Sequence[tuple[str, list[str]]], removed: Iterable[str], generation: int
    ) -> "KeywordIndex":
        """A new index: this one minus `removed`, plus `added` as one new in-memory segment (a
        re-added chunk id replaces its old row). This index is left as it is: searches in flight
        keep using it."""
        latest = dict(added)  # the last terms given for an id win
        gone = set(removed) | set(latest)
        segments = []
        for seg in self.segments:
            rows = [seg.row_of[c] for c in gone if c in seg.row_of and not seg.dead[seg.row_of[c]]]
            if rows:
                dead = seg.dead.copy()
                dead[rows] = True
                seg = seg.with_dead(dead)
            if seg.live:
                segments.append(seg)
        if latest:
            import uuid

            segments.append(build_segment(f"seg-{uuid.uuid4().hex[:12]}", list(latest), list(latest.values())))
        return KeywordIndex(segments, self._tokenize, generation)

    def query_terms(self, question: str) -> list[str]:
        return self._tokenize([question])[0]

    def sounding(self, names: Iterable[Sequence[str]]) -> list[str]:
        """The index's Hangul terms that Latin-letter `names` may be ("Choi Jin-kyun" -> 최진균):
        an English question finds by keyword the passages that write its names in Hangul."""
        from rag.romanize import SoundIndex

        if self._sounds is None:
            self._sounds = SoundIndex({w for seg in self.segments for w in seg.vocab})
        return [t for t in self._sounds.lookup(names) if self.df(t)]

    def _locate(self, chunk_id: str) -> tuple[Segment, int] | None:
        # newest first: a re-added chunk lives in the newest segment, older rows of it are dead
        for seg in reversed(self.segments):
            row = seg.row_of.get(chunk_id)
            if row is not None and not seg.dead[row]:
                return seg, row
        return None

    def df(self, term: str) -> int:
        total = 0
        for seg in self.segments:
            tid = seg.term_id(term)
            if tid is not None:
                total += int(seg.df[tid])
        return total

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """Global IDF of each term (0 for a term no live chunk has)."""
        out = {}
        for term in set(terms):
            df = self.df(term)
            out[term] = float(lucene_idf(df, self._n)) if df else 0.0
        return out

    def _weighted_columns(self, seg: Segment, terms: Iterable[str], idf: dict[str, float]):
        """(rows, scores) of each query term in the segment, with the global IDF and average chunk length
        in place of the segment's own."""
        for term in set(terms):
            tid = seg.term_id(term)
            if tid is None or not idf.get(term):
                continue
            rows, data = seg.column(tid)
            baked = seg.baked_idf(tid)
            if rows.size and baked > 0:
                yield rows, _tf_part(data, baked, seg.lengths[rows], seg.built_avgdl, self._avgdl) * idf[term]

    def search(self, terms: Sequence[str], n: int, allow: Allow | None = None) -> list[tuple[str, float]]:
        """Top-n (chunk_id, BM25 score), best first; chunks matching no term (or not allowed) are left out."""
        idf = self.idf(terms)
        found: list[tuple[str, float]] = []
        for seg in self.segments:
            columns = list(self._weighted_columns(seg, terms, idf))
            if not columns:
                continue
            rows = np.concatenate([r for r, _ in columns])
            scores = np.bincount(rows, weights=np.concatenate([w for _, w in columns]), minlength=len(seg.ids))
            scores[seg.dead] = 0.0
            hit = np.flatnonzero(scores > 0)
            if allow is not None and hit.size:
                hit = hit[_allowed_rows(seg, hit, allow)]
            if hit.size > n:  # the n best, and any tied with the n-th: the final sort gives ties to the id
                nth = np.partition(scores[hit], hit.size - n)[hit.size - n]
                hit = hit[scores[hit] >= nth]
            found.extend((seg.ids[r], float(scores[r])) for r in hit)
        return sorted(found, key=lambda kv: (-kv[1], kv[0]))[:n]  # ties go to the chunk id

    def score(self, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 of the given chunks only (candidates the dense retriever found): no corpus-wide ranking."""
        idf = self.idf(terms)
        out: dict[str, float] = {}
        by_segment: dict[int, list[tuple[str, int]]] = {}
        for cid in chunk_ids:
            found = self._locate(cid)
            if found is not None:
                by_segment.setdefault(id(found[0]), []).append((cid, found[1]))
        for seg in self.segments:
            wanted = by_segment.get(id(seg))
            if not wanted:
                continue
            rows = np.array([r for _, r in wanted])
            total = np.zeros(len(rows))
            for col_rows, col_scores in self._weighted_columns(seg, terms, idf):
                pos = np.searchsorted(col_rows, rows)
                inside = pos < len(col_rows)
                match = np.zeros(len(rows), dtype=bool)
                match[inside] = col_rows[pos[inside]] == rows[inside]
                total[match] += col_scores[pos[match]]
            out.update((cid, float(s)) for (cid, _), s in zip(wanted, total) if s > 0)
        return out

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        """Each query term's share of the question's IDF mass is its weight over their sum (coverage)."""
        unseen_idf = math.log(1.0 + self._n + 0.5)  # a term no chunk has is maximally rare
        return {t: (w if w > 0 else unseen_idf) for t, w in self.idf(terms).items()}

    def coverage(self, terms: Sequence[str], chunk_id: str) -> float:
        """Share of the query's IDF mass that occurs in the chunk: 0..1, comparable across queries."""
        return self.coverages(terms, [chunk_id]).get(chunk_id, 0.0)

    def coverages(self, terms: Sequence[str], chunk_ids: Iterable[str]) -> dict[str, float]:
        """`coverage` of many chunks; the query's IDF is computed once, not once per chunk (at 100k
        chunks per-chunk IDF was 7 ms of every search)."""
        weights = self.weights(terms)
        total = sum(weights.values())
        out: dict[str, float] = {}
        term_ids: dict[int, list[tuple[int | None, float]]] = {}  # per segment: (its term id, weight)
        for chunk_id in chunk_ids:
            found = self._locate(chunk_id) if total > 0 else None
            if found is None:
                out[chunk_id] = 0.0
                continue
            seg, row = found
            if id(seg) not in term_ids:
                term_ids[id(seg)] = [(seg.term_id(t), w) for t, w in weights.items()]
            present = set(seg.row_terms(row).tolist())
            out[chunk_id] = sum(w for tid, w in term_ids[id(seg)] if tid in present) / total
        return out


def _tf_part(data: np.ndarray, baked_idf: float, lengths: np.ndarray, built_avgdl: float, avgdl: float) -> np.ndarray:
    """The ATIRE term-frequency part tf(k1+1) / (tf + K), K = k1(1 - b + b*len/avgdl), with `avgdl`
    in place of the average chunk length bm25s baked into the scores `data` (with `baked_idf`).

    The baked part is solved for tf, an integer that float32 rounding cannot blur (at any tf a
    sentence-bounded chunk holds), and the part is computed again from it in float64: the same chunk
    scores the same bits whichever segment holds it, so layouts rank alike, ties included."""
    part = data / baked_idf
    built = K1 * (1 - B + B * lengths / built_avgdl)
    tf = np.maximum(np.rint(part * built / np.maximum(K1 + 1 - part, 1e-12)), 1.0)
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths / avgdl))


def _allowed_rows(seg: Segment, rows: np.ndarray, allow: Allow) -> np.ndarray:
    """Boolean mask over `rows`: the filter is decided once per article, not once per chunk."""
    codes = seg.doc_codes[rows]
    unique = np.unique(codes)
    allowed = unique[np.fromiter((allow(seg.docs[c]) for c in unique), dtype=bool, count=len(unique))]
    return np.isin(codes, allowed)
