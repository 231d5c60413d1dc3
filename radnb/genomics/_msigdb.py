"""MSigDB Hallmark gene sets: read from the data home, or downloaded once from MSigDB.

radnb does not ship MSigDB files: the Broad Institute distributes them (CC BY 4.0 for
MSigDB v6.0-v7.5.1 and v2022.1 and later; cite Liberzon et al., Cell Syst 2015). This
fetcher puts the file where radnb keeps data and works offline once it is there.
"""
from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request

from radnb._utils.data_home import get_data_home

HALLMARK_VERSION = "2023.2.Hs"
_URL = "https://data.broadinstitute.org/gsea-msigdb/msigdb/release/{v}/h.all.v{v}.symbols.gmt"


def fetch_hallmark_gene_sets(data_home=None, *, version: str = HALLMARK_VERSION,
                             download: bool = True) -> dict:
    """The 50 MSigDB Hallmark gene sets (human gene symbols) as ``{name: [genes]}``.

    Looks for ``<data home>/msigdb/h.all.v<version>.symbols.gmt``; when it is absent
    and ``download`` is true, downloads it once from MSigDB (the file is written
    atomically, so an interrupted download leaves nothing behind). Offline, the
    error says which file to put where.

    Parameters
    ----------
    data_home : str or Path, optional
        See :func:`radnb.datasets.get_data_home`.
    version : str, default "2023.2.Hs"
        MSigDB release (human releases end in ``.Hs``).
    download : bool, default True
        Allow the download; False only reads the local file.

    Returns
    -------
    dict
        Gene-set name (``HALLMARK_...``) to a list of gene symbols; usable wherever
        :mod:`radnb.genomics` takes ``gene_sets``. The sets use real gene symbols,
        so they fit real expression data, not the demo cohort's synthetic genes.

    References
    ----------
    Liberzon A, Birger C, Thorvaldsdottir H, Ghandi M, Mesirov JP, Tamayo P. The
    Molecular Signatures Database (MSigDB) hallmark gene set collection. Cell Syst
    2015;1:417-425. Licence: CC BY 4.0 (MSigDB terms for releases since 2022.1).

    Examples
    --------
    >>> sets = fetch_hallmark_gene_sets()  # doctest: +SKIP
    >>> len(sets), sets["HALLMARK_INTERFERON_GAMMA_RESPONSE"][:3]  # doctest: +SKIP
    """
    from radnb.genomics._genesets import read_gmt

    if not isinstance(version, str) or not version.endswith(".Hs"):
        raise ValueError(f"version must be a human MSigDB release such as '2023.2.Hs'; got {version!r}.")
    folder = get_data_home(data_home) / "msigdb"
    path = folder / f"h.all.v{version}.symbols.gmt"
    url = _URL.format(v=version)
    if not path.exists():
        where = (f"Download {url} (MSigDB, CC BY 4.0) and save it as {path}, then call "
                 "fetch_hallmark_gene_sets again.")
        if not download:
            raise FileNotFoundError(f"the Hallmark gene sets are not in {folder}. {where}")
        _download(url, path, where)
    sets = read_gmt(path)
    bad = [name for name in sets if not name.startswith("HALLMARK_")]
    if not sets or bad:
        raise ValueError(f"{path} is not the MSigDB Hallmark collection (sets such as {bad[:3]} "
                         "are not HALLMARK_ sets); delete it and fetch again.")
    return sets


def _download(url, path, where):
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise FileNotFoundError(f"could not download the Hallmark gene sets ({exc}). {where}") from None
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
