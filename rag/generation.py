"""The only module that talks to an LLM backend: a local GGUF through llama-cpp-python, or any
OpenAI-compatible server (vLLM, Ollama, llama.cpp server, OpenAI) through llama-index's OpenAILike.

    generator = load_generator(settings.generation, settings.paths.cache_dir)
    for piece in generator.stream(messages, max_tokens=200):
        print(piece, end="")

Every backend failure (missing model, dead server, timeout, prompt too long) is raised as a
`GenerationError` with one line a user can act on.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

from rag.config import GenerationSettings
from rag.gguf import ModelNotFoundError, resolve_model

if TYPE_CHECKING:
    from llama_cpp import Llama

Messages = list[dict[str, str]]


class GenerationError(RuntimeError):
    """The generator cannot answer; str(error) is one line for the user."""


class GeneratorUnreachableError(GenerationError):
    """No LLM server answers at the configured address: the model is unavailable, not failing."""


class Generator(Protocol):
    name: str

    def stream(self, messages: Messages, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """Text pieces as the model writes them."""
        ...


def complete(generator: Generator, messages: Messages, max_tokens: int, stop: Sequence[str] = ()) -> str:
    """The whole answer at once."""
    return "".join(generator.stream(messages, max_tokens, stop))


@dataclass(frozen=True)
class _Primed:
    first: dict[str, str]  # the system message the state begins with
    state: Any  # llama_cpp.LlamaState
    system_tokens: int  # the message's own tokens: a cache sharing fewer has lost it


class LlamaCppGenerator:
    """A GGUF model run in-process; loaded on first use, one question at a time.

    llama.cpp keeps one KV cache per model, so concurrent users queue on a lock instead of
    corrupting each other. llama-cpp-python reuses the longest common token prefix of the
    previous prompt, so the fixed system prompt is evaluated once and kept across questions.
    That cache holds one prompt only: a prompt of another shape (condense, translate) replaces it,
    and the next answer would evaluate the ~360-token system prompt again (~8 s on 2 cores). `prime`
    keeps the system prompt's state aside, and `stream` puts it back when the live cache lost it.
    """

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int = 0, temperature: float = 0.0,
                 name: str = "", flash_attn: bool = True, repack: bool | None = None) -> None:
        self.model_path = Path(model_path)
        # None: as setting generation.repack = "auto" (see repack_weights)
        self._repack = repack_weights("auto") if repack is None else repack
        self.name = name or f"local:{self.model_path.name}"
        self._n_ctx = n_ctx
        self._flash_attn = flash_attn
        self._n_threads = n_threads or (os.cpu_count() or 1)
        self._temperature = temperature
        self._llm: Llama | None = None
        self._lock = threading.Lock()
        self._primed: _Primed | None = None

    def _load(self) -> "Llama":
        # called with self._lock held
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise GenerationError("llama-cpp-python is not installed: run pip install -e '.[local]'") from exc
            if not self.model_path.is_file():
                raise GenerationError(f"model file not found: {self.model_path}")
            try:
                # chat_format=None: llama-cpp-python takes the chat template stored in the GGUF
                with llama_model_params(repack=self._repack):
                    self._llm = Llama(model_path=str(self.model_path), n_ctx=self._n_ctx,
                                      n_threads=self._n_threads, n_threads_batch=self._n_threads, n_batch=512,
                                      flash_attn=self._flash_attn, verbose=False)
            except ValueError as exc:
                raise GenerationError(f"cannot load model {self.model_path.name}: {exc}") from exc
        return self._llm

    def load(self) -> None:
        """Load the weights now (warm-up) instead of on the first question."""
        with self._lock:
            self._load()

    def prime(self, messages: Messages) -> None:
        """Evaluate `messages` (the fixed system prompt and a short user turn) and keep their state:
        every later prompt that starts with the same system message resumes from it."""
        with self._lock:
            llm = self._load()
            self._primed = None
            for _ in self._generate(llm, messages, 1, ()):
                pass
            state = llm.save_state()
            # resuming evaluates the new prompt's suffix, which makes fresh logits: the saved logits of
            # every prompt position (n_tokens x vocabulary floats, ~240 MB here) are not needed
            state.scores = state.scores[-1:].copy()
            system_tokens = len(llm.tokenize(messages[0]["content"].encode("utf-8"), add_bos=False))
            self._primed = _Primed(messages[0], state, system_tokens)

    def stream(self, messages: Messages, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            self._resume_primed(llm, messages)
            yield from self._generate(llm, messages, max_tokens, stop)

    def _resume_primed(self, llm: "Llama", messages: Messages) -> None:
        """Put the primed state back when this prompt starts with its system message and the live
        cache no longer holds that message (a shorter shared prefix than the message's own tokens)."""
        primed = self._primed
        if primed is None or not messages or messages[0] != primed.first:
            return
        shared = llm.longest_token_prefix(llm.input_ids.tolist(), primed.state.input_ids.tolist())
        if shared < primed.system_tokens:
            llm.load_state(primed.state)

    def _generate(self, llm: "Llama", messages: Messages, max_tokens: int, stop: Sequence[str]) -> Iterator[str]:
        # called with self._lock held
        try:
            chunks = llm.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                temperature=self._temperature, stop=list(stop) or None,
                                                stream=True)
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        except ValueError as exc:  # e.g. "Requested tokens (5000) exceed context window of 4096"
            raise GenerationError(f"local model failed: {str(exc).splitlines()[0]}") from exc
        except RuntimeError as exc:  # llama_decode errors
            raise GenerationError(f"local model failed: {str(exc).splitlines()[0]}") from exc


