//! Formats: parsing and building the documents the transactions carry. No I/O besides reading fixtures.

pub mod audit;
pub mod dicom_guard;
pub mod dicom_json;
pub mod dicom_part;
pub mod ebrim;
pub mod fhir;
pub mod fixtures;
pub mod fsh;
pub mod imaging_report;
pub mod kos;
pub mod mado;
pub mod mhd_bundle;
pub mod reidentify;
pub mod xds_metadata;
