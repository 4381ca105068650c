"""Refusal models replayed over `eval.diagnose` records made with an accept-all model (not a test):
each model's own threshold (checked against the real runs), thresholds matched on KorQuAD withheld
recall, and each signal's separation within KorQuAD and across corpora. Exploratory: it decides nothing.

    RAG_ANSWER__REFUSAL_MODEL=/tmp/relscore/neutral.json python -m eval.diagnose --dataset korquad-open \
        --refusal-rows --out /tmp/relscore/diag-kq.jsonl
    RAG_ANSWER__REFUSAL_MODEL=/tmp/relscore/neutral.json python -m eval.diagnose --dataset klue --out /tmp/relscore/diag-klue.jsonl
    python bench/refusal_relative_replay.py     # reads those and /tmp/relscore/R*.json

neutral.json: every signal weighted 0, threshold 0 (what `eval.fit refusal` gathers its rows with), so a
record's `refused` is the hard rules' verdict and `correct` the extractive answer had it been given.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rag.ranker import load_models

def load(p):
    return [json.loads(l) for l in open(p, encoding="utf-8")]

kq = load("/tmp/relscore/diag-kq.jsonl"); kl = load("/tmp/relscore/diag-klue.jsonl")
# the signals the records hold (the code that wrote them may have had more than today's rag.grounding.SIGNALS)
SIGNALS = list(dict.fromkeys(k for r in kq + kl for k in (r["signals"] or {})))
def cols(recs): return {s: [ (r["signals"] or {}).get(s, 0.0) for r in recs] for s in SIGNALS}
kqc, klc = cols(kq), cols(kl)
models = {"baseline": str(Path(__file__).resolve().parent.parent / "rag/fitted/refusal.json"), **{v: f"/tmp/relscore/{v}.json" for v in ("R0","R1","R2","R3")}}
models = {k: load_models(v)["answerable"] for k, v in models.items()}

def outcome(recs, probs, thr):
    ans = [i for i, r in enumerate(recs) if r["answers"]]
    wh = [i for i, r in enumerate(recs) if not r["answers"]]
    ref = [r["refused"] or p < thr for r, p in zip(recs, probs)]  # r["refused"]: hard rules (accept-all model)
    cont = sum(recs[i]["correct"] and not ref[i] for i in ans) / len(ans)
    fr = sum(ref[i] for i in ans) / len(ans)
    rec = sum(ref[i] for i in wh) / len(wh) if wh else None
    return cont, fr, rec, sum(ref) / len(recs)

print("replay at each model's own threshold (check against the real runs):")
for name, m in models.items():
    pk, pl = m.predict(kqc), m.predict(klc)
    a = outcome(kq, pk, m.threshold); b = outcome(kl, pl, m.threshold)
    print(f"  {name}: KQ cont {a[0]:.3f} FR {a[1]:.3f} recall {a[2]:.3f} | KLUE cont {b[0]:.3f} refused {b[3]:.3f}")

print("\nat matched KorQuAD withheld recall (threshold: the lowest reaching the recall):")
for target in (0.796, 0.85, 0.90):
    for name, m in models.items():
        pk, pl = m.predict(kqc), m.predict(klc)
        thr = next((t for t in sorted(set(round(p, 5) for p in pk)) + [1.01] if outcome(kq, pk, t)[2] >= target), None)
        a = outcome(kq, pk, thr); b = outcome(kl, pl, thr)
        print(f"  recall>={target} {name}: thr {thr:.4f} KQ cont {a[0]:.3f} FR {a[1]:.3f} recall {a[2]:.3f} | KLUE cont {b[0]:.3f} refused {b[3]:.3f}")

def auc(pos, neg):
    if not pos or not neg: return float("nan")
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    # rank-sum with ties averaged
    ranks = {}; i = 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]: j += 1
        for k in range(i, j): ranks.setdefault(k, (i + j + 1) / 2)
        i = j
    rsum = sum(ranks[k] for k, (v, l) in enumerate(allv) if l == 1)
    return (rsum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

soft = lambda recs: [i for i, r in enumerate(recs) if not r["refused"]]  # what the model judges
kq_ans = [i for i in soft(kq) if kq[i]["answers"]]; kq_wh = [i for i in soft(kq) if not kq[i]["answers"]]
kl_ok = [i for i in soft(kl) if kl[i]["correct"]]
print(f"\nper signal, over what the hard rules let through (KQ answerable {len(kq_ans)}, KQ withheld {len(kq_wh)}, KLUE answered right {len(kl_ok)}):")
print("  signal: AUC KQ answerable vs KQ withheld | AUC KLUE-right vs KQ withheld | medians KQ-ans / KQ-withheld / KLUE-right")
import statistics as st
for s in SIGNALS:
    a1 = auc([kqc[s][i] for i in kq_ans], [kqc[s][i] for i in kq_wh])
    a2 = auc([klc[s][i] for i in kl_ok], [kqc[s][i] for i in kq_wh])
    med = lambda c, idx: st.median([c[s][i] for i in idx])
    print(f"  {s:13s} {a1:.3f} | {a2:.3f} | {med(kqc,kq_ans):.3f} / {med(kqc,kq_wh):.3f} / {med(klc,kl_ok):.3f}")
