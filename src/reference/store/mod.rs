//! What every protocol of the reference serves from: the archive of studies, series and instances
//! (files stay on disk), where values lie in the stored Part 10 files and their Implicit/Explicit VR
//! transcoding, and the spool folder received instances are written to (STOW-RS, C-STORE).
//!
//! - [`archive`]: the in-memory index (PS3.3 A.1.2 information model), loaded from the fixtures;
//! - [`part10`]: the byte layout of stored files and transcoding (PS3.10, PS3.5);
//! - [`spool`]: the folder received instances are written to while they arrive;
//! - [`query`]: query keys and attribute matching (PS3.4 C.2.2.2), the QIDO-RS parameters (PS3.18
//!   8.3.4) and C-FIND identifiers both are read into.

pub mod archive;
pub mod part10;
pub mod query;
pub mod spool;

/// True for a syntactically valid UID (PS3.5 9.1): 1 to 64 characters, numeric components separated by
/// single dots, no leading zero in a multi-digit component.
pub fn is_valid_uid(uid: &str) -> bool {
    if uid.is_empty() || uid.len() > 64 {
        return false;
    }
    uid.split('.').all(|c| {
        !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && (c == "0" || !c.starts_with('0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_syntax() {
        assert!(is_valid_uid("1.2.840.10008.1.2.1"));
        assert!(is_valid_uid("2.25.0"));
        assert!(!is_valid_uid("1.2.abc"));
        assert!(!is_valid_uid("1..2"));
        assert!(!is_valid_uid("1.02"));
        assert!(!is_valid_uid(""));
        assert!(!is_valid_uid(&"1.".repeat(40)));
    }
}
