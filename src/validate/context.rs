//! The responder's content (`validate --context FILE`): what a retrieve or query request is
//! judged against when its defect is contextual.
//!
//! Some requests are well formed and wrong only for the responder they are sent to: a
//! RepositoryUniqueId that is not its own, a SOP Instance UID it does not hold, transfer syntaxes
//! it cannot produce, a community it does not represent. A run judges the responder's answer to
//! such a request (XDSI-01: Failure with XDSUnknownRepositoryId, XDSDocumentUniqueIdError or
//! XDSRepositoryError; XCAI-06, XCAI-07, XCAI-08 for a Responding Imaging Gateway; ITI38-03,
//! ITI39-04 for a Responding Gateway); `validate` judges the request against the content the
//! context file says the responder holds, under the same check ids: the finding says the answer
//! the responder owes. Without a context, these checks are reported as not judged.
//!
//! ```toml
//! # RAD-69 requests
//! [imaging_source]
//! repository_unique_ids = ["1.3.6.1.4.1.21367.13.80.110"]
//! transfer_syntaxes = ["1.2.840.10008.1.2.1"]
//! instances = [{ study = "…", series = "…", sop = "…" }]
//! # RAD-75 requests: the gateway's communities and the Imaging Document Sources behind it
//! [imaging_gateway]
//! home_community_ids = ["urn:oid:…"]
//! repository_unique_ids = ["…"]
//! # ITI-43 requests
//! [repository]
//! repository_unique_ids = ["…"]
//! documents = ["…"]
//! # ITI-38 / ITI-39 requests
//! [responding_gateway]
//! home_community_ids = ["urn:oid:…"]
//! ```
//!
//! A list left out or empty is not judged (the context says nothing about it).

use std::path::Path;

use serde::Deserialize;

use super::{Assertion, FileType, Options};
use crate::checks::Outcome;
use crate::model::ebrim::{DocumentRequest, Message};

/// One DICOM instance a responder holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Study Instance UID.
    pub study: String,
    /// Series Instance UID.
    pub series: String,
    /// SOP Instance UID.
    pub sop: String,
}

/// What one responder holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holdings {
    /// Who it is (for messages).
    #[serde(default)]
    pub name: String,
    /// Its repositoryUniqueIds (a repository, an Imaging Document Source), or those of the
    /// sources behind a gateway.
    #[serde(default)]
    pub repository_unique_ids: Vec<String>,
    /// The homeCommunityIds it represents.
    #[serde(default)]
    pub home_community_ids: Vec<String>,
    /// The transfer syntaxes it can produce.
    #[serde(default)]
    pub transfer_syntaxes: Vec<String>,
    /// The DICOM instances it holds.
    #[serde(default)]
    pub instances: Vec<Instance>,
    /// The document uniqueIds it holds (ITI-43, ITI-39).
    #[serde(default)]
    pub documents: Vec<String>,
}

/// The responders' content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// What a RAD-69 request is judged against.
    pub imaging_source: Option<Holdings>,
    /// What a RAD-75 request is judged against.
    pub imaging_gateway: Option<Holdings>,
    /// What an ITI-43 request is judged against.
    pub repository: Option<Holdings>,
    /// What an ITI-38 or ITI-39 request is judged against.
    pub responding_gateway: Option<Holdings>,
}

impl Context {
    /// Read a context file.
    pub fn load(path: &Path) -> Result<Context, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Context::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse a context.
    pub fn parse(text: &str) -> Result<Context, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// The contextual checks of a request type: (check id, what it needs).
fn contextual_checks(t: FileType) -> &'static [(&'static str, &'static str)] {
    match t {
        FileType::Rad69Request => &[(
            "XDSI-01",
            "the Imaging Document Source's repositoryUniqueId, instances and transfer syntaxes",
        )],
        FileType::Rad75Request => &[
            ("XCAI-06", "the Imaging Document Sources behind the gateway"),
            ("XCAI-07", "the communities the gateway represents"),
            ("XCAI-08", "the transfer syntaxes its sources can produce"),
            ("XDSI-01", "the instances its sources hold"),
        ],
        FileType::Iti43Request => &[(
            "XDSI-01",
            "the repository's repositoryUniqueId and documents",
        )],
        FileType::Iti39Request => &[
            ("ITI39-04", "the communities the gateway represents"),
            ("XDSI-01", "the repositories and documents of its community"),
        ],
        FileType::Iti38Request => &[("ITI38-03", "the communities the gateway represents")],
        _ => &[],
    }
}

