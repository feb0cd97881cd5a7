//! The DIMSE message layer on the DICOM upper layer (`dicom-ul`): command sets, messages and their
//! fragmentation (PS3.7, PS3.8). `dicom-ul` gives associations and PDUs; this layer gives the
//! DIMSE-C messages the SCU and SCP actors exchange.
//!
//! - [`command`]: command set encoding and decoding (Implicit VR Little Endian), command fields
//!   and status codes;
//! - [`message`]: sending and receiving one message (command + data set) with a timeout per PDU,
//!   data sets streamed from and to files;
//! - [`pixels`]: a digest of an instance's image apart from its other attributes;
//! - [`walk`]: a bounds-checked walk over the elements of a Little Endian data set.

pub mod association;
pub mod command;
pub mod message;
pub mod part10;
pub mod pixels;
pub mod walk;
