//! ebXML Registry (ebRIM/ebRS 3.0) messages as XDS.b and XDS-I.b use them: parsing into typed
//! structs, builders for the requests the harness sends, and the syntax of their values (OID, CX,
//! DTM, stored query values).
//!
//! Transactions covered: ITI-41 Provide and Register Document Set-b and its imaging twin RAD-68
//! (`xdsb:ProvideAndRegisterDocumentSetRequest`, `lcm:SubmitObjectsRequest`), ITI-42/ITI-57
//! metadata, ITI-18 Registry Stored Query (`query:AdhocQueryRequest`/`Response`), ITI-43 Retrieve
//! Document Set, RAD-69 Retrieve Imaging Document Set (and RAD-75, its cross-gateway form), and
//! `rs:RegistryResponse`. Pinned editions: IHE ITI TF-2/TF-3 Rev. 20.0 (2023), IHE RAD TF-2/TF-3
//! Rev. 22.0, OASIS ebRIM/ebRS 3.0 (2005). Identifiers are copied from the project's standards
//! reference (§1-5), itself taken from IPF `Vocabulary.java` and the IHE schemas.
//!
//! Parsing never judges: a missing attribute becomes `None`, so that the validators of
//! `checks::xds::rules` can report each defect citing its rule and requirement.

use std::collections::HashSet;

use base64::Engine as _;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::transport::soap::{parse_xml, XmlElement, XmlError, XmlLimits, NS_XOP};

// ---------------------------------------------------------------------------------------------
// Namespaces (standards reference §1.1)

/// `xdsb` namespace: `urn:ihe:iti:xds-b:2007`.
pub const NS_XDSB: &str = "urn:ihe:iti:xds-b:2007";
/// `xdsi` namespace (RAD-69/RAD-75): `urn:ihe:rad:xdsi-b:2009`.
pub const NS_XDSI: &str = "urn:ihe:rad:xdsi-b:2009";
/// ebRIM 3.0 namespace.
pub const NS_RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
/// ebRS 3.0 life-cycle management namespace.
pub const NS_LCM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
/// ebRS 3.0 query namespace.
pub const NS_QUERY: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
/// ebRS 3.0 registry services namespace.
pub const NS_RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";

// ---------------------------------------------------------------------------------------------
// SOAP actions (§1.2)

/// ITI-41 / RAD-68 request action.
pub const ACTION_PNR: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
/// ITI-41 / RAD-68 response action.
pub const ACTION_PNR_RESPONSE: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse";
/// ITI-18 request action.
pub const ACTION_STORED_QUERY: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
/// ITI-18 response action.
pub const ACTION_STORED_QUERY_RESPONSE: &str = "urn:ihe:iti:2007:RegistryStoredQueryResponse";
/// ITI-43 request action.
pub const ACTION_RETRIEVE: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
/// ITI-43 response action, reused by RAD-69 (§12 pitfall 4).
pub const ACTION_RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:RetrieveDocumentSetResponse";
/// RAD-69 request action.
pub const ACTION_RETRIEVE_IMAGING: &str = "urn:ihe:rad:2009:RetrieveImagingDocumentSet";
/// ITI-39 Cross Gateway Retrieve response action (seen in corpus responses).
pub const ACTION_XC_RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieveResponse";

// ---------------------------------------------------------------------------------------------
// Object types, classification nodes and schemes (§2.2)

/// DocumentEntry objectType, stable.
pub const DOC_ENTRY_STABLE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
/// DocumentEntry objectType, on-demand (never in ITI-41).
pub const DOC_ENTRY_ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
/// SubmissionSet classification node.
pub const SUBMISSION_SET_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
/// Folder classification node.
pub const FOLDER_NODE: &str = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";
/// Association documentation classification scheme.
pub const ASSOCIATION_DOCUMENTATION_SCHEME: &str = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3";
/// ebRIM objectType of a Classification.
pub const OBJECT_TYPE_CLASSIFICATION: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification";
/// ebRIM objectType of an ExternalIdentifier.
pub const OBJECT_TYPE_EXTERNAL_IDENTIFIER: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier";
/// ebRIM objectType of an Association.
pub const OBJECT_TYPE_ASSOCIATION: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association";
/// availabilityStatus Approved.
pub const STATUS_APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
/// availabilityStatus Deprecated.
pub const STATUS_DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
/// availabilityStatus Submitted.
pub const STATUS_SUBMITTED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted";

/// DocumentEntry.author classification scheme.
pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
/// DocumentEntry.classCode.
pub const DE_CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
/// DocumentEntry.confidentialityCode.
pub const DE_CONFIDENTIALITY_CODE: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
/// DocumentEntry.eventCodeList.
pub const DE_EVENT_CODE: &str = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
/// DocumentEntry.formatCode.
pub const DE_FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
/// DocumentEntry.healthcareFacilityTypeCode.
pub const DE_HEALTHCARE_FACILITY_TYPE_CODE: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
/// DocumentEntry.limitedMetadata (prohibited in XDS).
pub const DE_LIMITED_METADATA: &str = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85";
/// DocumentEntry.patientId external identifier scheme.
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
/// DocumentEntry.practiceSettingCode.
pub const DE_PRACTICE_SETTING_CODE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
/// DocumentEntry.typeCode.
pub const DE_TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
/// DocumentEntry.uniqueId external identifier scheme.
pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
/// SubmissionSet.author classification scheme.
pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
/// SubmissionSet.contentTypeCode.
pub const SS_CONTENT_TYPE_CODE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
/// SubmissionSet.patientId.
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
/// SubmissionSet.sourceId.
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
/// SubmissionSet.uniqueId.
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
/// SubmissionSet.limitedMetadata (prohibited in XDS).
pub const SS_LIMITED_METADATA: &str = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707";
/// Folder.codeList.
pub const FOLDER_CODE_LIST: &str = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5";
/// Folder.patientId.
pub const FOLDER_PATIENT_ID: &str = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a";
/// Folder.uniqueId.
pub const FOLDER_UNIQUE_ID: &str = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";
/// Folder.limitedMetadata.
pub const FOLDER_LIMITED_METADATA: &str = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03";

/// ExternalIdentifier Name of DocumentEntry.patientId.
pub const NAME_DE_PATIENT_ID: &str = "XDSDocumentEntry.patientId";
/// ExternalIdentifier Name of DocumentEntry.uniqueId.
pub const NAME_DE_UNIQUE_ID: &str = "XDSDocumentEntry.uniqueId";
/// ExternalIdentifier Name of SubmissionSet.patientId.
pub const NAME_SS_PATIENT_ID: &str = "XDSSubmissionSet.patientId";
/// ExternalIdentifier Name of SubmissionSet.sourceId.
pub const NAME_SS_SOURCE_ID: &str = "XDSSubmissionSet.sourceId";
/// ExternalIdentifier Name of SubmissionSet.uniqueId.
pub const NAME_SS_UNIQUE_ID: &str = "XDSSubmissionSet.uniqueId";
/// ExternalIdentifier Name of Folder.patientId.
pub const NAME_FOLDER_PATIENT_ID: &str = "XDSFolder.patientId";
/// ExternalIdentifier Name of Folder.uniqueId.
pub const NAME_FOLDER_UNIQUE_ID: &str = "XDSFolder.uniqueId";

/// Slot carrying the referenceIdList.
pub const SLOT_REFERENCE_ID_LIST: &str = "urn:ihe:iti:xds:2013:referenceIdList";
/// CXi type code of a Study Instance UID reference.
pub const REFERENCE_ID_STUDY_INSTANCE_UID: &str = "urn:ihe:iti:xds:2016:studyInstanceUID";
/// CXi type code of an accession number reference.
pub const REFERENCE_ID_ACCESSION: &str = "urn:ihe:iti:xds:2013:accession";

// Association types (§2.2)
/// HasMember.
pub const ASSOC_HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
/// RPLC.
pub const ASSOC_RPLC: &str = "urn:ihe:iti:2007:AssociationType:RPLC";
/// APND.
pub const ASSOC_APND: &str = "urn:ihe:iti:2007:AssociationType:APND";
/// XFRM.
pub const ASSOC_XFRM: &str = "urn:ihe:iti:2007:AssociationType:XFRM";
/// XFRM_RPLC.
pub const ASSOC_XFRM_RPLC: &str = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC";
/// signs.
pub const ASSOC_SIGNS: &str = "urn:ihe:iti:2007:AssociationType:signs";
/// IsSnapshotOf.
pub const ASSOC_IS_SNAPSHOT_OF: &str = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf";
/// UpdateAvailabilityStatus.
pub const ASSOC_UPDATE_AVAILABILITY_STATUS: &str =
    "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus";
/// SubmitAssociation.
pub const ASSOC_SUBMIT_ASSOCIATION: &str = "urn:ihe:iti:2010:AssociationType:SubmitAssociation";

