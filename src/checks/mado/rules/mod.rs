//! The MADO rules: the FHIR manifest rules MADO-01..12 and the MHD envelope rules MADO-D1..D4
//! (`fhir.rs`), the Display URI of a KOS manifest, KOS-19 (`display_uri.rs`), and the
//! consistency of a manifest with its FHIR twin, its envelope and what the Image Source holds
//! (`compare.rs`, each disagreement a [`Difference`]). The KOS manifest rules MADO shares with
//! XDS-I.b are in [`crate::checks::kos::rules`].

mod compare;
mod display_uri;
mod fhir;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use crate::checks::rule::{Rule, Violation};
use crate::checks::Level;
pub use compare::{
    compare_docref, compare_kos_fhir, compare_with_holdings, fhir_references, kos_references,
};
pub use display_uri::{display_uri_violations, MADO_PRIVATE_CREATOR};
pub use fhir::{validate_docref, validate_fhir_manifest, FHIR_RULES};

/// One disagreement between two descriptions of the same study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The field compared (`ImagingStudy.numberOfSeries`).
    pub field: String,
    /// Its value in the reference (the KOS, the holdings).
    pub expected: String,
    /// Its value in the document compared.
    pub found: String,
    /// Document and section that makes them equal.
    pub citation: &'static str,
    /// Error for a contradiction, Warning for a variance the sources themselves show.
    pub level: Level,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {} ({})",
            self.field, self.expected, self.found, self.citation
        )
    }
}
