"""The Spanish edition is a twin of the English one: every lesson has a Spanish copy whose code is
the same once comments, string literals and whitespace are ignored (the parameters cell's values may
differ), so that a fix to a lesson cannot skip its twin. Change both when you change one."""

import io
import json
import re
import token
import tokenize
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ENGLISH = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SPANISH = sorted((NOTEBOOKS / "es").glob("[0-9][0-9]_*.ipynb"))
# Python 3.12 splits f-strings into several tokens; before it, an f-string is one STRING token.
FSTRING_START, FSTRING_END = getattr(token, "FSTRING_START", None), getattr(token, "FSTRING_END", None)
LAYOUT = {token.NEWLINE, token.NL, token.INDENT, token.DEDENT, token.COMMENT, token.ENDMARKER}


def code_tokens(source: str) -> list[str]:
    """The code of a cell without comments, string literals (f-strings whole) and layout."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # magics
    kept, depth = [], 0
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type == FSTRING_START:
            depth += 1
        elif tok.type == FSTRING_END:
            depth -= 1
        elif depth == 0 and tok.type not in LAYOUT and tok.type != token.STRING:
            kept.append(tok.string)
    return kept


def parameter_names(source: str) -> list[str]:
    """The names a parameters cell assigns, in order: their values may differ between editions."""
    names = []
    for line in source.splitlines():
        head = line.split("#", 1)[0]
        if "=" in head and not line.startswith((" ", "\t")) and head.split("=", 1)[0].strip().isidentifier():
            names.append(head.split("=", 1)[0].strip())
    return names


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def twin(english: Path) -> Path | None:
    return next((p for p in SPANISH if p.name[:3] == english.name[:3]), None)


def test_the_comparison_ignores_exactly_comments_strings_and_layout():
    a = 'x = f"{n} películas"  # comentario\nprint("hola", x)\n'
    b = 'x = f"{n} movies"\n\n\nprint( "hello",  x )  # comment\n'
    assert code_tokens(a) == code_tokens(b)
    assert code_tokens("print(a + b)") != code_tokens("print(a - b)")
    assert code_tokens("k = 10") != code_tokens("k = 11")
    assert parameter_names('EMBEDDINGS = "movies"  # data\nK = 5\nWORDS = [\n    "dog",\n]\n') == [
        "EMBEDDINGS", "K", "WORDS",
    ]  # fmt: skip


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.stem)
def test_every_lesson_has_a_spanish_twin(english):
    assert twin(english), f"notebooks/es/ has no lesson {english.name[:2]}: translate {english.name}"


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.stem)
def test_the_twins_run_the_same_code(english):
    spanish = twin(english)
    if spanish is None:
        pytest.fail(f"notebooks/es/ has no lesson {english.name[:2]}")
    en, es = code_cells(english), code_cells(spanish)
    assert len(en) == len(es), f"{english.name} has {len(en)} code cells, {spanish.name} has {len(es)}"
    for i, (a, b) in enumerate(zip(en, es, strict=True)):
        if "parameters" in a.get("metadata", {}).get("tags", []):
            assert "parameters" in b.get("metadata", {}).get("tags", []), f"code cell {i} of {spanish.name}"
            assert parameter_names(source(a)) == parameter_names(source(b)), f"parameters of {spanish.name}"
            continue
        assert code_tokens(source(a)) == code_tokens(source(b)), (
            f"code cell {i} differs between {english.name} and {spanish.name} (beyond comments and strings):\n"
            f"{source(a)}\n---\n{source(b)}"
        )


def test_no_spanish_lesson_without_an_english_one():
    english = {p.name[:3] for p in ENGLISH}
    assert [p.name for p in SPANISH if p.name[:3] not in english] == []


# ---------------------------------------------------------------- one glossary (notebooks/es/GLOSARIO.md)

# Forms the glossary rules out, in the prose and the outputs of the Spanish lessons (code aside: names
# like embeddings_helper are Python, not Spanish).
DISCARDED = {
    r"\bexhaustividad\b": "recall (la búsqueda exhaustiva es otra cosa)",
    r"\brepuntu": "reordenar con los vectores completos",
    r"\bpuntuaci[oó]n": "puntaje",
    r"\bhelper\b": "paquete auxiliar",
    r"\bnotebooks?\b": "cuaderno",
    r"\blongitud\b": "magnitud (norma) o número de dimensiones",
    r"\bancho\b": "número de dimensiones",
    r"\b(similitud|distancia)\s+del\s+coseno\b": "similitud coseno, distancia coseno",
    r"\bde a una?\b": "de una en una (español neutro)",
    r"\bordenador\b|\bm[oó]vil(es)?\b|\bcoche\b|\bzumo\b|\bpatata\b": "vocabulario de data/VOCABULARIO.md",
}


def prose_and_outputs(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    parts = []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            parts.append(re.sub(r"`[^`]*`|\([^)]*\)\]|\]\([^)]*\)", " ", source(cell)))  # inline code, links
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else str(text))
    return "\n".join(parts)


@pytest.mark.parametrize("spanish", SPANISH, ids=lambda p: p.name)
def test_the_spanish_lessons_follow_the_glossary(spanish):
    text = prose_and_outputs(spanish)
    for pattern, instead in DISCARDED.items():
        found = re.search(pattern, text, re.IGNORECASE)
        assert not found, f"{spanish.name}: «{found.group(0)}» — el glosario dice: {instead}"


@pytest.mark.parametrize("spanish", SPANISH, ids=lambda p: p.name)
def test_the_spanish_lessons_print_si_and_no_not_true_and_false(spanish):
    cells = json.loads(spanish.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            assert not re.search(r"\b(True|False)\b", text), f"{spanish.name}: {text[:120]!r}"


@pytest.mark.parametrize("name", ["03_busqueda.ipynb", "05_cuantizacion.ipynb", "06_reduccion_de_dimensiones.ipynb",
                                  "07_base_de_datos_vectorial.ipynb"])
def test_the_spanish_lessons_measure_search_on_spanish_texts(name):
    """es/03, es/05, es/06 and es/07 measure on the collection's Spanish texts, which es/03 and es/05 read with
    the multilingual model (the static model, English-trained, makes Spanish texts look alike)."""
    cells = json.loads((NOTEBOOKS / "es" / name).read_text(encoding="utf-8"))["cells"]
    parameters = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    values = {}
    exec("".join(parameters["source"]), values)
    assert values["COLLECTION"] == "es"
