"""Would a lead sentence without a subject take the sentence before it? A replay on calibration records.

    python -m eval.diagnose --dataset klue --out /tmp/diag/klue.jsonl          # calibration halves only
    python -m eval.diagnose --dataset korquad-open --out /tmp/diag/kq.jsonl
    python -m eval.diagnose --dataset eval/datasets/seeds.jsonl --out /tmp/diag/seeds.jsonl
    python bench/subjectless_lead.py /tmp/diag/kq.jsonl /tmp/diag/klue.jsonl /tmp/diag/seeds.jsonl

Korean news drops a subject the sentence before named ("제너럴모터스(GM)와 르노와도 거래를 하고 있다." after
"만도는 … 공급하고 있고 …"). The rule replayed: when the extractive answer's lead has no subject (no subject
case particle, and no topic 은/는/도 right after a noun, outside quotes, by Kiwi's tags) and the sentence
before it in its article is in the evidence pool, that sentence joins the answer. Prints, per set, how many
leads have no subject, the answers changed, containment before and after and the characters added, then
the gain per added character beside the bar the answer rules were held to (the neighbour rule's 0.000889
a character: bench/results/restatement_2026-12-03.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_NOUNISH = {"NNG", "NNP", "NNB", "NP", "SL", "SH", "SN", "XSN", "NR", "SSC"}
BAR = 0.000889


def has_subject(morphemes) -> bool:
    depth = 0
    for j, (tag, form, *_) in enumerate(morphemes):
        if tag == "SSO":
            depth += 1
        elif tag == "SSC":
            depth = max(0, depth - 1)
        if depth:
            continue
        if tag == "JKS":
            return True
        if tag == "JX" and form in ("은", "는", "ᆫ", "도") and j and morphemes[j - 1][0] in _NOUNISH:
            return True
    return False


def main(paths: list[str]) -> None:
    from eval.metrics import answer_matches
    from eval.replay import evidence_of
    from rag.config import load_settings
    from rag.extractive import draft_lead, extractive_answer
    from rag.korean import KoreanText
    from rag.memo import MemoKorean
    from rag.vocabulary import Lexicon

    korean = MemoKorean(KoreanText(lexicon=Lexicon.load(load_settings().answer.lexicon)))
    gains, chars = 0.0, 0.0
    for path in paths:
        records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        kept = [r for r in records if r["answers"] and not r["refused"]]
        before = after = added = subjectless = changed = 0
        for r in kept:
            evidence = evidence_of(r)
            text, _ = extractive_answer(r["question"], evidence, korean)
            hit = answer_matches(text, r["answers"])
            before += hit
            lead = draft_lead(r["question"], evidence, korean)
            if lead is not None and not has_subject(korean.morphemes_batch([lead.text])[0]):
                subjectless += 1
                prev = [e for e in evidence if e.doc_id == lead.doc_id and 0 <= lead.start - e.end <= 2]
                if prev and prev[0].text not in text:
                    changed += 1
                    added += len(prev[0].text) + 5  # the sentence and its " [n]."
                    hit = answer_matches(f"{text} {prev[0].text}", r["answers"])
            after += hit
        n = len(kept) or 1
        print(f"{Path(path).stem}: {len(kept)} answered, {subjectless} leads without a subject, {changed} answers "
              f"changed; containment {before / n:.4f} -> {after / n:.4f}, +{added / n:.1f} characters an answer")
        if "seeds" not in Path(path).stem:  # the bar sums KorQuAD and KLUE, as the restatement rule's did
            gains += (after - before) / n
            chars += added / n
    if chars:
        print(f"gain per added character (KorQuAD + KLUE): {gains / chars:.6f}; bar {BAR}: "
              f"{'taken' if gains / chars >= BAR else 'not taken'}")


if __name__ == "__main__":
    main(sys.argv[1:])
