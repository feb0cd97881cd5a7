#!/usr/bin/env python3
"""Synthesize the ihe-harness DICOM fixture set: two patients, four studies, several modalities and transfer
syntaxes, plus an XDS-I.b style Key Object Selection (KOS) manifest per study, and an index.json inventory.

Needs: pip install pydicom==3.0.2 numpy;  apt: dcmtk (dcmcjpeg/dcmcrle/dcmcjpls/dcmconv), libgdcm-tools (gdcmconv)
(ci/install.sh installs all of it.)

  make-fixtures.py [OUTDIR]                  # the committed set (default OUTDIR: <repo>/fixtures/studies), ~8 MB
  make-fixtures.py OUTDIR --large-gb 1.05    # + one large ELE CT study (512x512x16-bit slices) for benchmarks
  make-fixtures.py OUTDIR --drimbox 1300     # + CT-DRIMBOX: a DRIMbox-like reference CT study (1,300 JPEG-LS
                                             #   lossless 512x512 slices, about 200 MB) for the @perf scenarios
                                             #   ([performance] study = "CT-DRIMBOX"; run with --fixtures OUTDIR)

Layout (paths in index.json are relative to OUTDIR):
  OUTDIR/<PatientID>/<StudyUID>/<SeriesNumber>_<Modality>_<TS>/<n>.dcm      instance as stored (any TS)
  OUTDIR/<PatientID>/<StudyUID>/<SeriesNumber>_<Modality>_<TS>/<n>.ele.dcm  same object in Explicit VR Little
                                                                            Endian (only for non-ELE instances)
  OUTDIR/<PatientID>/<StudyUID>/KOS/kos.dcm                                 XDS-I.b manifest of the study
  OUTDIR/index.json                                                         one entry per instance, sorted by path

Everything is deterministic: UIDs are derived from seed strings, dates are fixed, pixel noise comes from a
hash-based generator (not numpy's RNG), and index.json is written with sorted keys and sorted entries, so running
the script twice gives byte-identical output (given the same dcmtk / gdcm versions for the compressed files).
"""
import argparse, datetime, hashlib, json, math, os, shutil, subprocess, sys
import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRLittleEndian, CTImageStorage, MRImageStorage, SecondaryCaptureImageStorage,
                         DigitalXRayImageStorageForPresentation, UltrasoundMultiFrameImageStorage,
                         KeyObjectSelectionDocumentStorage)

ROOT = "2.25."  # UUID-derived UIDs: deterministic from a seed string so fixtures are reproducible
IMPL_UID = "1.2.826.0.1.3680043.10.1437.1"   # arbitrary, only used as ImplementationClassUID
ELE = "1.2.840.10008.1.2.1"
TS_NAMES = {"1.2.840.10008.1.2.1": "ELE", "1.2.840.10008.1.2": "ILE", "1.2.840.10008.1.2.4.50": "JPEGBaseline",
            "1.2.840.10008.1.2.4.70": "JPEGLossless", "1.2.840.10008.1.2.4.80": "JPEGLS", "1.2.840.10008.1.2.5": "RLE",
            "1.2.840.10008.1.2.4.90": "J2KLossless", "1.2.840.10008.1.2.4.91": "J2K"}
REPO_DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "fixtures", "studies")


def uid(*parts):
    return ROOT + str(int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:30], 16))


def noise(shape, seed, sigma):
    """Approximately normal noise, N(0, sigma), from a vectorised splitmix64 hash of (seed, index): stable across
    numpy versions (numpy's Generator streams are not guaranteed to be)."""
    n = int(np.prod(shape))
    with np.errstate(over="ignore"):
        x = np.arange(n, dtype=np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2 ** 64)
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    # Irwin-Hall: the sum of four 16-bit uniforms has mean 2 and variance 1/3.
    u = sum(((x >> np.uint64(16 * i)) & np.uint64(0xFFFF)).astype(np.float64) for i in range(4)) / 65536.0
    return ((u - 2.0) * math.sqrt(3.0) * sigma).reshape(shape)


