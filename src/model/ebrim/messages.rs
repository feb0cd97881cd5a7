//! The ebRIM / XDS.b messages as typed values: `lcm:SubmitObjectsRequest`, ITI-41 / RAD-68
//! Provide and Register, ITI-18 `query:AdhocQueryRequest`/`Response`, `rs:RegistryResponse`,
//! ITI-43 / RAD-69 / RAD-75 retrieve requests and responses, and [`Message`], any of them.

use super::objects::*;

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
