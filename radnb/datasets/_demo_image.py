"""Demo cohort, part 2: draw one patient's contrast-enhanced CT and masks.

The lesion is first drawn as a noise-free "true object" in Hounsfield units on
the site's voxel grid (physical sizes in mm, so the anatomy does not depend on
the scanner): a lobulated, optionally rough-edged solid soft-tissue mass with
heterogeneously enhancing texture and an optional non-enhancing (necrotic) core,
inside muscle (about 55 HU in the venous phase) crossed by intermuscular fat
planes, with subcutaneous fat at one edge of some crops and a piece of a long
bone (cortex and fatty marrow) in some limb crops. Fat and bone stay at least
4 mm away from the lesion, so masks stay clean. The object depends on the
protocol the way real CT does: iodine enhancement reads higher at 100 kVp than
at 120 kVp and fat lower, bone higher; an earlier contrast delay gives less
enhancement. The scanner then blurs it (reconstruction kernel), adds a
calibration drift and correlated noise whose grain follows the kernel. A rescan
moves the true object rigidly (small rotation and shift) and scans it again
with new noise; a second reader's mask moves the first reader's boundary by a
smooth random displacement of about one voxel.

Arrays are in numpy order (z, y, x); spacings likewise.
"""
from __future__ import annotations

import numpy as np

__all__ = ["render_case", "longest_axial_diameter"]

_MARGIN_MM = (8.0, 14.0)  # crop margin around the lesion along z / in-plane
_NECROSIS_HU = 15.0
_LESION_BASE_HU = 35.0  # unenhanced soft tissue of the lesion
_MUSCLE_HU, _MUSCLE_ENH = 48.0, 7.0  # unenhanced muscle + its venous-phase enhancement
_REF_DELAY_S = 70.0
_KEEP_OUT_MM = 4.0  # fat and bone start this far from the lesion surface


def protocol_hu(kvp: float, delay_s: float) -> dict:
    """How the protocol changes attenuation: iodine factor, fat and cortical bone HU."""
    iodine = (120.0 / kvp) ** 1.45 * (delay_s / _REF_DELAY_S) ** 0.5
    return {"iodine": iodine, "fat": -100.0 - 0.5 * (120.0 - kvp),
            "bone": 1300.0 + 7.5 * (120.0 - kvp)}


