"""Every day, month and year word of the seed articles, with the date rag/article_dates.py reads it as (not a test):
the listing a reader checks by hand, since no held-out set has dated news articles.

    python bench/article_dates_seeds.py            # one line per word: article, its date, the word, the reading, context
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.article_dates import absolute_date  # noqa: E402
from rag.corpus import load_corpus  # noqa: E402

# what a short answer can be: a relative year or month word, a day or month with its direction word
WORDS = re.compile(r"(?:지난해|올해|내년|작년|재작년|지난달|이달)(?:\s*\d{1,2}월)?(?:\s*\d{1,2}일)?"
                   r"|(?:(?:지난|오는)\s*)?(?:\d{1,2}월\s*)?\d{1,2}일(?:간|째)?|\d{1,2}월")


def main() -> None:
    found = dated = 0
    for article in load_corpus([ROOT / "seeds"]).articles:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", article.text):
            for match in WORDS.finditer(sentence):
                value = re.sub(r"^(?:지난|오는)\s+", "", match.group(0))
                reading = absolute_date(value, sentence, article.date)
                found, dated = found + 1, dated + bool(reading)
                context = sentence[max(0, match.start() - 15):match.end() + 15].replace("\n", " ")
                print(f"{article.doc_id[:16]}  {article.date}  {match.group(0)!r:>14} -> {reading or '-':10}  {context}")
    print(f"{found} words, {dated} dated")


if __name__ == "__main__":
    main()
