from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from rag.config import GenerationSettings, PROJECT_ROOT
from rag.generation import (GenerationError, LlamaCppGenerator, OpenAICompatibleGenerator, complete,
                            load_generator)
from tests.fakes import SilentServer
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
    with pytest.raises(GenerationError, match="broken.gguf"):
        complete(generator, MESSAGES, max_tokens=8)


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
