//! The Gazelle validation API v2 report model, written by `validate` as `validation.json` and
//! answered by `validate --serve` (`POST /validation/v2/validate`), so that Gazelle EVS, the EU
//! Interoperability Test Bed or any client of that API reads the harness's verdicts.
//!
//! Field names follow the Gazelle "validation-service-api" v2 model (gitlab.inria.fr
//! gazelle/public/core/validation-service-api, module `validation-v2-api`, package
//! `net.ihe.gazelle.validation.v2.api.business`, release 2.0.0–2.2.0), as two public
//! implementations of the API copy it: ahdis/matchbox
//! (`ch.ahdis.matchbox.validation.gazelle.models.validation`: `ValidationRequest` with
//! `validationProfileId` and `inputs`, `SubjectLocation` with `type`, `value`, `inputId`,
//! `ValidationMethod` with `validationServiceName`, `validationServiceVersion`,
//! `validationProfileID`, `validationProfileVersion`, `ValidationProfile` with `profileID`,
//! `profileName`, `domain`, `coveredItems`) and the `be.uzleuven.ihe.service.models` classes
//! (`ValidationReport` with `modelVersion` "2.0", `uuid`, `dateTime`, `disclaimer`,
//! `overallResult`, `validationMethod`, `inputs`, `reports`, `counters`, `additionalMetadata`;
//! `ValidationSubReport` with `name`, `standards`, `subReportResult`, `subReports`,
//! `assertionReports`, `subCounters`, `unexpectedErrors`; `AssertionReport` with `assertionID`,
//! `assertionType`, `description`, `subjectLocations`, `subjectValue`, `requirementIDs`,
//! `severity` INFO / WARNING / ERROR, `priority` MANDATORY / RECOMMENDED / PERMITTED, `result`
//! PASSED / FAILED / UNDEFINED; `ValidationCounters` with `numberOfAssertions`,
//! `numberOfFailedWithInfos`, `numberOfFailedWithWarnings`, `numberOfFailedWithErrors`,
//! `numberOfUnexpectedErrors`, `numberOfUndefined`; `Input` with `id`, `itemId`, `content`
//! (base64), `location`; `Metadata` with `name`, `value`; `UnexpectedError` with `name`,
//! `message`). The v1 request field `validationServiceName` is accepted too.
//!
//! The validation subject of each file (its name, the type detected and its SHA-256) is an
//! `inputs` entry (`id` the file name, `itemId` the type) and `additionalMetadata` rows.

use serde::{Deserialize, Serialize};

/// PASSED / FAILED / UNDEFINED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TestResult {
    /// Every assertion judged holds.
    Passed,
    /// An assertion of severity ERROR failed.
    Failed,
    /// Nothing could be judged (the input was not recognised or not readable).
    Undefined,
}

impl std::fmt::Display for TestResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TestResult::Passed => "PASSED",
            TestResult::Failed => "FAILED",
            TestResult::Undefined => "UNDEFINED",
        })
    }
}

/// INFO / WARNING / ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Information.
    Info,
    /// A SHOULD breached (outside strict mode).
    Warning,
    /// A SHALL breached.
    Error,
}

/// MANDATORY (SHALL) / RECOMMENDED (SHOULD) / PERMITTED (MAY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Priority {
    /// SHALL.
    Mandatory,
    /// SHOULD.
    Recommended,
    /// MAY.
    Permitted,
}

/// Where in an input the subject of an assertion is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectLocation {
    /// The input (its `id`).
    pub input_id: String,
    /// `XPath`, `FHIRPath`, `JSONPath`, `DICOM tag path`, `line-column`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The path.
    pub value: String,
}

/// One assertion judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionReport {
    /// The check id (`RAD69-01`).
    #[serde(rename = "assertionID")]
    pub assertion_id: String,
    /// The family of rules (`XDS-I.b RAD-69 request`).
    #[serde(rename = "assertionType", skip_serializing_if = "Option::is_none")]
    pub assertion_type: Option<String>,
    /// The requirement, then what was found.
    pub description: String,
    /// Where, when known.
    #[serde(
        rename = "subjectLocations",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subject_locations: Vec<SubjectLocation>,
    /// The value found, when the check says it.
    #[serde(rename = "subjectValue", skip_serializing_if = "Option::is_none")]
    pub subject_value: Option<String>,
    /// The requirement cited and its catalogue ids.
    #[serde(rename = "requirementIDs", default)]
    pub requirement_ids: Vec<String>,
    /// INFO / WARNING / ERROR.
    pub severity: Severity,
    /// MANDATORY / RECOMMENDED / PERMITTED.
    pub priority: Priority,
    /// PASSED / FAILED / UNDEFINED.
    pub result: TestResult,
}

/// Counts of assertion results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationCounters {
    /// Assertions reported.
    pub number_of_assertions: u32,
    /// Failed, severity INFO.
    pub number_of_failed_with_infos: u32,
    /// Failed, severity WARNING.
    pub number_of_failed_with_warnings: u32,
    /// Failed, severity ERROR.
    pub number_of_failed_with_errors: u32,
    /// Errors of the validator itself.
    pub number_of_unexpected_errors: u32,
    /// Assertions not judged.
    pub number_of_undefined: u32,
}

