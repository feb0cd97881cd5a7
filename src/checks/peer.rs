//! Rules every responder obeys, whatever the protocol: a complete, valid request is answered.
//!
//! The harness tells apart a peer that could not be reached (connection refused, no answer within
//! the timeout: an Error, the network or the configuration may be at fault) from a peer that took a
//! complete, valid request and then closed the connection or aborted the association instead of
//! answering it: that peer broke the request/response contract of its protocol, which is a Fail.
//! The transport layer says which of the two happened in [`TransportFailure::kind`]
//! ([`PEER_CLOSED`]); [`record`](crate::steps::record) turns the second into a Fail of PEER-01.
//!
//! [`TransportFailure::kind`]: crate::evidence::TransportFailure

use super::{Check, Level, Subject, Verdict};

/// `TransportFailure::kind` of an exchange whose request was sent whole and which the peer then
/// closed (TCP FIN or RST, HTTP connection closed before the response was complete) or aborted
/// (DICOM A-ABORT, A-P-ABORT) without answering.
pub const PEER_CLOSED: &str = "peer-closed";

/// The rules.
pub const CHECKS: &[Check] = &[Check {
    id: "PEER-01",
    requirement: "RFC 9110 §3.3, RFC 9112 §9.6 (HTTP: a request is answered by a response before \
                  the server closes); DICOM PS3.7 §9.3 (DIMSE-C: each request is answered by its \
                  response)",
    level: Level::Shall,
    actor: "any responder",
    title: "A complete, valid request is answered; the responder does not close the connection or \
            abort the association instead",
    eval: answered,
}];

fn answered(s: &Subject<'_>) -> Verdict {
    match &s.exchange.failure {
        Some(f) if f.kind == PEER_CLOSED => Verdict::fail(
            "an answer to the request",
            format!("the peer closed without answering: {}", f.message),
        ),
        _ => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::{Exchange, TransportFailure};

    fn verdict(kind: &str) -> Verdict {
        let mut ex = Exchange::synthetic("http://x", &[], 200, &[], b"");
        ex.response = None;
        ex.failure = Some(TransportFailure {
            kind: kind.into(),
            message: "m".into(),
        });
        answered(&Subject {
            exchange: &ex,
            expect: &Expect::default(),
            strict: false,
            followups: &[],
        })
    }

    #[test]
    fn a_peer_that_closes_fails_and_a_refused_connect_does_not() {
        assert!(matches!(verdict(PEER_CLOSED), Verdict::Fail { .. }));
        assert_eq!(verdict("connect"), Verdict::Pass);
        assert_eq!(verdict("timeout"), Verdict::Pass);
    }
}