/// XDS-I.b manifest formatCode (RAD68-022): the KOS SOP Class UID.
pub const KOS_FORMAT_CODE: &str = "1.2.840.10008.5.1.4.1.1.88.59";
/// Coding scheme of [`KOS_FORMAT_CODE`]: DICOM UID registry.
pub const KOS_FORMAT_CODING_SCHEME: &str = "1.2.840.10008.2.6.1";
/// MIME type of an XDS-I.b manifest (RAD68-005).
pub const MIME_DICOM: &str = "application/dicom";

// ---------------------------------------------------------------------------------------------
// Response status and severities (§1.5), error codes (§1.6)

/// Response status Success.
pub const RESPONSE_SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
/// Response status Failure.
pub const RESPONSE_FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
/// Response status PartialSuccess (IHE namespace, not OASIS).
pub const RESPONSE_PARTIAL_SUCCESS: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
/// The wrong, OASIS-namespaced PartialSuccess some implementations send (§12 pitfall 1).
pub const RESPONSE_PARTIAL_SUCCESS_OASIS: &str =
    "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess";
/// RegistryError severity Error.
pub const SEVERITY_ERROR: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";
/// RegistryError severity Warning.
pub const SEVERITY_WARNING: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

/// Error codes of ITI TF-3 Table 4.2.4.1-2 (standards reference §1.6).
pub const ERROR_CODES: &[&str] = &[
    "XDSMissingDocument",
    "XDSMissingDocumentMetadata",
    "XDSRegistryNotAvailable",
    "XDSRegistryError",
    "XDSRepositoryError",
    "XDSRegistryDuplicateUniqueIdInMessage",
    "XDSRepositoryDuplicateUniqueIdInMessage",
    "XDSDuplicateUniqueIdInRegistry",
    "XDSNonIdenticalHash",
    "XDSNonIdenticalSize",
    "XDSRegistryBusy",
    "XDSRepositoryBusy",
    "XDSRegistryOutOfResources",
    "XDSRepositoryOutOfResources",
    "XDSRegistryMetadataError",
    "XDSRepositoryMetadataError",
    "XDSTooManyResults",
    "XDSExtraMetadataNotSaved",
    "XDSUnknownPatientId",
    "XDSPatientIdDoesNotMatch",
    "XDSUnknownStoredQuery",
    "XDSStoredQueryMissingParam",
    "XDSStoredQueryParamNumber",
    "XDSRegistryDeprecatedDocumentError",
    "XDSUnknownRepositoryId",
    "XDSDocumentUniqueIdError",
    "XDSResultNotSinglePatient",
    "PartialFolderContentNotProcessed",
    "PartialReplaceContentNotProcessed",
    "PartialTransformNotProcessed",
    "PartialAppendContentNotProcessed",
    "PartialRelationshipContentNotProcessed",
    "PartialTransformReplaceNotProcessed",
    "DocumentQueued",
    "InvalidDocumentContent",
    "XDSUnknownCommunity",
    "XDSMissingHomeCommunityId",
    "XDSUnavailableCommunity",
    "TranscodingError",
    "XDSMetadataUpdateError",
    "XDSPatientIDReconciliationError",
    "XDSMetadataUpdateOperationError",
    "XDSMetadataVersionError",
    "XDSRemoveDocumentsError",
    "UnresolvedReferenceException",
    "ReferencesExistException",
    "XDSUnreferencedObjectException",
    "XDSReplaceFailed",
    "XDSObjectTypeError",
    "XDSMetadataIdentifierError",
    "XDSInvalidRequestException",
    "UnmodifiableMetadataError",
    "LocalPolicyRestrictionError",
    "XDSMetadataAnnotationError",
    "UnknownRecipient",
    "UnavailableRecipient",
    "FHIRDocumentNotSupported",
];

// ---------------------------------------------------------------------------------------------
// Stored queries (§3.2, §3.3)

/// FindDocuments stored query id.
pub const SQ_FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
/// FindDocumentsByReferenceId.
pub const SQ_FIND_DOCUMENTS_BY_REFERENCE_ID: &str = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492";
/// FindSubmissionSets.
pub const SQ_FIND_SUBMISSION_SETS: &str = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9";
/// FindFolders.
pub const SQ_FIND_FOLDERS: &str = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431";
/// GetAll.
pub const SQ_GET_ALL: &str = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3";
/// GetDocuments.
pub const SQ_GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
/// GetFolders.
pub const SQ_GET_FOLDERS: &str = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4";
/// GetAssociations.
pub const SQ_GET_ASSOCIATIONS: &str = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155";
/// GetDocumentsAndAssociations.
pub const SQ_GET_DOCUMENTS_AND_ASSOCIATIONS: &str = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a";
/// GetSubmissionSets.
pub const SQ_GET_SUBMISSION_SETS: &str = "urn:uuid:51224314-5390-4169-9b91-b1980040715a";
/// GetSubmissionSetAndContents.
pub const SQ_GET_SUBMISSION_SET_AND_CONTENTS: &str =
    "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83";
/// GetFolderAndContents.
pub const SQ_GET_FOLDER_AND_CONTENTS: &str = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7";
/// GetFoldersForDocument.
pub const SQ_GET_FOLDERS_FOR_DOCUMENT: &str = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578";
/// GetRelatedDocuments.
pub const SQ_GET_RELATED_DOCUMENTS: &str = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6";
/// FindDocumentsForMultiplePatients (ITI-51).
pub const SQ_FIND_DOCUMENTS_MPQ: &str = "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f";
/// FindFoldersForMultiplePatients (ITI-51).
pub const SQ_FIND_FOLDERS_MPQ: &str = "urn:uuid:50d3f5ac-39a2-11de-a1ca-b366239e58df";
/// FindDocumentsByTitle.
pub const SQ_FIND_DOCUMENTS_BY_TITLE: &str = "urn:uuid:ab474085-82b5-402d-8115-3f37cb1e2405";
/// FindDocumentsExclude (CP-ITI-1323).
pub const SQ_FIND_DOCUMENTS_EXCLUDE: &str = "urn:uuid:4308b1df-36de-4bef-8e2e-ba91f593c435";
/// Fetch (ITI-63).
pub const SQ_FETCH: &str = "urn:uuid:f2072993-9478-41df-a603-8f016706efe8";

/// Every stored query id of §3.2 with its name.
pub const STORED_QUERIES: &[(&str, &str)] = &[
    (SQ_FIND_DOCUMENTS, "FindDocuments"),
    (
        SQ_FIND_DOCUMENTS_BY_REFERENCE_ID,
        "FindDocumentsByReferenceId",
    ),
    (SQ_FIND_SUBMISSION_SETS, "FindSubmissionSets"),
    (SQ_FIND_FOLDERS, "FindFolders"),
    (SQ_GET_ALL, "GetAll"),
    (SQ_GET_DOCUMENTS, "GetDocuments"),
    (SQ_GET_FOLDERS, "GetFolders"),
    (SQ_GET_ASSOCIATIONS, "GetAssociations"),
    (
        SQ_GET_DOCUMENTS_AND_ASSOCIATIONS,
        "GetDocumentsAndAssociations",
    ),
    (SQ_GET_SUBMISSION_SETS, "GetSubmissionSets"),
    (
        SQ_GET_SUBMISSION_SET_AND_CONTENTS,
        "GetSubmissionSetAndContents",
    ),
    (SQ_GET_FOLDER_AND_CONTENTS, "GetFolderAndContents"),
    (SQ_GET_FOLDERS_FOR_DOCUMENT, "GetFoldersForDocument"),
    (SQ_GET_RELATED_DOCUMENTS, "GetRelatedDocuments"),
    (SQ_FIND_DOCUMENTS_MPQ, "FindDocumentsForMultiplePatients"),
    (SQ_FIND_FOLDERS_MPQ, "FindFoldersForMultiplePatients"),
    (SQ_FIND_DOCUMENTS_BY_TITLE, "FindDocumentsByTitle"),
    (SQ_FIND_DOCUMENTS_EXCLUDE, "FindDocumentsExclude"),
    (SQ_FETCH, "Fetch"),
];

/// How a stored-query parameter's values are written (ITI TF-2 3.18.4.1.2.3.5-.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// One quoted string: `'value'`.
    Single,
    /// Parenthesised list of quoted strings: `('a','b')`.
    List,
    /// Parenthesised list of quoted codes `('code^^scheme')`.
    CodeList,
    /// Parenthesised list of status URNs.
    StatusList,
    /// DTM timestamp, not quoted.
    Time,
    /// One quoted CX patient id.
    PatientId,
}

