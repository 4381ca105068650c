"""Model output is plain text: no markup survives into an answer."""

from __future__ import annotations

import pytest

from rag.plaintext import plain_text


@pytest.mark.parametrize(("raw", "clean"), [
    ("결과 <img/src=x onerror=alert(1)> 입니다 [1].", "결과 입니다 [1]."),
    ("<b>1,030억 원</b> 규모 [1].", "1,030억 원 규모 [1]."),
    ("&lt;script&gt;alert(1)&lt;/script&gt;값 [2].", "alert(1) 값 [2]."),
    ("<<b>img src=x onerror=alert(1)>값", "값"),
    ("![x](javascript:alert(1)) 링크 [펀드](http://evil.example) [1].", "x 링크 펀드 [1]."),
    ("영화 <기생충> 수상 [1].", "영화 〈기생충〉 수상 [1]."),
    ("제어\u0000문자\u202e [1].", "제어문자 [1]."),
    ("첫째 [1].\n\n  \n둘째 [2].", "첫째 [1].\n둘째 [2]."),  # line breaks kept, blank lines dropped
    ("탭\t사이 [1].", "탭 사이 [1]."),  # a tab is a space, not a control character to delete
])
def test_markup_is_removed_and_words_kept(raw: str, clean: str):
    assert plain_text(raw) == clean
    assert plain_text(clean) == clean  # already plain: unchanged
