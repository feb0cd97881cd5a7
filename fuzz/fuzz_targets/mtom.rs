//! MTOM/XOP package reading (transport::soap::parse_mtom). The first input line is the HTTP
//! Content-Type value and the rest the body; the whole input is also tried as a body under a
//! fixed multipart/related Content-Type (boundary `b`, root `<root>`).
#![no_main]

use ihe_harness::transport::soap::{self, MtomLimits, MtomMessage, XmlLimits};
use libfuzzer_sys::fuzz_target;

const FIXED_CT: &str = r#"multipart/related; boundary=b; type="application/xop+xml"; start="<root>""#;

fn exercise(m: &MtomMessage) {
    let _ = m.envelope(&XmlLimits::default());
    for a in &m.attachments {
        let _ = a.data.len();
        if let Some(cid) = &a.content_id {
            let _ = m.resolve(&format!("cid:{cid}"));
        }
    }
    let _ = m.resolve("cid:root");
}

fuzz_target!(|data: &[u8]| {
    let limits = MtomLimits {
        // Small in-memory threshold so that the spill-to-hash path is reached too.
        max_attachment_in_memory: 1024,
        ..MtomLimits::default()
    };
    let (ct, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let ct = String::from_utf8_lossy(ct);
    let _ = soap::is_multipart_related(&ct);
    if let Ok(m) = soap::parse_mtom(&ct, body, &limits) {
        exercise(&m);
    }
    if let Ok(m) = soap::parse_mtom(FIXED_CT, data, &MtomLimits::default()) {
        exercise(&m);
    }
});
