//! The structural rules of ebRIM 3.0 / XDS.b and XDS-I.b messages ([`crate::model::ebrim`]) and
//! their validators: the SOAP layer (`soap.rs`: SOAP 1.2, WS-Addressing, MTOM/XOP, the
//! RegistryResponse), ITI-41/RAD-68/ITI-42/ITI-57 submission metadata (`submission.rs`), ITI-18
//! requests and responses (`query.rs`), ITI-43 and RAD-69 requests and responses (`retrieve.rs`).
//!
//! Validators are pure functions over one message; each defect is a [`Violation`] citing its rule
//! and requirement. Rules that need another message or a registry's content (patient known, hash
//! of the attached bytes, response mirrors request) are left to the checks that hold that context
//! (`super::judge`) and to the actors. The embedded reference answers submissions and queries
//! with these same validators. Pinned editions: IHE ITI TF-2/TF-3 Rev. 20.0 (2023), IHE RAD
//! TF-2/TF-3 Rev. 22.0, OASIS ebRIM/ebRS 3.0 (2005).

mod query;
mod retrieve;
mod soap;
mod submission;

use crate::checks::rule::rules;
pub use crate::checks::rule::{has_errors, Rule, Violation};
pub use query::{validate_query_request, validate_query_response};
pub use retrieve::{
    validate_imaging_retrieve_request, validate_retrieve_request, validate_retrieve_response,
    RetrieveKind,
};
pub use soap::{
    validate_envelope, validate_mtom_content_type, validate_registry_response,
    validate_xop_references, Direction,
};
pub use submission::{validate_submission, SubmissionKind};

