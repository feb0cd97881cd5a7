//! Offline validation of files with the checks a run uses.

pub mod fhir;
