//! The in-memory XDS.b Document Registry of the embedded reference server: it registers
//! submissions (ITI-42, as the co-located Repository forwards them after ITI-41 / RAD-68) and
//! answers Registry Stored Queries (ITI-18) over what it holds.
//!
//! Pinned editions: IHE ITI TF-2 Rev. 20.0 (3.18 Registry Stored Query, 3.42 Register Document
//! Set-b), ITI TF-3 Rev. 20.0 (4.2 metadata, Table 4.2.4.1-2 error codes), OASIS ebRIM/ebRS 3.0.
//! The registry is the harness's default system under test, so it is strict: metadata that
//! [`xds_rules::validate_submission`] finds in error is refused with `XDSRegistryMetadataError`, query
//! parameters that [`xds_rules::validate_query_request`] finds in error are refused, and a value that
//! does not parse is never read leniently. Pure logic: no I/O, no clock other than the Folder
//! `lastUpdateTime` it must stamp.
//!
//! Choices where the standard leaves room (standards reference §3.6, §13):
//! - FindDocuments (and FindSubmissionSets, FindFolders, GetAll) for a patient the affinity domain
//!   does not know answers Success with an empty list, not `XDSUnknownPatientId`: both are seen in
//!   the field, and the empty answer leaks nothing about which patients exist.
//! - Fresh entryUUIDs are deterministic (a counter mixed through SplitMix64, shaped as a version-4
//!   UUID) so that tests and recorded exchanges are reproducible; the crate has no `uuid`
//!   dependency.
//! - Time parameters compare DTM values on their common prefix (ITI TF-2 3.18.4.1.2.3.7.1):
//!   `…From` is inclusive, `…To` exclusive, and an entry without the attribute never matches a
//!   bound.
//! - Code parameters are `code^^^scheme` (ITI TF-2 3.18.4.1.2.3.6); `code^^scheme`, which IPF and
//!   the NIST toolkit send, is accepted too.
//! - Stored queries outside ITI-18 proper (FindDocumentsForMultiplePatients and
//!   FindFoldersForMultiplePatients of ITI-51, FindDocumentsByTitle, FindDocumentsExclude, Fetch
//!   of ITI-63) are answered with `XDSUnknownStoredQuery`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::checks::xds::rules as xds_rules;
use crate::checks::Level;
use crate::model::ebrim::{
    self, AdhocQueryRequest, AdhocQueryResponse, Association, Classification, ExternalIdentifier,
    ObjectKind, ObjectRef, QueryParam, RegistryError, RegistryObject, RegistryObjectList,
    RegistryResponse, Slot, SubmitObjectsRequest, ASSOC_APND, ASSOC_HAS_MEMBER,
    ASSOC_IS_SNAPSHOT_OF, ASSOC_RPLC, ASSOC_SIGNS, ASSOC_XFRM, ASSOC_XFRM_RPLC, DE_CLASS_CODE,
    DE_CONFIDENTIALITY_CODE, DE_EVENT_CODE, DE_FORMAT_CODE, DE_HEALTHCARE_FACILITY_TYPE_CODE,
    DE_PATIENT_ID, DE_PRACTICE_SETTING_CODE, DE_TYPE_CODE, DE_UNIQUE_ID, FOLDER_CODE_LIST,
    FOLDER_NODE, FOLDER_PATIENT_ID, FOLDER_UNIQUE_ID, RESPONSE_FAILURE, RESPONSE_SUCCESS,
    SEVERITY_ERROR, SLOT_REFERENCE_ID_LIST, SQ_FIND_DOCUMENTS, SQ_FIND_DOCUMENTS_BY_REFERENCE_ID,
    SQ_FIND_FOLDERS, SQ_FIND_SUBMISSION_SETS, SQ_GET_ALL, SQ_GET_ASSOCIATIONS, SQ_GET_DOCUMENTS,
    SQ_GET_DOCUMENTS_AND_ASSOCIATIONS, SQ_GET_FOLDERS, SQ_GET_FOLDERS_FOR_DOCUMENT,
    SQ_GET_FOLDER_AND_CONTENTS, SQ_GET_RELATED_DOCUMENTS, SQ_GET_SUBMISSION_SETS,
    SQ_GET_SUBMISSION_SET_AND_CONTENTS, SS_AUTHOR, SS_CONTENT_TYPE_CODE, SS_PATIENT_ID,
    SS_SOURCE_ID, SS_UNIQUE_ID, STATUS_APPROVED, STATUS_DEPRECATED, STORED_QUERIES,
    SUBMISSION_SET_NODE,
};

// Error codes of ITI TF-3 Table 4.2.4.1-2 this registry answers with (all in `ebrim::ERROR_CODES`).
const XDS_MISSING_DOCUMENT: &str = "XDSMissingDocument";
const XDS_MISSING_DOCUMENT_METADATA: &str = "XDSMissingDocumentMetadata";
const XDS_REGISTRY_ERROR: &str = "XDSRegistryError";
const XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE: &str = "XDSRegistryDuplicateUniqueIdInMessage";
const XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY: &str = "XDSDuplicateUniqueIdInRegistry";
const XDS_NON_IDENTICAL_HASH: &str = "XDSNonIdenticalHash";
const XDS_NON_IDENTICAL_SIZE: &str = "XDSNonIdenticalSize";
const XDS_REGISTRY_METADATA_ERROR: &str = "XDSRegistryMetadataError";
const XDS_REPOSITORY_METADATA_ERROR: &str = "XDSRepositoryMetadataError";
const XDS_UNKNOWN_PATIENT_ID: &str = "XDSUnknownPatientId";
const XDS_PATIENT_ID_DOES_NOT_MATCH: &str = "XDSPatientIdDoesNotMatch";
const XDS_UNKNOWN_STORED_QUERY: &str = "XDSUnknownStoredQuery";
const XDS_STORED_QUERY_MISSING_PARAM: &str = "XDSStoredQueryMissingParam";
const XDS_STORED_QUERY_PARAM_NUMBER: &str = "XDSStoredQueryParamNumber";
const XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR: &str = "XDSRegistryDeprecatedDocumentError";
const XDS_RESULT_NOT_SINGLE_PATIENT: &str = "XDSResultNotSinglePatient";
const UNRESOLVED_REFERENCE_EXCEPTION: &str = "UnresolvedReferenceException";

/// Association types an ITI-42 submission may carry (ITI TF-3 4.2.2). The ITI-57 types
/// (UpdateAvailabilityStatus, SubmitAssociation) are not accepted here.
const SUBMITTABLE_ASSOCIATIONS: &[&str] = &[
    ASSOC_HAS_MEMBER,
    ASSOC_RPLC,
    ASSOC_APND,
    ASSOC_XFRM,
    ASSOC_XFRM_RPLC,
    ASSOC_SIGNS,
    ASSOC_IS_SNAPSHOT_OF,
];

/// Document relationships whose target must be an Approved DocumentEntry (ITI TF-3 4.2.2.2).
const RELATIONSHIPS: &[&str] = &[ASSOC_RPLC, ASSOC_APND, ASSOC_XFRM, ASSOC_XFRM_RPLC];

/// Relationships that deprecate their target (ITI TF-3 4.2.2.2.1, 4.2.2.2.4).
const REPLACEMENTS: &[&str] = &[ASSOC_RPLC, ASSOC_XFRM_RPLC];

/// One `rs:RegistryError` of severity Error.
fn registry_error(code: &str, context: impl Into<String>, location: &str) -> RegistryError {
    RegistryError {
        error_code: Some(code.to_owned()),
        code_context: Some(context.into()),
        location: Some(location.to_owned()),
        severity: Some(SEVERITY_ERROR.to_owned()),
    }
}

fn is_uuid_urn(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = u.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn same_id(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

fn scheme_is(s: Option<&str>, scheme: &str) -> bool {
    s.is_some_and(|s| ebrim::same_uri(s, scheme))
}

fn has_node(p: &RegistryObject, node: &str) -> bool {
    p.classifications
        .iter()
        .any(|c| scheme_is(c.node.as_deref(), node))
}

fn is_submission_set(p: &RegistryObject) -> bool {
    has_node(p, SUBMISSION_SET_NODE)
}

fn is_folder(p: &RegistryObject) -> bool {
    has_node(p, FOLDER_NODE)
}

/// True when a submitted RegistryPackage is a Folder (nested or top-level classification).
fn submitted_is_folder(list: &RegistryObjectList, p: &RegistryObject) -> bool {
    list.folder_packages()
        .iter()
        .any(|f| std::ptr::eq(*f, p) || (f.id.is_some() && f.id == p.id))
}

/// Patient id of a DocumentEntry, SubmissionSet or Folder.
fn patient_of(o: &RegistryObject) -> Option<String> {
    match o.kind {
        ObjectKind::ExtrinsicObject => o.identifier(DE_PATIENT_ID),
        ObjectKind::RegistryPackage if is_folder(o) => o.identifier(FOLDER_PATIENT_ID),
        ObjectKind::RegistryPackage => o.identifier(SS_PATIENT_ID),
    }
}

/// uniqueId of a DocumentEntry, SubmissionSet or Folder.
fn unique_id_of(o: &RegistryObject) -> Option<String> {
    match o.kind {
        ObjectKind::ExtrinsicObject => o.identifier(DE_UNIQUE_ID),
        ObjectKind::RegistryPackage if is_folder(o) => o.identifier(FOLDER_UNIQUE_ID),
        ObjectKind::RegistryPackage => o.identifier(SS_UNIQUE_ID),
    }
}

fn set_slot(slots: &mut Vec<Slot>, name: &str, value: String) {
    match slots.iter_mut().find(|s| s.name == name) {
        Some(s) => s.values = vec![value],
        None => slots.push(Slot {
            name: name.to_owned(),
            values: vec![value],
        }),
    }
}

/// SplitMix64 finaliser: a bijection on `u64`, so distinct counters give distinct outputs.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `n`th generated id: a `urn:uuid:` with the version-4 and RFC 4122 variant bits set.
fn uuid_urn(n: u64) -> String {
    let hi = (splitmix64(n) & 0xffff_ffff_ffff_0fff) | 0x4000;
    let lo = (splitmix64(!n) & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// Current UTC time as a 14-digit DTM (for Folder `lastUpdateTime`, which the registry sets).
fn now_dtm() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The in-memory Document Registry: registered DocumentEntries (ExtrinsicObjects),
/// SubmissionSets and Folders (RegistryPackages) and Associations, as stored after ITI-42
/// (entryUUIDs assigned, status set), plus the patient ids (CX) the affinity domain knows.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    known_patients: HashSet<String>,
    documents: Vec<RegistryObject>,
    packages: Vec<RegistryObject>,
    associations: Vec<Association>,
    /// Every id in use (objects, nested Classifications and ExternalIdentifiers), lowercased.
    ids: HashSet<String>,
    /// Counter behind the generated entryUUIDs.
    counter: u64,
}

/// Generator of fresh entryUUIDs during one registration; the registry keeps its counter only
/// when the registration succeeds.
struct Fresh<'a> {
    counter: u64,
    taken: &'a HashSet<String>,
    submitted: &'a HashSet<String>,
}

impl Fresh<'_> {
    fn next(&mut self) -> String {
        loop {
            self.counter += 1;
            let u = uuid_urn(self.counter);
            if !self.taken.contains(&u) && !self.submitted.contains(&u) {
                return u;
            }
        }
    }
}

/// What a reference in a submission points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    NewDocument,
    NewSubmissionSet,
    NewFolder,
    NewAssociation,
    Document,
    SubmissionSet,
    Folder,
    Association,
}

impl Registry {
    /// An empty registry for an affinity domain whose patient ids (CX `id^^^&OID&ISO`, as the
    /// Patient Identity Feed would have delivered them) are `known_patients`.
    pub fn new(known_patients: impl IntoIterator<Item = String>) -> Registry {
        Registry {
            known_patients: known_patients.into_iter().collect(),
            ..Registry::default()
        }
    }

    /// Add a patient id to the affinity domain (what a Patient Identity Feed would do).
    pub fn add_patient(&mut self, patient_id: impl Into<String>) {
        self.known_patients.insert(patient_id.into());
    }

    /// Every patient id of the affinity domain.
    pub fn all_patients(&self) -> Vec<String> {
        self.known_patients.iter().cloned().collect()
    }

    /// True when `patient_id` belongs to the affinity domain.
    pub fn is_known_patient(&self, patient_id: &str) -> bool {
        self.known_patients.contains(patient_id)
    }

    /// Registered DocumentEntries (ExtrinsicObjects), in registration order.
    pub fn document_entries(&self) -> &[RegistryObject] {
        &self.documents
    }

    /// Registered SubmissionSets.
    pub fn submission_sets(&self) -> impl Iterator<Item = &RegistryObject> {
        self.packages.iter().filter(|p| is_submission_set(p))
    }

    /// Registered Folders.
    pub fn folders(&self) -> impl Iterator<Item = &RegistryObject> {
        self.packages.iter().filter(|p| is_folder(p))
    }

    /// Registered Associations.
    pub fn associations(&self) -> &[Association] {
        &self.associations
    }

    /// The DocumentEntry with DocumentEntry.uniqueId `unique_id`.
    pub fn find_by_unique_id(&self, unique_id: &str) -> Option<&RegistryObject> {
        self.documents
            .iter()
            .find(|o| o.identifier(DE_UNIQUE_ID).as_deref() == Some(unique_id))
    }

    /// The DocumentEntry, SubmissionSet or Folder with entryUUID `entry_uuid`.
    pub fn find_by_entry_uuid(&self, entry_uuid: &str) -> Option<&RegistryObject> {
        self.documents
            .iter()
            .chain(&self.packages)
            .find(|o| same_id(o.id.as_deref(), entry_uuid))
    }

    /// repositoryUniqueId of the DocumentEntry with uniqueId `document_unique_id` (what an ITI-43
    /// or RAD-69 responder needs to route a retrieve).
    pub fn repository_unique_id(&self, document_unique_id: &str) -> Option<String> {
        self.find_by_unique_id(document_unique_id)
            .and_then(|o| o.slot_value("repositoryUniqueId"))
    }

    // -----------------------------------------------------------------------------------------
    // ITI-42 Register Document Set-b

