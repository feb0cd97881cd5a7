//! `ihe-harness validate`: judge files offline with the checks of a run.
//!
//! A file's type is detected from its content ([`detect`]): a DICOM Part 10 file (128-byte
//! preamble and `DICM`) is a KOS manifest, judged by the XDS-I.b manifest rules or, when its title
//! is the MADO "Manifest with Description", by the MADO rules ([`crate::checks::kos::rules`]); a
//! JSON array or object keyed by DICOM tags is the DICOM JSON Model of a QIDO-RS or WADO-RS
//! metadata answer ([`crate::checks::dicomweb::json`]); a SOAP envelope, a bare ebRS/ebRIM body or
//! a captured MTOM HTTP request is an XDS message whose transaction and direction come from its
//! body element and WS-Addressing Action ([`crate::checks::xds::rules`]); FHIR JSON, FHIR XML and
//! FHIR Shorthand go to [`fhir`]. `--as TYPE` ([`FileType`]) names the type instead.
//!
//! Every finding is the [`crate::checks::Finding`] of the check a run reports, with its id and
//! requirement; no rule is written twice. Rules that only a responder holding other content can
//! judge (a repository, instance, transfer syntax or community the responder does not have) are
//! judged against a [`context::Context`] (`--context FILE`), under the check ids a run uses for
//! those answers (XDSI-01, XCAI-06..08, ITI39-04); without one they are reported as not judged.
//!
//! A file's result is FAILED when any finding is a failure, UNDEFINED when the file could not be
//! judged (not recognised, not readable as the type asked, or no validator for it), PASSED
//! otherwise. A finding carries no exchange here: the location in the file, when the validator
//! knows it, is kept beside it ([`Assertion::location`]); a FHIR finding gives it in its
//! `exchange_label`.

pub mod context;
mod dicom;
pub mod fhir;
pub mod serve;
mod xds;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::Digest;

use crate::checks::{self, Finding, Level, Outcome};
use crate::report::gazelle::{self, Priority, Severity, TestResult};

pub use context::Context;

/// The types `validate` judges, as `--as` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileType {
    /// XDS-I.b imaging manifest (DICOM KOS, RAD-68 document).
    Kos,
    /// MADO manifest with description (DICOM KOS).
    MadoKos,
    /// DICOM JSON Model (QIDO-RS answer, WADO-RS metadata).
    DicomJson,
    /// ITI-41 Provide and Register Document Set-b request.
    Iti41,
    /// RAD-68 Provide and Register Imaging Document Set request.
    Rad68,
    /// ITI-42 Register Document Set-b request (or submission metadata alone).
    Iti42,
    /// ITI-57 Update Document Set request.
    Iti57,
    /// ITI-18 Registry Stored Query request.
    Iti18Request,
    /// ITI-18 response.
    Iti18Response,
    /// ITI-38 Cross Gateway Query request.
    Iti38Request,
    /// ITI-38 response.
    Iti38Response,
    /// ITI-43 Retrieve Document Set request.
    Iti43Request,
    /// ITI-43 response.
    Iti43Response,
    /// ITI-39 Cross Gateway Retrieve request.
    Iti39Request,
    /// ITI-39 response.
    Iti39Response,
    /// RAD-69 Retrieve Imaging Document Set request.
    Rad69Request,
    /// RAD-69 response.
    Rad69Response,
    /// RAD-75 Cross Gateway Retrieve Imaging Document Set request.
    Rad75Request,
    /// RAD-75 response.
    Rad75Response,
    /// A RegistryResponse (ITI-41, ITI-42, ITI-57, RAD-68 answers).
    RegistryResponse,
    /// A FHIR resource or Bundle in JSON.
    FhirJson,
    /// A FHIR resource or Bundle in XML.
    FhirXml,
    /// FHIR Shorthand instances.
    Fsh,
}

