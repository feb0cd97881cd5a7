//! The transactions the harness speaks, one variant each: the id recorded in the evidence, the
//! profile, the initiating and responding actors, the SOAP actions and where MTOM/XOP is required.
//!
//! Every property is an exhaustive `match`, so a new variant makes the compiler list each place it
//! must be described; code that dispatches on a transaction matches on this enum rather than on
//! strings. The serialized form is the id (`RAD-107`), the string the evidence file names
//! (`NN-rad-107.json`), `results.json` and `junit.xml` carry. Transactions as numbered in the
//! pinned IHE Technical Frameworks (RAD TF-2 Rev. 22.0, ITI TF-2 Rev. 20.0, MHD 4.2.4), the
//! DICOMweb capabilities transaction in [DICOM PS3.18 §8.9](https://dicom.nema.org/medical/dicom/2026b/output/html/part18.html#sect_8.9),
//! the DIMSE services in [DICOM PS3.7](https://dicom.nema.org/medical/dicom/2026b/output/html/part07.html).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ebrim as e;

/// One transaction of the harness, as the evidence records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transaction {
    /// RAD-107 WADO-RS Retrieve.
    Rad107,
    /// RAD-108 Store Instances over the Web (STOW-RS).
    Rad108,
    /// RAD-129 QIDO-RS Query.
    Rad129,
    /// The DICOMweb capabilities of an origin server (`OPTIONS`, PS3.18 §8.9).
    Capabilities,
    /// ITI-18 Registry Stored Query.
    Iti18,
    /// ITI-41 Provide and Register Document Set-b.
    Iti41,
    /// ITI-43 Retrieve Document Set.
    Iti43,
    /// RAD-68 Provide and Register Imaging Document Set – MTOM/XOP.
    Rad68,
    /// RAD-69 Retrieve Imaging Document Set.
    Rad69,
    /// A SOAP request the simulators answered with a fault before its transaction was known.
    SoapFault,
    /// ITI-65 Provide Document Bundle.
    Iti65,
    /// ITI-66 Find Document Lists.
    Iti66,
    /// ITI-67 Find Document References.
    Iti67,
    /// ITI-68 Retrieve Document.
    Iti68,
    /// A plain FHIR interaction beside MHD (Patient search and read, the CapabilityStatement).
    Fhir,
    /// A DICOM association and its DIMSE messages (C-ECHO, C-FIND, C-MOVE, C-GET, C-STORE); the
    /// services it carried are in the exchange's operation and DIMSE record.
    Dimse,
    /// ITI-19 Authenticate Node: a TLS handshake judged for itself (ATNA).
    Iti19,
    /// ITI-20 Record Audit Event: an audit message a Secure Node sends to an Audit Record
    /// Repository (syslog over TLS or UDP).
    Iti20,
    /// ITI-81 Retrieve ATNA Audit Event: a FHIR search on AuditEvent (RESTful ATNA).
    Iti81,
    /// ITI-38 Cross Gateway Query (XCA): an Initiating Gateway asks a Responding Gateway.
    Iti38,
    /// ITI-39 Cross Gateway Retrieve (XCA).
    Iti39,
    /// RAD-160 Cross-community WADO-RS Retrieve (XC-WADO, IHE RAD MADO Rev 1.1 §X.4.1.3): a
    /// WADO-RS Retrieve through the imaging gateways of two communities.
    Rad160,
    /// RAD-75 Cross Gateway Retrieve Imaging Document Set (XCA-I): an Initiating Imaging Gateway
    /// asks a Responding Imaging Gateway.
    Rad75,
}

/// Which message of a transaction must be MTOM/XOP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mtom {
    /// The request (ITI TF-2 3.41.4.1.2, RAD TF-2 4.68.4.1.2).
    Request,
    /// The response (ITI TF-2 3.43.4.2.2, RAD TF-2 4.69.4.2).
    Response,
    /// Neither (or the transaction is not SOAP).
    None,
    /// Both (ITI TF-2 3.43.5, which ITI-39 inherits: request and response are MTOM/XOP).
    Both,
}

/// The DIMSE services a `@txn:` tag may name: they travel as [`Transaction::Dimse`].
pub const DIMSE_SERVICES: [&str; 5] = ["C-ECHO", "C-FIND", "C-GET", "C-MOVE", "C-STORE"];

/// A transaction id the harness does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transaction `{0}` (known: {known})", known = Transaction::known_ids())]
pub struct UnknownTransaction(pub String);

