//! HL7 Europe imaging report checks: the eHN data set in a FHIR document, and the report-to-manifest link.

use super::Check;

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct ReportExpect {}

/// The checks.
pub static CHECKS: &[Check] = &[];
