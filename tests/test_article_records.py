"""What the store records about an article beyond its text: the author from a saved page survives
ingest, reopening the store and the article list (it was dropped before)."""

import shutil
from dataclasses import replace

from rag.config import PROJECT_ROOT, load_settings
from rag.pipeline import build_pipeline
from tests.fakes import HashingEmbedder

HTML = PROJECT_ROOT / "tests" / "data" / "html"


def test_author_of_a_saved_page_is_stored_and_listed(tmp_path, korean):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(HTML / "hanbit_article.html", corpus)
    shutil.copy(HTML / "daon_articlebody.html", corpus)  # names no author
    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=tmp_path), store=replace(s.store, dir=tmp_path / "store"))
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    pipe.close()

    reopened = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    listed = {a.doc_id: a for a in reopened.list_articles()}
    assert listed["hanbit_article.html"].author == "김서연 기자"
    assert listed["daon_articlebody.html"].author is None
    assert reopened.article("hanbit_article.html").author == "김서연 기자"
    reopened.close()
