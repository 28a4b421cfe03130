//! A gzip stream of stored (uncompressed) deflate blocks: how a Cairo 0 program travels on the
//! wire (`base64(gzip(program JSON))`, as Pathfinder writes it), without a compression
//! dependency. Any gzip reader decodes it; it is 1/3 larger than the JSON after base64 (see
//! `proto/starknet/README.md`, classes).

/// Largest stored deflate block.
const BLOCK: usize = 65_535;

/// `data` as a gzip member of stored deflate blocks, with its CRC-32 and length.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len() / BLOCK + 1;
    let mut out = Vec::with_capacity(data.len() + blocks * 5 + 18);
    // magic, deflate, no flags, no mtime, no extra flags, unknown OS
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut chunks = data.chunks(BLOCK).peekable();
    if data.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none())); // BFINAL, BTYPE = 00 (stored)
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

const CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE, the one gzip uses).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, b| {
        CRC_TABLE[((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn stored_blocks_carry_the_bytes_and_their_lengths() {
        let data = vec![7u8; BLOCK + 10];
        let gz = gzip_stored(&data);
        assert_eq!(gz.len(), 10 + 5 + BLOCK + 5 + 10 + 8);
        assert_eq!(gz[10], 0, "first block not final");
        assert_eq!(&gz[11..13], &(BLOCK as u16).to_le_bytes());
        let second = 10 + 5 + BLOCK;
        assert_eq!(gz[second], 1, "last block final");
        assert_eq!(&gz[gz.len() - 4..], &((BLOCK + 10) as u32).to_le_bytes());
    }
}
