"""RTSTRUCT and DICOM-SEG internals for :mod:`radnb.io`: list, read (rasterise) and write.

* RTSTRUCT contours are planar polygons in patient coordinates (mm). Reading
  maps each point to a continuous voxel index of the reference image, fills the
  polygon on its slice (``skimage.draw.polygon``, voxel centres inside) and
  combines the contours of a slice with XOR, so inner contours cut holes.
  Writing traces each axial slice of the mask with ``skimage.measure.find_contours``
  at level 0.5 (the iso-line half-way between voxel centres), so rasterising the
  written contours gives the mask back up to polygon corner cases.
* DICOM-SEG frames carry their own plane position; reading pastes each frame of
  the chosen segment at its voxel offset in the reference grid. Writing uses
  ``highdicom.seg.Segmentation`` (BINARY).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from radnb._utils.i18n import tr

from radnb.io._dicom import FIXED_DATE, FIXED_TIME, MANUFACTURER, load_series_datasets, make_uid

_TOL = 1e-3  # mm and direction cosines: grids closer than this are the same grid


# ----------------------------------------------------------------------------- choosing an ROI
def mask_modality(ds) -> str:
    modality = str(ds.get("Modality", "")).upper()
    if modality not in ("RTSTRUCT", "SEG"):
        raise ValueError(tr(
            "{path!r} is a DICOM {modality} object, not an RTSTRUCT or SEG; "
            "read image series with radnb.io.read_image.").format(
            path=ds.filename, modality=modality or "file"))
    return modality


def roi_table(ds) -> dict[int, str]:
    """ROI number -> name of an RTSTRUCT, or segment number -> label of a SEG."""
    if mask_modality(ds) == "SEG":
        return {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    return {int(r.ROINumber): str(r.ROIName) for r in ds.get("StructureSetROISequence", [])}


def choose_roi(ds, roi, label) -> int:
    """Return the ROI/segment number selected by name ``roi`` or number ``label``."""
    table = roi_table(ds)
    kind = tr("segment") if mask_modality(ds) == "SEG" else "ROI"
    listing = ", ".join(f"{n}: {name!r}" for n, name in table.items()) or "none"
    if roi is not None:
        hits = [n for n, name in table.items() if name == roi]
        if not hits:
            hits = [n for n, name in table.items() if name.lower() == str(roi).lower()]
        if len(hits) != 1:
            raise ValueError(tr(
                "{kind} {roi!r} is not in {file!r}; available {kind}s "
                "(number: name): {listing}. Pass roi= one of these names.").format(
                kind=kind, roi=roi, file=Path(ds.filename).name, listing=listing))
        return hits[0]
    if label is not None:
        if int(label) not in table:
            raise ValueError(tr(
                "{kind} number label={label!r} is not in {file!r}; available "
                "{kind}s (number: name): {listing}.").format(
                kind=kind, label=label, file=Path(ds.filename).name, listing=listing))
        return int(label)
    if len(table) != 1:
        raise ValueError(tr(
            "{file!r} holds {n} {kind}s (number: name): {listing}. "
            "Choose one with roi='name' or label=number.").format(
            file=Path(ds.filename).name, n=len(table), kind=kind, listing=listing))
    return next(iter(table))


# ----------------------------------------------------------------------------- geometry
def _index_matrix(reference):
    """(A, origin) with continuous index = A @ (point - origin)."""
    d = np.array(reference.GetDirection()).reshape(3, 3)
    s = np.array(reference.GetSpacing())
    return np.linalg.inv(d * s), np.array(reference.GetOrigin())


def points_to_index(reference, points: np.ndarray) -> np.ndarray:
    """Physical points (n, 3) in mm -> continuous (x, y, z) indices of ``reference``."""
    a, origin = _index_matrix(reference)
    return (points - origin) @ a.T


def index_to_points(reference, index: np.ndarray) -> np.ndarray:
    """Continuous (x, y, z) indices (n, 3) -> physical points in mm."""
    d = np.array(reference.GetDirection()).reshape(3, 3)
    s = np.array(reference.GetSpacing())
    return np.array(reference.GetOrigin()) + index @ (d * s).T


def check_same_grid(mask, datasets):
    """Raise ``ValueError`` unless ``mask`` lies on the grid of the series ``datasets``."""
    first = datasets[0]
    iop = np.array(first.ImageOrientationPatient, dtype=float)
    d = np.array(mask.GetDirection()).reshape(3, 3)
    problems = []
    if mask.GetSize() != (int(first.Columns), int(first.Rows), len(datasets)):
        problems.append(f"size {mask.GetSize()} vs {(first.Columns, first.Rows, len(datasets))}")
    if not np.allclose(mask.GetSpacing()[:2], np.array(first.PixelSpacing, float)[::-1], atol=_TOL):
        problems.append("pixel spacing")
    if not np.allclose(np.r_[d[:, 0], d[:, 1]], iop, atol=_TOL):
        problems.append("orientation")
    if not np.allclose(mask.GetOrigin(), np.array(first.ImagePositionPatient, float), atol=_TOL):
        problems.append(f"origin {mask.GetOrigin()} vs {tuple(first.ImagePositionPatient)}")
    if problems:
        raise ValueError(tr(
            "the mask does not lie on the grid of the DICOM series ({problems}). Write the series "
            "from the image the mask was drawn on, or resample the mask onto that image first."
        ).format(problems="; ".join(problems)))


def mask_key(datasets, name, arr) -> tuple:
    """What a written mask's UIDs derive from: the series, the ROI name and the voxels.

    Two readers' masks of one series get different UIDs; the same mask gets the same.
    """
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(arr, dtype=np.uint8).tobytes()).hexdigest()
    return datasets[0].SeriesInstanceUID, name, digest[:32]


# ----------------------------------------------------------------------------- RTSTRUCT
def rtstruct_to_mask(ds, reference, number: int) -> np.ndarray:
    """Rasterise ROI ``number`` of RTSTRUCT ``ds`` on ``reference``; (z, y, x) uint8."""
    nx, ny, nz = reference.GetSize()
    out = np.zeros((nz, ny, nx), dtype=bool)
    items = [c for c in ds.get("ROIContourSequence", []) if int(c.ReferencedROINumber) == number]
    contours = [c for item in items for c in item.get("ContourSequence", [])]
    placed = 0
    for contour in contours:
        if str(contour.get("ContourGeometricType", "CLOSED_PLANAR")) != "CLOSED_PLANAR":
            continue  # points and open lines enclose no voxels
        idx = points_to_index(reference, _contour_points(contour))
        k = int(np.round(idx[:, 2].mean()))
        if not 0 <= k < nz:
            continue
        out[k] ^= fill_polygon(idx[:, 0], idx[:, 1], (ny, nx))
        placed += 1
    if contours and not placed:
        raise ValueError(tr(
            "none of the {n} contours of ROI {number} lies inside the reference "
            "image; pass the image series this RTSTRUCT was drawn on as reference.").format(
            n=len(contours), number=number))
    return out.astype(np.uint8)


def _contour_points(contour) -> np.ndarray:
    """ContourData as an (n, 3) float array, parsed from the raw bytes when possible.

    pydicom turns every value of a DS element into a Python object, which takes
    seconds for a real structure set; numpy parses the backslash-separated text at once.
    """
    elem = contour.get_item("ContourData")
    raw = getattr(elem, "value", None)
    if isinstance(raw, bytes):
        return np.array(raw.decode("ascii").split("\\"), dtype=float).reshape(-1, 3)
    return np.array(contour.ContourData, dtype=float).reshape(-1, 3)


def fill_polygon(x, y, shape) -> np.ndarray:
    """Boolean (rows, columns) image of the voxel centres inside the polygon ``(x, y)``.

    Even-odd scan-line fill: for each row of voxel centres, the crossings with the
    polygon's edges are sorted and the centres between pairs of crossings filled
    (centres on an edge count as inside), the rule of ``skimage.draw.polygon``
    at a fraction of its cost for contours with many points.
    """
    ny, nx = shape
    out = np.zeros(shape, dtype=bool)
    rows = np.arange(max(int(np.ceil(y.min())), 0), min(int(np.floor(y.max())), ny - 1) + 1)
    if rows.size == 0:
        return out
    x1, y1, x2, y2 = x, y, np.roll(x, -1), np.roll(y, -1)
    r = rows[:, None].astype(float)
    crosses = (y1 <= r) != (y2 <= r)  # half-open rule: every vertex counted once
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x1 + (r - y1) * (x2 - x1) / (y2 - y1)
    for i, row in enumerate(rows):
        xs = np.sort(xc[i, crosses[i]])
        for left, right in xs.reshape(-1, 2):
            c0, c1 = max(int(np.ceil(left)), 0), min(int(np.floor(right)), nx - 1)
            if c0 <= c1:
                out[row, c0:c1 + 1] = True
    return out


def write_rtstruct(mask, series_folder, out_path, roi_name: str) -> Path:
    """Write the non-zero voxels of ``mask`` as one RTSTRUCT ROI referencing the series."""
    import SimpleITK as sitk

    datasets = load_series_datasets(series_folder)
    check_same_grid(mask, datasets)
    arr = sitk.GetArrayViewFromImage(mask) > 0
    ds = _rtstruct_header(datasets, roi_name, mask_key(datasets, roi_name, arr))
    contour_items = []
    for k in range(arr.shape[0]):
        for points in _slice_contours(mask, arr[k], k):
            contour_items.append(_contour_item(points, datasets[k]))
    roi_contour = _item(ReferencedROINumber=1, ROIDisplayColor=[255, 0, 0])
    roi_contour.ContourSequence = contour_items
    ds.ROIContourSequence = [roi_contour]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(str(out_path), enforce_file_format=True)
    return out_path


def _slice_contours(mask, slice_mask, k):
    """Closed contours (physical points, (n, 3)) around the voxels of one axial slice."""
    from skimage.measure import find_contours

    if not slice_mask.any():
        return []
    padded = np.pad(slice_mask.astype(float), 1)
    result = []
    for c in find_contours(padded, 0.5):
        rc = _drop_collinear(c[:-1]) - 1.0  # no repeated closing point, no padding
        index = np.column_stack([rc[:, 1], rc[:, 0], np.full(len(rc), float(k))])
        result.append(index_to_points(mask, index))
    return result


def _drop_collinear(points):
    """Remove vertices that lie on the straight segment between their neighbours."""
    before, after = points - np.roll(points, 1, axis=0), np.roll(points, -1, axis=0) - points
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    keep = (np.abs(cross) > 1e-9) | ((before * after).sum(axis=1) <= 0)
    return points[keep] if keep.sum() >= 3 else points


def _item(**attrs):
    from pydicom.dataset import Dataset

    ds = Dataset()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def _contour_item(points, image_ds):
    from radnb.io._dicom import _ds

    item = _item(ContourGeometricType="CLOSED_PLANAR", NumberOfContourPoints=len(points))
    item.ContourImageSequence = [_item(
        ReferencedSOPClassUID=image_ds.SOPClassUID, ReferencedSOPInstanceUID=image_ds.SOPInstanceUID
    )]
    item.ContourData = [_ds(float(v)) for v in points.ravel()]
    return item


def _rtstruct_header(datasets, roi_name, key):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, RTStructureSetStorage

    src = datasets[0]
    uid = make_uid("radnb-rtstruct", *key)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = RTStructureSetStorage
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = RTStructureSetStorage, uid
    for name in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                 "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"):
        setattr(ds, name, src.get(name, ""))
    ds.Modality = "RTSTRUCT"
    ds.Manufacturer = MANUFACTURER
    ds.SeriesInstanceUID = make_uid("radnb-rtstruct-series", *key)
    ds.SeriesNumber, ds.InstanceNumber = 2, 1
    ds.SeriesDescription = f"radnb RTSTRUCT {roi_name}"
    ds.StructureSetLabel = roi_name[:16]
    ds.StructureSetDate, ds.StructureSetTime = FIXED_DATE, FIXED_TIME
    images = [_item(ReferencedSOPClassUID=d.SOPClassUID, ReferencedSOPInstanceUID=d.SOPInstanceUID)
              for d in datasets]
    series = _item(SeriesInstanceUID=src.SeriesInstanceUID)
    series.ContourImageSequence = images
    study = _item(ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1",
                  ReferencedSOPInstanceUID=src.StudyInstanceUID)
    study.RTReferencedSeriesSequence = [series]
    frame = _item(FrameOfReferenceUID=src.FrameOfReferenceUID)
    frame.RTReferencedStudySequence = [study]
    ds.ReferencedFrameOfReferenceSequence = [frame]
    ds.StructureSetROISequence = [_item(
        ROINumber=1, ReferencedFrameOfReferenceUID=src.FrameOfReferenceUID, ROIName=roi_name,
        ROIGenerationAlgorithm="MANUAL",
    )]
    ds.RTROIObservationsSequence = [_item(
        ObservationNumber=1, ReferencedROINumber=1, ROIInterpreter="",
        RTROIInterpretedType="GTV" if roi_name.upper().startswith("GTV") else "",
    )]
    return ds


# ----------------------------------------------------------------------------- DICOM-SEG
def _frame_attr(ds, i, sequence, attribute):
    """Attribute of a functional group, per-frame first, then shared."""
    per = ds.get("PerFrameFunctionalGroupsSequence")
    shared = ds.get("SharedFunctionalGroupsSequence")
    for group in (per[i] if per else None, shared[0] if shared else None):
        if group is not None and sequence in group:
            return getattr(group[sequence][0], attribute)
    raise ValueError(tr("SEG frame {i} has no {sequence}.{attribute}; the file is incomplete.").format(
        i=i, sequence=sequence, attribute=attribute))


def seg_to_mask(ds, reference, number: int) -> np.ndarray:
    """Paste the frames of segment ``number`` of SEG ``ds`` into ``reference``'s grid."""
    nx, ny, nz = reference.GetSize()
    out = np.zeros((nz, ny, nx), dtype=bool)
    frames = ds.pixel_array.reshape(int(ds.get("NumberOfFrames", 1)), ds.Rows, ds.Columns)
    if str(ds.get("SegmentationType", "BINARY")) == "FRACTIONAL":
        frames = frames > int(ds.MaximumFractionalValue) / 2
    d = np.array(reference.GetDirection()).reshape(3, 3)
    for i, frame in enumerate(frames):
        segment = _frame_attr(ds, i, "SegmentIdentificationSequence", "ReferencedSegmentNumber")
        if int(segment) != number:
            continue
        iop = _frame_attr(ds, i, "PlaneOrientationSequence", "ImageOrientationPatient")
        iop = np.array(iop, float)
        spacing = np.array(_frame_attr(ds, i, "PixelMeasuresSequence", "PixelSpacing"), float)
        pos = np.array(_frame_attr(ds, i, "PlanePositionSequence", "ImagePositionPatient"), float)
        idx = points_to_index(reference, pos[None])[0]
        on_grid = (np.allclose(iop, np.r_[d[:, 0], d[:, 1]], atol=_TOL)
                   and np.allclose(spacing[::-1], reference.GetSpacing()[:2], rtol=_TOL)
                   and np.allclose(idx, np.round(idx), atol=0.01))
        if not on_grid:
            raise ValueError(tr(
                "SEG frame {i} does not lie on the reference image grid (position {position}, "
                "continuous index {index}); pass the image series the "
                "segmentation was made on as reference.").format(
                i=i, position=pos.tolist(), index=np.round(idx, 2).tolist()))
        x0, y0, k = (int(v) for v in np.round(idx))
        if not 0 <= k < nz:
            continue
        _paste(out[k], frame.astype(bool), x0, y0)
    return out.astype(np.uint8)