impl FileType {
    /// Every type, in `--help` order.
    pub const ALL: &'static [FileType] = &[
        FileType::Kos,
        FileType::MadoKos,
        FileType::DicomJson,
        FileType::Iti41,
        FileType::Rad68,
        FileType::Iti42,
        FileType::Iti57,
        FileType::Iti18Request,
        FileType::Iti18Response,
        FileType::Iti38Request,
        FileType::Iti38Response,
        FileType::Iti43Request,
        FileType::Iti43Response,
        FileType::Iti39Request,
        FileType::Iti39Response,
        FileType::Rad69Request,
        FileType::Rad69Response,
        FileType::Rad75Request,
        FileType::Rad75Response,
        FileType::RegistryResponse,
        FileType::FhirJson,
        FileType::FhirXml,
        FileType::Fsh,
    ];

    /// The id `--as` takes and the Gazelle profile id.
    pub fn id(self) -> &'static str {
        match self {
            FileType::Kos => "kos",
            FileType::MadoKos => "mado-kos",
            FileType::DicomJson => "dicom-json",
            FileType::Iti41 => "iti41",
            FileType::Rad68 => "rad68",
            FileType::Iti42 => "iti42",
            FileType::Iti57 => "iti57",
            FileType::Iti18Request => "iti18-request",
            FileType::Iti18Response => "iti18-response",
            FileType::Iti38Request => "iti38-request",
            FileType::Iti38Response => "iti38-response",
            FileType::Iti43Request => "iti43-request",
            FileType::Iti43Response => "iti43-response",
            FileType::Iti39Request => "iti39-request",
            FileType::Iti39Response => "iti39-response",
            FileType::Rad69Request => "rad69-request",
            FileType::Rad69Response => "rad69-response",
            FileType::Rad75Request => "rad75-request",
            FileType::Rad75Response => "rad75-response",
            FileType::RegistryResponse => "registry-response",
            FileType::FhirJson => "fhir-json",
            FileType::FhirXml => "fhir-xml",
            FileType::Fsh => "fsh",
        }
    }

    /// What it is, in words.
    pub fn name(self) -> &'static str {
        match self {
            FileType::Kos => "XDS-I.b imaging manifest (DICOM KOS)",
            FileType::MadoKos => "MADO manifest with description (DICOM KOS)",
            FileType::DicomJson => "DICOM JSON Model (QIDO-RS / WADO-RS metadata)",
            FileType::Iti41 => "ITI-41 Provide and Register Document Set-b request",
            FileType::Rad68 => "RAD-68 Provide and Register Imaging Document Set request",
            FileType::Iti42 => "ITI-42 Register Document Set-b request (submission metadata)",
            FileType::Iti57 => "ITI-57 Update Document Set request",
            FileType::Iti18Request => "ITI-18 Registry Stored Query request",
            FileType::Iti18Response => "ITI-18 Registry Stored Query response",
            FileType::Iti38Request => "ITI-38 Cross Gateway Query request",
            FileType::Iti38Response => "ITI-38 Cross Gateway Query response",
            FileType::Iti43Request => "ITI-43 Retrieve Document Set request",
            FileType::Iti43Response => "ITI-43 Retrieve Document Set response",
            FileType::Iti39Request => "ITI-39 Cross Gateway Retrieve request",
            FileType::Iti39Response => "ITI-39 Cross Gateway Retrieve response",
            FileType::Rad69Request => "RAD-69 Retrieve Imaging Document Set request",
            FileType::Rad69Response => "RAD-69 Retrieve Imaging Document Set response",
            FileType::Rad75Request => "RAD-75 Cross Gateway Retrieve Imaging Document Set request",
            FileType::Rad75Response => {
                "RAD-75 Cross Gateway Retrieve Imaging Document Set response"
            }
            FileType::RegistryResponse => "RegistryResponse (ITI-41 / ITI-42 / ITI-57 / RAD-68)",
            FileType::FhirJson => "FHIR resource or Bundle (JSON)",
            FileType::FhirXml => "FHIR resource or Bundle (XML)",
            FileType::Fsh => "FHIR Shorthand instances",
        }
    }

    /// The Gazelle domain.
    pub fn domain(self) -> &'static str {
        match self {
            FileType::Kos | FileType::Rad68 => "RAD",
            FileType::Rad69Request
            | FileType::Rad69Response
            | FileType::Rad75Request
            | FileType::Rad75Response
            | FileType::MadoKos => "RAD",
            FileType::DicomJson => "DICOM",
            FileType::FhirJson | FileType::FhirXml | FileType::Fsh => "HL7",
            _ => "ITI",
        }
    }

    /// The items a profile of this type covers.
    pub fn covered_items(self) -> Vec<String> {
        let items: &[&str] = match self {
            FileType::Kos => &["Key Object Selection Document (RAD-68 manifest)"],
            FileType::MadoKos => &["Key Object Selection Document (MADO manifest)"],
            FileType::DicomJson => &["QIDO-RS response", "WADO-RS metadata"],
            FileType::Iti41 | FileType::Rad68 => &[
                "ProvideAndRegisterDocumentSetRequest",
                "SOAP envelope",
                "MTOM/XOP HTTP request",
            ],
            FileType::Iti42 | FileType::Iti57 => &["SubmitObjectsRequest", "SOAP envelope"],
            FileType::Iti18Request | FileType::Iti38Request => {
                &["AdhocQueryRequest", "SOAP envelope"]
            }
            FileType::Iti18Response | FileType::Iti38Response => {
                &["AdhocQueryResponse", "SOAP envelope"]
            }
            FileType::Iti43Request | FileType::Iti39Request => {
                &["RetrieveDocumentSetRequest", "SOAP envelope"]
            }
            FileType::Iti43Response
            | FileType::Iti39Response
            | FileType::Rad69Response
            | FileType::Rad75Response => &["RetrieveDocumentSetResponse", "SOAP envelope"],
            FileType::Rad69Request | FileType::Rad75Request => {
                &["RetrieveImagingDocumentSetRequest", "SOAP envelope"]
            }
            FileType::RegistryResponse => &["RegistryResponse", "SOAP envelope"],
            FileType::FhirJson => &["FHIR JSON"],
            FileType::FhirXml => &["FHIR XML"],
            FileType::Fsh => &["FHIR Shorthand"],
        };
        items.iter().map(|s| s.to_string()).collect()
    }

    /// The type `--as` names, if any.
    pub fn parse(s: &str) -> Option<FileType> {
        let s = s.trim().to_ascii_lowercase();
        FileType::ALL.iter().copied().find(|t| t.id() == s)
    }

    /// Is it an XDS SOAP/ebXML message?
    pub fn is_xds(self) -> bool {
        !matches!(
            self,
            FileType::Kos
                | FileType::MadoKos
                | FileType::DicomJson
                | FileType::FhirJson
                | FileType::FhirXml
                | FileType::Fsh
        )
    }

    /// The Gazelle validation profile of this type.
    pub fn profile(self) -> gazelle::ValidationProfile {
        gazelle::ValidationProfile {
            profile_id: self.id().into(),
            profile_name: self.name().into(),
            domain: self.domain().into(),
            covered_items: self.covered_items(),
        }
    }
}