def phantom(rows, cols, z, bits, rgb=False):
    y, x = np.mgrid[0:rows, 0:cols]
    cy, cx = rows / 2, cols / 2
    r = np.hypot(y - cy, x - cx)
    img = np.where(r < min(rows, cols) * 0.42, 1000.0, 0.0)  # body
    img += np.where(np.hypot(y - cy * 0.8, x - cx * 0.7) < rows * (0.06 + 0.03 * math.sin(z / 5)), 600, 0)  # moving blob
    img += np.where(np.hypot(y - cy * 1.2, x - cx * 1.3) < rows * 0.08, -400, 0)
    # noise keeps compression realistic: sigma 20 inside the body, 2 in the air around it (also keeps the
    # committed set small, the compressed files being most of what varies)
    img += noise((rows, cols), z, 1.0) * np.where(r < min(rows, cols) * 0.42, 20.0, 2.0)
    if rgb:
        g = np.clip(img / 1600 * 255, 0, 255).astype(np.uint8)
        return np.stack([g, np.roll(g, z, axis=1), 255 - g], axis=-1)
    if bits == 8:
        return np.clip(img / 1600 * 255, 0, 255).astype(np.uint8)
    return np.clip(img + 1024, 0, 4095).astype(np.uint16)


def base_ds(sop_class, sop_uid, pat, study, series, inst_no, when):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = IMPL_UID
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.InstanceCreationDate = when.strftime("%Y%m%d")
    ds.InstanceCreationTime = when.strftime("%H%M%S")
    # Patient
    ds.PatientName, ds.PatientID = pat["name"], pat["id"]
    ds.IssuerOfPatientID = pat["issuer"]
    ds.PatientBirthDate, ds.PatientSex = pat["birth"], pat["sex"]
    # General Study
    ds.StudyInstanceUID, ds.StudyID = study["uid"], study["id"]
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = when.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = when.strftime("%H%M%S")
    ds.AccessionNumber = study["accession"]
    ds.ReferringPhysicianName = "Referrer^Rita"
    ds.StudyDescription = study["description"]
    # General Series / Equipment
    ds.Modality = series["modality"]
    ds.SeriesInstanceUID, ds.SeriesNumber = series["uid"], series["number"]
    ds.SeriesDescription = series["description"]
    ds.Manufacturer, ds.InstitutionName = "SynthCo", "Conformance Test Hospital"
    ds.ManufacturerModelName, ds.DeviceSerialNumber, ds.SoftwareVersions = "Synth-1", "0001", "1.0"
    ds.InstanceNumber = inst_no
    return ds


def add_image(ds, arr, bits, photometric="MONOCHROME2"):
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    ds.PhotometricInterpretation = photometric
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    shape = arr.shape
    frames = shape[0] if arr.ndim == (4 if photometric == "RGB" else 3) else 1
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows, ds.Columns = shape[-3:-1] if photometric == "RGB" else shape[-2:]
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored = 8 if bits == 8 else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = arr.tobytes()


