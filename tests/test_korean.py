from __future__ import annotations

import threading
import unicodedata
from dataclasses import replace

import pytest

from rag.corpus import load_corpus
from rag.korean import KoreanText
from rag.vocabulary import Lexicon


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


@pytest.mark.parametrize(
    ("passage", "query"),
    [
        ("삼성전자는 협력사를 지원했다", "삼성전자"),
        ("LGU+는 납품대금을 조기 지급했다", "LGU+"),
        ("LGU+는 납품대금을 조기 지급했다", "lgu+"),
        ("LG이노텍의 동반성장 펀드", "LG이노텍"),
        ("‘U+커넥트’의 수주에 성공한 드레니", "U+커넥트"),
        ("KT관계자는 20일 밝혔다", "KT"),
    ],
)
def test_query_term_matches_inflected_passage(korean: KoreanText, passage: str, query: str) -> None:
    query_terms = korean.tokens(query)
    assert query_terms, query
    assert set(query_terms) <= set(korean.tokens(passage))


def test_names_with_plus_stay_whole_and_lowercase(korean: KoreanText) -> None:
    assert korean.tokens("LGU+는")[0] == "lgu+"
    assert "lgu" not in korean.tokens("LGU+는")
    assert korean.tokens("Fund를 조성") == ["fund", "조성"]


def test_particles_and_endings_are_dropped(korean: KoreanText) -> None:
    terms = korean.tokens("삼성전자는 협력사에게 자금을 지원했다")
    assert "는" not in terms and "에게" not in terms and "을" not in terms
    assert "삼성전자" in terms and "자금" in terms


def test_numbers_lose_thousands_separators(korean: KoreanText) -> None:
    terms = korean.tokens("1,030억 원 규모의 동반성장 펀드")
    assert terms[:2] == ["1030", "억"]
    assert "1,030" not in terms
    assert korean.tokens("1030억")[:2] == ["1030", "억"]


def test_predicates_become_dictionary_forms(korean: KoreanText) -> None:
    assert korean.tokens("걸어서 갔다") == ["걷다", "가다"]
    assert "늘리다" in korean.tokens("생산량을 123% 늘렸다")


def test_mixed_script_name_also_yields_its_parts(korean: KoreanText) -> None:
    terms = korean.tokens("LG이노텍의")
    assert "lg이노텍" in terms and "이노텍" in terms


def test_question_and_passage_share_terms(korean: KoreanText) -> None:
    passage = "LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다."
    question = "LG이노텍이 운영하는 동반성장 펀드의 규모는?"
    shared = set(korean.tokens(question)) & set(korean.tokens(passage))
    assert {"lg이노텍", "동반", "성장", "펀드", "규모", "운영"} <= shared


def test_tokens_are_nfc_normalized(korean: KoreanText) -> None:
    decomposed = unicodedata.normalize("NFD", "삼성전자는 펀드를")
    assert korean.tokens(decomposed) == korean.tokens("삼성전자는 펀드를")


def test_batch_equals_single(korean: KoreanText) -> None:
    texts = ["삼성전자는", "LGU+는 KT와", "", "1,030억 원", "Fund"]
    assert korean.tokens_batch(texts) == [korean.tokens(t) for t in texts]
    assert korean.tokens_batch([]) == []


def test_user_dictionary_is_what_keeps_names_whole(korean: KoreanText) -> None:
    # without its entry Kiwi reads "LGU+는" as LGU / + / 늘다
    assert "lgu+" not in _with(user_words=()).tokens("LGU+는 좋다")
    assert korean.tokens("LGU+는 좋다")[0] == "lgu+" and "lgu" not in korean.tokens("LGU+는 좋다")


def _with(**fields: object) -> KoreanText:
    """The packaged lexicon with some of its parts replaced."""
    return KoreanText(lexicon=replace(Lexicon.load(), **fields))


def test_a_user_word_typed_in_lower_case_stays_whole() -> None:
    # questions are often typed lower-case; Kiwi matches its user words case by case
    mine = _with(user_words=(("ZQT+", "NNP"),))
    assert mine.tokens("ZQT+는 좋다") == mine.tokens("zqt+는 좋다") == ["zqt+", "좋다"]
    assert "zqt+" not in _with(user_words=()).tokens("zqt+는 좋다")


