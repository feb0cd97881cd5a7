//! DIMSE command set decoding (dimse::command::decode), and encode → decode on what it read.
#![no_main]

use ihe_harness::dimse::command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = command::decode(data) {
        let _ = c.name();
        let _ = c.has_data_set();
        let bytes = command::encode(&c);
        let _ = command::decode(&bytes);
    }
});
