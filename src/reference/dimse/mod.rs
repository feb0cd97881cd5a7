//! The reference's DIMSE SCP (PS3.4 Annexes A-C, PS3.7, PS3.8): the default system under test of
//! the harness's DIMSE SCU, and the simulator a SUT acting as SCU (a modality, a viewer) sends to.
//!
//! - [`scp`]: association negotiation, the message loop, Verification and Storage;
//! - [`query_retrieve`]: Query/Retrieve on the archive, C-FIND in `find.rs`, C-MOVE and C-GET in
//!   `retrieve.rs`;
//! - [`session`]: one association as every service sees it (messages, evidence, C-CANCEL);
//! - [`sub_operations`]: the C-STORE sub-operations of C-MOVE (their own association to the move
//!   destination) and C-GET.

pub mod query_retrieve;
pub mod scp;
pub mod session;
pub mod sub_operations;
