//! A small deterministic mutator (libFuzzer's common moves, no coverage feedback): enough to
//! shake the decoders in CI around the committed corpus within a few seconds.

/// Interesting byte values: boundaries of signed/unsigned bytes, varint continuation bits.
const MAGIC: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, b'"', b'{'];

/// Mutates corpus entries with a xorshift generator.
pub struct Mutator {
    state: u64,
    inputs: Vec<Vec<u8>>,
}

impl Mutator {
    pub fn new(seed: u64, inputs: Vec<Vec<u8>>) -> Self {
        Mutator {
            state: seed | 1,
            inputs,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A corpus entry with one to four mutations applied.
    pub fn next_input(&mut self) -> Vec<u8> {
        let i = self.below(self.inputs.len());
        let mut data = self.inputs[i].clone();
        for _ in 0..1 + self.below(4) {
            self.mutate(&mut data);
        }
        data
    }

    fn mutate(&mut self, data: &mut Vec<u8>) {
        let len = data.len();
        match self.below(8) {
            0 if len > 0 => {
                let i = self.below(len);
                data[i] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let i = self.below(len);
                data[i] = MAGIC[self.below(MAGIC.len())];
            }
            2 => data.truncate(self.below(len + 1)),
            3 => {
                let at = self.below(len + 1);
                let n = 1 + self.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| self.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let a = self.below(len);
                let b = (a + 1 + self.below(16)).min(len);
                data.drain(a..b);
            }
            5 => self.splice(data),
            6 if len > 0 => {
                let a = self.below(len);
                let b = (a + 1 + self.below(32)).min(len);
                let copy = data[a..b].to_vec();
                let at = self.below(len + 1);
                data.splice(at..at, copy);
            }
            _ if len > 0 => {
                let i = self.below(len);
                data[i] = data[i].wrapping_add(1 + self.below(3) as u8);
            }
            _ => data.push(self.next() as u8),
        }
    }

    /// Keeps a prefix of `data` and appends a suffix of another corpus entry.
    fn splice(&mut self, data: &mut Vec<u8>) {
        let i = self.below(self.inputs.len());
        let other = self.inputs[i].clone();
        data.truncate(self.below(data.len() + 1));
        let from = self.below(other.len() + 1);
        data.extend_from_slice(&other[from..]);
    }
}