impl ValidationCounters {
    /// The counts of these assertions and unexpected errors.
    pub fn of(assertions: &[AssertionReport], unexpected: usize) -> ValidationCounters {
        let mut c = ValidationCounters {
            number_of_assertions: assertions.len() as u32,
            number_of_unexpected_errors: unexpected as u32,
            ..ValidationCounters::default()
        };
        for a in assertions {
            match (a.result, a.severity) {
                (TestResult::Failed, Severity::Info) => c.number_of_failed_with_infos += 1,
                (TestResult::Failed, Severity::Warning) => c.number_of_failed_with_warnings += 1,
                (TestResult::Failed, Severity::Error) => c.number_of_failed_with_errors += 1,
                (TestResult::Undefined, _) => c.number_of_undefined += 1,
                (TestResult::Passed, _) => {}
            }
        }
        c
    }

    fn add(&mut self, o: &ValidationCounters) {
        self.number_of_assertions += o.number_of_assertions;
        self.number_of_failed_with_infos += o.number_of_failed_with_infos;
        self.number_of_failed_with_warnings += o.number_of_failed_with_warnings;
        self.number_of_failed_with_errors += o.number_of_failed_with_errors;
        self.number_of_unexpected_errors += o.number_of_unexpected_errors;
        self.number_of_undefined += o.number_of_undefined;
    }
}

/// An error of the validator, not a verdict on the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnexpectedError {
    /// What failed.
    pub name: String,
    /// Why.
    pub message: String,
}

/// The report of one validator on one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationSubReport {
    /// The validator and the input (`XDS-I.b RAD-69 request: case-01.xml`).
    pub name: String,
    /// The documents its rules cite.
    #[serde(default)]
    pub standards: Vec<String>,
    /// PASSED / FAILED / UNDEFINED.
    pub sub_report_result: TestResult,
    /// Nested reports (none).
    #[serde(default)]
    pub sub_reports: Vec<ValidationSubReport>,
    /// The assertions.
    #[serde(default)]
    pub assertion_reports: Vec<AssertionReport>,
    /// Their counts.
    pub sub_counters: ValidationCounters,
    /// Errors of the validator.
    #[serde(default)]
    pub unexpected_errors: Vec<UnexpectedError>,
}

/// A validated input: the file's name as `id`, its detected type as `itemId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The input's id (the file name).
    #[serde(default)]
    pub id: String,
    /// The item type (the type detected or asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The content, base64 (requests only; reports leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Where the content was taken from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A name and a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// The validation service and profile that made the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationMethod {
    /// `ihe-harness`.
    #[serde(rename = "validationServiceName")]
    pub validation_service_name: String,
    /// The harness version.
    #[serde(rename = "validationServiceVersion")]
    pub validation_service_version: String,
    /// The profile (type) asked, or `auto`.
    #[serde(rename = "validationProfileID")]
    pub validation_profile_id: String,
    /// The profile version (the harness version).
    #[serde(rename = "validationProfileVersion")]
    pub validation_profile_version: String,
}

/// The validation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    /// "2.0".
    pub model_version: String,
    /// A unique id of the report.
    pub uuid: String,
    /// When (RFC 3339, UTC).
    pub date_time: String,
    /// What the report does not claim.
    pub disclaimer: String,
    /// PASSED / FAILED / UNDEFINED.
    pub overall_result: TestResult,
    /// Service and profile.
    pub validation_method: ValidationMethod,
    /// The inputs judged.
    pub inputs: Vec<Input>,
    /// One report per validator and input.
    pub reports: Vec<ValidationSubReport>,
    /// Counts over all reports.
    pub counters: ValidationCounters,
    /// Per input: its SHA-256 and detected type; the context used.
    pub additional_metadata: Vec<Metadata>,
}

/// The disclaimer of every report.
pub const DISCLAIMER: &str = "Judged offline by ihe-harness with the checks of its conformance \
     runs; each assertion cites the requirement it enforces. Rules that need a responder's content \
     are judged only with a context (validate --context) and are otherwise reported UNDEFINED.";

impl ValidationReport {
    /// A report over these sub-reports: the overall result is FAILED when any is FAILED, else
    /// UNDEFINED when any is UNDEFINED, else PASSED (no report at all is UNDEFINED).
    pub fn new(
        profile: &str,
        inputs: Vec<Input>,
        reports: Vec<ValidationSubReport>,
        additional_metadata: Vec<Metadata>,
    ) -> ValidationReport {
        let mut counters = ValidationCounters::default();
        for r in &reports {
            counters.add(&r.sub_counters);
        }
        let overall_result = overall(reports.iter().map(|r| r.sub_report_result));
        let now = time::OffsetDateTime::now_utc();
        let date_time = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        ValidationReport {
            model_version: "2.0".into(),
            uuid: pseudo_uuid(&date_time, &reports),
            date_time,
            disclaimer: DISCLAIMER.into(),
            overall_result,
            validation_method: ValidationMethod {
                validation_service_name: "ihe-harness".into(),
                validation_service_version: env!("CARGO_PKG_VERSION").into(),
                validation_profile_id: profile.into(),
                validation_profile_version: env!("CARGO_PKG_VERSION").into(),
            },
            inputs,
            reports,
            counters,
            additional_metadata,
        }
    }
}

