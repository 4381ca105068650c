"""English questions over Korean articles: the domain words whose Korean spelling decides the passage.

An English question shares no words with a Korean article, so keyword search, evidence selection and
the refusal checks see nothing but its numbers. `korean_glosses` maps the question's domain words and
company names to the Korean forms the articles use; callers append them to the question's terms.

    >>> korean_glosses("How large is LG Innotek's shared growth fund?")
    ['LG이노텍', '동반성장', '펀드', '기금', '성장']

The list is a glossary of large-company / SME partnership news (상생협력, 동반성장), not of any one
article: organizations that appear in such news, programs, and the nouns and verbs of the field.
"""

from __future__ import annotations

import re

# (English pattern, Korean forms). Names of organizations first: a name is what a question is about.
_ORGANIZATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"LG\s*Electronics", ("LG전자",)),
    (r"LG\s*Innotek", ("LG이노텍",)),
    (r"LG\s*U(?:plus|\+)", ("LG유플러스",)),
    (r"LG\s*Display", ("LG디스플레이",)),
    (r"LG\s*Chem", ("LG화학",)),
    (r"SK\s*Telecom|\bSKT\b", ("SK텔레콤",)),
    (r"SK\s*hynix", ("SK하이닉스",)),
    (r"SK\s*ecoplant", ("SK에코플랜트",)),
    (r"Samsung\s*Electronics", ("삼성전자",)),
    (r"Samsung", ("삼성",)),
    (r"Hyundai\s*Motor", ("현대자동차",)),
    (r"\bKia\b", ("기아",)),
    (r"Lotte\s*(?:E&C|Engineering|Construction)", ("롯데건설",)),
    (r"\bPOSCO\b", ("포스코",)),
    (r"Naver", ("네이버",)),
    (r"Kakao", ("카카오",)),
    (r"Nongshim", ("농심",)),
    (r"Korea\s*Western\s*Power", ("한국서부발전",)),
    (r"Ministry\s*of\s*SMEs|SMEs\s*and\s*Startups|\bMSS\b", ("중소벤처기업부",)),
    (r"Commission\s*for\s*Corporate\s*Partnership|Shared\s*Growth\s*Commission|\bKCCP\b", ("동반성장위원회",)),
    (r"Korea\s*Federation\s*of\s*SMEs|\bKBIZ\b", ("중소기업중앙회",)),
    (r"Technology\s*Guarantee\s*Fund|\bKIBO\b", ("기술보증기금",)),
)

# Nouns and verbs of the field.
_TERMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"suppliers?|subcontractors?|partner\s*(?:compan(?:y|ies)|firms?)|vendors?", ("협력사",)),
    (r"\bpartners?\b", ("협력사", "파트너")),
    (r"small\s*(?:and\s*medium|business|compan|firm)|\bSMEs?\b", ("중소기업",)),
    (r"mid-?sized|middle-?market", ("중견기업",)),
    (r"large\s*(?:compan|corporat|firm)|conglomerate", ("대기업",)),
    (r"public\s*(?:institution|agenc|enterprise)", ("공공기관",)),
    (r"win-?win", ("상생", "원원")),
    (r"shared\s*growth|mutual\s*growth", ("동반성장",)),
    (r"cooperation|collaborat", ("협력", "상생협력")),
    (r"shared\s*growth\s*index|partnership\s*index", ("동반성장지수",)),
    (r"honou?rs", ("아너스",)),
    (r"\bfunds?\b", ("펀드", "기금")),
    (r"budget", ("예산", "사업비")),
    (r"loans?", ("대출",)),
    (r"early\s*pay|paid?\s*early|advance\s*payment", ("조기", "조기지급")),
    (r"payments?|\bpay\b|\bpaid\b", ("지급", "대금")),
    (r"\bprice|proceeds|delivery\s*(?:fee|payment)", ("납품대금",)),
    (r"contribut|invest", ("출연", "투자")),
    (r"joint\s*R\s*&\s*D|joint\s*research", ("공동", "연구개발")),
    (r"\bR\s*&\s*D\b|research\s*and\s*development", ("연구개발",)),
    (r"each\s*year|per\s*year|annual(?:ly)?|yearly|a\s*year", ("연간", "매년")),
    (r"\bwages?\b|\bpay\s*gap|salar", ("임금",)),
    (r"welfare", ("복지",)),
    (r"training|education", ("교육",)),
    (r"smart\s*factor", ("스마트공장",)),
    (r"technology|technical", ("기술",)),
    (r"award(?:ed)?|prize", ("상", "시상")),
    (r"grand\s*prize", ("대상",)),
    (r"top\s*(?:rating|grade)|excellent\s*(?:rating|grade)|highest\s*(?:rating|grade)", ("최우수",)),
    (r"ratings?|grades?", ("등급",)),
    (r"\bCEO\b|chief\s*executive", ("최고경영자", "CEO", "대표")),
    (r"\bpresident\b", ("사장",)),
    (r"\bchairman\b", ("회장",)),
    (r"representatives?|heads?\s*of", ("대표",)),
    (r"minister", ("장관",)),
    (r"executives?", ("경영진", "임원")),
    (r"employees?|staff", ("임직원", "직원")),
    (r"attend|participat|took\s*part", ("참석", "참여")),
    (r"workshop", ("워크숍",)),
    (r"convention", ("컨벤션",)),
    (r"meeting|roundtable|round-table|conference", ("간담회", "회의")),
    (r"ceremony", ("행사", "협약식")),
    (r"agreement|\bMOU\b|\bpact\b", ("협약", "업무협약")),
    (r"held|hosted|host", ("개최", "열다")),
    (r"solution", ("솔루션",)),
    (r"vehicle\s*control|fleet\s*management", ("차량", "관제")),
    (r"commerciali[sz]|launch", ("상용화",)),
    (r"\b5G\b", ("5G",)),
    (r"digital\s*transformation|\bDX\b", ("디지털전환", "DX")),
    (r"Lunar\s*New\s*Year|Seollal", ("설",)),
    (r"Chuseok|harvest\s*festival", ("추석",)),
    (r"holiday", ("명절",)),
    (r"growth", ("성장",)),
    (r"sales|revenue", ("매출",)),
    (r"cases?|examples?|best\s*practice", ("사례",)),
    (r"program", ("프로그램",)),
    (r"\bbuilding\b", ("빌딩",)),
)

_NAMES = tuple((re.compile(pattern, re.IGNORECASE), forms) for pattern, forms in _ORGANIZATIONS)
_COMPILED = _NAMES + tuple((re.compile(pattern, re.IGNORECASE), forms) for pattern, forms in _TERMS)


def korean_glosses(text: str) -> list[str]:
    """The Korean forms of the domain words in an English `text`, in glossary order, no repeats."""
    return _forms(text, _COMPILED)


def korean_names(text: str) -> list[str]:
    """Only the organizations: what the refusal check requires the articles to mention."""
    return _forms(text, _NAMES)


def _forms(text: str, table: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]) -> list[str]:
    out: list[str] = []
    for pattern, forms in table:
        if pattern.search(text):
            out.extend(f for f in forms if f not in out)
    return out


def mostly_latin(text: str) -> bool:
    """An English (or other Latin-script) question: more than twice as many Latin letters as Hangul."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    hangul = sum(1 for c in text if "가" <= c <= "힣")
    return latin > 2 * hangul


def with_glosses(text: str) -> str:
    """An English `text` followed by its Korean glosses, for term-based matching; Korean text unchanged."""
    if not mostly_latin(text):
        return text
    glosses = korean_glosses(text)
    return f"{text} {' '.join(glosses)}" if glosses else text