/// The `--as` help text: every type with its id.
pub fn types_help() -> String {
    let mut s = String::from("Types (--as):\n");
    for t in FileType::ALL {
        s.push_str(&format!("  {:<18} {}\n", t.id(), t.name()));
    }
    s
}

/// How to judge.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The type, instead of detecting it.
    pub as_type: Option<FileType>,
    /// The responder's content, for the contextual rules.
    pub context: Option<Context>,
    /// SHOULD breaches count as failures.
    pub strict: bool,
}

/// One check's result on a file, and where in the file.
#[derive(Debug, Clone, Serialize)]
pub struct Assertion {
    /// The finding, as a run reports it.
    pub finding: Finding,
    /// Where in the file (an XPath-like path, a DICOM JSON path, a FHIRPath), empty when unknown.
    pub location: String,
    /// The kind of path in `location` (`XPath`, `JSONPath`, `FHIRPath`, `DICOM tag path`).
    pub location_type: &'static str,
    /// The catalogue ids of the requirement, when the check is registered.
    pub catalogue: Vec<String>,
}

/// What `validate` made of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    /// The file's name (path as given).
    pub file: String,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// The type detected or asked; `None` when not recognised.
    pub file_type: Option<FileType>,
    /// What it was recognised as, in words.
    pub kind: String,
    /// The validator family that judged it.
    pub validator: String,
    /// The checks' results.
    pub assertions: Vec<Assertion>,
    /// Why nothing, or not everything, was judged.
    pub notes: Vec<String>,
}

