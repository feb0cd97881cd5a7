//! Rules every responder obeys, whatever the protocol: a complete, valid request is answered; and
//! the one limit of the harness a responder can run into: an answer must fit in what the harness
//! reads to judge it.
//!
//! The harness tells apart a peer that could not be reached (connection refused, no answer within
//! the timeout: an Error, the network or the configuration may be at fault) from a peer that took a
//! complete, valid request and then closed the connection or aborted the association instead of
//! answering it: that peer broke the request/response contract of its protocol, which is a Fail.
//! The transport layer says which of the two happened in [`TransportFailure::kind`]
//! ([`PEER_CLOSED`]); [`record`](crate::steps::record) turns the second into a Fail of PEER-01.
//!
//! For HTTP (and the SOAP messages it carries) the rule is RFC 9112 (HTTP/1.1, June 2022):
//! - §9.6: "A server that receives a "close" connection option MUST initiate closure of the
//!   connection [...] after it sends the final response to the request that contained the "close"
//!   connection option." The harness sends every request with `Connection: close`, on a connection
//!   of its own, so a server that closes (FIN or RST) once the request is sent and before its final
//!   response is complete breaks this MUST. It also rules out the benign race of §9.5 ("a client
//!   might have started to send a new request at the same time that the server has decided to
//!   close the "idle" connection"): no connection is ever reused.
//! - §8: "A message that uses a valid Content-Length is incomplete if the size of the message body
//!   received (in octets) is less than the value given by Content-Length", and "A message body that
//!   uses the chunked transfer coding is incomplete if the zero-sized chunk that terminates the
//!   encoding has not been received": a response closed mid-body is no complete answer either. A
//!   body delimited by the close itself (neither) cannot be told from a complete one there; the
//!   multipart rules judge such a body's structure.
//!
//! SOAP: IHE web services are SOAP 1.2 over HTTP (ITI TF-2 Appendix V) and the harness asks for
//! the synchronous exchange (`wsa:ReplyTo` anonymous): the response travels in the HTTP response,
//! so the HTTP rules are the ones broken. (The Appendix V text itself says nothing more about a
//! closed connection that could be read here.) DICOM: PS3.7 §9.3 (each DIMSE-C request is answered by its
//! response on the association).
//!
//! A body the harness reads to judge it (JSON, XML, FHIR, the SOAP envelope, a document whose hash
//! it checks) is read up to `[limits] max_body_bytes` and no further, and a JSON or XML body is
//! parsed only if it holds at most `[limits] max_parsed_nodes` values or elements
//! ([`BODY_TOO_LARGE`]): an endless or gigantic answer cannot be judged, and reading or parsing it
//! would cost the run its memory and time. No standard sets these sizes (RFC 9110 §2.3: "HTTP does
//! not have specific length limitations for many of its protocol elements [...] interoperability
//! [...] depends on shared expectations regarding what is a reasonable length"; RFC 8259 §9: "An
//! implementation may set limits on the size of texts that it accepts"): BODY-01 is the harness's
//! limit, says so, and names the profile key that raises it.
//!
//! The same holds for a request a SUT sends to the harness's simulated actors (XDS-I.b, MHD): its
//! body is read up to the same limits, and past them refused with 413 and recorded with
//! [`BODY_TOO_LARGE`] ([`crate::reference::inbound`]).
//!
//! [`TransportFailure::kind`]: crate::evidence::TransportFailure

use super::{Check, Level, Subject, Verdict};

/// `TransportFailure::kind` of an exchange whose request was sent whole and which the peer then
/// closed (TCP FIN or RST, HTTP connection closed before the response was complete) or aborted
/// (DICOM A-ABORT, A-P-ABORT) without answering.
pub const PEER_CLOSED: &str = "peer-closed";

/// `TransportFailure::kind` of an exchange whose response body grew past `[limits]
/// max_body_bytes`: the transfer was stopped there.
pub const BODY_TOO_LARGE: &str = "body-too-large";