    /// Register a submission (ITI TF-2 3.42.4.1.3). `repository_unique_id` is the forwarding
    /// Repository's id and `documents` the `(document id, bytes)` pairs it received in ITI-41 /
    /// RAD-68; when either is given the call is read as coming from that Repository, so every
    /// ExtrinsicObject must pair with a document by id (`XDSMissingDocument`,
    /// `XDSMissingDocumentMetadata`), the `hash`, `size` and `repositoryUniqueId` slots are added
    /// or verified (`XDSRepositoryMetadataError`). Otherwise (a bare ITI-42) the metadata must
    /// already carry all three (`XDSRegistryMetadataError`).
    ///
    /// Symbolic ids are replaced by fresh `urn:uuid:` entryUUIDs everywhere they are referenced,
    /// top-level Classifications and ExternalIdentifiers are nested into the object they describe,
    /// every object gets status Approved, a Folder gets `lastUpdateTime`, and RPLC / XFRM_RPLC
    /// deprecate their target. Returns the entryUUIDs of the ExtrinsicObjects, then the
    /// RegistryPackages, then the Associations, in submission order. On any error nothing is
    /// registered and every error found is returned.
    pub fn register(
        &mut self,
        submit: &SubmitObjectsRequest,
        repository_unique_id: Option<&str>,
        documents: &[(String, Vec<u8>)],
    ) -> Result<Vec<String>, Vec<RegistryError>> {
        let list = &submit.objects;
        let mut errs = Vec::new();
        Self::check_structure(submit, &mut errs);
        self.check_patients(list, &mut errs);
        let fills = Self::check_documents(list, repository_unique_id, documents, &mut errs);
        self.check_unique_ids(list, &fills, &mut errs);
        let submitted = submitted_ids(list);
        let mut fresh = Fresh {
            counter: self.counter,
            taken: &self.ids,
            submitted: &submitted,
        };
        let map = self.map_ids(list, &mut fresh, &mut errs);
        let effects = self.check_references(list, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        let mapped = |r: &str| map.get(r).cloned().unwrap_or_else(|| r.to_owned());
        let mut new_ids: Vec<String> = Vec::new();
        let mut assigned = Vec::new();
        let mut docs = Vec::new();
        for (o, fill) in list.extrinsic_objects.iter().zip(&fills) {
            let mut o = adopt(o, list, &mapped, &mut fresh, &mut new_ids);
            for (name, value) in fill {
                set_slot(&mut o.slots, name, value.clone());
            }
            assigned.extend(o.id.clone());
            docs.push(o);
        }
        let now = now_dtm();
        let mut packages = Vec::new();
        for p in &list.registry_packages {
            let mut p = adopt(p, list, &mapped, &mut fresh, &mut new_ids);
            if is_folder(&p) {
                set_slot(&mut p.slots, "lastUpdateTime", now.clone());
            }
            assigned.extend(p.id.clone());
            packages.push(p);
        }
        let mut associations = Vec::new();
        for a in &list.associations {
            let mut a = a.clone();
            a.id = a.id.as_deref().map(mapped);
            a.source_object = a.source_object.as_deref().map(mapped);
            a.target_object = a.target_object.as_deref().map(mapped);
            a.status = Some(STATUS_APPROVED.to_owned());
            a.order_issues.clear();
            new_ids.extend(a.id.clone());
            assigned.extend(a.id.clone());
            associations.push(a);
        }
        self.counter = fresh.counter;
        self.ids
            .extend(new_ids.into_iter().map(|i| i.to_ascii_lowercase()));
        for d in &mut self.documents {
            if effects
                .deprecate
                .iter()
                .any(|t| same_id(d.id.as_deref(), t))
            {
                d.status = Some(STATUS_DEPRECATED.to_owned());
            }
        }
        for f in &mut self.packages {
            if effects.touch.iter().any(|t| same_id(f.id.as_deref(), t)) {
                set_slot(&mut f.slots, "lastUpdateTime", now.clone());
            }
        }
        self.documents.extend(docs);
        self.packages.extend(packages);
        self.associations.extend(associations);
        Ok(assigned)
    }

    /// Error-level findings of the structural validator, as `XDSRegistryMetadataError`. Patient
    /// agreement (ITI41-09) and duplicate uniqueIds are left to the checks that name their own
    /// error codes.
    fn check_structure(submit: &SubmitObjectsRequest, errs: &mut Vec<RegistryError>) {
        let violations = xds_rules::validate_submission(
            submit,
            None,
            xds_rules::SubmissionKind::MetadataOnly { imaging: false },
        );
        for v in violations {
            if v.level != Level::Shall
                || v.rule == "ITI41-09"
                || (v.rule == "ITI41-04" && v.message.contains("uniqueId"))
            {
                continue;
            }
            errs.push(registry_error(
                XDS_REGISTRY_METADATA_ERROR,
                format!("{} ({}): {}", v.rule, v.requirement, v.message),
                "SubmitObjectsRequest",
            ));
        }
    }

    /// `XDSUnknownPatientId` for patient ids outside the affinity domain and
    /// `XDSPatientIdDoesNotMatch` for DocumentEntries and Folders whose patient differs from the
    /// SubmissionSet's (ITI TF-2 3.42.4.1.3.x).
    fn check_patients(&self, list: &RegistryObjectList, errs: &mut Vec<RegistryError>) {
        let ss = list.submission_set_packages().first().map(|p| (*p).clone());
        let ss_pid = ss.as_ref().and_then(|p| p.identifier(SS_PATIENT_ID));
        let mut reported: HashSet<String> = HashSet::new();
        let mut unknown = |pid: &str, who: &str, loc: &str, errs: &mut Vec<RegistryError>| {
            if !self.is_known_patient(pid) && reported.insert(pid.to_owned()) {
                errs.push(registry_error(
                    XDS_UNKNOWN_PATIENT_ID,
                    format!("{who} patientId {pid} is not known in this affinity domain"),
                    loc,
                ));
            }
        };
        if let (Some(p), Some(pid)) = (ss.as_ref(), ss_pid.as_deref()) {
            unknown(pid, "SubmissionSet", p.id.as_deref().unwrap_or(""), errs);
        }
        let members = list
            .extrinsic_objects
            .iter()
            .map(|o| ("DocumentEntry", o, o.identifier(DE_PATIENT_ID)))
            .chain(
                list.folder_packages()
                    .into_iter()
                    .map(|f| ("Folder", f, f.identifier(FOLDER_PATIENT_ID))),
            );
        for (who, o, pid) in members {
            let Some(pid) = pid else { continue };
            let loc = o.id.as_deref().unwrap_or("");
            if let Some(sp) = ss_pid.as_deref() {
                if pid != sp {
                    errs.push(registry_error(
                        XDS_PATIENT_ID_DOES_NOT_MATCH,
                        format!(
                            "{who} {loc} patientId {pid} differs from SubmissionSet patientId {sp}"
                        ),
                        loc,
                    ));
                }
            }
            unknown(&pid, who, loc, errs);
        }
    }

    /// Pair ExtrinsicObjects with documents, verify or compute `hash`, `size` and
    /// `repositoryUniqueId`. Returns, per ExtrinsicObject, the slots to set.
    fn check_documents(
        list: &RegistryObjectList,
        repository_unique_id: Option<&str>,
        documents: &[(String, Vec<u8>)],
        errs: &mut Vec<RegistryError>,
    ) -> Vec<Vec<(&'static str, String)>> {
        let from_repository = repository_unique_id.is_some() || !documents.is_empty();
        let mut fills = Vec::new();
        for o in &list.extrinsic_objects {
            let loc = o.id.as_deref().unwrap_or("");
            let mut fill: Vec<(&'static str, String)> = Vec::new();
            let de = o.document_entry();
            let doc = documents
                .iter()
                .find(|(id, _)| o.id.as_deref() == Some(id.as_str()));
            match doc {
                Some((_, bytes)) => {
                    let hash = crate::model::ebrim::document_hash(bytes);
                    if let Some(h) = de.hash.as_deref() {
                        if !h.eq_ignore_ascii_case(&hash) {
                            errs.push(registry_error(
                                XDS_REPOSITORY_METADATA_ERROR,
                                format!("DocumentEntry {loc} hash {h} is not the SHA-1 of the document ({hash})"),
                                loc,
                            ));
                        }
                    }
                    fill.push(("hash", hash));
                    let size = bytes.len().to_string();
                    if let Some(s) = de.size.as_deref() {
                        if s != size {
                            errs.push(registry_error(
                                XDS_REPOSITORY_METADATA_ERROR,
                                format!("DocumentEntry {loc} size {s} is not the document's size ({size})"),
                                loc,
                            ));
                        }
                    }
                    fill.push(("size", size));
                }
                None if from_repository => errs.push(registry_error(
                    XDS_MISSING_DOCUMENT,
                    format!("DocumentEntry {loc} has no document in the request"),
                    loc,
                )),
                None => {}
            }
            match (de.repository_unique_id.as_deref(), repository_unique_id) {
                (Some(m), Some(r)) if m != r => errs.push(registry_error(
                    XDS_REPOSITORY_METADATA_ERROR,
                    format!(
                        "DocumentEntry {loc} repositoryUniqueId {m} is not the Repository's id {r}"
                    ),
                    loc,
                )),
                (None, Some(r)) => fill.push(("repositoryUniqueId", r.to_owned())),
                _ => {}
            }
            // What will be stored: the computed or added values, else the submitted ones. An
            // entry whose document is missing is already refused above.
            if doc.is_some() || !from_repository {
                let effective = |name: &str, given: Option<String>| {
                    fill.iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.clone())
                        .or(given)
                };
                let mut missing = Vec::new();
                match effective("hash", de.hash).as_deref() {
                    None => missing.push("hash"),
                    Some(h) if h.len() != 40 || !h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        missing.push("hash (40 hex digits)")
                    }
                    Some(_) => {}
                }
                match effective("size", de.size).as_deref() {
                    None => missing.push("size"),
                    Some(s) if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) => {
                        missing.push("size (decimal)")
                    }
                    Some(_) => {}
                }
                match effective("repositoryUniqueId", de.repository_unique_id).as_deref() {
                    None => missing.push("repositoryUniqueId"),
                    Some(r) if !ebrim::is_oid(r) => missing.push("repositoryUniqueId (OID)"),
                    Some(_) => {}
                }
                if !missing.is_empty() {
                    errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!(
                            "DocumentEntry {loc}: a registered entry needs {}",
                            missing.join(", ")
                        ),
                        loc,
                    ));
                }
            }
            fills.push(fill);
        }
        for (id, _) in documents {
            if !list
                .extrinsic_objects
                .iter()
                .any(|o| o.id.as_deref() == Some(id.as_str()))
            {
                errs.push(registry_error(
                    XDS_MISSING_DOCUMENT_METADATA,
                    format!("document {id} has no DocumentEntry"),
                    id,
                ));
            }
        }
        fills
    }

    /// uniqueIds unique in the message (`XDSRegistryDuplicateUniqueIdInMessage`) and in the
    /// registry (`XDSDuplicateUniqueIdInRegistry`; for a DocumentEntry whose registered namesake
    /// has another hash or size, `XDSNonIdenticalHash` / `XDSNonIdenticalSize` as ITI TF-3
    /// Table 4.2.4.1-2 names them).
    fn check_unique_ids(
        &self,
        list: &RegistryObjectList,
        fills: &[Vec<(&'static str, String)>],
        errs: &mut Vec<RegistryError>,
    ) {
        let mut seen: HashSet<String> = HashSet::new();
        for (i, o) in list.extrinsic_objects.iter().enumerate() {
            let Some(uid) = o.identifier(DE_UNIQUE_ID) else {
                continue;
            };
            let loc = o.id.as_deref().unwrap_or("");
            if !seen.insert(uid.clone()) {
                errs.push(registry_error(
                    XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
                    format!(
                        "DocumentEntry uniqueId {uid} appears more than once in the submission"
                    ),
                    loc,
                ));
                continue;
            }
            let Some(existing) = self.find_by_unique_id(&uid) else {
                continue;
            };
            let fill = |name: &str| {
                fills
                    .get(i)
                    .and_then(|f| f.iter().find(|(n, _)| *n == name))
                    .map(|(_, v)| v.clone())
                    .or_else(|| o.slot_value(name))
            };
            let differs = |name: &str| match (fill(name), existing.slot_value(name)) {
                (Some(a), Some(b)) => !a.eq_ignore_ascii_case(&b),
                _ => false,
            };
            let (code, what) = if differs("hash") {
                (XDS_NON_IDENTICAL_HASH, " with another hash")
            } else if differs("size") {
                (XDS_NON_IDENTICAL_SIZE, " with another size")
            } else {
                (XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY, "")
            };
            errs.push(registry_error(
                code,
                format!("DocumentEntry uniqueId {uid} is already registered{what}"),
                &uid,
            ));
        }
        for p in &list.registry_packages {
            let folder = submitted_is_folder(list, p);
            let uid = if folder {
                p.identifier(FOLDER_UNIQUE_ID)
            } else {
                p.identifier(SS_UNIQUE_ID)
            };
            let Some(uid) = uid else { continue };
            let loc = p.id.as_deref().unwrap_or("");
            let who = if folder { "Folder" } else { "SubmissionSet" };
            if !seen.insert(uid.clone()) {
                errs.push(registry_error(
                    XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
                    format!("{who} uniqueId {uid} appears more than once in the submission"),
                    loc,
                ));
            } else if self
                .packages
                .iter()
                .any(|q| unique_id_of(q).as_deref() == Some(uid.as_str()))
            {
                errs.push(registry_error(
                    XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
                    format!("{who} uniqueId {uid} is already registered"),
                    &uid,
                ));
            }
        }
    }

    /// Map every symbolic id to a fresh entryUUID; refuse malformed or already registered
    /// `urn:uuid:` ids, missing ids on top-level objects, and a `lid` other than the id.
    fn map_ids(
        &self,
        list: &RegistryObjectList,
        fresh: &mut Fresh<'_>,
        errs: &mut Vec<RegistryError>,
    ) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = HashMap::new();
        let mut take = |id: &str, who: &str, errs: &mut Vec<RegistryError>| {
            if id.starts_with("urn:uuid:") {
                if !is_uuid_urn(id) {
                    errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!("{who} id {id} is not a well-formed urn:uuid"),
                        id,
                    ));
                } else if self.ids.contains(&id.to_ascii_lowercase()) {
                    errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!("{who} id {id} is already registered"),
                        id,
                    ));
                }
            } else if !map.contains_key(id) {
                let u = fresh.next();
                map.insert(id.to_owned(), u);
            }
        };
        let objects = list
            .extrinsic_objects
            .iter()
            .map(|o| ("ExtrinsicObject", o))
            .chain(
                list.registry_packages
                    .iter()
                    .map(|p| ("RegistryPackage", p)),
            );
        for (who, o) in objects {
            match o.id.as_deref() {
                Some(id) => take(id, who, errs),
                None => errs.push(registry_error(
                    XDS_REGISTRY_METADATA_ERROR,
                    format!("{who} has no id"),
                    who,
                )),
            }
            for c in &o.classifications {
                if let Some(id) = c.id.as_deref() {
                    take(id, "Classification", errs);
                }
            }
            for e in &o.external_identifiers {
                if let Some(id) = e.id.as_deref() {
                    take(id, "ExternalIdentifier", errs);
                }
            }
            if let (Some(lid), Some(id)) = (o.lid.as_deref(), o.id.as_deref()) {
                if lid != id {
                    errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!("{who} {id} has lid {lid}; an original submission's logicalID is its entryUUID"),
                        id,
                    ));
                }
            }
        }
        for c in &list.classifications {
            if let Some(id) = c.id.as_deref() {
                take(id, "Classification", errs);
            }
        }
        for e in &list.external_identifiers {
            if let Some(id) = e.id.as_deref() {
                take(id, "ExternalIdentifier", errs);
            }
        }
        for a in &list.associations {
            match a.id.as_deref() {
                Some(id) => take(id, "Association", errs),
                None => errs.push(registry_error(
                    XDS_REGISTRY_METADATA_ERROR,
                    "Association has no id",
                    "Association",
                )),
            }
        }
        map
    }

    /// What `r` names: an object of the submission or a registered one.
    fn resolve(&self, list: &RegistryObjectList, r: &str) -> Option<Target> {
        if list
            .extrinsic_objects
            .iter()
            .any(|o| o.id.as_deref() == Some(r))
        {
            return Some(Target::NewDocument);
        }
        if let Some(p) = list
            .registry_packages
            .iter()
            .find(|p| p.id.as_deref() == Some(r))
        {
            return Some(if submitted_is_folder(list, p) {
                Target::NewFolder
            } else {
                Target::NewSubmissionSet
            });
        }
        if list.associations.iter().any(|a| a.id.as_deref() == Some(r)) {
            return Some(Target::NewAssociation);
        }
        if !r.starts_with("urn:uuid:") {
            return None;
        }
        if self.documents.iter().any(|o| same_id(o.id.as_deref(), r)) {
            return Some(Target::Document);
        }
        if let Some(p) = self.packages.iter().find(|p| same_id(p.id.as_deref(), r)) {
            return Some(if is_folder(p) {
                Target::Folder
            } else {
                Target::SubmissionSet
            });
        }
        if self
            .associations
            .iter()
            .any(|a| same_id(a.id.as_deref(), r))
        {
            return Some(Target::Association);
        }
        None
    }

    /// Patient id of the object `r` names (in the submission or registered).
    fn patient_of_ref(&self, list: &RegistryObjectList, r: &str) -> Option<String> {
        list.extrinsic_objects
            .iter()
            .chain(&list.registry_packages)
            .find(|o| o.id.as_deref() == Some(r))
            .map(|o| {
                if submitted_is_folder(list, o) {
                    o.identifier(FOLDER_PATIENT_ID)
                } else {
                    patient_of(o)
                }
            })
            .or_else(|| self.find_by_entry_uuid(r).map(patient_of))
            .flatten()
    }

    /// References between objects: every reference resolves (`UnresolvedReferenceException`),
    /// association types are those of ITI-42, membership and relationships stay within one
    /// patient, and relationships target an Approved DocumentEntry.
    fn check_references(
        &self,
        list: &RegistryObjectList,
        errs: &mut Vec<RegistryError>,
    ) -> Effects {
        let mut effects = Effects::default();
        let ss_pid = list
            .submission_set_packages()
            .first()
            .and_then(|p| p.identifier(SS_PATIENT_ID));
        for c in &list.classifications {
            let r = c.classified_object.as_deref().unwrap_or("");
            if !matches!(
                self.resolve(list, r),
                Some(
                    Target::NewDocument
                        | Target::NewSubmissionSet
                        | Target::NewFolder
                        | Target::NewAssociation
                )
            ) {
                errs.push(registry_error(
                    UNRESOLVED_REFERENCE_EXCEPTION,
                    format!(
                        "Classification classifiedObject {r} names no object of the submission"
                    ),
                    c.id.as_deref().unwrap_or(r),
                ));
            }
        }
        for e in &list.external_identifiers {
            let r = e.registry_object.as_deref().unwrap_or("");
            if !matches!(
                self.resolve(list, r),
                Some(Target::NewDocument | Target::NewSubmissionSet | Target::NewFolder)
            ) {
                errs.push(registry_error(
                    UNRESOLVED_REFERENCE_EXCEPTION,
                    format!(
                        "ExternalIdentifier registryObject {r} names no object of the submission"
                    ),
                    e.id.as_deref().unwrap_or(r),
                ));
            }
        }
        for a in &list.associations {
            let loc = a.id.as_deref().unwrap_or("Association");
            let Some(kind) = a.association_type.as_deref() else {
                continue;
            };
            let kind_is = |k: &str| ebrim::same_uri(kind, k);
            if !SUBMITTABLE_ASSOCIATIONS.iter().any(|k| kind_is(k)) {
                errs.push(registry_error(
                    XDS_REGISTRY_METADATA_ERROR,
                    format!("Association {loc} has type {kind}, which ITI-42 does not accept"),
                    loc,
                ));
                continue;
            }
            let (Some(src), Some(tgt)) = (a.source_object.as_deref(), a.target_object.as_deref())
            else {
                continue;
            };
            let source = self.resolve(list, src);
            let target = self.resolve(list, tgt);
            for (end, r, t) in [("sourceObject", src, source), ("targetObject", tgt, target)] {
                if t.is_none() {
                    errs.push(registry_error(
                        UNRESOLVED_REFERENCE_EXCEPTION,
                        format!("Association {loc} {end} {r} names no object in the submission or the registry"),
                        loc,
                    ));
                }
            }
            let (Some(source), Some(target)) = (source, target) else {
                continue;
            };
            let same_patient = |errs: &mut Vec<RegistryError>, what: &str| {
                let (p, q) = (
                    self.patient_of_ref(list, src),
                    self.patient_of_ref(list, tgt),
                );
                if p != q {
                    errs.push(registry_error(
                        XDS_PATIENT_ID_DOES_NOT_MATCH,
                        format!(
                            "Association {loc} {what} links patient {} to patient {}",
                            p.as_deref().unwrap_or("(none)"),
                            q.as_deref().unwrap_or("(none)")
                        ),
                        loc,
                    ));
                }
            };
            if kind_is(ASSOC_HAS_MEMBER) {
                match (source, target) {
                    (Target::NewSubmissionSet, Target::NewAssociation) => {}
                    (Target::NewSubmissionSet, Target::NewDocument | Target::NewFolder) => {}
                    (Target::NewSubmissionSet, Target::Document | Target::Folder) => {
                        same_patient(errs, "HasMember");
                    }
                    (Target::NewFolder, Target::NewDocument | Target::Document) => {
                        same_patient(errs, "HasMember");
                    }
                    (Target::Folder, Target::NewDocument | Target::Document) => {
                        same_patient(errs, "HasMember");
                        effects.touch.push(src.to_owned());
                    }
                    _ => errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!("Association {loc} HasMember from {src} to {tgt} is not a SubmissionSet or Folder membership of this submission"),
                        loc,
                    )),
                }
            } else if RELATIONSHIPS.iter().any(|k| kind_is(k)) {
                if source != Target::NewDocument || target != Target::Document {
                    errs.push(registry_error(
                        XDS_REGISTRY_METADATA_ERROR,
                        format!("Association {loc} {kind} must link a new DocumentEntry to a registered one"),
                        loc,
                    ));
                    continue;
                }
                let status = self.find_by_entry_uuid(tgt).and_then(|o| o.status.clone());
                if status.as_deref() != Some(STATUS_APPROVED) {
                    errs.push(registry_error(
                        XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
                        format!(
                            "Association {loc} {kind} targets DocumentEntry {tgt}, whose status is {}",
                            status.as_deref().unwrap_or("(none)")
                        ),
                        loc,
                    ));
                }
                if let (Some(sp), Some(tp)) = (ss_pid.as_deref(), self.patient_of_ref(list, tgt)) {
                    if sp != tp {
                        errs.push(registry_error(
                            XDS_PATIENT_ID_DOES_NOT_MATCH,
                            format!("Association {loc} {kind} targets DocumentEntry {tgt} of patient {tp}, not {sp}"),
                            loc,
                        ));
                    }
                }
                if REPLACEMENTS.iter().any(|k| kind_is(k)) {
                    effects.deprecate.push(tgt.to_owned());
                }
            }
        }
        effects
    }

    // -----------------------------------------------------------------------------------------
    // ITI-18 Registry Stored Query

    /// Answer an ITI-18 Registry Stored Query over the registered content. Malformed requests
    /// get status Failure with `XDSUnknownStoredQuery`, `XDSStoredQueryMissingParam`,
    /// `XDSStoredQueryParamNumber` or (a value that does not parse, a bad returnType)
    /// `XDSRegistryError`; a result spanning several patients gets `XDSResultNotSinglePatient`.
    /// Success carries no RegistryErrorList. LeafClass returns the full ExtrinsicObjects,
    /// RegistryPackages and Associations; ObjectRef only their ids.
    pub fn query(&self, q: &AdhocQueryRequest) -> AdhocQueryResponse {
        match self.run_query(q) {
            Ok(found) => {
                let mut objects = RegistryObjectList::default();
                if q.return_type.as_deref() == Some("ObjectRef") {
                    objects.object_refs = found
                        .documents
                        .iter()
                        .chain(&found.packages)
                        .filter_map(|o| o.id.clone())
                        .chain(found.associations.iter().filter_map(|a| a.id.clone()))
                        .map(|id| ObjectRef {
                            id: Some(id),
                            home: None,
                        })
                        .collect();
                } else {
                    objects.extrinsic_objects = found.documents.into_iter().cloned().collect();
                    objects.registry_packages = found.packages.into_iter().cloned().collect();
                    objects.associations = found.associations.into_iter().cloned().collect();
                }
                AdhocQueryResponse {
                    response: RegistryResponse {
                        status: Some(RESPONSE_SUCCESS.to_owned()),
                        has_error_list: false,
                        errors: Vec::new(),
                    },
                    objects,
                    has_object_list: true,
                }
            }
            Err(errors) => AdhocQueryResponse {
                response: RegistryResponse {
                    status: Some(RESPONSE_FAILURE.to_owned()),
                    has_error_list: true,
                    errors,
                },
                // query.xsd requires the (empty) RegistryObjectList even on failure.
                objects: RegistryObjectList::default(),
                has_object_list: true,
            },
        }
    }

    fn run_query<'a>(&'a self, q: &AdhocQueryRequest) -> Result<Found<'a>, Vec<RegistryError>> {
        let id = q.query_id.as_deref().unwrap_or("");
        let errs = query_request_errors(q);
        if !errs.is_empty() {
            return Err(errs);
        }
        let p = Params { q };
        let found = match id {
            SQ_FIND_DOCUMENTS => self.find_documents(&p, false),
            SQ_FIND_DOCUMENTS_BY_REFERENCE_ID => self.find_documents(&p, true),
            SQ_FIND_SUBMISSION_SETS => self.find_submission_sets(&p),
            SQ_FIND_FOLDERS => self.find_folders(&p),
            SQ_GET_ALL => self.get_all(&p),
            SQ_GET_DOCUMENTS => self.get_documents(&p, false),
            SQ_GET_DOCUMENTS_AND_ASSOCIATIONS => self.get_documents(&p, true),
            SQ_GET_FOLDERS => self.get_folders(&p),
            SQ_GET_ASSOCIATIONS => self.get_associations(&p),
            SQ_GET_SUBMISSION_SETS => self.get_submission_sets(&p),
            SQ_GET_SUBMISSION_SET_AND_CONTENTS => self.get_submission_set_and_contents(&p),
            SQ_GET_FOLDER_AND_CONTENTS => self.get_folder_and_contents(&p),
            SQ_GET_FOLDERS_FOR_DOCUMENT => self.get_folders_for_document(&p),
            SQ_GET_RELATED_DOCUMENTS => self.get_related_documents(&p),
            _ => {
                let name = STORED_QUERIES
                    .iter()
                    .find(|(k, _)| *k == id)
                    .map(|(_, n)| *n)
                    .unwrap_or("?");
                Err(registry_error(
                    XDS_UNKNOWN_STORED_QUERY,
                    format!(
                        "stored query {name} ({id}) is not supported by this Document Registry"
                    ),
                    id,
                ))
            }
        }
        .map_err(|e| vec![e])?;
        let found = found.dedup();
        let patients: HashSet<String> = found
            .documents
            .iter()
            .chain(&found.packages)
            .filter_map(|o| patient_of(o))
            .collect();
        if patients.len() > 1 {
            let mut list: Vec<String> = patients.into_iter().collect();
            list.sort();
            return Err(vec![registry_error(
                XDS_RESULT_NOT_SINGLE_PATIENT,
                format!("the result spans several patients: {}", list.join(", ")),
                id,
            )]);
        }
        Ok(found)
    }

    fn find_documents<'a>(
        &'a self,
        p: &Params<'_>,
        by_reference: bool,
    ) -> Result<Found<'a>, RegistryError> {
        let pid = p.required_single("$XDSDocumentEntryPatientId")?;
        let mut filter = EntryFilter::parse(p, EntryParams::Find)?;
        if by_reference {
            filter.reference_ids = p.list("$XDSDocumentEntryReferenceIdList")?;
        }
        let documents = self
            .documents
            .iter()
            .filter(|o| o.identifier(DE_PATIENT_ID).as_deref() == Some(pid.as_str()))
            .filter(|o| filter.matches(o))
            .collect();
        Ok(Found {
            documents,
            ..Found::default()
        })
    }

    fn find_submission_sets<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let pid = p.required_single("$XDSSubmissionSetPatientId")?;
        let statuses = p.list("$XDSSubmissionSetStatus")?;
        let sources = p.list("$XDSSubmissionSetSourceId")?;
        let from = p.time("$XDSSubmissionSetSubmissionTimeFrom")?;
        let to = p.time("$XDSSubmissionSetSubmissionTimeTo")?;
        let author = p.single("$XDSSubmissionSetAuthorPerson")?;
        let content = p.codes("$XDSSubmissionSetContentType")?;
        let packages = self
            .submission_sets()
            .filter(|s| s.identifier(SS_PATIENT_ID).as_deref() == Some(pid.as_str()))
            .filter(|s| status_matches(s.status.as_deref(), statuses.as_deref()))
            .filter(|s| {
                sources
                    .as_ref()
                    .is_none_or(|l| s.identifier(SS_SOURCE_ID).is_some_and(|v| l.contains(&v)))
            })
            .filter(|s| time_matches(s.slot_value("submissionTime"), &from, &to))
            .filter(|s| {
                author
                    .as_deref()
                    .is_none_or(|a| author_matches(s, SS_AUTHOR, &[a.to_owned()]))
            })
            .filter(|s| {
                content
                    .as_ref()
                    .is_none_or(|groups| groups.iter().all(|g| code_in(s, SS_CONTENT_TYPE_CODE, g)))
            })
            .collect();
        Ok(Found {
            packages,
            ..Found::default()
        })
    }

    fn find_folders<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let pid = p.required_single("$XDSFolderPatientId")?;
        let statuses = p.list("$XDSFolderStatus")?;
        let from = p.time("$XDSFolderLastUpdateTimeFrom")?;
        let to = p.time("$XDSFolderLastUpdateTimeTo")?;
        let codes = p.codes("$XDSFolderCodeList")?;
        let packages = self
            .folders()
            .filter(|f| f.identifier(FOLDER_PATIENT_ID).as_deref() == Some(pid.as_str()))
            .filter(|f| status_matches(f.status.as_deref(), statuses.as_deref()))
            .filter(|f| time_matches(f.slot_value("lastUpdateTime"), &from, &to))
            .filter(|f| {
                codes
                    .as_ref()
                    .is_none_or(|groups| groups.iter().all(|g| code_in(f, FOLDER_CODE_LIST, g)))
            })
            .collect();
        Ok(Found {
            packages,
            ..Found::default()
        })
    }

    fn get_all<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let pid = p.required_single("$patientId")?;
        let filter = EntryFilter::parse(p, EntryParams::GetAll)?;
        let ss_statuses = p.list("$XDSSubmissionSetStatus")?;
        let folder_statuses = p.list("$XDSFolderStatus")?;
        let documents: Vec<&RegistryObject> = self
            .documents
            .iter()
            .filter(|o| o.identifier(DE_PATIENT_ID).as_deref() == Some(pid.as_str()))
            .filter(|o| filter.matches(o))
            .collect();
        let packages: Vec<&RegistryObject> = self
            .packages
            .iter()
            .filter(|o| patient_of(o).as_deref() == Some(pid.as_str()))
            .filter(|o| {
                let statuses = if is_folder(o) {
                    folder_statuses.as_deref()
                } else {
                    ss_statuses.as_deref()
                };
                status_matches(o.status.as_deref(), statuses)
            })
            .collect();
        let associations =
            self.associations_among(documents.iter().chain(&packages).copied(), None);
        Ok(Found {
            documents,
            packages,
            associations,
        })
    }

    fn get_documents<'a>(
        &'a self,
        p: &Params<'_>,
        with_associations: bool,
    ) -> Result<Found<'a>, RegistryError> {
        let all: Vec<&RegistryObject> = self.documents.iter().collect();
        let documents = select_by_ids(
            p,
            "$XDSDocumentEntryEntryUUID",
            "$XDSDocumentEntryUniqueId",
            Some("$XDSDocumentEntryLogicalID"),
            &all,
            DE_UNIQUE_ID,
        )?;
        let associations = if with_associations {
            self.associations
                .iter()
                .filter(|a| {
                    documents.iter().any(|d| {
                        d.id.as_deref().is_some_and(|id| {
                            same_id(a.source_object.as_deref(), id)
                                || same_id(a.target_object.as_deref(), id)
                        })
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Found {
            documents,
            associations,
            ..Found::default()
        })
    }

    fn get_folders<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let all: Vec<&RegistryObject> = self.folders().collect();
        let packages = select_by_ids(
            p,
            "$XDSFolderEntryUUID",
            "$XDSFolderUniqueId",
            Some("$XDSFolderLogicalID"),
            &all,
            FOLDER_UNIQUE_ID,
        )?;
        Ok(Found {
            packages,
            ..Found::default()
        })
    }

    fn get_associations<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let uuids = p.required_list("$uuid")?;
        let associations = self
            .associations
            .iter()
            .filter(|a| {
                uuids.iter().any(|u| {
                    same_id(a.source_object.as_deref(), u) || same_id(a.target_object.as_deref(), u)
                })
            })
            .collect();
        Ok(Found {
            associations,
            ..Found::default()
        })
    }

    fn get_submission_sets<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let uuids = p.required_list("$uuid")?;
        let associations: Vec<&Association> = self
            .associations
            .iter()
            .filter(|a| scheme_is(a.association_type.as_deref(), ASSOC_HAS_MEMBER))
            .filter(|a| uuids.iter().any(|u| same_id(a.target_object.as_deref(), u)))
            .filter(|a| {
                self.submission_sets().any(|s| {
                    s.id.as_deref()
                        .is_some_and(|id| same_id(a.source_object.as_deref(), id))
                })
            })
            .collect();
        let packages = self
            .submission_sets()
            .filter(|s| {
                associations.iter().any(|a| {
                    s.id.as_deref()
                        .is_some_and(|id| same_id(a.source_object.as_deref(), id))
                })
            })
            .collect();
        Ok(Found {
            packages,
            associations,
            ..Found::default()
        })
    }

    fn get_submission_set_and_contents<'a>(
        &'a self,
        p: &Params<'_>,
    ) -> Result<Found<'a>, RegistryError> {
        let uuid = p.single("$XDSSubmissionSetEntryUUID")?;
        let uid = p.single("$XDSSubmissionSetUniqueId")?;
        let ss = self.submission_sets().find(|s| match (&uuid, &uid) {
            (Some(u), _) => same_id(s.id.as_deref(), u),
            (None, Some(u)) => s.identifier(SS_UNIQUE_ID).as_deref() == Some(u.as_str()),
            (None, None) => false,
        });
        let filter = EntryFilter::parse(p, EntryParams::Contents)?;
        Ok(ss.map_or_else(Found::default, |ss| self.package_contents(ss, &filter)))
    }

    fn get_folder_and_contents<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let uuid = p.one_of_list("$XDSFolderEntryUUID")?;
        let uid = p.one_of_list("$XDSFolderUniqueId")?;
        let folder = self.folders().find(|f| match (&uuid, &uid) {
            (Some(u), _) => same_id(f.id.as_deref(), u),
            (None, Some(u)) => f.identifier(FOLDER_UNIQUE_ID).as_deref() == Some(u.as_str()),
            (None, None) => false,
        });
        let filter = EntryFilter::parse(p, EntryParams::Contents)?;
        Ok(folder.map_or_else(Found::default, |f| self.package_contents(f, &filter)))
    }

    fn get_folders_for_document<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let Some(doc) = self.one_document(p)? else {
            return Ok(Found::default());
        };
        let id = doc.id.as_deref().unwrap_or("");
        let packages = self
            .folders()
            .filter(|f| {
                self.associations.iter().any(|a| {
                    scheme_is(a.association_type.as_deref(), ASSOC_HAS_MEMBER)
                        && same_id(a.target_object.as_deref(), id)
                        && f.id
                            .as_deref()
                            .is_some_and(|fid| same_id(a.source_object.as_deref(), fid))
                })
            })
            .collect();
        Ok(Found {
            packages,
            ..Found::default()
        })
    }

    fn get_related_documents<'a>(&'a self, p: &Params<'_>) -> Result<Found<'a>, RegistryError> {
        let types = p.required_list("$AssociationTypes")?;
        let Some(doc) = self.one_document(p)? else {
            return Ok(Found::default());
        };
        let id = doc.id.as_deref().unwrap_or("");
        let associations: Vec<&Association> = self
            .associations
            .iter()
            .filter(|a| {
                a.association_type
                    .as_deref()
                    .is_some_and(|t| types.iter().any(|x| ebrim::same_uri(t, x)))
            })
            .filter(|a| {
                same_id(a.source_object.as_deref(), id) || same_id(a.target_object.as_deref(), id)
            })
            .filter(|a| {
                let other = if same_id(a.source_object.as_deref(), id) {
                    a.target_object.as_deref()
                } else {
                    a.source_object.as_deref()
                };
                other.is_some_and(|o| self.documents.iter().any(|d| same_id(d.id.as_deref(), o)))
            })
            .collect();
        if associations.is_empty() {
            return Ok(Found::default());
        }
        let mut documents = vec![doc];
        for a in &associations {
            for end in [a.source_object.as_deref(), a.target_object.as_deref()]
                .into_iter()
                .flatten()
            {
                if let Some(d) = self
                    .documents
                    .iter()
                    .find(|d| same_id(d.id.as_deref(), end))
                {
                    documents.push(d);
                }
            }
        }
        Ok(Found {
            documents,
            associations,
            ..Found::default()
        })
    }

    /// The one DocumentEntry named by `$XDSDocumentEntryEntryUUID` or
    /// `$XDSDocumentEntryUniqueId` (single-valued in GetFoldersForDocument and
    /// GetRelatedDocuments).
    fn one_document(&self, p: &Params<'_>) -> Result<Option<&RegistryObject>, RegistryError> {
        let uuid = p.one_of_list("$XDSDocumentEntryEntryUUID")?;
        let uid = p.one_of_list("$XDSDocumentEntryUniqueId")?;
        Ok(self.documents.iter().find(|d| match (&uuid, &uid) {
            (Some(u), _) => same_id(d.id.as_deref(), u),
            (None, Some(u)) => d.identifier(DE_UNIQUE_ID).as_deref() == Some(u.as_str()),
            (None, None) => false,
        }))
    }

    /// A SubmissionSet or Folder with its member DocumentEntries (filtered), member Folders and
    /// the Associations among what is returned (ITI TF-2 3.18.4.1.2.3.7.x
    /// GetSubmissionSetAndContents / GetFolderAndContents).
    fn package_contents<'a>(
        &'a self,
        package: &'a RegistryObject,
        filter: &EntryFilter,
    ) -> Found<'a> {
        let pid = package.id.as_deref().unwrap_or("");
        let members: Vec<&str> = self
            .associations
            .iter()
            .filter(|a| scheme_is(a.association_type.as_deref(), ASSOC_HAS_MEMBER))
            .filter(|a| same_id(a.source_object.as_deref(), pid))
            .filter_map(|a| a.target_object.as_deref())
            .collect();
        let is_member = |o: &RegistryObject| {
            o.id.as_deref()
                .is_some_and(|id| members.iter().any(|m| m.eq_ignore_ascii_case(id)))
        };
        let documents: Vec<&RegistryObject> = self
            .documents
            .iter()
            .filter(|o| is_member(o) && filter.matches(o))
            .collect();
        let mut packages = vec![package];
        if is_submission_set(package) {
            packages.extend(self.folders().filter(|f| is_member(f)));
        }
        let associations =
            self.associations_among(documents.iter().chain(&packages).copied(), Some(package));
        Found {
            documents,
            packages,
            associations,
        }
    }

    /// Associations whose two ends are among `objects`, plus the HasMember associations from
    /// `owner` (or from any returned package) that target one of those associations.
    fn associations_among<'a>(
        &'a self,
        objects: impl Iterator<Item = &'a RegistryObject>,
        owner: Option<&RegistryObject>,
    ) -> Vec<&'a Association> {
        let ids: HashSet<String> = objects
            .filter_map(|o| o.id.as_deref().map(str::to_ascii_lowercase))
            .collect();
        let within = |r: Option<&str>| r.is_some_and(|r| ids.contains(&r.to_ascii_lowercase()));
        let mut out: Vec<&Association> = self
            .associations
            .iter()
            .filter(|a| within(a.source_object.as_deref()) && within(a.target_object.as_deref()))
            .collect();
        let chosen: HashSet<String> = out
            .iter()
            .filter_map(|a| a.id.as_deref().map(str::to_ascii_lowercase))
            .collect();
        for a in &self.associations {
            let from_owner = match owner {
                Some(o) => {
                    o.id.as_deref()
                        .is_some_and(|id| same_id(a.source_object.as_deref(), id))
                }
                None => within(a.source_object.as_deref()),
            };
            let to_chosen = a
                .target_object
                .as_deref()
                .is_some_and(|t| chosen.contains(&t.to_ascii_lowercase()));
            if from_owner && to_chosen {
                out.push(a);
            }
        }
        out
    }
}