impl Judgement {
    /// PASSED / FAILED / UNDEFINED.
    pub fn result(&self) -> TestResult {
        if self.assertions.iter().any(|a| a.finding.is_failure()) {
            TestResult::Failed
        } else if self.file_type.is_none()
            || self
                .assertions
                .iter()
                .any(|a| a.finding.outcome == Outcome::Error)
        {
            TestResult::Undefined
        } else {
            TestResult::Passed
        }
    }

    fn undefined(file: &str, sha256: String, kind: &str, why: impl Into<String>) -> Judgement {
        let why = why.into();
        Judgement {
            file: file.into(),
            sha256,
            file_type: None,
            kind: kind.into(),
            validator: "none".into(),
            assertions: vec![Assertion::plain(Finding::harness_error(
                "the file cannot be judged",
                why.clone(),
            ))],
            notes: vec![why],
        }
    }
}

impl Assertion {
    fn plain(finding: Finding) -> Assertion {
        let catalogue = catalogue_of(&finding.check);
        Assertion {
            finding,
            location: String::new(),
            location_type: "XPath",
            catalogue,
        }
    }

    /// A breach found by a validator family, as the registered check reports it.
    pub fn of_violation(
        v: &checks::rule::Violation,
        strict: bool,
        location_type: &'static str,
    ) -> Assertion {
        let title = rule_title(v.rule);
        let finding = Finding {
            check: v.rule.into(),
            requirement: v.requirement.into(),
            level: v.level,
            title,
            outcome: Outcome::Fail,
            advisory: v.level == Level::Should && !strict,
            // The rule's title says what is expected; the message what was found.
            expected: String::new(),
            actual: v.message.clone(),
            exchange: None,
            exchange_label: String::new(),
        };
        Assertion {
            location: v.location.clone(),
            location_type,
            ..Assertion::plain(finding)
        }
    }

    /// A registered check's result.
    pub fn of_check(
        id: &str,
        outcome: Outcome,
        strict: bool,
        expected: impl Into<String>,
        actual: impl Into<String>,
        location: impl Into<String>,
    ) -> Assertion {
        let (requirement, level, title) = match checks::by_id(id) {
            Some(c) => (c.requirement.to_string(), c.level, c.title.to_string()),
            None => (String::new(), Level::Shall, rule_title(id)),
        };
        let finding = Finding {
            check: id.into(),
            requirement,
            level,
            title,
            outcome,
            advisory: outcome == Outcome::Fail && level == Level::Should && !strict,
            expected: expected.into(),
            actual: actual.into(),
            exchange: None,
            exchange_label: String::new(),
        };
        Assertion {
            location: location.into(),
            ..Assertion::plain(finding)
        }
    }
}

/// The title of a rule or check, from the registry or the family rule tables.
fn rule_title(id: &str) -> String {
    if let Some(c) = checks::by_id(id) {
        return c.title.into();
    }
    if let Some(r) = checks::xds::rules::RULES.iter().find(|r| r.id == id) {
        return r.title.into();
    }
    if let Some(r) = checks::kos::rules::rule(id) {
        return r.title.into();
    }
    if let Some(r) = checks::dicomweb::json::rules::RULES
        .iter()
        .find(|r| r.id == id)
    {
        return r.title.into();
    }
    id.into()
}

