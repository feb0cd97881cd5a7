//! ihe-harness: a conformance test harness for the exchange of medical images and imaging reports
//! (IHE XDS-I.b, DICOMweb, MHD, DICOM DIMSE) as the eHealth Network guideline describes it.
//!
//! Gherkin scenarios drive simulated IHE actors over the real protocols against a system under test
//! (SUT); checks that cite the standard judge the recorded exchanges; reports come out as JUnit XML,
//! a JSON result file and an evidence folder.
//!
//! Module map (the README's map names every file):
//! - [`assets`]: the feature files, fixture studies, code sets and example profiles compiled into the
//!   binary, so that it runs from any folder; `export` writes them out.
//! - [`config`]: the SUT profile (TOML: `[dicomweb]`, `[dimse]`, `[xds]`, `[mhd]`, `[limits]`,
//!   triggers), validated in two stages, unknown keys rejected with a hint.
//! - [`transport`]: wire only: [`transport::http`] (recording client with bounded waits and body
//!   limits), [`transport::multipart`] (streaming multipart/related, RFC 2046),
//!   [`transport::soap`] (SOAP 1.2 and MTOM/XOP), [`transport::media_type`], and
//!   [`transport::factory`], which builds every HTTP client and DICOM association's options.
//! - [`dimse`]: the DIMSE message layer on `dicom-ul` (command sets, fragmentation, associations,
//!   a bounds-checked data set walker, image digests).
//! - [`model`]: formats, parsed and built: DICOM JSON and Part 10, the XDS-I.b KOS manifest, ebRIM
//!   metadata, MADO (KOS and FHIR), FHIR R4 resources (JSON and XML), the ITI-65 bundle, the HL7
//!   Europe imaging report, the fixture studies' index and re-identified copies.
//! - [`actors`]: the harness's simulated client actors: DICOMweb (RAD-107, RAD-129, RAD-108), DIMSE
//!   SCU (C-ECHO, C-FIND, C-MOVE, C-GET, C-STORE), XDS-I.b (ITI-18, ITI-43, RAD-68, RAD-69) and MHD
//!   (ITI-65..68).
//! - [`checks`]: the check registry: id, requirement, catalogue ids, level, actor, title, pure
//!   function; one module per profile; the validators of each rule family (one vocabulary,
//!   [`checks::rule`]), which the reference uses to answer too.
//! - [`requirements`]: the requirement catalogue (`requirements/catalogue.toml`) the checks name,
//!   its coverage by checks, scenarios and the proofs that each check can fail.
//! - [`transaction`]: [`transaction::Transaction`], one variant per transaction the harness speaks
//!   (id, profile, actors, SOAP actions, MTOM), matched exhaustively wherever code dispatches on one.
//! - [`evidence`]: [`evidence::Exchange`] (HTTP, SOAP and DIMSE), the evidence log, redaction of
//!   secrets.
//! - [`reference`](mod@reference): the embedded reference SUT and the simulators a SUT calls, one
//!   folder per protocol (`store`, `dicomweb`, `dimse`, `xds`, `mhd`) behind a small facade, with
//!   fault injection for self-tests.
//! - [`stand_in`]: the built-in stand-ins that play a SUT which acts first, against the embedded
//!   reference (XDS-I.b and MHD sources and consumers, a DIMSE modality).
//! - [`test_data`]: the fixture studies put on a SUT in load mode, once per run (STOW-RS, C-STORE,
//!   RAD-68, ITI-65), with errors that tell the SUT's refusal from the harness's failure.
//! - [`trigger`]: making a SUT act first (a command line, a prompt to the operator, or a built-in
//!   stand-in) before the steps wait for its call at the simulators.
//! - [`steps`], [`world`]: cucumber step definitions, one module per profile, and the World.
//! - [`report`]: junit.xml, results.json and the evidence folder.
//! - [`runner`], [`listing`]: one run, end to end; `list`.
//! - [`serve`]: what `serve` judges of each message a SUT sends to the simulated actors.
//! - [`transfer`]: the bulk transfers of `store --stow` and `retrieve --dimse`: several STOW-RS
//!   requests or associations at once, every instance judged or counted once.
//! - [`load`]: `load`, the replay of a run's HTTP requests by concurrent virtual users, and
//!   `load merge`.
#![forbid(unsafe_code)]

pub mod actors;
pub mod assets;
pub mod checks;
pub mod config;
pub mod dimse;
pub mod evidence;
pub mod init;
pub mod listing;
pub mod load;
pub mod model;
pub mod packs;
pub mod reference;
pub mod report;
pub mod requirements;
pub mod runner;
pub mod scratch;
pub mod serve;
pub mod stand_in;
pub mod steps;
pub mod test_data;
pub mod transaction;
pub mod transfer;
pub mod transport;
pub mod trigger;
pub mod validate;
pub mod world;
