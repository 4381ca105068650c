"""A question in another language, in Korean: one LLM call, with the Latin-script names it copied in Hangul."""

from __future__ import annotations

from rag.generation import GenerationError, Generator, complete
from rag.glossary import copied_latin_runs, is_hangul_form, mostly_foreign
from rag.prompts import Prompts, build_translate_messages, build_transliterate_messages


def in_korean(question: str, generator: Generator | None, prompts: Prompts, transliterate_names: bool) -> str:
    """The Korean form of a question in another language (one LLM call), else the question."""
    if generator is None or not mostly_foreign(question):
        return question
    try:
        translated = complete(generator, build_translate_messages(prompts, question), max_tokens=96,
                              stop=("\n",)).strip()
    except GenerationError:
        return question
    if transliterate_names and any("가" <= c <= "힣" for c in translated):
        translated = names_in_hangul(translated, question, generator, prompts)
    # a translation without Hangul, or a long one, is not a question in Korean
    return translated if 0 < len(translated) <= 300 and not mostly_foreign(translated) else question


def names_in_hangul(translated: str, question: str, generator: Generator, prompts: Prompts) -> str:
    """The translation with the names it copied in Latin script written in Hangul (one short LLM call
    each): the passages write "박준범", and the check on the Korean form refuses a name no passage holds."""
    for run in copied_latin_runs(translated, question):
        try:
            hangul = complete(generator, build_transliterate_messages(prompts, run), max_tokens=16,
                              stop=("\n",)).strip()
        except GenerationError:
            break
        if is_hangul_form(hangul):
            translated = translated.replace(run, hangul, 1)
    return translated
