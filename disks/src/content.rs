//! Deterministic file contents: explicit bytes, zeros, or a seeded pseudo-random
//! stream (SplitMix64, little-endian words). The builder writes these and the
//! self-test regenerates them, so both sides must agree byte for byte.

use alloc::vec::Vec;

/// What a file contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Exactly these bytes.
    Bytes(Vec<u8>),
    /// `size` zero bytes.
    Zero { size: u64 },
    /// `size` pseudo-random bytes from `seed`.
    Random { size: u64, seed: u64 },
}

impl Content {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Zero { size } | Content::Random { size, .. } => *size,
        }
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader producing the bytes in order.
    pub fn reader(&self) -> ContentReader<'_> {
        ContentReader {
            content: self,
            pos: 0,
            rng: SplitMix64::new(match self {
                Content::Random { seed, .. } => *seed,
                _ => 0,
            }),
            word: [0; 8],
            word_left: 0,
        }
    }

    /// All bytes at once (for small contents and tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = alloc::vec![0; self.len() as usize];
        self.reader().fill(&mut v);
        v
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Streams a [`Content`] in chunks of any size.
pub struct ContentReader<'a> {
    content: &'a Content,
    pos: u64,
    rng: SplitMix64,
    word: [u8; 8],
    word_left: usize,
}

impl ContentReader<'_> {
    /// Bytes not yet produced.
    pub fn remaining(&self) -> u64 {
        self.content.len() - self.pos
    }

    /// Fills `buf` with the next bytes; returns how many (0 at the end).
    pub fn fill(&mut self, buf: &mut [u8]) -> usize {
        let n = (buf.len() as u64).min(self.remaining()) as usize;
        let out = &mut buf[..n];
        match self.content {
            Content::Bytes(b) => {
                let p = self.pos as usize;
                out.copy_from_slice(&b[p..p + n]);
            }
            Content::Zero { .. } => out.fill(0),
            Content::Random { .. } => {
                let mut i = 0;
                // Drain a partly used word, then whole words, then a new partial word.
                while i < n && self.word_left > 0 {
                    out[i] = self.word[8 - self.word_left];
                    self.word_left -= 1;
                    i += 1;
                }
                while n - i >= 8 {
                    out[i..i + 8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
                    i += 8;
                }
                if i < n {
                    self.word = self.rng.next_u64().to_le_bytes();
                    self.word_left = 8;
                    while i < n {
                        out[i] = self.word[8 - self.word_left];
                        self.word_left -= 1;
                        i += 1;
                    }
                }
            }
        }
        self.pos += n as u64;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_content_is_the_same_whatever_the_chunking() {
        let c = Content::Random {
            size: 1000,
            seed: 42,
        };
        let whole = c.to_vec();
        let mut r = c.reader();
        let mut pieces = Vec::new();
        let mut k = 1;
        loop {
            let mut buf = alloc::vec![0u8; k % 13];
            let n = r.fill(&mut buf);
            if n == 0 && !buf.is_empty() {
                break;
            }
            pieces.extend_from_slice(&buf[..n]);
            k += 1;
        }
        assert_eq!(pieces, whole);
        // Different seeds give different data.
        let other = Content::Random {
            size: 1000,
            seed: 43,
        }
        .to_vec();
        assert_ne!(other, whole);
        assert!(whole.iter().any(|&b| b != 0));
    }
}