/// Known parameter names and how their values are written; names exactly as IPF
/// `QueryParameter.java` spells them (without the trailing-space pitfall of §3.3).
pub const QUERY_PARAMS: &[(&str, ParamKind)] = &[
    ("$XDSDocumentEntryPatientId", ParamKind::PatientId),
    ("$XDSDocumentEntryStatus", ParamKind::StatusList),
    ("$XDSDocumentEntryClassCode", ParamKind::CodeList),
    ("$XDSDocumentEntryTypeCode", ParamKind::CodeList),
    ("$XDSDocumentEntryPracticeSettingCode", ParamKind::CodeList),
    ("$XDSDocumentEntryCreationTimeFrom", ParamKind::Time),
    ("$XDSDocumentEntryCreationTimeTo", ParamKind::Time),
    ("$XDSDocumentEntryServiceStartTimeFrom", ParamKind::Time),
    ("$XDSDocumentEntryServiceStartTimeTo", ParamKind::Time),
    ("$XDSDocumentEntryServiceStopTimeFrom", ParamKind::Time),
    ("$XDSDocumentEntryServiceStopTimeTo", ParamKind::Time),
    (
        "$XDSDocumentEntryHealthcareFacilityTypeCode",
        ParamKind::CodeList,
    ),
    ("$XDSDocumentEntryEventCodeList", ParamKind::CodeList),
    ("$XDSDocumentEntryConfidentialityCode", ParamKind::CodeList),
    ("$XDSDocumentEntryAuthorPerson", ParamKind::List),
    ("$XDSDocumentEntryFormatCode", ParamKind::CodeList),
    ("$XDSDocumentEntryType", ParamKind::List),
    ("$XDSDocumentEntryReferenceIdList", ParamKind::List),
    ("$XDSDocumentEntryEntryUUID", ParamKind::List),
    ("$XDSDocumentEntryUniqueId", ParamKind::List),
    ("$XDSDocumentEntryLogicalID", ParamKind::List),
    ("$XDSSubmissionSetPatientId", ParamKind::PatientId),
    ("$XDSSubmissionSetSourceId", ParamKind::List),
    ("$XDSSubmissionSetSubmissionTimeFrom", ParamKind::Time),
    ("$XDSSubmissionSetSubmissionTimeTo", ParamKind::Time),
    ("$XDSSubmissionSetAuthorPerson", ParamKind::Single),
    ("$XDSSubmissionSetContentType", ParamKind::CodeList),
    ("$XDSSubmissionSetStatus", ParamKind::StatusList),
    ("$XDSSubmissionSetEntryUUID", ParamKind::Single),
    ("$XDSSubmissionSetUniqueId", ParamKind::Single),
    ("$XDSFolderPatientId", ParamKind::PatientId),
    ("$XDSFolderLastUpdateTimeFrom", ParamKind::Time),
    ("$XDSFolderLastUpdateTimeTo", ParamKind::Time),
    ("$XDSFolderCodeList", ParamKind::CodeList),
    ("$XDSFolderStatus", ParamKind::StatusList),
    ("$XDSFolderEntryUUID", ParamKind::List),
    ("$XDSFolderUniqueId", ParamKind::List),
    ("$XDSFolderLogicalID", ParamKind::List),
    ("$patientId", ParamKind::PatientId),
    ("$uuid", ParamKind::List),
    ("$AssociationTypes", ParamKind::List),
    ("$homeCommunityId", ParamKind::Single),
];

// ---------------------------------------------------------------------------------------------
// Errors

/// Errors of ebRIM parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EbrimError {
    /// The XML could not be read.
    #[error("ebXML message is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    /// The root element is none of the messages this module knows.
    #[error("unexpected message element {{{ns}}}{local}")]
    UnexpectedElement {
        /// Namespace URI.
        ns: String,
        /// Local name.
        local: String,
    },
    /// A required child element is missing so the message cannot be read at all.
    #[error("{parent} has no {child} element")]
    MissingElement {
        /// The parent element.
        parent: &'static str,
        /// The missing child.
        child: &'static str,
    },
}

// ---------------------------------------------------------------------------------------------
// Generic ebRIM objects

/// `rim:Slot`: a name with its `ValueList/Value` strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slot {
    /// `@name`.
    pub name: String,
    /// Values, in order, untrimmed.
    pub values: Vec<String>,
}

/// `rim:LocalizedString`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedString {
    /// `@value`.
    pub value: String,
    /// `@xml:lang`.
    pub lang: Option<String>,
    /// `@charset`.
    pub charset: Option<String>,
}

/// `rim:Classification`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    /// `@id`.
    pub id: Option<String>,
    /// `@classificationScheme`.
    pub scheme: Option<String>,
    /// `@classificationNode`.
    pub node: Option<String>,
    /// `@classifiedObject`.
    pub classified_object: Option<String>,
    /// `@nodeRepresentation` (the code).
    pub node_representation: Option<String>,
    /// Slots (`codingScheme`, author slots).
    pub slots: Vec<Slot>,
    /// `rim:Name` strings (the display name).
    pub name: Vec<LocalizedString>,
}

/// `rim:ExternalIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalIdentifier {
    /// `@id`.
    pub id: Option<String>,
    /// `@identificationScheme`.
    pub scheme: Option<String>,
    /// `@registryObject`.
    pub registry_object: Option<String>,
    /// `@value`.
    pub value: Option<String>,
    /// `rim:Name` strings.
    pub name: Vec<LocalizedString>,
}

/// Which ebRIM element a [`RegistryObject`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `rim:ExtrinsicObject` (a DocumentEntry).
    ExtrinsicObject,
    /// `rim:RegistryPackage` (SubmissionSet or Folder).
    RegistryPackage,
}

/// An `ExtrinsicObject` or `RegistryPackage` with its nested content, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryObject {
    /// Element kind.
    pub kind: ObjectKind,
    /// `@id` (entryUUID or symbolic id).
    pub id: Option<String>,
    /// `@lid` (logical id, ITI-57).
    pub lid: Option<String>,
    /// `@objectType`.
    pub object_type: Option<String>,
    /// `@status` (availabilityStatus).
    pub status: Option<String>,
    /// `@home` (homeCommunityId).
    pub home: Option<String>,
    /// `@mimeType` (ExtrinsicObject only).
    pub mime_type: Option<String>,
    /// Slots.
    pub slots: Vec<Slot>,
    /// `rim:Name` strings (title).
    pub name: Vec<LocalizedString>,
    /// `rim:Description` strings (comments).
    pub description: Vec<LocalizedString>,
    /// Nested Classifications.
    pub classifications: Vec<Classification>,
    /// Nested ExternalIdentifiers.
    pub external_identifiers: Vec<ExternalIdentifier>,
    /// Children out of the ebRIM 3.0 schema order (Slot*, Name?, Description?, VersionInfo?,
    /// ContentVersionInfo?, Classification*, ExternalIdentifier*), as "X after Y" descriptions.
    pub order_issues: Vec<String>,
}

/// `rim:Association`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Association {
    /// `@id`.
    pub id: Option<String>,
    /// `@associationType`.
    pub association_type: Option<String>,
    /// `@sourceObject`.
    pub source_object: Option<String>,
    /// `@targetObject`.
    pub target_object: Option<String>,
    /// `@status`.
    pub status: Option<String>,
    /// Slots (`SubmissionSetStatus`, `NewStatus`, ...).
    pub slots: Vec<Slot>,
    /// Children out of schema order.
    pub order_issues: Vec<String>,
}

/// `rim:ObjectRef`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// `@id`.
    pub id: Option<String>,
    /// `@home`.
    pub home: Option<String>,
}

/// The content of a `rim:RegistryObjectList`, by element kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryObjectList {
    /// `rim:ExtrinsicObject`s.
    pub extrinsic_objects: Vec<RegistryObject>,
    /// `rim:RegistryPackage`s.
    pub registry_packages: Vec<RegistryObject>,
    /// Top-level `rim:Classification`s.
    pub classifications: Vec<Classification>,
    /// Top-level `rim:ExternalIdentifier`s.
    pub external_identifiers: Vec<ExternalIdentifier>,
    /// `rim:Association`s.
    pub associations: Vec<Association>,
    /// `rim:ObjectRef`s.
    pub object_refs: Vec<ObjectRef>,
    /// Local names of other elements found in the list.
    pub other: Vec<String>,
}

/// A code: `nodeRepresentation`, `codingScheme` slot and display name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    /// The code value.
    pub code: String,
    /// First `codingScheme` slot value.
    pub scheme: Option<String>,
    /// First Name string.
    pub display: Option<String>,
}

/// An author classification (ITI TF-3 4.2.3.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// `authorPerson` (XCN).
    pub person: Option<String>,
    /// `authorInstitution` (XON).
    pub institutions: Vec<String>,
    /// `authorRole`.
    pub roles: Vec<String>,
    /// `authorSpecialty`.
    pub specialties: Vec<String>,
    /// `authorTelecommunication` (XTN).
    pub telecoms: Vec<String>,
}

