//! Splitting a publish body as it streams in: the tarball's base64 is decoded on the fly, and only the JSON around
//! it (the "skeleton", with each attachment's `data` emptied) is kept for parsing.
//!
//! npm inlines the tarball in the JSON body, base64-encoded: a 50 MB package is a 67 MB body. Parsing it whole would
//! hold the body, a parsed copy of the string and the decoded bytes at once; this keeps only the decoded bytes and
//! a few kilobytes of JSON. It is a small JSON tokenizer that tracks the path of the current value; anything it does
//! not understand is left to the JSON parser, which reports it on the skeleton.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The outcome of splitting a body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitBody {
    /// The body with the `data` string of every `_attachments` entry emptied.
    pub skeleton: Vec<u8>,
    /// The decoded `data` of each attachment, in body order; `Err` when it was not valid base64 or exceeded the
    /// limit given to [`Splitter::new`].
    pub attachments: Vec<Result<Vec<u8>, AttachmentDataError>>,
}

/// Why an attachment's data could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentDataError {
    InvalidBase64,
    TooLarge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// An object; `key` is the key of the value being read, once read.
    Object {
        key: Option<String>,
    },
    Array,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between tokens.
    Between,
    /// In a string that is copied to the skeleton; `escaped` after a backslash.
    Str { key: bool, escaped: bool },
    /// In an attachment's data string, which is decoded instead of copied.
    Data { escaped: bool },
}

/// A push parser: feed it the body's chunks, then [`Splitter::finish`].
#[derive(Debug)]
pub struct Splitter {
    limit: u64,
    state: State,
    stack: Vec<Frame>,
    key: Vec<u8>,
    skeleton: Vec<u8>,
    attachments: Vec<Result<Vec<u8>, AttachmentDataError>>,
    /// Base64 characters not yet decoded (fewer than a block).
    pending: Vec<u8>,
    /// Set once an object key's closing quote was seen and its `:` is awaited.
    key_done: bool,
    /// Capacity to reserve for the first attachment (see [`Splitter::expect_body_len`]).
    reserve: u64,
    /// Whether the first attachment's bytes are handed out as they are decoded ([`Splitter::streaming`]).
    stream_first: bool,
    /// How many of them were handed out.
    handed_out: u64,
}

/// Decoded in blocks of this many base64 characters (a multiple of 4).
const BLOCK: usize = 64 * 1024;

