from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rag.config import GenerationSettings, PROJECT_ROOT
from rag.generation import (GenerationError, GeneratorUnreachableError, LlamaCppGenerator, OpenAICompatibleGenerator, complete,
                            load_generator)
from tests.fakes import ScriptedOpenAIServer, SilentServer
from tests.servers import free_port, llama_cpp_server

MESSAGES = [
    {"role": "system", "content": "주어진 근거로만 한국어로 짧게 답하세요."},
    {"role": "user", "content": "[근거]\n[1] LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영 중이다.\n"
                                "[질문] LG이노텍의 동반성장 펀드 규모는?\n[답변]"},
]


# ---------------------------------------------------------------- configuration errors


def test_openai_backend_without_a_base_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="base_url"):
        load_generator(GenerationSettings(backend="openai", base_url=""), tmp_path)


def test_extractive_backend_has_no_generator(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="extractive"):
        load_generator(GenerationSettings(backend="extractive"), tmp_path)


def test_missing_local_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="not found"):
        load_generator(GenerationSettings(model=str(tmp_path / "nothing.gguf")), tmp_path)
    with pytest.raises(GenerationError, match="unknown model"):
        load_generator(GenerationSettings(model="no-such-model"), tmp_path)


def test_a_file_that_is_not_a_gguf_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a model" * 100)
    generator = load_generator(GenerationSettings(model=str(bad)), tmp_path)
    with pytest.raises(GenerationError, match=r"cannot load model broken\.gguf"):  # there, but no model
        complete(generator, MESSAGES, max_tokens=8)


def test_a_local_model_file_gone_since_it_was_chosen_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    with pytest.raises(GenerationError, match=r"model file not found: .*gone\.gguf"):
        complete(LlamaCppGenerator(tmp_path / "gone.gguf"), MESSAGES, max_tokens=8)


# ---------------------------------------------------------------- server failures


def test_dead_server_is_one_clear_line() -> None:
    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{free_port()}/v1", "any", timeout_s=5)
    with pytest.raises(GenerationError) as error:
        complete(generator, MESSAGES, max_tokens=8)
    assert "cannot reach" in str(error.value) and "\n" not in str(error.value)


def test_a_server_that_never_answers_times_out() -> None:
    with SilentServer() as port:
        generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{port}/v1", "any", timeout_s=1.0)
        with pytest.raises(GenerationError, match="timed out"):
            complete(generator, MESSAGES, max_tokens=8)