class OpenAICompatibleGenerator:
    """A chat model behind an OpenAI-compatible HTTP API, streamed (server-sent events)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = 120.0,
                 temperature: float = 0.0) -> None:
        if not base_url:
            raise GenerationError("generation.backend is 'openai' but generation.base_url is empty "
                                  "(set RAG_GENERATION__BASE_URL, e.g. http://127.0.0.1:8080/v1)")
        self.base_url = base_url.rstrip("/")
        self.model = model or "default"
        self.name = server_model_name(self.model, self.base_url)
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY", "") or "not-needed"
        self._timeout = timeout_s
        self._temperature = temperature
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _client(self, max_tokens: int) -> Any:
        from llama_index.llms.openai_like import OpenAILike

        with self._lock:
            if max_tokens not in self._clients:
                # max_retries=0: a dead server must fail now, with a clear line, not after backoff
                self._clients[max_tokens] = OpenAILike(
                    model=self.model, api_base=self.base_url, api_key=self._api_key, is_chat_model=True,
                    is_function_calling_model=False, timeout=self._timeout, max_retries=0,
                    temperature=self._temperature, max_tokens=max_tokens, context_window=32768,
                )
            return self._clients[max_tokens]

    def stream(self, messages: Messages, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        import httpx
        import openai
        from llama_index.core.llms import ChatMessage

        llm = self._client(max_tokens)
        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        kwargs = {"stop": list(stop)} if stop else {}
        finished = False
        try:
            for response in llm.stream_chat(chat, **kwargs):
                finished = finished or _finish_reason(response.raw) is not None
                if response.delta:
                    yield response.delta
        except (openai.APITimeoutError, httpx.TimeoutException) as exc:
            raise GenerationError(f"LLM server {self.base_url} timed out after {self._timeout:g} s") from exc
        except openai.APIConnectionError as exc:
            raise GeneratorUnreachableError(f"cannot reach the LLM server at {self.base_url} (is it running?)") from exc
        except openai.APIStatusError as exc:
            raise GenerationError(f"LLM server {self.base_url} answered HTTP {exc.status_code}: "
                                  f"{_first_line(exc.message)}") from exc
        except (httpx.TransportError, openai.APIError, json.JSONDecodeError) as exc:
            # the answer had begun: the openai client wraps only the request, so a server killed
            # mid-answer ("incomplete chunked read"), a reset connection, an error event or a torn
            # chunk reach us raw while its stream is read
            raise GenerationError(f"LLM server {self.base_url} broke off its answer "
                                  f"({exc.__class__.__name__}: {_first_line(str(exc))})") from exc
        if not finished:
            # every chunk stream of the OpenAI API ends with a chunk that says why ("stop", "length"):
            # a stream closed without one is an answer cut short, not a short answer
            raise GenerationError(f"the LLM server {self.base_url} ended its answer early "
                                  "(its stream closed without a finish_reason)")


def _finish_reason(chunk: Any) -> str | None:
    """The finish_reason of an OpenAI ChatCompletionChunk (None while the answer goes on)."""
    choices = getattr(chunk, "choices", None) or ()
    return getattr(choices[0], "finish_reason", None) if choices else None


def server_model_name(model: str, base_url: str) -> str:
    """How a model behind an OpenAI-compatible server is named (the generator's name, /health, rag info)."""
    return f"openai:{model or 'default'}@{base_url.rstrip('/')}"


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:200]


def load_generator(settings: GenerationSettings, cache_dir: Path) -> Generator:
    """The configured backend ("local" or "openai"); cheap: a local model loads on first use."""
    if settings.backend == "openai":
        return OpenAICompatibleGenerator(settings.base_url, settings.server_model, settings.api_key,
                                         settings.timeout_s, settings.temperature)
    if settings.backend != "local":
        raise GenerationError(f"generation.backend {settings.backend!r} has no generator "
                              "(use 'local' or 'openai'; 'extractive' needs none)")
    try:
        path = resolve_model(settings.model, cache_dir)
    except ModelNotFoundError as exc:
        raise GenerationError(str(exc)) from exc
    return LlamaCppGenerator(path, settings.n_ctx, settings.n_threads, settings.temperature,
                             name=f"local:{settings.model}", flash_attn=settings.flash_attn,
                             repack=repack_weights(settings.repack))


def cpu_has_amx(cpuinfo: str | None = None) -> bool:
    """Whether the CPU advertises AMX tiles (the "amx_tile" flag of Linux's /proc/cpuinfo)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return any(line.startswith("flags") and "amx_tile" in line.split() for line in cpuinfo.splitlines())


def repack_weights(setting: str, cpuinfo: str | None = None) -> bool:
    """Setting generation.repack ("auto", "on", "off") -> whether llama.cpp may repack the weights."""
    return setting == "on" or (setting == "auto" and not cpu_has_amx(cpuinfo))


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def llama_model_params(repack: bool) -> Iterator[None]:
    """Models loaded inside get llama.cpp's weight repacking (use_extra_bufts) off when `repack` is
    False: llama-cpp-python's Llama() takes no argument for it, it reads the library's defaults."""
    if repack:
        yield
        return
    import llama_cpp.llama_cpp as low

    with _PARAMS_LOCK:
        default = low.llama_model_default_params

        def without_repacking() -> Any:
            params = default()
            if hasattr(params, "use_extra_bufts"):
                params.use_extra_bufts = False
            return params

        low.llama_model_default_params = without_repacking
        try:
            yield
        finally:
            low.llama_model_default_params = default
