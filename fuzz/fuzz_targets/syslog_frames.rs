//! Syslog as ITI-20 carries it: the RFC 5425 octet-counting frame decoder fed in the chunk sizes
//! byte 0 chooses (transport::syslog::FrameDecoder) with a small and the default frame limit, then
//! every frame through the RFC 5424 parser and the ATNA transport and schema rules
//! (checks::atna::validate_syslog), and the whole input as one UDP datagram.
#![no_main]

use ihe_harness::checks::atna::{self, Rules};
use ihe_harness::transport::syslog::{self, FrameDecoder, DEFAULT_MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, rest) = match data.split_first() {
        Some((f, r)) => (usize::from(*f), r),
        None => return,
    };
    let chunk = first % 17 + 1;
    for max in [64, DEFAULT_MAX_FRAME] {
        let mut d = FrameDecoder::new(max);
        let mut frames = Vec::new();
        for piece in rest.chunks(chunk) {
            d.push(piece);
            // The decoder never holds more than one bounded frame.
            assert!(d.buffered() <= max + 11 + chunk);
            loop {
                match d.next_frame() {
                    Ok(Some(f)) => {
                        assert!(f.len() <= max);
                        frames.push(f);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let _ = d.finish();
        for f in &frames {
            let _ = atna::validate_syslog(f, &Rules::default());
        }
    }
    if let Ok(m) = syslog::parse_message(rest) {
        // What parses writes back to the same message.
        assert_eq!(syslog::parse_message(&m.to_bytes()).ok().as_ref(), Some(&m));
    }
    let _ = atna::validate_syslog(rest, &Rules::default());
});