impl Transaction {
    /// Every transaction, in the order of the enum.
    pub const ALL: [Transaction; 23] = [
        Transaction::Rad107,
        Transaction::Rad108,
        Transaction::Rad129,
        Transaction::Capabilities,
        Transaction::Iti18,
        Transaction::Iti41,
        Transaction::Iti43,
        Transaction::Rad68,
        Transaction::Rad69,
        Transaction::SoapFault,
        Transaction::Iti65,
        Transaction::Iti66,
        Transaction::Iti67,
        Transaction::Iti68,
        Transaction::Fhir,
        Transaction::Dimse,
        Transaction::Iti19,
        Transaction::Iti20,
        Transaction::Iti81,
        Transaction::Iti38,
        Transaction::Iti39,
        Transaction::Rad160,
        Transaction::Rad75,
    ];

    /// The id the evidence records (`RAD-107`): evidence file names, `results.json`, `junit.xml`.
    pub const fn id(self) -> &'static str {
        match self {
            Transaction::Rad107 => "RAD-107",
            Transaction::Rad108 => "RAD-108",
            Transaction::Rad129 => "RAD-129",
            Transaction::Capabilities => "PS3.18-8.9",
            Transaction::Iti18 => "ITI-18",
            Transaction::Iti41 => "ITI-41",
            Transaction::Iti43 => "ITI-43",
            Transaction::Rad68 => "RAD-68",
            Transaction::Rad69 => "RAD-69",
            Transaction::SoapFault => "SOAP",
            Transaction::Iti65 => "ITI-65",
            Transaction::Iti66 => "ITI-66",
            Transaction::Iti67 => "ITI-67",
            Transaction::Iti68 => "ITI-68",
            Transaction::Fhir => "FHIR",
            Transaction::Dimse => "DIMSE",
            Transaction::Iti19 => "ITI-19",
            Transaction::Iti20 => "ITI-20",
            Transaction::Iti81 => "ITI-81",
            Transaction::Iti38 => "ITI-38",
            Transaction::Iti39 => "ITI-39",
            Transaction::Rad160 => "RAD-160",
            Transaction::Rad75 => "RAD-75",
        }
    }

    /// The profile, as the feature files tag it (`@profile:XDS-I.b`).
    pub const fn profile(self) -> &'static str {
        match self {
            Transaction::Rad107
            | Transaction::Rad108
            | Transaction::Rad129
            | Transaction::Capabilities => "DICOMweb",
            Transaction::Iti18
            | Transaction::Iti41
            | Transaction::Iti43
            | Transaction::Rad68
            | Transaction::Rad69
            | Transaction::SoapFault => "XDS-I.b",
            Transaction::Iti65
            | Transaction::Iti66
            | Transaction::Iti67
            | Transaction::Iti68
            | Transaction::Fhir => "MHD",
            Transaction::Dimse => "DIMSE",
            Transaction::Iti19 | Transaction::Iti20 | Transaction::Iti81 => "ATNA",
            Transaction::Iti38 | Transaction::Iti39 => "XCA",
            Transaction::Rad160 => "XC-WADO",
            Transaction::Rad75 => "XCA-I",
        }
    }

    /// The actor that sends the request.
    pub const fn initiator(self) -> &'static str {
        match self {
            Transaction::Rad107 | Transaction::Rad129 | Transaction::Rad69 => {
                "Imaging Document Consumer"
            }
            Transaction::Rad108 => "Image Source",
            Transaction::Capabilities => "DICOMweb user agent",
            Transaction::Iti18
            | Transaction::Iti43
            | Transaction::Iti66
            | Transaction::Iti67
            | Transaction::Iti68 => "Document Consumer",
            Transaction::Iti41 | Transaction::Iti65 => "Document Source",
            Transaction::Rad68 => "Imaging Document Source",
            Transaction::SoapFault => "SOAP sender",
            Transaction::Fhir => "FHIR client",
            Transaction::Dimse => "DICOM SCU",
            Transaction::Iti19 => "Secure Node (TLS client)",
            Transaction::Iti20 => "Secure Node (audit source)",
            Transaction::Iti81 => "Audit Consumer",
            Transaction::Iti38 | Transaction::Iti39 => "Initiating Gateway",
            Transaction::Rad160 => "Initiating Imaging Gateway",
            Transaction::Rad75 => "Initiating Imaging Gateway",
        }
    }

    /// The actor that answers.
    pub const fn responder(self) -> &'static str {
        match self {
            Transaction::Rad107 | Transaction::Rad129 | Transaction::Rad69 => {
                "Imaging Document Source"
            }
            Transaction::Rad108 => "Image Manager",
            Transaction::Capabilities => "DICOMweb origin server",
            Transaction::Iti18 => "Document Registry",
            Transaction::Iti41 | Transaction::Iti43 | Transaction::Rad68 => "Document Repository",
            Transaction::SoapFault => "XDS-I.b simulator",
            Transaction::Iti65 => "Document Recipient",
            Transaction::Iti66 | Transaction::Iti67 | Transaction::Iti68 => "Document Responder",
            Transaction::Fhir => "FHIR server",
            Transaction::Dimse => "DICOM SCP",
            Transaction::Iti19 => "Secure Node (TLS server)",
            Transaction::Iti20 | Transaction::Iti81 => "Audit Record Repository",
            Transaction::Iti38 | Transaction::Iti39 => "Responding Gateway",
            Transaction::Rad160 => "Responding Imaging Gateway",
            Transaction::Rad75 => "Responding Imaging Gateway",
        }
    }

    /// The WS-Addressing action of the request (ITI TF-2 Appendix V), for SOAP transactions.
    pub const fn soap_action(self) -> Option<&'static str> {
        match self {
            Transaction::Iti18 => Some(e::ACTION_STORED_QUERY),
            Transaction::Iti43 => Some(e::ACTION_RETRIEVE),
            Transaction::Rad69 => Some(e::ACTION_RETRIEVE_IMAGING),
            Transaction::Rad68 | Transaction::Iti41 => Some(e::ACTION_PNR),
            Transaction::Iti38 => Some(e::ACTION_XC_QUERY),
            Transaction::Iti39 => Some(e::ACTION_XC_RETRIEVE),
            Transaction::Rad75 => Some(e::ACTION_XC_RETRIEVE_IMAGING),
            Transaction::Rad107
            | Transaction::Rad108
            | Transaction::Rad129
            | Transaction::Capabilities
            | Transaction::SoapFault
            | Transaction::Iti65
            | Transaction::Iti66
            | Transaction::Iti67
            | Transaction::Iti68
            | Transaction::Fhir
            | Transaction::Dimse
            | Transaction::Iti19
            | Transaction::Iti20
            | Transaction::Iti81 => None,
            Transaction::Rad160 => None,
        }
    }

    /// The WS-Addressing action of the response, for SOAP transactions.
    pub const fn soap_response_action(self) -> Option<&'static str> {
        match self {
            Transaction::Iti18 => Some(e::ACTION_STORED_QUERY_RESPONSE),
            Transaction::Iti43 | Transaction::Rad69 => Some(e::ACTION_RETRIEVE_RESPONSE),
            Transaction::Rad68 | Transaction::Iti41 => Some(e::ACTION_PNR_RESPONSE),
            Transaction::Iti38 => Some(e::ACTION_XC_QUERY_RESPONSE),
            Transaction::Iti39 => Some(e::ACTION_XC_RETRIEVE_RESPONSE),
            Transaction::Rad75 => Some(e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE),
            Transaction::Rad107
            | Transaction::Rad108
            | Transaction::Rad129
            | Transaction::Capabilities
            | Transaction::SoapFault
            | Transaction::Iti65
            | Transaction::Iti66
            | Transaction::Iti67
            | Transaction::Iti68
            | Transaction::Fhir
            | Transaction::Dimse
            | Transaction::Iti19
            | Transaction::Iti20
            | Transaction::Iti81 => None,
            Transaction::Rad160 => None,
        }
    }

    /// Which message must be MTOM/XOP: the documents travel as XOP attachments.
    pub const fn mtom(self) -> Mtom {
        match self {
            Transaction::Rad68 | Transaction::Iti41 => Mtom::Request,
            Transaction::Iti43 | Transaction::Rad69 | Transaction::Rad75 => Mtom::Response,
            Transaction::Iti39 => Mtom::Both,
            Transaction::Iti38 => Mtom::None,
            Transaction::Rad107
            | Transaction::Rad108
            | Transaction::Rad129
            | Transaction::Capabilities
            | Transaction::Iti18
            | Transaction::SoapFault
            | Transaction::Iti65
            | Transaction::Iti66
            | Transaction::Iti67
            | Transaction::Iti68
            | Transaction::Fhir
            | Transaction::Dimse
            | Transaction::Iti19
            | Transaction::Iti20
            | Transaction::Iti81 => Mtom::None,
            Transaction::Rad160 => Mtom::None,
        }
    }

    /// The ids of every transaction, comma-separated, for error messages.
    fn known_ids() -> String {
        Transaction::ALL
            .iter()
            .map(|t| t.id())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Transaction {
    /// The transaction a scenario's `@txn:` tag names: a transaction id (`RAD-107`) or a DIMSE
    /// service (`C-MOVE`, carried by [`Transaction::Dimse`]).
    pub fn of_tag(value: &str) -> Result<Transaction, UnknownTransaction> {
        if DIMSE_SERVICES.contains(&value) {
            return Ok(Transaction::Dimse);
        }
        value.parse()
    }
}

impl FromStr for Transaction {
    type Err = UnknownTransaction;

    /// The transaction of an id as the evidence records it (`RAD-107`), or of a tag's value
    /// (`@txn:RAD-107` gives `RAD-107`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transaction::ALL
            .into_iter()
            .find(|t| t.id() == s)
            .ok_or_else(|| UnknownTransaction(s.to_string()))
    }
}

