"""Execute tutorial notebooks headlessly (tests, release checks, ``radnb notebooks``)."""
from __future__ import annotations

import time
from pathlib import Path

__all__ = ["list_notebooks", "execute_notebook"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def list_notebooks(folder=None) -> list[Path]:
    """Return the tutorial notebooks (``NN_name.ipynb``) in order."""
    folder = Path(folder) if folder is not None else NOTEBOOK_DIR
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def execute_notebook(path, *, timeout: int = 600, html_dir=None, kernel_name: str = "python3"):
    """Run a notebook top to bottom in a fresh kernel (working directory: its folder).

    Parameters
    ----------
    path : str or Path
    timeout : int
        Seconds allowed per cell.
    html_dir : str or Path, optional
        If given, write the executed notebook there as ``<name>.html``.

    Returns
    -------
    dict
        ``{"notebook": name, "seconds": elapsed, "html": path or None, "nb": executed}``

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        With the failing cell's traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
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