def test_the_openai_backend_sends_its_model_key_and_stop_and_streams_only_text(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedOpenAIServer(["", "1,030", "억 원"]) as server:
        pieces = list(OpenAICompatibleGenerator(server.base_url + "/", "").stream(MESSAGES, max_tokens=8))
        complete(OpenAICompatibleGenerator(server.base_url, "small", api_key="sk-mine"), MESSAGES, 8, stop=("\n",))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        complete(OpenAICompatibleGenerator(server.base_url, "small"), MESSAGES, 8)
    assert pieces == ["1,030", "억 원"]  # an empty delta is no piece
    plain, mine, env = server.requests
    # no model named: the server's "default"; no key: a placeholder (the client refuses none), else the
    # given key before the environment's
    assert plain["body"]["model"] == "default" and mine["body"]["model"] == "small"
    assert plain["headers"]["Authorization"] == "Bearer not-needed"
    assert mine["headers"]["Authorization"] == "Bearer sk-mine" and env["headers"]["Authorization"] == "Bearer sk-env"
    # no stop sequence is sent as none, not as an empty list
    assert mine["body"]["stop"] == ["\n"] and "stop" not in plain["body"]


def test_an_error_status_is_its_first_line_and_is_not_retried() -> None:
    with ScriptedOpenAIServer(status=503, error_body="model is loading\nretry in 30 s") as server:
        with pytest.raises(GenerationError) as error:
            complete(OpenAICompatibleGenerator(server.base_url, "small"), MESSAGES, max_tokens=8)
    assert str(error.value) == f"LLM server {server.base_url} answered HTTP 503: model is loading"
    assert len(server.requests) == 1  # max_retries=0: a failing server fails now


def test_a_server_killed_mid_answer_is_a_generation_error_after_the_pieces_it_sent() -> None:
    # the connection is cut inside the chunked body: httpx raises RemoteProtocolError while the
    # stream is read, after the openai client has stopped wrapping errors
    with ScriptedOpenAIServer(["1,030", "억 원"], ending="dropped") as server:
        pieces: list[str] = []
        with pytest.raises(GenerationError) as error:
            for piece in OpenAICompatibleGenerator(server.base_url, "small").stream(MESSAGES, max_tokens=8):
                pieces.append(piece)
    assert pieces == ["1,030", "억 원"]
    assert not isinstance(error.value, GeneratorUnreachableError)  # it answered: it failed, it was there
    assert "broke off its answer" in str(error.value) and "\n" not in str(error.value)


def test_a_stream_closed_without_a_finish_reason_is_an_answer_ended_early() -> None:
    with ScriptedOpenAIServer(["1,030", "억 원"], ending="closed") as server:
        with pytest.raises(GenerationError, match="ended its answer early"):
            complete(OpenAICompatibleGenerator(server.base_url, "small"), MESSAGES, max_tokens=8)
    with ScriptedOpenAIServer(["1,030", "억 원"]) as server:  # the same pieces, finished: the answer
        assert complete(OpenAICompatibleGenerator(server.base_url, "small"), MESSAGES, max_tokens=8) == "1,030억 원"


# ---------------------------------------------------------------- the local backend's logic (fake llama.cpp)


@pytest.fixture
def fake_llama(monkeypatch: pytest.MonkeyPatch) -> list:
    """llama_cpp.Llama replaced by what LlamaCppGenerator uses of it, without weights: a prompt's tokens
    are its bytes, the live cache holds the last prompt's, every answer is the same scripted deltas.
    Returns the models made, each with its load parameters, stops, restored states and evaluated tokens."""
    llama_cpp = pytest.importorskip("llama_cpp")
    import llama_cpp.llama_cpp as low

    made: list = []

    class FakeLlama:
        longest_token_prefix = staticmethod(llama_cpp.Llama.longest_token_prefix)

        def __init__(self, model_path: str, **params: object) -> None:
            # what llama.cpp would load with: the library's default model params as patched around Llama()
            self.params = {**params, "use_extra_bufts": low.llama_model_default_params().use_extra_bufts}
            self.input_ids = np.array([], dtype=np.intc)
            self.stops: list = []
            self.restored: list = []
            self.evaluated: list[int] = []
            made.append(self)

        def tokenize(self, text: bytes, add_bos: bool = True) -> list[int]:
            return list(text)

        def create_chat_completion(self, messages, max_tokens, temperature, stop, stream):
            prompt = list("".join(m["content"] for m in messages).encode("utf-8"))
            self.evaluated.append(len(prompt) - self.longest_token_prefix(self.input_ids.tolist(), prompt))
            self.input_ids = np.array(prompt, dtype=np.intc)
            self.stops.append(stop)
            deltas = [{"role": "assistant"}, {"content": "1,030"}, {"content": ""}, {"content": "억 원"}]
            return iter([{"choices": [{"delta": d}]} for d in deltas])

        def save_state(self) -> SimpleNamespace:
            return SimpleNamespace(input_ids=self.input_ids.copy(), scores=np.zeros((len(self.input_ids), 2)))

        def load_state(self, state: SimpleNamespace) -> None:
            self.restored.append(state)
            self.input_ids = state.input_ids.copy()

    monkeypatch.setattr(llama_cpp, "Llama", FakeLlama)
    return made


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_a_local_model_loads_once_with_its_settings_and_streams_only_text(fake_llama: list, model_file: Path) -> None:
    generator = LlamaCppGenerator(model_file, n_ctx=1024, repack=False)
    assert list(generator.stream([MESSAGES[1]], max_tokens=8)) == ["1,030", "억 원"]  # a role-only delta is no piece
    assert complete(generator, [MESSAGES[1]], max_tokens=8, stop=("\n",)) == "1,030억 원"
    (llm,) = fake_llama  # loaded on first use, once
    assert llm.stops == [None, ["\n"]]
    assert llm.params["n_threads"] == llm.params["n_threads_batch"] == os.cpu_count()  # 0: every core
    assert llm.params["n_ctx"] == 1024 and llm.params["use_extra_bufts"] is False
    more = (os.cpu_count() or 1) + 1  # a number of threads that is not the core count
    LlamaCppGenerator(model_file, n_threads=more, repack=True).load()
    assert fake_llama[1].params["n_threads"] == more and fake_llama[1].params["use_extra_bufts"] is True


def test_a_local_model_made_without_a_repack_choice_follows_auto(fake_llama: list, model_file: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.generation

    for amx in (True, False):  # whichever CPU runs the test
        monkeypatch.setattr(rag.generation, "cpu_has_amx", lambda cpuinfo=None, amx=amx: amx)
        LlamaCppGenerator(model_file).load()
        assert fake_llama[-1].params["use_extra_bufts"] is (not amx)


def test_the_primed_system_prompt_is_put_back_only_when_the_cache_lost_it(fake_llama: list, model_file: Path) -> None:
    system, question = MESSAGES
    generator = LlamaCppGenerator(model_file)
    generator.prime([system, {"role": "user", "content": "안녕"}])
    (llm,) = fake_llama
    complete(generator, [system, question], max_tokens=8)
    assert llm.restored == []  # the live cache still holds the system prompt
    complete(generator, [{"role": "user", "content": "Translate: What is it?"}], max_tokens=8)
    complete(generator, [{"role": "system", "content": "다른 지시"}, question], max_tokens=8)
    assert llm.restored == []  # a prompt of another shape starts from the live cache
    complete(generator, [system, question], max_tokens=8)
    assert len(llm.restored) == 1
    # resumed from the primed state, only the question's part is evaluated
    assert llm.evaluated[-1] == len(question["content"].encode("utf-8"))


# ---------------------------------------------------------------- real models (slow)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    from rag.gguf import ModelNotFoundError, resolve_model

    cache = Path(__import__("os").environ.get("RAG_TEST_CACHE_DIR") or tmp_path_factory.mktemp("cache"))
    try:
        return resolve_model("qwen2.5-coder-0.5b", cache)
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
def test_local_model_streams_an_answer_and_queues_concurrent_users(small_model: Path) -> None:
    generator = LlamaCppGenerator(small_model, n_ctx=1024, n_threads=2)
    results: list[str] = []

    def ask() -> None:
        results.append(complete(generator, MESSAGES, max_tokens=24))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.strip() for r in results)
    assert any("1,030" in r or "1030" in r for r in results)


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_a_clear_error(small_model: Path) -> None:
    generator = LlamaCppGenerator(small_model, n_ctx=256, n_threads=2)
    long = [{"role": "user", "content": "상생협력 " * 400}]
    with pytest.raises(GenerationError, match="local model failed"):
        complete(generator, long, max_tokens=8)


@pytest.mark.slow
def test_openai_compatible_backend_against_a_real_loopback_server(small_model: Path, tmp_path: Path) -> None:
    with llama_cpp_server(small_model, tmp_path, "--n_ctx", "1024", "--n_threads", "2", "--model_alias", "small") as base:
        settings = replace(GenerationSettings(), backend="openai", base_url=base, server_model="small",
                           timeout_s=120)
        generator = load_generator(settings, PROJECT_ROOT)
        pieces = list(generator.stream(MESSAGES, max_tokens=24))
        assert len(pieces) > 1  # streamed, not one block
        assert "".join(pieces).strip()
        # a stop sequence is honoured by the server
        stopped = complete(generator, [{"role": "user", "content": "Count: 1, 2, 3, 4, 5, 6, 7, 8"}], 32, stop=("5",))
        assert "6" not in stopped


@pytest.mark.slow
def test_flash_attention_follows_the_setting_and_answers_alike(small_model: Path) -> None:
    # on by default (faster prompt evaluation); a llama.cpp build without it can turn it off
    from llama_cpp import LLAMA_FLASH_ATTN_TYPE_DISABLED, LLAMA_FLASH_ATTN_TYPE_ENABLED

    answers = {}
    for flash in (True, False):
        generator = load_generator(replace(GenerationSettings(), model=str(small_model), n_ctx=1024, n_threads=2,
                                           flash_attn=flash), PROJECT_ROOT)
        answers[flash] = complete(generator, MESSAGES, max_tokens=24)
        wanted = LLAMA_FLASH_ATTN_TYPE_ENABLED if flash else LLAMA_FLASH_ATTN_TYPE_DISABLED
        assert generator._llm.context_params.flash_attn_type == wanted
    assert GenerationSettings().flash_attn
    assert all("1,030" in a or "1030" in a for a in answers.values())


@pytest.mark.slow
def test_the_primed_system_prompt_survives_a_prompt_of_another_shape(small_model: Path) -> None:
    # a condense or translate prompt (no system message) replaces llama.cpp's one cache: without the
    # primed state the next answer evaluates the whole ~360-token system prompt again
    from rag.prompts import Prompts

    system = {"role": "system", "content": Prompts.load().system}
    question = {"role": "user", "content": MESSAGES[1]["content"]}
    generator = LlamaCppGenerator(small_model, n_ctx=1024, n_threads=2)
    generator.prime([system, {"role": "user", "content": "안녕"}])
    llm = generator._llm
    evaluated: list[int] = []
    live_eval = llm.eval

    def counting_eval(tokens):  # the tokens llama.cpp evaluates, call by call
        evaluated.append(len(tokens))
        return live_eval(tokens)

    llm.eval = counting_eval
    first = complete(generator, [system, question], max_tokens=16)
    prompt_after_prime = evaluated[0]
    complete(generator, [{"role": "user", "content": "Count: 1, 2, 3"}], max_tokens=4)
    evaluated.clear()
    again = complete(generator, [system, question], max_tokens=16)
    system_tokens = len(llm.tokenize(system["content"].encode("utf-8"), add_bos=False))
    assert prompt_after_prime < system_tokens / 2
    assert evaluated[0] == prompt_after_prime  # only the question part, as right after priming
    assert again == first


def test_weight_repacking_is_off_where_the_cpu_advertises_amx() -> None:
    from rag.config import GenerationSettings, SettingsError
    from rag.generation import cpu_has_amx, repack_weights

    amx = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8\n"
    plain = "processor\t: 0\nflags\t\t: fpu sse avx2 fma\n"
    assert cpu_has_amx(amx) and not cpu_has_amx(plain) and not cpu_has_amx("")
    assert repack_weights("auto", amx) is False and repack_weights("auto", plain) is True
    assert repack_weights("on", amx) is True and repack_weights("off", plain) is False
    with pytest.raises(SettingsError, match="generation.repack"):
        GenerationSettings(repack="maybe")


def test_a_model_loaded_without_repacking_gets_the_library_parameter_and_the_default_comes_back() -> None:
    llama_low = pytest.importorskip("llama_cpp.llama_cpp")
    from rag.generation import llama_model_params

    original = llama_low.llama_model_default_params
    with llama_model_params(repack=False):
        assert llama_low.llama_model_default_params().use_extra_bufts is False
    assert llama_low.llama_model_default_params is original
    assert original().use_extra_bufts is True
    with llama_model_params(repack=True):
        assert llama_low.llama_model_default_params is original
