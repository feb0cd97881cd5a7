//! Fault injection for the reference DICOMweb origin server.
//!
//! The reference server is conformant to DICOM PS3.18 by default. To show that every conformance check of
//! the harness can fail, tests switch on one [`Fault`] at a time: each fault breaks exactly one rule of
//! PS3.18 (multipart framing 8.7.3.5, transfer syntax 8.7.3, WADO-RS status codes 10.4.3, the DICOM JSON
//! model Annex F, QIDO-RS 10.6, STOW-RS 10.5 and Annex I) and leaves every other behaviour conformant.
//! The XDS-I.b faults (`xds-*`, `rad69-*`) break one rule of ITI TF-2/TF-3 or RAD TF-2 each in the
//! reference's Document Registry, Repository and Imaging Document Source.
//! The DIMSE faults (`dimse-*`) break one rule of PS3.4 (Annexes B and C), PS3.7 or PS3.8 each in
//! the reference's DIMSE SCP.
//! The MHD, MADO and report faults (`mhd-*`, `mado-*`, `report-*`) break one rule of ITI TF-2 (MHD),
//! IHE RAD MADO or the HL7 Europe imaging report each in the reference's Document Responder.
//! Faults are for tests only; nothing in a normal run enables them.

use std::fmt;
use std::str::FromStr;

