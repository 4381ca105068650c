"""PDFs built to stall a text extractor, or to test what it decodes, for tests and bench/reader_stalls.py."""

from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject, StreamObject,
                           TextStringObject)


def hostile_pdf(pages: int, operators: int, form_calls: int = 0) -> bytes:
    """Every page draws the same stream of `operators` text operators — itself, or as a form it calls
    `form_calls` times — so pypdf parses the stream anew on each page and at each call."""
    writer = PdfWriter()
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(_helvetica())})
    text = b"BT /F1 12 Tf 72 720 Td (a) Tj ET\n" * operators
    resources = DictionaryObject({NameObject("/Font"): fonts})
    if form_calls:
        form = writer._add_object(stream(text, Type=NameObject("/XObject"), Subtype=NameObject("/Form"),
                                         BBox=ArrayObject([FloatObject(0), FloatObject(0), FloatObject(595),
                                                           FloatObject(842)]),
                                         Resources=DictionaryObject({NameObject("/Font"): fonts})))
        resources[NameObject("/XObject")] = DictionaryObject({NameObject("/X1"): form})
        shared = writer._add_object(stream(b"/X1 Do\n" * form_calls))
    else:
        shared = writer._add_object(stream(text))
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = shared
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def drawing_pdf(operators: int) -> bytes:
    """One page of `operators` line-drawing operators (a chart, a map) and no text operator; its
    resources name a font, as a chart's labels would (pypdf reads nothing of a page without any)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(_helvetica())})})
    page[NameObject("/Contents")] = writer._add_object(stream(b"10 10 m 20 20 l S\n" * operators))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stream(data: bytes, **entries) -> StreamObject:
    """A Flate-compressed stream with these dictionary entries."""
    made = StreamObject()
    made.set_data(zlib.compress(data))
    made[NameObject("/Filter")] = NameObject("/FlateDecode")
    for key, value in entries.items():
        made[NameObject(f"/{key}")] = value
    return made


def _helvetica() -> DictionaryObject:
    return DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})


def korean_cmap_pdf(encoding: str, text: str, codec: str, codes: bytes | None = None) -> bytes:
    """One line of `text` in a Korean font the PDF names but does not embed (HYSMyeongJo-Medium, Adobe-Korea1)
    under the predefined CMap `encoding`, its codes `codec` bytes, with no ToUnicode map: how Acrobat
    Distiller wrote Korean with the Asian font pack. `codes`: these bytes in the string instead."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    system = DictionaryObject({NameObject("/Registry"): TextStringObject("Adobe"),
                               NameObject("/Ordering"): TextStringObject("Korea1"),
                               NameObject("/Supplement"): NumberObject(2)})
    cid = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType0"),
                            NameObject("/BaseFont"): NameObject("/HYSMyeongJo-Medium"),
                            NameObject("/CIDSystemInfo"): system})
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
                             NameObject("/BaseFont"): NameObject("/HYSMyeongJo-Medium"),
                             NameObject("/Encoding"): NameObject(encoding),
                             NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid)])})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    page[NameObject("/Contents")] = writer._add_object(
        stream(f"BT /F1 12 Tf 72 720 Td <{(codes or text.encode(codec)).hex()}> Tj ET".encode("ascii")))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def latin_pdf(lines: list[str]) -> bytes:
    """One page of `lines`, one below the other, in Helvetica with the WinAnsi encoding (accented Latin
    letters, as a French or German name in an English release)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = _helvetica()
    font[NameObject("/Encoding")] = NameObject("/WinAnsiEncoding")
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    shown = b"".join(b"BT /F1 12 Tf 72 %d Td (%s) Tj ET\n" % (720 - 14 * i, line.encode("cp1252"))
                     for i, line in enumerate(lines))
    page[NameObject("/Contents")] = writer._add_object(stream(shown))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
