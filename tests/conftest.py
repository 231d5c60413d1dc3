"""Shared fixtures: data folders, the demo cohort, tiny synthetic images.

* ``RADNB_DATA`` points at one temporary folder for the whole test session, so
  tests never touch the user's ``~/radnb_data`` (the demo cohort is generated
  there once and shared by all tests, notebooks included).
* Real sample data comes from ``../shared/data`` (or ``RADNB_SHARED_DATA``);
  tests that need it skip with a reason when it is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RADNB_SHARED_DATA", ROOT.parent / "shared" / "data"))
ARTIFACTS = ROOT / "test-artifacts"


def _session_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # under pytest-xdist every worker has its own basetemp below a common parent
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def data_home(tmp_path_factory):
    """One ``RADNB_DATA`` folder for the session (shared by xdist workers)."""
    home = _session_root(tmp_path_factory) / "radnb_data"
    home.mkdir(parents=True, exist_ok=True)
    for name in ("pyradiomics", "radmlbench"):
        samples, link = SHARED_DATA / name, home / name
        if samples.is_dir() and not link.exists():
            try:  # the notebooks find the sample data in RADNB_DATA, as on a user's machine
                link.symlink_to(samples, target_is_directory=True)
            except FileExistsError:
                pass
    old = os.environ.get("RADNB_DATA")
    os.environ["RADNB_DATA"] = str(home)
    yield home
    if old is None:
        os.environ.pop("RADNB_DATA", None)
    else:
        os.environ["RADNB_DATA"] = old


@pytest.fixture(scope="session")
def demo_manifest(data_home):
    """The default demo cohort (120 patients, 3 sites), generated once per session."""
    from radnb.datasets import load_demo_cohort

    return load_demo_cohort(data_home)


@pytest.fixture(scope="session")
def small_demo(data_home):
    """A 12-patient demo cohort for quick tests."""
    from radnb.datasets import load_demo_cohort

    return load_demo_cohort(data_home, n_patients=12, n_sites=3, seed=1)


def _shared(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.exists():
        pytest.skip(
            f"shared sample data not found at {path}: clone radnb next to the 'shared' folder "
            "or set RADNB_SHARED_DATA to a folder holding pyradiomics/, ibsi/ and reference/"
        )
    return path


@pytest.fixture(scope="session")
def pyradiomics_dir():
    """Folder with pyradiomics' five sample cases (``../shared/data/pyradiomics``)."""
    return _shared("pyradiomics")


@pytest.fixture(scope="session")
def reference_dir():
    """Folder with published reference values (``../shared/data/reference``)."""
    return _shared("reference")


@pytest.fixture(scope="session")
def shared_data():
    """The whole shared data folder; skips when absent."""
    return _shared("")


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def anisotropic_image():
    """A 7 x 8 x 9 (x, y, z) CT-like image with anisotropic spacing and a cube ROI.

    Unequal sizes and spacing make axis-order mistakes visible. Returns
    ``(image, mask)`` as SimpleITK images (int16 HU and uint8 labels).
    """
    import SimpleITK as sitk

    rng = np.random.default_rng(42)
    arr = rng.normal(40, 10, size=(9, 8, 7)).astype(np.int16)  # numpy order z, y, x
    mask = np.zeros(arr.shape, dtype=np.uint8)
    mask[3:6, 2:6, 2:5] = 1
    arr[mask == 1] += 60
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing((0.8, 0.9, 2.5))
    image.SetOrigin((-10.0, 20.0, 5.0))
    m = sitk.GetImageFromArray(mask)
    m.CopyInformation(image)
    return image, m
