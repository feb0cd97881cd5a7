//! Audit messages as an Audit Record Repository receives them: model::audit::dicom::parse (the
//! DICOM PS3.15 A.5 XML on the hardened reader), model::audit::fhir::parse (a FHIR AuditEvent),
//! the schema rules and every transaction table of checks::atna on what was read, and the
//! written XML read back.
#![no_main]

use ihe_harness::checks::atna::{self, transaction};
use ihe_harness::model::audit;
use libfuzzer_sys::fuzz_target;

fn judge(m: &audit::AuditMessage) {
    let _ = atna::validate_message(m);
    for a in transaction::Audited::ALL {
        for s in [transaction::Side::Initiator, transaction::Side::Responder] {
            let _ = transaction::validate(m, a, s, &transaction::AuditExpect::default());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = audit::dicom::parse(data) {
        judge(&m);
        // What was read is written and read back to the same message.
        let back = audit::dicom::parse(m.to_xml().as_bytes());
        assert!(back.is_ok());
    }
    if let Ok(m) = audit::fhir::parse(data) {
        judge(&m);
    }
    let _ = audit::parse_any(data);
});