def _paste(target, frame, x0, y0):
    ny, nx = target.shape
    ys = slice(max(y0, 0), min(y0 + frame.shape[0], ny))
    xs = slice(max(x0, 0), min(x0 + frame.shape[1], nx))
    if ys.start < ys.stop and xs.start < xs.stop:
        target[ys, xs] |= frame[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]


def write_seg(mask, series_folder, out_path, segment_label: str) -> Path:
    """Write the non-zero voxels of ``mask`` as a BINARY DICOM-SEG with one segment."""
    import highdicom as hd
    import SimpleITK as sitk
    from pydicom.sr.codedict import codes

    datasets = load_series_datasets(series_folder)
    check_same_grid(mask, datasets)
    arr = sitk.GetArrayFromImage(mask) > 0
    key = mask_key(datasets, segment_label, arr)
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label=segment_label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        tracking_uid=make_uid("radnb-seg-tracking", *key),
        tracking_id=segment_label,
    )
    seg = hd.seg.Segmentation(
        source_images=datasets, pixel_array=arr,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=make_uid("radnb-seg-series", *key),
        series_number=3,
        sop_instance_uid=make_uid("radnb-seg", *key),
        instance_number=1, manufacturer=MANUFACTURER, manufacturer_model_name="radnb",
        software_versions="radnb", device_serial_number="0",
        omit_empty_frames=bool(arr.any()),
        content_date=FIXED_DATE, content_time=FIXED_TIME,
    )
    _make_deterministic(seg, key)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(str(out_path))
    return out_path


def _make_deterministic(seg, key):
    """Replace highdicom's clock-based dates and random UIDs by fixed ones."""
    seg.InstanceCreationDate, seg.InstanceCreationTime = FIXED_DATE, FIXED_TIME
    if "SeriesDate" in seg:
        seg.SeriesDate, seg.SeriesTime = FIXED_DATE, FIXED_TIME
    for item in seg.get("ContributingEquipmentSequence", []):
        if "ContributionDateTime" in item:
            item.ContributionDateTime = FIXED_DATE + FIXED_TIME
    dim_uid = make_uid("radnb-seg-dimension", *key)
    for item in seg.get("DimensionOrganizationSequence", []):
        item.DimensionOrganizationUID = dim_uid
    for item in seg.get("DimensionIndexSequence", []):
        item.DimensionOrganizationUID = dim_uid