fn catalogue_of(id: &str) -> Vec<String> {
    checks::by_id(id)
        .map(|c| c.requirements.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The type of a file from its content (and, for FHIR Shorthand, its name), `None` when it is
/// none `validate` knows. XDS messages are detected in [`xds`], which reads the body element
/// and the Action; this says only that the file is an XDS message (`Iti41` stands for any).
pub fn detect(name: &str, bytes: &[u8]) -> Option<FileType> {
    let head = trim_start(bytes);
    if bytes.get(128..132) == Some(b"DICM") {
        return Some(FileType::Kos);
    }
    if head.starts_with(b"{") || head.starts_with(b"[") {
        let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        return json_type(&v);
    }
    if head.starts_with(b"POST ") || head.starts_with(b"HTTP/1.") {
        return Some(FileType::Iti41);
    }
    if head.starts_with(b"<") {
        return xds::xml_type(bytes);
    }
    if name.to_ascii_lowercase().ends_with(".fsh") || looks_like_fsh(head) {
        return Some(FileType::Fsh);
    }
    None
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn looks_like_fsh(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    text.lines().any(|l| {
        [
            "Instance:",
            "Profile:",
            "Alias:",
            "Extension:",
            "Logical:",
            "RuleSet:",
        ]
        .iter()
        .any(|k| l.starts_with(k))
    })
}

/// The type of a JSON document: FHIR with a `resourceType`, DICOM JSON when keyed by tags.
fn json_type(v: &serde_json::Value) -> Option<FileType> {
    let tag_keyed = |o: &serde_json::Map<String, serde_json::Value>| {
        !o.is_empty()
            && o.keys()
                .all(|k| crate::model::dicom_json::parse_tag_key(k).is_some())
    };
    match v {
        serde_json::Value::Object(o) if o.get("resourceType").is_some_and(|r| r.is_string()) => {
            Some(FileType::FhirJson)
        }
        serde_json::Value::Object(o) if tag_keyed(o) => Some(FileType::DicomJson),
        serde_json::Value::Array(a) if a.is_empty() => Some(FileType::DicomJson),
        serde_json::Value::Array(a)
            if a.iter()
                .all(|d| d.as_object().is_some_and(|o| o.is_empty() || tag_keyed(o))) =>
        {
            Some(FileType::DicomJson)
        }
        _ => None,
    }
}

/// Judge one file's bytes.
pub fn judge(name: &str, bytes: &[u8], opts: &Options) -> Judgement {
    let sha256 = sha256_hex(bytes);
    if bytes.is_empty() {
        return Judgement::undefined(name, sha256, "empty file", "the file is empty");
    }
    let detected = detect(name, bytes);
    let Some(t) = opts.as_type.or(detected) else {
        return Judgement::undefined(
            name,
            sha256,
            "not recognised",
            "not a DICOM Part 10 file, DICOM JSON, a SOAP/ebXML message, FHIR JSON/XML or FHIR \
             Shorthand that validate knows (give the type with --as)",
        );
    };
    let mut j = match t {
        FileType::Kos | FileType::MadoKos => dicom::judge_kos(name, bytes, t, opts),
        FileType::DicomJson => dicom::judge_json(name, bytes, opts),
        FileType::FhirJson | FileType::FhirXml | FileType::Fsh => {
            let syntax = match t {
                FileType::FhirJson => fhir::FhirSyntax::Json,
                FileType::FhirXml => fhir::FhirSyntax::Xml,
                _ => fhir::FhirSyntax::Fsh,
            };
            let f = fhir::judge(bytes, syntax, opts.strict);
            Judgement {
                file: name.into(),
                sha256: String::new(),
                file_type: Some(t),
                kind: f.kind,
                validator: "FHIR".into(),
                assertions: f
                    .findings
                    .into_iter()
                    .map(|mut finding| {
                        let location = std::mem::take(&mut finding.exchange_label);
                        Assertion {
                            location,
                            location_type: "FHIRPath",
                            ..Assertion::plain(finding)
                        }
                    })
                    .collect(),
                notes: vec![],
            }
        }
        _ => xds::judge(name, bytes, opts),
    };
    j.sha256 = sha256;
    j
}

/// The largest file `validate` reads: the XML reader's own limit (64 MiB), far above any
/// manifest, message or FHIR resource; a larger file is UNDEFINED, not read into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Read and judge one file; an unreadable or oversized file is UNDEFINED.
pub fn judge_path(path: &Path, opts: &Options) -> Judgement {
    let name = path.display().to_string();
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() > MAX_FILE_BYTES {
            return Judgement::undefined(
                &name,
                String::new(),
                "too large",
                format!(
                    "{} bytes: more than the {MAX_FILE_BYTES} bytes validate reads",
                    meta.len()
                ),
            );
        }
    }
    match std::fs::read(path) {
        Ok(bytes) => judge(&name, &bytes, opts),
        Err(e) => Judgement::undefined(
            &name,
            String::new(),
            "unreadable",
            format!("cannot read the file: {e}"),
        ),
    }
}

/// The Gazelle v2 sub-report of one judgement.
pub fn sub_report(j: &Judgement) -> gazelle::ValidationSubReport {
    let assertion_reports: Vec<gazelle::AssertionReport> = j
        .assertions
        .iter()
        .filter(|a| a.finding.requirement != "harness" || a.finding.outcome != Outcome::Error)
        .map(|a| assertion_report(j, a))
        .collect();
    let unexpected: Vec<gazelle::UnexpectedError> = j
        .assertions
        .iter()
        .filter(|a| a.finding.requirement == "harness" && a.finding.outcome == Outcome::Error)
        .map(|a| gazelle::UnexpectedError {
            name: a.finding.title.clone(),
            message: a.finding.actual.clone(),
        })
        .collect();
    let mut standards: Vec<String> = j
        .assertions
        .iter()
        .map(|a| a.finding.requirement.clone())
        .filter(|r| !r.is_empty() && r != "harness")
        .collect();
    standards.sort();
    standards.dedup();
    gazelle::ValidationSubReport {
        name: format!("{}: {}", j.kind, j.file),
        standards,
        sub_report_result: j.result(),
        sub_reports: vec![],
        sub_counters: gazelle::ValidationCounters::of(&assertion_reports, unexpected.len()),
        assertion_reports,
        unexpected_errors: unexpected,
    }
}

fn assertion_report(j: &Judgement, a: &Assertion) -> gazelle::AssertionReport {
    let f = &a.finding;
    let result = match f.outcome {
        Outcome::Pass => TestResult::Passed,
        Outcome::Fail => TestResult::Failed,
        _ => TestResult::Undefined,
    };
    let severity = match (f.outcome, f.level, f.advisory) {
        (Outcome::Fail, Level::Shall, _) | (Outcome::Fail, Level::Should, false) => Severity::Error,
        (Outcome::Fail, Level::Should, true) => Severity::Warning,
        (Outcome::Error, _, _) => Severity::Error,
        _ => Severity::Info,
    };
    let priority = match f.level {
        Level::Shall => Priority::Mandatory,
        Level::Should => Priority::Recommended,
    };
    let mut requirement_ids = Vec::new();
    if !f.requirement.is_empty() {
        requirement_ids.push(f.requirement.clone());
    }
    requirement_ids.extend(a.catalogue.iter().cloned());
    let mut description = f.title.clone();
    match f.outcome {
        Outcome::Fail => {
            if !f.expected.is_empty() && f.expected != f.title {
                description.push_str(&format!(". Expected: {}", f.expected));
            }
            if !f.actual.is_empty() {
                description.push_str(&format!(". Found: {}", f.actual));
            }
        }
        Outcome::Pass => {}
        _ => {
            if !f.expected.is_empty() {
                description.push_str(&format!(". Not judged: {}", f.expected));
            }
        }
    }
    gazelle::AssertionReport {
        assertion_id: f.check.clone(),
        assertion_type: Some(j.validator.clone()),
        description,
        subject_locations: if a.location.is_empty() {
            vec![]
        } else {
            vec![gazelle::SubjectLocation {
                input_id: j.file.clone(),
                kind: a.location_type.into(),
                value: a.location.clone(),
            }]
        },
        subject_value: None,
        requirement_ids,
        severity,
        priority,
        result,
    }
}

/// The Gazelle v2 report of several judgements.
pub fn gazelle_report(profile: &str, judgements: &[Judgement]) -> gazelle::ValidationReport {
    let inputs = judgements
        .iter()
        .map(|j| gazelle::Input {
            id: j.file.clone(),
            item_id: Some(
                j.file_type
                    .map(|t| t.id().to_string())
                    .unwrap_or_else(|| "unknown".into()),
            ),
            content: None,
            location: None,
        })
        .collect();
    let mut metadata = Vec::new();
    for j in judgements {
        metadata.push(gazelle::Metadata {
            name: format!("{} sha256", j.file),
            value: j.sha256.clone(),
        });
        metadata.push(gazelle::Metadata {
            name: format!("{} type", j.file),
            value: j.kind.clone(),
        });
        for n in &j.notes {
            metadata.push(gazelle::Metadata {
                name: format!("{} note", j.file),
                value: n.clone(),
            });
        }
    }
    gazelle::ValidationReport::new(
        profile,
        inputs,
        judgements.iter().map(sub_report).collect(),
        metadata,
    )
}

/// `junit.xml` of a validation: one testcase per file, one `<failure>` per failed assertion,
/// `<error>` for a file that could not be judged.
pub fn junit_xml(judgements: &[Judgement]) -> String {
    use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    let failures = judgements
        .iter()
        .filter(|j| j.result() == TestResult::Failed)
        .count();
    let errors = judgements
        .iter()
        .filter(|j| j.result() == TestResult::Undefined)
        .count();
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "ihe-harness validate"));
    let _ = w.write_event(Event::Start(suites));
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "validate"));
    suite.push_attribute(("tests", judgements.len().to_string().as_str()));
    suite.push_attribute(("failures", failures.to_string().as_str()));
    suite.push_attribute(("errors", errors.to_string().as_str()));
    let _ = w.write_event(Event::Start(suite));
    for j in judgements {
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("name", j.file.as_str()));
        case.push_attribute(("classname", j.kind.as_str()));
        let _ = w.write_event(Event::Start(case));
        for a in &j.assertions {
            let f = &a.finding;
            let tag = if f.is_failure() {
                "failure"
            } else if f.outcome == Outcome::Error {
                "error"
            } else {
                continue;
            };
            let mut el = BytesStart::new(tag);
            el.push_attribute(("type", f.check.as_str()));
            el.push_attribute(("message", line_of(a).as_str()));
            let _ = w.write_event(Event::Start(el));
            let _ = w.write_event(Event::Text(BytesText::new(&line_of(a))));
            let _ = w.write_event(Event::End(BytesEnd::new(tag)));
        }
        let _ = w.write_event(Event::End(BytesEnd::new("testcase")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testsuite")));
    let _ = w.write_event(Event::End(BytesEnd::new("testsuites")));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&String::from_utf8_lossy(&w.into_inner()));
    out.push('\n');
    out
}

