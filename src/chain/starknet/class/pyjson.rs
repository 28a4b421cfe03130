//! Writes JSON the way Python's `json.dumps(obj, sort_keys=True)` does (the serialisation
//! cairo-lang hashes for a Cairo 0 class's hinted class hash): `", "` and `": "`
//! separators, keys sorted by code point, every character outside printable ASCII
//! escaped as `\uxxxx` (lowercase hex, UTF-16 surrogate pairs), integers as written.
//! Output goes through a fixed buffer into a [`Sink`], so a multi-MiB class is hashed
//! without building the text.

use std::cmp::Ordering;

use super::json::{Node, Text};

/// Where serialised bytes go (a Keccak state in production, a `Vec` in tests).
pub trait Sink {
    /// Consumes `bytes`.
    fn write(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for sha3::Keccak256 {
    fn write(&mut self, bytes: &[u8]) {
        sha3::Digest::update(self, bytes);
    }
}

/// Why a value cannot be written as Python would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// A string escape that is not a Unicode scalar value (a lone surrogate).
    BadString,
    /// A number with a fraction or exponent (Python would print its float `repr`, which
    /// this writer does not reproduce; no Cairo 0 class has one).
    NotInteger,
    /// A `hints` key that is not a decimal integer.
    BadHintKey,
}

const BUFFER: usize = 64 * 1024;

/// Buffered Python-style JSON writer.
pub struct Writer<'s, S: Sink> {
    sink: &'s mut S,
    buf: Vec<u8>,
}

impl<'s, S: Sink> Writer<'s, S> {
    /// A writer into `sink`; call [`Writer::finish`] to flush.
    pub fn new(sink: &'s mut S) -> Self {
        Writer {
            sink,
            buf: Vec::with_capacity(BUFFER),
        }
    }

    /// Flushes what is buffered into the sink.
    pub fn finish(mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        self.sink.write(&self.buf);
        self.buf.clear();
    }

    /// Writes raw bytes (punctuation, already-formatted text).
    pub fn raw(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > BUFFER {
            self.flush();
            if bytes.len() > BUFFER {
                self.sink.write(bytes);
                return;
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Writes any value, objects with their keys sorted.
    pub fn value(&mut self, node: &Node<'_>) -> Result<(), WriteError> {
        match node {
            Node::Null => self.raw(b"null"),
            Node::Bool(true) => self.raw(b"true"),
            Node::Bool(false) => self.raw(b"false"),
            Node::Num(n) => self.number(n)?,
            Node::Str(t) => self.text(t)?,
            Node::Arr(items) => {
                self.raw(b"[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(b", ");
                    }
                    self.value(item)?;
                }
                self.raw(b"]");
            }
            Node::Obj(members) => {
                let refs: Vec<_> = members.iter().map(|(k, v)| (*k, v)).collect();
                self.object(refs, |w, v| w.value(v))?;
            }
        }
        Ok(())
    }

    /// Writes an object from `members` (any order), sorted by key, Python's way: a
    /// repeated key appears once, with its last value. `each` writes one value.
    pub fn object<V>(
        &mut self,
        mut members: Vec<(Text<'_>, V)>,
        mut each: impl FnMut(&mut Self, V) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let mut error = None;
        members.sort_by(|a, b| {
            compare_keys(&a.0, &b.0).unwrap_or_else(|e| {
                error = Some(e);
                Ordering::Equal
            })
        });
        if let Some(e) = error {
            return Err(e);
        }
        self.raw(b"{");
        let mut first = true;
        let mut iter = members.into_iter().peekable();
        while let Some((key, value)) = iter.next() {
            if iter.peek().is_some_and(|(next, _)| same_key(&key, next)) {
                continue;
            }
            if !first {
                self.raw(b", ");
            }
            first = false;
            self.text(&key)?;
            self.raw(b": ");
            each(self, value)?;
        }
        self.raw(b"}");
        Ok(())
    }

    /// Writes a number: an integer as written (`-0` as `0`, as Python's `int` prints it).
    pub fn number(&mut self, n: &str) -> Result<(), WriteError> {
        if n.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) {
            return Err(WriteError::NotInteger);
        }
        self.raw(if n == "-0" { b"0" } else { n.as_bytes() });
        Ok(())
    }

    /// Writes a JSON string given by its raw (escaped) text.
    pub fn text(&mut self, t: &Text<'_>) -> Result<(), WriteError> {
        let s = t.decode().ok_or(WriteError::BadString)?;
        self.str(&s);
        Ok(())
    }

    /// Writes `s` as a Python `ensure_ascii` JSON string.
    pub fn str(&mut self, s: &str) {
        self.raw(b"\"");
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if matches!(c, ' '..='~') && c != '"' && c != '\\' {
                continue;
            }
            self.raw(&bytes[start..i]);
            start = i + c.len_utf8();
            self.escape(c);
        }
        self.raw(&bytes[start..]);
        self.raw(b"\"");
    }

    fn escape(&mut self, c: char) {
        let short: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            _ => b"",
        };
        if !short.is_empty() {
            return self.raw(short);
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            self.raw(format!("\\u{unit:04x}").as_bytes());
        }
    }
}

/// Python orders `str` keys by code point, which is UTF-8 byte order.
fn compare_keys(a: &Text<'_>, b: &Text<'_>) -> Result<Ordering, WriteError> {
    let a = a.decode().ok_or(WriteError::BadString)?;
    let b = b.decode().ok_or(WriteError::BadString)?;
    Ok(a.as_bytes().cmp(b.as_bytes()))
}

fn same_key(a: &Text<'_>, b: &Text<'_>) -> bool {
    compare_keys(a, b) == Ok(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;

    fn dump(input: &str) -> String {
        let node = parse(input.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.value(&node).unwrap();
        w.finish();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_python_json_dumps_sort_keys() {
        // Expected strings are what CPython 3 prints for
        // json.dumps(json.loads(input), sort_keys=True).
        assert_eq!(
            dump(r#"{"b":1,"a":[true,null,{"d":"x","c":-0}],"B":"é😀\u007f/\"\\"}"#),
            r#"{"B": "\u00e9\ud83d\ude00\u007f/\"\\", "a": [true, null, {"c": 0, "d": "x"}], "b": 1}"#
        );
        assert_eq!(dump(r#"{"k":1,"k":2}"#), r#"{"k": 2}"#);
        assert_eq!(dump(r#""\u0041\t\u0001""#), r#""A\t\u0001""#);
        assert_eq!(dump("[]"), "[]");
        assert_eq!(dump("{}"), "{}");
    }

    #[test]
    fn refuses_floats() {
        let node = parse(b"[1.5]").unwrap();
        let mut out = Vec::new();
        assert_eq!(
            Writer::new(&mut out).value(&node),
            Err(WriteError::NotInteger)
        );
    }

    #[test]
    fn long_output_crosses_the_buffer_unchanged() {
        let long = "x".repeat(BUFFER + 10);
        let input = format!(r#"["{long}", "{long}"]"#);
        assert_eq!(dump(&input), format!(r#"["{long}", "{long}"]"#));
    }
}