fn holdings(ctx: &Context, t: FileType) -> Option<(&Holdings, &'static str)> {
    match t {
        FileType::Rad69Request => ctx.imaging_source.as_ref().map(|h| (h, "[imaging_source]")),
        FileType::Rad75Request => ctx
            .imaging_gateway
            .as_ref()
            .map(|h| (h, "[imaging_gateway]")),
        FileType::Iti43Request => ctx.repository.as_ref().map(|h| (h, "[repository]")),
        FileType::Iti38Request | FileType::Iti39Request => ctx
            .responding_gateway
            .as_ref()
            .map(|h| (h, "[responding_gateway]")),
        _ => None,
    }
}

struct Judge<'a> {
    h: &'a Holdings,
    who: String,
    strict: bool,
    out: Vec<Assertion>,
    failed: Vec<&'static str>,
}

impl Judge<'_> {
    fn fail(&mut self, id: &'static str, expected: String, actual: String, location: String) {
        self.failed.push(id);
        self.out.push(Assertion::of_check(
            id,
            Outcome::Fail,
            self.strict,
            expected,
            actual,
            location,
        ));
    }

    fn known(list: &[String], v: &str) -> bool {
        list.is_empty() || list.iter().any(|x| x.trim() == v.trim())
    }

    /// One DocumentRequest: community, repository, then the instance or document (the order a
    /// responder refuses in: a request for another repository is not looked up).
    fn document(
        &mut self,
        d: &DocumentRequest,
        at: String,
        study_series: Option<(&str, &str)>,
        ids: (&'static str, &'static str),
    ) {
        let (community_check, repository_check) = ids;
        if let Some(home) = d.home_community_id.as_deref().filter(|h| !h.is_empty()) {
            if !Self::known(&self.h.home_community_ids, home) {
                self.fail(
                    community_check,
                    format!(
                        "a homeCommunityId {} represents ({})",
                        self.who,
                        self.h.home_community_ids.join(", ")
                    ),
                    format!("{home}: the responder answers Failure with XDSUnknownCommunity"),
                    format!("{at}/HomeCommunityId"),
                );
                return;
            }
        }
        let Some(repo) = d.repository_unique_id.as_deref().filter(|r| !r.is_empty()) else {
            return; // a structural rule reports it
        };
        if !Self::known(&self.h.repository_unique_ids, repo) {
            self.fail(
                repository_check,
                format!(
                    "a RepositoryUniqueId {} knows ({})",
                    self.who,
                    self.h.repository_unique_ids.join(", ")
                ),
                format!("{repo}: the responder answers Failure with XDSUnknownRepositoryId"),
                format!("{at}/RepositoryUniqueId"),
            );
            return;
        }
        let Some(uid) = d.document_unique_id.as_deref().filter(|u| !u.is_empty()) else {
            return;
        };
        match study_series {
            // An empty study or series UID is a structural breach (RAD69-01, RAD69-02): the
            // request is refused before any instance is looked up.
            Some((study, series)) if study.is_empty() || series.is_empty() => {}
            Some((study, series)) if !self.h.instances.is_empty() => {
                match self.h.instances.iter().find(|i| i.sop == uid) {
                    None => self.fail(
                        "XDSI-01",
                        format!("an instance {} holds", self.who),
                        format!(
                            "SOP Instance UID {uid}: the responder answers Failure with \
                             XDSDocumentUniqueIdError"
                        ),
                        format!("{at}/DocumentUniqueId"),
                    ),
                    Some(i) if i.study != study || i.series != series => self.fail(
                        "XDSI-01",
                        format!(
                            "instance {uid} under its own study {} and series {}",
                            i.study, i.series
                        ),
                        format!(
                            "asked under study {study} series {series}: the responder \
                                 answers Failure with XDSDocumentUniqueIdError"
                        ),
                        format!("{at}/DocumentUniqueId"),
                    ),
                    Some(_) => {}
                }
            }
            None if !self.h.documents.is_empty() && !Self::known(&self.h.documents, uid) => self
                .fail(
                    "XDSI-01",
                    format!("a document {} holds", self.who),
                    format!(
                        "DocumentUniqueId {uid}: the responder answers Failure with \
                         XDSDocumentUniqueIdError"
                    ),
                    format!("{at}/DocumentUniqueId"),
                ),
            _ => {}
        }
    }
}

