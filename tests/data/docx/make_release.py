"""Writes saenuri_release.docx with python-docx (not a project dependency: run it in a venv of its own).

    python -m venv /tmp/docx-venv && /tmp/docx-venv/bin/pip install python-docx==1.2.0
    /tmp/docx-venv/bin/python tests/data/docx/make_release.py
A made-up press release (no real company): a title, a date line, a paragraph of two runs, a table
with a header row, a tracked deletion, a running header and footer.
"""

from pathlib import Path

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

doc = Document()
doc.core_properties.title = "새누리기계, 협력사 납품대금 조기 지급"
doc.sections[0].header.paragraphs[0].text = "새누리기계 보도자료"
doc.sections[0].footer.paragraphs[0].text = "- 1 -"
doc.add_heading("새누리기계, 협력사 납품대금 조기 지급", level=1)
doc.add_paragraph("배포일시: 2024년 5월 2일")
body = doc.add_paragraph("새누리기계는 협력사 120곳에 납품대금 350억 원을 ")
body.add_run("명절 전에 앞당겨 지급한다고 2일 밝혔다.")
deleted = OxmlElement("w:del")  # a tracked deletion: its text is not the document's
deleted.set(qn("w:id"), "1")
deleted.set(qn("w:author"), "편집자")
run = OxmlElement("w:r")
text = OxmlElement("w:delText")
text.text = " 지운 문장이다."
run.append(text)
deleted.append(run)
body._p.append(deleted)
table = doc.add_table(rows=3, cols=3)
for row, cells in zip(table.rows, [["구분", "협력사 수", "금액"], ["1차 협력사", "80곳", "270억 원"],
                                   ["2차 협력사", "40곳", "80억 원"]]):
    for cell, value in zip(row.cells, cells):
        cell.text = value
doc.add_paragraph('정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.')
doc.save(Path(__file__).with_name("saenuri_release.docx"))