/// A DocumentEntry (ITI TF-3 4.2.3.2), read from an ExtrinsicObject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentEntry {
    /// entryUUID (`@id`).
    pub entry_uuid: Option<String>,
    /// logicalID (`@lid`).
    pub logical_id: Option<String>,
    /// objectType.
    pub object_type: Option<String>,
    /// mimeType.
    pub mime_type: Option<String>,
    /// availabilityStatus.
    pub availability_status: Option<String>,
    /// homeCommunityId.
    pub home_community_id: Option<String>,
    /// title.
    pub title: Option<String>,
    /// comments.
    pub comments: Option<String>,
    /// authors.
    pub authors: Vec<Author>,
    /// classCode.
    pub class_code: Option<Code>,
    /// confidentialityCode (1..n).
    pub confidentiality_codes: Vec<Code>,
    /// eventCodeList.
    pub event_codes: Vec<Code>,
    /// formatCode.
    pub format_code: Option<Code>,
    /// healthcareFacilityTypeCode.
    pub healthcare_facility_type_code: Option<Code>,
    /// practiceSettingCode.
    pub practice_setting_code: Option<Code>,
    /// typeCode.
    pub type_code: Option<Code>,
    /// patientId (CX).
    pub patient_id: Option<String>,
    /// uniqueId.
    pub unique_id: Option<String>,
    /// sourcePatientId (CX).
    pub source_patient_id: Option<String>,
    /// sourcePatientInfo lines.
    pub source_patient_info: Vec<String>,
    /// referenceIdList (CXi values).
    pub reference_ids: Vec<String>,
    /// creationTime (DTM).
    pub creation_time: Option<String>,
    /// serviceStartTime (DTM).
    pub service_start_time: Option<String>,
    /// serviceStopTime (DTM).
    pub service_stop_time: Option<String>,
    /// languageCode.
    pub language_code: Option<String>,
    /// legalAuthenticator (XCN).
    pub legal_authenticator: Option<String>,
    /// hash (SHA-1 hex).
    pub hash: Option<String>,
    /// size (decimal).
    pub size: Option<String>,
    /// repositoryUniqueId.
    pub repository_unique_id: Option<String>,
    /// URI.
    pub uri: Option<String>,
}

/// A SubmissionSet (ITI TF-3 4.2.3.3), read from a RegistryPackage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionSet {
    /// entryUUID.
    pub entry_uuid: Option<String>,
    /// availabilityStatus.
    pub availability_status: Option<String>,
    /// uniqueId (OID).
    pub unique_id: Option<String>,
    /// sourceId (OID).
    pub source_id: Option<String>,
    /// patientId (CX).
    pub patient_id: Option<String>,
    /// submissionTime (DTM).
    pub submission_time: Option<String>,
    /// contentTypeCode.
    pub content_type_code: Option<Code>,
    /// authors.
    pub authors: Vec<Author>,
    /// title.
    pub title: Option<String>,
    /// comments.
    pub comments: Option<String>,
    /// intendedRecipient values.
    pub intended_recipients: Vec<String>,
}

/// A Folder (ITI TF-3 4.2.3.4), read from a RegistryPackage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    /// entryUUID.
    pub entry_uuid: Option<String>,
    /// uniqueId.
    pub unique_id: Option<String>,
    /// patientId.
    pub patient_id: Option<String>,
    /// codeList.
    pub codes: Vec<Code>,
    /// lastUpdateTime.
    pub last_update_time: Option<String>,
    /// title.
    pub title: Option<String>,
}

/// The `hash` of a document (ITI TF-3 4.2.3.2.16): SHA-1 of its bytes, lower-case hex.
pub fn document_hash(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        bytes,
    ))
}

/// Compare URIs ignoring ASCII whitespace: some senders break UUIDs across lines or insert
/// spaces (IPF's `SubmitObjectsRequest_ebrs30.xml` does). Whitespace itself is reported by rule
/// `EBRIM-02`.
pub fn same_uri(a: &str, b: &str) -> bool {
    let mut x = a.bytes().filter(|c| !c.is_ascii_whitespace());
    let mut y = b.bytes().filter(|c| !c.is_ascii_whitespace());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

/// Does an id or scheme reference name `scheme` (UUIDs compared as [`same_uri`] does)?
pub fn scheme_is(s: Option<&str>, scheme: &str) -> bool {
    s.is_some_and(|s| same_uri(s, scheme))
}

impl Slot {
    /// First value, trimmed.
    pub fn first(&self) -> Option<&str> {
        self.values.first().map(|v| v.trim())
    }
}

/// The first slot named `name`.
pub fn slot<'a>(slots: &'a [Slot], name: &str) -> Option<&'a Slot> {
    slots.iter().find(|s| s.name == name)
}

/// The first value, trimmed, of the first slot named `name`.
pub fn slot_first(slots: &[Slot], name: &str) -> Option<String> {
    slot(slots, name).and_then(Slot::first).map(str::to_owned)
}

/// Every value, trimmed, of every slot named `name`.
pub fn slot_all(slots: &[Slot], name: &str) -> Vec<String> {
    slots
        .iter()
        .filter(|s| s.name == name)
        .flat_map(|s| s.values.iter().map(|v| v.trim().to_owned()))
        .collect()
}

/// The first localized string's value.
pub fn first_string(l: &[LocalizedString]) -> Option<String> {
    l.first().map(|s| s.value.clone())
}

impl Classification {
    /// The code this classification carries.
    pub fn code(&self) -> Code {
        Code {
            code: self.node_representation.clone().unwrap_or_default(),
            scheme: slot_first(&self.slots, "codingScheme"),
            display: first_string(&self.name),
        }
    }

    fn author(&self) -> Author {
        Author {
            person: slot_first(&self.slots, "authorPerson"),
            institutions: slot_all(&self.slots, "authorInstitution"),
            roles: slot_all(&self.slots, "authorRole"),
            specialties: slot_all(&self.slots, "authorSpecialty"),
            telecoms: slot_all(&self.slots, "authorTelecommunication"),
        }
    }
}

impl RegistryObject {
    /// Nested classifications with classification scheme `scheme`.
    pub fn classified<'a>(&'a self, scheme: &'a str) -> impl Iterator<Item = &'a Classification> {
        self.classifications
            .iter()
            .filter(move |c| scheme_is(c.scheme.as_deref(), scheme))
    }

    /// Value of the nested external identifier with scheme `scheme`.
    pub fn identifier(&self, scheme: &str) -> Option<String> {
        self.external_identifiers
            .iter()
            .find(|e| scheme_is(e.scheme.as_deref(), scheme))
            .and_then(|e| e.value.clone())
    }

    /// First value of slot `name`, trimmed.
    pub fn slot_value(&self, name: &str) -> Option<String> {
        slot_first(&self.slots, name)
    }

    fn code(&self, scheme: &str) -> Option<Code> {
        self.classified(scheme).next().map(Classification::code)
    }

    /// Read the DocumentEntry attributes.
    pub fn document_entry(&self) -> DocumentEntry {
        DocumentEntry {
            entry_uuid: self.id.clone(),
            logical_id: self.lid.clone(),
            object_type: self.object_type.clone(),
            mime_type: self.mime_type.clone(),
            availability_status: self.status.clone(),
            home_community_id: self.home.clone(),
            title: first_string(&self.name),
            comments: first_string(&self.description),
            authors: self
                .classified(DE_AUTHOR)
                .map(Classification::author)
                .collect(),
            class_code: self.code(DE_CLASS_CODE),
            confidentiality_codes: self
                .classified(DE_CONFIDENTIALITY_CODE)
                .map(Classification::code)
                .collect(),
            event_codes: self
                .classified(DE_EVENT_CODE)
                .map(Classification::code)
                .collect(),
            format_code: self.code(DE_FORMAT_CODE),
            healthcare_facility_type_code: self.code(DE_HEALTHCARE_FACILITY_TYPE_CODE),
            practice_setting_code: self.code(DE_PRACTICE_SETTING_CODE),
            type_code: self.code(DE_TYPE_CODE),
            patient_id: self.identifier(DE_PATIENT_ID),
            unique_id: self.identifier(DE_UNIQUE_ID),
            source_patient_id: self.slot_value("sourcePatientId"),
            source_patient_info: slot_all(&self.slots, "sourcePatientInfo"),
            reference_ids: slot_all(&self.slots, SLOT_REFERENCE_ID_LIST),
            creation_time: self.slot_value("creationTime"),
            service_start_time: self.slot_value("serviceStartTime"),
            service_stop_time: self.slot_value("serviceStopTime"),
            language_code: self.slot_value("languageCode"),
            legal_authenticator: self.slot_value("legalAuthenticator"),
            hash: self.slot_value("hash"),
            size: self.slot_value("size"),
            repository_unique_id: self.slot_value("repositoryUniqueId"),
            uri: self.slot_value("URI"),
        }
    }

    /// Read the SubmissionSet attributes.
    pub fn submission_set(&self) -> SubmissionSet {
        SubmissionSet {
            entry_uuid: self.id.clone(),
            availability_status: self.status.clone(),
            unique_id: self.identifier(SS_UNIQUE_ID),
            source_id: self.identifier(SS_SOURCE_ID),
            patient_id: self.identifier(SS_PATIENT_ID),
            submission_time: self.slot_value("submissionTime"),
            content_type_code: self.code(SS_CONTENT_TYPE_CODE),
            authors: self
                .classified(SS_AUTHOR)
                .map(Classification::author)
                .collect(),
            title: first_string(&self.name),
            comments: first_string(&self.description),
            intended_recipients: slot_all(&self.slots, "intendedRecipient"),
        }
    }

    /// Read the Folder attributes.
    pub fn folder(&self) -> Folder {
        Folder {
            entry_uuid: self.id.clone(),
            unique_id: self.identifier(FOLDER_UNIQUE_ID),
            patient_id: self.identifier(FOLDER_PATIENT_ID),
            codes: self
                .classified(FOLDER_CODE_LIST)
                .map(Classification::code)
                .collect(),
            last_update_time: self.slot_value("lastUpdateTime"),
            title: first_string(&self.name),
        }
    }
}