/// One assertion in one line: the finding's message and where.
pub fn line_of(a: &Assertion) -> String {
    let mut s = a.finding.message();
    if !a.location.is_empty() {
        s.push_str(&format!(" at {}", a.location));
    }
    s
}

/// The console lines of one judgement.
pub fn console_lines(j: &Judgement) -> Vec<String> {
    let mut out = vec![format!("{:<9} {}  ({})", j.result(), j.file, j.kind)];
    for a in &j.assertions {
        let f = &a.finding;
        let tag = match (f.outcome, f.advisory) {
            (Outcome::Fail, false) => "FAIL",
            (Outcome::Fail, true) => "WARNING",
            (Outcome::Error, _) => "ERROR",
            _ => continue,
        };
        out.push(format!("  {tag} {}", line_of(a)));
    }
    for n in &j.notes {
        out.push(format!("  note: {n}"));
    }
    out
}

/// The exit code of a validation: 0 when every file PASSED, 1 when any FAILED, 2 otherwise (a
/// file UNDEFINED or unreadable).
pub fn exit_code(judgements: &[Judgement]) -> u8 {
    match gazelle::overall(judgements.iter().map(Judgement::result)) {
        TestResult::Passed => 0,
        TestResult::Failed => 1,
        TestResult::Undefined => 2,
    }
}

