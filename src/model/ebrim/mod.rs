//! ebXML Registry (ebRIM/ebRS 3.0) messages as XDS.b and XDS-I.b use them: parsing into typed
//! structs, builders for the requests the harness sends, and the syntax of their values (OID, CX,
//! DTM, stored query values).
//!
//! Transactions covered: ITI-41 Provide and Register Document Set-b and its imaging twin RAD-68
//! (`xdsb:ProvideAndRegisterDocumentSetRequest`, `lcm:SubmitObjectsRequest`), ITI-42/ITI-57
//! metadata, ITI-18 Registry Stored Query (`query:AdhocQueryRequest`/`Response`), ITI-43 Retrieve
//! Document Set, RAD-69 Retrieve Imaging Document Set (and RAD-75, its cross-gateway form), and
//! `rs:RegistryResponse`. Pinned editions: IHE ITI TF-2/TF-3 Rev. 20.0 (2023), IHE RAD TF-2/TF-3
//! Rev. 22.0, OASIS ebRIM/ebRS 3.0 (2005). Identifiers are copied from the project's standards
//! reference (§1-5), itself taken from IPF `Vocabulary.java` and the IHE schemas.
//!
//! Parsing never judges: a missing attribute becomes `None`, so that the validators of
//! `checks::xds::rules` can report each defect citing its rule and requirement.
//!
//! One file per kind of thing, all re-exported here so that every item is named
//! `model::ebrim::X`:
//! - `vocabulary`: namespaces, SOAP actions, scheme, slot, status and association URNs, error
//!   codes, stored query ids and their parameters;
//! - `objects`: the generic ebRIM objects and the DocumentEntry, SubmissionSet and Folder views;
//! - `messages`: the request and response messages, and [`Message`];
//! - `parse`: reading a message from XML ([`parse_message`], [`EbrimError`]);
//! - `syntax`: OID, CX, DTM and stored query value syntax;
//! - `build`: the requests the harness sends (`to_xml` of queries, retrieves, RegistryResponse);
//! - [`write`]: the XML writers of submissions, query responses and retrieve responses.

mod build;
mod messages;
mod objects;
mod parse;
mod syntax;
mod vocabulary;
pub mod write;

pub(crate) use build::{end, finish, WResult};
pub use messages::*;
pub use objects::*;
pub use parse::*;
pub use syntax::*;
pub use vocabulary::*;
