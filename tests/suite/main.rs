//! The integration tests, as one test binary: one link instead of one per file keeps the build's disk
//! use and link time small. Each module is one area; `common` holds the shared helpers.
//!
//! Tests that use the shared Orthanc of `ci/start-orthanc.sh` take `common::orthanc_lock()` first, since
//! they now run side by side in one process.

mod common;

mod audit_corpus;
mod audit_fhir_feed;
mod audit_hostile;
mod audit_relay;
mod audit_repository_sut;
mod bulk_transfers;
mod cli;
mod dcmqrscp;
mod dicom_tls;
mod dicomweb_client;
mod dimse_scp;
mod dimse_scu;
mod fault_injection;
mod fhir_server;
mod hostile_http;
mod html_report;
mod kos_corpus;
mod load_mode;
mod mado_corpus;
mod messages;
mod mhd_corpus;
mod mhd_hostile;
mod mhd_messages;
mod mhd_triggers;
mod orthanc;
mod packs;
mod perf;
mod qr_scu;
mod reference_suite;
mod report_corpus;
mod report_files;
mod requirements;
mod runs_anywhere;
mod serve_load_mode;
mod stalled_sut;
mod tls_peers;
mod validate_corpus;
mod validate_fhir_corpus;
mod xca;
mod xca_consumer;
mod xca_i;
mod xca_initiating;
mod xcai_initiating;
mod xds_corpus;
mod xds_hostile;
mod xds_messages;
mod xds_triggers;