impl RegistryObjectList {
    /// The ObjectRefs that name neither a returned object nor an object one of them references
    /// (its objectType, a classification's scheme, node or classified object, an identifier's
    /// scheme or registry object, an association's ends). A LeafClass answer may add ObjectRefs
    /// for "objects not included in the returned object list that are referenced by objects in
    /// the returned object list" (ITI TF-2 3.18.4.1.2.3.1); the others stand for objects the answer
    /// should have returned whole.
    pub fn unreferenced_refs(&self) -> Vec<&ObjectRef> {
        let mut ids: Vec<&Option<String>> = Vec::new();
        for o in self.extrinsic_objects.iter().chain(&self.registry_packages) {
            ids.extend([&o.id, &o.lid, &o.object_type]);
            for c in &o.classifications {
                ids.extend([&c.id, &c.scheme, &c.node, &c.classified_object]);
            }
            for x in &o.external_identifiers {
                ids.extend([&x.id, &x.scheme, &x.registry_object]);
            }
        }
        for c in &self.classifications {
            ids.extend([&c.id, &c.scheme, &c.node, &c.classified_object]);
        }
        for x in &self.external_identifiers {
            ids.extend([&x.id, &x.scheme, &x.registry_object]);
        }
        for a in &self.associations {
            ids.extend([
                &a.id,
                &a.association_type,
                &a.source_object,
                &a.target_object,
            ]);
        }
        let known: HashSet<&str> = ids
            .into_iter()
            .filter_map(|v| v.as_deref())
            .map(str::trim)
            .collect();
        self.object_refs
            .iter()
            .filter(|r| r.id.as_deref().is_none_or(|id| !known.contains(id.trim())))
            .collect()
    }

    fn package_has_node(&self, p: &RegistryObject, node: &str) -> bool {
        let id = p.id.as_deref();
        p.classifications
            .iter()
            .any(|c| scheme_is(c.node.as_deref(), node))
            || self.classifications.iter().any(|c| {
                scheme_is(c.node.as_deref(), node)
                    && c.classified_object.as_deref().is_some()
                    && c.classified_object.as_deref() == id
            })
    }

    /// RegistryPackages classified as SubmissionSet (nested or top-level Classification).
    pub fn submission_set_packages(&self) -> Vec<&RegistryObject> {
        self.registry_packages
            .iter()
            .filter(|p| self.package_has_node(p, SUBMISSION_SET_NODE))
            .collect()
    }

    /// RegistryPackages classified as Folder.
    pub fn folder_packages(&self) -> Vec<&RegistryObject> {
        self.registry_packages
            .iter()
            .filter(|p| self.package_has_node(p, FOLDER_NODE))
            .collect()
    }

    /// DocumentEntries of every ExtrinsicObject.
    pub fn document_entries(&self) -> Vec<DocumentEntry> {
        self.extrinsic_objects
            .iter()
            .map(RegistryObject::document_entry)
            .collect()
    }

    /// The first SubmissionSet.
    pub fn submission_set(&self) -> Option<SubmissionSet> {
        self.submission_set_packages()
            .first()
            .map(|p| p.submission_set())
    }

    /// The ids of every object of the list.
    pub fn ids(&self) -> HashSet<&str> {
        let mut ids = HashSet::new();
        for o in self.extrinsic_objects.iter().chain(&self.registry_packages) {
            if let Some(id) = o.id.as_deref() {
                ids.insert(id);
            }
            for c in &o.classifications {
                if let Some(id) = c.id.as_deref() {
                    ids.insert(id);
                }
            }
            for e in &o.external_identifiers {
                if let Some(id) = e.id.as_deref() {
                    ids.insert(id);
                }
            }
        }
        for c in &self.classifications {
            if let Some(id) = c.id.as_deref() {
                ids.insert(id);
            }
        }
        for a in &self.associations {
            if let Some(id) = a.id.as_deref() {
                ids.insert(id);
            }
        }
        for r in &self.object_refs {
            if let Some(id) = r.id.as_deref() {
                ids.insert(id);
            }
        }
        ids
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

/// `lcm:SubmitObjectsRequest` (ITI-42 body; the metadata part of ITI-41/RAD-68; ITI-57).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitObjectsRequest {
    /// Slots of the request itself.
    pub slots: Vec<Slot>,
    /// The registry objects.
    pub objects: RegistryObjectList,
}

/// Content of an `xdsb:Document` (ITI-41) or `Document` in a retrieve response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentContent {
    /// Base64 text decoded.
    Inline(Vec<u8>),
    /// An `xop:Include` reference (`href` as written).
    Xop {
        /// The `href` attribute.
        href: String,
    },
    /// Text that is not valid base64 (kept, bounded to 200 characters, for the report).
    InvalidBase64(String),
}

/// `xdsb:Document`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `@id`, equal to an ExtrinsicObject id.
    pub id: Option<String>,
    /// The bytes or reference.
    pub content: DocumentContent,
}

/// `xdsb:ProvideAndRegisterDocumentSetRequest` (ITI-41, RAD-68).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideAndRegisterRequest {
    /// The metadata.
    pub submit: SubmitObjectsRequest,
    /// The documents.
    pub documents: Vec<Document>,
}

/// One `rim:Slot` of an `rim:AdhocQuery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    /// Parameter name (`$XDSDocumentEntryPatientId`, ...).
    pub name: String,
    /// Raw values, untrimmed, in order.
    pub values: Vec<String>,
}

/// `query:AdhocQueryRequest` (ITI-18).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdhocQueryRequest {
    /// `ResponseOption/@returnType`.
    pub return_type: Option<String>,
    /// `ResponseOption/@returnComposedObjects`.
    pub return_composed_objects: Option<String>,
    /// `AdhocQuery/@id` (the stored query id).
    pub query_id: Option<String>,
    /// `AdhocQuery/@home`.
    pub home: Option<String>,
    /// Parameters in order (a name may repeat).
    pub params: Vec<QueryParam>,
}

/// `rs:RegistryError`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryError {
    /// `@errorCode`.
    pub error_code: Option<String>,
    /// `@codeContext`.
    pub code_context: Option<String>,
    /// `@location`.
    pub location: Option<String>,
    /// `@severity`.
    pub severity: Option<String>,
}

/// `rs:RegistryResponse` (or the status/error part of another response type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryResponse {
    /// `@status`.
    pub status: Option<String>,
    /// True when an `rs:RegistryErrorList` element is present.
    pub has_error_list: bool,
    /// The errors.
    pub errors: Vec<RegistryError>,
}

/// `query:AdhocQueryResponse` (ITI-18).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdhocQueryResponse {
    /// Status and errors.
    pub response: RegistryResponse,
    /// The returned objects (empty when absent).
    pub objects: RegistryObjectList,
    /// True when `rim:RegistryObjectList` is present.
    pub has_object_list: bool,
}

/// `xdsb:DocumentRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentRequest {
    /// `HomeCommunityId`.
    pub home_community_id: Option<String>,
    /// `RepositoryUniqueId`.
    pub repository_unique_id: Option<String>,
    /// `DocumentUniqueId`.
    pub document_unique_id: Option<String>,
}

/// `xdsb:RetrieveDocumentSetRequest` (ITI-43).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrieveDocumentSetRequest {
    /// The requested documents.
    pub documents: Vec<DocumentRequest>,
}

/// `xdsb:DocumentResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentResponse {
    /// `HomeCommunityId`.
    pub home_community_id: Option<String>,
    /// `RepositoryUniqueId`.
    pub repository_unique_id: Option<String>,
    /// `DocumentUniqueId`.
    pub document_unique_id: Option<String>,
    /// `NewRepositoryUniqueId`.
    pub new_repository_unique_id: Option<String>,
    /// `NewDocumentUniqueId`.
    pub new_document_unique_id: Option<String>,
    /// `mimeType`.
    pub mime_type: Option<String>,
    /// `Document`.
    pub document: Option<DocumentContent>,
}

/// `xdsb:RetrieveDocumentSetResponse` (ITI-43, RAD-69, RAD-75 responses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrieveDocumentSetResponse {
    /// The embedded `rs:RegistryResponse`, if present.
    pub registry_response: Option<RegistryResponse>,
    /// The returned documents.
    pub documents: Vec<DocumentResponse>,
}

/// `xdsi:SeriesRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesRequest {
    /// `@seriesInstanceUID`.
    pub series_instance_uid: Option<String>,
    /// The instances.
    pub documents: Vec<DocumentRequest>,
}

/// `xdsi:StudyRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyRequest {
    /// `@studyInstanceUID`.
    pub study_instance_uid: Option<String>,
    /// The series.
    pub series: Vec<SeriesRequest>,
}

/// `xdsi:RetrieveImagingDocumentSetRequest` (RAD-69, RAD-75).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrieveImagingDocumentSetRequest {
    /// The studies.
    pub studies: Vec<StudyRequest>,
    /// `TransferSyntaxUIDList/TransferSyntaxUID` texts; `None` when the list element is absent.
    pub transfer_syntaxes: Option<Vec<String>>,
}