def test_an_alias_adds_the_other_names_of_its_group_once() -> None:
    # made-up names: each name of a group adds every other name, and not itself a second time
    mine = _with(alias_groups=(("가나다사", "마바사아", "자차카"),))
    assert mine.tokens("가나다사 발표").count("가나다사") == 1
    assert {"마바사아", "자차카"} <= set(mine.tokens("가나다사 발표"))
    assert mine.tokens("자차카").count("자차카") == 1 and {"가나다사", "마바사아"} <= set(mine.tokens("자차카"))
    assert "마바사아" not in _with(alias_groups=()).tokens("가나다사 발표")


_PARTICLES = ("는", "가", "을", "를", "의", "에서", "와", "과", "도", "로", "은", "이")


@pytest.fixture(scope="module")
def bare() -> KoreanText:
    return _with(user_words=(), alias_groups=())


@pytest.mark.parametrize("word", [w for w, _ in KoreanText().lexicon.user_words])
def test_every_user_word_is_one_kiwi_needs(korean: KoreanText, bare: KoreanText, word: str) -> None:
    """An entry Kiwi does not need is noise in the lexicon: each must be lost before some particle without it."""
    sentences = [f"올해 {word}{p} 상을 받았다." for p in _PARTICLES]
    assert any(word.lower() not in terms for terms in bare.tokens_batch(sentences))
    assert all(word.lower() in terms for terms in korean.tokens_batch(sentences))


def test_latin_and_number_runs_stay_one_term(korean: KoreanText) -> None:
    assert korean.tokens("5G를") == ["5g"]
    assert "r&d" in korean.tokens("연구개발(R&D)도")
    assert korean.tokens("3.5%를 늘렸다") == ["3.5", "늘리다"]
    # (Kiwi reads that 를 as noun 르 + ᆯ; a 르 that is a text's last word, with no ᆯ after it, stays)
    assert korean.tokens("르") == ["르"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("1,000-2,000원", ["1000", "2000", "원"]),  # a range of numbers stays apart
        ("10.5-11.2%", ["10.5", "11.2"]),
        ("2014~2021", ["2014", "2021"]),  # ~ joins nothing
        ("1+1 행사", ["1+1", "행사"]),  # + and & join what is written against them
        ("3-A형", ["3-a", "3-a형"]),  # a hyphen joins a number to a Latin word
        ("COVID- 19 대응", ["covid", "19", "대응"]),  # …not across a space
        ("R&가", ["r", "가"]),  # …nor a Hangul word
        ("R&", ["r"]),  # a joiner that ends the text joins nothing
        ("5G-", ["5g"]),
        ("2020-", ["2020"]),  # …also after a number
    ],
)
def test_symbols_join_latin_words_and_numbers_written_together(korean: KoreanText, text: str, terms: list[str]) -> None:
    assert korean.tokens(text) == terms


def test_joined_runs_keep_the_tag_of_their_kind(korean: KoreanText) -> None:
    # the answer checks read a number by its tag: a run of numbers is a number, a run with a letter a word
    assert korean.morphemes_batch(["1+1 행사"])[0] == [("SN", "1+1", 0, 3), ("NNG", "행사", 4, 6)]
    assert korean.morphemes_batch(["Fund 5G"])[0] == [("SL", "Fund", 0, 4), ("SL", "5G", 5, 7)]
    assert korean.morphemes_batch(["makes batteries."])[0][-2:] == [("SL", "batteries", 6, 15), ("SF", ".", 15, 16)]


def test_sentences_are_ordered_stripped_spans(korean: KoreanText) -> None:
    text = "  첫 줄 제목\n\n안녕하세요. 반갑습니다!  좋아요 \n“다음 문단이다.” 그리고 끝."
    spans = korean.sentences(text)
    pieces = [text[a:b] for a, b in spans]
    assert pieces == ["첫 줄 제목", "안녕하세요.", "반갑습니다!", "좋아요", "“다음 문단이다.”", "그리고 끝."]
    assert all(a < b for a, b in spans)
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:]))


