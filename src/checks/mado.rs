//! MADO manifest checks (IHE RAD MADO): the FHIR manifest and the consistency of the two manifest formats with each other and with the images.

use super::Check;

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct MadoExpect {}

/// The checks.
pub static CHECKS: &[Check] = &[];
