"""The keyword index on disk: commits are atomic, segments merge, loading needs no tokenizer run."""

import json

from rag.keyword import KeywordIndex
from rag.keyword_files import MAX_SEGMENTS, KeywordFiles

TEXTS = [f"협력사 {n}번 기업은 상생 펀드 {n}억 원을 조성했다." for n in range(40)]


def _no_tokenizing(texts):
    raise AssertionError("loading must not tokenize")


def test_commit_then_load_memory_maps_without_tokenizing(tmp_path, korean):
    files = KeywordFiles(tmp_path / "kw", korean.version)
    assert files.load(korean.tokens_batch) is None  # nothing yet: the caller builds from the store
    index = KeywordIndex([], korean.tokens_batch).with_changes(
        [(f"d{n}.txt#0", korean.tokens(t)) for n, t in enumerate(TEXTS)], [], generation=3)
    files.commit(index)
    loaded = files.load(_no_tokenizing)
    assert loaded.generation == 3 and len(loaded) == len(TEXTS)
    terms = korean.tokens("상생 펀드 7억")
    assert loaded.search(terms, 3) == index.search(terms, 3)
    # another tokenizer's terms must not be reused
    assert KeywordFiles(tmp_path / "kw", "other-version").load(korean.tokens_batch) is None
    (tmp_path / "kw" / "manifest.json").write_text("{broken", encoding="utf-8")
    assert files.load(korean.tokens_batch) is None


def test_small_commits_merge_and_old_files_are_collected(tmp_path, korean):
    files = KeywordFiles(tmp_path / "kw", korean.version)
    index = KeywordIndex([], korean.tokens_batch)
    for n, text in enumerate(TEXTS):  # one article per ingest, as uploads from the browser come in
        index = files.commit(index.with_changes([(f"d{n}.txt#0", korean.tokens(text))], [], generation=n + 1))
        assert len(index.segments) <= MAX_SEGMENTS
    assert len(index) == len(TEXTS) and len(index.segments) <= 4  # geometric sizes: O(log n) segments
    index = files.commit(index.with_changes([], [f"d{n}.txt#0" for n in range(30)], generation=99))
    assert len(index) == 10 and all(int(c[1:].split(".")[0]) >= 30 for c in index.chunk_ids())
    manifest = json.loads((tmp_path / "kw" / "manifest.json").read_text(encoding="utf-8"))
    named = {e["name"] for e in manifest["segments"]}
    on_disk = {p.name for p in (tmp_path / "kw").iterdir() if p.is_dir()}
    assert named <= on_disk and len(on_disk) <= 2 * MAX_SEGMENTS  # unreferenced segments were removed
    whole = KeywordIndex([], korean.tokens_batch).with_changes(
        [(f"d{n}.txt#0", korean.tokens(TEXTS[n])) for n in range(30, 40)], [], 1)
    terms = korean.tokens("상생 펀드 35억")
    assert index.search(terms, 1)[0][0] == whole.search(terms, 1)[0][0] == "d35.txt#0"


def test_article_records_are_committed_with_their_generation(tmp_path, korean):
    from rag.types import ArticleInfo

    files = KeywordFiles(tmp_path / "kw", korean.version)
    index = KeywordIndex([], korean.tokens_batch).with_changes([("a.txt#0", korean.tokens(TEXTS[0]))], [], 1)
    records = {"a.txt": ArticleInfo(doc_id="a.txt", title="상생", date="2024-01-02", chunks=1, content_hash="h")}
    files.commit(index)
    assert files.load_with_articles(_no_tokenizing)[1] is None  # a commit without records names none
    files.commit(index, records)
    loaded, articles = files.load_with_articles(_no_tokenizing)
    assert loaded.generation == 1 and articles == records
    for n in range(3):  # each commit writes its own file; only the current and previous ones stay
        files.commit(index, {**records, f"b{n}.txt": ArticleInfo(doc_id=f"b{n}.txt")})
    assert len(list((tmp_path / "kw").glob("articles-*.json"))) == 2
    assert set(files.load_with_articles(_no_tokenizing)[1]) == {"a.txt", "b2.txt"}
    # a snapshot written by code whose records had other fields is not used
    name = json.loads((tmp_path / "kw" / "manifest.json").read_text(encoding="utf-8"))["articles"]
    data = json.loads((tmp_path / "kw" / name).read_text(encoding="utf-8"))
    data["columns"] = data["columns"][:-1]
    (tmp_path / "kw" / name).write_text(json.dumps(data), encoding="utf-8")
    assert files.load_with_articles(_no_tokenizing)[1] is None


def test_a_reader_saves_the_index_it_rebuilt_for_a_newer_tokenizer(tmp_path, korean):
    # found by the perf soak: a store whose keyword files an older tokenizer wrote was re-tokenized in
    # memory at every start of a process that never ingests (the app with --no-ingest, rag ask)
    from dataclasses import replace

    from rag.config import PROJECT_ROOT, load_settings
    from rag.korean import KoreanText
    from rag.pipeline import build_pipeline
    from rag.vocabulary import DEFAULT_LEXICON, Lexicon
    from tests.fakes import HashingEmbedder

    s = load_settings(None, env={})
    s = replace(s, paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
                store=replace(s.store, dir=tmp_path / "store"))
    writer = build_pipeline(s, embedder=HashingEmbedder(), korean=korean)
    writer.ingest([PROJECT_ROOT / "seeds"])
    writer.close()

    mine = tmp_path / "lexicon"
    mine.mkdir()
    (mine / "user_words.tsv").write_text("온새물산\tNNP\n", encoding="utf-8")
    newer = KoreanText(lexicon=Lexicon.load([DEFAULT_LEXICON, mine]))
    assert newer.version != korean.version
    for attempt in range(2):
        calls = []
        counted = type("Counted", (), {"__getattr__": lambda self, n: getattr(newer, n),
                                       "tokens_batch": lambda self, texts: calls.append(len(texts)) or newer.tokens_batch(texts)})()
        reader = build_pipeline(s, embedder=HashingEmbedder(), korean=counted)
        assert reader.search("LG이노텍 동반성장 펀드", 3)  # a reader: it never ingests
        reader.close()
        files = KeywordFiles(s.store.dir / "keyword-articles", newer.version)
        assert files.manifest() is not None  # the rebuilt index was saved under the newer tokenizer
        # the first start tokenized every stored chunk; the next one reads the saved files
        assert (sum(calls) > 30) if attempt == 0 else (sum(calls) <= 1)
