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
//! This file holds the registry's content and the reads the responders use; `register.rs` checks
//! and stores a submission (ITI-42), `stored_query.rs` answers each stored query (ITI-18) and
//! `query_params.rs` reads a query's slots and holds the matching rules of ITI TF-2 3.18.4.1.2.3.
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

use std::collections::HashSet;

use crate::model::ebrim::{
    self, Association, ObjectKind, RegistryError, RegistryObject, RegistryObjectList, Slot,
    ASSOC_APND, ASSOC_HAS_MEMBER, ASSOC_IS_SNAPSHOT_OF, ASSOC_RPLC, ASSOC_SIGNS, ASSOC_XFRM,
    ASSOC_XFRM_RPLC, DE_PATIENT_ID, DE_UNIQUE_ID, FOLDER_NODE, FOLDER_PATIENT_ID, FOLDER_UNIQUE_ID,
    SEVERITY_ERROR, SS_PATIENT_ID, SS_UNIQUE_ID, SUBMISSION_SET_NODE,
};

mod query_params;
mod register;
mod stored_query;
#[cfg(test)]
mod tests;

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
}
