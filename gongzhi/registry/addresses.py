"""The parts of a standard address as they are stored, whoever wrote them (a form or an import): the door, building,
unit and room numbers without the words people add to them (12号 → 12, 3号楼 → 3, 2单元 → 2, 301室 → 301), so the
same address is the same natural key; and the label composed from the parts (幸福路12号3栋2单元301室)."""

SUFFIXES = {"number": ("号",), "building": ("号楼", "栋", "幢", "楼"), "unit_no": ("单元",), "room": ("室",)}
LABEL_WORDS = {"number": "号", "building": "栋", "unit_no": "单元", "room": "室"}


def bare(name: str, text: str) -> str:
    """`text` (already trimmed) without the word that names its part, unless that word is all there is."""
    for suffix in SUFFIXES.get(name, ()):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def compose_label(road: str, number: str = "", building: str = "", unit_no: str = "", room: str = "") -> str:
    """A part ending in a letter or digit gets its word (12 → 12号); one ending in another word keeps it as written
    (A座, 东侧)."""
    parts = {"number": number, "building": building, "unit_no": unit_no, "room": room}
    return (road + "".join(value + (LABEL_WORDS[name] if value[-1].isascii() and value[-1].isalnum() else "")
                           for name, value in parts.items() if value))[:200]
