//! A minimal PNG encoder (ISO/IEC 15948, RFC 2083) for WADO-RS rendered resources (PS3.18 10.4.1.1.3).
//!
//! The image data is wrapped in a zlib stream (RFC 1950) made of uncompressed "stored" deflate blocks
//! (RFC 1951 3.2.4), each scanline with filter type 0. The files are larger than a real compressor would
//! make, but every decoder reads them, and the code stays small and dependency-free.

/// PNG colour types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorType {
    /// 8-bit greyscale (colour type 0).
    Gray8,
    /// 8-bit RGB (colour type 2).
    Rgb8,
}

impl ColorType {
    fn channels(self) -> usize {
        match self {
            ColorType::Gray8 => 1,
            ColorType::Rgb8 => 3,
        }
    }

    fn code(self) -> u8 {
        match self {
            ColorType::Gray8 => 0,
            ColorType::Rgb8 => 2,
        }
    }
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// CRC-32 of PNG chunks (ISO 3309, as in the PNG specification's sample code).
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xFFFF_FFFF
}

/// Adler-32 checksum of a zlib stream (RFC 1950 8.2).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// zlib stream of stored deflate blocks.
fn zlib_stored(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 65_535 * 5 + 16);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = raw.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        out.push(u8::from(last));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(raw).to_be_bytes());
    out
}

/// Encode 8-bit samples (row-major, channels interleaved) as a PNG file. `None` when the buffer does
/// not hold `width * height` pixels or a dimension is zero.
pub fn encode(width: u32, height: u32, color: ColorType, samples: &[u8]) -> Option<Vec<u8>> {
    let row = (width as usize).checked_mul(color.channels())?;
    if width == 0 || height == 0 || samples.len() != row.checked_mul(height as usize)? {
        return None;
    }
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in samples.chunks(row) {
        raw.push(0);
        raw.extend_from_slice(line);
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, color.code(), 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn encodes_a_small_image() {
        let png = encode(2, 2, ColorType::Gray8, &[0, 255, 128, 64]).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        assert!(encode(2, 2, ColorType::Rgb8, &[0; 4]).is_none());
        assert!(encode(0, 2, ColorType::Gray8, &[]).is_none());
        // A large image spans several stored blocks.
        let big = encode(400, 400, ColorType::Gray8, &vec![7; 160_000]).unwrap();
        assert!(big.len() > 160_000);
    }
}
