"""Tutorial notebooks: run them headlessly, and keep the Chinese copies in step with the English.

The English notebooks in ``notebooks/en/`` are the source. Each has a gettext catalogue per
language, ``notebooks/locale/<lang>/NN_name.po``: one entry per markdown cell (``msgctxt`` = the
cell id, ``msgid`` = the cell's exact English source, ``msgstr`` = the translated Markdown).
``notebooks/<lang>/NN_name.ipynb`` is generated from both: code cells copied unchanged, markdown
replaced by its translation, no outputs. Commands (``python -m radnb translate ...``):

- ``update``: refresh the catalogues from the English notebooks and list the cells to translate;
- ``build``: write the translated notebooks;
- ``check``: list what is untranslated or out of date (what the tests check).

Code cells are the same in every language; what they print or draw in words goes through
``radnb.say`` / ``radnb.tr``, whose texts are in radnb's own catalogue
(``radnb/locale/<lang>/LC_MESSAGES/radnb.po``, refreshed by ``./dev.sh messages``, which reads
the English notebooks' code cells with :func:`extract_ipynb`).
"""
from __future__ import annotations

import copy
import re
import time
from pathlib import Path

__all__ = [
    "list_notebooks", "execute_notebook", "insert_solutions", "update_catalogue",
    "translate_notebook", "build_translation", "translation_problems", "extract_ipynb",
]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
SOURCE_LANGUAGE = "en"
TRANSLATIONS = ("zh",)
LANGUAGES = (SOURCE_LANGUAGE, *TRANSLATIONS)
LOCALES = {"zh": "zh_CN"}
UPDATE_COMMAND = "python -m radnb translate update"
BUILD_COMMAND = "python -m radnb translate build"
#: In a <details> solution, this comment keeps its code out of the test run (say why after it).
NOT_RUN = "<!-- solution not run:"
_SOLUTION = re.compile(r"<details>(.*?)</details>", re.S)
_PYTHON_BLOCK = re.compile(r"^[ \t]*```python[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.S | re.M)


def list_notebooks(folder=None, language: str = SOURCE_LANGUAGE) -> list[Path]:
    """Return the tutorial notebooks (``NN_name.ipynb``) in order.

    Parameters
    ----------
    folder : str or Path, optional
        Folder to list; default ``notebooks/<language>/`` of the repository.
    language : {"en", "zh"}
        Which language's folder to list when ``folder`` is not given.

    Examples
    --------
    >>> [p.name for p in list_notebooks()][:1]
    ['00_welcome.ipynb']
    """
    folder = Path(folder) if folder is not None else NOTEBOOK_DIR / language
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def insert_solutions(nb):
    """Return a copy of ``nb`` with each ``<details>`` solution's python code as a cell after it.

    Used on the executed copy only, so the exercises' solutions are tested too. A solution
    that contains ``<!-- solution not run: REASON -->`` is skipped.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
    ...     "<details>\\n\\n```python\\nx = 1\\n```\\n</details>")])
    >>> [c.source for c in insert_solutions(nb).cells if c.cell_type == "code"]
    ['x = 1']
    """
    import nbformat

    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        cells.append(cell)
        if cell.cell_type != "markdown":
            continue
        for block in _SOLUTION.findall(cell.source):
            if NOT_RUN in block:
                continue
            code = "\n".join(c.rstrip("\n") for c in _PYTHON_BLOCK.findall(block))
            if code.strip():
                new = nbformat.v4.new_code_cell(code)
                new.metadata["radnb_solution_of"] = cell.get("id", "")
                cells.append(new)
    out.cells = cells
    return out


def execute_notebook(path, *, timeout: int = 600, html_dir=None, kernel_name: str = "python3",
                     with_solutions: bool = False):
    """Run a notebook top to bottom in a fresh kernel (working directory: its folder).

    Parameters
    ----------
    path : str or Path
    timeout : int
        Seconds allowed per cell.
    html_dir : str or Path, optional
        If given, write the executed notebook there as ``<name>.html``.
    kernel_name : str
    with_solutions : bool
        Also run each exercise's solution, right after the exercise (see `insert_solutions`).

    Returns
    -------
    dict
        ``{"notebook": name, "seconds": elapsed, "html": path or None, "nb": executed}``

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        With the failing cell's traceback.

    Examples
    --------
    >>> execute_notebook("notebooks/zh/00_welcome.ipynb")["seconds"] > 0  # doctest: +SKIP
    True
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if with_solutions:
        nb = insert_solutions(nb)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    html = None
    if html_dir is not None:
        from nbconvert import HTMLExporter

        html_dir = Path(html_dir)
        html_dir.mkdir(parents=True, exist_ok=True)
        body, _ = HTMLExporter().from_notebook_node(nb)
        html = html_dir / f"{path.stem}.html"
        from radnb._utils.files import atomic_write

        with atomic_write(html, "w", encoding="utf-8") as fh:
            fh.write(body)
    return {"notebook": path.name, "seconds": elapsed, "html": html, "nb": nb}


# ------------------------------------------------------------------------------ translations
def _check_language(language):
    if language not in TRANSLATIONS:
        raise ValueError(f"language must be one of {list(TRANSLATIONS)}; got {language!r}. "
                         "Add a new language to TRANSLATIONS in radnb/_notebooks.py first.")


def catalogue_path(source, language: str = "zh", root=None) -> Path:
    """``notebooks/locale/<language>/NN_name.po`` for the English notebook ``source``."""
    root = Path(root) if root is not None else Path(source).resolve().parents[1]
    return root / "locale" / language / f"{Path(source).stem}.po"


def _markdown(nb):
    return [(c.id, c.source) for c in nb.cells if c.cell_type == "markdown"]


def _read_catalogue(po_path, language):
    from babel.messages.pofile import read_po

    try:
        with open(po_path, "rb") as fh:
            return read_po(fh, locale=LOCALES[language])
    except FileNotFoundError:
        return None


def _translated(message) -> bool:
    return bool(message is not None and message.string and not message.fuzzy)


def update_catalogue(source, po_path=None, language: str = "zh") -> list[str]:
    """Create or refresh the catalogue of one English notebook; return the cells to translate.

    A translation is kept when its cell's English source is unchanged (a cell whose id changed
    keeps it too). When the English changed, the old translation stays as a *fuzzy* entry with
    the previous English in a ``#. previous English:`` comment, so the translator sees what changed; fuzzy and empty
    entries count as untranslated. Entries of deleted cells are kept as obsolete (``#~``).

    Parameters
    ----------
    source : str or Path
        English notebook, ``notebooks/en/NN_name.ipynb``.
    po_path : str or Path, optional
        Catalogue; default ``notebooks/locale/<language>/NN_name.po``.
    language : {"zh"}

    Returns
    -------
    list of str
        Ids of the markdown cells that still need a translation.

    Examples
    --------
    >>> update_catalogue("notebooks/en/00_welcome.ipynb")  # doctest: +SKIP
    []
    """
    import nbformat
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    _check_language(language)
    po_path = Path(po_path) if po_path is not None else catalogue_path(source, language)
    old = _read_catalogue(po_path, language)
    keep = {} if old is None else dict(
        creation_date=old.creation_date, revision_date=old.revision_date,
        header_comment=old.header_comment, last_translator=old.last_translator,
        language_team=old.language_team, fuzzy=old.fuzzy)
    new = Catalog(locale=LOCALES[language], project="radnb tutorials", charset="utf-8", **keep)
    by_id = {} if old is None else {m.id: m for m in old if m.id and _translated(m)}
    by_context = {} if old is None else {m.context: m for m in old if m.id}
    todo, used = [], set()
    for cid, src in _markdown(nbformat.read(source, as_version=4)):
        same = old.get(src, context=cid) if old is not None else None
        same = same if _translated(same) else by_id.get(src)
        if same is not None:
            new.add(src, same.string, context=cid, user_comments=same.user_comments)
            used.add(same.context)
            continue
        todo.append(cid)
        prev = by_context.get(cid)
        if prev is not None and prev.string:  # the English changed: keep the old text as a hint
            new.add(src, prev.string, context=cid, flags=("fuzzy",),
                    auto_comments=[f"previous English: {prev.id}"])
            used.add(cid)
        else:
            new.add(src, "", context=cid)
    if old is not None:
        for m in old:
            if m.id and m.context not in used and m.string and not new.get(m.id, context=m.context):
                new.obsolete[(m.id, m.context)] = m
        for key, m in old.obsolete.items():
            new.obsolete.setdefault(key, m)
    from radnb._utils.files import atomic_write

    po_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(po_path, "wb") as fh:
        for message in new:  # Babel guesses 'python-format' from a '%' in prose: not format strings
            message.flags.discard("python-format")
        # Babel folds a multi-line previous msgid ('#| msgid') into invalid lines, so the previous
        # English is written as a '#.' comment instead (dropped once the translation is current)
        write_po(fh, new, width=0, sort_output=False, include_previous=False)
    return todo


def translate_notebook(source, po_path=None, language: str = "zh", *, fallback: bool = False):
    """The translated notebook (a ``NotebookNode``) and the ids of untranslated cells.

    Code cells and their metadata are copied unchanged; markdown cells get their catalogue
    translation; outputs are cleared; ``metadata.radnb.language`` names the language.
    With ``fallback=False`` an untranslated cell raises ``ValueError``; with ``True`` it stays
    English.

    Examples
    --------
    >>> nb, missing = translate_notebook("notebooks/en/00_welcome.ipynb")  # doctest: +SKIP
    """
    import nbformat

    _check_language(language)
    po_path = Path(po_path) if po_path is not None else catalogue_path(source, language)
    cat = _read_catalogue(po_path, language)
    nb = nbformat.read(source, as_version=4)
    out = copy.deepcopy(nb)
    missing = []
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            msg = cat.get(cell.source, context=cell.id) if cat is not None else None
            if _translated(msg):
                cell.source = msg.string
            else:
                missing.append(cell.id)
    if missing and not fallback:
        raise ValueError(
            f"{Path(source).name}: markdown cells {missing} have no {language} translation in "
            f"{po_path}; run `{UPDATE_COMMAND}`, translate the entries with an empty msgstr or a "
            f"'fuzzy' flag, then `{BUILD_COMMAND}`")
    out.metadata["radnb"] = {"language": language,
                             "generated_from": f"../{SOURCE_LANGUAGE}/{Path(source).name}",
                             "generated_by": BUILD_COMMAND}
    return out, missing


def build_translation(language: str = "zh", root=None) -> dict[str, list[str]]:
    """Write ``notebooks/<language>/NN_name.ipynb`` for every English notebook.

    Untranslated cells stay English (so the notebook still runs) and are returned per
    notebook; the tests fail until they are translated.

    Examples
    --------
    >>> build_translation("zh")  # doctest: +SKIP
    {}
    """
    import nbformat

    from radnb._utils.files import atomic_write

    root = Path(root) if root is not None else NOTEBOOK_DIR
    folder = root / language
    folder.mkdir(parents=True, exist_ok=True)
    problems = {}
    for source in list_notebooks(root / SOURCE_LANGUAGE):
        nb, missing = translate_notebook(source, catalogue_path(source, language, root), language,
                                         fallback=True)
        if missing:
            problems[source.name] = missing
        with atomic_write(folder / source.name, "w", encoding="utf-8") as fh:
            fh.write(nbformat.writes(nb))
    return problems


def translation_problems(language: str = "zh", root=None, names=None) -> list[str]:
    """What is untranslated, out of date or edited by hand in ``notebooks/<language>/``.

    ``names`` limits the check to these notebook file names (default: all).

    Examples
    --------
    >>> translation_problems("zh")  # doctest: +SKIP
    []
    """
    import nbformat

    root = Path(root) if root is not None else NOTEBOOK_DIR
    problems = []
    sources = list_notebooks(root / SOURCE_LANGUAGE)
    for source in sources:
        if names is not None and source.name not in names:
            continue
        po = catalogue_path(source, language, root)
        nb, missing = translate_notebook(source, po, language, fallback=True)
        for cid in missing:
            problems.append(f"{source.name}: markdown cell {cid} has no {language} translation "
                            f"(or the English changed); run `{UPDATE_COMMAND}`, translate it in "
                            f"{po.relative_to(root.parent)}, then `{BUILD_COMMAND}`")
        target = root / language / source.name
        if not target.is_file() or target.read_text(encoding="utf-8") != nbformat.writes(nb):
            problems.append(f"{language}/{source.name} is not what the English notebook and its "
                            f"catalogue produce; run `{BUILD_COMMAND}` (never edit it by hand)")
    extra = {p.name for p in list_notebooks(root / language)} - {p.name for p in sources}
    extra = extra if names is None else extra & set(names)
    problems += [f"{language}/{name} has no English source; delete it" for name in sorted(extra)]
    return problems


def extract_ipynb(fileobj, keywords, comment_tags, options):
    """Babel extractor for the code of a notebook (``[ipynb: notebooks/en/*.ipynb]``).

    Yields Babel's ``(lineno, funcname, message, comments)`` for each ``tr(...)`` /
    ``say(...)`` call in a code cell or in the Python of an exercise's ``<details>``
    solution, as :func:`babel.messages.extract.extract_python` finds them; ``lineno``
    counts the lines of all that code one after another.
    """
    import io
    import json

    from babel.messages.extract import extract_python

    cells = json.loads(fileobj.read().decode("utf-8")).get("cells", [])
    offset = 0
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "markdown":
            source = "\n".join(block for details in _SOLUTION.findall(source)
                               for block in _PYTHON_BLOCK.findall(details))
        elif cell.get("cell_type") != "code":
            continue
        found = extract_python(io.BytesIO(source.encode("utf-8")), keywords, comment_tags, options)
        for lineno, funcname, message, comments in found:
            yield offset + lineno, funcname, message, comments
        offset += source.count("\n") + 1
