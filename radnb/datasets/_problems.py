"""Small files that show each problem :func:`radnb.cohort.validate` detects (for teaching)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def make_problem_cases(directory, seed: int = 0):
    """Write one image + mask pair per common data problem and return their manifest.

    Cases: ``ok`` (a correct pair), ``missing_file``, ``unreadable_file``,
    ``geometry_mismatch`` (mask shifted 3 mm with another slice spacing),
    ``empty_mask``, ``wrong_label`` (mask uses label 2), ``probability_mask``
    (non-integer values) and ``image_2d``. The ``problem`` column says which.
    """
    import pandas as pd
    import SimpleITK as sitk

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.mgrid[:24, :40, :40]
    ball = ((zz - 12) / 5.0) ** 2 + ((yy - 20) / 9.0) ** 2 + ((xx - 20) / 8.0) ** 2 <= 1
    arr = (rng.normal(40, 12, ball.shape) + 35 * ball).astype(np.int16)
    image = sitk.GetImageFromArray(arr)
    image.SetSpacing((0.8, 0.8, 2.5))
    mask = sitk.GetImageFromArray(ball.astype(np.uint8))
    mask.CopyInformation(image)

    def write(img, name):
        sitk.WriteImage(img, str(folder / name), True)
        return name

    img_name = write(image, "ct.nrrd")
    shifted = sitk.Image(mask)
    shifted.SetOrigin((0.0, 0.0, 3.0))
    shifted.SetSpacing((0.8, 0.8, 2.0))
    (folder / "unreadable.nrrd").write_bytes(b"NRRD0004\nthis file was truncated during copying\n")
    flat = sitk.GetImageFromArray(arr[12])
    flat_mask = sitk.GetImageFromArray(ball[12].astype(np.uint8))
    rows = [
        ("ok", img_name, write(mask, "mask.nrrd")),
        ("missing_file", img_name, "mask_not_exported.nrrd"),
        ("unreadable_file", "unreadable.nrrd", "mask.nrrd"),
        ("geometry_mismatch", img_name, write(shifted, "mask_other_scan.nrrd")),
        ("empty_mask", img_name, write(mask * 0, "mask_empty.nrrd")),
        ("wrong_label", img_name, write(mask * 2, "mask_label2.nrrd")),
        ("probability_mask", img_name,
         write(sitk.Cast(mask, sitk.sitkFloat32) * 0.8, "mask_probability.nrrd")),
        ("image_2d", write(flat, "slice.nrrd"), write(flat_mask, "slice_mask.nrrd")),
    ]
    df = pd.DataFrame(rows, columns=["problem", "image", "mask"])
    df.insert(0, "case_id", [f"X{i + 1:02d}" for i in range(len(df))])
    df.to_csv(folder / "manifest.csv", index=False)
    from radnb.cohort import load_manifest

    return load_manifest(folder / "manifest.csv")
