//! Digests of streamed bytes: SHA-256 where a standard or the evidence needs it (whole bodies, the
//! report manifest), and the identity digest of retrieved parts ([`Identity`], BLAKE3), which
//! only has to tell whether two byte strings are the same and must keep pace with the wire.

/// Incremental SHA-256 (ring's implementation, which uses the CPU's SHA extensions where present:
/// about twice the throughput of a portable one, which matters for multi-gigabyte studies).
#[derive(Clone)]
pub struct Sha256(ring::digest::Context);

impl Sha256 {
    /// A fresh digest.
    pub fn new() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }

    /// Add bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Lower-case hex of the digest.
    pub fn finish_hex(self) -> String {
        hex::encode(self.finish())
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

/// A sequence of identity digests ([`Identity`]) over a stream of bytes, cut into consecutive
/// segments (each multipart part is one), hashed inline as the bytes arrive. A hashing thread fed
/// through a queue was tried and measured slower on two cores shared with the server (the queue
/// also held up to 9 MB of the body): gathered into whole chunks, BLAKE3 keeps pace with the wire
/// on the receiving thread.
#[derive(Default)]
pub struct DigestPipe {
    current: Identity,
    done: Vec<String>,
}

impl DigestPipe {
    /// An empty pipe with one open segment.
    pub fn new() -> Self {
        DigestPipe::default()
    }

    /// Add bytes to the open segment.
    pub fn update(&mut self, data: &[u8]) {
        self.current.update(data);
    }

    /// Close the open segment and open the next one.
    pub fn cut(&mut self) {
        self.done.push(self.current.take_hex());
    }

    /// The digests of the closed segments, in order, followed by the open one's when
    /// `include_open` is set.
    pub fn finish(mut self, include_open: bool) -> Vec<String> {
        if include_open {
            self.cut();
        }
        self.done
    }
}

/// The identity digest of a part (an instance, a frame, bulk data): BLAKE3, whose SIMD
/// implementation hashes a multi-gigabyte study on one core several times faster than SHA-256.
/// Checks compare it with the same digest of what the harness knows (the fixture's bytes), never
/// with a digest a standard defines; those stay SHA-256 ([`Sha256`]) or what the standard names.
///
/// Network reads come in pieces of a few kilobytes cut anywhere; BLAKE3 runs its SIMD path only on
/// whole 1 KiB chunks, eight at a time, so the bytes are gathered into blocks of
/// [`IDENTITY_BLOCK`] first (a copy costs far less than hashing the ragged edges one block of 64
/// bytes at a time, which took half of the hashing time).
#[derive(Clone, Default)]
pub struct Identity {
    hasher: blake3::Hasher,
    pending: Vec<u8>,
}

/// Bytes gathered before they are hashed: a whole number of BLAKE3 chunks.
pub const IDENTITY_BLOCK: usize = 64 * 1024;

impl Identity {
    /// A fresh digest.
    pub fn new() -> Self {
        Identity::default()
    }

    /// Add bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        if !self.pending.is_empty() {
            let take = (IDENTITY_BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < IDENTITY_BLOCK {
                return;
            }
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
        let whole = data.len() - data.len() % IDENTITY_BLOCK;
        if whole > 0 {
            self.hasher.update(&data[..whole]);
        }
        if whole < data.len() {
            if self.pending.capacity() == 0 {
                self.pending.reserve_exact(IDENTITY_BLOCK);
            }
            self.pending.extend_from_slice(&data[whole..]);
        }
    }

    /// Lower-case hex of the digest.
    pub fn finish_hex(mut self) -> String {
        self.take_hex()
    }

    /// Lower-case hex of the digest, leaving `self` fresh (its buffer kept for the next part).
    pub fn take_hex(&mut self) -> String {
        self.hasher.update(&self.pending);
        self.pending.clear();
        let hex = self.hasher.finalize().to_hex().to_string();
        self.hasher.reset();
        hex
    }
}

/// The [`Identity`] digest of bytes held in full, lower-case hex.
pub fn identity_hex(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_hex(data: &[u8]) -> String {
        blake3::hash(data).to_hex().to_string()
    }

    #[test]
    fn the_identity_digest_is_blake3_however_the_bytes_are_cut() {
        let data: Vec<u8> = (0..3 * IDENTITY_BLOCK + 1000)
            .map(|i| (i % 253) as u8)
            .collect();
        for cut in [
            1usize,
            7,
            1023,
            1024,
            4096,
            IDENTITY_BLOCK - 1,
            IDENTITY_BLOCK + 5,
        ] {
            let mut d = Identity::new();
            for piece in data.chunks(cut) {
                d.update(piece);
            }
            assert_eq!(d.take_hex(), id_hex(&data), "pieces of {cut}");
            // Fresh again, with its buffer kept.
            d.update(b"abc");
            assert_eq!(d.finish_hex(), id_hex(b"abc"));
        }
        assert_eq!(Identity::new().finish_hex(), id_hex(b""));
        assert_eq!(identity_hex(&data), id_hex(&data));
    }

    #[test]
    fn the_pipe_digests_each_segment_and_the_open_one_on_request() {
        for size in [0usize, 10, 3 * IDENTITY_BLOCK + 17] {
            let a: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let b = b"second segment".to_vec();
            let fed = || {
                let mut pipe = DigestPipe::new();
                for chunk in a.chunks(65_537) {
                    pipe.update(chunk);
                }
                pipe.cut();
                pipe.update(&b);
                pipe
            };
            assert_eq!(fed().finish(false), vec![id_hex(&a)]);
            assert_eq!(fed().finish(true), vec![id_hex(&a), id_hex(&b)]);
        }
    }
}