impl Serialize for Transaction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Transaction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_from_str_and_serde() {
        for t in Transaction::ALL {
            assert_eq!(t.id().parse::<Transaction>(), Ok(t));
            assert_eq!(t.to_string(), t.id());
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.id()));
            assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), t);
        }
    }

    #[test]
    fn ids_are_the_strings_the_evidence_records() {
        let ids: Vec<_> = Transaction::ALL.iter().map(|t| t.id()).collect();
        assert_eq!(
            ids,
            [
                "RAD-107",
                "RAD-108",
                "RAD-129",
                "PS3.18-8.9",
                "ITI-18",
                "ITI-41",
                "ITI-43",
                "RAD-68",
                "RAD-69",
                "SOAP",
                "ITI-65",
                "ITI-66",
                "ITI-67",
                "ITI-68",
                "FHIR",
                "DIMSE",
                "ITI-19",
                "ITI-20",
                "ITI-81",
                "ITI-38",
                "ITI-39",
                "RAD-160",
                "RAD-75"
            ]
        );
    }

    #[test]
    fn unknown_ids_are_a_typed_error() {
        let err = "RAD-99".parse::<Transaction>().unwrap_err();
        assert_eq!(err, UnknownTransaction("RAD-99".into()));
        assert!(err
            .to_string()
            .starts_with("unknown transaction `RAD-99` (known: RAD-107, "));
        assert!("rad-107".parse::<Transaction>().is_err());
        assert!(serde_json::from_str::<Transaction>("\"ITI-99\"").is_err());
    }

    #[test]
    fn soap_transactions_have_both_actions_and_only_they() {
        for t in Transaction::ALL {
            assert_eq!(
                t.soap_action().is_some(),
                t.soap_response_action().is_some(),
                "{t}"
            );
            if t.mtom() != Mtom::None {
                assert!(t.soap_action().is_some(), "{t}: MTOM without SOAP");
            }
        }
        assert_eq!(
            Transaction::Rad69.soap_action(),
            Some("urn:ihe:rad:2009:RetrieveImagingDocumentSet")
        );
        assert_eq!(Transaction::Rad68.mtom(), Mtom::Request);
        assert_eq!(Transaction::Iti43.mtom(), Mtom::Response);
        assert_eq!(Transaction::Iti18.mtom(), Mtom::None);
    }

    #[test]
    fn profiles_and_actors() {
        assert_eq!(Transaction::Iti67.profile(), "MHD");
        assert_eq!(Transaction::Iti67.responder(), "Document Responder");
        assert_eq!(Transaction::Rad68.initiator(), "Imaging Document Source");
        assert_eq!(Transaction::Rad68.responder(), "Document Repository");
        assert_eq!(Transaction::Capabilities.profile(), "DICOMweb");
        assert_eq!(Transaction::Dimse.profile(), "DIMSE");
        assert_eq!(Transaction::Iti20.profile(), "ATNA");
        assert_eq!(Transaction::Iti20.initiator(), "Secure Node (audit source)");
        assert_eq!(Transaction::Iti20.responder(), "Audit Record Repository");
        assert_eq!(Transaction::of_tag("ITI-20"), Ok(Transaction::Iti20));
        assert_eq!(Transaction::Iti38.profile(), "XCA");
        assert_eq!(Transaction::Iti38.responder(), "Responding Gateway");
        assert_eq!(
            Transaction::Iti38.soap_response_action(),
            Some("urn:ihe:iti:2007:CrossGatewayQueryResponse")
        );
        assert_eq!(
            Transaction::Iti39.soap_action(),
            Some("urn:ihe:iti:2007:CrossGatewayRetrieve")
        );
        assert_eq!(Transaction::Iti39.mtom(), Mtom::Both);
        assert_eq!(Transaction::Rad75.profile(), "XCA-I");
        assert_eq!(Transaction::Rad75.responder(), "Responding Imaging Gateway");
        assert_eq!(
            Transaction::Rad75.soap_action(),
            Some("urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSet")
        );
        assert_eq!(
            Transaction::Rad75.soap_response_action(),
            Some("urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSetResponse")
        );
        assert_eq!(Transaction::Rad75.mtom(), Mtom::Response);
    }
}
