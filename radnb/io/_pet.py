"""Body-weight SUV from a DICOM PET series (QIBA vendor-neutral SUV definition).

Public names are re-exported by :mod:`radnb.io`, which documents the step.

SUVbw = activity concentration (Bq/mL) x body weight (g) / injected activity
decayed to the time the image is decay-corrected to (Bq). Tags and rules follow
the QIBA "Vendor-neutral pseudo-code for SUV calculation" (QIBA FDG-PET/CT
Technical Committee, UW PET/CT physics group; Kinahan P, Graham MM et al.).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import radnb.io._dicom as _dicom
from radnb._utils.i18n import N_, tr

__all__ = ["read_pet_suv"]

_FIX = {
    "Units": N_("the series is not in Bq/mL; export the PET reconstruction (not a screen capture or "
                "a processed series) from the scanner or PACS"),
    "DecayCorrection": N_("export the original reconstruction, which states its decay-correction "
                          "reference (START, ADMIN or NONE)"),
    "PatientWeight": N_("enter the patient's weight (kg) from the clinical record into the DICOM "
                        "header (e.g. pydicom: ds.PatientWeight = 72) or ask the PET site"),
    "RadiopharmaceuticalInformationSequence": N_("the injection record is missing; export the "
                                                 "original PET series from the scanner"),
    "RadionuclideTotalDose": N_("add the injected activity in Bq (from the injection record) to "
                                "RadiopharmaceuticalInformationSequence[0]"),
    "RadionuclideHalfLife": N_("add the half-life in s (F-18: 6586.2 s) to "
                               "RadiopharmaceuticalInformationSequence[0]"),
    "RadiopharmaceuticalStartDateTime": N_("add the injection date and time "
                                           "(RadiopharmaceuticalStartDateTime, or "
                                           "RadiopharmaceuticalStartTime) from the injection record"),
    "SeriesDate": N_("the scan date/time (SeriesDate + SeriesTime, or AcquisitionDate + "
                     "AcquisitionTime) is missing; export the original series"),
    "RescaleSlope": N_("the pixel values cannot be turned into Bq/mL without RescaleSlope and "
                       "RescaleIntercept; export the original series"),
}


def read_pet_suv(series, *, series_uid=None, details=False):
    """Read a DICOM PET series and convert it to body-weight SUV (g/mL).

    Parameters
    ----------
    series : str or Path
        A folder holding the PET series (one file per slice), or one of its files.
    series_uid : str, optional
        SeriesInstanceUID to read when the folder holds several series.
    details : bool, default False
        Also return the numbers used (weight, dose, times, decay factor).

    Returns
    -------
    SimpleITK.Image
        ``Float32`` SUVbw image on the series' grid (origin, spacing, direction).
    dict
        Only with ``details=True``: ``units``, ``weight_kg``, ``injected_dose_bq``,
        ``half_life_s``, ``decay_correction``, ``scan_time``,
        ``injection_time``, ``decay_time_s``, ``decay_factor`` (per slice for
        ``DecayCorrection`` NONE) and ``suv_factor`` (g/Bq, per slice).

    Raises
    ------
    ValueError
        A required tag is missing or invalid (the message names the tag and
        what to do), the units are neither Bq/mL (``BQML``) nor SUVbw
        (``GML``), or the image is not attenuation corrected.

    Notes
    -----
    Each slice is ``stored x RescaleSlope + RescaleIntercept`` (Bq/mL; PET
    slices often have their own slope). Then, following QIBA:

    * ``DecayCorrection`` START: the images are decay corrected to the scan
      start, so the dose is decayed from injection to the scan start:
      ``dose x 2**(-(scan - injection) / half_life)``. The scan start is
      SeriesDate/SeriesTime, unless it is later than the earliest
      AcquisitionDate/AcquisitionTime of the series (a series re-saved after
      post-processing); then the earliest acquisition time is used.
    * ``ADMIN``: decay corrected to the injection time: the dose is used as is.
    * ``NONE``: not decay corrected: each slice's dose is decayed to that
      slice's AcquisitionDate/AcquisitionTime.

    ``SUVbw = value x weight (g) / decayed dose (Bq)``. A series already in
    SUVbw (Units ``GML``, SUVType absent or ``BW``) is only rescaled. The injection time is
    RadiopharmaceuticalStartDateTime, else RadiopharmaceuticalStartTime on the
    scan date (an injection "after" the scan is taken as the day before, as
    happens when a scan crosses midnight). Vendor private tags (Philips
    ``CNTS`` units, GE's post-injection time) are not read.

    References
    ----------
    QIBA FDG-PET/CT Technical Committee. Vendor-neutral pseudo-code for SUV
    calculation (QIBA wiki, "Standardized Uptake Value (SUV)"); Kinahan PE,
    Fletcher JW. PET/CT standardized uptake values (SUVs) in clinical practice
    and assessing response to therapy. Semin Ultrasound CT MR 2010;31:496-505.

    Examples
    --------
    >>> from radnb.io import read_pet_suv
    >>> suv = read_pet_suv("dicom/patient1/pet")  # doctest: +SKIP
    >>> suv, info = read_pet_suv("dicom/patient1/pet", details=True)  # doctest: +SKIP
    >>> round(info["decay_time_s"] / 60)  # minutes from injection to scan  # doctest: +SKIP
    62
    """
    import pydicom

    files = _series_files(series, series_uid)
    datasets = [pydicom.dcmread(str(f)) for f in files]
    first = datasets[0]
    if _check_units(first, files[0]) == "GML":  # already SUVbw (g/mL): rescale only
        return _as_image([_bq_per_ml(ds, f) for ds, f in zip(datasets, files)], files, first,
                         {"units": "GML", "suv_factor": 1.0} if details else None)
    weight_kg = _positive(first, "PatientWeight", files[0], unit="kg")
    info = _injection(first, files[0])
    mode = _text(first, "DecayCorrection", files[0]).upper()
    if mode not in ("START", "ADMIN", "NONE"):
        raise ValueError(tr("DecayCorrection is {mode!r} in {file}; radnb knows START, ADMIN "
                            "and NONE (DICOM PS3.3 C.8.9.1). {fix}.").format(
            mode=mode, file=files[0], fix=_fix("DecayCorrection")))
    acquisition = [_datetime(ds, "AcquisitionDate", "AcquisitionTime") for ds in datasets]
    injection = _injection_time(first, info, files[0], acquisition)
    scan = _scan_time(first, acquisition, files[0])
    if mode == "START":
        elapsed = [(scan - injection).total_seconds()] * len(datasets)
    elif mode == "ADMIN":
        elapsed = [0.0] * len(datasets)
    else:
        if any(a is None for a in acquisition):
            raise ValueError(tr(
                "DecayCorrection is NONE, so every slice needs AcquisitionDate and AcquisitionTime; "
                "{file} has none. {fix}.").format(file=files[acquisition.index(None)],
                                                  fix=_fix("SeriesDate")))
        elapsed = [(a - injection).total_seconds() for a in acquisition]
    if min(elapsed) < 0:
        raise ValueError(tr("the injection time {injection} is after the scan time in {file}; "
                            "check RadiopharmaceuticalStartDateTime / StartTime and SeriesTime.").format(
            injection=injection, file=files[0]))
    decay = np.array([2.0 ** (-t / info["half_life_s"]) for t in elapsed])
    factor = weight_kg * 1000.0 / (info["dose_bq"] * decay)  # g / Bq
    slices = [_bq_per_ml(ds, f) * k for ds, f, k in zip(datasets, files, factor)]
    if not details:
        return _as_image(slices, files, first, None)
    one = (lambda a: float(a[0])) if mode != "NONE" else (lambda a: a.tolist())
    return _as_image(slices, files, first, {
        "units": "BQML", "weight_kg": weight_kg, "injected_dose_bq": info["dose_bq"],
        "half_life_s": info["half_life_s"], "decay_correction": mode,
        "scan_time": scan, "injection_time": injection,
        "decay_time_s": one(np.array(elapsed)), "decay_factor": one(decay), "suv_factor": one(factor),
    })


# ----------------------------------------------------------------------------- helpers
def _as_image(slices, files, first, details):
    """Stack the slices (GDCM order) on the series grid; add ``details`` when asked."""
    import SimpleITK as sitk

    reference = _dicom.read_series(Path(files[0]).parent, str(first.SeriesInstanceUID))
    image = sitk.GetImageFromArray(np.stack(slices).astype(np.float32))
    image.CopyInformation(reference)
    return image if details is None else (image, details)


def _series_files(series, series_uid):
    path = Path(series).expanduser()
    if not path.exists():
        raise FileNotFoundError(tr("series {path!r} does not exist; pass the PET series folder.").format(
            path=str(path)))
    if path.is_file():
        series_uid = series_uid or _dicom.series_uid_of_file(path)
        path = path.parent
    found = _dicom.image_series(path)
    if not found:
        raise ValueError(_dicom._no_series_message(path))
    if series_uid is None:
        pet = {u: f for u, f in found.items()
               if str(_dicom.read_header(f[0]).get("Modality", "")).upper() == "PT"}
        if len(pet) != 1:
            raise ValueError(tr(
                "folder {folder!r} holds {n} PET (Modality PT) series among:\n{listing}\n"
                "Pass series_uid= the PET series' UID.").format(
                folder=str(path), n=len(pet), listing=_dicom.describe_series(found)))
        series_uid = next(iter(pet))
    elif series_uid not in found:
        raise ValueError(tr("series_uid {uid!r} is not in {folder!r}; it holds:\n{listing}").format(
            uid=series_uid, folder=str(path), listing=_dicom.describe_series(found)))
    files = found[series_uid]
    modality = str(_dicom.read_header(files[0]).get("Modality", "")).upper()
    if modality != "PT":
        raise ValueError(tr("series {uid} in {folder!r} is Modality {modality!r}, not PET "
                            "('PT'); SUV needs a PET series. Read other images with "
                            "read_image.").format(uid=series_uid, folder=str(path), modality=modality))
    return files


def _fix(tag):
    """What to do about a missing or wrong ``tag``, in the current language."""
    return tr(_FIX[tag])


def _missing(tag, where):
    return ValueError(tr("DICOM tag {tag} is missing or empty in {where}: {fix}.").format(
        tag=tag, where=where, fix=_fix(tag)))


def _text(ds, tag, where) -> str:
    value = ds.get(tag)
    if value is None or str(value).strip() == "":
        raise _missing(tag, where)
    return str(value).strip()


def _positive(ds, tag, where, unit, fix_key=None) -> float:
    value = ds.get(tag)
    if value is None or str(value).strip() == "":
        raise _missing(fix_key or tag, where)
    number = float(value)
    if not number > 0 or not math.isfinite(number):
        raise ValueError(tr("DICOM tag {tag} is {number} {unit} in {where}; it must be positive. "
                            "{fix}.").format(tag=tag, number=f"{number:g}", unit=unit, where=where,
                                             fix=_fix(fix_key or tag)))
    return number


def _check_units(ds, where):
    units = _text(ds, "Units", where).upper()
    suv_type = str(ds.get("SUVType") or "BW").strip().upper()
    if units == "GML" and suv_type != "BW":
        raise ValueError(tr("the series in {where} already holds SUV, but SUVType is {suv_type!r}, "
                            "not body weight ('BW'); use it as it is (radnb.io.read_image) and say "
                            "so.").format(where=where, suv_type=suv_type))
    if units not in ("BQML", "GML"):
        raise ValueError(tr(
            "DICOM tag Units is {units!r} in {where}; read_pet_suv converts activity "
            "concentration (Units BQML, Bq/mL) to SUV, or reads a series already in SUV (GML). "
            "{philips}{fix}.").format(
            units=units, where=where, fix=_fix("Units"),
            philips=tr("CNTS (Philips) needs the vendor's private SUV scale factor, which radnb "
                       "does not read. ") if units == "CNTS" else ""))
    corrected = [str(c).upper() for c in (ds.get("CorrectedImage") or [])]
    if corrected and "ATTN" not in corrected:
        raise ValueError(tr("CorrectedImage is {corrected} in {where}: the series is not attenuation "
                            "corrected (no ATTN), so its SUVs are meaningless. Use the attenuation-"
                            "corrected (AC) reconstruction.").format(corrected=corrected, where=where))
    return units


def _injection(ds, where) -> dict:
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    if not seq:
        raise _missing("RadiopharmaceuticalInformationSequence", where)
    item = seq[0]
    where = f"{where} (RadiopharmaceuticalInformationSequence[0])"
    return {"item": item,
            "dose_bq": _positive(item, "RadionuclideTotalDose", where, "Bq"),
            "half_life_s": _positive(item, "RadionuclideHalfLife", where, "s")}


def _injection_time(ds, info, where, acquisition):
    import datetime as dt

    item = info["item"]
    text = str(item.get("RadiopharmaceuticalStartDateTime") or "").strip()
    if text:
        return _parse_dt(text, "RadiopharmaceuticalStartDateTime", where)
    time_text = str(item.get("RadiopharmaceuticalStartTime") or "").strip()
    if not time_text:
        raise _missing("RadiopharmaceuticalStartDateTime", f"{where} (RadiopharmaceuticalInformationSequence[0])")
    scan = _scan_time(ds, acquisition, where)
    injection = dt.datetime.combine(scan.date(), _parse_tm(time_text, "RadiopharmaceuticalStartTime", where))
    return injection - dt.timedelta(days=1) if injection > scan else injection


def _scan_time(ds, acquisition, where):
    series = _datetime(ds, "SeriesDate", "SeriesTime")
    known = [a for a in acquisition if a is not None]
    earliest = min(known) if known else None
    if series is None and earliest is None:
        raise _missing("SeriesDate", where)
    if series is None or (earliest is not None and series > earliest):
        return earliest  # QIBA: a series time after the acquisition means a re-saved series
    return series


def _datetime(ds, date_tag, time_tag):
    import datetime as dt

    date, time = str(ds.get(date_tag) or "").strip(), str(ds.get(time_tag) or "").strip()
    if not date or not time:
        return None
    try:
        day = dt.datetime.strptime(date, "%Y%m%d").date()
    except ValueError as exc:
        raise ValueError(tr("{tag} {value!r} is not a DICOM date (YYYYMMDD).").format(
            tag=date_tag, value=date)) from exc
    return dt.datetime.combine(day, _parse_tm(time, time_tag, "the DICOM header"))


def _parse_tm(text, tag, where):
    import datetime as dt

    text = text.replace(":", "")
    main, _, frac = text.partition(".")
    try:
        h, m, s = int(main[0:2]), int(main[2:4] or 0), int(main[4:6] or 0)
        micro = int((frac + "000000")[:6]) if frac else 0
        return dt.time(h, m, s, micro)
    except ValueError as exc:
        raise ValueError(tr("{tag} {value!r} in {where} is not a DICOM time (HHMMSS.FFFFFF).").format(
            tag=tag, value=text, where=where)) from exc


def _parse_dt(text, tag, where):
    import datetime as dt

    main = text.split("+")[0].split("-")[0]  # UTC offsets: times are compared on one clock
    try:
        day = dt.datetime.strptime(main[:8], "%Y%m%d").date()
    except ValueError as exc:
        raise ValueError(tr("{tag} {value!r} in {where} is not a DICOM date-time "
                            "(YYYYMMDDHHMMSS.FFFFFF).").format(tag=tag, value=text, where=where)) from exc
    return dt.datetime.combine(day, _parse_tm(main[8:] or "000000", tag, where))


def _bq_per_ml(ds, where) -> np.ndarray:
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    if slope is None or intercept is None or str(slope).strip() == "" or str(intercept).strip() == "":
        tag = "RescaleSlope" if slope is None or str(slope).strip() == "" else "RescaleIntercept"
        raise ValueError(tr("DICOM tag {tag} is missing in {where}: {fix}.").format(
            tag=tag, where=where, fix=_fix("RescaleSlope")))
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        raise ValueError(tr("{where} is a multi-frame (enhanced) PET object; read_pet_suv reads "
                            "classic PET series with one file per slice.").format(where=where))
    return ds.pixel_array.astype(np.float64) * float(slope) + float(intercept)
