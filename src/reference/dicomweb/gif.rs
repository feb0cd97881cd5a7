//! A minimal GIF encoder (GIF89a) for WADO-RS rendered resources: PS3.18 Table 8.7.4-1 requires
//! `image/gif` of a RESTful origin server for single-frame images.
//!
//! One image, 8 bits per pixel, with a global colour table: 256 greys for greyscale, and for RGB the
//! 3-3-2 palette (3 bits of red, 3 of green, 2 of blue), which keeps every image at most 8 bits per
//! channel (PS3.18 §8.7.4) at the price of colour depth. The LZW stream (GIF89a Appendix F) holds
//! only literal codes of 9 bits, with a Clear code before the code table would grow to 10 bits: the
//! files are larger than a real compressor would make, but every decoder reads them, and the code
//! stays small and dependency-free.

use crate::reference::dicomweb::png::ColorType;

/// The LZW minimum code size of 8-bit pixels.
const MIN_CODE_SIZE: u8 = 8;
const CLEAR: u16 = 1 << MIN_CODE_SIZE;
const END: u16 = CLEAR + 1;
/// Literal codes written after a Clear before the next one. After a Clear the decoder's next
/// table entry is 258 and each code but the first adds one: 250 codes end at entry 507, well
/// before 512, where the code size would become 10 bits.
const CODES_PER_CLEAR: usize = 250;

/// Encode `samples` (one byte per pixel for `Gray8`, three for `Rgb8`, rows top to bottom) as a
/// GIF. `None` when a dimension is 0 or does not fit GIF's 16 bits, or the samples do not match.
pub fn encode(width: u32, height: u32, color: ColorType, samples: &[u8]) -> Option<Vec<u8>> {
    let (w, h) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
    if w == 0 || h == 0 {
        return None;
    }
    let pixels = usize::from(w) * usize::from(h);
    let indices: Vec<u8> = match color {
        ColorType::Gray8 if samples.len() == pixels => samples.to_vec(),
        ColorType::Rgb8 if samples.len() == pixels * 3 => samples
            .chunks_exact(3)
            .map(|p| (p[0] & 0xE0) | ((p[1] >> 5) << 2) | (p[2] >> 6))
            .collect(),
        _ => return None,
    };
    let mut out = Vec::with_capacity(800 + pixels * 9 / 8 + pixels / 200 + 16);
    out.extend_from_slice(b"GIF89a");
    // Logical Screen Descriptor: the image's size; a global colour table of 256 entries
    // (flag, colour resolution 8 bits, size 2^(7+1)); background 0; no aspect ratio.
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&[0xF7, 0, 0]);
    for i in 0..=255u8 {
        out.extend_from_slice(&match color {
            ColorType::Gray8 => [i, i, i],
            ColorType::Rgb8 => [scale(i >> 5, 7), scale((i >> 2) & 7, 7), scale(i & 3, 3)],
        });
    }
    // Image Descriptor: the whole screen, no local colour table, not interlaced.
    out.push(0x2C);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.push(0);
    out.push(MIN_CODE_SIZE);
    let data = lzw_literals(&indices);
    for block in data.chunks(255) {
        // A chunk holds at most 255 bytes, so its length fits the block's size byte.
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.push(0);
    out.push(0x3B);
    Some(out)
}

/// `v` of `0..=max` scaled to `0..=255`.
fn scale(v: u8, max: u16) -> u8 {
    (u16::from(v) * 255 / max) as u8
}

/// The LZW code stream of `indices`: Clear, literals (a Clear every [`CODES_PER_CLEAR`]), End;
/// 9-bit codes packed least significant bit first.
fn lzw_literals(indices: &[u8]) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(CLEAR);
    for (n, &i) in indices.iter().enumerate() {
        if n > 0 && n % CODES_PER_CLEAR == 0 {
            bits.put(CLEAR);
        }
        bits.put(u16::from(i));
    }
    bits.put(END);
    bits.finish()
}

