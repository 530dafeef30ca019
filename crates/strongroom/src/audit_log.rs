//! The audit log's file (`serve --audit-log PATH`): the lines the API's audit events become
//! (one per request and per token issued, see `strongroom_api::audit`),
//! in the field names of Azure Key Vault's `AuditEvent` resource log (`time`, `resourceId`,
//! `operationName`, `resultSignature`, `durationMs`, `callerIpAddress`, `identity.claim`, …),
//! so tooling that reads Azure's reads these. A line never holds a secret value, key material,
//! a token or a request body: only who, what (names and versions, not contents), when and how
//! it ended.
//!
//! Lines are hash-chained: each ends with `"prevHash"` (the previous line's hash) and `"hash"`,
//! SHA-256 over the line's own bytes up to `prevHash`'s value, closed with `}`. Removing,
//! reordering or editing a line breaks the chain at that line ([`verify`],
//! `strongroom audit verify`); the chain continues across restarts (the last line is read back)
//! and across rotations (the next file's first line names the previous file's last hash).
//! Truncating the newest lines is not detectable from the file alone.
//!
//! Reading back (`GET /strongroom/audit/events`, [`strongroom_api::AuditSink::query`]): the
//! live file and the rotated ones, newest line first, each read backwards in blocks through
//! its own handle, never under the writer's lock; the scan stops once a page and one more
//! match are found, so memory is a block, a line and the page. A last line without its
//! newline (being appended) is skipped.

use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use strongroom_api::{AuditCursor, AuditPage, AuditQuery, AuditReadError, LineVerdict};

/// The `prevHash` of a log's very first line.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// A file is rotated (to `PATH.1`, `PATH.1` to `PATH.2`, …) before it grows past this.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Rotated files kept beside the live one.
pub(crate) const DEFAULT_KEEP: usize = 9;
/// The hash member that ends every line: `,"hash":"` 64 hex digits `"}`.
const HASH_MEMBER_LEN: usize = 9 + 64 + 2;

/// Where audit lines go.
#[derive(Debug)]
pub(crate) struct AuditLog {
    sink: Mutex<Sink>,
    /// The files to read back; `None` for standard output.
    files: Option<LogFiles>,
}

/// The live file's path and how many rotated files sit beside it, for readers.
#[derive(Debug, Clone)]
struct LogFiles {
    path: PathBuf,
    keep: usize,
}

#[derive(Debug)]
enum Sink {
    File(ChainFile),
    Stdout { last_hash: String },
}

/// The live file, its size and the hash of its last line.
#[derive(Debug)]
struct ChainFile {
    path: PathBuf,
    file: File,
    len: u64,
    max_bytes: u64,
    keep: usize,
    last_hash: String,
}

impl AuditLog {
    /// Opens (or creates, 0600) the log at `path`, continuing the chain of what is there; `-`
    /// writes to standard output instead (a chain that starts with this process).
    pub(crate) fn open(path: &Path, max_bytes: u64, keep: usize) -> anyhow::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self {
                sink: Mutex::new(Sink::Stdout {
                    last_hash: GENESIS.to_owned(),
                }),
                files: None,
            });
        }
        let io = |source: std::io::Error| anyhow::anyhow!("audit log {}: {source}", path.display());
        let mut file = open_append(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // The chain goes on from the live file's last line, or from the newest rotated file
        // when a rotation left the live one empty.
        let last_hash = match last_line_hash(&mut file).map_err(io)? {
            Some(hash) => hash,
            None => match File::open(rotated(path, 1)) {
                Ok(mut previous) => last_line_hash(&mut previous)
                    .map_err(io)?
                    .unwrap_or_else(|| GENESIS.to_owned()),
                Err(_) => GENESIS.to_owned(),
            },
        };
        if last_hash.len() != 64 {
            anyhow::bail!(
                "audit log {}: its last line does not end the hash chain ({last_hash})",
                path.display()
            );
        }
        Ok(Self {
            sink: Mutex::new(Sink::File(ChainFile {
                path: path.to_owned(),
                file,
                len,
                max_bytes: max_bytes.max(4096),
                keep: keep.max(1),
                last_hash,
            })),
            files: Some(LogFiles {
                path: path.to_owned(),
                keep: keep.max(1),
            }),
        })
    }
}

