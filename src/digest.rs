//! SHA-256 digests as lower-case hex: of exports (the manifest's inputs), outputs, queries and
//! the configuration.

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of_pieces(&[bytes])
}

/// The sha256 of pieces written one after the other.
pub fn sha256_hex_of_pieces(pieces: &[&[u8]]) -> String {
    sha256_hex_of_blocks(pieces.iter().copied())
}

/// The sha256 of blocks written one after the other, each hashed before the next is asked for.
pub fn sha256_hex_of_blocks<'a>(blocks: impl Iterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for block in blocks {
        hasher.update(block);
    }
    hex(&hasher.finalize())
}

fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