def make_ct_mr(ds, modality, z, rows, slice_mm=2.5):
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL" if modality == "CT" else "OTHER"]
    ds.FrameOfReferenceUID = uid(ds.StudyInstanceUID, "FoR")
    ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "HFS"
    corner = round(-rows / 2 * 0.7, 4)  # DS holds at most 16 characters
    ds.ImagePositionPatient = [corner, corner, round(-z * slice_mm, 4)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = slice_mm
    ds.SliceLocation = round(-z * slice_mm, 4)
    ds.AcquisitionNumber = 1
    ds.BodyPartExamined = "CHEST" if modality == "CT" else "HEAD"
    if modality == "CT":
        ds.KVP, ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 120, -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.ConvolutionKernel, ds.ExposureTime, ds.XRayTubeCurrent = "STANDARD", 1000, 200
    else:
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
        ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength, ds.MagneticFieldStrength = 500, 15, 1, 1.5
        ds.ImagedNucleus, ds.NumberOfAverages, ds.ImagingFrequency = "1H", 1, 63.8
        ds.WindowCenter, ds.WindowWidth = 1500, 3000


def save(ds, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def compress(path, ts):
    """Re-encode file in place into transfer syntax ts using dcmtk / gdcm CLI tools."""
    tmp = path + ".tmp"
    cmd = {"1.2.840.10008.1.2.4.50": ["dcmcjpeg", "+eb", "+un"],       # JPEG baseline (8-bit only)
           "1.2.840.10008.1.2.4.70": ["dcmcjpeg", "+e1", "+un"],       # JPEG lossless SV1
           "1.2.840.10008.1.2.5": ["dcmcrle"],
           "1.2.840.10008.1.2.4.80": ["dcmcjpls", "+el"],
           "1.2.840.10008.1.2.4.90": ["gdcmconv", "--j2k"],           # J2K lossless (gdcm)
           "1.2.840.10008.1.2": ["dcmconv", "+ti"]}[ts]
    subprocess.run(cmd + [path, tmp], check=True, capture_output=True)
    os.replace(tmp, path)


# Image Pixel module attributes that describe the encoded pixel bytes. An encoder may change them for its output
# (dcmcjpeg stores RGB input as YBR_FULL_422), so the ELE copy keeps its own values.
PIXEL_DESCRIPTION_TAGS = {0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011, 0x00280100,
                          0x00280101, 0x00280102, 0x00280103, 0x7FE00010}


def sync_ele_copy(ele_path, coded_path):
    """Give the ELE copy the data set of the encoded file, except the attributes that describe the pixel bytes
    and the pixel data itself: the encoders add attributes (DerivationDescription, DerivationCodeSequence, ImageType
    DERIVED, LossyImageCompressionRatio/Method). The pixel data stays the pre-compression original, which for the
    lossless syntaxes is exactly what decoding the encoded file gives."""
    ele, coded = dcmread(ele_path), dcmread(coded_path)
    changed = False
    for elem in coded:
        if elem.tag in PIXEL_DESCRIPTION_TAGS:
            continue
        if elem.tag not in ele or ele[elem.tag].VR != elem.VR or ele[elem.tag].value != elem.value:
            ele[elem.tag] = elem
            changed = True
    for tag in [e.tag for e in ele if e.tag not in coded and e.tag not in PIXEL_DESCRIPTION_TAGS]:
        del ele[tag]
        changed = True
    if changed:
        ele.save_as(ele_path, enforce_file_format=True)


def make_kos(outdir, pat, study, instances, when, retrieve_aet="ORTHANC", repo_uid="1.3.6.1.4.1.21367.13.80.110"):
    """Key Object Selection Document (XDS-I.b imaging manifest, TID 2010 'Manifest' title)."""
    sop = uid(study["uid"], "KOS")
    ser = {"modality": "KO", "uid": uid(study["uid"], "KOSseries"), "number": 999, "description": "XDS-I Manifest"}
    ds = base_ds(KeyObjectSelectionDocumentStorage, sop, pat, study, ser, 1, when)
    for k in ("ManufacturerModelName", "DeviceSerialNumber", "SoftwareVersions", "InstitutionName"):
        delattr(ds, k)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    cn = Dataset(); cn.CodeValue, cn.CodingSchemeDesignator, cn.CodeMeaning = "113030", "DCM", "Manifest"
    ds.ConceptNameCodeSequence = Sequence([cn])
    tpl = Dataset(); tpl.MappingResource, tpl.TemplateIdentifier = "DCMR", "2010"
    ds.ContentTemplateSequence = Sequence([tpl])
    # Current Requested Procedure Evidence: study -> series (+ RetrieveAETitle, RetrieveLocationUID for XDS-I) -> SOPs
    by_series = {}
    for i in instances:
        by_series.setdefault(i["series_uid"], []).append(i)
    ser_items = []
    for s_uid, insts in by_series.items():
        s = Dataset(); s.SeriesInstanceUID = s_uid
        s.RetrieveAETitle = retrieve_aet
        s.RetrieveLocationUID = repo_uid              # (0040,E011) XDS-I.b: Imaging Document Source repository OID
        s.ReferencedSOPSequence = Sequence()
        for i in insts:
            r = Dataset(); r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID = i["sop_class"], i["sop_uid"]
            s.ReferencedSOPSequence.append(r)
        ser_items.append(s)
    st = Dataset(); st.StudyInstanceUID = study["uid"]; st.ReferencedSeriesSequence = Sequence(ser_items)
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([st])
    # Content: optional title modifier/description + one IMAGE (or COMPOSITE) item per referenced instance
    content = []
    d = Dataset(); d.RelationshipType, d.ValueType = "CONTAINS", "TEXT"
    dcn = Dataset(); dcn.CodeValue, dcn.CodingSchemeDesignator, dcn.CodeMeaning = "113012", "DCM", "Key Object Description"
    d.ConceptNameCodeSequence = Sequence([dcn]); d.TextValue = "All images of study " + study["id"]
    content.append(d)
    for i in instances:
        it = Dataset(); it.RelationshipType = "CONTAINS"
        it.ValueType = "IMAGE" if i["sop_class"] != KeyObjectSelectionDocumentStorage else "COMPOSITE"
        r = Dataset(); r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID = i["sop_class"], i["sop_uid"]
        it.ReferencedSOPSequence = Sequence([r])
        content.append(it)
    ds.ContentSequence = Sequence(content)
    path = os.path.join(outdir, pat["id"], study["uid"], "KOS", "kos.dcm")
    save(ds, path)
    return path, sop


def entry(outdir, pat, study, series, sop_class, sop_uid, inst_no, frames, ts, path, **extra):
    e = dict(patient_id=pat["id"], patient_name=pat["name"], study_uid=study["uid"], study_alias=study["alias"],
             accession=study["accession"], study_date=study["date"], series_uid=series["uid"],
             series_number=series["number"], modality=series["modality"], sop_class=sop_class, sop_uid=sop_uid,
             instance_number=inst_no, number_of_frames=frames, transfer_syntax=ts,
             path=os.path.relpath(path, outdir), bytes=os.path.getsize(path))
    e.update(extra)
    return e


PATIENTS = [dict(id="CTH-0001", issuer="CTH", name="Doe^Jane", birth="19700101", sex="F"),
            dict(id="CTH-0002", issuer="CTH", name="Roe^Richard^^Dr", birth="19551231", sex="M")]
# (patient, study alias, study description, [(modality, n_images, rows, cols, bits, ts, kind)])
PLAN = [
    (0, "CT-CHEST", "CT CHEST W/O CONTRAST", [("CT", 24, 224, 224, 16, "1.2.840.10008.1.2.1", "ct"),
                                               ("CT", 12, 224, 224, 16, "1.2.840.10008.1.2.4.70", "ct"),
                                               ("CT", 6, 224, 224, 16, "1.2.840.10008.1.2.4.90", "ct")]),
    (0, "MR-BRAIN", "MR BRAIN", [("MR", 16, 128, 128, 16, "1.2.840.10008.1.2.5", "mr"),
                                 ("MR", 16, 128, 128, 16, "1.2.840.10008.1.2", "mr")]),
    (1, "DX-CHEST", "XR CHEST 2 VIEWS", [("DX", 2, 256, 256, 8, "1.2.840.10008.1.2.4.50", "dx")]),
    (1, "US-ABDOMEN", "US ABDOMEN", [("US", 1, 120, 160, 8, "1.2.840.10008.1.2.4.50", "us"),   # 10-frame RGB cine
                                     ("OT", 1, 256, 256, 8, "1.2.840.10008.1.2.4.80", "sc")]),  # SC, JPEG-LS
]
US_FRAMES = 10
SOP_CLASSES = {"ct": CTImageStorage, "mr": MRImageStorage, "dx": DigitalXRayImageStorageForPresentation,
               "us": UltrasoundMultiFrameImageStorage, "sc": SecondaryCaptureImageStorage}


def make_image(kind, ds, mod, k, rows, cols, bits):
    if kind in ("ct", "mr"):
        make_ct_mr(ds, mod, k, rows)
        add_image(ds, phantom(rows, cols, k, bits), bits)
    elif kind == "dx":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.PresentationIntentType, ds.PatientOrientation = "FOR PRESENTATION", ["L", "F"]
        ds.ImagerPixelSpacing = [0.3, 0.3]; ds.BurnedInAnnotation = "NO"; ds.BodyPartExamined = "CHEST"
        ds.ViewPosition = "PA" if k == 1 else "LL"
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
        ds.PresentationLUTShape, ds.LossyImageCompression = "IDENTITY", "01"
        ds.DetectorType = "SCINTILLATOR"
        ds.ImageLaterality, ds.PositionerType = "U", "NONE"
        ds.PixelIntensityRelationship, ds.PixelIntensityRelationshipSign = "LOG", 1
        ds.WindowCenter, ds.WindowWidth = 128, 256
        ds.AcquisitionContextSequence = Sequence()
        ar = Dataset(); ar.CodeValue, ar.CodingSchemeDesignator, ar.CodeMeaning = "51185008", "SCT", "Chest"
        ds.AnatomicRegionSequence = Sequence([ar])
        vc = Dataset(); vc.CodeValue, vc.CodingSchemeDesignator = ("399348003", "SCT") if k == 1 else ("260436004", "SCT")
        vc.CodeMeaning = "postero-anterior" if k == 1 else "left lateral"
        vc.ViewModifierCodeSequence = Sequence()
        ds.ViewCodeSequence = Sequence([vc])
        add_image(ds, phantom(rows, cols, k, 8), 8)
    elif kind == "us":
        ds.Laterality, ds.PatientOrientation = "", ""  # dciodvfy: absent Laterality is an error, empty a warning
        ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
        frames = np.stack([phantom(rows, cols, f, 8, rgb=True) for f in range(US_FRAMES)])
        ds.FrameTime, ds.FrameIncrementPointer = 33.3, (0x0018, 0x1063)
        ds.LossyImageCompression = "01"
        add_image(ds, frames, 8, "RGB")
    else:  # secondary capture
        ds.ConversionType = "WSD"; ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.Laterality, ds.PatientOrientation = "", ""  # dciodvfy: absent Laterality is an error, empty a warning
        add_image(ds, phantom(rows, cols, k, 8), 8)


def build(outdir, large_gb=0.0, drimbox=0):
    now = datetime.datetime(2026, 1, 15, 9, 30, 0)
    index = []
    for si, (pi, alias, desc, series_plan) in enumerate(PLAN):
        pat = PATIENTS[pi]
        when = now + datetime.timedelta(days=si * 7)
        study = dict(uid=uid("study", si), id=f"S{si + 1:03d}", accession=f"ACC{si + 1:05d}", description=desc,
                     alias=alias, date=when.strftime("%Y%m%d"))
        insts = []
        for sn, (mod, n, rows, cols, bits, ts, kind) in enumerate(series_plan, start=1):
            series = dict(modality=mod, uid=uid(study["uid"], sn), number=sn, description=f"{desc} series {sn}")
            sop_class = SOP_CLASSES[kind]
            for k in range(1, n + 1):
                sop_uid = uid(series["uid"], k)
                ds = base_ds(sop_class, sop_uid, pat, study, series, k, when)
                make_image(kind, ds, mod, k, rows, cols, bits)
                frames = int(ds.get("NumberOfFrames", 1))
                d = os.path.join(outdir, pat["id"], study["uid"], f"{sn:02d}_{mod}_{TS_NAMES[ts]}")
                path = os.path.join(d, f"{k:04d}.dcm")
                save(ds, path)
                extra = {}
                if ts != ELE:
                    ele_path = os.path.join(d, f"{k:04d}.ele.dcm")
                    shutil.copyfile(path, ele_path)     # the ELE original, written before compressing
                    compress(path, ts)
                    sync_ele_copy(ele_path, path)
                    extra["ele_path"] = os.path.relpath(ele_path, outdir)
                insts.append(entry(outdir, pat, study, series, sop_class, sop_uid, k, frames, ts, path, **extra))
        kos_path, kos_uid = make_kos(outdir, pat, study, insts, when)
        kos_series = dict(modality="KO", uid=uid(study["uid"], "KOSseries"), number=999)
        index += insts + [entry(outdir, pat, study, kos_series, KeyObjectSelectionDocumentStorage, kos_uid, 1, 0,
                                ELE, kos_path, kos=True)]
    if large_gb > 0:
        index += make_large(outdir, large_gb, now)
    if drimbox > 0:
        index += make_drimbox(outdir, drimbox, now)
    index.sort(key=lambda e: e["path"])
    with open(os.path.join(outdir, "index.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(index, f, indent=1, sort_keys=True, ensure_ascii=True)
        f.write("\n")
    return index


def make_large(outdir, gb, now):
    """Large CT study: 512x512x16-bit slices (~513 KiB each) -> ~2040 slices/GB, split into series of 500.
    Pixel data is copied from a few template arrays, so generation is I/O bound."""
    pat = dict(id="PERF-0001", issuer="CTH", name="Perf^Large", birth="19800101", sex="O")
    study = dict(uid=uid("large", gb), id="PERF1", accession="PERF00001", description=f"CT PERF {gb} GB",
                 alias="CT-PERF", date=now.strftime("%Y%m%d"))
    n = int(gb * 1024 ** 3 / (512 * 512 * 2 + 2000))
    templates = [phantom(512, 512, z, 16).tobytes() for z in range(8)]
    out = []
    for k in range(n):
        sn = k // 500 + 1
        series = dict(modality="CT", uid=uid(study["uid"], sn), number=sn, description=f"perf series {sn}")
        sop_uid = uid(series["uid"], k)
        ds = base_ds(CTImageStorage, sop_uid, pat, study, series, k % 500 + 1, now)
        make_ct_mr(ds, "CT", k, 512, slice_mm=0.625)
        add_image(ds, np.zeros((1, 1), np.uint16), 16)
        ds.Rows = ds.Columns = 512
        ds.PixelData = templates[k % len(templates)]
        path = os.path.join(outdir, pat["id"], study["uid"], f"{sn:02d}_CT_ELE", f"{k % 500 + 1:04d}.dcm")
        save(ds, path)
        out.append(entry(outdir, pat, study, series, CTImageStorage, sop_uid, k % 500 + 1, 1, ELE, path, large=True))
    return out


def make_drimbox(outdir, n, now):
    """A reference CT study like the one of the DRIMbox qualification (ANS, requirement DB.SO.102): n CT slices of
    512x512x16 bits, JPEG-LS lossless, in series of 325. Eight slices are encoded with dcmcjpls and their encoded
    pixel data reused, so generation is I/O bound. A fixture study like the others (not `large`), without ELE
    copies: the @perf scenarios retrieve it as stored (transfer-syntax=*)."""
    ts = "1.2.840.10008.1.2.4.80"
    pat = dict(id="DRB-0001", issuer="CTH", name="Drimbox^Reference", birth="19750101", sex="O")
    study = dict(uid=uid("drimbox", n), id="DRB1", accession="DRB00001", description="CT DRIMBOX REFERENCE",
                 alias="CT-DRIMBOX", date=now.strftime("%Y%m%d"))
    tmpl_dir = os.path.join(outdir, pat["id"], "templates")
    encoded = []
    for z in range(8):
        ds = base_ds(CTImageStorage, uid("drimbox-template", z), pat, study,
                     dict(modality="CT", uid=uid(study["uid"], "t"), number=0, description="t"), z + 1, now)
        make_ct_mr(ds, "CT", z, 512, slice_mm=0.625)
        add_image(ds, phantom(512, 512, z, 16), 16)
        path = os.path.join(tmpl_dir, f"{z}.dcm")
        save(ds, path)
        compress(path, ts)
        encoded.append(dcmread(path))
    shutil.rmtree(tmpl_dir)
    out = []
    for k in range(n):
        sn = k // 325 + 1
        series = dict(modality="CT", uid=uid(study["uid"], sn), number=sn, description=f"CT DRIMBOX series {sn}")
        sop_uid = uid(series["uid"], k)
        t = encoded[k % len(encoded)]
        ds = base_ds(CTImageStorage, sop_uid, pat, study, series, k % 325 + 1, now)
        make_ct_mr(ds, "CT", k, 512, slice_mm=0.625)
        for elem in t:
            if elem.tag in PIXEL_DESCRIPTION_TAGS or elem.tag.group == 0x0028:
                ds[elem.tag] = elem
        ds.file_meta.TransferSyntaxUID = ts
        path = os.path.join(outdir, pat["id"], study["uid"], f"{sn:02d}_CT_JPEGLS", f"{k % 325 + 1:04d}.dcm")
        save(ds, path)
        out.append(entry(outdir, pat, study, series, CTImageStorage, sop_uid, k % 325 + 1, 1, ts, path))
    return out


def prepare_outdir(outdir):
    """Start from an empty OUTDIR. Refuses to wipe a non-empty directory that is not a previous output."""
    if os.path.exists(outdir):
        if os.listdir(outdir) and not os.path.exists(os.path.join(outdir, "index.json")):
            sys.exit(f"refusing to delete {outdir}: not empty and has no index.json (not a fixture directory)")
        shutil.rmtree(outdir)
    os.makedirs(outdir)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?", default=os.path.normpath(REPO_DEFAULT_OUT),
                    help="output directory, wiped first (default: the repository's fixtures/studies)")
    ap.add_argument("--large-gb", type=float, default=0.0,
                    help="also write a large Explicit VR LE CT study of about this many GiB (entries have large=true)")
    ap.add_argument("--drimbox", type=int, default=0, metavar="N",
                    help="also write CT-DRIMBOX, a DRIMbox-like reference CT study of N JPEG-LS lossless slices "
                         "(the qualification's study has 1300, about 200 MB); outside the repository, never in CI")
    a = ap.parse_args()
    if a.drimbox > 0 and os.path.normpath(a.outdir) == os.path.normpath(REPO_DEFAULT_OUT):
        sys.exit("--drimbox writes a study of about 200 MB: give an OUTDIR outside the repository")
    prepare_outdir(a.outdir)
    idx = build(a.outdir, a.large_gb, a.drimbox)
    total = 0
    for dirpath, _, files in os.walk(a.outdir):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    n_ele = sum(1 for i in idx if "ele_path" in i)
    print(f"{len(idx)} instances (+{n_ele} ELE copies), {len({i['study_uid'] for i in idx})} studies, "
          f"{total / 1e6:.1f} MB -> {a.outdir}")