impl strongroom_api::AuditSink for AuditLog {
    /// Appends one event (a JSON object). A write that fails is reported (the request it
    /// records has already been answered) and the chain stays at the last line written.
    fn record(&self, body: &str) {
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = match &mut *sink {
            Sink::File(chain) => chain.append(body),
            Sink::Stdout { last_hash } => {
                let line = chained_line(body, last_hash);
                let written = std::io::stdout().lock().write_all(line.as_bytes());
                if written.is_ok() {
                    *last_hash = line_hash(&line).to_owned();
                }
                written
            }
        };
        if let Err(err) = result {
            tracing::error!(error = %err, "audit line could not be written");
        }
    }

    fn query(&self, query: &AuditQuery) -> Result<AuditPage, AuditReadError> {
        match &self.files {
            Some(files) => Ok(files.query(query)?),
            None => Err(AuditReadError::WrittenToStandardOutput),
        }
    }
}

/// Bytes read at a time, from the end of a file towards its start.
const READ_BLOCK: usize = 64 * 1024;
/// The longest line a cursor's lookup reads (the writer's lines are a few KiB).
const MAX_CURSOR_LINE: u64 = 1024 * 1024;

impl LogFiles {
    /// File `n`: the live file for 0, `PATH.n` after.
    fn name(&self, n: usize) -> PathBuf {
        if n == 0 {
            self.path.clone()
        } else {
            rotated(&self.path, n)
        }
    }

    /// One page of `query`, newest first, from the live file to `PATH.{keep}`.
    ///
    /// Each file is opened by name when its turn comes; a rotation meanwhile renames the file
    /// just read to the next name, so a file already read (same inode) is skipped, and no
    /// line is returned twice.
    fn query(&self, query: &AuditQuery) -> std::io::Result<AuditPage> {
        let mut page = AuditPage::default();
        let mut read: Vec<FileId> = Vec::new();
        let (first, mut resumed) = match &query.start {
            None => (0, None),
            Some(cursor) => match self.find(cursor)? {
                Some((n, lines)) => (n, Some(lines)),
                // The line went with a rotated file dropped since, and every older line too.
                None => return Ok(page),
            },
        };
        for n in first..=self.keep {
            let mut lines = match resumed.take() {
                Some(lines) => lines,
                None => match File::open(self.name(n)) {
                    Ok(file) => {
                        let end = file.metadata()?.len();
                        Backwards::new(file, end)
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => return Err(err),
                },
            };
            let id = FileId::of(&lines.file)?;
            if read.contains(&id) {
                continue;
            }
            read.push(id);
            while let Some(line) = lines.next_line()? {
                if !line.terminated {
                    continue;
                }
                let Ok(text) = std::str::from_utf8(&line.text) else {
                    continue;
                };
                match query.judge(text) {
                    LineVerdict::Skip => {}
                    LineVerdict::Stop => return Ok(page),
                    LineVerdict::Match if page.events.len() < query.top => {
                        page.events.push(text.to_owned());
                    }
                    LineVerdict::Match => {
                        page.next = Some(AuditCursor {
                            file: n,
                            offset: line.offset,
                            hash: cursor_hash(&line.text),
                        });
                        return Ok(page);
                    }
                }
            }
        }
        Ok(page)
    }

    /// The file that holds a cursor's line now (its own number, or a higher one after
    /// rotations), read backwards from the end of that line; `None` when it is gone.
    fn find(&self, cursor: &AuditCursor) -> std::io::Result<Option<(usize, Backwards)>> {
        for n in cursor.file..=self.keep {
            let mut file = match File::open(self.name(n)) {
                Ok(file) => file,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            if file.metadata()?.len() <= cursor.offset {
                continue;
            }
            file.seek(SeekFrom::Start(cursor.offset))?;
            let mut line = Vec::new();
            BufReader::new(Read::by_ref(&mut file).take(MAX_CURSOR_LINE))
                .read_until(b'\n', &mut line)?;
            if line.pop() == Some(b'\n') && cursor_hash(&line) == cursor.hash {
                let end = cursor.offset + line.len() as u64 + 1;
                return Ok(Some((n, Backwards::new(file, end))));
            }
        }
        Ok(None)
    }
}

/// What a cursor keeps of its line's SHA-256.
fn cursor_hash(line: &[u8]) -> String {
    let mut hash = hex(&sha256(line));
    hash.truncate(strongroom_api::CURSOR_HASH_DIGITS);
    hash
}

/// A file's identity, to notice the same file under a second name.
#[derive(Debug, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    #[cfg(unix)]
    fn of(file: &File) -> std::io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        let metadata = file.metadata()?;
        Ok(Self(metadata.dev(), metadata.ino()))
    }

