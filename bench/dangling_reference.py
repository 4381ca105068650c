"""How often a first question's opening reference word is cautioned (rag.conversation.opening_reference), on
questions nobody here wrote (not a test): KorQuAD 1.0 dev by half (its questions were written beside their
paragraph, so a question opening with "그는" points at a person it never names) and KLUE-MRC dev (Korean and
English). Each cautioned question is printed for a reader to judge; KorQuAD's text is read in memory, not stored.

    python bench/dangling_reference.py            # counts per half, then every cautioned question
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.__main__ import KLUE_DIR, KLUE_SETS  # noqa: E402
from eval.datasets import load_dataset  # noqa: E402
from eval.korquad import KORQUAD_PATH, read_squad  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.conversation import opening_reference  # noqa: E402
from rag.korean import KoreanText  # noqa: E402
from rag.vocabulary import Lexicon  # noqa: E402


def main() -> None:
    korean = KoreanText(lexicon=Lexicon.load(load_settings().answer.lexicon))
    articles = read_squad(KORQUAD_PATH)
    sets = {f"KorQuAD articles {lo}-{hi}": [q["question"] for n, a in enumerate(articles, 1) if lo <= n <= hi
                                            for p in a["paragraphs"] for q in p["qas"]]
            for lo, hi in ((1, 70), (71, 140))}
    sets.update({f"KLUE-MRC {name}": [q.question for q in load_dataset(KLUE_DIR / file)]
                 for name, file in KLUE_SETS.items()})
    for name, questions in sets.items():
        cautioned = [(word, q) for q in questions if (word := opening_reference(q, (), korean))]
        print(f"{name}: {len(cautioned)} of {len(questions)} questions cautioned")
        for word, question in cautioned:
            print(f"    {word!r:>12}  {question}")


if __name__ == "__main__":
    main()