/// Judge a request against the responder's content of `opts.context`; without it (or without
/// the responder's table), the contextual checks are reported as not judged.
pub(super) fn judge_request(
    m: &Message,
    t: FileType,
    opts: &Options,
) -> (Vec<Assertion>, Vec<String>) {
    let checks = contextual_checks(t);
    if checks.is_empty() {
        return (vec![], vec![]);
    }
    let Some((h, table)) = opts.context.as_ref().and_then(|c| holdings(c, t)) else {
        let why = match &opts.context {
            None => "no --context: the responder's content is unknown".to_string(),
            Some(_) => format!("the context has no table for a {}", t.name()),
        };
        let out = checks
            .iter()
            .map(|(id, needs)| {
                Assertion::of_check(
                    id,
                    Outcome::NotApplicable,
                    opts.strict,
                    format!("not judged: needs {needs} ({why})"),
                    "",
                    "",
                )
            })
            .collect();
        return (
            out,
            vec![format!(
                "{} not judged: {why}",
                checks
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
        );
    };
    let who = if h.name.is_empty() {
        format!("the responder of {table}")
    } else {
        h.name.clone()
    };
    let mut j = Judge {
        h,
        who,
        strict: opts.strict,
        out: vec![],
        failed: vec![],
    };
    let (community_check, repository_check, syntax_check) = match t {
        FileType::Rad75Request => ("XCAI-07", "XCAI-06", "XCAI-08"),
        FileType::Iti39Request => ("ITI39-04", "XDSI-01", "XDSI-01"),
        _ => ("XDSI-01", "XDSI-01", "XDSI-01"),
    };
    match m {
        Message::RetrieveImagingDocumentSetRequest(r) => {
            for (si, study) in r.studies.iter().enumerate() {
                let study_uid = study.study_instance_uid.as_deref().unwrap_or("");
                for (ei, series) in study.series.iter().enumerate() {
                    let series_uid = series.series_instance_uid.as_deref().unwrap_or("");
                    for (di, d) in series.documents.iter().enumerate() {
                        let at = format!(
                            "/RetrieveImagingDocumentSetRequest/StudyRequest[{}]/SeriesRequest[{}]/DocumentRequest[{}]",
                            si + 1,
                            ei + 1,
                            di + 1
                        );
                        j.document(
                            d,
                            at,
                            Some((study_uid, series_uid)),
                            (community_check, repository_check),
                        );
                    }
                }
            }
            let asked: Vec<&str> = r
                .transfer_syntaxes
                .iter()
                .flatten()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            if !h.transfer_syntaxes.is_empty()
                && !asked.is_empty()
                && !asked
                    .iter()
                    .any(|a| h.transfer_syntaxes.iter().any(|x| x.trim() == *a))
            {
                let who = j.who.clone();
                j.fail(
                    syntax_check,
                    format!(
                        "a transfer syntax {who} can produce ({})",
                        h.transfer_syntaxes.join(", ")
                    ),
                    format!(
                        "only {}: the responder returns no image and answers Failure with \
                         XDSRepositoryError",
                        asked.join(", ")
                    ),
                    "/RetrieveImagingDocumentSetRequest/TransferSyntaxUIDList".into(),
                );
            }
        }
        Message::RetrieveDocumentSetRequest(r) => {
            for (di, d) in r.documents.iter().enumerate() {
                let at = format!("/RetrieveDocumentSetRequest/DocumentRequest[{}]", di + 1);
                j.document(d, at, None, (community_check, repository_check));
            }
        }
        Message::AdhocQueryRequest(q) => {
            if let Some(home) = q.home.as_deref().filter(|h| !h.is_empty()) {
                if !Judge::known(&h.home_community_ids, home) {
                    let who = j.who.clone();
                    j.fail(
                        "ITI38-03",
                        format!(
                            "a homeCommunityId {who} represents ({})",
                            h.home_community_ids.join(", ")
                        ),
                        format!("{home}: the responder answers Failure with XDSUnknownCommunity"),
                        "/AdhocQueryRequest/AdhocQuery/@home".into(),
                    );
                }
            }
        }
        _ => {}
    }
    for (id, _) in checks {
        if !j.failed.contains(id) {
            j.out.push(Assertion::of_check(
                id,
                Outcome::Pass,
                opts.strict,
                "",
                "",
                "",
            ));
        }
    }
    (
        j.out,
        vec![format!(
            "contextual rules judged against {table} of the context"
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Context::parse("[imaging_source]\nrepository_ids = []\n").is_err());
        let c = Context::parse(
            "[imaging_source]\nrepository_unique_ids = [\"1.2\"]\ninstances = [{ study = \"1\", series = \"2\", sop = \"3\" }]\n",
        )
        .unwrap();
        assert_eq!(c.imaging_source.unwrap().instances[0].sop, "3");
    }
}