/// One deliberate departure from PS3.18, switched on with
/// [`ReferenceOptions::with_fault`](crate::reference::ReferenceOptions::with_fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// WADO-RS retrieve body ends after the first part, without the close delimiter (RFC 2046 5.1.1).
    TruncatedMultipart,
    /// WADO-RS retrieve `Content-Type` lacks the `type` parameter (PS3.18 8.7.3.5).
    MultipartWithoutType,
    /// WADO-RS retrieve parts are labelled `application/octet-stream` in a `type="application/dicom"` body.
    PartContentTypeMismatch,
    /// Implicit VR Little Endian is sent where Explicit VR Little Endian was expected (PS3.18 8.7.3).
    ImplicitVrParts,
    /// The stored transfer syntax is always sent (labelled truthfully), whatever was requested.
    IgnoreTransferSyntax,
    /// Study and series retrieval omit the last instance yet answer 200 (PS3.18 10.4.3).
    MissingInstance,
    /// One part of a WADO-RS retrieve body is not a DICOM object.
    NonDicomPart,
    /// An unknown study is answered with 500 instead of 404 (PS3.18 10.4.3).
    WrongStatusUnknownStudy,
    /// 200 with the stored data instead of 406 when the requested transfer syntax cannot be provided.
    OkForUnacceptable,
    /// Metadata and QIDO-RS JSON keys are written in lower case (PS3.18 F.2.1.1).
    LowercaseJsonTags,
    /// Metadata and QIDO-RS JSON keys are not in ascending order (PS3.18 F.2.1.1).
    UnsortedJsonKeys,
    /// Metadata `BulkDataURI` values point to a resource that answers 404 (PS3.18 F.2.6).
    BrokenBulkdataUri,
    /// QIDO-RS study results lack Patient's Birth Date and Number of Study Related Instances (Table 10.6.3-3).
    QidoMissingRequired,
    /// QIDO-RS ignores the `limit` query parameter (PS3.18 8.3.4.4).
    QidoIgnoresLimit,
    /// QIDO-RS returns at most one result, without a Warning header or 413, when no limit was asked.
    QidoSilentTruncation,
    /// STOW-RS answers 200 even when the Failed SOP Sequence is not empty (PS3.18 10.5.3).
    Stow200WithFailures,
    /// STOW-RS Failed SOP Sequence items lack Failure Reason (0008,1197) (PS3.18 Annex I).
    StowMissingFailureReason,
    /// STOW-RS stores instances of another study than the one in the URL and lists them as referenced.
    StowStoresMismatchedStudy,
    /// Study and series retrieval add an instance of another study to the body (PS3.18 10.4.1).
    ForeignInstance,
    /// QIDO-RS ignores the matching keys and returns every entity of the level (PS3.18 8.3.4).
    QidoIgnoresMatching,
    /// QIDO-RS answers with `Content-Type: text/plain` instead of `application/dicom+json`.
    QidoWrongContentType,
    /// A rendered resource is answered 200 `image/png` with a body that is not a PNG image.
    RenderedNotAnImage,
    /// KOS manifests are served with document title 113000 ("Of Interest") instead of 113030
    /// ("Manifest"), which an XDS-I.b manifest must carry (IHE RAD TF-2 4.68.4.1.2.1).
    KosWrongTitle,
    /// `OPTIONS` on the service root is refused instead of answered with a WADL capabilities
    /// description (PS3.18 §8.9).
    NoCapabilities,
    /// XDS responses use the SOAP 1.1 envelope namespace (ITI TF-2 Appendix V requires SOAP 1.2).
    XdsSoap11,
    /// XDS responses carry the request's wsa:Action instead of the response action.
    XdsWrongAction,
    /// XDS responses lack wsa:RelatesTo.
    XdsNoRelatesTo,
    /// MTOM responses lack the start-info parameter of their Content-Type.
    XdsMtomWithoutStartInfo,
    /// An xop:Include of a retrieve response names a MIME part that is not in the package.
    XdsDanglingXop,
    /// Response status is the bare word Success instead of the ebRS status URN.
    XdsBadStatus,
    /// RegistryErrors lack codeContext.
    XdsErrorWithoutContext,
    /// A Failure response carries no RegistryError.
    XdsFailureWithoutError,
    /// A Success query response also carries an Error-severity RegistryError.
    XdsSuccessWithError,
    /// Error codes are a private code instead of one of ITI TF-3 Table 4.2.4.1-2.
    XdsUnknownErrorCode,
    /// Query responses write ExternalIdentifiers before Classifications (ebRIM 3.0 schema order).
    XdsSchemaOrder,
    /// Stored query responses omit hash, size and repositoryUniqueId.
    XdsQueryNoHash,
    /// An ObjectRef query is answered with full objects.
    XdsObjectRefAsLeaf,
    /// FindDocuments returns the documents of every patient.
    XdsQueryIgnoresPatient,
    /// A stored query missing a required parameter is answered Success.
    XdsQueryAcceptsMissingParam,
    /// A retrieve that returns only some documents says Success, without errors.
    XdsRetrievePartialAsSuccess,
    /// An unknown document is reported with XDSRegistryError instead of a retrieve error code.
    XdsRetrieveWrongErrorCode,
    /// Retrieve errors do not give the DocumentUniqueId as location.
    XdsRetrieveErrorNoLocation,
    /// ITI-43 returns the manifest labelled application/octet-stream.
    XdsRetrieveWrongMime,
    /// ITI-43 returns the manifest with one byte changed.
    XdsRetrieveCorruptDocument,
    /// Retrieve DocumentResponses lack mimeType.
    XdsRetrieveNoMimeType,
    /// The registered manifests' uniqueId is not the KOS SOP Instance UID.
    XdsMetadataUniqueIdNotSop,
    /// The registered manifests' sourcePatientId is not the KOS Patient ID.
    XdsMetadataWrongSourcePatient,
    /// The registered manifests' referenceIdList lacks the Study Instance UID.
    XdsMetadataNoStudyReference,
    /// The registered manifests' eventCodeList lacks the modality codes.
    XdsMetadataNoModality,
    /// RAD-69 returns the stored transfer syntax whatever was asked for.
    Rad69IgnoresTransferSyntax,
    /// RAD-69 returns an instance that was not asked for.
    Rad69ForeignInstance,
    /// The registered manifests reference an instance the Imaging Document Source does not hold.
    XdsKosReferencesMissingInstance,
    /// WADO-RS retrieve sends the first part, then stalls for the configured time without closing.
    StallMidResponse,
    /// WADO-RS requests wait for the configured time before any response header is sent.
    StallBeforeHeaders,
    /// C-FIND sends its pending responses but never the final one (PS3.4 C.4.1.3: matching ends
    /// with a final response, status Success, Cancel or Failure).
    DimseFindNoFinal,
    /// C-FIND response identifiers carry attributes the request did not ask for (PS3.4
    /// C.4.1.1.3.2: only the requested keys, plus Specific Character Set and Query/Retrieve Level).
    DimseFindExtraKeys,
    /// C-MOVE to an AE title the SCP does not know answers 0000 instead of A801 (PS3.4 C.4.2.1.5).
    DimseMoveUnknownDestinationOk,
    /// C-MOVE responses report one more completed sub-operation than were performed (PS3.4
    /// C.4.2.1.6-C.4.2.1.9).
    DimseMoveWrongCounts,
    /// C-STORE answers 0110 (Processing Failure) for an instance it stored (PS3.4 B.2.3).
    DimseStoreWrongStatus,
    /// C-ECHO answers 0110 (Processing Failure) instead of 0000 (PS3.7 9.1.5, 9.3.5.2).
    DimseEchoWrongStatus,
    /// C-GET sends an instance of another series in place of one that matched (PS3.4 C.4.3.3).
    DimseGetWrongInstance,
    /// C-CANCEL during C-FIND, C-MOVE or C-GET is ignored; the operation completes with 0000
    /// (PS3.4 C.4.1.3, C.4.2.3, C.4.3.3: the SCP ends with status Cancel, FE00).
    DimseCancelIgnored,
    /// An association request with an unknown called AE title is accepted (PS3.8 9.3.4:
    /// A-ASSOCIATE-RJ, source 1, reason 7).
    DimseAcceptAnyAe,
    /// C-FIND ignores the matching keys and returns every entity of the level (PS3.4 C.2.2.2).
    DimseFindIgnoresMatching,
    /// Responses carry a Message ID Being Responded To one higher than the request's Message ID (PS3.7 9.3).
    DimseWrongRespondedTo,
    /// Responses are sent on a presentation context other than the request's (PS3.7 6.3.1; PS3.8 9.3.5).
    DimseWrongContext,
    /// The Verification SOP Class is not accepted: the C-ECHO context is refused (PS3.7 9.1.5; PS3.8 9.3.3.2).
    DimseRefuseVerification,
    /// The built-in modality that plays a Storage SCU SUT sends another series than the one it was asked to (PS3.4 B.2.2).
    DimseModalitySendsOtherSeries,
    /// Presentation contexts for SOP classes the SCP does not support are accepted (PS3.8 9.3.3.2, result 3).
    DimseAcceptUnknownClass,
    /// After the first request of an association, the SCP stops answering for the stall time.
    DimseStall,
    /// ITI-67 ignores the status parameter: superseded DocumentReferences are returned for status=current (ITI TF-2 3.67.4.1.2.1).
    MhdSearchIgnoresStatus,
    /// a search without matches answers 404 instead of 200 with an empty searchset Bundle (ITI TF-2 3.67.4.2.2).
    MhdEmptySearch404,
    /// ITI-66/67 searches answer 200 with an HTML page instead of a FHIR Bundle (FHIR R4 3.1.0.1.2).
    MhdSearchNotFhir,
    /// POST `[type]/_search` is refused with 405 (ITI TF-2 3.67.4.1.2: the Responder shall support GET and POST).
    MhdNoPostSearch,
    /// the ITI-65 transaction-response entries carry no location (ITI TF-2 3.65.4.2.2).
    MhdProvideNoLocation,
    /// ITI-68 answers with Content-Type application/octet-stream instead of the document's contentType (ITI TF-2 3.68.4.2.2).
    MhdBinaryWrongType,
    /// ITI-68 returns the document with its last byte changed, so size/hash no longer agree (ITI TF-2 3.65.4.1.2.1, 3.68.4.2.2).
    MhdBinaryCorrupt,
    /// ITI-68 answers 200 with the stored document when the Accept header excludes its media type, instead of 406 (ITI TF-2 3.68.4.2.2).
    MhdOkForUnacceptable,
    /// KOS DocumentReferences in search results carry the FHIR manifest format code instead of the KOS SOP Class (MADO MadoDicomKosDocumentReference).
    MhdKosWrongFormat,
    /// DocumentReferences in search results lack context.related (the Study Instance UID; MADO MadoDicomKosDocumentReference).
    MhdNoStudyRelated,
    /// FHIR XML search results have the Bundle's type after its entries (FHIR R4 §2.6.2: elements in the order of the definition).
    MhdXmlOutOfOrder,
    /// an ITI-65 replacement is accepted but the PATCH of the replaced DocumentReference is ignored, so it stays current (ITI TF-2 3.65.4.1.2.3).
    MhdReplaceNotSuperseded,
    /// the FHIR manifest leaves out the last instance of the first series, so it no longer agrees with the KOS twin and the image source (MADO mapping).
    MadoFhirMissingInstance,
    /// the KOS manifests published over MHD are XDS-I.b manifests (title 113030, no Image Library), not MADO manifests (MADO 6.X.2.9).
    MadoKosLegacy,
    /// the imaging report has no impression/conclusion (Xt-EHR examinationReport.conclusion.impression 1..1).
    ReportNoImpression,
    /// the imaging report's order carries another accession number than the study's (eHN A.1.8.11).
    ReportWrongAccession,
    /// the report's Composition is final while its DiagnosticReport is preliminary (HL7 EU imaging report: statuses aligned).
    ReportStatusMismatch,
    /// Study and series retrieval send the first instance twice (PS3.18 10.4.1: each instance of the target once).
    DuplicateInstance,
    /// WADO-RS retrieved instances carry another Patient ID than the one stored (PS3.18 10.4.1).
    OtherPatientInstance,
    /// Metadata data sets name another Study Instance UID than the target's (PS3.18 10.4.1).
    MetadataOtherStudy,
    /// Study and series metadata add the data set of an instance of another study (PS3.18 10.4.1).
    MetadataExtraInstance,
    /// Retrieve Frames answers the first frame for every frame asked (PS3.18 10.4.1).
    FramesRepeatFirst,
    /// Retrieve Frames answers the frames of another instance of the series (PS3.18 10.4.1).
    FramesOtherInstance,
    /// The Pixel Data BulkDataURI answers the pixel data of another instance of the series (PS3.18 F.2.6).
    BulkdataOtherInstance,
    /// Rendered images are scaled to half the source's rows and columns without a viewport parameter (PS3.18 8.3.5.1.3).
    RenderedWrongSize,
    /// QIDO-RS searches below /studies/{study} and /studies/{study}/series/{series} ignore the study and series of the path (PS3.18 10.6.1).
    QidoIgnoresPath,
    /// Rendered image/jpeg answers are progressive JPEG (SOF2) instead of baseline (PS3.18 8.7.4).
    RenderedProgressiveJpeg,
    /// A rendered request whose Accept offers no type the server renders is answered 200 with JPEG instead of 406 (PS3.18 8.7.8.1).
    RenderedIgnoresAccept,
    /// STOW-RS answers 200 with an empty Store Instances Response ({}), referencing nothing (PS3.18 10.5.3, Annex I).
    StowEmptyResponse,
    /// STOW-RS responses reference one more instance than was sent (PS3.18 10.5.3, Annex I).
    StowForeignReference,
    /// The STOW-RS response's Retrieve URL names another study than the one stored (PS3.18 10.5.3, Annex I).
    StowWrongRetrieveUrl,
    /// A FindDocuments that filters by formatCode returns an entry of another formatCode (ITI TF-2 3.18.4.1.2.3.7.1).
    XdsQueryOtherFormat,
    /// A LeafClass FindDocuments is answered with ObjectRefs (ITI TF-2 3.18.4.1.2.1).
    XdsLeafClassAsObjectRef,
    /// An ObjectRef FindDocuments answer names an entry of another patient in place of one of the patient's (ITI TF-2 3.18.4.1.2.3.7.1).
    XdsObjectRefOtherPatient,
    /// ITI-43 returns another document of the repository, under that document's uniqueId, in place of the one asked (ITI TF-2 3.43.4.2.2).
    XdsRetrieveOtherDocument,
    /// ITI-43 returns other bytes of the registered size (the document reversed), which the evidence does not keep (ITI TF-3 4.2.3.2 hash).
    XdsRetrieveSameSizeOtherBytes,
    /// The registry stores a RAD-68 submission with another creationTime than submitted (ITI TF-2 3.42.4.1.3).
    XdsRegistryAltersMetadata,
    /// The built-in Imaging Document Source that plays a SUT publishes the manifest of another study than the one it was asked to (RAD TF-2 4.68.4.1.2).
    XdsBuiltinSourceOtherStudy,
    /// The built-in Document Consumer that plays a SUT queries for another patient than the one it was asked about (ITI TF-2 3.18.4.1.2.3.7.1).
    XdsBuiltinConsumerOtherPatient,
    /// RAD-69 DocumentResponses carry another RepositoryUniqueId than the one asked (RAD TF-2 4.69.4.2.3).
    Rad69WrongRepositoryId,
    /// ITI-67 answers add a DocumentReference of another patient (ITI TF-2 3.67.4.1.3).
    MhdSearchOtherPatient,
    /// ITI-67 answers page after the first match, and the next page repeats the first one (FHIR R4 3.1.1.6 paging).
    MhdSearchPagesRepeat,
    /// ITI-66 answers are Bundles of type collection instead of searchset (ITI TF-2 3.66.4.2.2).
    MhdListsNotSearchset,
    /// POST `[type]/_search` is refused with 400 and an OperationOutcome (ITI TF-2 3.67.4.1.2: GET and POST are both supported).
    MhdPostSearch400,
    /// The Recipient stores an ITI-65 bundle whose DocumentReference lacks status, 1..1 in FHIR R4 (FHIR R4 http.html transaction).
    MhdAcceptsInvalidFhir,
    /// The built-in Document Source that plays a SUT publishes the manifest of another study than the one it was asked to (ITI TF-2 3.65.4.1.2).
    MhdBuiltinSourceOtherStudy,
    /// The built-in Document Consumer that plays a SUT searches for another patient than the one it was asked about (ITI TF-2 3.67.4.1.2.1).
    MhdBuiltinConsumerOtherPatient,
    /// XDS responses carry a wsa:RelatesTo naming another message than the request (WS-Addressing 1.0 Core 3.4; ITI TF-2 Appendix V).
    XdsRelatesToOtherMessage,
    /// QIDO-RS searches are read whole, then the connection is closed without a response (RFC 9112 §9.6).
    PeerCloses,
    /// QIDO-RS searches are answered 200 with a JSON array that never ends (what the harness reads to judge is bounded: BODY-01).
    QidoEndless,
    /// A QIDO-RS page after which matches remain has no `Warning: 299` header field (PS3.18 §8.3.4.4.1).
    QidoNoPagingWarning,
    /// A rendered request accepting only image/gif is answered 406, though Table 8.7.4-1 requires GIF of a RESTful origin server for single-frame images.
    RenderedNoGif,
    /// C-FIND response identifiers name another Query/Retrieve Level than the request's (PS3.4
    /// C.4.1.1.3.2).
    DimseFindWrongLevel,
    /// Series- and image-level C-FIND identifiers carry another study's Study Instance UID than the
    /// one asked (PS3.4 C.2.2.2, C.4.1.3.1).
    DimseFindWrongStudy,
    /// Responses name another Affected SOP Class UID than their request's (PS3.7 9.1: U(=)).
    DimseWrongAffectedClass,
    /// C-GET sends, under the Affected SOP Instance UID of the first matching instance, the data set
    /// of an instance of another study (PS3.4 C.4.3.3; PS3.7 9.1.1.1).
    DimseGetMislabelledInstance,
    /// C-STORE responses name another Affected SOP Instance UID than their request's (PS3.7 9.1.1).
    DimseStoreWrongInstance,
    /// C-MOVE sub-operations name the SCP itself as Move Originator AE Title and carry no Move
    /// Originator Message ID (PS3.7 9.1.1.1, Table 9.1-1).
    DimseMoveOwnOriginator,
    /// The SCP takes a complete C-FIND-RQ, then aborts the association instead of answering it
    /// (PS3.7 9.3: each request is answered by its response).
    DimseAbortAfterFind,
    /// C-GET aborts the association after its first C-STORE sub-operation, without a final
    /// response (PS3.7 9.3; PS3.4 C.4.3.3).
    DimseGetAbortMidway,
    /// ITI-43 DocumentResponses carry a HomeCommunityId the request did not name (ITI TF-2 3.43.4.2.2: then it shall not be present).
    XdsRetrieveAddsHomeCommunity,
    /// A LeafClass GetDocuments by entryUUID is answered with ObjectRefs (ITI TF-2 3.18.4.1.2.1).
    XdsGetDocumentsAsObjectRef,
    /// Rendered image/jpeg answers are 12-bit extended sequential JPEG (SOF1, precision 12), which no reading of PS3.18 §8.7.4 allows.
    RenderedTwelveBitJpeg,
    /// Retrieve Frames answers the frame of a single-frame instance stored losslessly compressed in its stored transfer syntax though none was asked (PS3.18 §8.7.3.3: uncompressed by default).
    FramesCompressedByDefault,
    /// QIDO-RS study results count one instance fewer than the study holds in Number of Study Related Instances (PS3.4 §C.3.4).
    QidoWrongCounts,
    /// C-FIND answers every match twice, as an SCP that answers a study-level query once per
    /// instance of the study does (PS3.4 C.4.1.3.1: one response for each match).
    DimseFindDuplicateMatches,
    /// C-FIND answers the right entities with the values of none of them: another Study Date, and
    /// Series and Instance Numbers shifted by 100 (PS3.4 C.4.1.3.1: values from the match).
    DimseFindWrongValues,
    /// C-GET sends each instance with an attribute it did not have as stored (Institution Name),
    /// its image unchanged, as an archive that coerces attributes does (PS3.4 B.4.1.3).
    DimseGetCoercesAttributes,
    /// C-GET sends each instance with one byte of its Pixel Data changed: another image under the
    /// SOP Instance UID asked for (PS3.4 C.4.3.3).
    DimseGetOtherImage,
    /// A C-MOVE to an unknown destination is refused with C000 (Failed: Unable to process) instead of
    /// the status PS3.4 names for it, A801 (PS3.4 C.4.2.1.5; PS3.7 9.1.4.1.7).
    DimseMoveUnknownDestinationC000,
    /// The TLS reference of the ATNA scenarios asks for no client certificate and serves anyone (IHE ITI TF-2 §3.19: mutual authentication).
    TlsNoClientAuth,
    /// The TLS reference of the ATNA scenarios presents an expired server certificate (RFC 5280 §6.1.3).
    TlsExpiredServerCert,
    /// The TLS reference of the ATNA scenarios speaks TLS 1.3 only (RFC 9325 §3.1.1: MUST support TLS 1.2).
    TlsNo12,
    /// The TLS reference of the ATNA scenarios speaks TLS 1.2 only (RFC 9325 §3.1.1: SHOULD support TLS 1.3).
    TlsNo13,
    /// The built-in TLS client that plays a SUT client in the ATNA scenarios takes any server certificate (IHE ITI TF-2 §3.19: the client validates the server's certificate).
    TlsBuiltinClientTrustsAny,
    /// The built-in audit source of the ITI-20 scenarios sends its audit with the syslog MSGID AUDIT instead of IHE+RFC-3881 (ITI TF-2 §3.20.4.1.2).
    AuditWrongMsgid,
    /// The built-in audit source of the ITI-20 scenarios sends its UTF-8 MSG without the byte order mark (RFC 5424 §6.4).
    AuditNoBom,
    /// The built-in audit source of the ITI-20 scenarios sends EventActionCode X, which the DICOM audit schema does not define (PS3.15 §A.5.1).
    AuditInvalidActionCode,
    /// The built-in audit source of the ITI-20 scenarios audits its ITI-18 query with EventActionCode R instead of E (ITI TF-2 §3.18.5.1).
    AuditWrongActionCode,
    /// The built-in audit source of the ITI-20 scenarios leaves out the Source active participant (ITI TF-2 §3.18.5.1).
    AuditNoSourceParticipant,
    /// The built-in audit source of the ITI-20 scenarios writes its message on the TLS stream without the octet count (RFC 5425 §4.3).
    AuditUnframed,
    /// The built-in audit source of the ITI-20 scenarios announces a frame of 100 MB (RFC 5425 §4.3: within the receiver's limit).
    AuditOversized,
    /// The built-in audit source of the ITI-20 scenarios sends a MSG that starts with the BOM but is not UTF-8 (RFC 5424 §6.4).
    AuditInvalidUtf8,
    /// The built-in audit source of the ITI-20 scenarios sends an XML entity bomb as its MSG (DICOM PS3.15 §A.6: an XML audit message; no DTD).
    AuditXmlBomb,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario sends its AuditEvent as an update, PUT [base]/AuditEvent/{id}, instead of the create POST [base]/AuditEvent (ITI TF-2 §3.20.4.2).
    AuditFhirUpdate,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario labels its AuditEvent text/plain instead of application/fhir+json (FHIR R4 http §3.1.0.1.10).
    AuditFhirWrongMediaType,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario posts the DICOM audit message XML under the FHIR JSON media type (ITI TF-2 §3.20.4.2: an AuditEvent resource).
    AuditFhirNotJson,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario posts an AuditEvent of more than 64 KiB, past the repository's limit.
    AuditFhirOversized,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario sends an AuditEvent whose source has no observer (FHIR R4 AuditEvent.source.observer 1..1).
    AuditFhirNoObserver,
    /// The built-in audit source of the ITI-20 FHIR Feed scenario sends AuditEvent.recorded without its time zone, not a FHIR instant (FHIR R4 §2.24.0.1).
    AuditFhirRecordedNotInstant,
    /// The Audit Record Repository of the ARR scenarios drops each syslog/TLS session after its first frame, without close_notify (RFC 5425 §4.4, RFC 8446 §6.1).
    ArrSyslogClosesOnFirstFrame,
    /// The Audit Record Repository of the ARR scenarios answers the AuditEvent create with 200 and no Location (FHIR R4 http.html#create: 201 and a Location).
    ArrFeed200NoLocation,
    /// The Audit Record Repository of the ARR scenarios refuses a valid AuditEvent with 400 (RESTful ATNA §3.20.4.2).
    ArrFeed400,
    /// The Audit Record Repository of the ARR scenarios answers ITI-81 with a Bundle of type collection (RESTful ATNA §3.81.4.2: searchset).
    ArrSearchNotSearchset,
    /// The Audit Record Repository of the ARR scenarios takes syslog/UDP datagrams and records none, so ITI-81 never finds them (RESTful ATNA §3.81.1).
    ArrUdpDrops,
    /// The Audit Record Repository of the ARR scenarios ignores the patient parameter of ITI-81 and answers with the audits of every patient (RESTful ATNA §3.81.4.1.2).
    ArrSearchIgnoresPatient,
    /// The built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios sends its requests one Query/Retrieve Level below the one it was asked for (PS3.4 §C.4.1.2.1).
    QrBuiltinScuWrongLevel,
    /// The built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios leaves the Study Instance UID out of its series-level C-MOVE and C-GET (PS3.4 §C.4.2.2.1, §C.4.3.2.1).
    QrBuiltinScuNoUniqueKey,
    /// The built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios proposes no Storage SOP Class with the SCP role on its C-GET association (PS3.4 §C.4.3; PS3.7 §D.3.3.4).
    QrBuiltinScuGetNoRole,
    /// The Responding Gateway leaves `home` off the second object of each ITI-38 answer (ITI TF-2 3.38.4.1.3).
    XcaRgOmitsHome,
    /// The Responding Gateway answers ITI-38 and ITI-39 requests naming a homeCommunityId it does not represent from its own community instead of with XDSUnknownCommunity (ITI TF-2 3.38.4.1.3; ITI TF-3 Table 4.2.4.1-2).
    XcaRgIgnoresUnknownCommunity,
    /// The Responding Gateway's ITI-39 DocumentResponses carry no HomeCommunityId (ITI TF-2 3.39.5, 3.43.4.2.2).
    XcaRgRetrieveOmitsHome,
    /// The Responding Gateway answers ITI-38 with the ITI-18 response action RegistryStoredQueryResponse (ITI TF-2 Table 3.38.5-2).
    XcaRgStoredQueryAction,
    /// The Responding Gateway's ITI-38 answers name a community it does not represent in `home` (ITI TF-2 3.38.4.1.3).
    XcaRgForeignHome,
    /// The Responding Gateway's ITI-39 DocumentResponses carry a HomeCommunityId other than the one asked (ITI TF-2 3.43.4.2.2).
    XcaRgRetrieveOtherHome,
    /// The Responding Gateway's RegistryErrors name its registry (ITI-38) or only the DocumentUniqueId (ITI-39) in location, not its homeCommunityId (ITI TF-2 3.38.4.1.3, 3.39.4.1.3).
    XcaRgErrorLocationRegistry,
    /// The KOS manifest's DocumentReference does not point to its FHIR twin with relatesTo `transforms` (MADO IG manifest envelope).
    MadoTwinUnlinked,
    /// The MHD responder's CapabilityStatement leaves the DocumentReference `category` search parameter out (HL7 Europe imaging API, SHALL).
    EuapiCsNoCategoryParam,
    /// The MHD responder's CapabilityStatement leaves the DocumentReference `modality` search parameter out (HL7 Europe imaging API, SHOULD).
    EuapiCsNoModalityParam,
    /// The manifest DocumentReferences' masterIdentifier is not among their identifiers (MADO IG invariant mado-docref-1).
    MadoDocrefMasteridNotInIdentifier,
    /// The manifest DocumentReferences carry no Medical-Imaging priority category (HL7 Europe Health Data API; MADO IG examples).
    MadoDocrefNoPriorityCategory,
    /// The XC-WADO Responding Imaging Gateway answers 404 to a series-level Get Instances (IHE RAD MADO Rev 1.1 §4.107.4.0.5).
    XcwadoRigNoSeries,
    /// The Responding Imaging Gateway answers RAD-75 with the RAD-69 (ITI-43) response action, not CrossGatewayRetrieveImagingDocumentSetResponse (RAD-75, IPF WSDL).
    XcaiRigRad69ResponseAction,
    /// The Responding Imaging Gateway answers Failure without the images its source returned when any other document fails (Gazelle RAD75-003).
    XcaiRigDropsFoundOnError,
    /// The Responding Imaging Gateway passes its source's RegistryError location (the DocumentUniqueId) through instead of its homeCommunityId (Gazelle RAD75-004).
    XcaiRigErrorLocationSource,
    /// The Responding Imaging Gateway's DocumentResponses carry a HomeCommunityId other than the one asked (Gazelle RAD75-005, ITI TF-2 3.43.4.2.2).
    XcaiRigOtherHome,
    /// The Responding Imaging Gateway's DocumentResponses carry no HomeCommunityId (ITI TF-2 3.39.5, RAD75-005).
    XcaiRigStripsHome,
    /// The Responding Imaging Gateway answers Success with no error for documents of a repository it does not know (ITI TF-3 Table 4.2.4.1-2, ITI TF-2 3.43.4.2.2).
    XcaiRigUnknownSourceSuccess,
    /// The Responding Imaging Gateway serves DocumentRequests with a missing or unknown HomeCommunityId as if they named its community (ITI TF-3 Table 4.2.4.1-2).
    XcaiRigIgnoresHome,
    /// The Responding Imaging Gateway returns images in a transfer syntax not asked for when none asked can be produced (RAD TF-2 4.69.4.2.3 via RAD75-005).
    XcaiRigTranscodesUnasked,
    /// The built-in DICOMweb user agent that plays the SUT of the user_agent scenarios asks for every resource with Accept: application/xml, which no DICOMweb resource can be (PS3.18 §8.7).
    DicomwebBuiltinUaBadAccept,
    /// The built-in DICOMweb user agent that plays the SUT of the user_agent scenarios addresses a study as study/{uid} instead of studies/{uid} (PS3.18 §10.4.1).
    DicomwebBuiltinUaBadPath,
    /// The built-in DICOMweb user agent that plays the SUT of the user_agent scenarios writes its search keys and includefield values in lower case, which no attribute keyword is (PS3.18 §8.3.4).
    DicomwebBuiltinUaBadKey,
    /// The built-in DICOMweb user agent that plays the SUT of the user_agent scenarios stores a JPEG image as the part of its STOW-RS request instead of the DICOM object (PS3.18 §10.5.1.2).
    DicomwebBuiltinUaStowJpeg,
    /// The built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios, asked to cancel its C-FIND after the first match, sends no C-CANCEL (PS3.7 §9.3.2.3).
    QrBuiltinScuNoCancel,
    /// The Initiating Gateway leaves the consumer's $XDSDocumentEntryFormatCode out of the ITI-38 it sends (ITI TF-2 3.38.4.1.1).
    XcaIgDropsParameter,
    /// The Initiating Gateway's ITI-38 without a patient id carries no home (ITI TF-2 3.38.4.1.2.1).
    XcaIgGetdocumentsWithoutHome,
    /// The Initiating Gateway passes on only the first community's entries (ITI TF-2 3.38.4.1.3).
    XcaIgDropsCommunity,
    /// The Initiating Gateway answers Success and drops the errors of a failing community (ITI TF-2 3.38.4.1.3).
    XcaIgHidesFailure,
    /// The Initiating Gateway passes a community's XDSUnknownPatientId on to the consumer (ITI TF-2 3.38.4.1.3).
    XcaIgPassesUnknownPatient,
    /// The Initiating Gateway passes on objects without home and reports no XDSMissingHomeCommunityId (ITI TF-2 3.38.4.1.3).
    XcaIgAcceptsMissingHome,
    /// The Initiating Gateway's ITI-39 DocumentRequests carry no HomeCommunityId (ITI TF-2 3.39.4.1.2).
    XcaIgRetrieveWithoutHome,
    /// The Initiating Gateway sends every DocumentRequest to community A's gateway, whatever its HomeCommunityId (ITI TF-2 3.43.4.1.3).
    XcaIgRetrieveWrongGateway,
    /// The Initiating Gateway's consolidated ITI-43 answer is Success and drops the errors of a failing community (ITI TF-2 3.39.4.1.3).
    XcaIgRetrieveHidesFailure,
    /// The Initiating Gateway reports a community it cannot reach as XDSRegistryError, not XDSUnavailableCommunity (ITI TF-3 Table 4.2.4.1-2).
    XcaIgUnavailableAsRegistryError,
    /// The Initiating Gateway's consolidated ITI-43 answer names community A's homeCommunityId on every document (ITI TF-2 3.43.4.2.2).
    XcaIgRewritesHome,
    /// The Initiating Gateway's ITI-38 and ITI-39 requests carry no wsa:MessageID (ITI TF-2 Appendix V).
    XcaIgLegWithoutMessageId,
    /// The built-in Document Consumer that plays the SUT across communities leaves `home` off its id-based stored query (ITI TF-2 3.18.4.1.2.3.8).
    XcaBuiltinConsumerDropsHome,
    /// The built-in Document Consumer that plays the SUT across communities leaves HomeCommunityId out of its ITI-43 (ITI TF-2 3.43.4.1.2).
    XcaBuiltinConsumerRetrieveNoHome,
    /// The Initiating Imaging Gateway sends every community's DocumentRequests to community A's
    /// Responding Imaging Gateway (breaks XCAI-09).
    XcaiIigSendsAllToOneRig,
    /// The Initiating Imaging Gateway's RAD-75 requests carry no TransferSyntaxUIDList (breaks
    /// XCAI-10).
    XcaiIigDropsTransferSyntax,
    /// The Initiating Imaging Gateway answers Success without the errors of a failing community
    /// when another returned images (breaks XCAI-12).
    XcaiIigHidesFailure,
    /// The Initiating Imaging Gateway drops DocumentRequests of an unknown community silently and
    /// answers Success (breaks XCAI-13).
    XcaiIigUnknownCommunitySuccess,
    /// The Initiating Imaging Gateway refuses an unknown community with XDSRepositoryError
    /// (breaks XCAI-15).
    XcaiIigUnknownCommunityOtherCode,
    /// A study retrieve (WADO-RS, a STUDY level C-GET or C-MOVE, a RAD-69 of several series) is
    /// answered, or its first sub-operation sent, only after [`PERF_SLOW_FIRST_BYTE`]: its first
    /// byte, its first instance and its throughput all miss the reference's performance
    /// thresholds (breaks PERF-01..04).
    PerfSlowFirstByte,
}

