//! A digest of an instance's image, as distinct from the rest of its data set: the SHA-256 of its
//! Pixel Data (7FE0,0010) value when native, or of its fragments' bytes, in order and without the
//! Basic Offset Table, when encapsulated (PS3.5 §A.4).
//!
//! A Storage SCP may change attributes of an instance it stores (PS3.4 §B.4.1.3: patient
//! identification and UIDs to fit its query model, code sequences, and "other Attributes may be
//! modified/corrected"), so a data set that comes back with other bytes may still be the instance
//! stored. Its image may not change under the same SOP Instance UID: that digest is compared where
//! the bytes cannot be. An encapsulated image keeps its digest if only its fragmentation or its
//! offset table changed; a native one is the same in Explicit and Implicit VR Little Endian.

use sha2::{Digest, Sha256};

use dicom_dictionary_std::uids;

use super::walk::{explicit_vr, Walk, ITEM, SEQUENCE_END, UNDEFINED};

/// Most bytes of a data set read for its digest; past it the image is not judged.
pub const MAX_DIGESTED: u64 = 64 * 1024 * 1024;

/// Pixel Data (7FE0,0010).
const PIXEL_DATA: u32 = 0x7FE0_0010;

/// The digest of the image of a data set encoded in `ts_uid`; `None` when it has no Pixel Data,
/// cannot be walked, or is Big Endian or deflated (not read).
pub fn pixel_data_sha256(data_set: &[u8], ts_uid: &str) -> Option<String> {
    let explicit = explicit_vr(ts_uid).ok()?;
    let mut w = Walk::new(data_set);
    let mut h = Sha256::new();
    while !w.at_end() {
        let (tag, vr, len) = w.header(explicit)?;
        if tag > PIXEL_DATA {
            return None;
        }
        if tag == PIXEL_DATA {
            if len != UNDEFINED {
                h.update(w.take(len as usize)?);
                return Some(hex::encode(h.finalize()));
            }
            // Encapsulated: the Basic Offset Table item, then one item per fragment.
            match w.header(false)? {
                (ITEM, _, l) if l != UNDEFINED => {
                    w.take(l as usize)?;
                }
                _ => return None,
            }
            loop {
                match w.header(false)? {
                    (SEQUENCE_END, _, _) => return Some(hex::encode(h.finalize())),
                    (ITEM, _, l) if l != UNDEFINED => h.update(w.take(l as usize)?),
                    _ => return None,
                }
            }
        }
        w.skip_value(explicit, vr, len)?;
    }
    None
}

/// [`pixel_data_sha256`] of the data set of a PS3.10 file, up to [`MAX_DIGESTED`] bytes.
pub fn file_pixel_data_sha256(path: &std::path::Path) -> Option<String> {
    if std::fs::metadata(path).ok()?.len() > MAX_DIGESTED {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let offset = super::part10::dataset_offset(&bytes)?;
    let ts = super::part10::transfer_syntax(&bytes)?;
    pixel_data_sha256(&bytes[offset..], &ts)
}

/// Transfer syntaxes whose decoded pixels are the same in every decoder: native, deflated, and
/// the lossless compressions (PS3.5 §8, §A.4). A lossy image decoded by two decoders may differ,
/// so an uncompressed copy of one is not a reference for another's decoding.
pub fn is_lossless(ts_uid: &str) -> bool {
    matches!(
        ts_uid.trim_end_matches('\0'),
        uids::IMPLICIT_VR_LITTLE_ENDIAN
            | uids::EXPLICIT_VR_LITTLE_ENDIAN
            | uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN
            | "1.2.840.10008.1.2.2"
            | uids::RLE_LOSSLESS
            | uids::JPEG_LOSSLESS
            | uids::JPEG_LOSSLESS_SV1
            | uids::JPEGLS_LOSSLESS
            | uids::JPEG2000_LOSSLESS
            | uids::HTJ2K_LOSSLESS
            | uids::HTJ2K_LOSSLESS_RPCL
    )
}

/// Is `ts_uid` a native (uncompressed) Little Endian transfer syntax, in which Pixel Data values
/// are the same bytes?
pub fn is_native_le(ts_uid: &str) -> bool {
    matches!(
        ts_uid.trim_end_matches('\0'),
        uids::IMPLICIT_VR_LITTLE_ENDIAN | uids::EXPLICIT_VR_LITTLE_ENDIAN
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_dictionary_std::tags;

    #[test]
    fn the_image_digest_ignores_the_other_attributes_and_the_encoding() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        // An Implicit VR fixture with its Explicit VR copy: the same native pixels.
        let i = fx
            .instances
            .iter()
            .find(|i| i.transfer_syntax == uids::IMPLICIT_VR_LITTLE_ENDIAN && i.ele_path.is_some())
            .unwrap();
        let ile = file_pixel_data_sha256(&fx.file(i)).unwrap();
        let ele = file_pixel_data_sha256(&dir.join(i.ele_path.as_ref().unwrap())).unwrap();
        assert_eq!(ile, ele);
        // Another attribute changed: same image; a pixel changed: another image.
        let bytes = std::fs::read(dir.join(i.ele_path.as_ref().unwrap())).unwrap();
        let off = crate::dimse::part10::dataset_offset(&bytes).unwrap();
        use dicom_encoding::TransferSyntaxIndex;
        let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
            .get(uids::EXPLICIT_VR_LITTLE_ENDIAN)
            .unwrap();
        let mut obj = crate::model::dicom_guard::read_dataset(&bytes[off..], ts).unwrap();
        obj.put(dicom_core::DataElement::new(
            tags::INSTITUTION_NAME,
            dicom_core::VR::LO,
            dicom_core::PrimitiveValue::from("CHANGED"),
        ));
        let mut coerced = Vec::new();
        obj.write_dataset_with_ts(&mut coerced, ts).unwrap();
        assert_ne!(&coerced[..], &bytes[off..]);
        assert_eq!(
            pixel_data_sha256(&coerced, uids::EXPLICIT_VR_LITTLE_ENDIAN),
            Some(ele.clone())
        );
        let mut other = bytes[off..].to_vec();
        let n = other.len();
        other[n - 1] ^= 0xFF;
        assert_ne!(
            pixel_data_sha256(&other, uids::EXPLICIT_VR_LITTLE_ENDIAN),
            Some(ele)
        );
        // An encapsulated fixture has a digest too; a data set without Pixel Data has none.
        let rle = fx
            .instances
            .iter()
            .find(|i| i.transfer_syntax == uids::RLE_LOSSLESS)
            .unwrap();
        assert!(file_pixel_data_sha256(&fx.file(rle)).is_some());
        let kos = fx.instances.iter().find(|i| i.kos).unwrap();
        assert_eq!(file_pixel_data_sha256(&fx.file(kos)), None);
        assert_eq!(
            pixel_data_sha256(b"garbage", uids::EXPLICIT_VR_LITTLE_ENDIAN),
            None
        );
        assert!(is_lossless(uids::RLE_LOSSLESS) && !is_lossless(uids::JPEG_BASELINE8_BIT));
    }
}