def test_a_quoted_title_starts_the_sentence_its_particle_belongs_to(korean: KoreanText) -> None:
    # Kiwi cuts after the closing mark ("…공개했다. 《스마트 공장》" | "에는 …"): no sentence begins with a
    # particle, a copula or an ending written against the quote, so the quote goes with what follows it
    def split(text: str) -> list[str]:
        return [text[a:b] for a, b in korean.sentences(text)]

    assert split("회사는 신제품을 공개했다. 《스마트 공장》에는 새로운 기능도 들어갔다.") == [
        "회사는 신제품을 공개했다.", "《스마트 공장》에는 새로운 기능도 들어갔다."]
    assert split("행사는 성황리에 끝났다. ‘상생 페스티벌’이라는 이름으로 열린 이 행사는 올해 세 번째다.") == [
        "행사는 성황리에 끝났다.", "‘상생 페스티벌’이라는 이름으로 열린 이 행사는 올해 세 번째다."]
    # the sentence end before the quote is found past other marks ("〈…〉 (2011)는"); news text that runs
    # sentences together ("…했다.《…》는") is cut right before the quote
    assert split("정부는 새 제도를 도입했다. 〈동반성장 지수〉 (2011)는 해마다 발표된다.") == [
        "정부는 새 제도를 도입했다.", "〈동반성장 지수〉 (2011)는 해마다 발표된다."]
    assert split("작가는 새 소설을 내놓았다.《바다의 노래》는 지난해 출간되었다.")[-1] == "《바다의 노래》는 지난해 출간되었다."
    # no sentence end before the quote opens (a bullet glued to it): the two spans are one, nothing is lost
    text = "공장도 지을 계획이다.○“새 제품 만들 것”이 공장은 회사의 힘이 될 것이라고 그는 말했다."
    assert split(text) == [text]
    # a particle after a mark that closes nothing (an opening quote typed where the closing one belongs) is left
    # where Kiwi cut it, and nothing is lost
    text = "그는 “모두 함께 갑니다.“고 말했다."
    assert "".join(split(text)).replace(" ", "") == text.replace(" ", "")
    # news text also writes a title in ASCII angle brackets
    assert split("시즌 3는 4월에 공개된다. <미래의 남자>는 세 명의 감독이 만들었다.") == [
        "시즌 3는 4월에 공개된다.", "<미래의 남자>는 세 명의 감독이 만들었다."]
    # a word after a closing quote that is no particle starts a sentence of its own, as before
    assert split("“모두 함께 갑니다.” 회장은 이렇게 말했다.") == ["“모두 함께 갑니다.”", "회장은 이렇게 말했다."]
    # …also when it is written against the quote (news text that runs on)
    assert split("“모두 함께 갑니다.”회장은 이렇게 말했다.") == ["“모두 함께 갑니다.”", "회장은 이렇게 말했다."]


def test_sentences_cover_every_character_of_the_seeds(korean: KoreanText, seeds_dir) -> None:
    for article in load_corpus([seeds_dir]).articles:
        text = article.text
        covered = [False] * len(text)
        for a, b in korean.sentences(text):
            assert text[a:b] == text[a:b].strip()
            for i in range(a, b):
                covered[i] = True
        lost = "".join(ch for ch, ok in zip(text, covered) if not ok and not ch.isspace())
        assert lost == "", article.doc_id


def test_sentences_of_empty_text(korean: KoreanText) -> None:
    assert korean.sentences("") == []
    assert korean.sentences(" \n\n ") == []


def test_shared_instance_is_safe_across_threads(korean: KoreanText) -> None:
    texts = [f"LG이노텍은 {i}번째 협력사에 1,030억 원을 지원했다." for i in range(40)]
    expected = korean.tokens_batch(texts)
    results: dict[int, list[list[str]]] = {}

    def work(n: int) -> None:
        results[n] = [korean.tokens(t) for t in texts]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results.values()) and len(results) == 4


def test_key_terms_are_names_numbers_and_a_subset_of_tokens(korean: KoreanText) -> None:
    text = "LG이노텍의 R&D 투자는 2022년 5G와 LGU+에 1,030억 원이다."
    keys = korean.key_terms(text)
    assert {"lg이노텍", "r&d", "2022", "5g", "lgu+", "1030"} <= set(keys)
    assert "투자" not in keys and "원" not in keys
    assert set(keys) <= set(korean.tokens(text))


def test_serial_numbers_and_hyphenated_words(korean: KoreanText) -> None:
    assert {"2014-2021", "2014", "2021"} <= set(korean.tokens("2014-2021년"))
    assert {"covid-19", "covid"} <= set(korean.tokens("COVID-19 대응"))
    assert "2024" in korean.key_terms("'24.11.28 행사, 2024.11.28 발표")


