//! DICOM Key Object Selection reading (model::kos::parse) and the manifest rules
//! (checks::kos::rules::validate) under the XDS-I.b and MADO profiles.
#![no_main]

use ihe_harness::checks::kos::rules::{validate, Rules};
use ihe_harness::model::kos;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = kos::parse(data) {
        let _ = validate(&m, &Rules::default());
        let _ = validate(
            &m,
            &Rules::mado()
                .with_repository_unique_id("1.2.3.4")
                .expecting_retrieve_ae_title(),
        );
        let _ = m.evidence_studies();
        let _ = m.evidence_series();
        let _ = m.is_mado_title();
        let _ = m.all_content_references();
    }
});