/// Side effects of a registration on registered objects.
#[derive(Debug, Default)]
struct Effects {
    /// DocumentEntries an RPLC / XFRM_RPLC deprecates.
    deprecate: Vec<String>,
    /// Registered Folders that gain a member (their lastUpdateTime changes).
    touch: Vec<String>,
}

/// Every id the submission defines, lowercased (fresh ids must not collide with them).
fn submitted_ids(list: &RegistryObjectList) -> HashSet<String> {
    let mut out = HashSet::new();
    for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
        out.extend(o.id.as_deref().map(str::to_ascii_lowercase));
        for c in &o.classifications {
            out.extend(c.id.as_deref().map(str::to_ascii_lowercase));
        }
        for e in &o.external_identifiers {
            out.extend(e.id.as_deref().map(str::to_ascii_lowercase));
        }
    }
    for c in &list.classifications {
        out.extend(c.id.as_deref().map(str::to_ascii_lowercase));
    }
    for e in &list.external_identifiers {
        out.extend(e.id.as_deref().map(str::to_ascii_lowercase));
    }
    for a in &list.associations {
        out.extend(a.id.as_deref().map(str::to_ascii_lowercase));
    }
    out
}

/// The registered form of a submitted ExtrinsicObject or RegistryPackage: ids mapped, top-level
/// Classifications and ExternalIdentifiers nested, nested ones pointing at their parent, status
/// Approved, logicalID equal to the entryUUID.
fn adopt(
    o: &RegistryObject,
    list: &RegistryObjectList,
    mapped: &impl Fn(&str) -> String,
    fresh: &mut Fresh<'_>,
    new_ids: &mut Vec<String>,
) -> RegistryObject {
    let submitted_id = o.id.clone().unwrap_or_default();
    let mut out = o.clone();
    let id = mapped(&submitted_id);
    out.classifications.extend(
        list.classifications
            .iter()
            .filter(|c| c.classified_object.as_deref() == Some(submitted_id.as_str()))
            .cloned(),
    );
    out.external_identifiers.extend(
        list.external_identifiers
            .iter()
            .filter(|e| e.registry_object.as_deref() == Some(submitted_id.as_str()))
            .cloned(),
    );
    let mut give_id = |own: &Option<String>| match own.as_deref() {
        Some(i) => mapped(i),
        None => fresh.next(),
    };
    out.classifications = out
        .classifications
        .iter()
        .map(|c| Classification {
            id: Some(give_id(&c.id)),
            classified_object: Some(id.clone()),
            ..c.clone()
        })
        .collect();
    out.external_identifiers = out
        .external_identifiers
        .iter()
        .map(|e| ExternalIdentifier {
            id: Some(give_id(&e.id)),
            registry_object: Some(id.clone()),
            ..e.clone()
        })
        .collect();
    new_ids.extend(out.classifications.iter().filter_map(|c| c.id.clone()));
    new_ids.extend(out.external_identifiers.iter().filter_map(|e| e.id.clone()));
    new_ids.push(id.clone());
    out.id = Some(id.clone());
    out.lid = Some(id);
    out.status = Some(STATUS_APPROVED.to_owned());
    out.order_issues.clear();
    out
}

