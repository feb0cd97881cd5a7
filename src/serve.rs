//! What `ihe-harness serve` does besides running the embedded reference: it judges every message
//! a SUT sends to the simulated XDS-I.b and MHD actors as it arrives, with the rules that bind
//! that message (the SOAP and ebRIM rules of XDS-I.b, FHIR-01 and the MHD rules of an MHD
//! request), so that a person driving a client SUT at a connectathon sees each verdict at once.

use crate::checks::{self, Expect, Finding, Outcome, Subject};
use crate::evidence::Exchange;
use crate::transaction::Transaction;

/// The verdicts on one inbound message.
#[derive(Debug, Clone)]
pub struct InboundVerdict {
    /// How many of the rules that apply passed.
    pub passed: usize,
    /// The rules that failed.
    pub failed: Vec<Finding>,
}

/// The rules that judge an inbound message of `transaction`: the SOAP rules for XDS messages;
/// FHIR-01 and the MHD rules for MHD requests.
pub fn inbound_rules(transaction: Transaction) -> &'static [checks::Check] {
    match transaction {
        Transaction::Iti65 | Transaction::Iti66 | Transaction::Iti67 | Transaction::Iti68 => {
            checks::mhd::CHECKS
        }
        Transaction::Rad107
        | Transaction::Rad108
        | Transaction::Rad129
        | Transaction::Capabilities
        | Transaction::Iti18
        | Transaction::Iti41
        | Transaction::Iti43
        | Transaction::Rad68
        | Transaction::Rad69
        | Transaction::SoapFault
        | Transaction::Fhir
        | Transaction::Dimse
        | Transaction::Iti38
        | Transaction::Iti39
        | Transaction::Rad75 => checks::xds::CHECKS,
        Transaction::Rad160 => checks::dicomweb::CHECKS,
        Transaction::Iti19 | Transaction::Iti20 | Transaction::Iti81 => &[],
    }
}

/// Judge an inbound message with the rules of its transaction (not strict, nothing expected of
/// it beyond what the message itself says); the rules that do not apply are left out.
pub fn judge_inbound(ex: &Exchange) -> InboundVerdict {
    let expect = Expect::default();
    let subject = Subject {
        exchange: ex,
        expect: &expect,
        strict: false,
        followups: &[],
    };
    let findings: Vec<Finding> = checks::evaluate_all(inbound_rules(ex.transaction), &subject)
        .into_iter()
        .filter(|f| f.outcome != Outcome::NotApplicable)
        .collect();
    let passed = findings
        .iter()
        .filter(|f| f.outcome == Outcome::Pass)
        .count();
    InboundVerdict {
        passed,
        failed: findings.into_iter().filter(|f| f.is_failure()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mhd_requests_are_judged_by_the_mhd_rules_and_the_rest_by_the_xds_rules() {
        let ids = |rules: &[checks::Check]| rules.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(inbound_rules(Transaction::Iti65)),
            ids(checks::mhd::CHECKS)
        );
        assert_eq!(
            ids(inbound_rules(Transaction::Rad68)),
            ids(checks::xds::CHECKS)
        );
        assert_ne!(ids(checks::mhd::CHECKS), ids(checks::xds::CHECKS));
    }
}