def test_a_date_is_the_same_terms_however_it_is_dotted(korean: KoreanText) -> None:
    # Korean writes "2024. 11. 28." (spaced, a period after the day); a question may write "2024.11.28"
    terms = ["2024.11.28", "2024", "11", "28"]
    assert korean.tokens("2024.11.28 행사") == terms + ["행사"]
    assert korean.tokens("2024. 11. 28. 행사") == terms + ["행사"]
    assert korean.tokens("행사는 2024.11.28.") == ["행사"] + terms
    assert korean.tokens("문의 044-204-7925.") == ["문의", "044-204-7925", "044", "204", "7925"]


def test_version_names_the_user_dictionary(korean: KoreanText) -> None:
    assert korean.version == KoreanText().version
    assert _with(user_words=(("비플", "NNP"),)).version != korean.version
    assert _with(alias_groups=(("가나다사", "마바사아"),)).version != korean.version


def test_dates_hashtags_and_latin_words_give_each_term_once(korean: KoreanText) -> None:
    # a date that ends a sentence keeps its period in Kiwi's serial: the same terms as without it, no empty one
    assert korean.tokens("행사는 2024.11.28. 열렸다") == ["행사", "2024.11.28", "2024", "11", "28", "열리다"]
    assert korean.tokens("#동반성장 캠페인") == ["동반성장", "캠페인"]  # a hashtag is its word
    # a Latin word is its own script run (no second copy); a hyphenated one adds its longer pieces
    assert korean.tokens("Fund 5G") == ["fund", "5g"]
    assert korean.tokens("K-pop 인기") == ["k-pop", "pop", "인기"]


def test_a_sentence_not_in_nfc_is_analyzed_in_nfc(korean: KoreanText) -> None:
    # Kiwi reads decomposed Hangul (NFD) as unknown nouns: the split's own analysis of such a sentence is
    # not kept, so the sentence is analyzed again in NFC and has the terms a query has
    text = unicodedata.normalize("NFD", "삼성전자는 협력사를 지원했다. 두 번째 문장이다.")
    spans, analyses = korean.sentences_analyzed([text])
    first = text[slice(*spans[0][0])]
    again = korean.analyze_batch([first])[0]
    assert "삼성전자" in again[0]
    assert analyses.get(first, again) == again


def test_compound_nouns_also_count_whole(korean: KoreanText) -> None:
    terms = korean.tokens("동반성장지수 평가")
    assert {"동반", "성장", "지수", "동반성장지수", "평가"} <= set(terms)
    assert "동반성장지수" not in korean.tokens("동반 성장 지수")  # written apart: no compound
    # nor is a bracket or a quote written against a noun
    for text in ("협력사(중소기업)와 대기업", "“상생”협력 확대"):
        assert not [t for t in korean.tokens(text) if set(t) & set("()“”")], text
    # a particle written against the compound is not a piece of it
    assert korean.tokens("동반성장지수는 높다") == ["동반", "성장", "지수", "동반성장지수", "높다"]
    assert "1030억" in korean.tokens("1,030억 원")
    assert korean.key_terms("동반성장지수") == []  # compounds are index terms, not names


@pytest.mark.parametrize(
    ("passage", "query"),
    [("LGU+는 납품대금을 조기 지급했다", "LG유플러스"), ("“한국경제 뿌리 中企과 함께”", "중소기업"),
     ("중소벤처기업부(장관 오영주)는", "중기부"), ("SKT는 MOU를 체결했다", "SK텔레콤")],
)
def test_aliases_match_other_spellings(korean: KoreanText, passage: str, query: str) -> None:
    assert set(korean.tokens(query)) & set(korean.tokens(passage)) - {"lg"}


def test_aliases_keep_key_terms_a_subset_of_tokens(korean: KoreanText) -> None:
    for name, other in (("LG유플러스", "LGU+는"), ("중기부", "중소벤처기업부는"), ("SK텔레콤", "SKT는")):
        assert set(korean.key_terms(name)) <= set(korean.tokens(other)) | {"lg", "sk", "유플러스", "텔레콤"}
        assert set(korean.key_terms(name)) <= set(korean.tokens(name))


