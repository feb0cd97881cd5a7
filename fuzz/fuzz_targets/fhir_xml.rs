//! FHIR XML → JSON conversion (model::fhir::xml), its JSON → XML inverse on the result, and the
//! R4 element-order judge. Bytes come from an MHD system under test (application/fhir+xml).
#![no_main]

use ihe_harness::model::fhir::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = xml::to_json(data) {
        if let Ok(out) = xml::from_json(&v) {
            let _ = xml::to_json(out.as_bytes());
        }
    }
    let _ = xml::order_violations(data, 10);
});
