//! Where a DICOM PS3.10 file's data set starts: after the 128-byte preamble, `DICM`, and the File
//! Meta Information group (0002), whose length (0002,0000) the file states (PS3.10 §7.1).

/// The offset of the data set in a PS3.10 file, or None when the bytes are not one.
pub fn dataset_offset(bytes: &[u8]) -> Option<usize> {
    if bytes.get(128..132)? != b"DICM" {
        return None;
    }
    // (0002,0000) UL, Explicit VR Little Endian: tag (4), "UL" (2), length (2), value (4).
    let head = bytes.get(132..144)?;
    if head[0..4] != [0x02, 0x00, 0x00, 0x00] || &head[4..6] != b"UL" {
        return None;
    }
    let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
    let end = 144usize.checked_add(len)?;
    (end <= bytes.len()).then_some(end)
}

/// The transfer syntax of a PS3.10 file: (0002,0010) in its File Meta group.
pub fn transfer_syntax(bytes: &[u8]) -> Option<String> {
    crate::model::dicom_part::sniff(bytes.get(..bytes.len().min(64 * 1024))?)
        .ok()?
        .transfer_syntax
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_files_have_their_meta_group_measured() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        for i in fx.instances.iter().take(5) {
            let bytes = std::fs::read(fx.file(i)).unwrap();
            let off = dataset_offset(&bytes).unwrap();
            assert!(off > 144 && off < 1024, "{off}");
            assert_eq!(
                transfer_syntax(&bytes).as_deref(),
                Some(i.transfer_syntax.as_str())
            );
        }
        assert_eq!(dataset_offset(b"not dicom"), None);
        let mut cut = std::fs::read(fx.file(&fx.instances[0])).unwrap();
        cut.truncate(150);
        assert_eq!(dataset_offset(&cut), None);
    }
}
