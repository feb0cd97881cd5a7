//! The identifiers of ebRIM 3.0 / XDS.b and XDS-I.b: namespaces, SOAP actions, object types,
//! classification and identification schemes, slot and attribute names, association types,
//! availability and response statuses, error codes and the stored queries with their parameters
//! (standards reference §1-5, itself taken from IPF `Vocabulary.java` and the IHE schemas).

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
/// ITI-39 Cross Gateway Retrieve response action (ITI TF-2 Table 3.39.5-2).
pub const ACTION_XC_RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieveResponse";
/// ITI-38 Cross Gateway Query request action (ITI TF-2 Table 3.38.5-2).
pub const ACTION_XC_QUERY: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
/// ITI-38 Cross Gateway Query response action (ITI TF-2 Table 3.38.5-2).
pub const ACTION_XC_QUERY_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayQueryResponse";
/// ITI-39 Cross Gateway Retrieve request action (ITI TF-2 Table 3.39.5-2).
pub const ACTION_XC_RETRIEVE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieve";
/// RAD-75 Cross Gateway Retrieve Imaging Document Set request action (IPF RAD-75 WSDL; NIST
/// toolkit transaction table).
pub const ACTION_XC_RETRIEVE_IMAGING: &str =
    "urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSet";
/// RAD-75 response action.
pub const ACTION_XC_RETRIEVE_IMAGING_RESPONSE: &str =
    "urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSetResponse";

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