/// FAILED when any is FAILED, else UNDEFINED when any is UNDEFINED or there is none, else PASSED.
pub fn overall(results: impl IntoIterator<Item = TestResult>) -> TestResult {
    let mut any = false;
    let mut undefined = false;
    for r in results {
        any = true;
        match r {
            TestResult::Failed => return TestResult::Failed,
            TestResult::Undefined => undefined = true,
            TestResult::Passed => {}
        }
    }
    if undefined || !any {
        TestResult::Undefined
    } else {
        TestResult::Passed
    }
}

/// A version-4-shaped UUID from the SHA-256 of the time and the reports (no random source needed:
/// two reports differ in time or content).
fn pseudo_uuid(when: &str, reports: &[ValidationSubReport]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(when.as_bytes());
    h.update(std::process::id().to_le_bytes());
    for r in reports {
        h.update(r.name.as_bytes());
        h.update(r.assertion_reports.len().to_le_bytes());
    }
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&h.finalize()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// A validation profile (`GET /validation/v2/profiles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationProfile {
    /// The id, as `--as` takes it.
    #[serde(rename = "profileID")]
    pub profile_id: String,
    /// What it judges.
    #[serde(rename = "profileName")]
    pub profile_name: String,
    /// IHE domain (`RAD`, `ITI`) or `DICOM`, `HL7`.
    pub domain: String,
    /// The items (messages, documents) it covers.
    #[serde(rename = "coveredItems")]
    pub covered_items: Vec<String>,
}

/// A validation request (`POST /validation/v2/validate`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ValidationRequest {
    /// The service (v1 field; must be `ihe-harness` when given).
    #[serde(rename = "validationServiceName", default)]
    pub validation_service_name: Option<String>,
    /// The profile: a type of `validate --as`, or `auto` / absent to detect it.
    #[serde(rename = "validationProfileId", alias = "validationProfileID", default)]
    pub validation_profile_id: Option<String>,
    /// The items to judge, base64.
    #[serde(default)]
    pub inputs: Vec<Input>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertion(result: TestResult, severity: Severity) -> AssertionReport {
        AssertionReport {
            assertion_id: "RAD69-01".into(),
            assertion_type: None,
            description: "d".into(),
            subject_locations: vec![],
            subject_value: None,
            requirement_ids: vec!["RAD TF-2 4.69.4.1.2".into()],
            severity,
            priority: Priority::Mandatory,
            result,
        }
    }

    #[test]
    fn field_names_are_the_gazelle_v2_ones() {
        let a = assertion(TestResult::Failed, Severity::Error);
        let sub = ValidationSubReport {
            name: "n".into(),
            standards: vec![],
            sub_report_result: TestResult::Failed,
            sub_reports: vec![],
            sub_counters: ValidationCounters::of(std::slice::from_ref(&a), 0),
            assertion_reports: vec![a],
            unexpected_errors: vec![],
        };
        let r = ValidationReport::new("auto", vec![], vec![sub], vec![]);
        let v = serde_json::to_value(&r).unwrap();
        for k in [
            "modelVersion",
            "uuid",
            "dateTime",
            "disclaimer",
            "overallResult",
            "validationMethod",
            "inputs",
            "reports",
            "counters",
            "additionalMetadata",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["overallResult"], "FAILED");
        assert_eq!(v["counters"]["numberOfFailedWithErrors"], 1);
        assert_eq!(v["validationMethod"]["validationProfileID"], "auto");
        let a = &v["reports"][0]["assertionReports"][0];
        assert_eq!(a["assertionID"], "RAD69-01");
        assert_eq!(a["severity"], "ERROR");
        assert_eq!(a["priority"], "MANDATORY");
        assert_eq!(a["requirementIDs"][0], "RAD TF-2 4.69.4.1.2");
        assert_eq!(v["reports"][0]["subReportResult"], "FAILED");
        let u = r.uuid;
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn overall_result_precedence() {
        use TestResult::*;
        assert_eq!(overall([Passed, Undefined, Failed]), Failed);
        assert_eq!(overall([Passed, Undefined]), Undefined);
        assert_eq!(overall([Passed]), Passed);
        assert_eq!(overall([]), Undefined);
    }

    #[test]
    fn a_request_reads_both_spellings() {
        let r: ValidationRequest = serde_json::from_str(
            r#"{"validationServiceName":"ihe-harness","validationProfileID":"kos","inputs":[{"id":"a","content":"AA=="}]}"#,
        )
        .unwrap();
        assert_eq!(r.validation_profile_id.as_deref(), Some("kos"));
        let r: ValidationRequest =
            serde_json::from_str(r#"{"validationProfileId":"auto","inputs":[]}"#).unwrap();
        assert_eq!(r.validation_profile_id.as_deref(), Some("auto"));
    }
}