/// The rules.
pub const CHECKS: &[Check] = &[
    Check {
        id: "PEER-01",
        requirement:
            "RFC 9112 §9.6 (a request sent with Connection: close is answered by its final \
                      response before the server closes) and §8 (a response cut short of its \
                      Content-Length or last chunk is incomplete); SOAP: the same HTTP rules, \
                      SOAP 1.2 travelling over HTTP (ITI TF-2 Appendix V) in a synchronous \
                      request/response exchange; DICOM PS3.7 §9.3 (DIMSE-C: each request is \
                      answered by its response)",
        requirements: &["RFC9112-9.6", "RFC9112-8", "ITI2-V", "PS7-9.3"],
        level: Level::Shall,
        actor: "any responder",
        title: "A complete, valid request is answered; the responder does not close the \
                connection or abort the association instead",
        eval: answered,
    },
    Check {
        id: "BODY-01",
        requirement: "a limit of the harness, set in the SUT profile ([limits] max_body_bytes, \
                      max_parsed_nodes, max_parts), as RFC 9110 §2.3 (HTTP sets no length: interoperability \
                      depends on shared expectations of a reasonable length) and RFC 8259 §9 (a \
                      parser may limit the size of the texts it accepts) leave to the recipient",
        requirements: &["RFC9110-2.3", "RFC8259-9"],
        level: Level::Shall,
        actor: "any responder, and any initiator calling the harness's simulators",
        title: "A message the harness must read to judge it (an answer, or a request sent to the \
                harness's simulated actors) fits within the harness's limits (raise them in the \
                SUT profile if such messages are expected)",
        eval: within_limit,
    },
];

/// The registered check that a transport failure of this kind is a Fail of, with what was
/// expected, if it is the SUT's doing rather than the network's or the harness's.
pub fn check_of_failure(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        PEER_CLOSED => Some(("PEER-01", ANSWERED)),
        BODY_TOO_LARGE => Some(("BODY-01", WITHIN_LIMIT)),
        _ => None,
    }
}

const ANSWERED: &str = "an answer to the request";
const WITHIN_LIMIT: &str = "a message within the harness's [limits]";

fn answered(s: &Subject<'_>) -> Verdict {
    match &s.exchange.failure {
        Some(f) if f.kind == PEER_CLOSED => Verdict::fail(
            ANSWERED,
            format!("the peer closed without answering: {}", f.message),
        ),
        _ => Verdict::Pass,
    }
}

fn within_limit(s: &Subject<'_>) -> Verdict {
    match &s.exchange.failure {
        Some(f) if f.kind == BODY_TOO_LARGE => Verdict::fail(WITHIN_LIMIT, f.message.clone()),
        _ => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::{Exchange, TransportFailure};

    fn verdict(eval: fn(&Subject<'_>) -> Verdict, kind: &str) -> Verdict {
        let mut ex = Exchange::synthetic("http://x", &[], 200, &[], b"");
        ex.response = None;
        ex.failure = Some(TransportFailure {
            kind: kind.into(),
            message: "m".into(),
        });
        eval(&Subject {
            exchange: &ex,
            expect: &Expect::default(),
            strict: false,
            followups: &[],
        })
    }

    #[test]
    fn a_peer_that_closes_fails_and_a_refused_connect_does_not() {
        assert!(matches!(
            verdict(answered, PEER_CLOSED),
            Verdict::Fail { .. }
        ));
        assert_eq!(verdict(answered, "connect"), Verdict::Pass);
        assert_eq!(verdict(answered, "timeout"), Verdict::Pass);
    }

    #[test]
    fn an_answer_past_the_limit_fails_and_a_timeout_does_not() {
        assert!(matches!(
            verdict(within_limit, BODY_TOO_LARGE),
            Verdict::Fail { .. }
        ));
        assert_eq!(verdict(within_limit, "timeout"), Verdict::Pass);
        assert_eq!(verdict(within_limit, PEER_CLOSED), Verdict::Pass);
    }

    #[test]
    fn only_the_sut_s_failures_map_to_a_check() {
        assert_eq!(check_of_failure(PEER_CLOSED).map(|c| c.0), Some("PEER-01"));
        assert_eq!(
            check_of_failure(BODY_TOO_LARGE).map(|c| c.0),
            Some("BODY-01")
        );
        for kind in ["connect", "timeout", "read", "request", "config"] {
            assert_eq!(check_of_failure(kind), None);
        }
        for id in ["PEER-01", "BODY-01"] {
            assert!(crate::checks::by_id(id).is_some(), "{id} is registered");
        }
    }
}
