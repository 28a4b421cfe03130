//! A small JSON reader that keeps every string and number as a slice of the input, so a
//! class definition (up to several MiB) is parsed once, without copying, and can be
//! re-serialised exactly the way cairo-lang's Python serialises it (numbers of any size
//! kept as written; serde_json would round big integers through `f64`).

use std::borrow::Cow;

/// Nesting deeper than this is refused (real classes nest about 20 levels), so a hostile
/// definition cannot overflow the stack of the recursive parser and writers.
pub const MAX_DEPTH: usize = 128;

/// One JSON value borrowing from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number exactly as written (validated against the JSON grammar).
    Num(&'a str),
    /// A string: its raw text between the quotes, escapes not yet decoded.
    Str(Text<'a>),
    /// An array.
    Arr(Vec<Node<'a>>),
    /// An object, members in input order.
    Obj(Vec<(Text<'a>, Node<'a>)>),
}

/// The raw text of a JSON string (between the quotes) and whether it holds escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Text<'a> {
    /// A string without escapes (`raw` must contain no `\\` or `"`).
    pub const fn plain(raw: &'a str) -> Self {
        Text {
            raw,
            escaped: false,
        }
    }

    /// The decoded string; borrowed when the raw text has no escape. `None` for an escape
    /// that is not a Unicode scalar value (a lone surrogate).
    pub fn decode(&self) -> Option<Cow<'a, str>> {
        if !self.escaped {
            return Some(Cow::Borrowed(self.raw));
        }
        unescape(self.raw).map(Cow::Owned)
    }

    /// Whether the decoded string equals `s` (fast when there is no escape).
    pub fn is(&self, s: &str) -> bool {
        if self.escaped {
            self.decode().is_some_and(|d| d == s)
        } else {
            self.raw == s
        }
    }
}

impl<'a> Node<'a> {
    /// The members of an object, or `None`.
    pub fn as_obj(&self) -> Option<&[(Text<'a>, Node<'a>)]> {
        match self {
            Node::Obj(members) => Some(members),
            _ => None,
        }
    }

    /// The items of an array, or `None`.
    pub fn as_arr(&self) -> Option<&[Node<'a>]> {
        match self {
            Node::Arr(items) => Some(items),
            _ => None,
        }
    }

    /// The raw text of a string, or `None`.
    pub fn as_text(&self) -> Option<Text<'a>> {
        match self {
            Node::Str(t) => Some(*t),
            _ => None,
        }
    }

    /// The member `key` of an object (the last one if repeated, as Python keeps it).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_obj()?
            .iter()
            .rev()
            .find(|(k, _)| k.is(key))
            .map(|(_, v)| v)
    }
}

/// Why the input is not JSON, and the byte offset where that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the input.
    pub at: usize,
    /// What was expected or wrong.
    pub what: &'static str,
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else after it).
pub fn parse(input: &[u8]) -> Result<Node<'_>, SyntaxError> {
    let text = std::str::from_utf8(input).map_err(|e| SyntaxError {
        at: e.valid_up_to(),
        what: "invalid UTF-8",
    })?;
    let mut p = Parser { s: text, i: 0 };
    let node = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters after the document"));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> SyntaxError {
        SyntaxError { at: self.i, what }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Node::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &'static str, node: Node<'a>) -> Result<Node<'a>, SyntaxError> {
        if !self.s[self.i..].starts_with(word) {
            return Err(self.err("expected a value"));
        }
        self.i += word.len();
        Ok(node)
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Node::Obj(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected an object key"));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:`"));
            }
            self.i += 1;
            members.push((key, self.value(depth + 1)?));
            if self.list_end(b'}')? {
                return Ok(Node::Obj(members));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Node::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.list_end(b']')? {
                return Ok(Node::Arr(items));
            }
        }
    }

    /// After a member or item: `true` at the closing bracket, `false` after a comma.
    fn list_end(&mut self, close: u8) -> Result<bool, SyntaxError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(self.err("expected `,` or a closing bracket")),
        }
    }

    fn string(&mut self) -> Result<Text<'a>, SyntaxError> {
        self.i += 1;
        let start = self.i;
        let bytes = self.s.as_bytes();
        let mut escaped = false;
        loop {
            match bytes.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(c) if *c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.i += 1,
            }
        }
        let raw = &self.s[start..self.i];
        self.i += 1;
        Ok(Text { raw, escaped })
    }

    fn escape(&mut self) -> Result<(), SyntaxError> {
        let bytes = self.s.as_bytes();
        match bytes.get(self.i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
            Some(b'u') => {
                let hex = bytes.get(self.i + 2..self.i + 6);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err(self.err("bad \\u escape"));
                }
                self.i += 6;
            }
            _ => return Err(self.err("bad escape")),
        }
        Ok(())
    }

    fn number(&mut self) -> Result<Node<'a>, SyntaxError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.required_digits()?;
        }
        Ok(Node::Num(&self.s[start..self.i]))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), SyntaxError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("bad number"));
        }
        self.digits();
        Ok(())
    }
}

/// Decodes the escapes of a raw string already validated by the parser.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut units: Vec<u16> = Vec::new();
    let mut rest = raw;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        let esc = &rest[pos + 1..];
        if let Some(hex) = esc.strip_prefix('u') {
            units.push(u16::from_str_radix(hex.get(..4)?, 16).ok()?);
            rest = &hex[4..];
            if rest.starts_with("\\u") {
                continue;
            }
            for c in char::decode_utf16(units.drain(..)) {
                out.push(c.ok()?);
            }
            continue;
        }
        let c = esc.chars().next()?;
        out.push(match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            other => other,
        });
        rest = &esc[1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_keeps_raw_text() {
        let n = parse(br#" {"a": [1, -2.5e3, true, null], "b\u00e9": "x\"y", "big": 123456789012345678901234567890} "#).unwrap();
        assert_eq!(
            n.get("a").unwrap().as_arr().unwrap()[1],
            Node::Num("-2.5e3")
        );
        assert_eq!(
            n.get("big"),
            Some(&Node::Num("123456789012345678901234567890"))
        );
        assert_eq!(
            n.get("bé").unwrap().as_text().unwrap().decode().unwrap(),
            "x\"y"
        );
    }

    #[test]
    fn decodes_surrogate_pairs_and_refuses_lone_ones() {
        let n = parse(br#"["\ud83d\ude00 \u0041\n", "\ud800"]"#).unwrap();
        let items = n.as_arr().unwrap();
        assert_eq!(items[0].as_text().unwrap().decode().unwrap(), "😀 A\n");
        assert_eq!(items[1].as_text().unwrap().decode(), None);
    }

    #[test]
    fn refuses_bad_json_with_offset() {
        for (input, at) in [
            (&b"{\"a\" 1}"[..], 5),
            (b"[1,]", 3),
            (b"[01]", 2),
            (b"\"a\nb\"", 2),
            (b"[1] x", 4),
            (b"\"\\x\"", 1),
        ] {
            assert_eq!(parse(input).unwrap_err().at, at, "{input:?}");
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().what, "nesting too deep");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
