//! ITI-18 Registry Stored Query: each stored query over the registered content.

use std::collections::HashSet;

use crate::checks::xds::rules as xds_rules;
use crate::checks::Level;
use crate::model::ebrim::{
    self, AdhocQueryRequest, AdhocQueryResponse, Association, ObjectRef, RegistryError,
    RegistryObject, RegistryObjectList, RegistryResponse, ASSOC_HAS_MEMBER, DE_PATIENT_ID,
    DE_UNIQUE_ID, FOLDER_CODE_LIST, FOLDER_PATIENT_ID, FOLDER_UNIQUE_ID, RESPONSE_FAILURE,
    RESPONSE_SUCCESS, SQ_FIND_DOCUMENTS, SQ_FIND_DOCUMENTS_BY_REFERENCE_ID, SQ_FIND_FOLDERS,
    SQ_FIND_SUBMISSION_SETS, SQ_GET_ALL, SQ_GET_ASSOCIATIONS, SQ_GET_DOCUMENTS,
    SQ_GET_DOCUMENTS_AND_ASSOCIATIONS, SQ_GET_FOLDERS, SQ_GET_FOLDERS_FOR_DOCUMENT,
    SQ_GET_FOLDER_AND_CONTENTS, SQ_GET_RELATED_DOCUMENTS, SQ_GET_SUBMISSION_SETS,
    SQ_GET_SUBMISSION_SET_AND_CONTENTS, SS_AUTHOR, SS_CONTENT_TYPE_CODE, SS_PATIENT_ID,
    SS_SOURCE_ID, SS_UNIQUE_ID, STORED_QUERIES,
};

use super::query_params::{
    author_matches, code_in, status_matches, time_matches, EntryFilter, EntryParams, Params,
};
use super::{
    is_folder, is_submission_set, patient_of, registry_error, same_id, scheme_is, Registry,
    XDS_REGISTRY_ERROR, XDS_RESULT_NOT_SINGLE_PATIENT, XDS_STORED_QUERY_MISSING_PARAM,
    XDS_STORED_QUERY_PARAM_NUMBER, XDS_UNKNOWN_STORED_QUERY,
};

impl Registry {
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

#[cfg(test)]
mod tests {
    use super::super::query_params::like;
    use super::super::tests::*;
    use super::super::*;
    use super::*;

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
}