/// Objects of `all` named by exactly one of the id parameters (the validator has ensured one is
/// present): entryUUIDs, uniqueIds (under `uid_scheme`) or logical ids.
fn select_by_ids<'a>(
    p: &Params<'_>,
    uuid_param: &str,
    uid_param: &str,
    lid_param: Option<&str>,
    all: &[&'a RegistryObject],
    uid_scheme: &str,
) -> Result<Vec<&'a RegistryObject>, RegistryError> {
    if let Some(uuids) = p.list(uuid_param)? {
        return Ok(all
            .iter()
            .filter(|o| uuids.iter().any(|u| same_id(o.id.as_deref(), u)))
            .copied()
            .collect());
    }
    if let Some(uids) = p.list(uid_param)? {
        return Ok(all
            .iter()
            .filter(|o| o.identifier(uid_scheme).is_some_and(|v| uids.contains(&v)))
            .copied()
            .collect());
    }
    if let Some(param) = lid_param {
        if let Some(lids) = p.list(param)? {
            return Ok(all
                .iter()
                .filter(|o| lids.iter().any(|l| same_id(o.lid.as_deref(), l)))
                .copied()
                .collect());
        }
    }
    Ok(Vec::new())
}

/// What a query found, before it is written as LeafClass or ObjectRef.
#[derive(Debug, Default)]
struct Found<'a> {
    documents: Vec<&'a RegistryObject>,
    packages: Vec<&'a RegistryObject>,
    associations: Vec<&'a Association>,
}