def render_case(patient: dict, site: dict, rng, *, retest: bool) -> dict:
    """Draw the images and masks of one patient.

    Returns a dict with ``spacing`` (z, y, x mm), ``images`` {timepoint: int16
    array}, ``masks`` {(timepoint, reader): uint8 array} and ``truth`` (a dict
    of the values used, for ``ground_truth.csv``).
    """
    pixel = round(site["pixel_mm"] * rng.uniform(0.95, 1.05), 3)  # field of view varies
    spacing = np.array([site["slice_mm"], pixel, pixel])
    irr, het, nec = patient["irregularity"], patient["heterogeneity"], patient["necrosis"]
    delay = float(np.clip(site["delay_s"] + rng.normal(0, 4.0), 40.0, 100.0))
    hu = protocol_hu(site["kvp"], delay)

    # Lesion shape: an ellipsoid with von Mises bumps (lobules) on its surface.
    rot = _rotation(rng, 180.0)
    stretch = np.exp(rng.normal(0, 0.12, 3))
    stretch /= np.cbrt(stretch.prod())
    n_bumps = 3 + int(round(7 * irr))
    bump_dirs = _unit(rng.standard_normal((n_bumps, 3)))
    bump_w = (0.06 + 0.30 * irr) * rng.uniform(0.4, 1.0, n_bumps) * rng.choice([1, 1, -0.6], n_bumps)
    kappa = 3.0 + 6.0 * irr

    def lobes(u):
        return 1.0 + np.exp(kappa * (u @ bump_dirs.T - 1.0)) @ bump_w

    f_samples = lobes(_unit(rng.standard_normal((4000, 3))))
    volume_mm3 = patient["target_volume_cm3"] * 1000.0
    r0 = np.cbrt(3 * volume_mm3 / (4 * np.pi * np.mean(f_samples ** 3)))
    rough_mm = 0.2 + 1.6 * irr
    extent = r0 * f_samples.max() * stretch.max() + 3 * rough_mm
    shape = (int(np.clip(np.ceil(2 * (extent + _MARGIN_MM[0]) / spacing[0]), 16, 64)),) + (
        int(np.clip(np.ceil(2 * (extent + _MARGIN_MM[1]) / pixel), 48, 128)),) * 2
    centre = rng.uniform(-2.5, 2.5, 3)
    grids = [(np.arange(n) - (n - 1) / 2) * s - c for n, s, c in zip(shape, spacing, centre)]
    pos = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).astype(np.float32)
    local = (pos @ rot.astype(np.float32)) / stretch.astype(np.float32)
    radius = np.linalg.norm(local, axis=-1)
    u = local / np.maximum(radius, 1e-6)[..., None]
    boundary = r0 * lobes(u.reshape(-1, 3)).reshape(shape).astype(np.float32)
    field = _FieldMaker(rng, spacing, shape)
    depth = radius - boundary - rough_mm * field(1.2)  # < 0 inside (mm)
    del local, u

    # The lesion: heterogeneously enhancing solid tissue, optional non-enhancing core.
    lesion_hu = 110.0 + 10.0 * rng.standard_normal()  # at 120 kVp, 70 s
    texture_sd = 4.0 + 26.0 * het
    texture = texture_sd * (0.75 * field(1.2) + 0.66 * field(2.5))
    core_frac = 0.75 * np.clip((nec - 0.35) / 0.65, 0.0, 1.0)
    core_edge = core_frac * boundary * (1 + 0.2 * field(3.0))
    core = _sigmoid((core_edge - radius) / 1.0) if core_frac > 0 else 0.0
    enhancing = _LESION_BASE_HU + hu["iodine"] * (lesion_hu - _LESION_BASE_HU + texture)
    lesion = (1 - core) * enhancing + core * (_NECROSIS_HU + 0.3 * texture)
    muscle = _MUSCLE_HU + hu["iodine"] * _MUSCLE_ENH + 4.0 * field(6.0)
    inside = _sigmoid(-depth / 0.4)
    soft = inside * lesion + (1 - inside) * muscle
    del texture, lesion, muscle, inside

    # Surrounding anatomy, kept _KEEP_OUT_MM or more away from the lesion.
    keep_out = np.clip((depth - _KEEP_OUT_MM) / 2.0, 0.0, 1.0)
    planes = field(np.array([25.0, 7.0, 7.0]))  # sheets running along the limb / body axis (z)
    fat = _sigmoid((0.10 - np.abs(planes)) / 0.025)
    plane_xy = pos[..., 1:]
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
    has_subcut = bool(rng.random() < 0.5)
    if has_subcut:  # subcutaneous fat beyond the fascia, at one edge of the crop
        fascia = plane_xy @ normal - (extent + 9.0) + 1.5 * field(8.0)
        fat = np.maximum(fat, _sigmoid(fascia / 0.5))
    bone = np.zeros(shape, dtype=np.float32)
    has_bone = patient["location"] != "trunk" and bool(rng.random() < 0.6)
    if has_bone:  # a long-bone shaft along z: cortex around fatty marrow
        outer = 13.0 if patient["location"] == "lower limb" else 9.0
        cortex_mm = 0.25 * outer
        theta = np.pi / 4 + np.pi / 2 * rng.integers(4) + rng.uniform(-0.3, 0.3)
        axis = (extent + 7.0 + outer) * np.array([np.cos(theta), np.sin(theta)], dtype=np.float32)
        rho = np.linalg.norm(plane_xy - axis, axis=-1)
        shaft = _sigmoid((outer - rho) / 0.3)
        marrow = _sigmoid((outer - cortex_mm - rho) / 0.3)
        bone = shaft - marrow
        fat = np.maximum(fat * (1 - shaft), marrow)
    fat *= keep_out
    bone *= keep_out
    truth_obj = soft * (1 - fat - bone) + hu["fat"] * fat + hu["bone"] * bone
    del pos, plane_xy, planes, fat, soft, keep_out

    mask1 = _clean(depth < 0)
    images = {1: _scan(truth_obj, site, spacing, rng)}
    masks = {(1, 1): mask1, (1, 2): _second_reader(depth, spacing, rng)}
    truth = dict(
        pixel_mm=pixel, slice_mm=spacing[0], shape_zyx="x".join(map(str, shape)),
        volume_cm3=mask1.sum() * spacing.prod() / 1000.0, lesion_hu=lesion_hu,
        delay_s=round(delay, 1), iodine_factor=hu["iodine"],
        texture_sd_hu=texture_sd, core_radius_fraction=core_frac,
        lobulation=float(np.abs(bump_w).sum()), margin_roughness_mm=rough_mm,
        subcutaneous_fat=has_subcut, bone_in_crop=bool(bone.max() > 0.5),
        retest=retest, retest_shift_mm=0.0, retest_rotation_deg=0.0,
    )
    del bone
    if retest:
        angle = 2.0
        rot2 = _rotation(rng, angle)
        shift = rng.normal(0, 1.2, 3)
        moved_obj, moved_depth = _move([truth_obj, depth], rot2, shift, spacing)
        images[2] = _scan(moved_obj, site, spacing, rng)
        masks[(2, 1)] = _clean(moved_depth < 0)
        masks[(2, 2)] = _second_reader(moved_depth, spacing, rng)
        truth["retest_shift_mm"] = float(np.linalg.norm(shift))
        truth["retest_rotation_deg"] = float(np.degrees(np.arccos(np.clip((np.trace(rot2) - 1) / 2, -1, 1))))
    return {"spacing": spacing, "images": images, "masks": masks, "truth": truth}


