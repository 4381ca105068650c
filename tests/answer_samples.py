"""Articles, hits and evidence shared by the answer-layer tests (evidence, citations, extractive, grounding)."""

from __future__ import annotations

from rag.evidence import select_evidence
from rag.types import Article, Chunk, Evidence, Hit

INNOTEK = Article(
    doc_id="001_innotek.txt",
    title="LG이노텍, 협력사 상생으로 고객경험 혁신할 것",
    date="2022-09-21",
    text=(
        "LG이노텍, 협력사 상생으로 고객경험 혁신할 것\n\n"
        "LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다. "
        "코로나19로 경영난을 겪는 협력사를 돕기 위해 2020년, 기존 630억 원에서 400억원을 증액해 지원하고 있다.\n\n"
        "정철동 LG이노텍 사장도 이날 협력사와 대화에 적극 나서며 소통을 강화했다. "
        "지난해 1,300여명의 협력사 임직원들을 대상으로 직무역량 교육을 실시했다."
    ),
)
KT = Article(
    doc_id="004_kt.txt",
    title="KT, 중소 협력사와 5G 생태계 조성",
    date="2018-11-20",
    text=(
        "KT는 20일 서울 서초구 더케이호텔에서 2018년도 파트너스 데이를 개최했다. "
        "총 1000억원 규모의 상생협력펀드 대출 지원을 시행할 방침이다. "
        "상생결재('23. 2차사 이하 1.1조원) 실적도 소개됐다."
    ),
)
ARTICLES = {a.doc_id: a for a in (INNOTEK, KT)}


TABLE = Article(
    doc_id="003_table.txt",
    title="오영주 장관, 상생협력 우수 기업을 만나 의견 청취",
    date="2024-11-28",
    text=(
        "연번 구분 기관 비고\n"
        "1 대기업 LG전자 · 동반성장지수 최우수(8회) · 상생결재('23. 2차사 이하 1.1조원)\n"
        "3 현대자동차 · 동반성장지수 최우수(5년 연속) · 제3기 원원 아너스\n"
        "4 롯데건설 · 동반성장지수 최우수('23, 신규)"
    ),
)


def table_hit() -> Hit:
    text = TABLE.text
    return Hit(Chunk(chunk_id="003#0", doc_id=TABLE.doc_id, text=text, start=0, end=len(text), title=TABLE.title,
                     date=TABLE.date), score=0.8, rank=1)


def chunk_of(article: Article, first: str, last: str) -> Chunk:
    """The exact article span from the sentence starting with `first` to the one ending with `last`."""
    start = article.text.index(first)
    end = article.text.index(last) + len(last)
    return Chunk(chunk_id=f"{article.doc_id}#{start}", doc_id=article.doc_id, text=article.text[start:end],
                 start=start, end=end, title=article.title, date=article.date)


def hits() -> list[Hit]:
    return [
        Hit(chunk_of(INNOTEK, "LG이노텍은 금융", "지원하고 있다."), score=0.9, rank=1),
        Hit(chunk_of(INNOTEK, "정철동", "실시했다."), score=0.7, rank=2),
        Hit(chunk_of(KT, "KT는 20일", "실적도 소개됐다."), score=0.5, rank=3),
    ]


def evidence(korean: KoreanText, question: str = "LG이노텍의 동반성장 펀드 규모는?") -> list[Evidence]:
    return select_evidence(question, hits(), ARTICLES.get, korean, max_evidence=8, max_chars=2000)


def number_of(ev: list[Evidence], fragment: str) -> int:
    return next(e.n for e in ev if fragment in e.text)


# an archive where one article names 대성반도체 (with an amount, so no rule refuses its questions) and another
# article answers a question about it with its own company's figure
PAY = Article(doc_id="pay.txt", title="한빛전자, 협력사 납품대금 조기 지급", date="2025-01-20",
              text="한빛전자는 설 명절을 맞아 중소 협력사 납품대금 160억원을 조기 지급했다. 지난해 조기 지급한 대금은 1310억원이었다.")
OTHER = Article(doc_id="other.txt", title="반도체 업계 소식", date="2025-01-10",
                text="대성반도체는 올해 시설 투자에 300억원을 쓴다. 회사는 새 공장을 짓는다.")
UNNAMED_ARCHIVE = {a.doc_id: a for a in (PAY, OTHER)}
ASKED_OF_ANOTHER = "대성반도체가 협력사에 조기 지급한 납품대금은 얼마인가?"  # answered from PAY, which never names it


def archive_hits(question: str, k: int) -> list[Hit]:
    """Both articles of UNNAMED_ARCHIVE, one chunk each, PAY first, whatever is asked."""
    return [Hit(Chunk(chunk_id=f"{a.doc_id}#0", doc_id=a.doc_id, text=a.text, start=0, end=len(a.text),
                      title=a.title, date=a.date), score=0.7 - 0.1 * i, rank=i + 1)
            for i, a in enumerate(UNNAMED_ARCHIVE.values())][:k]