impl Found<'_> {
    /// Drop repeats (by id), keeping the first occurrence.
    fn dedup(mut self) -> Self {
        let mut seen: HashSet<String> = HashSet::new();
        let mut keep = |id: Option<&str>| seen.insert(id.unwrap_or("").to_ascii_lowercase());
        self.documents.retain(|o| keep(o.id.as_deref()));
        self.packages.retain(|o| keep(o.id.as_deref()));
        self.associations.retain(|a| keep(a.id.as_deref()));
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters

/// Registry errors for the defects [`xds_rules::validate_query_request`] finds, mapped to the codes
/// ITI TF-2 3.18.4.1.3 names (standards reference §3.6).
fn query_request_errors(q: &AdhocQueryRequest) -> Vec<RegistryError> {
    let location = q.query_id.as_deref().unwrap_or("AdhocQuery");
    let violations: Vec<xds_rules::Violation> = xds_rules::validate_query_request(q)
        .into_iter()
        .filter(|v| v.level == Level::Shall)
        .collect();
    // An unknown query id makes every other finding moot.
    if let Some(v) = violations.iter().find(|v| v.rule == "ITI18-01") {
        return vec![registry_error(
            XDS_UNKNOWN_STORED_QUERY,
            format!("{}: {}", v.rule, v.message),
            location,
        )];
    }
    violations
        .into_iter()
        .map(|v| {
            let code = match v.rule {
                "ITI18-03" => XDS_STORED_QUERY_MISSING_PARAM,
                "ITI18-04" if v.message.contains("found 0") => XDS_STORED_QUERY_MISSING_PARAM,
                "ITI18-04" | "ITI18-07" => XDS_STORED_QUERY_PARAM_NUMBER,
                "ITI18-05" if v.message.contains(XDS_STORED_QUERY_PARAM_NUMBER) => {
                    XDS_STORED_QUERY_PARAM_NUMBER
                }
                _ => XDS_REGISTRY_ERROR,
            };
            registry_error(code, format!("{}: {}", v.rule, v.message), location)
        })
        .collect()
}

/// A single-quoted string with inner quotes doubled, and nothing around it.
fn unquote(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
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

/// A query code item: `code^^^scheme` (ITI TF-2 3.18.4.1.2.3.6) or `code^^scheme`.
fn parse_code(item: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = item.split('^').collect();
    match parts[..] {
        [code, "", scheme] | [code, "", "", scheme] if !code.is_empty() && !scheme.is_empty() => {
            Some((code.to_owned(), scheme.to_owned()))
        }
        _ => None,
    }
}

/// The `(code, scheme)` pairs of one code parameter slot, matched with OR.
type CodeGroup = Vec<(String, String)>;

/// Typed reads of an AdhocQuery's slots. Each read refuses a value that does not parse with
/// `XDSRegistryError` instead of guessing.
struct Params<'q> {
    q: &'q AdhocQueryRequest,
}

impl<'q> Params<'q> {
    fn slots(&self, name: &'q str) -> impl Iterator<Item = &'q QueryParam> {
        self.q.params.iter().filter(move |p| p.name == name)
    }

    fn values(&self, name: &'q str) -> Vec<&'q str> {
        self.slots(name)
            .flat_map(|p| p.values.iter().map(|v| v.trim()))
            .collect()
    }

    fn bad(name: &str, v: &str, what: &str) -> RegistryError {
        registry_error(
            XDS_REGISTRY_ERROR,
            format!("{name} value {} is not {what}", crate::evidence::quote(v)),
            name,
        )
    }

    /// A single-valued quoted string parameter.
    fn single(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.values(name)[..] {
            [] => Ok(None),
            [v] => unquote(v)
                .map(Some)
                .ok_or_else(|| Self::bad(name, v, "a quoted string")),
            _ => Err(registry_error(
                XDS_STORED_QUERY_PARAM_NUMBER,
                format!("{name} is single-valued"),
                name,
            )),
        }
    }

    fn required_single(&self, name: &'q str) -> Result<String, RegistryError> {
        self.single(name)?.ok_or_else(|| {
            registry_error(
                XDS_STORED_QUERY_MISSING_PARAM,
                format!("required parameter {name} is missing"),
                name,
            )
        })
    }

    /// A list parameter: the union of the `('a','b')` lists of every value of every slot.
    fn list(&self, name: &'q str) -> Result<Option<Vec<String>>, RegistryError> {
        let values = self.values(name);
        if values.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for v in values {
            out.extend(
                ebrim::parse_query_list(v).ok_or_else(|| Self::bad(name, v, "a ('…') list"))?,
            );
        }
        Ok(Some(out))
    }

    fn required_list(&self, name: &'q str) -> Result<Vec<String>, RegistryError> {
        self.list(name)?.ok_or_else(|| {
            registry_error(
                XDS_STORED_QUERY_MISSING_PARAM,
                format!("required parameter {name} is missing"),
                name,
            )
        })
    }

    /// A list parameter that this query reads as single-valued: exactly one item.
    fn one_of_list(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.list(name)? {
            None => Ok(None),
            Some(items) => match <[String; 1]>::try_from(items) {
                Ok([item]) => Ok(Some(item)),
                Err(items) => Err(registry_error(
                    XDS_STORED_QUERY_PARAM_NUMBER,
                    format!(
                        "{name} takes one value in this query, found {}",
                        items.len()
                    ),
                    name,
                )),
            },
        }
    }

    /// A code parameter: one group per slot (AND across slots), each an OR list of
    /// `(code, scheme)`.
    fn codes(&self, name: &'q str) -> Result<Option<Vec<CodeGroup>>, RegistryError> {
        let mut groups = Vec::new();
        for slot in self.slots(name) {
            let mut group = Vec::new();
            for v in &slot.values {
                let v = v.trim();
                let items =
                    ebrim::parse_query_list(v).ok_or_else(|| Self::bad(name, v, "a ('…') list"))?;
                for it in items {
                    group.push(
                        parse_code(&it).ok_or_else(|| Self::bad(name, &it, "code^^^scheme"))?,
                    );
                }
            }
            groups.push(group);
        }
        Ok((!groups.is_empty()).then_some(groups))
    }

    /// A DTM parameter, unquoted (a quoted one is read too: IPF's samples quote them).
    fn time(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.values(name)[..] {
            [] => Ok(None),
            [v] => {
                let t = unquote(v).unwrap_or_else(|| v.to_owned());
                if ebrim::is_dtm(&t) {
                    Ok(Some(t))
                } else {
                    Err(Self::bad(name, v, "a DTM timestamp"))
                }
            }
            _ => Err(registry_error(
                XDS_STORED_QUERY_PARAM_NUMBER,
                format!("{name} is single-valued"),
                name,
            )),
        }
    }
}

/// Which DocumentEntry filters a query takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryParams {
    /// FindDocuments / FindDocumentsByReferenceId: every filter, status required.
    Find,
    /// GetAll: status, formatCode, confidentialityCode, type.
    GetAll,
    /// GetSubmissionSetAndContents / GetFolderAndContents: formatCode, confidentialityCode,
    /// type.
    Contents,
}

/// Parsed DocumentEntry filters of a query.
#[derive(Debug, Default)]
struct EntryFilter {
    statuses: Option<Vec<String>>,
    codes: Vec<(&'static str, Vec<CodeGroup>)>,
    times: Vec<(&'static str, Option<String>, Option<String>)>,
    authors: Option<Vec<String>>,
    types: Option<Vec<String>>,
    reference_ids: Option<Vec<String>>,
}

const FIND_CODES: &[(&str, &str)] = &[
    ("$XDSDocumentEntryClassCode", DE_CLASS_CODE),
    ("$XDSDocumentEntryTypeCode", DE_TYPE_CODE),
    (
        "$XDSDocumentEntryPracticeSettingCode",
        DE_PRACTICE_SETTING_CODE,
    ),
    (
        "$XDSDocumentEntryHealthcareFacilityTypeCode",
        DE_HEALTHCARE_FACILITY_TYPE_CODE,
    ),
    ("$XDSDocumentEntryEventCodeList", DE_EVENT_CODE),
    (
        "$XDSDocumentEntryConfidentialityCode",
        DE_CONFIDENTIALITY_CODE,
    ),
    ("$XDSDocumentEntryFormatCode", DE_FORMAT_CODE),
];

const CONTENT_CODES: &[(&str, &str)] = &[
    (
        "$XDSDocumentEntryConfidentialityCode",
        DE_CONFIDENTIALITY_CODE,
    ),
    ("$XDSDocumentEntryFormatCode", DE_FORMAT_CODE),
];

const FIND_TIMES: &[(&str, &str, &str)] = &[
    (
        "creationTime",
        "$XDSDocumentEntryCreationTimeFrom",
        "$XDSDocumentEntryCreationTimeTo",
    ),
    (
        "serviceStartTime",
        "$XDSDocumentEntryServiceStartTimeFrom",
        "$XDSDocumentEntryServiceStartTimeTo",
    ),
    (
        "serviceStopTime",
        "$XDSDocumentEntryServiceStopTimeFrom",
        "$XDSDocumentEntryServiceStopTimeTo",
    ),
];

impl EntryFilter {
    fn parse(p: &Params<'_>, which: EntryParams) -> Result<EntryFilter, RegistryError> {
        let mut f = EntryFilter::default();
        if which != EntryParams::Contents {
            f.statuses = p.list("$XDSDocumentEntryStatus")?;
        }
        let codes = if which == EntryParams::Find {
            FIND_CODES
        } else {
            CONTENT_CODES
        };
        for (param, scheme) in codes {
            if let Some(groups) = p.codes(param)? {
                f.codes.push((scheme, groups));
            }
        }
        if which == EntryParams::Find {
            for (slot, from, to) in FIND_TIMES {
                let (from, to) = (p.time(from)?, p.time(to)?);
                if from.is_some() || to.is_some() {
                    f.times.push((slot, from, to));
                }
            }
            f.authors = p.list("$XDSDocumentEntryAuthorPerson")?;
        }
        f.types = p.list("$XDSDocumentEntryType")?;
        Ok(f)
    }

    fn matches(&self, o: &RegistryObject) -> bool {
        status_matches(o.status.as_deref(), self.statuses.as_deref())
            && self
                .codes
                .iter()
                .all(|(scheme, groups)| groups.iter().all(|g| code_in(o, scheme, g)))
            && self.times.iter().all(|(slot, from, to)| {
                let value = o.slot_value(slot);
                // An absent serviceStartTime/serviceStopTime takes no part in the match (ITI TF-2
                // 3.18.4.1.2.3.3.1), nor the creation time of an On-Demand entry (3.18.4.1.2.3.7.1
                // note 6).
                let ignored = if *slot == "creationTime" {
                    o.object_type
                        .as_deref()
                        .is_some_and(|t| ebrim::same_uri(t, ebrim::DOC_ENTRY_ON_DEMAND))
                } else {
                    value.is_none()
                };
                ignored || time_matches(value, from, to)
            })
            && self
                .authors
                .as_ref()
                .is_none_or(|a| author_matches(o, ebrim::DE_AUTHOR, a))
            && self.types.as_ref().is_none_or(|t| {
                o.object_type
                    .as_deref()
                    .is_some_and(|ot| t.iter().any(|x| ebrim::same_uri(ot, x)))
            })
            && self.reference_ids.as_ref().is_none_or(|wanted| {
                o.slots
                    .iter()
                    .filter(|s| s.name == SLOT_REFERENCE_ID_LIST)
                    .flat_map(|s| s.values.iter())
                    .any(|v| wanted.iter().any(|w| w == v.trim()))
            })
    }
}

fn status_matches(status: Option<&str>, wanted: Option<&[String]>) -> bool {
    wanted.is_none_or(|w| status.is_some_and(|s| w.iter().any(|x| x == s)))
}

/// True when one of `o`'s classifications under `scheme` carries one of the `(code, scheme)`s.
fn code_in(o: &RegistryObject, scheme: &str, group: &[(String, String)]) -> bool {
    o.classified(scheme).any(|c| {
        let code = c.code();
        group
            .iter()
            .any(|(v, s)| code.code == *v && code.scheme.as_deref() == Some(s.as_str()))
    })
}

/// DTM comparison on the common prefix: `2005` equals `20051224`, precedes `2006`.
fn dtm_cmp(a: &str, b: &str) -> Ordering {
    let n = a.len().min(b.len());
    a.bytes().take(n).cmp(b.bytes().take(n))
}

/// `from` inclusive, `to` exclusive (ITI TF-2 3.18.4.1.2.3.7.1); no value, no match on a bound.
fn time_matches(value: Option<String>, from: &Option<String>, to: &Option<String>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(v) = value else { return false };
    from.as_deref()
        .is_none_or(|f| dtm_cmp(&v, f) != Ordering::Less)
        && to
            .as_deref()
            .is_none_or(|t| dtm_cmp(&v, t) == Ordering::Less)
}

/// SQL LIKE as ITI-18 uses it for author names: `%` any run, `_` one character.
fn like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // reach[j]: the pattern prefix read so far matches v[..j].
    let mut reach = vec![false; v.len() + 1];
    reach[0] = true;
    for c in p {
        let mut next = vec![false; v.len() + 1];
        match c {
            '%' => {
                let mut any = false;
                for (j, r) in reach.iter().enumerate() {
                    any |= *r;
                    next[j] = any;
                }
            }
            _ => {
                for j in 0..v.len() {
                    if reach[j] && (c == '_' || v[j] == c) {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[v.len()]
}

fn author_matches(o: &RegistryObject, scheme: &str, patterns: &[String]) -> bool {
    o.classified(scheme).any(|c| {
        c.slots
            .iter()
            .filter(|s| s.name == "authorPerson")
            .flat_map(|s| s.values.iter())
            .any(|person| patterns.iter().any(|p| like(p, person.trim())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ebrim::{parse_message_bytes, quote, quote_list, Message, ERROR_CODES};

    const PID: &str = "PID-1^^^&1.2.3.4&ISO";
    const PID2: &str = "PID-2^^^&1.2.3.4&ISO";
    const REPO: &str = "1.3.6.1.4.1.21367.13.40.1";
    const FORMAT_SCHEME: &str = "1.2.840.10008.2.6.1";

    struct Doc<'a> {
        id: &'a str,
        unique_id: &'a str,
        patient: &'a str,
        format: &'a str,
        events: &'a [&'a str],
        creation: &'a str,
        hash: Option<&'a str>,
        extra_slots: &'a str,
        service_start: Option<&'a str>,
    }

    fn doc<'a>(id: &'a str, unique_id: &'a str) -> Doc<'a> {
        Doc {
            id,
            unique_id,
            patient: PID,
            format: ebrim::KOS_FORMAT_CODE,
            events: &["CT"],
            creation: "20240315101500",
            hash: None,
            extra_slots: "",
            service_start: Some("20240315100000"),
        }
    }

    fn esc(v: &str) -> String {
        v.replace('&', "&amp;")
    }

    fn slot(name: &str, value: &str) -> String {
        let value = esc(value);
        format!(
            r#"<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>"#
        )
    }

    fn coded(id: &str, obj: &str, scheme: &str, code: &str, coding: &str) -> String {
        format!(
            r#"<rim:Classification id="{id}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="{code}">{}<rim:Name><rim:LocalizedString value="{code}"/></rim:Name></rim:Classification>"#,
            slot("codingScheme", coding)
        )
    }

    fn ext(id: &str, obj: &str, scheme: &str, value: &str, name: &str) -> String {
        let value = esc(value);
        format!(
            r#"<rim:ExternalIdentifier id="{id}" identificationScheme="{scheme}" registryObject="{obj}" value="{value}"><rim:Name><rim:LocalizedString value="{name}"/></rim:Name></rim:ExternalIdentifier>"#
        )
    }

    fn extrinsic(d: &Doc<'_>) -> String {
        let id = d.id;
        let mut x = format!(
            r#"<rim:ExtrinsicObject id="{id}" mimeType="application/dicom" objectType="{}">"#,
            ebrim::DOC_ENTRY_STABLE
        );
        x += &slot("creationTime", d.creation);
        x += &slot("languageCode", "en-US");
        if let Some(t) = d.service_start {
            x += &slot("serviceStartTime", t);
        }
        x += &slot("serviceStopTime", "20240315103000");
        x += &slot("sourcePatientId", "L-77^^^&1.2.3.99&ISO");
        if let Some(h) = d.hash {
            x += &slot("hash", h);
        }
        x += d.extra_slots;
        x += r#"<rim:Name><rim:LocalizedString value="CT chest"/></rim:Name>"#;
        x += &format!(
            r#"<rim:Classification id="{id}-au" classificationScheme="{}" classifiedObject="{id}" nodeRepresentation="">{}</rim:Classification>"#,
            ebrim::DE_AUTHOR,
            slot("authorPerson", "^Welby^Marcus^^^")
        );
        x += &coded(
            &format!("{id}-cl"),
            id,
            DE_CLASS_CODE,
            "IMAGES",
            "1.3.6.1.4.1.19376.1.2.6.1",
        );
        x += &coded(
            &format!("{id}-cf"),
            id,
            DE_CONFIDENTIALITY_CODE,
            "N",
            "2.16.840.1.113883.5.25",
        );
        for (i, e) in d.events.iter().enumerate() {
            x += &coded(
                &format!("{id}-ev{i}"),
                id,
                DE_EVENT_CODE,
                e,
                "1.2.840.10008.2.16.4",
            );
        }
        x += &coded(
            &format!("{id}-fc"),
            id,
            DE_FORMAT_CODE,
            d.format,
            FORMAT_SCHEME,
        );
        x += &coded(
            &format!("{id}-hf"),
            id,
            DE_HEALTHCARE_FACILITY_TYPE_CODE,
            "22232009",
            "2.16.840.1.113883.6.96",
        );
        x += &coded(
            &format!("{id}-ps"),
            id,
            DE_PRACTICE_SETTING_CODE,
            "Radiology",
            "1.3.6.1.4.1.21367.2017.3",
        );
        x += &coded(
            &format!("{id}-ty"),
            id,
            DE_TYPE_CODE,
            "18748-4",
            "2.16.840.1.113883.6.1",
        );
        x += &ext(
            &format!("{id}-pid"),
            id,
            DE_PATIENT_ID,
            d.patient,
            ebrim::NAME_DE_PATIENT_ID,
        );
        x += &ext(
            &format!("{id}-uid"),
            id,
            DE_UNIQUE_ID,
            d.unique_id,
            ebrim::NAME_DE_UNIQUE_ID,
        );
        x + "</rim:ExtrinsicObject>"
    }

    fn submission_xml(docs: &[Doc<'_>], ss_uid: &str, ss_patient: &str) -> String {
        let mut x = format!(
            r#"<lcm:SubmitObjectsRequest xmlns:lcm="{}" xmlns:rim="{}"><rim:RegistryObjectList>"#,
            ebrim::NS_LCM,
            ebrim::NS_RIM
        );
        for d in docs {
            x += &extrinsic(d);
        }
        x += r#"<rim:RegistryPackage id="SS">"#;
        x += &slot("submissionTime", "20240315120000");
        x += &coded(
            "SS-ct",
            "SS",
            SS_CONTENT_TYPE_CODE,
            "IMAGES",
            "1.3.6.1.4.1.19376.1.2.6.1",
        );
        x += &ext(
            "SS-uid",
            "SS",
            SS_UNIQUE_ID,
            ss_uid,
            ebrim::NAME_SS_UNIQUE_ID,
        );
        x += &ext(
            "SS-src",
            "SS",
            SS_SOURCE_ID,
            "1.3.6.1.4.1.21367.13.80",
            ebrim::NAME_SS_SOURCE_ID,
        );
        x += &ext(
            "SS-pid",
            "SS",
            SS_PATIENT_ID,
            ss_patient,
            ebrim::NAME_SS_PATIENT_ID,
        );
        x += "</rim:RegistryPackage>";
        x += &format!(
            r#"<rim:Classification id="SS-node" classifiedObject="SS" classificationNode="{SUBMISSION_SET_NODE}"/>"#
        );
        for d in docs {
            x += &format!(
                r#"<rim:Association id="as-{0}" associationType="{ASSOC_HAS_MEMBER}" sourceObject="SS" targetObject="{0}">{1}</rim:Association>"#,
                d.id,
                slot("SubmissionSetStatus", "Original")
            );
        }
        x + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    }

    fn parse_submit(xml: &str) -> SubmitObjectsRequest {
        match parse_message_bytes(xml.as_bytes()).expect("parses") {
            Message::SubmitObjects(s) => s,
            Message::ProvideAndRegister(p) => p.submit,
            other => panic!("not a submission: {other:?}"),
        }
    }

    fn submission(docs: &[Doc<'_>], ss_uid: &str) -> SubmitObjectsRequest {
        parse_submit(&submission_xml(docs, ss_uid, PID))
    }

    fn bytes_for(docs: &[Doc<'_>]) -> Vec<(String, Vec<u8>)> {
        docs.iter()
            .map(|d| {
                (
                    d.id.to_owned(),
                    format!("bytes of {}", d.unique_id).into_bytes(),
                )
            })
            .collect()
    }

    fn registry() -> Registry {
        Registry::new([PID.to_owned(), PID2.to_owned()])
    }

    fn register(r: &mut Registry, docs: &[Doc<'_>], ss_uid: &str) -> Vec<String> {
        r.register(&submission(docs, ss_uid), Some(REPO), &bytes_for(docs))
            .expect("registers")
    }

    fn codes(e: &[RegistryError]) -> Vec<&str> {
        e.iter().filter_map(|e| e.error_code.as_deref()).collect()
    }

    fn response_codes(r: &AdhocQueryResponse) -> Vec<&str> {
        codes(&r.response.errors)
    }

    fn uids(r: &AdhocQueryResponse) -> Vec<String> {
        r.objects
            .extrinsic_objects
            .iter()
            .filter_map(|o| o.identifier(DE_UNIQUE_ID))
            .collect()
    }

    fn find(patient: &str) -> AdhocQueryRequest {
        AdhocQueryRequest::find_documents(patient, &[STATUS_APPROVED], &[], "LeafClass")
    }

    fn with(mut q: AdhocQueryRequest, name: &str, value: &str) -> AdhocQueryRequest {
        q.params.push(QueryParam {
            name: name.to_owned(),
            values: vec![value.to_owned()],
        });
        q
    }

    fn assert_success(r: &AdhocQueryResponse) {
        assert_eq!(
            r.response.status.as_deref(),
            Some(RESPONSE_SUCCESS),
            "{r:?}"
        );
        assert!(!r.response.has_error_list && r.response.errors.is_empty());
        assert!(r.has_object_list);
        assert!(xds_rules::validate_query_response(r, None)
            .iter()
            .all(|v| v.level != Level::Shall));
    }

    fn assert_failure(r: &AdhocQueryResponse, code: &str) {
        assert_eq!(
            r.response.status.as_deref(),
            Some(RESPONSE_FAILURE),
            "{r:?}"
        );
        assert!(response_codes(r).contains(&code), "{:?}", r.response.errors);
        for e in &r.response.errors {
            assert_eq!(e.severity.as_deref(), Some(SEVERITY_ERROR));
            assert!(e.code_context.as_deref().is_some_and(|c| !c.is_empty()));
            assert!(e.location.is_some());
        }
        assert!(xds_rules::validate_query_response(r, None)
            .iter()
            .all(|v| v.level != Level::Shall));
    }

    #[test]
    fn every_code_used_is_in_the_table() {
        for c in [
            XDS_MISSING_DOCUMENT,
            XDS_MISSING_DOCUMENT_METADATA,
            XDS_REGISTRY_ERROR,
            XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
            XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
            XDS_NON_IDENTICAL_HASH,
            XDS_NON_IDENTICAL_SIZE,
            XDS_REGISTRY_METADATA_ERROR,
            XDS_REPOSITORY_METADATA_ERROR,
            XDS_UNKNOWN_PATIENT_ID,
            XDS_PATIENT_ID_DOES_NOT_MATCH,
            XDS_UNKNOWN_STORED_QUERY,
            XDS_STORED_QUERY_MISSING_PARAM,
            XDS_STORED_QUERY_PARAM_NUMBER,
            XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
            XDS_RESULT_NOT_SINGLE_PATIENT,
            UNRESOLVED_REFERENCE_EXCEPTION,
        ] {
            assert!(ERROR_CODES.contains(&c), "{c}");
        }
    }

    #[test]
    fn the_test_submission_is_valid_metadata() {
        let s = submission(&[doc("Doc1", "1.2.3.1")], "1.2.3.100");
        let v = xds_rules::validate_submission(
            &s,
            None,
            xds_rules::SubmissionKind::MetadataOnly { imaging: true },
        );
        assert!(!xds_rules::has_errors(&v), "{v:?}");
    }

    #[test]
    fn registration_assigns_uuids_status_and_repository_slots() {
        let mut r = registry();
        let d = doc("Doc1", "1.2.3.1");
        let assigned = register(&mut r, &[d], "1.2.3.100");
        // One ExtrinsicObject, one RegistryPackage, one Association.
        assert_eq!(assigned.len(), 3);
        assert!(assigned.iter().all(|u| is_uuid_urn(u)), "{assigned:?}");
        assert!(
            assigned.iter().all(|u| u.as_bytes()[23] == b'4'),
            "version 4: {assigned:?}"
        );
        let e = r.find_by_unique_id("1.2.3.1").expect("registered");
        assert_eq!(e.id.as_deref(), Some(assigned[0].as_str()));
        assert_eq!(e.lid, e.id);
        assert_eq!(e.status.as_deref(), Some(STATUS_APPROVED));
        for c in &e.classifications {
            assert!(c.id.as_deref().is_some_and(is_uuid_urn));
            assert_eq!(c.classified_object, e.id);
        }
        for x in &e.external_identifiers {
            assert!(x.id.as_deref().is_some_and(is_uuid_urn));
            assert_eq!(x.registry_object, e.id);
        }
        let bytes = b"bytes of 1.2.3.1";
        assert_eq!(
            e.slot_value("hash"),
            Some(crate::model::ebrim::document_hash(bytes))
        );
        assert_eq!(
            crate::model::ebrim::document_hash(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(e.slot_value("size"), Some(bytes.len().to_string()));
        assert_eq!(r.repository_unique_id("1.2.3.1").as_deref(), Some(REPO));
        let ss = r.submission_sets().next().expect("submission set");
        assert_eq!(ss.id.as_deref(), Some(assigned[1].as_str()));
        assert_eq!(ss.status.as_deref(), Some(STATUS_APPROVED));
        // The top-level SubmissionSet classification is nested into the package.
        assert!(is_submission_set(ss));
        let a = &r.associations()[0];
        assert_eq!(a.id.as_deref(), Some(assigned[2].as_str()));
        assert_eq!(a.source_object, ss.id);
        assert_eq!(a.target_object, e.id);
        assert_eq!(a.status.as_deref(), Some(STATUS_APPROVED));
        // What the registry answers is itself valid query-response metadata.
        let resp = r.query(&find(PID));
        assert_success(&resp);
        let v = xds_rules::validate_query_response(&resp, Some("LeafClass"));
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn generated_uuids_are_deterministic_and_distinct() {
        let mut a = registry();
        let mut b = registry();
        let d = [doc("Doc1", "1.2.3.1")];
        assert_eq!(
            register(&mut a, &d, "1.2.3.100"),
            register(&mut b, &d, "1.2.3.100")
        );
        let all: HashSet<String> = (1..10_000).map(uuid_urn).collect();
        assert_eq!(all.len(), 9_999);
    }

    #[test]
    fn nist_and_ipf_samples_register() {
        let nist = parse_submit(include_str!("../../../fixtures/corpus/xds/nist-pnr.xml"));
        let pid = "53ff11cb404344e^^^&1.3.6.1.4.1.21367.2005.3.7&ISO";
        let mut r = Registry::new([pid.to_owned()]);
        let docs = vec![
            ("Document01".to_owned(), b"one".to_vec()),
            ("Document02".to_owned(), b"two".to_vec()),
        ];
        let ids = r
            .register(&nist, Some(REPO), &docs)
            .expect("NIST sample registers");
        assert_eq!(ids.len(), 5);
        let resp = r.query(&find(pid));
        assert_success(&resp);
        assert_eq!(resp.objects.extrinsic_objects.len(), 2);

        let idc = parse_submit(include_str!(
            "../../../fixtures/corpus/xds/nist-idc_init-metadata-IDCDEPT034-a.xml"
        ));
        let pid = "IDCAD034-a^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO";
        r.add_patient(pid);
        r.register(
            &idc,
            Some(REPO),
            &[("Document01".to_owned(), b"kos".to_vec())],
        )
        .expect("NIST XDS-I.b sample registers");
        let q = AdhocQueryRequest::find_documents(
            pid,
            &[STATUS_APPROVED],
            &[(ebrim::KOS_FORMAT_CODE, ebrim::KOS_FORMAT_CODING_SCHEME)],
            "ObjectRef",
        );
        let resp = r.query(&q);
        assert_success(&resp);
        assert_eq!(resp.objects.object_refs.len(), 1);

        // IPF's sample has an IsSnapshotOf to an entry this registry does not hold.
        let ipf = parse_submit(include_str!(
            "../../../fixtures/corpus/xds/ipf-SubmitObjectsRequest_ebrs30.xml"
        ));
        let mut r = Registry::new([ipf
            .objects
            .submission_set()
            .and_then(|s| s.patient_id)
            .unwrap_or_default()]);
        let err = r
            .register(
                &ipf,
                Some(REPO),
                &[("Document01".to_owned(), b"x".to_vec())],
            )
            .expect_err("unresolved IsSnapshotOf target");
        assert!(
            codes(&err).contains(&UNRESOLVED_REFERENCE_EXCEPTION),
            "{err:?}"
        );
    }

    #[test]
    fn find_documents_by_patient() {
        let mut r = registry();
        register(
            &mut r,
            &[doc("Doc1", "1.2.3.1"), doc("Doc2", "1.2.3.2")],
            "1.2.3.100",
        );
        let resp = r.query(&find(PID));
        assert_success(&resp);
        assert_eq!(uids(&resp), ["1.2.3.1", "1.2.3.2"]);
        // Another known patient: nothing.
        let resp = r.query(&find(PID2));
        assert_success(&resp);
        assert!(resp.objects.extrinsic_objects.is_empty());
        // An unknown patient: Success and an empty list (the documented choice).
        let resp = r.query(&find("nobody^^^&1.2.3.4&ISO"));
        assert_success(&resp);
        assert!(resp.objects.extrinsic_objects.is_empty());
        // Deprecated is not Approved.
        let q = AdhocQueryRequest::find_documents(PID, &[STATUS_DEPRECATED], &[], "LeafClass");
        assert!(r.query(&q).objects.extrinsic_objects.is_empty());
    }

    #[test]
    fn find_documents_by_format_code() {
        let mut r = registry();
        let mut cda = doc("Doc2", "1.2.3.2");
        cda.format = "urn:ihe:rad:TEXT";
        register(&mut r, &[doc("Doc1", "1.2.3.1"), cda], "1.2.3.100");
        for (sep, scheme) in [("^^^", FORMAT_SCHEME), ("^^", FORMAT_SCHEME)] {
            let q = with(
                find(PID),
                "$XDSDocumentEntryFormatCode",
                &quote_list(&[format!("{}{sep}{scheme}", ebrim::KOS_FORMAT_CODE)]),
            );
            let resp = r.query(&q);
            assert_success(&resp);
            assert_eq!(uids(&resp), ["1.2.3.1"]);
        }
        // Right code, wrong scheme: no match.
        let q = with(
            find(PID),
            "$XDSDocumentEntryFormatCode",
            &quote_list(&[format!("{}^^^1.2.3", ebrim::KOS_FORMAT_CODE)]),
        );
        assert!(uids(&r.query(&q)).is_empty());
        // OR within a slot.
        let q = with(
            find(PID),
            "$XDSDocumentEntryFormatCode",
            &quote_list(&[
                format!("{}^^^{FORMAT_SCHEME}", ebrim::KOS_FORMAT_CODE),
                format!("urn:ihe:rad:TEXT^^^{FORMAT_SCHEME}"),
            ]),
        );
        assert_eq!(uids(&r.query(&q)), ["1.2.3.1", "1.2.3.2"]);
        // A code without a scheme does not parse.
        let q = with(find(PID), "$XDSDocumentEntryFormatCode", "('1.2.3')");
        assert_failure(&r.query(&q), XDS_REGISTRY_ERROR);
    }

    #[test]
    fn find_documents_by_event_code_and_or() {
        let mut r = registry();
        let mut d1 = doc("Doc1", "1.2.3.1");
        d1.events = &["CT", "T-D3000"];
        let mut d2 = doc("Doc2", "1.2.3.2");
        d2.events = &["MR"];
        register(&mut r, &[d1, d2], "1.2.3.100");
        let ev = |c: &str| format!("{c}^^^1.2.840.10008.2.16.4");
        let q = with(
            find(PID),
            "$XDSDocumentEntryEventCodeList",
            &quote_list(&[ev("MR")]),
        );
        assert_eq!(uids(&r.query(&q)), ["1.2.3.2"]);
        // OR in one slot.
        let q = with(
            find(PID),
            "$XDSDocumentEntryEventCodeList",
            &quote_list(&[ev("MR"), ev("CT")]),
        );
        assert_eq!(uids(&r.query(&q)), ["1.2.3.1", "1.2.3.2"]);
        // AND across slots.
        let q = with(
            with(
                find(PID),
                "$XDSDocumentEntryEventCodeList",
                &quote_list(&[ev("CT")]),
            ),
            "$XDSDocumentEntryEventCodeList",
            &quote_list(&[ev("T-D3000"), ev("MR")]),
        );
        assert_eq!(uids(&r.query(&q)), ["1.2.3.1"]);
        let q = with(
            with(
                find(PID),
                "$XDSDocumentEntryEventCodeList",
                &quote_list(&[ev("CT")]),
            ),
            "$XDSDocumentEntryEventCodeList",
            &quote_list(&[ev("MR")]),
        );
        assert!(uids(&r.query(&q)).is_empty());
    }

    #[test]
    fn find_documents_by_creation_time() {
        let mut r = registry();
        let mut d1 = doc("Doc1", "1.2.3.1");
        d1.creation = "20240315101500";
        let mut d2 = doc("Doc2", "1.2.3.2");
        d2.creation = "20230101";
        register(&mut r, &[d1, d2], "1.2.3.100");
        let range = |from: Option<&str>, to: Option<&str>| {
            let mut q = find(PID);
            if let Some(f) = from {
                q = with(q, "$XDSDocumentEntryCreationTimeFrom", f);
            }
            if let Some(t) = to {
                q = with(q, "$XDSDocumentEntryCreationTimeTo", t);
            }
            uids(&r.query(&q))
        };
        assert_eq!(range(Some("2024"), None), ["1.2.3.1"]);
        assert_eq!(range(None, Some("2024")), ["1.2.3.2"]);
        // From inclusive, To exclusive, on the common prefix.
        assert_eq!(range(Some("20240315101500"), None), ["1.2.3.1"]);
        assert!(range(None, Some("20240315101500")).contains(&"1.2.3.2".to_owned()));
        assert!(!range(None, Some("20240315101500")).contains(&"1.2.3.1".to_owned()));
        assert_eq!(range(Some("20230101120000"), Some("20230102")), ["1.2.3.2"]);
        assert!(range(Some("20240316"), None).is_empty());
        // Quoted timestamps (IPF writes them) are read; a non-DTM is refused.
        assert_eq!(range(Some("'2024'"), None), ["1.2.3.1"]);
        let q = with(find(PID), "$XDSDocumentEntryCreationTimeFrom", "2024-03-15");
        assert_failure(&r.query(&q), XDS_REGISTRY_ERROR);
    }

    /// An entry without serviceStartTime is not judged on the parameters about it (ITI TF-2
    /// 3.18.4.1.2.3.3.1): it matches a service time range, where one outside the range does not.
    #[test]
    fn an_absent_service_time_takes_no_part_in_the_match() {
        let mut r = registry();
        let mut d1 = doc("Doc1", "1.2.3.1");
        d1.service_start = Some("20230101");
        let mut d2 = doc("Doc2", "1.2.3.2");
        d2.service_start = None;
        register(&mut r, &[d1, d2], "1.2.3.100");
        let q = with(find(PID), "$XDSDocumentEntryServiceStartTimeFrom", "2024");
        assert_eq!(uids(&r.query(&q)), ["1.2.3.2"]);
        let q = with(find(PID), "$XDSDocumentEntryServiceStartTimeTo", "2024");
        assert_eq!(uids(&r.query(&q)).len(), 2);
    }

    #[test]
    fn find_documents_by_author_and_reference_id() {
        let mut r = registry();
        let study = "1.2.840.99.1^^^^urn:ihe:iti:xds:2016:studyInstanceUID";
        let extra = slot(SLOT_REFERENCE_ID_LIST, study);
        let mut d1 = doc("Doc1", "1.2.3.1");
        d1.extra_slots = &extra;
        register(&mut r, &[d1, doc("Doc2", "1.2.3.2")], "1.2.3.100");
        let q = with(find(PID), "$XDSDocumentEntryAuthorPerson", "('%Welby%')");
        assert_eq!(uids(&r.query(&q)).len(), 2);
        let q = with(find(PID), "$XDSDocumentEntryAuthorPerson", "('^Kildare%')");
        assert!(uids(&r.query(&q)).is_empty());
        let mut q = with(
            find(PID),
            "$XDSDocumentEntryReferenceIdList",
            &quote_list(&[study]),
        );
        q.query_id = Some(SQ_FIND_DOCUMENTS_BY_REFERENCE_ID.to_owned());
        assert_eq!(uids(&r.query(&q)), ["1.2.3.1"]);
        assert!(like("a%c_e", "abbbcde") && like("%", "") && !like("a_", "a"));
    }

    #[test]
    fn get_documents_by_unique_id_and_uuid_leaf_class_and_object_ref() {
        let mut r = registry();
        let assigned = register(
            &mut r,
            &[doc("Doc1", "1.2.3.1"), doc("Doc2", "1.2.3.2")],
            "1.2.3.100",
        );
        let resp = r.query(&AdhocQueryRequest::get_documents_by_unique_id(
            &["1.2.3.2"],
            "LeafClass",
        ));
        assert_success(&resp);
        assert_eq!(uids(&resp), ["1.2.3.2"]);
        assert!(resp.objects.object_refs.is_empty());
        let resp = r.query(&AdhocQueryRequest::get_documents_by_uuid(
            &[&assigned[0]],
            "LeafClass",
        ));
        assert_eq!(uids(&resp), ["1.2.3.1"]);
        let resp = r.query(&AdhocQueryRequest::get_documents_by_uuid(
            &[&assigned[0], &assigned[1]],
            "ObjectRef",
        ));
        assert_success(&resp);
        assert!(resp.objects.extrinsic_objects.is_empty());
        let refs: Vec<_> = resp
            .objects
            .object_refs
            .iter()
            .filter_map(|o| o.id.clone())
            .collect();
        assert_eq!(refs, [assigned[0].clone(), assigned[1].clone()]);
        assert!(xds_rules::validate_query_response(&resp, Some("ObjectRef")).is_empty());
        // Unknown ids: an empty Success.
        let resp = r.query(&AdhocQueryRequest::get_documents_by_unique_id(
            &["9.9"],
            "LeafClass",
        ));
        assert_success(&resp);
        assert!(uids(&resp).is_empty());
    }

    #[test]
    fn associations_and_submission_set_queries() {
        let mut r = registry();
        let assigned = register(&mut r, &[doc("Doc1", "1.2.3.1")], "1.2.3.100");
        let (de, ss, assoc) = (&assigned[0], &assigned[1], &assigned[2]);
        let q = |id: &str, params: &[(&str, String)], rt: &str| AdhocQueryRequest {
            return_type: Some(rt.to_owned()),
            return_composed_objects: Some("true".to_owned()),
            query_id: Some(id.to_owned()),
            home: None,
            params: params
                .iter()
                .map(|(n, v)| QueryParam {
                    name: (*n).to_owned(),
                    values: vec![v.clone()],
                })
                .collect(),
        };
        let resp = r.query(&q(
            SQ_GET_ASSOCIATIONS,
            &[("$uuid", quote_list(&[de]))],
            "LeafClass",
        ));
        assert_success(&resp);
        assert_eq!(resp.objects.associations.len(), 1);
        let resp = r.query(&q(
            SQ_GET_DOCUMENTS_AND_ASSOCIATIONS,
            &[("$XDSDocumentEntryUniqueId", quote_list(&["1.2.3.1"]))],
            "LeafClass",
        ));
        assert_eq!(resp.objects.extrinsic_objects.len(), 1);
        assert_eq!(
            resp.objects.associations[0].id.as_deref(),
            Some(assoc.as_str())
        );
        let resp = r.query(&q(
            SQ_GET_SUBMISSION_SETS,
            &[("$uuid", quote_list(&[de]))],
            "LeafClass",
        ));
        assert_eq!(
            resp.objects.registry_packages[0].id.as_deref(),
            Some(ss.as_str())
        );
        assert_eq!(resp.objects.associations.len(), 1);
        for param in [
            ("$XDSSubmissionSetEntryUUID", quote(ss)),
            ("$XDSSubmissionSetUniqueId", quote("1.2.3.100")),
        ] {
            let resp = r.query(&q(
                SQ_GET_SUBMISSION_SET_AND_CONTENTS,
                &[param],
                "ObjectRef",
            ));
            assert_success(&resp);
            let refs: HashSet<_> = resp
                .objects
                .object_refs
                .iter()
                .filter_map(|o| o.id.clone())
                .collect();
            assert_eq!(refs, assigned.iter().cloned().collect::<HashSet<_>>());
        }
        let all = q(
            SQ_GET_ALL,
            &[
                ("$patientId", quote(PID)),
                ("$XDSDocumentEntryStatus", quote_list(&[STATUS_APPROVED])),
                ("$XDSSubmissionSetStatus", quote_list(&[STATUS_APPROVED])),
                ("$XDSFolderStatus", quote_list(&[STATUS_APPROVED])),
            ],
            "LeafClass",
        );
        let resp = r.query(&all);
        assert_success(&resp);
        assert_eq!(
            (
                resp.objects.extrinsic_objects.len(),
                resp.objects.registry_packages.len(),
                resp.objects.associations.len()
            ),
            (1, 1, 1)
        );
        let find_ss = q(
            SQ_FIND_SUBMISSION_SETS,
            &[
                ("$XDSSubmissionSetPatientId", quote(PID)),
                ("$XDSSubmissionSetStatus", quote_list(&[STATUS_APPROVED])),
            ],
            "ObjectRef",
        );
        assert_eq!(r.query(&find_ss).objects.object_refs.len(), 1);
    }

    #[test]
    fn replacement_deprecates_the_original() {
        let mut r = registry();
        let assigned = register(&mut r, &[doc("Doc1", "1.2.3.1")], "1.2.3.100");
        let mut xml = submission_xml(&[doc("Doc2", "1.2.3.2")], "1.2.3.101", PID);
        xml = xml.replace(
            "</rim:RegistryObjectList>",
            &format!(
                r#"<rim:Association id="rplc" associationType="{ASSOC_RPLC}" sourceObject="Doc2" targetObject="{}"/></rim:RegistryObjectList>"#,
                assigned[0]
            ),
        );
        let s = parse_submit(&xml);
        let docs = [("Doc2".to_owned(), b"v2".to_vec())];
        r.register(&s, Some(REPO), &docs)
            .expect("replacement registers");
        assert_eq!(
            r.find_by_unique_id("1.2.3.1")
                .and_then(|o| o.status.clone())
                .as_deref(),
            Some(STATUS_DEPRECATED)
        );
        assert_eq!(uids(&r.query(&find(PID))), ["1.2.3.2"]);
        // Replacing the deprecated entry again is refused.
        let xml2 = xml
            .replace("1.2.3.101", "1.2.3.102")
            .replace("1.2.3.2", "1.2.3.3");
        let err = r
            .register(&parse_submit(&xml2), Some(REPO), &docs)
            .expect_err("deprecated target");
        assert!(
            codes(&err).contains(&XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR),
            "{err:?}"
        );
    }

    #[test]
    fn query_error_paths() {
        let mut r = registry();
        register(&mut r, &[doc("Doc1", "1.2.3.1")], "1.2.3.100");
        // Unknown stored query id.
        let mut q = find(PID);
        q.query_id = Some("urn:uuid:00000000-0000-4000-8000-000000000000".to_owned());
        assert_failure(&r.query(&q), XDS_UNKNOWN_STORED_QUERY);
        // A known id this registry does not serve (ITI-51).
        let mut q = find(PID);
        q.query_id = Some(ebrim::SQ_FIND_DOCUMENTS_MPQ.to_owned());
        assert_failure(&r.query(&q), XDS_UNKNOWN_STORED_QUERY);
        // Missing patient id.
        let mut q = find(PID);
        q.params.retain(|p| p.name != "$XDSDocumentEntryPatientId");
        assert_failure(&r.query(&q), XDS_STORED_QUERY_MISSING_PARAM);
        // Both UniqueId and EntryUUID.
        let q = with(
            AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3.1"], "LeafClass"),
            "$XDSDocumentEntryEntryUUID",
            "('urn:uuid:00000000-0000-4000-8000-000000000000')",
        );
        assert_failure(&r.query(&q), XDS_STORED_QUERY_PARAM_NUMBER);
        // Neither.
        let mut q = AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3.1"], "LeafClass");
        q.params.clear();
        assert_failure(&r.query(&q), XDS_STORED_QUERY_MISSING_PARAM);
        // Single-valued parameter with two values; repeated slot.
        let mut q = find(PID);
        q.params[0].values.push(quote(PID2));
        assert_failure(&r.query(&q), XDS_STORED_QUERY_PARAM_NUMBER);
        let q = with(find(PID), "$XDSDocumentEntryPatientId", &quote(PID));
        assert_failure(&r.query(&q), XDS_STORED_QUERY_PARAM_NUMBER);
        // A patient id with trailing text (IPF's injection sample) is not read leniently.
        let q = AdhocQueryRequest {
            params: vec![
                QueryParam {
                    name: "$XDSDocumentEntryPatientId".to_owned(),
                    values: vec![format!("'{PID}''%20and%20611%3d611--%20")],
                },
                find(PID).params[1].clone(),
            ],
            ..find(PID)
        };
        assert_failure(&r.query(&q), XDS_REGISTRY_ERROR);
        // Bad status value, bad returnType.
        let q = AdhocQueryRequest::find_documents(PID, &["Approved"], &[], "LeafClass");
        assert_failure(&r.query(&q), XDS_REGISTRY_ERROR);
        let mut q = find(PID);
        q.return_type = Some("RegistryObject".to_owned());
        assert_failure(&r.query(&q), XDS_REGISTRY_ERROR);
    }

    #[test]
    fn result_spanning_two_patients_is_refused() {
        let mut r = registry();
        register(&mut r, &[doc("Doc1", "1.2.3.1")], "1.2.3.100");
        let mut d = doc("Doc2", "1.2.3.2");
        d.patient = PID2;
        let s = parse_submit(&submission_xml(&[d], "1.2.3.101", PID2));
        r.register(&s, Some(REPO), &[("Doc2".to_owned(), b"x".to_vec())])
            .expect("second patient registers");
        let q = AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3.1", "1.2.3.2"], "LeafClass");
        assert_failure(&r.query(&q), XDS_RESULT_NOT_SINGLE_PATIENT);
    }

    #[test]
    fn duplicate_unique_id_is_refused_and_nothing_registered() {
        let mut r = registry();
        let d = [doc("Doc1", "1.2.3.1")];
        register(&mut r, &d, "1.2.3.100");
        let before = (
            r.document_entries().len(),
            r.associations().len(),
            r.counter,
        );
        let err = r
            .register(&submission(&d, "1.2.3.101"), Some(REPO), &bytes_for(&d))
            .expect_err("duplicate");
        assert_eq!(codes(&err), [XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY]);
        assert_eq!(err[0].location.as_deref(), Some("1.2.3.1"));
        assert_eq!(err[0].severity.as_deref(), Some(SEVERITY_ERROR));
        // Same uniqueId, other bytes: the table's XDSNonIdenticalHash.
        let err = r
            .register(
                &submission(&d, "1.2.3.101"),
                Some(REPO),
                &[("Doc1".to_owned(), b"other".to_vec())],
            )
            .expect_err("non-identical");
        assert_eq!(codes(&err), [XDS_NON_IDENTICAL_HASH]);
        // SubmissionSet uniqueId reused.
        let d2 = [doc("Doc2", "1.2.3.2")];
        let err = r
            .register(&submission(&d2, "1.2.3.100"), Some(REPO), &bytes_for(&d2))
            .expect_err("duplicate SubmissionSet uniqueId");
        assert_eq!(codes(&err), [XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY]);
        // Twice in one message.
        let dd = [doc("Doc2", "1.2.3.2"), doc("Doc3", "1.2.3.2")];
        let err = r
            .register(&submission(&dd, "1.2.3.102"), Some(REPO), &bytes_for(&dd))
            .expect_err("duplicate in message");
        assert_eq!(codes(&err), [XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE]);
        assert_eq!(
            (
                r.document_entries().len(),
                r.associations().len(),
                r.counter
            ),
            before
        );
    }

    #[test]
    fn patient_errors() {
        let mut r = registry();
        // DocumentEntry patient differs from the SubmissionSet's.
        let mut d = doc("Doc1", "1.2.3.1");
        d.patient = PID2;
        let err = r
            .register(
                &submission(&[d], "1.2.3.100"),
                Some(REPO),
                &bytes_for(&[doc("Doc1", "1.2.3.1")]),
            )
            .expect_err("mismatch");
        assert_eq!(codes(&err), [XDS_PATIENT_ID_DOES_NOT_MATCH]);
        assert_eq!(err[0].location.as_deref(), Some("Doc1"));
        // Unknown patient.
        let unknown = "X-9^^^&1.2.3.4&ISO";
        let mut d = doc("Doc1", "1.2.3.1");
        d.patient = unknown;
        let s = parse_submit(&submission_xml(&[d], "1.2.3.100", unknown));
        let err = r
            .register(&s, Some(REPO), &bytes_for(&[doc("Doc1", "1.2.3.1")]))
            .expect_err("unknown patient");
        assert_eq!(codes(&err), [XDS_UNKNOWN_PATIENT_ID]);
        assert!(err[0]
            .code_context
            .as_deref()
            .is_some_and(|c| c.contains(unknown)));
        assert!(r.document_entries().is_empty());
    }

    #[test]
    fn document_and_hash_errors() {
        let mut r = registry();
        let d = doc("Doc1", "1.2.3.1");
        let s = submission(&[d], "1.2.3.100");
        // Hash given but not that of the bytes.
        let mut bad = doc("Doc1", "1.2.3.1");
        bad.hash = Some("0000000000000000000000000000000000000000");
        let err = r
            .register(
                &submission(&[bad], "1.2.3.100"),
                Some(REPO),
                &bytes_for(&[doc("Doc1", "1.2.3.1")]),
            )
            .expect_err("hash mismatch");
        assert_eq!(codes(&err), [XDS_REPOSITORY_METADATA_ERROR]);
        // The right hash, given, is accepted below (after the other failures).
        // No document for the entry; a document without an entry.
        let err = r
            .register(&s, Some(REPO), &[("Other".to_owned(), b"x".to_vec())])
            .expect_err("pairing");
        assert_eq!(
            codes(&err),
            [XDS_MISSING_DOCUMENT, XDS_MISSING_DOCUMENT_METADATA]
        );
        // Documents but no repositoryUniqueId anywhere.
        let err = r
            .register(&s, None, &bytes_for(&[doc("Doc1", "1.2.3.1")]))
            .expect_err("no repositoryUniqueId");
        assert_eq!(codes(&err), [XDS_REGISTRY_METADATA_ERROR]);
        // A bare ITI-42 without hash, size and repositoryUniqueId.
        let err = r.register(&s, None, &[]).expect_err("ITI-42 without hash");
        assert_eq!(codes(&err), [XDS_REGISTRY_METADATA_ERROR]);
        // Structural defects surface as XDSRegistryMetadataError.
        let broken = parse_submit(include_str!(
            "../../../fixtures/corpus/xds/nist-pnr-bad-uplink.xml"
        ));
        let err = r
            .register(&broken, Some(REPO), &[])
            .expect_err("bad uplink");
        assert!(
            codes(&err).contains(&XDS_REGISTRY_METADATA_ERROR),
            "{err:?}"
        );
        assert!(r.document_entries().is_empty());
        let mut good = doc("Doc1", "1.2.3.1");
        let h = crate::model::ebrim::document_hash(b"bytes of 1.2.3.1");
        good.hash = Some(&h);
        r.register(
            &submission(&[good], "1.2.3.100"),
            Some(REPO),
            &bytes_for(&[doc("Doc1", "1.2.3.1")]),
        )
        .expect("right hash registers");
    }

    #[test]
    fn bare_iti42_with_full_metadata_registers() {
        let mut r = registry();
        let extra = slot("size", "12") + &slot("repositoryUniqueId", REPO);
        let mut d = doc("Doc1", "1.2.3.1");
        d.hash = Some("a9993e364706816aba3e25717850c26c9cd0d89d");
        d.extra_slots = &extra;
        r.register(&submission(&[d], "1.2.3.100"), None, &[])
            .expect("ITI-42 registers");
        assert_eq!(r.repository_unique_id("1.2.3.1").as_deref(), Some(REPO));
    }

    #[test]
    fn dtm_prefix_comparison() {
        assert_eq!(dtm_cmp("2005", "20051224"), Ordering::Equal);
        assert_eq!(dtm_cmp("20051224", "2006"), Ordering::Less);
        let s = |v: &str| Some(v.to_owned());
        assert!(time_matches(s("20051224"), &s("2005"), &None));
        assert!(!time_matches(s("20051224"), &None, &s("2005")));
        assert!(!time_matches(None, &s("2005"), &None));
        assert!(time_matches(None, &None, &None));
    }
}
