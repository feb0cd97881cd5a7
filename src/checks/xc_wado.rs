//! XC-WADO (IHE RAD MADO Rev 1.1): the Responding Imaging Gateway answers Cross-community WADO-RS
//! Retrieve (RAD-160).
//!
//! XCW-05 (SHALL): "A Requester and a Responder in the XC-WADO Profile shall support the 'Get
//! Instances' message pair as defined in DICOM PS3.18" (MADO §4.107.4.0.5): a Get Instances of a
//! study, a series or an instance of the gateway's community, through the gateway, is answered
//! with the instances: a 2xx status and a `multipart/related` body of `application/dicom` parts
//! (PS3.18 §10.4.3, Table 8.7.3-2 for the media type). What the instances are (every instance of
//! the target and nothing else, their transfer syntax, the patient) is judged by the WADO-RS
//! checks (DW-xx) on the same exchange, as for any origin server.
//!
//! Not judged: the status of a request naming an unknown community or Retrieve Location UID (MADO
//! fixes none), and how the gateway reaches its image source.

use crate::checks::{Check, Level, Subject, Verdict};
use crate::transaction::Transaction;

/// The checks of the family.
#[rustfmt::skip]
pub const CHECKS: &[Check] = &[
    Check { id: "XCW-05", requirement: "IHE RAD MADO Rev 1.1 §4.107.4.0.5 (XC-WADO Get Instances); DICOM PS3.18 §10.4.3", requirements: &["MADO-4.107.4.0.5"], level: Level::Shall, actor: "XC-WADO Responding Imaging Gateway", title: "The gateway answers a Get Instances of its community's study, series or instance with the instances (2xx, multipart/related of application/dicom)", eval: xcw_05 },
];

fn xcw_05(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Rad160 {
        return Verdict::na("not a Cross-community WADO-RS Retrieve");
    }
    let Some(r) = &ex.response else {
        return Verdict::na("no answer to judge");
    };
    let expected =
        "a 2xx answer with multipart/related; type=\"application/dicom\" (Get Instances)";
    if !(200..300).contains(&r.status) {
        return Verdict::fail(expected, format!("HTTP {}", r.status));
    }
    let header = crate::evidence::find_header(&r.headers, "content-type").unwrap_or_default();
    let ct = header.to_ascii_lowercase().replace(' ', "");
    if ct.starts_with("multipart/related") && ct.contains("type=\"application/dicom\"")
        || ct.contains("type=application/dicom")
    {
        Verdict::Pass
    } else {
        Verdict::fail(
            expected,
            format!(
                "Content-Type {}",
                if header.is_empty() { "(none)" } else { header }
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::Exchange;

    fn judge(transaction: Transaction, status: u16, ct: &str) -> Verdict {
        let mut ex = Exchange::synthetic(
            "http://rig/wado-rs/homeCommunityId/1.2/RetrieveLocationUID/1.3/studies/1.4",
            &[],
            status,
            &[("content-type", ct)],
            b"",
        );
        ex.transaction = transaction;
        let e = Expect::default();
        xcw_05(&Subject {
            exchange: &ex,
            expect: &e,
            strict: false,
            followups: &[],
        })
    }

    #[test]
    fn instances_pass_and_a_refusal_or_other_media_type_fails() {
        let dicom = "multipart/related; type=\"application/dicom\"; boundary=x";
        assert_eq!(judge(Transaction::Rad160, 200, dicom), Verdict::Pass);
        assert_eq!(
            judge(
                Transaction::Rad160,
                200,
                "multipart/related;type=application/dicom;boundary=x"
            ),
            Verdict::Pass
        );
        assert!(
            matches!(judge(Transaction::Rad160, 404, "text/plain"), Verdict::Fail { actual, .. } if actual == "HTTP 404")
        );
        assert!(matches!(
            judge(Transaction::Rad160, 200, "application/dicom+json"),
            Verdict::Fail { .. }
        ));
        assert!(matches!(
            judge(Transaction::Rad107, 404, "text/plain"),
            Verdict::NotApplicable(_)
        ));
    }
}
