//! The reference DICOMweb origin server (PS3.18): WADO-RS (10.4; IHE RAD-107), QIDO-RS (10.6;
//! RAD-129) and STOW-RS (10.5; RAD-108) below `/dicom-web`, strict about requests.
//!
//! - [`retrieve`]: instance retrieval as `multipart/related; type="application/dicom"`;
//! - [`metadata`]: metadata in DICOM JSON with `BulkDataURI`s;
//! - [`bulkdata`]: bulk data and frames;
//! - [`rendered`], [`png`] and [`gif`]: rendered resources as JPEG (baseline, the default), PNG and GIF;
//! - [`qido`]: search, matched by [`crate::reference::store::query`];
//! - [`stow`]: STOW-RS into the archive through the spool;
//! - [`capabilities`]: the `OPTIONS` answer of the service root;
//! - [`negotiate`]: Accept negotiation (PS3.18 8.7);
//! - [`multipart_body`], [`json`], [`web`]: response bodies and HTTP plumbing.

pub mod bulkdata;
pub mod capabilities;
pub mod gif;
pub mod json;
pub mod metadata;
pub mod multipart_body;
pub mod negotiate;
pub mod png;
pub mod qido;
pub mod rendered;
pub mod retrieve;
pub mod stow;
pub mod web;
