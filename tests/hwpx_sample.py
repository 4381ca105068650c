"""A small .hwpx written the way Hancom Office writes one (mimetype first and stored, the package's
content.hpf with its spine, sections of hp:p > hp:run > hp:t, a table, a running header and footer in
a control, a line break inside a text run). rag.hwpx was checked against documents Hangul itself saved
(hwpxlib's test files: a news article, a table, a header and footer); those are not ours to ship."""

from __future__ import annotations

import io
import zipfile

NS = ('xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" '
      'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
      'xmlns:opf="http://www.idpf.org/2007/opf/"')


def paragraph(*texts: str, inner: str = "") -> str:
    runs = "".join(f'<hp:run charPrIDRef="0"><hp:t>{t}</hp:t></hp:run>' for t in texts)
    return (f'<hp:p id="0" paraPrIDRef="0" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">{runs}{inner}'
            '<hp:linesegarray><hp:lineseg textpos="0" vertpos="0" vertsize="1000" textheight="1000" baseline="850" '
            'spacing="600" horzpos="0" horzsize="42520" flags="393216"/></hp:linesegarray></hp:p>')


def table(rows: list[list[str]]) -> str:
    cells = "".join("<hp:tr>" + "".join(f'<hp:tc><hp:subList>{paragraph(c)}</hp:subList></hp:tc>' for c in row)
                    + "</hp:tr>" for row in rows)
    return f'<hp:run charPrIDRef="0"><hp:tbl rowCnt="{len(rows)}" colCnt="{len(rows[0])}">{cells}</hp:tbl></hp:run>'


def header_footer(header: str, footer: str) -> str:
    return ('<hp:run charPrIDRef="0"><hp:ctrl>'
            f'<hp:header id="1" applyPageType="BOTH"><hp:subList>{paragraph(header)}</hp:subList></hp:header></hp:ctrl>'
            f'<hp:ctrl><hp:footer id="2" applyPageType="BOTH"><hp:subList>{paragraph(footer)}</hp:subList></hp:footer>'
            '</hp:ctrl></hp:run>')


def section(*paragraphs: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hs:sec {NS}>{"".join(paragraphs)}</hs:sec>'


def hwpx(sections: list[str], title: str = "", spine: list[int] | None = None) -> bytes:
    order = spine if spine is not None else list(range(len(sections)))
    items = "".join(f'<opf:item id="section{i}" href="Contents/section{i}.xml" media-type="application/xml"/>'
                    for i in range(len(sections)))
    refs = "".join(f'<opf:itemref idref="section{i}" linear="yes"/>' for i in order)
    package = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><opf:package {NS} version="" id="">'
               f'<opf:metadata><opf:title>{title}</opf:title><opf:language>ko</opf:language></opf:metadata>'
               f'<opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>{items}'
               f'</opf:manifest><opf:spine><opf:itemref idref="header" linear="yes"/>{refs}</opf:spine></opf:package>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("Contents/content.hpf", package, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("Contents/header.xml", f"<hh:head {NS}/>".replace("xmlns:hp", "xmlns:hh=\"x\" xmlns:hp", 1),
                         compress_type=zipfile.ZIP_DEFLATED)
        for i, xml in enumerate(sections):
            archive.writestr(f"Contents/section{i}.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


RELEASE = hwpx([
    section(paragraph("새누리기계, 협력사 납품대금 조기 지급", inner=header_footer("새누리기계 보도자료", "- 1 -")),
            paragraph("배포일시: 2024년 5월 2일"),
            paragraph("새누리기계는 협력사 120곳에 납품대금 350억 원을 ", "명절 전에 앞당겨 지급한다고 2일 밝혔다."),
            paragraph("□ 지급 내용")),
    section(table([["구분", "협력사 수", "금액"], ["1차 협력사", "80곳", "270억 원"], ["2차 협력사", "40곳", "80억 원"]]),
            paragraph('정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.<hp:lineBreak/>문의는 상생협력팀으로 하면 된다.')),
], title="새누리기계, 협력사 납품대금 조기 지급")


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    """A deflated zip of these members, in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
