//! ITI-42 Register Document Set-b: checking a submission and storing it.

use std::collections::{HashMap, HashSet};

use crate::checks::xds::rules as xds_rules;
use crate::checks::Level;
use crate::model::ebrim::{
    self, Classification, ExternalIdentifier, RegistryError, RegistryObject, RegistryObjectList,
    SubmitObjectsRequest, ASSOC_HAS_MEMBER, DE_PATIENT_ID, DE_UNIQUE_ID, FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID, SS_PATIENT_ID, SS_UNIQUE_ID, STATUS_APPROVED, STATUS_DEPRECATED,
};

use super::{
    is_folder, is_uuid_urn, now_dtm, patient_of, registry_error, same_id, set_slot,
    submitted_is_folder, unique_id_of, uuid_urn, Registry, RELATIONSHIPS, REPLACEMENTS,
    SUBMITTABLE_ASSOCIATIONS, UNRESOLVED_REFERENCE_EXCEPTION, XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
    XDS_MISSING_DOCUMENT, XDS_MISSING_DOCUMENT_METADATA, XDS_NON_IDENTICAL_HASH,
    XDS_NON_IDENTICAL_SIZE, XDS_PATIENT_ID_DOES_NOT_MATCH, XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
    XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, XDS_REGISTRY_METADATA_ERROR,
    XDS_REPOSITORY_METADATA_ERROR, XDS_UNKNOWN_PATIENT_ID,
};

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

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::super::*;
    use super::*;

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
    fn nist_and_ipf_samples_register() {
        let nist = parse_submit(include_str!("../../../../fixtures/corpus/xds/nist-pnr.xml"));
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
            "../../../../fixtures/corpus/xds/nist-idc_init-metadata-IDCDEPT034-a.xml"
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
            "../../../../fixtures/corpus/xds/ipf-SubmitObjectsRequest_ebrs30.xml"
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
            "../../../../fixtures/corpus/xds/nist-pnr-bad-uplink.xml"
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
}