/// Packs 9-bit codes least significant bit first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, code: u16) {
        self.acc |= u32::from(code) << self.n;
        self.n += u32::from(MIN_CODE_SIZE) + 1;
        while self.n >= 8 {
            self.out.push((self.acc & 0xFF) as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc & 0xFF) as u8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A general GIF decoder for one image with a global colour table and any LZW code stream
    /// (variable code size, table growth, KwKwK), to check the encoder against the format rather
    /// than against itself.
    fn decode(gif: &[u8]) -> (u16, u16, Vec<[u8; 3]>) {
        assert_eq!(&gif[..6], b"GIF89a");
        let w = u16::from_le_bytes([gif[6], gif[7]]);
        let h = u16::from_le_bytes([gif[8], gif[9]]);
        assert_eq!(gif[10] & 0x80, 0x80, "global colour table");
        let entries = 2usize << (gif[10] & 7);
        let table = &gif[13..13 + entries * 3];
        let mut at = 13 + entries * 3;
        assert_eq!(gif[at], 0x2C);
        assert_eq!(u16::from_le_bytes([gif[at + 5], gif[at + 6]]), w);
        assert_eq!(u16::from_le_bytes([gif[at + 7], gif[at + 8]]), h);
        at += 10;
        let min = gif[at];
        at += 1;
        let mut data = Vec::new();
        while gif[at] != 0 {
            let n = usize::from(gif[at]);
            data.extend_from_slice(&gif[at + 1..at + 1 + n]);
            at += 1 + n;
        }
        assert_eq!(gif[at + 1], 0x3B, "trailer");
        let (clear, end) = (1usize << min, (1usize << min) + 1);
        let mut dict: Vec<Vec<u8>> = Vec::new();
        let reset = |dict: &mut Vec<Vec<u8>>| {
            *dict = (0..clear).map(|i| vec![i as u8]).collect();
            dict.push(Vec::new());
            dict.push(Vec::new());
        };
        reset(&mut dict);
        let (mut size, mut bit, mut prev): (usize, usize, Option<Vec<u8>>) =
            (usize::from(min) + 1, 0, None);
        let mut pixels = Vec::new();
        loop {
            let mut code = 0usize;
            for k in 0..size {
                let b = (data[(bit + k) / 8] >> ((bit + k) % 8)) & 1;
                code |= usize::from(b) << k;
            }
            bit += size;
            if code == clear {
                reset(&mut dict);
                size = usize::from(min) + 1;
                prev = None;
                continue;
            }
            if code == end {
                break;
            }
            let entry = match (&prev, dict.get(code)) {
                (_, Some(e)) if code < dict.len() => e.clone(),
                (Some(p), _) => {
                    let mut e = p.clone();
                    e.push(p[0]);
                    e
                }
                (None, _) => panic!("code {code} without a previous one"),
            };
            if let Some(p) = prev {
                let mut added = p.clone();
                added.push(entry[0]);
                dict.push(added);
                if dict.len() == 1 << size && size < 12 {
                    size += 1;
                }
            }
            pixels.extend_from_slice(&entry);
            prev = Some(entry);
        }
        let rgb = pixels
            .iter()
            .map(|&i| {
                let i = usize::from(i) * 3;
                [table[i], table[i + 1], table[i + 2]]
            })
            .collect();
        (w, h, rgb)
    }

    #[test]
    fn grey_round_trips_exactly() {
        // More pixels than one Clear period, every grey level.
        let (w, h) = (37u32, 29u32);
        let samples: Vec<u8> = (0..w * h).map(|i| (i * 7 % 256) as u8).collect();
        let gif = encode(w, h, ColorType::Gray8, &samples).unwrap();
        let (dw, dh, px) = decode(&gif);
        assert_eq!((u32::from(dw), u32::from(dh)), (w, h));
        let grey: Vec<u8> = px.iter().map(|p| p[0]).collect();
        assert_eq!(grey, samples);
        assert!(px.iter().all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn rgb_keeps_the_top_bits_of_each_channel() {
        let samples: Vec<u8> = (0..3 * 300u32).map(|i| (i * 31 % 256) as u8).collect();
        let gif = encode(20, 15, ColorType::Rgb8, &samples).unwrap();
        let (_, _, px) = decode(&gif);
        for (p, s) in px.iter().zip(samples.chunks_exact(3)) {
            assert_eq!(p[0] >> 5, s[0] >> 5);
            assert_eq!(p[1] >> 5, s[1] >> 5);
            assert_eq!(p[2] >> 6, s[2] >> 6);
        }
        assert_eq!(px.len(), 300);
    }

    #[test]
    fn refuses_what_gif_cannot_hold() {
        assert!(encode(0, 1, ColorType::Gray8, &[]).is_none());
        assert!(encode(70_000, 1, ColorType::Gray8, &vec![0; 70_000]).is_none());
        assert!(encode(2, 2, ColorType::Gray8, &[0; 3]).is_none());
        assert!(encode(2, 2, ColorType::Rgb8, &[0; 4]).is_none());
        let tiny = encode(1, 1, ColorType::Gray8, &[9]).unwrap();
        assert_eq!(decode(&tiny).2, vec![[9, 9, 9]]);
    }
}
