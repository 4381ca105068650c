"""The article records of one store generation as one file beside the keyword index.

A serving process needs every article record (visibility, filters, the article list) before it can
answer; reading them back from Chroma page by page took 11-17 s at 41k articles (100k chunks) and
grows linearly. The ingest that commits a generation knows those records already, so it writes them
once, column by column, next to the keyword segments; `rag.keyword_files` names the file in the
same atomic manifest, so records and index always belong to one generation.

    write_snapshot(path, articles)      # {doc_id: ArticleInfo}
    read_snapshot(path)                 # the same dict, or None when the file is missing or outdated
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

from rag.types import ArticleInfo

FORMAT = "articles-1"


def _columns() -> list[str]:
    # the record's fields as the code defines them now: a snapshot written before a field was added
    # is not used (the records are read from the store instead, and the next commit rewrites it)
    return [f.name for f in fields(ArticleInfo)]


def write_snapshot(path: Path, articles: dict[str, ArticleInfo]) -> None:
    """Writes the records column by column (compact, and fast to parse); fsynced before it is named."""
    columns = _columns()
    infos = list(articles.values())
    data = {"format": FORMAT, "columns": columns,
            "values": [[getattr(info, name) for info in infos] for name in columns]}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())


def read_snapshot(path: Path) -> dict[str, ArticleInfo] | None:
    """The records, or None when the file cannot be used (the caller reads the store instead)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format") != FORMAT or data.get("columns") != _columns():
        return None
    values = data.get("values") or []
    if len(values) != len(_columns()) or len({len(v) for v in values}) > 1:
        return None
    return {info.doc_id: info for info in (ArticleInfo(*row) for row in zip(*values))}