/// Any message this module reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// ITI-41 / RAD-68 request.
    ProvideAndRegister(ProvideAndRegisterRequest),
    /// Bare `lcm:SubmitObjectsRequest` (ITI-42, ITI-57, or ITI-41 metadata alone).
    SubmitObjects(SubmitObjectsRequest),
    /// ITI-18 request.
    AdhocQueryRequest(AdhocQueryRequest),
    /// ITI-18 response.
    AdhocQueryResponse(AdhocQueryResponse),
    /// `rs:RegistryResponse`.
    RegistryResponse(RegistryResponse),
    /// ITI-43 request.
    RetrieveDocumentSetRequest(RetrieveDocumentSetRequest),
    /// ITI-43 / RAD-69 response.
    RetrieveDocumentSetResponse(RetrieveDocumentSetResponse),
    /// RAD-69 / RAD-75 request.
    RetrieveImagingDocumentSetRequest(RetrieveImagingDocumentSetRequest),
}

// ---------------------------------------------------------------------------------------------
// Parsing

fn attr(el: &XmlElement, name: &str) -> Option<String> {
    el.attr(name).map(str::to_owned)
}

fn localized(el: Option<&XmlElement>) -> Vec<LocalizedString> {
    el.map(|e| {
        e.children_named(NS_RIM, "LocalizedString")
            .map(|l| LocalizedString {
                value: l.attr("value").unwrap_or("").to_owned(),
                lang: l
                    .attr_ns("http://www.w3.org/XML/1998/namespace", "lang")
                    .map(str::to_owned),
                charset: attr(l, "charset"),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn parse_slot(el: &XmlElement) -> Slot {
    Slot {
        name: el.attr("name").unwrap_or("").to_owned(),
        values: el
            .children_named(NS_RIM, "ValueList")
            .flat_map(|vl| vl.children_named(NS_RIM, "Value"))
            .map(|v| v.text.clone())
            .collect(),
    }
}

fn slots(el: &XmlElement) -> Vec<Slot> {
    el.children_named(NS_RIM, "Slot").map(parse_slot).collect()
}

/// Rank of a child in the ebRIM 3.0 RegistryObjectType sequence; `None` for others.
fn schema_rank(local: &str) -> Option<u8> {
    match local {
        "Slot" => Some(0),
        "Name" => Some(1),
        "Description" => Some(2),
        "VersionInfo" => Some(3),
        "ContentVersionInfo" => Some(4),
        "Classification" => Some(5),
        "ExternalIdentifier" => Some(6),
        _ => None,
    }
}

fn order_issues(el: &XmlElement) -> Vec<String> {
    let mut out = Vec::new();
    let mut max: Option<(u8, &str)> = None;
    for c in el
        .children
        .iter()
        .filter(|c| c.ns.as_deref() == Some(NS_RIM))
    {
        let Some(rank) = schema_rank(&c.local) else {
            continue;
        };
        match max {
            Some((m, name)) if rank < m => {
                let issue = format!("{} after {}", c.local, name);
                if !out.contains(&issue) {
                    out.push(issue);
                }
            }
            Some((m, _)) if rank == m => {}
            _ => max = Some((rank, &c.local)),
        }
    }
    out
}

fn parse_classification(el: &XmlElement) -> Classification {
    Classification {
        id: attr(el, "id"),
        scheme: attr(el, "classificationScheme"),
        node: attr(el, "classificationNode"),
        classified_object: attr(el, "classifiedObject"),
        node_representation: attr(el, "nodeRepresentation"),
        slots: slots(el),
        name: localized(el.child(NS_RIM, "Name")),
    }
}

fn parse_external_identifier(el: &XmlElement) -> ExternalIdentifier {
    ExternalIdentifier {
        id: attr(el, "id"),
        scheme: attr(el, "identificationScheme"),
        registry_object: attr(el, "registryObject"),
        value: attr(el, "value"),
        name: localized(el.child(NS_RIM, "Name")),
    }
}

fn parse_registry_object(el: &XmlElement, kind: ObjectKind) -> RegistryObject {
    RegistryObject {
        kind,
        id: attr(el, "id"),
        lid: attr(el, "lid"),
        object_type: attr(el, "objectType"),
        status: attr(el, "status"),
        home: attr(el, "home"),
        mime_type: attr(el, "mimeType"),
        slots: slots(el),
        name: localized(el.child(NS_RIM, "Name")),
        description: localized(el.child(NS_RIM, "Description")),
        classifications: el
            .children_named(NS_RIM, "Classification")
            .map(parse_classification)
            .collect(),
        external_identifiers: el
            .children_named(NS_RIM, "ExternalIdentifier")
            .map(parse_external_identifier)
            .collect(),
        order_issues: order_issues(el),
    }
}

/// Read a `rim:RegistryObjectList` element.
pub fn parse_registry_object_list(el: &XmlElement) -> RegistryObjectList {
    let mut list = RegistryObjectList::default();
    for c in &el.children {
        if c.ns.as_deref() != Some(NS_RIM) {
            list.other.push(c.local.clone());
            continue;
        }
        match c.local.as_str() {
            "ExtrinsicObject" => list
                .extrinsic_objects
                .push(parse_registry_object(c, ObjectKind::ExtrinsicObject)),
            "RegistryPackage" => list
                .registry_packages
                .push(parse_registry_object(c, ObjectKind::RegistryPackage)),
            "Classification" => list.classifications.push(parse_classification(c)),
            "ExternalIdentifier" => list.external_identifiers.push(parse_external_identifier(c)),
            "Association" => list.associations.push(Association {
                id: attr(c, "id"),
                association_type: attr(c, "associationType"),
                source_object: attr(c, "sourceObject"),
                target_object: attr(c, "targetObject"),
                status: attr(c, "status"),
                slots: slots(c),
                order_issues: order_issues(c),
            }),
            "ObjectRef" => list.object_refs.push(ObjectRef {
                id: attr(c, "id"),
                home: attr(c, "home"),
            }),
            other => list.other.push(other.to_owned()),
        }
    }
    list
}

fn parse_submit_objects(el: &XmlElement) -> SubmitObjectsRequest {
    SubmitObjectsRequest {
        slots: slots(el),
        objects: el
            .child(NS_RIM, "RegistryObjectList")
            .map(parse_registry_object_list)
            .unwrap_or_default(),
    }
}

fn document_content(el: &XmlElement) -> DocumentContent {
    if let Some(inc) = el.child(NS_XOP, "Include") {
        return DocumentContent::Xop {
            href: inc.attr("href").unwrap_or("").to_owned(),
        };
    }
    let text: String = el
        .text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
        Ok(bytes) => DocumentContent::Inline(bytes),
        Err(_) => DocumentContent::InvalidBase64(text.chars().take(200).collect()),
    }
}

fn parse_registry_response(el: &XmlElement) -> RegistryResponse {
    let list = el.child(NS_RS, "RegistryErrorList");
    RegistryResponse {
        status: attr(el, "status"),
        has_error_list: list.is_some(),
        errors: list
            .map(|l| {
                l.children_named(NS_RS, "RegistryError")
                    .map(|e| RegistryError {
                        error_code: attr(e, "errorCode"),
                        code_context: attr(e, "codeContext"),
                        location: attr(e, "location"),
                        severity: attr(e, "severity"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn child_text(el: &XmlElement, local: &str) -> Option<String> {
    el.child_text(NS_XDSB, local).map(str::to_owned)
}

fn parse_document_request(el: &XmlElement) -> DocumentRequest {
    DocumentRequest {
        home_community_id: child_text(el, "HomeCommunityId"),
        repository_unique_id: child_text(el, "RepositoryUniqueId"),
        document_unique_id: child_text(el, "DocumentUniqueId"),
    }
}

/// Read a message from its element (a SOAP Body's first element or a bare document root).
pub fn parse_message(el: &XmlElement) -> Result<Message, EbrimError> {
    let ns = el.ns.as_deref().unwrap_or("");
    match (ns, el.local.as_str()) {
        (NS_XDSB, "ProvideAndRegisterDocumentSetRequest") => {
            let submit =
                el.child(NS_LCM, "SubmitObjectsRequest")
                    .ok_or(EbrimError::MissingElement {
                        parent: "ProvideAndRegisterDocumentSetRequest",
                        child: "SubmitObjectsRequest",
                    })?;
            Ok(Message::ProvideAndRegister(ProvideAndRegisterRequest {
                submit: parse_submit_objects(submit),
                documents: el
                    .children_named(NS_XDSB, "Document")
                    .map(|d| Document {
                        id: attr(d, "id"),
                        content: document_content(d),
                    })
                    .collect(),
            }))
        }
        (NS_LCM, "SubmitObjectsRequest") => Ok(Message::SubmitObjects(parse_submit_objects(el))),
        (NS_QUERY, "AdhocQueryRequest") => {
            let opt = el.child(NS_QUERY, "ResponseOption");
            let q = el.child(NS_RIM, "AdhocQuery");
            Ok(Message::AdhocQueryRequest(AdhocQueryRequest {
                return_type: opt.and_then(|o| attr(o, "returnType")),
                return_composed_objects: opt.and_then(|o| attr(o, "returnComposedObjects")),
                query_id: q.and_then(|q| attr(q, "id")),
                home: q.and_then(|q| attr(q, "home")),
                params: q
                    .map(|q| {
                        slots(q)
                            .into_iter()
                            .map(|s| QueryParam {
                                name: s.name,
                                values: s.values,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }))
        }
        (NS_QUERY, "AdhocQueryResponse") => {
            let list = el.child(NS_RIM, "RegistryObjectList");
            Ok(Message::AdhocQueryResponse(AdhocQueryResponse {
                response: parse_registry_response(el),
                objects: list.map(parse_registry_object_list).unwrap_or_default(),
                has_object_list: list.is_some(),
            }))
        }
        (NS_RS, "RegistryResponse") => Ok(Message::RegistryResponse(parse_registry_response(el))),
        (NS_XDSB, "RetrieveDocumentSetRequest") => Ok(Message::RetrieveDocumentSetRequest(
            RetrieveDocumentSetRequest {
                documents: el
                    .children_named(NS_XDSB, "DocumentRequest")
                    .map(parse_document_request)
                    .collect(),
            },
        )),
        (NS_XDSB, "RetrieveDocumentSetResponse") => Ok(Message::RetrieveDocumentSetResponse(
            RetrieveDocumentSetResponse {
                registry_response: el
                    .child(NS_RS, "RegistryResponse")
                    .map(parse_registry_response),
                documents: el
                    .children_named(NS_XDSB, "DocumentResponse")
                    .map(|d| DocumentResponse {
                        home_community_id: child_text(d, "HomeCommunityId"),
                        repository_unique_id: child_text(d, "RepositoryUniqueId"),
                        document_unique_id: child_text(d, "DocumentUniqueId"),
                        new_repository_unique_id: child_text(d, "NewRepositoryUniqueId"),
                        new_document_unique_id: child_text(d, "NewDocumentUniqueId"),
                        mime_type: child_text(d, "mimeType"),
                        document: d.child(NS_XDSB, "Document").map(document_content),
                    })
                    .collect(),
            },
        )),
        (NS_XDSI, "RetrieveImagingDocumentSetRequest") => Ok(
            Message::RetrieveImagingDocumentSetRequest(RetrieveImagingDocumentSetRequest {
                studies: el
                    .children_named(NS_XDSI, "StudyRequest")
                    .map(|s| StudyRequest {
                        study_instance_uid: attr(s, "studyInstanceUID"),
                        series: s
                            .children_named(NS_XDSI, "SeriesRequest")
                            .map(|se| SeriesRequest {
                                series_instance_uid: attr(se, "seriesInstanceUID"),
                                documents: se
                                    .children_named(NS_XDSB, "DocumentRequest")
                                    .map(parse_document_request)
                                    .collect(),
                            })
                            .collect(),
                    })
                    .collect(),
                transfer_syntaxes: el.child(NS_XDSI, "TransferSyntaxUIDList").map(|l| {
                    l.children_named(NS_XDSI, "TransferSyntaxUID")
                        .map(|t| t.text_trimmed().to_owned())
                        .collect()
                }),
            }),
        ),
        _ => Err(EbrimError::UnexpectedElement {
            ns: ns.to_owned(),
            local: el.local.clone(),
        }),
    }
}

/// Parse a bare ebXML document (no SOAP envelope) with default limits.
pub fn parse_message_bytes(xml: &[u8]) -> Result<Message, EbrimError> {
    let root = parse_xml(xml, &XmlLimits::default())?;
    parse_message(&root)
}

/// Every `xop:Include/@href` in a message element (for XOP reference checks).
pub fn xop_hrefs(el: &XmlElement) -> Vec<String> {
    let mut found = Vec::new();
    el.find_all(NS_XOP, "Include", &mut found);
    found
        .into_iter()
        .map(|i| i.attr("href").unwrap_or("").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Syntax

/// OID syntax (ISO/IEC 8824): arcs of digits, no leading zeros, first arc 0-2, at least two arcs,
/// at most 64 characters (DICOM UID limit; XDS allows 64 for OIDs too).
pub fn is_oid(s: &str) -> bool {
    if s.is_empty() || s.len() > 64 {
        return false;
    }
    let arcs: Vec<&str> = s.split('.').collect();
    if arcs.len() < 2 {
        return false;
    }
    if !matches!(arcs.first(), Some(&("0" | "1" | "2"))) {
        return false;
    }
    arcs.iter().all(|a| {
        !a.is_empty()
            && a.bytes().all(|b| b.is_ascii_digit())
            && (a.len() == 1 || !a.starts_with('0'))
    })
}

/// DICOM UID syntax (PS3.5 §9.1): OID form, at most 64 characters.
pub fn is_uid(s: &str) -> bool {
    is_oid(s)
}

/// CX as XDS uses it (ITI TF-3 4.2.3.1.7): `id^^^&OID&ISO`, nothing else.
pub fn is_xds_cx(s: &str) -> bool {
    let comps: Vec<&str> = s.split('^').collect();
    let [id, c2, c3, c4] = comps[..] else {
        return false;
    };
    if id.is_empty() || !c2.is_empty() || !c3.is_empty() {
        return false;
    }
    let sub: Vec<&str> = c4.split('&').collect();
    matches!(sub[..], [ns, oid, "ISO"] if ns.is_empty() && is_oid(oid))
}

/// CX with an id and an assigning authority (CX.1 and CX.4 non-empty), the looser form
/// sourcePatientId takes: the source's own assigning authority need not be an ISO OID.
pub fn is_cx_with_authority(s: &str) -> bool {
    let comps: Vec<&str> = s.split('^').collect();
    matches!(comps.first(), Some(id) if !id.is_empty())
        && comps
            .get(3)
            .is_some_and(|aa| aa.split('&').any(|x| !x.is_empty()))
}

/// DTM (ITI TF-3 4.2.3.1.7): `YYYY[MM[DD[hh[mm[ss]]]]]`, digits only, valid field ranges.
pub fn is_dtm(s: &str) -> bool {
    if !matches!(s.len(), 4 | 6 | 8 | 10 | 12 | 14) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let field = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let ok = |r: std::ops::Range<usize>, lo: u32, hi: u32| match field(r.clone()) {
        Some(v) => (lo..=hi).contains(&v),
        None => s.len() < r.end,
    };
    ok(4..6, 1, 12) && ok(6..8, 1, 31) && ok(8..10, 0, 23) && ok(10..12, 0, 59) && ok(12..14, 0, 60)
}

/// The value of a quoted stored query value (`'a''b'` is `a'b`), `None` when it is not one.
pub fn strip_quotes(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    // A single quote inside a value is escaped by doubling it.
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// The first quoted string of a value (inner quotes doubled) and what follows its closing quote.
/// IPF reads single-valued parameters this way, ignoring trailing characters.
pub fn leading_quoted(v: &str) -> Option<(String, &str)> {
    let rest = v.strip_prefix('\'')?;
    let mut out = String::new();
    let mut iter = rest.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '\'' {
            if iter.peek().map(|(_, n)| *n) == Some('\'') {
                iter.next();
                out.push('\'');
                continue;
            }
            return Some((out, rest.get(i + 1..).unwrap_or("")));
        }
        out.push(c);
    }
    // Unterminated under the doubling rule. Read it as IPF does: the text up to the next quote,
    // with the rest left over (a value such as `'id''trailing` is then `id` plus `'trailing`).
    let close = rest.find('\'')?;
    Some((
        rest.get(..close)?.to_owned(),
        rest.get(close + 1..).unwrap_or(""),
    ))
}

/// Split a stored-query list value `('a', 'b')` into its unquoted items; `None` when the syntax
/// is wrong (no parentheses, unquoted item, stray characters).
pub fn parse_query_list(v: &str) -> Option<Vec<String>> {
    let inner = v.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut items = Vec::new();
    let bytes: Vec<char> = inner.chars().collect();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&'\'') {
            return None;
        }
        i += 1;
        let mut item = String::new();
        loop {
            match bytes.get(i) {
                None => return None,
                Some('\'') if bytes.get(i + 1) == Some(&'\'') => {
                    item.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    item.push(*c);
                    i += 1;
                }
            }
        }
        items.push(item);
        while bytes.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        match bytes.get(i) {
            None => return Some(items),
            Some(',') => i += 1,
            Some(_) => return None,
        }
    }
}

/// Quote a stored-query string value, doubling inner quotes.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// A stored-query list value `('a','b')`.
pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("({})", inner.join(","))
}

/// A stored-query code item `code^^scheme` (HL7 CE form: code, empty text, coding system).
pub fn query_code(code: &str, scheme: &str) -> String {
    format!("{code}^^{scheme}")
}

/// Code item syntax: `code^^scheme` (HL7 CE, as IPF and the NIST toolkit parse it) or
/// `code^^^scheme` (as the standards reference §3.4 writes it); both need a code and a scheme.
pub fn is_query_code(item: &str) -> bool {
    let parts: Vec<&str> = item.split('^').collect();
    match parts[..] {
        [code, "", scheme] | [code, "", "", scheme] => !code.is_empty() && !scheme.is_empty(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Builders

pub(crate) type WResult = std::io::Result<()>;

fn start(w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)]) -> WResult {
    let mut s = BytesStart::new(name);
    for a in attrs {
        s.push_attribute(*a);
    }
    w.write_event(Event::Start(s))
}

pub(crate) fn end(w: &mut Writer<Vec<u8>>, name: &str) -> WResult {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn text_el(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> WResult {
    start(w, name, &[])?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    end(w, name)
}

pub(crate) fn finish(r: std::io::Result<Vec<u8>>) -> String {
    // Writing into a Vec cannot fail.
    r.ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

impl AdhocQueryRequest {
    /// A FindDocuments query (ITI TF-2 3.18.4.1.2.3.7.1) for `patient_id` (CX) with the given
    /// status URNs and, optionally, formatCodes as `(code, scheme)` pairs (SQ-10: XDS-I.b
    /// manifests are found with the KOS formatCode).
    pub fn find_documents(
        patient_id: &str,
        statuses: &[&str],
        format_codes: &[(&str, &str)],
        return_type: &str,
    ) -> AdhocQueryRequest {
        let mut params = vec![
            QueryParam {
                name: "$XDSDocumentEntryPatientId".into(),
                values: vec![quote(patient_id)],
            },
            QueryParam {
                name: "$XDSDocumentEntryStatus".into(),
                values: vec![quote_list(statuses)],
            },
        ];
        if !format_codes.is_empty() {
            let codes: Vec<String> = format_codes.iter().map(|(c, s)| query_code(c, s)).collect();
            params.push(QueryParam {
                name: "$XDSDocumentEntryFormatCode".into(),
                values: vec![quote_list(&codes)],
            });
        }
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_FIND_DOCUMENTS.into()),
            home: None,
            params,
        }
    }

    /// A GetDocuments query by DocumentEntry uniqueIds.
    pub fn get_documents_by_unique_id(unique_ids: &[&str], return_type: &str) -> AdhocQueryRequest {
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_GET_DOCUMENTS.into()),
            home: None,
            params: vec![QueryParam {
                name: "$XDSDocumentEntryUniqueId".into(),
                values: vec![quote_list(unique_ids)],
            }],
        }
    }

    /// A GetDocuments query by entryUUIDs.
    pub fn get_documents_by_uuid(uuids: &[&str], return_type: &str) -> AdhocQueryRequest {
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_GET_DOCUMENTS.into()),
            home: None,
            params: vec![QueryParam {
                name: "$XDSDocumentEntryEntryUUID".into(),
                values: vec![quote_list(uuids)],
            }],
        }
    }

    /// Serialise as a `query:AdhocQueryRequest` element (values written as given).
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "query:AdhocQueryRequest",
                &[("xmlns:query", NS_QUERY), ("xmlns:rim", NS_RIM)],
            )?;
            let mut opt = BytesStart::new("query:ResponseOption");
            opt.push_attribute((
                "returnComposedObjects",
                self.return_composed_objects.as_deref().unwrap_or("true"),
            ));
            opt.push_attribute((
                "returnType",
                self.return_type.as_deref().unwrap_or("LeafClass"),
            ));
            w.write_event(Event::Empty(opt))?;
            let mut aq = vec![("id", self.query_id.as_deref().unwrap_or(""))];
            if let Some(h) = self.home.as_deref() {
                aq.push(("home", h));
            }
            start(&mut w, "rim:AdhocQuery", &aq)?;
            for p in &self.params {
                start(&mut w, "rim:Slot", &[("name", p.name.as_str())])?;
                start(&mut w, "rim:ValueList", &[])?;
                for v in &p.values {
                    text_el(&mut w, "rim:Value", v)?;
                }
                end(&mut w, "rim:ValueList")?;
                end(&mut w, "rim:Slot")?;
            }
            end(&mut w, "rim:AdhocQuery")?;
            end(&mut w, "query:AdhocQueryRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

fn write_document_request(w: &mut Writer<Vec<u8>>, d: &DocumentRequest) -> WResult {
    start(w, "xdsb:DocumentRequest", &[])?;
    if let Some(h) = d.home_community_id.as_deref() {
        text_el(w, "xdsb:HomeCommunityId", h)?;
    }
    text_el(
        w,
        "xdsb:RepositoryUniqueId",
        d.repository_unique_id.as_deref().unwrap_or(""),
    )?;
    text_el(
        w,
        "xdsb:DocumentUniqueId",
        d.document_unique_id.as_deref().unwrap_or(""),
    )?;
    end(w, "xdsb:DocumentRequest")
}

impl RetrieveDocumentSetRequest {
    /// Serialise as an `xdsb:RetrieveDocumentSetRequest` element.
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "xdsb:RetrieveDocumentSetRequest",
                &[("xmlns:xdsb", NS_XDSB)],
            )?;
            for d in &self.documents {
                write_document_request(&mut w, d)?;
            }
            end(&mut w, "xdsb:RetrieveDocumentSetRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

impl RetrieveImagingDocumentSetRequest {
    /// Serialise as an `xdsi:RetrieveImagingDocumentSetRequest` element.
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "xdsi:RetrieveImagingDocumentSetRequest",
                &[("xmlns:xdsi", NS_XDSI), ("xmlns:xdsb", NS_XDSB)],
            )?;
            for s in &self.studies {
                start(
                    &mut w,
                    "xdsi:StudyRequest",
                    &[(
                        "studyInstanceUID",
                        s.study_instance_uid.as_deref().unwrap_or(""),
                    )],
                )?;
                for se in &s.series {
                    start(
                        &mut w,
                        "xdsi:SeriesRequest",
                        &[(
                            "seriesInstanceUID",
                            se.series_instance_uid.as_deref().unwrap_or(""),
                        )],
                    )?;
                    for d in &se.documents {
                        write_document_request(&mut w, d)?;
                    }
                    end(&mut w, "xdsi:SeriesRequest")?;
                }
                end(&mut w, "xdsi:StudyRequest")?;
            }
            start(&mut w, "xdsi:TransferSyntaxUIDList", &[])?;
            for t in self.transfer_syntaxes.as_deref().unwrap_or(&[]) {
                text_el(&mut w, "xdsi:TransferSyntaxUID", t)?;
            }
            end(&mut w, "xdsi:TransferSyntaxUIDList")?;
            end(&mut w, "xdsi:RetrieveImagingDocumentSetRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

impl RegistryResponse {
    /// Serialise as an `rs:RegistryResponse` element (for simulated responders).
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "rs:RegistryResponse",
                &[
                    ("xmlns:rs", NS_RS),
                    ("status", self.status.as_deref().unwrap_or(RESPONSE_SUCCESS)),
                ],
            )?;
            if self.has_error_list || !self.errors.is_empty() {
                start(&mut w, "rs:RegistryErrorList", &[])?;
                for e in &self.errors {
                    let mut el = BytesStart::new("rs:RegistryError");
                    for (k, v) in [
                        ("errorCode", &e.error_code),
                        ("codeContext", &e.code_context),
                        ("location", &e.location),
                        ("severity", &e.severity),
                    ] {
                        if let Some(v) = v.as_deref() {
                            el.push_attribute((k, v));
                        }
                    }
                    w.write_event(Event::Empty(el))?;
                }
                end(&mut w, "rs:RegistryErrorList")?;
            }
            end(&mut w, "rs:RegistryResponse")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_helpers() {
        assert!(is_oid("1.2.840.10008.1.2.1"));
        assert!(!is_oid("1.2.03"));
        assert!(!is_oid("3.1"));
        assert!(!is_oid("1"));
        assert!(!is_oid(""));
        assert!(is_xds_cx("ID^^^&1.2.3&ISO"));
        assert!(!is_xds_cx("ID^^^&1.2.3&ISO'x"));
        assert!(!is_xds_cx("ID^^^1.2.3"));
        assert!(is_dtm("20051224"));
        assert!(is_dtm("20041225235050"));
        assert!(!is_dtm("20041325"));
        assert!(!is_dtm("2004122523505012"));
        assert!(!is_dtm("2004-12"));
        assert_eq!(
            parse_query_list("('a', 'b''c')"),
            Some(vec!["a".into(), "b'c".into()])
        );
        assert_eq!(parse_query_list("'a'"), None);
        assert_eq!(parse_query_list("(a)"), None);
        assert_eq!(parse_query_list("('a' x)"), None);
        assert_eq!(parse_query_list("('a"), None);
        assert_eq!(strip_quotes("'a''b'"), Some("a'b".into()));
        assert_eq!(strip_quotes("'a'b'"), None);
        assert!(is_query_code("c^^s") && is_query_code("c^^^s"));
        assert!(!is_query_code("c^^") && !is_query_code("c"));
        assert!(same_uri("urn:uuid:AB- cd", "urn:uuid:ab-cd"));
    }
}
