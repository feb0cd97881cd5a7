//! What every protocol of the reference serves from: the archive of studies, series and instances
//! (files stay on disk), where values lie in the stored Part 10 files and their Implicit/Explicit VR
//! transcoding, and the spool folder received instances are written to (STOW-RS, C-STORE).
//!
//! - [`archive`]: the in-memory index (PS3.3 A.1.2 information model), loaded from the fixtures;
//! - [`part10`]: the byte layout of stored files and transcoding (PS3.10, PS3.5);
//! - [`spool`]: the folder received instances are written to while they arrive.

pub mod archive;
pub mod part10;
pub mod spool;