/// The files under `dir`, every level down, in name order; hidden entries (a name starting with
/// `.`) and symbolic links to folders are left out, so a walk ends.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => return files,
    };
    entries.sort();
    for p in entries {
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => files.extend(walk(&p)),
            Ok(m) if m.file_type().is_symlink() && p.is_dir() => {}
            Ok(_) => files.push(p),
            Err(_) => {}
        }
    }
    files
}

/// What `validate` does with one argument's files: a file named on the command line is always
/// judged (one it does not know is UNDEFINED); a file found in a folder it was given is judged
/// when its type is known (detected, or `--as`) and otherwise skipped, named on the console, so
/// that a folder of messages with a README or a manifest beside them validates as its messages.
fn judge_argument(path: &Path, opts: &Options, skipped: &mut Vec<PathBuf>) -> Vec<Judgement> {
    if !path.is_dir() {
        return vec![judge_path(path, opts)];
    }
    let mut out = Vec::new();
    for file in walk(path) {
        let known = opts.as_type.is_some()
            || std::fs::metadata(&file).is_ok_and(|m| m.len() > MAX_FILE_BYTES)
            || std::fs::read(&file)
                .is_ok_and(|b| detect(&file.display().to_string(), &b).is_some());
        if known {
            out.push(judge_path(&file, opts));
        } else {
            skipped.push(file);
        }
    }
    out
}

