//! The generic ebRIM 3.0 objects (`rim:Slot`, `Classification`, `ExternalIdentifier`,
//! `ExtrinsicObject`/`RegistryPackage`, `Association`, `ObjectRef`, `RegistryObjectList`) and the
//! XDS views read from them: DocumentEntry, SubmissionSet and Folder (ITI TF-3 4.2.3), with the
//! slot, classification and identifier accessors.

use std::collections::HashSet;

use super::vocabulary::*;

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
