//! FHIR JSON reading (checks::mhd::parse_fhir), typing into model::fhir::Resource, and the
//! ITI-65 Provide Document Bundle validator run on whatever JSON a system under test sends.
#![no_main]

use ihe_harness::checks::mhd;
use ihe_harness::model::fhir::Resource;
use libfuzzer_sys::fuzz_target;

const CT: &str = "application/fhir+json";

fuzz_target!(|data: &[u8]| {
    let Ok(v) = mhd::parse_fhir(data, Some(CT)) else {
        return;
    };
    if let Ok(r) = Resource::from_json(&v) {
        let _ = r.resource_type();
        let _ = r.to_json();
    }
    let _ = mhd::validate_provide_bundle(&v, Some(CT), true);
    let _ = mhd::validate_provide_bundle(&v, Some(CT), false);
});
