//! SOAP 1.1/1.2 envelope reading (transport::soap::parse_envelope) over the hardened XML reader.
#![no_main]

use ihe_harness::transport::soap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = soap::parse_envelope(data);
});