    #[cfg(not(unix))]
    fn of(_: &File) -> std::io::Result<Self> {
        // No cheap identity: every file counts as new (a rotation during a read may repeat
        // a file's lines).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Self(
            0,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

/// A file's lines, last first, read backwards in blocks from a given end.
struct Backwards {
    file: File,
    /// The file offset of `buffer[0]`; the bytes before it are not read yet.
    start: u64,
    /// Bytes `start..start + buffer.len()` of the file, not yet returned.
    buffer: Vec<u8>,
}

/// One line from [`Backwards`].
struct BackLine {
    /// Where the line starts in the file.
    offset: u64,
    /// The line without its newline.
    text: Vec<u8>,
    /// Whether a newline ended it (only the file's last line can lack one: being written).
    terminated: bool,
}

impl Backwards {
    /// Reads `file` backwards from byte `end`.
    fn new(file: File, end: u64) -> Self {
        Self {
            file,
            start: end,
            buffer: Vec::new(),
        }
    }

    fn next_line(&mut self) -> std::io::Result<Option<BackLine>> {
        loop {
            if self.buffer.is_empty() && self.start == 0 {
                return Ok(None);
            }
            let terminated = self.buffer.last() == Some(&b'\n');
            let content = self.buffer.len() - usize::from(terminated);
            if let Some(at) = self.buffer[..content].iter().rposition(|&b| b == b'\n') {
                let line = BackLine {
                    offset: self.start + at as u64 + 1,
                    text: self.buffer[at + 1..content].to_vec(),
                    terminated,
                };
                self.buffer.truncate(at + 1);
                return Ok(Some(line));
            }
            if self.start == 0 {
                let mut text = std::mem::take(&mut self.buffer);
                text.truncate(content);
                return Ok(Some(BackLine {
                    offset: 0,
                    text,
                    terminated,
                }));
            }
            // The block before: a whole block, so the buffer holds at most a block and the
            // line it is in the middle of.
            let size = READ_BLOCK.min(usize::try_from(self.start).unwrap_or(READ_BLOCK));
            let from = self.start - size as u64;
            let mut block = vec![0; size];
            self.file.seek(SeekFrom::Start(from))?;
            match self.file.read_exact(&mut block) {
                Ok(()) => {}
                // Shortened under us (by hand: the writer only appends): nothing more here.
                Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(err) => return Err(err),
            }
            block.extend_from_slice(&self.buffer);
            self.buffer = block;
            self.start = from;
        }
    }
}

impl ChainFile {
    fn append(&mut self, body: &str) -> std::io::Result<()> {
        let line = chained_line(body, &self.last_hash);
        if self.len > 0 && self.len + line.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line.as_bytes())?;
        self.len += line.len() as u64;
        line_hash(&line).clone_into(&mut self.last_hash);
        Ok(())
    }

    /// `PATH.{keep-1}` to `PATH.{keep}` (the oldest is dropped), …, `PATH` to `PATH.1`, and a
    /// new `PATH`; the chain continues into it.
    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.sync_all()?;
        let _ = std::fs::remove_file(rotated(&self.path, self.keep));
        for n in (1..self.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = open_append(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

/// The live file, opened to append (created 0600: it names every caller).
fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true).read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// `body` (a JSON object) with `prevHash` and `hash` appended, and a newline.
fn chained_line(body: &str, previous: &str) -> String {
    let open = body.strip_suffix('}').unwrap_or(body);
    let separator = if open.ends_with('{') { "" } else { "," };
    let mut hashed = format!("{open}{separator}\"prevHash\":\"{previous}\"");
    let hash = hex(&sha256(format!("{hashed}}}").as_bytes()));
    hashed.push_str(",\"hash\":\"");
    hashed.push_str(&hash);
    hashed.push_str("\"}\n");
    hashed
}

/// The `hash` of a line `chained_line` made (its last 64 hex digits before `"}`).
fn line_hash(line: &str) -> &str {
    let line = line.trim_end_matches('\n');
    &line[line.len() - 66..line.len() - 2]
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    strongroom_crypto::sha256(bytes)
}

/// Lower-case hex, one allocation (a `format!` per byte cost more than the line's SHA-256 in
/// a profile of an audited GET load).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The hash of the file's last line: `None` for an empty file, the line's text if it does
/// not end in a hash member (the caller refuses to chain onto it).
fn last_line_hash(file: &mut File) -> std::io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    // Only the end of the last line matters (its hash member, plain ASCII), so a tail that
    // starts inside a long line or inside a multi-byte character still holds it.
    let start = len.saturating_sub(64 * 1024);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let tail = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let last_start = tail
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let last = String::from_utf8_lossy(&tail[last_start..]);
    Ok(Some(match split_hash(&last) {
        Some((_, hash)) => hash.to_owned(),
        None => format!("last line is not an audit line: {:.40}", last),
    }))
}

/// A line split into what was hashed (up to the end of `prevHash`) and its `hash`.
fn split_hash(line: &str) -> Option<(&str, &str)> {
    if line.len() < HASH_MEMBER_LEN || !line.is_char_boundary(line.len() - HASH_MEMBER_LEN) {
        return None;
    }
    let (hashed, member) = line.split_at(line.len() - HASH_MEMBER_LEN);
    let hash = member.strip_prefix(",\"hash\":\"")?.strip_suffix("\"}")?;
    hash.bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        .then_some((hashed, hash))
}

/// `strongroom audit verify FILE…`: each file's chain, and each file starting where the one
/// before it ended. Prints one JSON line per file; stops with exit code 1 at the first break.
pub(crate) fn verify_files(files: &[PathBuf]) -> std::process::ExitCode {
    let mut previous_last: Option<String> = None;
    for path in files {
        let report = File::open(path)
            .map_err(|err| format!("cannot read it: {err}"))
            .and_then(|file| verify(file).map_err(|broken| broken.to_string()))
            .and_then(|verified| match &previous_last {
                Some(last) if verified.lines > 0 && *last != verified.first_prev_hash => Err(
                    "its first line does not continue the file before it (a file is missing or out of order)"
                        .to_owned(),
                ),
                _ => Ok(verified),
            });
        match report {
            Ok(verified) => {
                report_line(
                    &serde_json::json!({"file": path.display().to_string(), "ok": true, "lines": verified.lines,
                        "firstPrevHash": verified.first_prev_hash, "lastHash": verified.last_hash}),
                );
                if verified.lines > 0 {
                    previous_last = Some(verified.last_hash);
                }
            }
            Err(reason) => {
                report_line(
                    &serde_json::json!({"file": path.display().to_string(), "ok": false, "error": reason}),
                );
                eprintln!("ERROR: {}: {reason}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

/// One line of `audit verify`'s report, on standard output (the command's answer, not a log).
fn report_line(report: &serde_json::Value) {
    let _ = writeln!(std::io::stdout().lock(), "{report}");
}

/// The 64 hex digits of the `"prevHash":"…"` member that ends `hashed`.
fn prev_hash(hashed: &str) -> Option<&str> {
    let open = hashed.strip_suffix('"')?;
    let (head, prev) = open.split_at_checked(open.len().checked_sub(64)?)?;
    let before = head.strip_suffix("\"prevHash\":\"")?;
    (before.ends_with([',', '{']) && prev.bytes().all(|b| b.is_ascii_hexdigit())).then_some(prev)
}

/// What `verify` found in one file.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Verified {
    pub(crate) lines: u64,
    /// The `prevHash` of the first line: [`GENESIS`] for the start of a log, else the last
    /// hash of the file rotated before it.
    pub(crate) first_prev_hash: String,
    pub(crate) last_hash: String,
}

/// Why a file fails verification: the 1-based line and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    pub(crate) line: u64,
    pub(crate) reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Checks every line of `reader`: each is a JSON object whose `hash` is the SHA-256 of its own
/// bytes up to `prevHash`, and whose `prevHash` is the line before's `hash`.
pub(crate) fn verify(reader: impl Read) -> Result<Verified, Broken> {
    let mut verified = Verified {
        lines: 0,
        first_prev_hash: String::new(),
        last_hash: String::new(),
    };
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        let number = index as u64 + 1;
        let broken = |reason: &str| Broken {
            line: number,
            reason: reason.to_owned(),
        };
        let line = line.map_err(|err| broken(&format!("unreadable: {err}")))?;
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line)
            .map_err(|_| broken("not a JSON object"))?;
        let (hashed, hash) = split_hash(&line).ok_or_else(|| broken("no hash at its end"))?;
        let prev = prev_hash(hashed).ok_or_else(|| broken("no prevHash before its hash"))?;
        if hex(&sha256(format!("{hashed}}}").as_bytes())) != hash {
            return Err(broken("its hash does not match its content (edited)"));
        }
        if number == 1 {
            prev.clone_into(&mut verified.first_prev_hash);
        } else if prev != verified.last_hash {
            return Err(broken(
                "its prevHash is not the previous line's hash (a line was removed, added or moved)",
            ));
        }
        hash.clone_into(&mut verified.last_hash);
        verified.lines = number;
    }
    Ok(verified)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Event {
        #[serde(rename = "operationName")]
        operation_name: &'static str,
        n: u32,
    }

    fn write(log: &AuditLog, n: u32) {
        use strongroom_api::AuditSink;
        let body = serde_json::to_string(&Event {
            operation_name: "SecretGet",
            n,
        })
        .unwrap();
        log.record(&body);
    }

    #[test]
    fn a_chain_verifies_and_any_edit_removal_or_swap_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        for n in 0..5 {
            write(&log, n);
        }
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        let verified = verify(text.as_bytes()).unwrap();
        assert_eq!(verified.lines, 5);
        assert_eq!(verified.first_prev_hash, GENESIS);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with(r#"{"operationName":"SecretGet","n":0,"prevHash":""#));

        let edited = text.replacen("\"n\":2", "\"n\":7", 1);
        assert_eq!(verify(edited.as_bytes()).unwrap_err().line, 3);
        let removed: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        assert_eq!(verify(removed.as_bytes()).unwrap_err().line, 2);
        let swapped = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]);
        assert_eq!(verify(swapped.as_bytes()).unwrap_err().line, 2);
        // A line rewritten with a fresh hash of its own still breaks the next link.
        let forged = chained_line(
            r#"{"operationName":"SecretGet","n":9}"#,
            line_hash(lines[0]),
        );
        let spliced = format!("{}\n{forged}{}\n", lines[0], lines[2]);
        assert_eq!(verify(spliced.as_bytes()).unwrap_err().line, 3);
    }

    #[test]
    fn the_chain_continues_across_restarts_and_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, 4096, 3).unwrap();
        write(&log, 0);
        drop(log);
        // Reopened: the next line chains onto the last one written.
        let log = AuditLog::open(&path, 4096, 3).unwrap();
        for n in 1..200 {
            write(&log, n);
        }
        drop(log);
        let live = verify(File::open(&path).unwrap()).unwrap();
        let first = verify(File::open(rotated(&path, 1)).unwrap()).unwrap();
        assert_eq!(
            live.first_prev_hash, first.last_hash,
            "rotation keeps the chain"
        );
        assert!(
            !rotated(&path, 4).exists(),
            "only `keep` rotated files stay"
        );
        assert!(rotated(&path, 3).exists());
        let total: u64 = [
            rotated(&path, 3),
            rotated(&path, 2),
            rotated(&path, 1),
            path.clone(),
        ]
        .iter()
        .map(|p| verify(File::open(p).unwrap()).unwrap().lines)
        .sum();
        assert!(total < 200, "the oldest lines went with the dropped file");
    }

