"""A small .odt written the way LibreOffice writes one (mimetype first and stored, a manifest, content.xml
with headings, spans, spaces, a list, a table with a header row, a frame's text box, a footnote, a comment
and a tracked deletion, meta.xml with the title); rag/odt.py was also checked on textract's .odt files."""

from __future__ import annotations

import io
import zipfile

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/"')
MANIFEST = ('<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>{extra}'
            '</manifest:manifest>')


def odt(body: str, title: str = "", encrypted: bool = False) -> bytes:
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}><office:body><office:text>{body}</office:text></office:body></office:document-content>'
    meta = f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {NS}><office:meta><dc:title>{title}</dc:title></office:meta></office:document-meta>'
    extra = '<manifest:encryption-data manifest:checksum-type="SHA1/1K"/>' if encrypted else ""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")  # stored, first
        package.writestr("META-INF/manifest.xml", MANIFEST.format(extra=extra))
        package.writestr("content.xml", content)
        package.writestr("meta.xml", meta)
    return out.getvalue()


def cell(*paragraphs: str, repeated: int = 1) -> str:
    spans = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    attribute = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    return f"<table:table-cell{attribute}>{spans}</table:table-cell>"


def table(*rows: str) -> str:
    return "<table:table>" + "".join(f"<table:table-row>{r}</table:table-row>" for r in rows) + "</table:table>"


RELEASE = odt(
    '<text:h text:outline-level="1">새누리기계, 협력사 납품대금 조기 지급</text:h>'
    "<text:p>배포일시: 2024년 5월 2일</text:p>"
    '<text:p>새누리기계는 <text:span text:style-name="T1">협력사 120곳에</text:span><text:s text:c="2"/>납품대금 350억 원을'
    '<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>'
    "<text:p>각주: 지급일은 명절 닷새 전이다.</text:p></text:note-body></text:note>"
    "<text:line-break/>명절 전에 앞당겨 지급한다고 2일 밝혔다.</text:p>"
    '<text:list><text:list-item><text:p>지급 대상: 1차와 2차 협력사</text:p></text:list-item></text:list>'
    + table(cell("구분") + cell("협력사 수") + cell("금액"), cell("1차 협력사") + cell("80곳") + cell("270억 원"),
            cell("2차 협력사") + cell("40곳") + cell("80억", "원"))
    + '<text:p>정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.'
    '<office:annotation><text:p>메모: 인용 확인</text:p></office:annotation>'
    '<draw:frame><draw:text-box><text:p>상자 속 문의처: 상생협력팀</text:p></draw:text-box></draw:frame></text:p>'
    '<text:tracked-changes><text:changed-region><text:deletion><text:p>지운 문장이다.</text:p></text:deletion>'
    "</text:changed-region></text:tracked-changes>",
    title="새누리기계, 협력사 납품대금 조기 지급")