def test_a_noun_prefix_stays_with_its_compound(korean: KoreanText) -> None:
    # Kiwi splits "최우수상" into 최 / 우수 / 상 in one context and not in another
    assert "최우수상" in korean.tokens("최우수상을 각각 받았다")
    assert "최우수상" in korean.tokens("최우수상을 받은 곳은?")


def test_sentences_of_many_texts_at_once_are_each_texts_own(korean: KoreanText, seeds_dir) -> None:
    texts = [a.text for a in load_corpus([seeds_dir]).articles][:3] + ["", " \n ", "첫 문장이다. 둘째 문장이다."]
    assert korean.sentences_batch(texts) == [korean.sentences(t) for t in texts]
    assert korean.sentences_batch([]) == []


def test_a_sentences_analysis_from_the_split_is_relative_to_the_sentence(korean: KoreanText) -> None:
    text = "첫 줄은 짧다.\n  삼성전자는 2020년 3월에 1,030억 원을 냈다. 이어 LG전자도 참여했다."
    spans, analyses = korean.sentences_analyzed([text])
    sentences = [text[a:b] for a, b in spans[0]]
    assert set(analyses) == set(sentences)
    for sentence in sentences:
        terms, morphemes = analyses[sentence]
        assert terms == korean.tokens(sentence)
        # offsets point into the sentence itself, as when it is analyzed alone
        assert all(sentence[start:end] == form for tag, form, start, end in morphemes if tag in ("NNP", "SN", "NNG"))


def test_a_latin_word_ending_a_sentence_loses_its_period(korean: KoreanText) -> None:
    # Kiwi keeps the full stop on a Latin word that ends a sentence: the index would hold "batteries."
    assert korean.tokens("Hanbit Labs makes batteries.") == ["hanbit", "labs", "makes", "batteries"]
    assert "soft" in korean.tokens("협력사는 Nuri Soft.")
    *_, word, period = korean.morphemes_batch(["협력사는 Nuri Soft."])[0]
    assert (word[:2], period[:2]) == (("SL", "Soft"), ("SF", "."))
    assert (word[3], period[2:]) == (period[2], (14, 15))  # "Soft" ends where its period begins


def test_a_name_written_in_latin_and_hangul_together_is_also_one_key_term(korean) -> None:
    # Kiwi reads "SK하이닉스" as SK / 하이닉스 (and "삼성SDI" as 삼성 / SDI): the name as written is a term too
    assert "sk하이닉스" in korean.key_terms("SK하이닉스의 펀드 규모는?")
    assert "삼성sdi" in korean.key_terms("삼성SDI의 펀드 규모는?")
    assert "sk하이닉스" not in korean.key_terms("SK 하이닉스의 펀드 규모는?")  # apart, they stay two
    assert "sk하이닉스" in korean.tokens("SK하이닉스의 펀드 규모는?")  # as the keyword index already reads it
    # the nouns written after the Latin letters belong to the name too, common nouns included: Kiwi reads
    # "LG에너지솔루션" LG / 에너지 / 솔루션, "SK온" SK / 온, "K뱅크" K / 뱅크
    assert {"lg에너지솔루션", "sk온", "k뱅크"} <= set(korean.key_terms("LG에너지솔루션과 SK온, K뱅크의 펀드는?"))
    assert not any(t.startswith("lg") and len(t) > 2 for t in korean.key_terms("LG 에너지솔루션의 펀드는?"))  # apart
    assert korean.key_terms("현대건설의 펀드는?") == ["현대건설"]  # no Latin letters: as before
    assert korean.key_terms("펀드를 만든 곳은 LG에너지솔루션") == ["lg", "lg에너지솔루션"]  # also ending the text
    assert korean.key_terms("SK의 펀드는?") == ["sk"]  # Latin letters alone are their own term, once
    # a proper noun before the Latin letters belongs only when written together, a common noun never
    assert korean.key_terms("삼성 SDI의 펀드는?") == ["삼성", "sdi"]
    assert korean.key_terms("차세대EUV 장비의 가격은?") == ["euv"]
    # the keyword index's terms are the compound run's, once each (a repeated term would weigh more in BM25)
    assert korean.tokens("LG에너지솔루션의 펀드") == ["lg", "에너지", "솔루션", "lg에너지솔루션", "펀드"]