    #[test]
    fn the_chain_continues_after_a_line_longer_than_the_tail_read_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        // 70,000 two-byte characters: the 64 KiB tail starts inside the line, and may start
        // inside a character.
        let long = serde_json::json!({"operationName": "SecretGet", "agent": "é".repeat(70_000)});
        strongroom_api::AuditSink::record(&log, &long.to_string());
        drop(log);
        let log = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        write(&log, 1);
        drop(log);
        assert_eq!(verify(File::open(&path).unwrap()).unwrap().lines, 2);
    }

    /// The `n` of each event of a page.
    fn numbers(page: &AuditPage) -> Vec<u64> {
        page.events
            .iter()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    }

    fn query(log: &AuditLog, text: &str) -> AuditPage {
        strongroom_api::AuditSink::query(log, &AuditQuery::parse(Some(text)).unwrap()).unwrap()
    }

    fn next_token(page: &AuditPage) -> String {
        page.next.as_ref().unwrap().to_token()
    }

    #[test]
    fn reading_back_pages_newest_first_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, 4096, 9).unwrap();
        for n in 0..120 {
            write(&log, n);
        }
        assert!(rotated(&path, 2).exists(), "the events span several files");
        let first = query(&log, "top=50");
        assert_eq!(numbers(&first), (70..120).rev().collect::<Vec<_>>());
        // Lines written after the first page do not move the second.
        for n in 120..125 {
            write(&log, n);
        }
        let token = next_token(&first);
        let second = query(&log, &format!("top=50&skipToken={token}"));
        assert_eq!(numbers(&second), (20..70).rev().collect::<Vec<_>>());
        let third = query(&log, &format!("top=50&skipToken={}", next_token(&second)));
        assert_eq!(numbers(&third), (0..20).rev().collect::<Vec<_>>());
        assert!(third.next.is_none(), "the last page has no next");
        // A page that ends exactly at the oldest line has no next either.
        let all = query(&log, "top=125");
        assert_eq!(all.events.len(), 125);
        assert!(all.next.is_none());
        assert_eq!(numbers(&query(&log, "top=1")), [124]);
        // Only matching lines count.
        assert!(query(&log, "operation=SecretSet").events.is_empty());
    }

    #[test]
    fn a_cursor_survives_a_rotation_and_ends_when_its_file_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, 4096, 2).unwrap();
        for n in 0..10 {
            write(&log, n);
        }
        let first = query(&log, "top=3");
        assert_eq!(numbers(&first), [9, 8, 7]);
        assert_eq!(first.next.as_ref().unwrap().file, 0);
        // Enough lines to rotate the live file once: the cursor's line is now in `PATH.1`.
        let mut n = 10;
        while !rotated(&path, 1).exists() {
            write(&log, n);
            n += 1;
        }
        let second = query(&log, &format!("top=3&skipToken={}", next_token(&first)));
        assert_eq!(numbers(&second), [6, 5, 4]);
        // Rotated out of the two files kept: nothing older is left.
        while !rotated(&path, 2).exists()
            || std::fs::read_to_string(rotated(&path, 2))
                .unwrap()
                .contains("\"n\":6,")
        {
            write(&log, n);
            n += 1;
        }
        let gone = query(&log, &format!("top=3&skipToken={}", next_token(&second)));
        assert_eq!(gone, AuditPage::default());
    }

    #[test]
    fn a_partial_last_line_and_foreign_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        for n in 0..3 {
            write(&log, n);
        }
        // Another line being appended right now: half of it is there.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"operationName":"SecretGet","n":3,"prev"#)
            .unwrap();
        assert_eq!(numbers(&query(&log, "")), [2, 1, 0]);
        // A line that ends but is not JSON (written by hand) is not an event.
        file.write_all(b"\nnot json\n").unwrap();
        assert_eq!(numbers(&query(&log, "")), [2, 1, 0]);
    }

    #[test]
    fn lines_longer_than_a_block_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        write(&log, 0);
        let long =
            serde_json::json!({"operationName": "SecretGet", "n": 1, "agent": "é".repeat(100_000)});
        strongroom_api::AuditSink::record(&log, &long.to_string());
        write(&log, 2);
        let page = query(&log, "top=2");
        assert_eq!(numbers(&page), [2, 1]);
        assert_eq!(
            numbers(&query(&log, &format!("skipToken={}", next_token(&page)))),
            [0]
        );
    }

    #[test]
    fn standard_output_has_nothing_to_read_back() {
        let log = AuditLog::open(Path::new("-"), DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        let refused = strongroom_api::AuditSink::query(&log, &AuditQuery::parse(None).unwrap());
        assert!(matches!(
            refused,
            Err(AuditReadError::WrittenToStandardOutput)
        ));
    }

    #[test]
    fn a_foreign_last_line_is_not_chained_onto() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "not an audit line\n").unwrap();
        let refused = AuditLog::open(&path, DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap_err();
        assert!(
            refused.to_string().contains("does not end the hash chain"),
            "{refused}"
        );
    }
}