def longest_axial_diameter(mask, spacing) -> float:
    """Longest in-plane diameter (mm) of a mask, as a radiologist measures it on one slice.

    The largest distance between two voxel centres on the same axial slice, plus
    one pixel (edge to edge), rounded to 0.1 mm.
    """
    from scipy.spatial import ConvexHull
    from scipy.spatial.distance import pdist

    best = 0.0
    for sl in mask:
        pts = np.argwhere(sl) * np.asarray(spacing[1:], dtype=float)
        if len(pts) < 2:
            continue
        try:
            pts = pts[ConvexHull(pts).vertices]
        except Exception:  # collinear points (a one-voxel-wide slice): use them all
            pass
        best = max(best, float(pdist(pts).max()))
    return round(best + float(spacing[1]), 1)


class _FieldMaker:
    """Smooth Gaussian random fields with unit variance and a length scale in mm."""

    def __init__(self, rng, spacing, shape):
        self.rng, self.spacing, self.shape = rng, spacing, shape

    def __call__(self, sigma_mm):
        from scipy import ndimage as ndi

        white = self.rng.standard_normal(self.shape, dtype=np.float32)
        sigma = np.asarray(sigma_mm, dtype=float) / self.spacing
        out = ndi.gaussian_filter(white, sigma, mode="reflect", truncate=3.0)
        return out / max(float(out.std()), 1e-6)


def _scan(obj, site, spacing, rng):
    """Blur (reconstruction kernel), calibration drift and noise with the kernel's grain; int16 HU."""
    from scipy import ndimage as ndi

    fwhm = np.array([site["fwhm_z"], site["fwhm_xy"], site["fwhm_xy"]])
    blurred = ndi.gaussian_filter(obj, fwhm / 2.3548 / spacing, truncate=3.0)
    grain = site["noise_grain"]
    noise = ndi.gaussian_filter(rng.standard_normal(obj.shape, dtype=np.float32), (0, grain, grain))
    noise *= site["noise_hu"] / max(float(noise.std()), 1e-6)
    img = blurred + site["hu_offset"] + noise
    return np.clip(np.rint(img), -1024, 3071).astype(np.int16)


def _second_reader(depth, spacing, rng, *, sd_mm=0.9, bias_mm=0.2, scale_mm=3.0):
    """Reader 2 draws the boundary where ``depth`` (mm, < 0 inside) equals a smooth
    random displacement: mean ``bias_mm`` outwards, SD ``sd_mm``, length scale ``scale_mm``."""
    disp = bias_mm + sd_mm * _FieldMaker(rng, spacing, depth.shape)(scale_mm)
    return _clean(depth < disp)


def _clean(mask):
    """Largest connected component with holes filled, as uint8."""
    from scipy import ndimage as ndi

    labels, n = ndi.label(mask)
    if n > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = labels == sizes.argmax()
    return ndi.binary_fill_holes(mask).astype(np.uint8)


def _move(arrays, rot, shift_mm, spacing):
    """Resample ``arrays`` after a rigid motion about the grid centre."""
    from scipy import ndimage as ndi

    s = np.diag(spacing)
    s_inv = np.diag(1.0 / spacing)
    matrix = s_inv @ rot.T @ s
    c = (np.array(arrays[0].shape) - 1) / 2.0
    offset = c - matrix @ c - s_inv @ rot.T @ shift_mm
    return [ndi.affine_transform(a, matrix, offset, order=1, mode="nearest") for a in arrays]


def _rotation(rng, max_deg):
    """A random rotation matrix about a random axis, angle up to ``max_deg`` degrees."""
    axis = _unit(rng.standard_normal(3))
    angle = np.radians(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))
