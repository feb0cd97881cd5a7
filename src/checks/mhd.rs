//! MHD checks (IHE ITI MHD 4.2.x): ITI-65 Provide Document Bundle, ITI-66/67 searches, ITI-68 retrieve.

use super::Check;

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct MhdExpect {}

/// The checks.
pub static CHECKS: &[Check] = &[];
