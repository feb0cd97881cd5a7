//! A walk over the elements of an encoded Little Endian data set, reading element headers and
//! skipping values and sequences (PS3.5 §7.1, §7.5). Every read is bounds-checked and the nesting
//! of sequences is limited: a truncated or hostile data set ends the walk with `None`, never a
//! panic.

use crate::model::dicom_part::is_long_vr;

/// Deepest nesting of sequences walked over.
const MAX_DEPTH: usize = 32;

/// Item (FFFE,E000).
pub const ITEM: u32 = 0xFFFE_E000;
/// Item Delimitation Item (FFFE,E00D).
pub const ITEM_END: u32 = 0xFFFE_E00D;
/// Sequence Delimitation Item (FFFE,E0DD).
pub const SEQUENCE_END: u32 = 0xFFFE_E0DD;
/// The undefined length (FFFFFFFFH).
pub const UNDEFINED: u32 = u32::MAX;

/// Whether a data set in `ts_uid` is walked as Explicit VR (`true`) or Implicit VR (`false`)
/// Little Endian; the reason when it is not walked (Big Endian or deflated).
pub fn explicit_vr(ts_uid: &str) -> Result<bool, &'static str> {
    match ts_uid.trim_end_matches(['\0', ' ']) {
        "1.2.840.10008.1.2" => Ok(false),
        "1.2.840.10008.1.2.2" => Err("big endian data sets are not read"),
        "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.5.1" => {
            Err("deflated data sets are not read")
        }
        _ => Ok(true),
    }
}

/// A position in an encoded data set (Little Endian).
pub struct Walk<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Walk<'a> {
    /// A walk from the first byte of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Walk { bytes, pos: 0 }
    }

    /// The offset of the next byte read.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Have all the bytes been read?
    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// One element header: (tag, VR if explicit, length; [`UNDEFINED`] when undefined). Items
    /// and delimiters (group FFFE) have no VR in either encoding.
    pub fn header(&mut self, explicit: bool) -> Option<(u32, Option<[u8; 2]>, u32)> {
        let tag = (u32::from(self.u16()?) << 16) | u32::from(self.u16()?);
        if tag >> 16 == 0xFFFE || !explicit {
            return Some((tag, None, self.u32()?));
        }
        let vr = self.take(2)?;
        let vr = [vr[0], vr[1]];
        let len = if is_long_vr(&vr) {
            self.take(2)?;
            self.u32()?
        } else {
            u32::from(self.u16()?)
        };
        Some((tag, Some(vr), len))
    }

    /// Skip the value of the element whose header was just read: `len` bytes, or the items of an
    /// undefined-length value up to its Sequence Delimitation Item.
    pub fn skip_value(&mut self, explicit: bool, vr: Option<[u8; 2]>, len: u32) -> Option<()> {
        if len == UNDEFINED {
            self.skip_items(explicit && vr != Some(*b"UN"), 0)
        } else {
            self.take(len as usize).map(|_| ())
        }
    }

    /// Skip the items of an undefined-length value up to its Sequence Delimitation Item; the
    /// items of a UN value are Implicit VR (PS3.5 §6.2.2), so `explicit` is false for them.
    pub fn skip_items(&mut self, explicit: bool, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        loop {
            match self.header(false)? {
                (SEQUENCE_END, _, _) => return Some(()),
                (ITEM, _, UNDEFINED) => self.skip_elements(explicit, depth + 1)?,
                (ITEM, _, len) => {
                    self.take(len as usize)?;
                }
                _ => return None,
            }
        }
    }

    /// Skip the elements of an undefined-length item up to its Item Delimitation Item.
    fn skip_elements(&mut self, explicit: bool, depth: usize) -> Option<()> {
        loop {
            let (tag, vr, len) = self.header(explicit)?;
            if tag == ITEM_END {
                return Some(());
            }
            if len == UNDEFINED {
                self.skip_items(explicit && vr != Some(*b"UN"), depth)?;
            } else {
                self.take(len as usize)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `levels` undefined-length sequences, each in the one item of the one before.
    fn nested(levels: usize) -> Vec<u8> {
        let mut inner = Vec::new();
        for _ in 0..levels {
            let mut sq = vec![0x08, 0, 0x15, 0x11, b'S', b'Q', 0, 0];
            sq.extend_from_slice(&UNDEFINED.to_le_bytes());
            sq.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
            sq.extend_from_slice(&UNDEFINED.to_le_bytes());
            sq.extend_from_slice(&inner);
            sq.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
            sq.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
            inner = sq;
        }
        inner
    }

    fn skip_one(bytes: &[u8], explicit: bool) -> Option<usize> {
        let mut w = Walk::new(bytes);
        let (_, vr, len) = w.header(explicit)?;
        w.skip_value(explicit, vr, len)?;
        Some(w.pos())
    }

    #[test]
    fn sequences_are_skipped_to_their_end_and_no_deeper_than_the_limit() {
        let ok = nested(MAX_DEPTH + 1);
        assert_eq!(skip_one(&ok, true), Some(ok.len()));
        assert_eq!(skip_one(&nested(MAX_DEPTH + 2), true), None);
        // Cut anywhere: the walk ends without a panic.
        for cut in 0..ok.len() {
            assert_eq!(skip_one(&ok[..cut], true), None);
        }
        // A defined-length value past the end, and a short header.
        assert_eq!(
            skip_one(&[0x08, 0, 0x18, 0, b'U', b'I', 0xFF, 0xFF], true),
            None
        );
        assert_eq!(Walk::new(&[0x08, 0, 0x18]).header(false), None);
        assert_eq!(explicit_vr("1.2.840.10008.1.2\0"), Ok(false));
        assert_eq!(explicit_vr("1.2.840.10008.1.2.4.50"), Ok(true));
        assert!(explicit_vr("1.2.840.10008.1.2.2").is_err());
    }
}