/// How long [`Fault::PerfSlowFirstByte`] holds a study retrieve back.
pub const PERF_SLOW_FIRST_BYTE: std::time::Duration = std::time::Duration::from_secs(6);

/// A fault name that is not one of [`Fault::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault {}; known faults: {known}",
    crate::evidence::quote(name)
)]
pub struct UnknownFault {
    /// The name that was given.
    pub name: String,
    /// Comma-separated list of the known names.
    pub known: String,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: &'static [Fault] = &[
        Fault::TruncatedMultipart,
        Fault::MultipartWithoutType,
        Fault::PartContentTypeMismatch,
        Fault::ImplicitVrParts,
        Fault::IgnoreTransferSyntax,
        Fault::MissingInstance,
        Fault::NonDicomPart,
        Fault::WrongStatusUnknownStudy,
        Fault::OkForUnacceptable,
        Fault::LowercaseJsonTags,
        Fault::UnsortedJsonKeys,
        Fault::BrokenBulkdataUri,
        Fault::QidoMissingRequired,
        Fault::QidoIgnoresLimit,
        Fault::QidoSilentTruncation,
        Fault::Stow200WithFailures,
        Fault::StowMissingFailureReason,
        Fault::StowStoresMismatchedStudy,
        Fault::ForeignInstance,
        Fault::QidoIgnoresMatching,
        Fault::QidoWrongContentType,
        Fault::RenderedNotAnImage,
        Fault::KosWrongTitle,
        Fault::NoCapabilities,
        Fault::XdsSoap11,
        Fault::XdsWrongAction,
        Fault::XdsNoRelatesTo,
        Fault::XdsMtomWithoutStartInfo,
        Fault::XdsDanglingXop,
        Fault::XdsBadStatus,
        Fault::XdsErrorWithoutContext,
        Fault::XdsFailureWithoutError,
        Fault::XdsSuccessWithError,
        Fault::XdsUnknownErrorCode,
        Fault::XdsSchemaOrder,
        Fault::XdsQueryNoHash,
        Fault::XdsObjectRefAsLeaf,
        Fault::XdsQueryIgnoresPatient,
        Fault::XdsQueryAcceptsMissingParam,
        Fault::XdsRetrievePartialAsSuccess,
        Fault::XdsRetrieveWrongErrorCode,
        Fault::XdsRetrieveErrorNoLocation,
        Fault::XdsRetrieveWrongMime,
        Fault::XdsRetrieveCorruptDocument,
        Fault::XdsRetrieveNoMimeType,
        Fault::XdsMetadataUniqueIdNotSop,
        Fault::XdsMetadataWrongSourcePatient,
        Fault::XdsMetadataNoStudyReference,
        Fault::XdsMetadataNoModality,
        Fault::Rad69IgnoresTransferSyntax,
        Fault::Rad69ForeignInstance,
        Fault::XdsKosReferencesMissingInstance,
        Fault::StallMidResponse,
        Fault::StallBeforeHeaders,
        Fault::DimseFindNoFinal,
        Fault::DimseFindExtraKeys,
        Fault::DimseMoveUnknownDestinationOk,
        Fault::DimseMoveWrongCounts,
        Fault::DimseStoreWrongStatus,
        Fault::DimseEchoWrongStatus,
        Fault::DimseGetWrongInstance,
        Fault::DimseCancelIgnored,
        Fault::DimseAcceptAnyAe,
        Fault::DimseAcceptUnknownClass,
        Fault::DimseRefuseVerification,
        Fault::DimseModalitySendsOtherSeries,
        Fault::DimseFindIgnoresMatching,
        Fault::DimseWrongRespondedTo,
        Fault::DimseWrongContext,
        Fault::DimseStall,
        Fault::MhdSearchIgnoresStatus,
        Fault::MhdEmptySearch404,
        Fault::MhdSearchNotFhir,
        Fault::MhdNoPostSearch,
        Fault::MhdProvideNoLocation,
        Fault::MhdBinaryWrongType,
        Fault::MhdBinaryCorrupt,
        Fault::MhdOkForUnacceptable,
        Fault::MhdKosWrongFormat,
        Fault::MhdNoStudyRelated,
        Fault::MhdXmlOutOfOrder,
        Fault::MhdReplaceNotSuperseded,
        Fault::MadoFhirMissingInstance,
        Fault::MadoKosLegacy,
        Fault::ReportNoImpression,
        Fault::ReportWrongAccession,
        Fault::ReportStatusMismatch,
        Fault::DuplicateInstance,
        Fault::OtherPatientInstance,
        Fault::MetadataOtherStudy,
        Fault::MetadataExtraInstance,
        Fault::FramesRepeatFirst,
        Fault::FramesOtherInstance,
        Fault::BulkdataOtherInstance,
        Fault::RenderedWrongSize,
        Fault::QidoIgnoresPath,
        Fault::RenderedProgressiveJpeg,
        Fault::RenderedIgnoresAccept,
        Fault::StowEmptyResponse,
        Fault::StowForeignReference,
        Fault::StowWrongRetrieveUrl,
        Fault::XdsQueryOtherFormat,
        Fault::XdsLeafClassAsObjectRef,
        Fault::XdsObjectRefOtherPatient,
        Fault::XdsRetrieveOtherDocument,
        Fault::XdsRetrieveSameSizeOtherBytes,
        Fault::XdsRegistryAltersMetadata,
        Fault::XdsBuiltinSourceOtherStudy,
        Fault::XdsBuiltinConsumerOtherPatient,
        Fault::Rad69WrongRepositoryId,
        Fault::MhdSearchOtherPatient,
        Fault::MhdSearchPagesRepeat,
        Fault::MhdListsNotSearchset,
        Fault::MhdPostSearch400,
        Fault::MhdAcceptsInvalidFhir,
        Fault::MhdBuiltinSourceOtherStudy,
        Fault::MhdBuiltinConsumerOtherPatient,
        Fault::XdsRelatesToOtherMessage,
        Fault::PeerCloses,
        Fault::QidoEndless,
        Fault::QidoNoPagingWarning,
        Fault::RenderedNoGif,
        Fault::DimseFindWrongLevel,
        Fault::DimseFindWrongStudy,
        Fault::DimseWrongAffectedClass,
        Fault::DimseGetMislabelledInstance,
        Fault::DimseStoreWrongInstance,
        Fault::DimseMoveOwnOriginator,
        Fault::DimseAbortAfterFind,
        Fault::DimseGetAbortMidway,
        Fault::XdsRetrieveAddsHomeCommunity,
        Fault::XdsGetDocumentsAsObjectRef,
        Fault::RenderedTwelveBitJpeg,
        Fault::FramesCompressedByDefault,
        Fault::QidoWrongCounts,
        Fault::DimseFindDuplicateMatches,
        Fault::DimseFindWrongValues,
        Fault::DimseGetCoercesAttributes,
        Fault::DimseGetOtherImage,
        Fault::DimseMoveUnknownDestinationC000,
        Fault::TlsNoClientAuth,
        Fault::TlsExpiredServerCert,
        Fault::TlsNo12,
        Fault::TlsNo13,
        Fault::TlsBuiltinClientTrustsAny,
        Fault::AuditWrongMsgid,
        Fault::AuditNoBom,
        Fault::AuditInvalidActionCode,
        Fault::AuditWrongActionCode,
        Fault::AuditNoSourceParticipant,
        Fault::AuditUnframed,
        Fault::AuditOversized,
        Fault::AuditInvalidUtf8,
        Fault::AuditXmlBomb,
        Fault::AuditFhirUpdate,
        Fault::AuditFhirWrongMediaType,
        Fault::AuditFhirNotJson,
        Fault::AuditFhirOversized,
        Fault::AuditFhirNoObserver,
        Fault::AuditFhirRecordedNotInstant,
        Fault::ArrSyslogClosesOnFirstFrame,
        Fault::ArrFeed200NoLocation,
        Fault::ArrFeed400,
        Fault::ArrSearchNotSearchset,
        Fault::ArrUdpDrops,
        Fault::ArrSearchIgnoresPatient,
        Fault::QrBuiltinScuWrongLevel,
        Fault::QrBuiltinScuNoUniqueKey,
        Fault::QrBuiltinScuGetNoRole,
        Fault::XcaRgOmitsHome,
        Fault::XcaRgIgnoresUnknownCommunity,
        Fault::XcaRgRetrieveOmitsHome,
        Fault::XcaRgStoredQueryAction,
        Fault::XcaRgForeignHome,
        Fault::XcaRgRetrieveOtherHome,
        Fault::XcaRgErrorLocationRegistry,
        Fault::MadoTwinUnlinked,
        Fault::EuapiCsNoCategoryParam,
        Fault::EuapiCsNoModalityParam,
        Fault::MadoDocrefMasteridNotInIdentifier,
        Fault::MadoDocrefNoPriorityCategory,
        Fault::XcwadoRigNoSeries,
        Fault::XcaiRigRad69ResponseAction,
        Fault::XcaiRigDropsFoundOnError,
        Fault::XcaiRigErrorLocationSource,
        Fault::XcaiRigOtherHome,
        Fault::XcaiRigStripsHome,
        Fault::XcaiRigUnknownSourceSuccess,
        Fault::XcaiRigIgnoresHome,
        Fault::XcaiRigTranscodesUnasked,
        Fault::DicomwebBuiltinUaBadAccept,
        Fault::DicomwebBuiltinUaBadPath,
        Fault::DicomwebBuiltinUaBadKey,
        Fault::DicomwebBuiltinUaStowJpeg,
        Fault::QrBuiltinScuNoCancel,
        Fault::XcaIgDropsParameter,
        Fault::XcaIgGetdocumentsWithoutHome,
        Fault::XcaIgDropsCommunity,
        Fault::XcaIgHidesFailure,
        Fault::XcaIgPassesUnknownPatient,
        Fault::XcaIgAcceptsMissingHome,
        Fault::XcaIgRetrieveWithoutHome,
        Fault::XcaIgRetrieveWrongGateway,
        Fault::XcaIgRetrieveHidesFailure,
        Fault::XcaIgUnavailableAsRegistryError,
        Fault::XcaIgRewritesHome,
        Fault::XcaIgLegWithoutMessageId,
        Fault::XcaBuiltinConsumerDropsHome,
        Fault::XcaBuiltinConsumerRetrieveNoHome,
        Fault::XcaiIigSendsAllToOneRig,
        Fault::XcaiIigDropsTransferSyntax,
        Fault::XcaiIigHidesFailure,
        Fault::XcaiIigUnknownCommunitySuccess,
        Fault::XcaiIigUnknownCommunityOtherCode,
        Fault::PerfSlowFirstByte,
    ];

    /// The kebab-case name used on the command line and in test names.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::TruncatedMultipart => "truncated-multipart",
            Fault::MultipartWithoutType => "multipart-without-type",
            Fault::PartContentTypeMismatch => "part-content-type-mismatch",
            Fault::ImplicitVrParts => "implicit-vr-parts",
            Fault::IgnoreTransferSyntax => "ignore-transfer-syntax",
            Fault::MissingInstance => "missing-instance",
            Fault::NonDicomPart => "non-dicom-part",
            Fault::WrongStatusUnknownStudy => "wrong-status-unknown-study",
            Fault::OkForUnacceptable => "ok-for-unacceptable",
            Fault::LowercaseJsonTags => "lowercase-json-tags",
            Fault::UnsortedJsonKeys => "unsorted-json-keys",
            Fault::BrokenBulkdataUri => "broken-bulkdata-uri",
            Fault::QidoMissingRequired => "qido-missing-required",
            Fault::QidoIgnoresLimit => "qido-ignores-limit",
            Fault::QidoSilentTruncation => "qido-silent-truncation",
            Fault::Stow200WithFailures => "stow-200-with-failures",
            Fault::StowMissingFailureReason => "stow-missing-failure-reason",
            Fault::StowStoresMismatchedStudy => "stow-stores-mismatched-study",
            Fault::ForeignInstance => "foreign-instance",
            Fault::QidoIgnoresMatching => "qido-ignores-matching",
            Fault::QidoWrongContentType => "qido-wrong-content-type",
            Fault::RenderedNotAnImage => "rendered-not-an-image",
            Fault::KosWrongTitle => "kos-wrong-title",
            Fault::NoCapabilities => "no-capabilities",
            Fault::XdsSoap11 => "xds-soap11",
            Fault::XdsWrongAction => "xds-wrong-action",
            Fault::XdsNoRelatesTo => "xds-no-relates-to",
            Fault::XdsMtomWithoutStartInfo => "xds-mtom-without-start-info",
            Fault::XdsDanglingXop => "xds-dangling-xop",
            Fault::XdsBadStatus => "xds-bad-status",
            Fault::XdsErrorWithoutContext => "xds-error-without-context",
            Fault::XdsFailureWithoutError => "xds-failure-without-error",
            Fault::XdsSuccessWithError => "xds-success-with-error",
            Fault::XdsUnknownErrorCode => "xds-unknown-error-code",
            Fault::XdsSchemaOrder => "xds-schema-order",
            Fault::XdsQueryNoHash => "xds-query-no-hash",
            Fault::XdsObjectRefAsLeaf => "xds-objectref-as-leaf",
            Fault::XdsQueryIgnoresPatient => "xds-query-ignores-patient",
            Fault::XdsQueryAcceptsMissingParam => "xds-query-accepts-missing-param",
            Fault::XdsRetrievePartialAsSuccess => "xds-retrieve-partial-as-success",
            Fault::XdsRetrieveWrongErrorCode => "xds-retrieve-wrong-error-code",
            Fault::XdsRetrieveErrorNoLocation => "xds-retrieve-error-no-location",
            Fault::XdsRetrieveWrongMime => "xds-retrieve-wrong-mime",
            Fault::XdsRetrieveCorruptDocument => "xds-retrieve-corrupt-document",
            Fault::XdsRetrieveNoMimeType => "xds-retrieve-no-mime-type",
            Fault::XdsMetadataUniqueIdNotSop => "xds-metadata-uniqueid-not-sop",
            Fault::XdsMetadataWrongSourcePatient => "xds-metadata-wrong-source-patient",
            Fault::XdsMetadataNoStudyReference => "xds-metadata-no-study-reference",
            Fault::XdsMetadataNoModality => "xds-metadata-no-modality",
            Fault::Rad69IgnoresTransferSyntax => "rad69-ignores-transfer-syntax",
            Fault::Rad69ForeignInstance => "rad69-foreign-instance",
            Fault::XdsKosReferencesMissingInstance => "xds-kos-references-missing-instance",
            Fault::StallMidResponse => "stall-mid-response",
            Fault::StallBeforeHeaders => "stall-before-headers",
            Fault::DimseFindNoFinal => "dimse-find-no-final",
            Fault::DimseFindExtraKeys => "dimse-find-extra-keys",
            Fault::DimseMoveUnknownDestinationOk => "dimse-move-unknown-destination-ok",
            Fault::DimseMoveWrongCounts => "dimse-move-wrong-counts",
            Fault::DimseStoreWrongStatus => "dimse-store-wrong-status",
            Fault::DimseEchoWrongStatus => "dimse-echo-wrong-status",
            Fault::DimseGetWrongInstance => "dimse-get-wrong-instance",
            Fault::DimseCancelIgnored => "dimse-cancel-ignored",
            Fault::DimseAcceptAnyAe => "dimse-accept-any-ae",
            Fault::DimseAcceptUnknownClass => "dimse-accept-unknown-class",
            Fault::DimseRefuseVerification => "dimse-refuse-verification",
            Fault::DimseModalitySendsOtherSeries => "dimse-modality-sends-other-series",
            Fault::DimseFindIgnoresMatching => "dimse-find-ignores-matching",
            Fault::DimseWrongRespondedTo => "dimse-wrong-responded-to",
            Fault::DimseWrongContext => "dimse-wrong-context",
            Fault::DimseStall => "dimse-stall",
            Fault::MhdSearchIgnoresStatus => "mhd-search-ignores-status",
            Fault::MhdEmptySearch404 => "mhd-empty-search-404",
            Fault::MhdSearchNotFhir => "mhd-search-not-fhir",
            Fault::MhdNoPostSearch => "mhd-no-post-search",
            Fault::MhdProvideNoLocation => "mhd-provide-no-location",
            Fault::MhdBinaryWrongType => "mhd-binary-wrong-type",
            Fault::MhdBinaryCorrupt => "mhd-binary-corrupt",
            Fault::MhdOkForUnacceptable => "mhd-ok-for-unacceptable",
            Fault::MhdKosWrongFormat => "mhd-kos-wrong-format",
            Fault::MhdNoStudyRelated => "mhd-no-study-related",
            Fault::MhdXmlOutOfOrder => "mhd-xml-out-of-order",
            Fault::MhdReplaceNotSuperseded => "mhd-replace-not-superseded",
            Fault::MadoFhirMissingInstance => "mado-fhir-missing-instance",
            Fault::MadoKosLegacy => "mado-kos-legacy",
            Fault::ReportNoImpression => "report-no-impression",
            Fault::ReportWrongAccession => "report-wrong-accession",
            Fault::ReportStatusMismatch => "report-status-mismatch",
            Fault::DuplicateInstance => "duplicate-instance",
            Fault::OtherPatientInstance => "wado-other-patient",
            Fault::MetadataOtherStudy => "metadata-other-study",
            Fault::MetadataExtraInstance => "metadata-extra-instance",
            Fault::FramesRepeatFirst => "frames-repeat-first",
            Fault::FramesOtherInstance => "frames-other-instance",
            Fault::BulkdataOtherInstance => "bulkdata-other-instance",
            Fault::RenderedWrongSize => "rendered-wrong-size",
            Fault::QidoIgnoresPath => "qido-ignores-path",
            Fault::RenderedProgressiveJpeg => "rendered-progressive-jpeg",
            Fault::RenderedIgnoresAccept => "rendered-ignores-accept",
            Fault::StowEmptyResponse => "stow-empty-response",
            Fault::StowForeignReference => "stow-foreign-reference",
            Fault::StowWrongRetrieveUrl => "stow-wrong-retrieve-url",
            Fault::XdsQueryOtherFormat => "xds-query-other-format",
            Fault::XdsLeafClassAsObjectRef => "xds-leafclass-as-objectref",
            Fault::XdsObjectRefOtherPatient => "xds-objectref-other-patient",
            Fault::XdsRetrieveOtherDocument => "xds-retrieve-other-document",
            Fault::XdsRetrieveSameSizeOtherBytes => "xds-retrieve-same-size-other-bytes",
            Fault::XdsRegistryAltersMetadata => "xds-registry-alters-metadata",
            Fault::XdsBuiltinSourceOtherStudy => "xds-builtin-source-other-study",
            Fault::XdsBuiltinConsumerOtherPatient => "xds-builtin-consumer-other-patient",
            Fault::Rad69WrongRepositoryId => "rad69-wrong-repository-id",
            Fault::MhdSearchOtherPatient => "mhd-search-other-patient",
            Fault::MhdSearchPagesRepeat => "mhd-search-pages-repeat",
            Fault::MhdListsNotSearchset => "mhd-lists-not-searchset",
            Fault::MhdPostSearch400 => "mhd-post-search-400",
            Fault::MhdAcceptsInvalidFhir => "mhd-accepts-invalid-fhir",
            Fault::MhdBuiltinSourceOtherStudy => "mhd-builtin-source-other-study",
            Fault::MhdBuiltinConsumerOtherPatient => "mhd-builtin-consumer-other-patient",
            Fault::XdsRelatesToOtherMessage => "xds-relates-to-other-message",
            Fault::PeerCloses => "peer-closes",
            Fault::QidoEndless => "qido-endless",
            Fault::QidoNoPagingWarning => "qido-no-paging-warning",
            Fault::RenderedNoGif => "rendered-no-gif",
            Fault::DimseFindWrongLevel => "dimse-find-wrong-level",
            Fault::DimseFindWrongStudy => "dimse-find-wrong-study",
            Fault::DimseWrongAffectedClass => "dimse-wrong-affected-class",
            Fault::DimseGetMislabelledInstance => "dimse-get-mislabelled-instance",
            Fault::DimseStoreWrongInstance => "dimse-store-wrong-instance",
            Fault::DimseMoveOwnOriginator => "dimse-move-own-originator",
            Fault::DimseAbortAfterFind => "dimse-abort-after-find",
            Fault::DimseGetAbortMidway => "dimse-get-abort-midway",
            Fault::XdsRetrieveAddsHomeCommunity => "xds-retrieve-adds-home-community",
            Fault::XdsGetDocumentsAsObjectRef => "xds-getdocuments-as-objectref",
            Fault::RenderedTwelveBitJpeg => "rendered-12-bit-jpeg",
            Fault::FramesCompressedByDefault => "frames-compressed-by-default",
            Fault::QidoWrongCounts => "qido-wrong-counts",
            Fault::DimseFindDuplicateMatches => "dimse-find-duplicate-matches",
            Fault::DimseFindWrongValues => "dimse-find-wrong-values",
            Fault::DimseGetCoercesAttributes => "dimse-get-coerces-attributes",
            Fault::DimseGetOtherImage => "dimse-get-other-image",
            Fault::DimseMoveUnknownDestinationC000 => "dimse-move-unknown-destination-c000",
            Fault::TlsNoClientAuth => "tls-no-client-auth",
            Fault::TlsExpiredServerCert => "tls-expired-server-cert",
            Fault::TlsNo12 => "tls-no-1-2",
            Fault::TlsNo13 => "tls-no-1-3",
            Fault::TlsBuiltinClientTrustsAny => "tls-builtin-client-trusts-any",
            Fault::AuditWrongMsgid => "audit-wrong-msgid",
            Fault::AuditNoBom => "audit-no-bom",
            Fault::AuditInvalidActionCode => "audit-invalid-action-code",
            Fault::AuditWrongActionCode => "audit-wrong-action-code",
            Fault::AuditNoSourceParticipant => "audit-no-source-participant",
            Fault::AuditUnframed => "audit-unframed",
            Fault::AuditOversized => "audit-oversized",
            Fault::AuditInvalidUtf8 => "audit-invalid-utf8",
            Fault::AuditXmlBomb => "audit-xml-bomb",
            Fault::AuditFhirUpdate => "audit-fhir-update",
            Fault::AuditFhirWrongMediaType => "audit-fhir-wrong-media-type",
            Fault::AuditFhirNotJson => "audit-fhir-not-json",
            Fault::AuditFhirOversized => "audit-fhir-oversized",
            Fault::AuditFhirNoObserver => "audit-fhir-no-observer",
            Fault::AuditFhirRecordedNotInstant => "audit-fhir-recorded-not-instant",
            Fault::ArrSyslogClosesOnFirstFrame => "arr-syslog-closes-on-first-frame",
            Fault::ArrFeed200NoLocation => "arr-feed-200-no-location",
            Fault::ArrFeed400 => "arr-feed-400",
            Fault::ArrSearchNotSearchset => "arr-search-not-searchset",
            Fault::ArrUdpDrops => "arr-udp-drops",
            Fault::ArrSearchIgnoresPatient => "arr-search-ignores-patient",
            Fault::QrBuiltinScuWrongLevel => "qr-builtin-scu-wrong-level",
            Fault::QrBuiltinScuNoUniqueKey => "qr-builtin-scu-no-unique-key",
            Fault::QrBuiltinScuGetNoRole => "qr-builtin-scu-get-no-role",
            Fault::XcaRgOmitsHome => "xca-rg-omits-home",
            Fault::XcaRgIgnoresUnknownCommunity => "xca-rg-ignores-unknown-community",
            Fault::XcaRgRetrieveOmitsHome => "xca-rg-retrieve-omits-home",
            Fault::XcaRgStoredQueryAction => "xca-rg-stored-query-action",
            Fault::XcaRgForeignHome => "xca-rg-foreign-home",
            Fault::XcaRgRetrieveOtherHome => "xca-rg-retrieve-other-home",
            Fault::XcaRgErrorLocationRegistry => "xca-rg-error-location-registry",
            Fault::MadoTwinUnlinked => "mado-twin-unlinked",
            Fault::EuapiCsNoCategoryParam => "euapi-cs-no-category-param",
            Fault::EuapiCsNoModalityParam => "euapi-cs-no-modality-param",
            Fault::MadoDocrefMasteridNotInIdentifier => "mado-docref-masterid-not-in-identifier",
            Fault::MadoDocrefNoPriorityCategory => "mado-docref-no-priority-category",
            Fault::XcwadoRigNoSeries => "xcwado-rig-no-series",
            Fault::XcaiRigRad69ResponseAction => "xcai-rig-rad69-response-action",
            Fault::XcaiRigDropsFoundOnError => "xcai-rig-drops-found-on-error",
            Fault::XcaiRigErrorLocationSource => "xcai-rig-error-location-source",
            Fault::XcaiRigOtherHome => "xcai-rig-other-home",
            Fault::XcaiRigStripsHome => "xcai-rig-strips-home",
            Fault::XcaiRigUnknownSourceSuccess => "xcai-rig-unknown-source-success",
            Fault::XcaiRigIgnoresHome => "xcai-rig-ignores-home",
            Fault::XcaiRigTranscodesUnasked => "xcai-rig-transcodes-unasked",
            Fault::DicomwebBuiltinUaBadAccept => "dicomweb-builtin-ua-bad-accept",
            Fault::DicomwebBuiltinUaBadPath => "dicomweb-builtin-ua-bad-path",
            Fault::DicomwebBuiltinUaBadKey => "dicomweb-builtin-ua-bad-key",
            Fault::DicomwebBuiltinUaStowJpeg => "dicomweb-builtin-ua-stow-jpeg",
            Fault::QrBuiltinScuNoCancel => "qr-builtin-scu-no-cancel",
            Fault::XcaIgDropsParameter => "xca-ig-drops-parameter",
            Fault::XcaIgGetdocumentsWithoutHome => "xca-ig-getdocuments-without-home",
            Fault::XcaIgDropsCommunity => "xca-ig-drops-community",
            Fault::XcaIgHidesFailure => "xca-ig-hides-failure",
            Fault::XcaIgPassesUnknownPatient => "xca-ig-passes-unknown-patient",
            Fault::XcaIgAcceptsMissingHome => "xca-ig-accepts-missing-home",
            Fault::XcaIgRetrieveWithoutHome => "xca-ig-retrieve-without-home",
            Fault::XcaIgRetrieveWrongGateway => "xca-ig-retrieve-wrong-gateway",
            Fault::XcaIgRetrieveHidesFailure => "xca-ig-retrieve-hides-failure",
            Fault::XcaIgUnavailableAsRegistryError => "xca-ig-unavailable-as-registry-error",
            Fault::XcaIgRewritesHome => "xca-ig-rewrites-home",
            Fault::XcaIgLegWithoutMessageId => "xca-ig-leg-without-message-id",
            Fault::XcaBuiltinConsumerDropsHome => "xca-builtin-consumer-drops-home",
            Fault::XcaBuiltinConsumerRetrieveNoHome => "xca-builtin-consumer-retrieve-no-home",
            Fault::XcaiIigSendsAllToOneRig => "xcai-iig-sends-all-to-one-rig",
            Fault::XcaiIigDropsTransferSyntax => "xcai-iig-drops-transfer-syntax",
            Fault::XcaiIigHidesFailure => "xcai-iig-hides-failure",
            Fault::XcaiIigUnknownCommunitySuccess => "xcai-iig-unknown-community-success",
            Fault::XcaiIigUnknownCommunityOtherCode => "xcai-iig-unknown-community-other-code",
            Fault::PerfSlowFirstByte => "perf-slow-first-byte",
        }
    }

    /// One line saying which rule the fault breaks and how.
    pub fn description(&self) -> &'static str {
        match self {
            Fault::TruncatedMultipart => {
                "WADO-RS retrieve body ends after the first part without the close delimiter"
            }
            Fault::MultipartWithoutType => {
                "WADO-RS retrieve Content-Type multipart/related lacks the type parameter"
            }
            Fault::PartContentTypeMismatch => {
                "WADO-RS parts are labelled application/octet-stream in a type=\"application/dicom\" body"
            }
            Fault::ImplicitVrParts => {
                "Implicit VR Little Endian (1.2.840.10008.1.2) is sent where Explicit VR Little Endian was expected"
            }
            Fault::IgnoreTransferSyntax => {
                "the stored transfer syntax is sent (labelled truthfully) even when another one was requested"
            }
            Fault::MissingInstance => {
                "study and series retrieval omit the last instance but answer 200"
            }
            Fault::NonDicomPart => "one part of a WADO-RS retrieve body is not a DICOM object",
            Fault::WrongStatusUnknownStudy => "an unknown study is answered with 500 instead of 404",
            Fault::OkForUnacceptable => {
                "200 with the stored data instead of 406 when the requested transfer syntax cannot be provided"
            }
            Fault::LowercaseJsonTags => "metadata and QIDO-RS JSON keys are lower-case hex",
            Fault::UnsortedJsonKeys => "metadata and QIDO-RS JSON keys are in descending order",
            Fault::BrokenBulkdataUri => "metadata BulkDataURI values point to a resource answering 404",
            Fault::QidoMissingRequired => {
                "QIDO-RS study results lack PatientBirthDate and NumberOfStudyRelatedInstances"
            }
            Fault::QidoIgnoresLimit => "QIDO-RS ignores the limit query parameter",
            Fault::QidoSilentTruncation => {
                "QIDO-RS returns at most one result without a Warning header or 413 when no limit was asked"
            }
            Fault::Stow200WithFailures => {
                "STOW-RS answers 200 even when the Failed SOP Sequence is not empty"
            }
            Fault::StowMissingFailureReason => {
                "STOW-RS Failed SOP Sequence items lack Failure Reason (0008,1197)"
            }
            Fault::ForeignInstance => {
                "study and series retrieval add an instance of another study to the body"
            }
            Fault::QidoIgnoresMatching => {
                "QIDO-RS ignores the matching keys and returns every entity of the level"
            }
            Fault::QidoWrongContentType => {
                "QIDO-RS answers with text/plain instead of application/dicom+json"
            }
            Fault::RenderedNotAnImage => {
                "a rendered resource is answered 200 image/png with a body that is not a PNG image"
            }
            Fault::NoCapabilities => "OPTIONS on the service root answers 405 instead of a WADL document",
            Fault::KosWrongTitle => {
                "KOS manifests carry document title 113000 (Of Interest) instead of 113030 (Manifest)"
            }
            Fault::StowStoresMismatchedStudy => {
                "STOW-RS stores instances whose Study Instance UID differs from the URL's and lists them as referenced"
            }
            Fault::XdsSoap11 => "XDS responses use the SOAP 1.1 envelope namespace (ITI TF-2 Appendix V requires SOAP 1.2)",
            Fault::XdsWrongAction => "XDS responses carry the request's wsa:Action instead of the response action",
            Fault::XdsNoRelatesTo => "XDS responses lack wsa:RelatesTo",
            Fault::XdsMtomWithoutStartInfo => "MTOM responses lack the start-info parameter of their Content-Type",
            Fault::XdsDanglingXop => "An xop:Include of a retrieve response names a MIME part that is not in the package",
            Fault::XdsBadStatus => "Response status is the bare word Success instead of the ebRS status URN",
            Fault::XdsErrorWithoutContext => "RegistryErrors lack codeContext",
            Fault::XdsFailureWithoutError => "A Failure response carries no RegistryError",
            Fault::XdsSuccessWithError => "A Success query response also carries an Error-severity RegistryError",
            Fault::XdsUnknownErrorCode => "Error codes are a private code instead of one of ITI TF-3 Table 4.2.4.1-2",
            Fault::XdsSchemaOrder => "Query responses write ExternalIdentifiers before Classifications (ebRIM 3.0 schema order)",
            Fault::XdsQueryNoHash => "Stored query responses omit hash, size and repositoryUniqueId",
            Fault::XdsObjectRefAsLeaf => "An ObjectRef query is answered with full objects",
            Fault::XdsQueryIgnoresPatient => "FindDocuments returns the documents of every patient",
            Fault::XdsQueryAcceptsMissingParam => "A stored query missing a required parameter is answered Success",
            Fault::XdsRetrievePartialAsSuccess => "A retrieve that returns only some documents says Success, without errors",
            Fault::XdsRetrieveWrongErrorCode => "An unknown document is reported with XDSRegistryError instead of a retrieve error code",
            Fault::XdsRetrieveErrorNoLocation => "Retrieve errors do not give the DocumentUniqueId as location",
            Fault::XdsRetrieveWrongMime => "ITI-43 returns the manifest labelled application/octet-stream",
            Fault::XdsRetrieveCorruptDocument => "ITI-43 returns the manifest with one byte changed",
            Fault::XdsRetrieveNoMimeType => "Retrieve DocumentResponses lack mimeType",
            Fault::XdsMetadataUniqueIdNotSop => "The registered manifests' uniqueId is not the KOS SOP Instance UID",
            Fault::XdsMetadataWrongSourcePatient => "The registered manifests' sourcePatientId is not the KOS Patient ID",
            Fault::XdsMetadataNoStudyReference => "The registered manifests' referenceIdList lacks the Study Instance UID",
            Fault::XdsMetadataNoModality => "The registered manifests' eventCodeList lacks the modality codes",
            Fault::Rad69IgnoresTransferSyntax => "RAD-69 returns the stored transfer syntax whatever was asked for",
            Fault::Rad69ForeignInstance => "RAD-69 returns an instance that was not asked for",
            Fault::XdsKosReferencesMissingInstance => "The registered manifests reference an instance the Imaging Document Source does not hold",
            Fault::StallMidResponse => {
                "WADO-RS retrieve sends the first part, then stalls without closing the response"
            }
            Fault::StallBeforeHeaders => {
                "WADO-RS requests wait before any response header is sent"
            }
            Fault::DimseFindNoFinal => "C-FIND sends the pending responses but no final response (PS3.4 C.4.1.3)",
            Fault::DimseFindExtraKeys => "C-FIND identifiers carry attributes that were not requested (PS3.4 C.4.1.1.3.2)",
            Fault::DimseMoveUnknownDestinationOk => "C-MOVE to an unknown destination AE answers 0000 instead of A801 (PS3.4 C.4.2.1.5)",
            Fault::DimseMoveWrongCounts => "C-MOVE responses count one completed sub-operation more than were performed (PS3.4 C.4.2.1.6-C.4.2.1.9)",
            Fault::DimseStoreWrongStatus => "C-STORE answers 0110 Processing Failure for an instance it stored (PS3.4 B.2.3)",
            Fault::DimseEchoWrongStatus => "C-ECHO answers 0110 Processing Failure instead of 0000 (PS3.7 9.1.5)",
            Fault::DimseGetWrongInstance => "C-GET sends an instance of another series in place of a matching one (PS3.4 C.4.3.3)",
            Fault::DimseCancelIgnored => "C-CANCEL is ignored: the operation completes with 0000 instead of FE00 (PS3.4 C.4.1.3, C.4.2.3)",
            Fault::DimseAcceptAnyAe => "an association to an unknown called AE title is accepted instead of rejected with reason 7 (PS3.8 9.3.4)",
            Fault::DimseAcceptUnknownClass => "Presentation contexts for SOP classes the SCP does not support are accepted (PS3.8 9.3.3.2, result 3)",
            Fault::DimseRefuseVerification => "The Verification SOP Class is not accepted: the C-ECHO context is refused (PS3.7 9.1.5; PS3.8 9.3.3.2)",
            Fault::DimseModalitySendsOtherSeries => "The built-in modality that plays a Storage SCU SUT sends another series than the one it was asked to (PS3.4 B.2.2)",
            Fault::DimseFindIgnoresMatching => "C-FIND ignores the matching keys and returns every entity of the level (PS3.4 C.2.2.2)",
            Fault::DimseWrongRespondedTo => "Responses carry a Message ID Being Responded To one higher than the request's Message ID (PS3.7 9.3)",
            Fault::DimseWrongContext => "Responses are sent on a presentation context other than the request's (PS3.7 6.3.1; PS3.8 9.3.5)",
            Fault::DimseStall => "after the first request of an association the DIMSE SCP stops answering",
            Fault::MhdSearchIgnoresStatus => "ITI-67 ignores the status parameter: superseded DocumentReferences are returned for status=current (ITI TF-2 3.67.4.1.2.1)",
            Fault::MhdEmptySearch404 => "a search without matches answers 404 instead of 200 with an empty searchset Bundle (ITI TF-2 3.67.4.2.2)",
            Fault::MhdSearchNotFhir => "ITI-66/67 searches answer 200 with an HTML page instead of a FHIR Bundle (FHIR R4 3.1.0.1.2)",
            Fault::MhdNoPostSearch => "POST [type]/_search is refused with 405 (ITI TF-2 3.67.4.1.2: the Responder shall support GET and POST)",
            Fault::MhdProvideNoLocation => "the ITI-65 transaction-response entries carry no location (ITI TF-2 3.65.4.2.2)",
            Fault::MhdBinaryWrongType => "ITI-68 answers with Content-Type application/octet-stream instead of the document's contentType (ITI TF-2 3.68.4.2.2)",
            Fault::MhdBinaryCorrupt => "ITI-68 returns the document with its last byte changed, so size/hash no longer agree (ITI TF-2 3.65.4.1.2.1, 3.68.4.2.2)",
            Fault::MhdOkForUnacceptable => "ITI-68 answers 200 with the stored document when the Accept header excludes its media type, instead of 406 (ITI TF-2 3.68.4.2.2)",
            Fault::MhdKosWrongFormat => "KOS DocumentReferences in search results carry the FHIR manifest format code instead of the KOS SOP Class (MADO MadoDicomKosDocumentReference)",
            Fault::MhdNoStudyRelated => "DocumentReferences in search results lack context.related (the Study Instance UID; MADO MadoDicomKosDocumentReference)",
            Fault::MhdReplaceNotSuperseded => "an ITI-65 replacement is accepted but the PATCH of the replaced DocumentReference is ignored, so it stays current (ITI TF-2 3.65.4.1.2.3)",
            Fault::MhdXmlOutOfOrder => "FHIR XML search results have the Bundle's type after its entries (FHIR R4 §2.6.2: elements in the order of the definition)",
            Fault::MadoFhirMissingInstance => "the FHIR manifest leaves out the last instance of the first series, so it no longer agrees with the KOS twin and the image source (MADO mapping)",
            Fault::MadoKosLegacy => "the KOS manifests published over MHD are XDS-I.b manifests (title 113030, no Image Library), not MADO manifests (MADO 6.X.2.9)",
            Fault::ReportNoImpression => "the imaging report has no impression/conclusion (Xt-EHR examinationReport.conclusion.impression 1..1)",
            Fault::ReportWrongAccession => "the imaging report's order carries another accession number than the study's (eHN A.1.8.11)",
            Fault::ReportStatusMismatch => "the report's Composition is final while its DiagnosticReport is preliminary (HL7 EU imaging report: statuses aligned)",
            Fault::DuplicateInstance => "study and series retrieval send the first instance of the target twice",
            Fault::OtherPatientInstance => "WADO-RS retrieved instances carry another Patient ID than the instance stored",
            Fault::MetadataOtherStudy => "metadata data sets name another Study Instance UID than the target's",
            Fault::MetadataExtraInstance => "study and series metadata add the data set of an instance of another study",
            Fault::FramesRepeatFirst => "Retrieve Frames answers the first frame for every frame asked",
            Fault::FramesOtherInstance => "Retrieve Frames answers the frames of another instance of the series",
            Fault::BulkdataOtherInstance => "the Pixel Data BulkDataURI answers the pixel data of another instance of the series",
            Fault::RenderedWrongSize => "rendered images are scaled to half the source's rows and columns though no viewport was asked",
            Fault::QidoIgnoresPath => "QIDO-RS searches below a study or series ignore the study and series of the resource path",
            Fault::RenderedProgressiveJpeg => "rendered image/jpeg answers are progressive JPEG (SOF2) instead of baseline",
            Fault::RenderedIgnoresAccept => "a rendered request accepting only types the server does not render is answered 200 image/jpeg instead of 406",
            Fault::StowEmptyResponse => "STOW-RS answers 200 with an empty response body {}, referencing no instance",
            Fault::StowForeignReference => "STOW-RS responses list an instance that was not sent in the Referenced SOP Sequence",
            Fault::StowWrongRetrieveUrl => "the STOW-RS response's Retrieve URL (0008,1190) names another study than the one stored",
            Fault::XdsQueryOtherFormat => "FindDocuments filtered by formatCode returns one entry with another formatCode (ITI TF-2 3.18.4.1.2.3.7.1)",
            Fault::XdsLeafClassAsObjectRef => "a LeafClass FindDocuments is answered with ObjectRefs instead of the entries (ITI TF-2 3.18.4.1.2.1)",
            Fault::XdsObjectRefOtherPatient => "an ObjectRef FindDocuments answer swaps one reference for an entry of another patient, keeping the count (ITI TF-2 3.18.4.1.2.3.7.1)",
            Fault::XdsRetrieveOtherDocument => "ITI-43 returns another document of the repository in place of the one asked, status Success (ITI TF-2 3.43.4.2.2)",
            Fault::XdsRetrieveSameSizeOtherBytes => "ITI-43 returns the document's bytes reversed: same size, another SHA-1 (ITI TF-3 4.2.3.2 hash, size)",
            Fault::XdsRegistryAltersMetadata => "the registry stores RAD-68 submissions with another creationTime than submitted (ITI TF-2 3.42.4.1.3)",
            Fault::XdsBuiltinSourceOtherStudy => "the built-in Imaging Document Source that plays a SUT publishes another study's manifest than the one asked (RAD TF-2 4.68.4.1.2)",
            Fault::XdsBuiltinConsumerOtherPatient => "the built-in Document Consumer that plays a SUT queries for another patient than the one asked (ITI TF-2 3.18.4.1.2.3.7.1)",
            Fault::Rad69WrongRepositoryId => "RAD-69 DocumentResponses carry another RepositoryUniqueId than the one asked (RAD TF-2 4.69.4.2.3)",
            Fault::MhdSearchOtherPatient => "ITI-67 answers add a DocumentReference whose subject is another Patient (ITI TF-2 3.67.4.1.3)",
            Fault::MhdSearchPagesRepeat => "ITI-67 answers hold the first match and a next link whose page repeats it, so the other matches never come (FHIR R4 3.1.1.6)",
            Fault::MhdListsNotSearchset => "ITI-66 answers a Bundle of type collection instead of searchset (ITI TF-2 3.66.4.2.2)",
            Fault::MhdPostSearch400 => "POST [type]/_search is refused with 400 and an OperationOutcome (ITI TF-2 3.67.4.1.2)",
            Fault::MhdAcceptsInvalidFhir => "the Recipient stores an ITI-65 bundle whose DocumentReference lacks status, 1..1 in FHIR R4 (FHIR R4 http.html transaction; ITI TF-2 3.65.4.1.3)",
            Fault::MhdBuiltinSourceOtherStudy => "the built-in Document Source that plays a SUT publishes another study's manifest than the one asked (ITI TF-2 3.65.4.1.2)",
            Fault::MhdBuiltinConsumerOtherPatient => "the built-in Document Consumer that plays a SUT searches for another patient than the one asked (ITI TF-2 3.66/3.67.4.1.2.1)",
            Fault::XdsRelatesToOtherMessage => "XDS responses carry a wsa:RelatesTo naming another message than the request they answer (WS-Addressing 1.0 Core 3.4)",
            Fault::PeerCloses => "QIDO-RS searches are read whole, then the connection is closed without a response (RFC 9112 §9.6: a request with Connection: close is answered before the server closes)",
            Fault::QidoEndless => "QIDO-RS searches are answered 200 with a JSON array that never ends",
            Fault::QidoNoPagingWarning => "a QIDO-RS page cut by limit says nothing of the matches that remain: no Warning: 299 header field",
            Fault::RenderedNoGif => "single-frame images are not rendered as image/gif, which Table 8.7.4-1 requires of a RESTful origin server: 406",
            Fault::DimseFindWrongLevel => "C-FIND response identifiers name another Query/Retrieve Level than the request's (PS3.4 C.4.1.1.3.2)",
            Fault::DimseFindWrongStudy => "series- and image-level C-FIND identifiers carry another study's Study Instance UID than the one asked (PS3.4 C.2.2.2)",
            Fault::DimseWrongAffectedClass => "responses name another Affected SOP Class UID than their request's (PS3.7 9.1)",
            Fault::DimseGetMislabelledInstance => "C-GET sends the data set of an instance of another study under the UID of a matching one (PS3.4 C.4.3.3)",
            Fault::DimseStoreWrongInstance => "C-STORE responses name another Affected SOP Instance UID than their request's (PS3.7 9.1.1)",
            Fault::DimseMoveOwnOriginator => "C-MOVE sub-operations name the SCP itself as Move Originator and carry no Move Originator Message ID (PS3.7 9.1.1.1)",
            Fault::DimseAbortAfterFind => "the DIMSE SCP aborts the association after a complete C-FIND-RQ instead of answering it (PS3.7 9.3)",
            Fault::DimseGetAbortMidway => "C-GET aborts the association after its first sub-operation, without a final response (PS3.7 9.3)",
            Fault::XdsRetrieveAddsHomeCommunity => "ITI-43 DocumentResponses carry a HomeCommunityId the request did not name (ITI TF-2 3.43.4.2.2)",
            Fault::XdsGetDocumentsAsObjectRef => "a LeafClass GetDocuments by entryUUID is answered with ObjectRefs (ITI TF-2 3.18.4.1.2.1)",
            Fault::RenderedTwelveBitJpeg => "rendered image/jpeg answers have a 12-bit extended sequential frame header (SOF1), not the lossy 8-bit Huffman process of PS3.18 §8.7.4",
            Fault::FramesCompressedByDefault => "a frame of a single-frame instance stored in a lossless compressed transfer syntax is answered compressed, as stored, when no transfer syntax was asked (PS3.18 §8.7.3.3: uncompressed by default)",
            Fault::QidoWrongCounts => "QIDO-RS study results count one instance fewer than the study holds in Number of Study Related Instances (PS3.4 §C.3.4)",
            Fault::DimseFindDuplicateMatches => "C-FIND answers each match with two pending responses, the same entity twice (PS3.4 C.4.1.3.1)",
            Fault::DimseFindWrongValues => "C-FIND identifiers name the right entities with other values (Study Date, Series Number, Instance Number) than theirs (PS3.4 C.4.1.3.1)",
            Fault::DimseGetCoercesAttributes => "C-GET sends each instance with an added Institution Name, its image unchanged: not byte for byte the data set stored (PS3.4 B.4.1.3, B.4.1.4)",
            Fault::DimseGetOtherImage => "C-GET sends each instance with one byte of its Pixel Data changed: another image under the same SOP Instance UID (PS3.4 C.4.3.3)",
            Fault::DimseMoveUnknownDestinationC000 => "C-MOVE to an unknown destination answers C000 (Unable to process) instead of A801 Move Destination unknown (PS3.4 C.4.2.1.5)",
            Fault::TlsNoClientAuth => "the TLS reference of the ATNA scenarios asks for no client certificate and serves anyone (IHE ITI TF-2 §3.19: mutual authentication)",
            Fault::TlsExpiredServerCert => "the TLS reference of the ATNA scenarios presents an expired server certificate (RFC 5280 §6.1.3)",
            Fault::TlsNo12 => "the TLS reference of the ATNA scenarios speaks TLS 1.3 only (RFC 9325 §3.1.1: MUST support TLS 1.2)",
            Fault::TlsNo13 => "the TLS reference of the ATNA scenarios speaks TLS 1.2 only (RFC 9325 §3.1.1: SHOULD support TLS 1.3)",
            Fault::TlsBuiltinClientTrustsAny => "the built-in TLS client that plays a SUT client in the ATNA scenarios takes any server certificate (IHE ITI TF-2 §3.19)",
            Fault::AuditWrongMsgid => "the built-in audit source of the ITI-20 scenarios sends its audit with the syslog MSGID AUDIT instead of IHE+RFC-3881 (ITI TF-2 §3.20.4.1.2)",
            Fault::AuditNoBom => "the built-in audit source of the ITI-20 scenarios sends its UTF-8 MSG without the byte order mark (RFC 5424 §6.4)",
            Fault::AuditInvalidActionCode => "the built-in audit source of the ITI-20 scenarios sends EventActionCode X, which the DICOM audit schema does not define (PS3.15 §A.5.1)",
            Fault::AuditWrongActionCode => "the built-in audit source of the ITI-20 scenarios audits its ITI-18 query with EventActionCode R instead of E (ITI TF-2 §3.18.5.1)",
            Fault::AuditNoSourceParticipant => "the built-in audit source of the ITI-20 scenarios leaves out the Source active participant (ITI TF-2 §3.18.5.1)",
            Fault::AuditUnframed => "the built-in audit source of the ITI-20 scenarios writes its message on the TLS stream without the octet count (RFC 5425 §4.3)",
            Fault::AuditOversized => "the built-in audit source of the ITI-20 scenarios announces a frame of 100 MB (RFC 5425 §4.3: within the receiver's limit)",
            Fault::AuditInvalidUtf8 => "the built-in audit source of the ITI-20 scenarios sends a MSG that starts with the BOM but is not UTF-8 (RFC 5424 §6.4)",
            Fault::AuditXmlBomb => "the built-in audit source of the ITI-20 scenarios sends an XML entity bomb as its MSG (DICOM PS3.15 §A.6: an XML audit message; no DTD)",
            Fault::AuditFhirUpdate => "the built-in audit source of the ITI-20 FHIR Feed scenario sends its AuditEvent as an update, PUT [base]/AuditEvent/{id}, instead of the create POST [base]/AuditEvent (ITI TF-2 §3.20.4.2)",
            Fault::AuditFhirWrongMediaType => "the built-in audit source of the ITI-20 FHIR Feed scenario labels its AuditEvent text/plain instead of application/fhir+json (FHIR R4 http §3.1.0.1.10)",
            Fault::AuditFhirNotJson => "the built-in audit source of the ITI-20 FHIR Feed scenario posts the DICOM audit message XML under the FHIR JSON media type (ITI TF-2 §3.20.4.2: an AuditEvent resource)",
            Fault::AuditFhirOversized => "the built-in audit source of the ITI-20 FHIR Feed scenario posts an AuditEvent of more than 64 KiB, past the repository's limit",
            Fault::AuditFhirNoObserver => "the built-in audit source of the ITI-20 FHIR Feed scenario sends an AuditEvent whose source has no observer (FHIR R4 AuditEvent.source.observer 1..1)",
            Fault::AuditFhirRecordedNotInstant => "the built-in audit source of the ITI-20 FHIR Feed scenario sends AuditEvent.recorded without its time zone, not a FHIR instant (FHIR R4 §2.24.0.1)",
            Fault::ArrSyslogClosesOnFirstFrame => "the Audit Record Repository of the ARR scenarios drops each syslog/TLS session after its first frame, without close_notify (RFC 5425 §4.4, RFC 8446 §6.1)",
            Fault::ArrFeed200NoLocation => "the Audit Record Repository of the ARR scenarios answers the AuditEvent create with 200 and no Location (FHIR R4 http.html#create: 201 and a Location)",
            Fault::ArrFeed400 => "the Audit Record Repository of the ARR scenarios refuses a valid AuditEvent with 400 (RESTful ATNA §3.20.4.2)",
            Fault::ArrSearchNotSearchset => "the Audit Record Repository of the ARR scenarios answers ITI-81 with a Bundle of type collection (RESTful ATNA §3.81.4.2: searchset)",
            Fault::ArrUdpDrops => "the Audit Record Repository of the ARR scenarios takes syslog/UDP datagrams and records none, so ITI-81 never finds them (RESTful ATNA §3.81.1)",
            Fault::ArrSearchIgnoresPatient => "the Audit Record Repository of the ARR scenarios ignores the patient parameter of ITI-81 and answers with the audits of every patient (RESTful ATNA §3.81.4.1.2)",
            Fault::QrBuiltinScuWrongLevel => "the built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios sends its requests one Query/Retrieve Level below the one it was asked for (PS3.4 §C.4.1.2.1)",
            Fault::QrBuiltinScuNoUniqueKey => "the built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios leaves the Study Instance UID out of its series-level C-MOVE and C-GET (PS3.4 §C.4.2.2.1, §C.4.3.2.1)",
            Fault::QrBuiltinScuGetNoRole => "the built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios proposes no Storage SOP Class with the SCP role on its C-GET association (PS3.4 §C.4.3; PS3.7 §D.3.3.4)",
            Fault::XcaRgOmitsHome => {
                "the Responding Gateway leaves `home` off the second object of each ITI-38 answer (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaRgIgnoresUnknownCommunity => {
                "the Responding Gateway answers ITI-38 and ITI-39 requests naming a homeCommunityId it does not represent from its own community instead of with XDSUnknownCommunity (ITI TF-2 3.38.4.1.3; ITI TF-3 Table 4.2.4.1-2)"
            }
            Fault::XcaRgRetrieveOmitsHome => {
                "the Responding Gateway's ITI-39 DocumentResponses carry no HomeCommunityId (ITI TF-2 3.39.5, 3.43.4.2.2)"
            }
            Fault::XcaRgStoredQueryAction => {
                "the Responding Gateway answers ITI-38 with the ITI-18 response action RegistryStoredQueryResponse (ITI TF-2 Table 3.38.5-2)"
            }
            Fault::XcaRgForeignHome => {
                "the Responding Gateway's ITI-38 answers name a community it does not represent in `home` (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaRgRetrieveOtherHome => {
                "the Responding Gateway's ITI-39 DocumentResponses carry a HomeCommunityId other than the one asked (ITI TF-2 3.43.4.2.2)"
            }
            Fault::XcaRgErrorLocationRegistry => {
                "the Responding Gateway's RegistryErrors name its registry (ITI-38) or only the DocumentUniqueId (ITI-39) in location, not its homeCommunityId (ITI TF-2 3.38.4.1.3, 3.39.4.1.3)"
            }
            Fault::MadoTwinUnlinked => {
                "the KOS manifest's DocumentReference does not point to its FHIR twin with relatesTo transforms (MADO IG manifest envelope)"
            }
            Fault::EuapiCsNoCategoryParam => {
                "the MHD responder's CapabilityStatement leaves the DocumentReference category search parameter out (HL7 Europe imaging API, SHALL)"
            }
            Fault::EuapiCsNoModalityParam => {
                "the MHD responder's CapabilityStatement leaves the DocumentReference modality search parameter out (HL7 Europe imaging API, SHOULD)"
            }
            Fault::MadoDocrefMasteridNotInIdentifier => {
                "the manifest DocumentReferences' masterIdentifier is not among their identifiers (MADO IG invariant mado-docref-1)"
            }
            Fault::MadoDocrefNoPriorityCategory => {
                "the manifest DocumentReferences carry no Medical-Imaging priority category (HL7 Europe Health Data API; MADO IG examples)"
            }
            Fault::XcwadoRigNoSeries => {
                "the XC-WADO Responding Imaging Gateway answers 404 to a series-level Get Instances (IHE RAD MADO Rev 1.1 4.107.4.0.5)"
            }
            Fault::XcaiRigRad69ResponseAction => {
                "the Responding Imaging Gateway answers RAD-75 with the RAD-69 (ITI-43) response action, not CrossGatewayRetrieveImagingDocumentSetResponse (RAD-75, IPF WSDL)"
            }
            Fault::XcaiRigDropsFoundOnError => {
                "the Responding Imaging Gateway answers Failure without the images its source returned when any other document fails (Gazelle RAD75-003)"
            }
            Fault::XcaiRigErrorLocationSource => {
                "the Responding Imaging Gateway passes its source's RegistryError location (the DocumentUniqueId) through instead of its homeCommunityId (Gazelle RAD75-004)"
            }
            Fault::XcaiRigOtherHome => {
                "the Responding Imaging Gateway's DocumentResponses carry a HomeCommunityId other than the one asked (Gazelle RAD75-005, ITI TF-2 3.43.4.2.2)"
            }
            Fault::XcaiRigStripsHome => {
                "the Responding Imaging Gateway's DocumentResponses carry no HomeCommunityId (ITI TF-2 3.39.5, RAD75-005)"
            }
            Fault::XcaiRigUnknownSourceSuccess => {
                "the Responding Imaging Gateway answers Success with no error for documents of a repository it does not know (ITI TF-3 Table 4.2.4.1-2, ITI TF-2 3.43.4.2.2)"
            }
            Fault::XcaiRigIgnoresHome => {
                "the Responding Imaging Gateway serves DocumentRequests with a missing or unknown HomeCommunityId as if they named its community (ITI TF-3 Table 4.2.4.1-2)"
            }
            Fault::XcaiRigTranscodesUnasked => {
                "the Responding Imaging Gateway returns images in a transfer syntax not asked for when none asked can be produced (RAD TF-2 4.69.4.2.3 via RAD75-005)"
            }
            Fault::DicomwebBuiltinUaBadAccept => "the built-in DICOMweb user agent that plays the SUT of the user_agent scenarios asks for every resource with Accept: application/xml, which no DICOMweb resource can be (PS3.18 §8.7)",
            Fault::DicomwebBuiltinUaBadPath => "the built-in DICOMweb user agent that plays the SUT of the user_agent scenarios addresses a study as study/{uid} instead of studies/{uid} (PS3.18 §10.4.1)",
            Fault::DicomwebBuiltinUaBadKey => "the built-in DICOMweb user agent that plays the SUT of the user_agent scenarios writes its search keys and includefield values in lower case, which no attribute keyword is (PS3.18 §8.3.4)",
            Fault::DicomwebBuiltinUaStowJpeg => "the built-in DICOMweb user agent that plays the SUT of the user_agent scenarios stores a JPEG image as the part of its STOW-RS request instead of the DICOM object (PS3.18 §10.5.1.2)",
            Fault::QrBuiltinScuNoCancel => "the built-in Query/Retrieve SCU that plays the SUT of the qr_scu scenarios, asked to cancel its C-FIND after the first match, sends no C-CANCEL (PS3.7 §9.3.2.3)",
            Fault::XcaIgDropsParameter => {
                "the Initiating Gateway leaves the consumer's $XDSDocumentEntryFormatCode out of the ITI-38 it sends (ITI TF-2 3.38.4.1.1)"
            }
            Fault::XcaIgGetdocumentsWithoutHome => {
                "the Initiating Gateway's ITI-38 without a patient id carries no home (ITI TF-2 3.38.4.1.2.1)"
            }
            Fault::XcaIgDropsCommunity => {
                "the Initiating Gateway passes on only the first community's entries (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaIgHidesFailure => {
                "the Initiating Gateway answers Success and drops the errors of a failing community (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaIgPassesUnknownPatient => {
                "the Initiating Gateway passes a community's XDSUnknownPatientId on to the consumer (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaIgAcceptsMissingHome => {
                "the Initiating Gateway passes on objects without home and reports no XDSMissingHomeCommunityId (ITI TF-2 3.38.4.1.3)"
            }
            Fault::XcaIgRetrieveWithoutHome => {
                "the Initiating Gateway's ITI-39 DocumentRequests carry no HomeCommunityId (ITI TF-2 3.39.4.1.2)"
            }
            Fault::XcaIgRetrieveWrongGateway => {
                "the Initiating Gateway sends every DocumentRequest to community A's gateway, whatever its HomeCommunityId (ITI TF-2 3.43.4.1.3)"
            }
            Fault::XcaIgRetrieveHidesFailure => {
                "the Initiating Gateway's consolidated ITI-43 answer is Success and drops the errors of a failing community (ITI TF-2 3.39.4.1.3)"
            }
            Fault::XcaIgUnavailableAsRegistryError => {
                "the Initiating Gateway reports a community it cannot reach as XDSRegistryError, not XDSUnavailableCommunity (ITI TF-3 Table 4.2.4.1-2)"
            }
            Fault::XcaIgRewritesHome => {
                "the Initiating Gateway's consolidated ITI-43 answer names community A's homeCommunityId on every document (ITI TF-2 3.43.4.2.2)"
            }
            Fault::XcaIgLegWithoutMessageId => {
                "the Initiating Gateway's ITI-38 and ITI-39 requests carry no wsa:MessageID (ITI TF-2 Appendix V)"
            }
            Fault::XcaBuiltinConsumerDropsHome => {
                "the built-in Document Consumer that plays the SUT across communities leaves home off its id-based stored query (ITI TF-2 3.18.4.1.2.3.8)"
            }
            Fault::XcaBuiltinConsumerRetrieveNoHome => {
                "the built-in Document Consumer that plays the SUT across communities leaves HomeCommunityId out of its ITI-43 (ITI TF-2 3.43.4.1.2)"
            }
            Fault::XcaiIigSendsAllToOneRig => {
                "the Initiating Imaging Gateway sends every community's DocumentRequests to community A's Responding Imaging Gateway (RAD-75)"
            }
            Fault::XcaiIigDropsTransferSyntax => {
                "the Initiating Imaging Gateway's RAD-75 requests leave out the TransferSyntaxUIDList of the RAD-69 (Gazelle RAD75-001)"
            }
            Fault::XcaiIigHidesFailure => {
                "the Initiating Imaging Gateway answers Success without a failing community's errors when another returned images"
            }
            Fault::XcaiIigUnknownCommunitySuccess => {
                "the Initiating Imaging Gateway drops the DocumentRequests of an unknown community silently and answers Success (ITI TF-3 Table 4.2.4.1-2)"
            }
            Fault::XcaiIigUnknownCommunityOtherCode => {
                "the Initiating Imaging Gateway refuses a DocumentRequest of an unknown community with XDSRepositoryError, not XDSUnknownCommunity"
            }
            Fault::PerfSlowFirstByte => {
                "a study retrieve (WADO-RS, C-GET, C-MOVE, RAD-69) is answered, or its first sub-operation sent, only after 6 s, past the reference's performance thresholds"
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFault {
                name: wanted.to_string(),
                known: Fault::ALL
                    .iter()
                    .map(Fault::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_kebab_case() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(*f));
            assert!(f
                .name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert!(!f.description().is_empty());
        }
        let mut names: Vec<_> = Fault::ALL.iter().map(Fault::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
    }

    #[test]
    fn unknown_name_lists_known_ones() {
        let err = "no-such-fault".parse::<Fault>().unwrap_err();
        assert!(err.to_string().contains("truncated-multipart"));
    }
}