rules! {
    SOAP_01 = ("XDS-SOAP-01", "ITI TF-2 Appendix V.2.1", Shall, "The envelope uses SOAP 1.2");
    SOAP_02 = ("XDS-SOAP-02", "ITI TF-2 Appendix V; ITI TF-2 3.18/3.41/3.43 WSDL; RAD TF-2 4.69 WSDL", Shall, "wsa:Action is present, mustUnderstand, and equals the transaction's action");
    SOAP_03 = ("XDS-SOAP-03", "ITI TF-2 Appendix V", Shall, "A request carries wsa:MessageID; a response carries wsa:RelatesTo naming it");
    SOAP_04 = ("XDS-SOAP-04", "W3C MTOM; ITI TF-2 Appendix V", Shall, "MTOM Content-Type is multipart/related with type=application/xop+xml and start-info=application/soap+xml; action equals wsa:Action");
    SOAP_05 = ("XDS-SOAP-05", "W3C XOP 1.0 §3", Shall, "Every xop:Include resolves to a MIME part; no unreferenced parts");
    SOAP_07 = ("XDS-SOAP-07", "ITI TF-3 4.2.4", Shall, "Response status is one of the Success, Failure, PartialSuccess URNs");
    SOAP_08 = ("XDS-SOAP-08", "ITI TF-3 4.2.4.1", Shall, "Each RegistryError has errorCode, a valid severity and a non-empty codeContext");
    SOAP_09 = ("XDS-SOAP-09", "ITI TF-3 4.2.4.1", Shall, "A Failure response contains at least one RegistryError of severity Error");
    SOAP_11 = ("XDS-SOAP-11", "W3C SOAP 1.2 Part 1 §5", Shall, "The optional Header precedes the Body");
    SOAP_12 = ("XDS-SOAP-12", "ITI TF-2 Appendix V (standards reference §1.3)", Should, "A request carries wsa:ReplyTo and wsa:To");
    SOAP_13 = ("XDS-SOAP-13", "ITI TF-3 4.2.4.1; ebRS 3.0 §2.1.3", Shall, "A Success response carries no RegistryError of severity Error");
    SOAP_14 = ("XDS-SOAP-14", "ITI TF-3 Table 4.2.4.1-2", Should, "errorCode is one of the codes of ITI TF-3 Table 4.2.4.1-2");
    EBRIM_01 = ("EBRIM-01", "OASIS ebRIM 3.0 rim.xsd RegistryObjectType", Shall, "Children follow the schema order Slot*, Name?, Description?, VersionInfo?, Classification*, ExternalIdentifier*");
    EBRIM_02 = ("EBRIM-02", "RFC 4122 §3; OASIS ebRIM 3.0 (referenceURI)", Should, "Scheme and node UUID references contain no whitespace");
    ITI41_01 = ("ITI41-01", "ITI TF-3 4.1.4, 4.2.1", Shall, "Exactly one SubmissionSet RegistryPackage");
    ITI41_02 = ("ITI41-02", "ITI TF-3 4.2.5", Shall, "Every ExtrinsicObject has objectType = stable DocumentEntry");
    ITI41_03 = ("ITI41-03", "ITI TF-2 3.41.4.1.3", Shall, "Document and ExtrinsicObject ids pair one to one");
    ITI41_04 = ("ITI41-04", "ITI TF-3 4.2.3.2; ITI TF-2 3.41", Shall, "Object ids and DocumentEntry uniqueIds are unique in the message");
    ITI41_05 = ("ITI41-05", "ITI TF-3 Table 4.3.1-3", Shall, "Required DocumentEntry attributes are present; single-valued codes appear once");
    ITI41_06 = ("ITI41-06", "ITI TF-3 Table 4.3.1-3", Should, "R2 DocumentEntry attributes (author, serviceStartTime, serviceStopTime) are present");
    ITI41_07 = ("ITI41-07", "ITI TF-3 4.2.3.1.2", Shall, "Coded classifications have a nodeRepresentation, one codingScheme value and a Name");
    ITI41_08 = ("ITI41-08", "ITI TF-3 4.2.3.1", Shall, "ExternalIdentifiers have a scheme, a value and registryObject equal to their parent");
    ITI41_08N = ("ITI41-08N", "ITI TF-3 4.2.3.1", Should, "ExternalIdentifiers carry the standard Name string");
    ITI41_09 = ("ITI41-09", "ITI TF-2 3.41, 3.42", Shall, "DocumentEntry.patientId equals SubmissionSet.patientId");
    ITI41_10 = ("ITI41-10", "ITI TF-3 4.2.3.1.7", Shall, "patientId is id^^^&OID&ISO with a valid OID; sourcePatientId has an id and an assigning authority");
    ITI41_13 = ("ITI41-13", "ITI TF-3 4.2.2.1", Shall, "SubmissionSet-to-DocumentEntry HasMember carries SubmissionSetStatus Original");
    ITI41_14 = ("ITI41-14", "ITI TF-3 4.2.3.1.7", Shall, "DTM values are valid timestamps of at most 14 digits");
    ITI41_15 = ("ITI41-15", "ITI TF-3 4.2.3.2 (title)", Should, "Titles are at most 128 characters");
    ITI41_16 = ("ITI41-16", "RAD TF-2 4.68.4.1.2.1, 4.68.4.1.2.3.2 (RAD68-005, RAD68-022)", Shall, "An XDS-I.b manifest entry has mimeType application/dicom and the KOS formatCode");
    ITI41_23 = ("ITI41-23", "ITI TF-3 Table 4.3.1-3 (SubmissionSet)", Shall, "Required SubmissionSet attributes are present");
    ITI41_24 = ("ITI41-24", "ITI TF-3 4.2.2, 4.2.2.1", Shall, "Associations do not target themselves; every DocumentEntry is a HasMember of the SubmissionSet");
    ITI41_25 = ("ITI41-25", "ITI TF-3 4.2.3.1; OASIS ebRIM 3.0 §4.3", Shall, "A nested Classification classifies its parent; symbolic references resolve within the submission");
    ITI57_01 = ("ITI57-01", "ITI TF-2 3.57.4.1.3 (IPF LOGICAL_ID_SAME)", Shall, "A logical id appears at most once in one update request");
    ITI18_01 = ("ITI18-01", "ITI TF-2 3.18.4.1.2.3", Shall, "AdhocQuery/@id is a known stored query id");
    ITI18_02 = ("ITI18-02", "ITI TF-2 3.18.4.1.2.1", Shall, "ResponseOption/@returnType is LeafClass or ObjectRef");
    ITI18_03 = ("ITI18-03", "ITI TF-2 3.18.4.1.2.3.7", Shall, "Required query parameters are present");
    ITI18_04 = ("ITI18-04", "ITI TF-2 3.18.4.1.2.3.7", Shall, "Exactly one of mutually exclusive parameters is present");
    ITI18_05 = ("ITI18-05", "ITI TF-2 3.18.4.1.2.3.5-.6", Shall, "Values are quoted, lists parenthesised, codes carry a coding scheme");
    ITI18_05W = ("ITI18-05W", "ITI TF-2 3.18.4.1.2.3.5-.6", Should, "Timestamps are unquoted DTM; patient ids are CX id^^^&OID&ISO");
    ITI18_06 = ("ITI18-06", "ITI TF-2 3.18.4.1.2.3.6", Shall, "Status values are full StatusType URNs");
    ITI18_07 = ("ITI18-07", "ITI TF-2 3.18.4.1.2.3.6", Shall, "Only EventCodeList and ConfidentialityCode slots repeat");
    ITI18_08 = ("ITI18-08", "ITI TF-2 3.18.4.1.3", Shall, "Returned DocumentEntries carry objectType, status, hash, size and repositoryUniqueId");
    ITI18_09 = ("ITI18-09", "ITI TF-2 3.18.4.1.3", Shall, "An ObjectRef response holds only ObjectRefs");
    ITI18_10 = ("ITI18-10", "ITI TF-2 3.18.4.1.2.1 (returnType LeafClass)", Shall, "A LeafClass query is answered with the full objects, not ObjectRefs");
    ITI43_01 = ("ITI43-01", "ITI TF-2 3.43.4.1.2", Shall, "At least one DocumentRequest, each with RepositoryUniqueId and DocumentUniqueId");
    ITI43_02 = ("ITI43-02", "ITI TF-2 3.43.4.2.2", Shall, "Status agrees with the documents returned (Failure: none; PartialSuccess: some, with errors)");
    ITI43_03 = ("ITI43-03", "ITI TF-2 3.43.4.2.2", Shall, "Error-severity RegistryErrors of a retrieve use a retrieve error code");
    ITI43_03W = ("ITI43-03W", "ITI TF-2 3.43.4.2.2", Should, "RegistryErrors of a retrieve give the DocumentUniqueId as location");
    ITI39_01 = ("ITI39-01", "ITI TF-2 3.39.5 (HomeCommunityId required in Cross Gateway Retrieve), 3.43.4.2.2; RAD TF-3 4.75.4.2", Shall, "Every DocumentResponse of a cross-community retrieve carries HomeCommunityId");
    RAD69_01 = ("RAD69-01", "RAD TF-2 4.69.4.1.2", Shall, "At least one StudyRequest, each with a non-empty, well-formed studyInstanceUID");
    RAD69_02 = ("RAD69-02", "RAD TF-2 4.69.4.1.2", Shall, "Each StudyRequest has SeriesRequests with a non-empty, well-formed seriesInstanceUID");
    RAD69_03 = ("RAD69-03", "RAD TF-2 4.69.4.1.2", Shall, "Each SeriesRequest has DocumentRequests with RepositoryUniqueId and DocumentUniqueId");
    RAD69_04 = ("RAD69-04", "RAD TF-2 4.69.4.1.2", Shall, "TransferSyntaxUIDList holds at least one non-empty, well-formed UID");
    RAD69_05 = ("RAD69-05", "RAD TF-2 4.69.4.1.2; RAD TF-3 4.75.4.1.2", Shall, "HomeCommunityId is present when sent to an Imaging Gateway");
    RAD69_06 = ("RAD69-06", "RAD TF-2 4.69.4.2 (GAZ-R69)", Shall, "The response has a RegistryResponse; each DocumentResponse has ids, mimeType and Document");
}

pub(super) fn kind_name(k: crate::model::ebrim::ObjectKind) -> &'static str {
    match k {
        crate::model::ebrim::ObjectKind::ExtrinsicObject => "ExtrinsicObject",
        crate::model::ebrim::ObjectKind::RegistryPackage => "RegistryPackage",
    }
}

pub(super) fn show(s: Option<&str>) -> String {
    match s {
        Some(s) => crate::evidence::quote(s),
        None => "(absent)".to_owned(),
    }
}

#[cfg(test)]
mod tests;
