//! ihe-harness: a conformance test harness for the exchange of medical images and imaging reports
//! (IHE XDS-I.b, DICOMweb, MHD, DICOM DIMSE) as the eHealth Network guideline describes it.
//!
//! Gherkin scenarios drive simulated IHE actors over the real protocols against a system under test
//! (SUT); checks that cite the standard judge the recorded exchanges; reports come out as JUnit XML,
//! a JSON result file and an evidence folder.
//!
//! Module map:
//! - [`config`]: the SUT profile (TOML), validated in two stages, unknown keys rejected with a hint.
//! - [`transport`]: wire only: [`transport::http`] (recording client with bounded waits),
//!   [`transport::multipart`] (streaming multipart/related, RFC 2046), [`transport::media_type`].
//! - [`model`]: formats: [`model::dicom_json`] (PS3.18 Annex F), [`model::dicom_part`] (PS3.10
//!   header sniffing from a bounded prefix), [`model::fixtures`] (the fixture studies' index).
//! - [`actors`]: simulated IHE actors: [`actors::wado_rs`] (RAD-107), [`actors::qido_rs`] (RAD-129),
//!   [`actors::stow_rs`] (RAD-108).
//! - [`checks`]: the check registry: id, requirement, level, actor, title, pure function.
//! - [`evidence`]: [`evidence::Exchange`], the evidence log, redaction of secrets.
//! - [`reference`](mod@reference): the embedded reference SUT and simulators, one folder per protocol
//!   (`store`, `dicomweb`, `dimse`, `xds`, `mhd`) behind a small facade, with fault injection for
//!   self-tests.
//! - [`steps`], [`world`]: cucumber step definitions and World.
//! - [`report`]: junit.xml, results.json and the evidence folder.
//! - [`runner`]: one run, end to end.
#![forbid(unsafe_code)]

pub mod actors;
pub mod checks;
pub mod config;
pub mod dimse;
pub mod evidence;
pub mod listing;
pub mod model;
pub mod reference;
pub mod report;
pub mod runner;
pub mod steps;
pub mod transport;
pub mod world;