/// `validate FILE...`: judge (a folder: the files in it, [`walk`]), print, write
/// `validation.json` and `junit.xml` under `report_dir`; returns the exit code.
pub fn command(files: &[PathBuf], opts: &Options, report_dir: &Path) -> u8 {
    use std::io::Write;
    let mut skipped = Vec::new();
    let judgements: Vec<Judgement> = files
        .iter()
        .flat_map(|p| judge_argument(p, opts, &mut skipped))
        .collect();
    // Written without println!, which panics on a closed stdout (`| head`).
    let mut out = std::io::stdout().lock();
    for j in &judgements {
        for l in console_lines(j) {
            let _ = writeln!(out, "{l}");
        }
    }
    for f in &skipped {
        let _ = writeln!(
            out,
            "SKIPPED {}: in a folder, and not a type validate knows (name it, or give --as)",
            f.display()
        );
    }
    let profile = opts.as_type.map(|t| t.id()).unwrap_or("auto");
    let report = gazelle_report(profile, &judgements);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(report_dir)?;
        let json = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?;
        std::fs::write(report_dir.join("validation.json"), json)?;
        std::fs::write(report_dir.join("junit.xml"), junit_xml(&judgements))?;
        Ok(())
    };
    if let Err(e) = write() {
        eprintln!(
            "error: cannot write the reports under {}: {e}",
            report_dir.display()
        );
        return 2;
    }
    let count = |r: TestResult| judgements.iter().filter(|j| j.result() == r).count();
    let _ = writeln!(
        out,
        "{} files: {} PASSED, {} FAILED, {} UNDEFINED{}; reports in {}",
        judgements.len(),
        count(TestResult::Passed),
        count(TestResult::Failed),
        count(TestResult::Undefined),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", skipped.len())
        },
        report_dir.display()
    );
    exit_code(&judgements)
}

#[cfg(test)]
mod tests;
