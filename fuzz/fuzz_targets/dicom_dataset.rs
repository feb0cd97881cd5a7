//! DICOM data sets as DIMSE carries them (no file meta), decoded the way the harness decodes what
//! a peer sends: `model::dicom_guard::read_dataset` in the three uncompressed transfer syntaxes,
//! and the identity walk of a received instance (`actors::dimse_scu::dataset::identity`).
#![no_main]

use dicom_transfer_syntax_registry::entries;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for ts in [
        entries::IMPLICIT_VR_LITTLE_ENDIAN.erased(),
        entries::EXPLICIT_VR_LITTLE_ENDIAN.erased(),
        entries::EXPLICIT_VR_BIG_ENDIAN.erased(),
    ] {
        let _ = ihe_harness::model::dicom_guard::read_dataset(data, &ts);
    }
    for ts in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"] {
        for complete in [true, false] {
            let _ = ihe_harness::actors::dimse_scu::dataset::identity(data, ts, complete);
        }
    }
});