impl Splitter {
    /// `limit`: the most bytes one attachment may decode to.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            state: State::Between,
            stack: Vec::new(),
            key: Vec::new(),
            skeleton: Vec::new(),
            attachments: Vec::new(),
            pending: Vec::new(),
            key_done: false,
            reserve: 0,
            stream_first: false,
            handed_out: 0,
        }
    }

    /// A splitter that keeps none of the first attachment's bytes: the caller takes them as they are decoded
    /// ([`Splitter::take_streamed`], after every [`Splitter::push`]) and the split body holds an empty first
    /// attachment, or its error. Later attachments are kept as usual (a publish has one; more are refused).
    pub fn streaming(limit: u64) -> Self {
        Self {
            stream_first: true,
            ..Self::new(limit)
        }
    }

    /// The first attachment's bytes decoded since the last call (streaming splitters only; empty otherwise, and
    /// once that attachment failed to decode).
    pub fn take_streamed(&mut self) -> Vec<u8> {
        if !self.stream_first {
            return Vec::new();
        }
        match self.attachments.first_mut() {
            Some(Ok(bytes)) => {
                let taken = std::mem::take(bytes);
                self.handed_out += taken.len() as u64;
                taken
            }
            _ => Vec::new(),
        }
    }
    /// Whether the value about to start is an attachment's data: the path is `_attachments.<name>.data`.
    fn at_attachment_data(&self) -> bool {
        matches!(
            self.stack.as_slice(),
            [
                Frame::Object { key: Some(top) },
                Frame::Object { key: Some(_) },
                Frame::Object { key: Some(field) },
            ] if top == "_attachments" && field == "data"
        )
    }

    /// Reserves room for an attachment decoded from a body of `body_len` bytes (its `Content-Length`), so that the
    /// decoded bytes are written once instead of being copied each time the buffer grows.
    pub fn expect_body_len(&mut self, body_len: u64) {
        if self.stream_first {
            return;
        }
        self.reserve = (body_len / 4 * 3).min(self.limit);
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let mut copy_from = 0;
        let mut i = 0;
        while i < chunk.len() {
            let byte = chunk[i];
            match self.state {
                State::Data { escaped } => {
                    if escaped {
                        // JSON may escape `/` as `\/`; any other escape cannot be base64.
                        if byte == b'/' {
                            self.data_char(b'/');
                        } else {
                            self.fail_data(AttachmentDataError::InvalidBase64);
                        }
                        self.state = State::Data { escaped: false };
                    } else if byte == b'\\' {
                        self.state = State::Data { escaped: true };
                    } else if byte == b'"' {
                        self.end_data();
                        self.state = State::Between;
                        copy_from = i; // the closing quote goes to the skeleton
                    } else {
                        self.data_char(byte);
                    }
                }
                State::Str { key, escaped } => {
                    if escaped {
                        self.state = State::Str {
                            key,
                            escaped: false,
                        };
                        if key {
                            self.key.push(byte);
                        }
                    } else if byte == b'\\' {
                        self.state = State::Str { key, escaped: true };
                        if key {
                            self.key.push(byte);
                        }
                    } else if byte == b'"' {
                        self.state = State::Between;
                        if key {
                            self.key_done = true;
                        }
                    } else if key {
                        self.key.push(byte);
                    }
                }
                State::Between => match byte {
                    b'{' => self.stack.push(Frame::Object { key: None }),
                    b'[' => self.stack.push(Frame::Array),
                    b'}' | b']' => {
                        self.stack.pop();
                    }
                    b',' => {
                        if let Some(Frame::Object { key }) = self.stack.last_mut() {
                            *key = None;
                        }
                    }
                    b':' if self.key_done => {
                        let raw = std::mem::take(&mut self.key);
                        let name = serde_json::from_slice::<String>(
                            &[b"\"".as_slice(), &raw, b"\""].concat(),
                        )
                        .unwrap_or_default();
                        if let Some(Frame::Object { key }) = self.stack.last_mut() {
                            *key = Some(name);
                        }
                        self.key_done = false;
                    }
                    b'"' => {
                        let expecting_key =
                            matches!(self.stack.last(), Some(Frame::Object { key: None }));
                        if !expecting_key && self.at_attachment_data() {
                            // Copy the opening quote, then decode instead of copying.
                            self.skeleton.extend_from_slice(&chunk[copy_from..=i]);
                            self.state = State::Data { escaped: false };
                            let capacity = usize::try_from(std::mem::take(&mut self.reserve))
                                .unwrap_or_default();
                            self.attachments.push(Ok(Vec::with_capacity(capacity)));
                            self.pending.clear();
                            i += 1;
                            copy_from = i;
                            continue;
                        }
                        self.key.clear();
                        self.state = State::Str {
                            key: expecting_key,
                            escaped: false,
                        };
                    }
                    _ => {}
                },
            }
            if matches!(self.state, State::Data { .. }) {
                copy_from = i + 1;
            }
            i += 1;
        }
        if !matches!(self.state, State::Data { .. }) {
            self.skeleton
                .extend_from_slice(&chunk[copy_from.min(chunk.len())..]);
        }
    }

    fn data_char(&mut self, byte: u8) {
        if !matches!(self.attachments.last(), Some(Ok(_))) {
            return;
        }
        self.pending.push(byte);
        if self.pending.len() >= BLOCK {
            self.decode_pending(false);
        }
    }

    fn decode_pending(&mut self, last: bool) {
        let whole = if last {
            self.pending.len()
        } else {
            self.pending.len() / 4 * 4
        };
        let block: Vec<u8> = self.pending.drain(..whole).collect();
        let handed_out = if self.stream_first && self.attachments.len() == 1 {
            self.handed_out
        } else {
            0
        };
        let Some(Ok(decoded)) = self.attachments.last_mut() else {
            return;
        };
        match STANDARD.decode(&block) {
            Ok(bytes) => {
                if handed_out + (decoded.len() + bytes.len()) as u64 > self.limit {
                    self.fail_data(AttachmentDataError::TooLarge);
                } else {
                    decoded.extend_from_slice(&bytes);
                }
            }
            Err(_) => self.fail_data(AttachmentDataError::InvalidBase64),
        }
    }

    fn fail_data(&mut self, error: AttachmentDataError) {
        if let Some(last) = self.attachments.last_mut() {
            *last = Err(error);
        }
        self.pending.clear();
    }

    fn end_data(&mut self) {
        if matches!(self.attachments.last(), Some(Ok(_))) {
            self.decode_pending(true);
        }
        // Padding inside a block (`==` before more data) was refused by the decoder; a tail is complete here.
    }

    pub fn finish(self) -> SplitBody {
        SplitBody {
            skeleton: self.skeleton,
            attachments: self.attachments,
        }
    }
}

