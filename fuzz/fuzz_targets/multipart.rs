//! The streaming multipart/related parser (transport::multipart::MultipartParser) that reads
//! WADO-RS and STOW-RS bodies. Input: byte 0 picks the chunk sizes, byte 1 the limits, then a
//! boundary line (up to the first `\n`), then the body. The body is also parsed with the fixed
//! boundary `b`. Invariants that must hold without panicking: events are well nested and the
//! parser keeps returning errors once failed.
#![no_main]

use ihe_harness::transport::media_type::MediaType;
use ihe_harness::transport::multipart::{self, MultipartEvent, MultipartParser};
use libfuzzer_sys::fuzz_target;

fn run(mut parser: MultipartParser, body: &[u8], seed: u8) {
    let mut out: Vec<MultipartEvent> = Vec::new();
    let mut rest = body;
    let mut k = seed as usize;
    while !rest.is_empty() {
        // Chunk sizes cycle through 1..=(seed % 64 + 1), with a few large ones.
        let n = match k % 7 {
            0 => 4096,
            _ => (k % ((seed as usize % 64) + 1)) + 1,
        };
        k = k.wrapping_mul(31).wrapping_add(7);
        let n = n.min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        if parser.feed(chunk, &mut out).is_err() {
            // Once failed it must keep failing, without panicking.
            let _ = parser.feed(b"\r\n", &mut out);
            let _ = parser.finish(&mut out);
            return;
        }
        let _ = parser.buffered_len();
        if out.len() > 4096 {
            out.clear();
        }
    }
    let _ = parser.finish(&mut out);
    let _ = parser.parts_complete();
    let _ = parser.closed();
    for e in &out {
        if let MultipartEvent::PartStart { headers } = e {
            let _ = multipart::header(headers, "content-type");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let seed = data[0];
    let limits = data[1];
    let rest = &data[2..];
    let (line, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    // The boundary line is either a Content-Type value or a bare boundary.
    let boundary = match MediaType::parse(&line) {
        Ok(mt) => multipart::boundary_of(&mt).map(str::to_owned),
        Err(_) => None,
    }
    .unwrap_or_else(|| line.trim_end_matches('\r').to_owned());
    let parser = if limits & 1 == 0 {
        MultipartParser::new(&boundary)
    } else {
        MultipartParser::with_limits(&boundary, (limits as usize) * 4, (limits as usize) * 2)
    };
    run(parser, body, seed);
    run(MultipartParser::new("b"), rest, seed);
});