/// Splits a whole body at once (tests, and callers that already hold it).
pub fn split(body: &[u8], limit: u64) -> SplitBody {
    let mut splitter = Splitter::new(limit);
    splitter.push(body);
    splitter.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(data: &str) -> Vec<u8> {
        json!({
            "name": "@acme/lib",
            "versions": {"1.0.0": {"data": "not an attachment", "x": [1, {"y": "z\"q"}]}},
            "_attachments": {"lib-1.0.0.tgz": {"content_type": "application/octet-stream", "data": data, "length": 5}},
            "tail": "data"
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn extracts_the_attachment_in_any_chunking() {
        let encoded = STANDARD.encode(b"hello");
        let whole = body(&encoded);
        for size in [1, 2, 3, 7, 64, whole.len()] {
            let mut splitter = Splitter::new(1 << 20);
            for chunk in whole.chunks(size) {
                splitter.push(chunk);
            }
            let split = splitter.finish();
            assert_eq!(
                split.attachments,
                vec![Ok(b"hello".to_vec())],
                "chunks of {size}"
            );
            let skeleton: Value = serde_json::from_slice(&split.skeleton).unwrap();
            assert_eq!(skeleton["_attachments"]["lib-1.0.0.tgz"]["data"], "");
            assert_eq!(skeleton["_attachments"]["lib-1.0.0.tgz"]["length"], 5);
            assert_eq!(skeleton["versions"]["1.0.0"]["data"], "not an attachment");
            assert_eq!(skeleton["versions"]["1.0.0"]["x"][1]["y"], "z\"q");
            assert_eq!(skeleton["tail"], "data");
        }
    }

    #[test]
    fn large_data_decodes_in_blocks() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        // JSON may escape every `/` of the base64 as `\/`.
        let encoded = STANDARD.encode(&bytes).replace('/', "\\/");
        let raw = String::from_utf8(body("DATA"))
            .unwrap()
            .replace("\"DATA\"", &format!("\"{encoded}\""));
        let split = split(raw.as_bytes(), 1 << 20);
        assert_eq!(split.attachments, vec![Ok(bytes)]);
    }

    #[test]
    fn a_streaming_splitter_hands_the_bytes_out_and_keeps_none() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let encoded = STANDARD.encode(&bytes);
        let raw = String::from_utf8(body("DATA"))
            .unwrap()
            .replace("\"DATA\"", &format!("\"{encoded}\""));
        for size in [3, 1000, raw.len()] {
            let mut splitter = Splitter::streaming(1 << 20);
            let mut out = Vec::new();
            for chunk in raw.as_bytes().chunks(size) {
                splitter.push(chunk);
                out.extend(splitter.take_streamed());
            }
            let split = splitter.finish();
            assert_eq!(out, bytes, "chunks of {size}");
            assert_eq!(split.attachments, vec![Ok(Vec::new())]);
            let skeleton: Value = serde_json::from_slice(&split.skeleton).unwrap();
            assert_eq!(skeleton["_attachments"]["lib-1.0.0.tgz"]["data"], "");
        }
        // The limit counts what was handed out.
        let mut splitter = Splitter::streaming(200_000);
        for chunk in raw.as_bytes().chunks(1000) {
            splitter.push(chunk);
            splitter.take_streamed();
        }
        assert_eq!(
            splitter.finish().attachments,
            vec![Err(AttachmentDataError::TooLarge)]
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            split(&body("!!!not base64!!!"), 1 << 20).attachments,
            vec![Err(AttachmentDataError::InvalidBase64)]
        );
        assert_eq!(
            split(&body(&STANDARD.encode([0u8; 100])), 10).attachments,
            vec![Err(AttachmentDataError::TooLarge)]
        );
        // Malformed JSON is left for the parser: the skeleton is what came in.
        let broken = b"{\"name\": \"@acme/lib\", ";
        let split = split(broken, 10);
        assert_eq!(split.skeleton, broken);
        assert!(split.attachments.is_empty());
    }

    #[test]
    fn two_attachments_are_both_seen() {
        let body = json!({"_attachments": {
            "a.tgz": {"data": STANDARD.encode(b"a"), "length": 1},
            "b.tgz": {"data": STANDARD.encode(b"b"), "length": 1}
        }})
        .to_string();
        let split = split(body.as_bytes(), 100);
        assert_eq!(
            split.attachments,
            vec![Ok(b"a".to_vec()), Ok(b"b".to_vec())]
        );
    }
}
