//! `GET /strongroom/audit/events`: Strongroom's own read API over its audit log (`serve
//! --audit-log PATH`), for the web console and `strongroom audit list`. Azure has no such
//! API (its `AuditEvent` records go to Log Analytics, a storage account or an event hub), so
//! the shape is ours: `{"value":[event, …newest first],"nextLink":"…"}`, each event one line
//! of the log as it was written (Azure's field names, `prevHash` and `hash` included).
//!
//! This module is the route's HTTP edge: it reads the query string into an [`AuditQuery`]
//! (400 for anything it cannot use), asks the sink ([`crate::AuditSink::query`]: blocking file
//! reads, on the blocking pool), and maps [`AuditReadError`] to its answer here, once. What an
//! event must hold to match a filter also lives here ([`AuditQuery::judge`]), beside the code
//! that builds the events (`audit.rs`), so the binary's reader only walks lines and files.
//!
//! Which events are a vault's: those whose `resourceId` is the vault's ARM id (every data-plane
//! request that named an existing vault, refused ones included); a data-plane request refused
//! before its vault was looked up (401), by the vault host of its `requestUri`; and a
//! management request on the vault's ARM path (create, access policies, role assignments
//! scoped to it, delete, its deleted-vault record), by the path in `properties.id`. Token
//! issues name no vault.

use crate::arm::arm_error;
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use strongroom_model::{UnixTime, VaultName};

/// Events per page when `top` is not given.
pub(crate) const DEFAULT_TOP: usize = 100;
/// The most events one page holds.
pub(crate) const MAX_TOP: usize = 1000;
/// A scan with `from` stops at the first line older than `from` by this much: lines are
/// written in time order, give or take the moments between an event's timestamp and its write
/// (and a system clock stepped back by less than this).
const FROM_MARGIN_MS: i64 = 60 * 60 * 1000;
/// The identity claim that holds the caller's object id.
pub(crate) const OBJECT_ID_CLAIM: &str =
    "http://schemas.microsoft.com/identity/claims/objectidentifier";

/// `result=`: how the request ended (`resultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuditResult {
    Success,
    Failure,
}

/// Where a page starts: the line at byte `offset` of log file `file` (0: `PATH`, n:
/// `PATH.n`, as the files were named when the page before was read; a rotation since moves
/// it to a higher number, so the reader looks there too), whose SHA-256 starts with `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub file: usize,
    pub offset: u64,
    /// The first 16 lower-case hex digits of the SHA-256 of the line (without its newline).
    pub hash: String,
}

/// Hex digits of a line's SHA-256 a cursor keeps.
pub const CURSOR_HASH_DIGITS: usize = 16;

impl AuditCursor {
    /// The `skipToken` text: `{file}-{offset}-{hash}` (opaque to clients).
    pub fn to_token(&self) -> String {
        format!("{}-{}-{}", self.file, self.offset, self.hash)
    }

    fn from_token(token: &str) -> Option<Self> {
        let mut parts = token.split('-');
        let file = parts.next()?.parse().ok().filter(|file| *file <= 1000)?;
        let offset = parts.next()?.parse().ok()?;
        let hash = parts.next()?;
        let valid_hash = hash.len() == CURSOR_HASH_DIGITS
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (valid_hash && parts.next().is_none()).then(|| Self {
            file,
            offset,
            hash: hash.to_owned(),
        })
    }
}

/// One page of matching events, newest first.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuditPage {
    /// Each a line of the log (a JSON object, without its newline).
    pub events: Vec<String>,
    /// Where the next page starts, when there is one more matching event.
    pub next: Option<AuditCursor>,
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditReadError {
    /// No `--audit-log`.
    #[error("this deployment keeps no audit log")]
    NotKept,
    /// `--audit-log -`: the lines went to standard output.
    #[error("the audit log goes to standard output")]
    WrittenToStandardOutput,
    #[error("reading the audit log: {0}")]
    Io(#[from] std::io::Error),
}

/// What the reader does with one line of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineVerdict {
    /// The line is a matching event.
    Match,
    /// Not a match (or not an event: a partial or foreign line).
    Skip,
    /// The line is well before `from`: older lines cannot match either.
    Stop,
}

/// A query string that cannot be used: 400 with this message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct BadAuditQuery(pub String);

/// The filters and page of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// The vault's name, lower case.
    vault: Option<String>,
    /// Milliseconds since the epoch; `from` ≤ time < `to`.
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    /// `operationName`s, any one of which matches (compared ignoring case).
    operations: Vec<String>,
    /// The caller's object id, lower case.
    caller: Option<String>,
    result: Option<AuditResult>,
    /// Events on the page, 1 to [`MAX_TOP`].
    pub top: usize,
    /// Where the page starts (`skipToken`); `None`: at the newest line.
    pub start: Option<AuditCursor>,
}

impl AuditQuery {
    /// Reads `vault`, `from`, `to`, `operation`, `caller`, `result`, `top` and `skipToken`
    /// (names in any case, `$top` and `$skipToken` too; `api-version` is ignored). Unknown or
    /// repeated parameters are refused, so a misspelt filter does not silently widen the
    /// answer.
    pub fn parse(query: Option<&str>) -> Result<Self, BadAuditQuery> {
        let mut parsed = Self {
            vault: None,
            from_ms: None,
            to_ms: None,
            operations: Vec::new(),
            caller: None,
            result: None,
            top: DEFAULT_TOP,
            start: None,
        };
        let mut seen: Vec<&'static str> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let lower = name.to_ascii_lowercase();
            let name: &'static str = match lower.trim_start_matches('$') {
                "vault" => "vault",
                "from" => "from",
                "to" => "to",
                "operation" => "operation",
                "caller" => "caller",
                "result" => "result",
                "top" => "top",
                "skiptoken" => "skipToken",
                "api-version" => continue,
                _ => {
                    return Err(BadAuditQuery(format!(
                        "The query parameter '{name}' is not supported; use vault, from, to, operation, caller, result, top or skipToken."
                    )));
                }
            };
            if seen.contains(&name) {
                return Err(BadAuditQuery(format!(
                    "The query parameter '{name}' is given more than once."
                )));
            }
            seen.push(name);
            let value = value.trim();
            match name {
                "vault" => parsed.vault = Some(vault_name(value)?),
                "from" => parsed.from_ms = Some(time_param("from", value)?),
                "to" => parsed.to_ms = Some(time_param("to", value)?),
                "operation" => {
                    parsed.operations = value
                        .split(',')
                        .map(str::trim)
                        .filter(|op| !op.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if parsed.operations.is_empty() {
                        return Err(BadAuditQuery(
                            "operation must name an operation (such as SecretGet).".to_owned(),
                        ));
                    }
                }
                "caller" => {
                    if value.is_empty() || value.len() > 128 {
                        return Err(BadAuditQuery(
                            "caller must be a principal's object id.".to_owned(),
                        ));
                    }
                    parsed.caller = Some(value.to_ascii_lowercase());
                }
                "result" => {
                    parsed.result = Some(match value.to_ascii_lowercase().as_str() {
                        "success" => AuditResult::Success,
                        "failure" => AuditResult::Failure,
                        _ => {
                            return Err(BadAuditQuery(format!(
                                "result must be 'success' or 'failure', not '{value}'."
                            )));
                        }
                    });
                }
                "top" => {
                    parsed.top = value
                        .parse()
                        .ok()
                        .filter(|top| (1..=MAX_TOP).contains(top))
                        .ok_or_else(|| {
                            BadAuditQuery(format!(
                                "top must be an integer from 1 to {MAX_TOP}, not '{value}'."
                            ))
                        })?;
                }
                _ => {
                    parsed.start = Some(AuditCursor::from_token(value).ok_or_else(|| {
                        BadAuditQuery(
                            "skipToken is not one this server issued; take it from a nextLink."
                                .to_owned(),
                        )
                    })?);
                }
            }
        }
        if let (Some(from), Some(to)) = (parsed.from_ms, parsed.to_ms)
            && from >= to
        {
            return Err(BadAuditQuery("from must be earlier than to.".to_owned()));
        }
        Ok(parsed)
    }

    /// What to do with one line of the log, read newest first.
    pub fn judge(&self, line: &str) -> LineVerdict {
        if let (Some(from), Some(time)) = (self.from_ms, line_time_ms(line))
            && time < from.saturating_sub(FROM_MARGIN_MS)
        {
            return LineVerdict::Stop;
        }
        // A cheap look at the text first: most lines of a busy log are another vault's.
        let absent = |needle: &Option<String>| {
            needle
                .as_deref()
                .is_some_and(|needle| !contains_ignoring_case(line, needle))
        };
        if absent(&self.vault) || absent(&self.caller) {
            return LineVerdict::Skip;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(event) if event.is_object() && self.matches(&event) => LineVerdict::Match,
            _ => LineVerdict::Skip,
        }
    }

    /// Whether an event passes every filter.
    pub fn matches(&self, event: &Value) -> bool {
        let text = |field: &str| event.get(field).and_then(Value::as_str);
        if let Some(vault) = &self.vault
            && !names_vault(event, vault)
        {
            return false;
        }
        if !self.operations.is_empty() {
            let operation = text("operationName").unwrap_or_default();
            if !self
                .operations
                .iter()
                .any(|wanted| wanted.eq_ignore_ascii_case(operation))
            {
                return false;
            }
        }
        if let Some(caller) = &self.caller {
            let object_id = event
                .get("identity")
                .and_then(|identity| identity.get("claim"))
                .and_then(|claim| claim.get(OBJECT_ID_CLAIM))
                .and_then(Value::as_str);
            if !object_id.is_some_and(|id| id.eq_ignore_ascii_case(caller)) {
                return false;
            }
        }
        if let Some(result) = self.result {
            let wanted = match result {
                AuditResult::Success => "Success",
                AuditResult::Failure => "Failure",
            };
            if !text("resultType").is_some_and(|found| found.eq_ignore_ascii_case(wanted)) {
                return false;
            }
        }
        if self.from_ms.is_some() || self.to_ms.is_some() {
            let Some(time) = text("time").and_then(rfc3339_ms) else {
                return false;
            };
            if self.from_ms.is_some_and(|from| time < from)
                || self.to_ms.is_some_and(|to| time >= to)
            {
                return false;
            }
        }
        true
    }
}

/// `vault=`: a vault name, or a vault's ARM id (its last segment is the name; names are
/// unique in the deployment).
fn vault_name(value: &str) -> Result<String, BadAuditQuery> {
    let name = match value.rsplit_once('/') {
        Some((path, name)) if path.to_ascii_lowercase().ends_with("/vaults") => name,
        Some(_) => "",
        None => value,
    };
    VaultName::parse(name)
        .map(|name| name.to_string().to_ascii_lowercase())
        .map_err(|err| BadAuditQuery(format!("vault '{value}' is not a vault name: {err}.")))
}

fn time_param(name: &str, value: &str) -> Result<i64, BadAuditQuery> {
    // A `+` of an offset that reached us unescaped was read as a space.
    rfc3339_ms(&value.replace(' ', "+")).ok_or_else(|| {
        BadAuditQuery(format!(
            "{name} must be an RFC 3339 date-time such as 2026-05-01T12:00:00Z, not '{value}'."
        ))
    })
}

/// An RFC 3339 date-time in milliseconds since the epoch (fractions past the millisecond
/// dropped).
fn rfc3339_ms(text: &str) -> Option<i64> {
    let seconds = UnixTime::parse_rfc3339(text)?.0;
    let (_, clock) = text.split_once(['T', 't'])?;
    let millis = match clock.split_once('.') {
        Some((_, fraction)) => {
            let digits: String = fraction
                .chars()
                .take_while(char::is_ascii_digit)
                .chain(std::iter::repeat('0'))
                .take(3)
                .collect();
            digits.parse::<i64>().ok()?
        }
        None => 0,
    };
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// The `time` of a line `audit.rs` wrote (its first member), without parsing the line.
fn line_time_ms(line: &str) -> Option<i64> {
    let rest = line.get(..64)?.strip_prefix("{\"time\":\"")?;
    rfc3339_ms(&rest[..rest.find('"')?])
}

fn contains_ignoring_case(haystack: &str, lower_needle: &str) -> bool {
    let needle = lower_needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len().max(1))
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Whether an event is about vault `vault` (lower case): see the module's comment.
fn names_vault(event: &Value, vault: &str) -> bool {
    fn text(value: Option<&Value>) -> &str {
        value.and_then(Value::as_str).unwrap_or_default()
    }
    let properties = event.get("properties");
    if arm_path_names_vault(text(event.get("resourceId")), vault)
        || arm_path_names_vault(text(properties.and_then(|p| p.get("id"))), vault)
    {
        return true;
    }
    // A data-plane request answered before its vault was looked up (401): the vault host.
    let uri = text(properties.and_then(|p| p.get("requestUri")));
    let host = uri
        .strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?']).next())
        .unwrap_or_default();
    host.split_once('.').is_some_and(|(label, rest)| {
        label.eq_ignore_ascii_case(vault)
            && rest
                .get(..6)
                .is_some_and(|zone| zone.eq_ignore_ascii_case("vault."))
    })
}

/// Whether an ARM path (or a URL holding one) addresses vault `vault` or something under it:
/// `…/providers/Microsoft.KeyVault/vaults/{vault}[/…]` or
/// `…/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vault}[/…]`.
fn arm_path_names_vault(path: &str, vault: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let is = |at: usize, word: &str| {
        segments
            .get(at)
            .is_some_and(|segment| segment.eq_ignore_ascii_case(word))
    };
    (0..segments.len()).any(|at| {
        is(at, "providers")
            && is(at + 1, "Microsoft.KeyVault")
            && ((is(at + 2, "vaults") && is(at + 3, vault))
                || (is(at + 2, "locations") && is(at + 4, "deletedVaults") && is(at + 5, vault)))
    })
}

/// `GET /strongroom/audit/events?…` (administrators only, like every `/strongroom` route).
pub(crate) async fn events(
    state: &AppState,
    method: &Method,
    raw_query: Option<&str>,
) -> Result<Response, ApiError> {
    if *method != Method::GET {
        return Err(ApiError::MethodNotAllowed(method.to_string()));
    }
    let Some(sink) = state.audit.clone() else {
        return Err(AuditReadError::NotKept.into());
    };
    let query = AuditQuery::parse(raw_query)
        .map_err(|bad| arm_error(StatusCode::BAD_REQUEST, "BadRequest", bad.0))?;
    let page = tokio::task::spawn_blocking(move || sink.query(&query))
        .await
        .map_err(ApiError::internal)??;
    let next_link = page.next.as_ref().map(|next| {
        format!(
            "{}/strongroom/audit/events?{}",
            state.config.public_origin(),
            with_skip_token(raw_query, &next.to_token())
        )
    });
    // The lines are JSON objects already (each parsed to be matched): the body is put
    // together from them, so every event reaches the client byte for byte as it was logged.
    let size = page.events.iter().map(|e| e.len() + 1).sum::<usize>() + 64;
    let mut body = String::with_capacity(size);
    body.push_str("{\"value\":[");
    for (index, event) in page.events.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(event);
    }
    body.push(']');
    if let Some(link) = next_link {
        body.push_str(",\"nextLink\":");
        body.push_str(&Value::String(link).to_string());
    }
    body.push('}');
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(response)
}

/// The request's own parameters, in their order, with `skipToken` set to `token`.
fn with_skip_token(raw_query: Option<&str>, token: &str) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
        if !name
            .trim_start_matches('$')
            .eq_ignore_ascii_case("skiptoken")
        {
            serializer.append_pair(&name, &value);
        }
    }
    serializer.append_pair("skipToken", token);
    serializer.finish()
}

impl From<AuditReadError> for ApiError {
    fn from(err: AuditReadError) -> Self {
        let not_enabled = |message: &str| {
            arm_error(
                StatusCode::NOT_FOUND,
                "AuditLogNotEnabled",
                message.to_owned(),
            )
        };
        match err {
            AuditReadError::NotKept => {
                not_enabled("This deployment keeps no audit log (serve --audit-log).")
            }
            AuditReadError::WrittenToStandardOutput => not_enabled(
                "This deployment writes its audit log to standard output, which cannot be read back (serve --audit-log PATH).",
            ),
            AuditReadError::Io(_) => ApiError::internal(err),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "/SUBSCRIPTIONS/1B2C";

    fn event(time: &str, resource: &str, operation: &str, result: &str, oid: &str) -> Value {
        json!({
            "time": time,
            "resourceId": resource,
            "operationName": operation,
            "resultType": result,
            "identity": {"claim": {OBJECT_ID_CLAIM: oid, "appid": "app"}},
            "properties": {"id": "https://vault1.vault.localhost:4443/secrets/db", "requestUri": "https://vault1.vault.localhost:4443/secrets/db?api-version=7.5"},
        })
    }

    fn vault_id(name: &str) -> String {
        format!("{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{name}")
    }

    fn query(text: &str) -> AuditQuery {
        AuditQuery::parse(Some(text)).unwrap()
    }

    #[test]
    fn every_filter_narrows_and_none_lets_all_through() {
        let get = event(
            "2026-05-01T10:00:00.250Z",
            &vault_id("VAULT1"),
            "SecretGet",
            "Success",
            "OID-A",
        );
        assert!(query("").matches(&get));
        assert!(query("vault=vault1").matches(&get));
        assert!(query("vault=VAULT1&api-version=1").matches(&get));
        assert!(query("operation=secretget").matches(&get));
        assert!(query("operation=SecretSet,SecretGet").matches(&get));
        assert!(!query("operation=SecretSet").matches(&get));
        assert!(query("caller=oid-a").matches(&get));
        assert!(!query("caller=oid-b").matches(&get));
        assert!(query("result=success").matches(&get));
        assert!(!query("result=Failure").matches(&get));
        assert!(
            query("from=2026-05-01T10:00:00.250Z").matches(&get),
            "from is inclusive"
        );
        assert!(
            !query("to=2026-05-01T10:00:00.250Z").matches(&get),
            "to is exclusive"
        );
        assert!(!query("from=2026-05-01T10:00:00.251Z").matches(&get));
        assert!(
            query("from=2026-05-01T12:00:00+02:00&to=2026-05-01T12:00:01%2B02:00").matches(&get)
        );
        assert!(
            query("from=2026-05-01T12:00:00 02:00").matches(&get),
            "an unescaped +"
        );
    }

    #[test]
    fn a_vaults_events_are_found_by_resource_id_vault_host_or_arm_path() {
        let mut data_plane = event(
            "2026-05-01T10:00:00Z",
            &vault_id("VAULT1"),
            "SecretGet",
            "Success",
            "a",
        );
        data_plane["properties"] = json!({});
        assert!(query("vault=vault1").matches(&data_plane));
        assert!(!query("vault=vau").matches(&data_plane), "not a prefix");
        assert!(!query("vault=vault12").matches(&data_plane));
        assert!(
            query(
                "vault=/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/VAULT1"
            )
            .matches(&data_plane)
        );
        // Refused before the vault was looked up: only the host names it.
        let unauthenticated = json!({"resourceId": SUB, "operationName": "VaultRequest",
            "properties": {"requestUri": "https://vault1.vault.azure.net/secrets/x?api-version=7.5"}});
        assert!(query("vault=vault1").matches(&unauthenticated));
        assert!(!query("vault=vault2").matches(&unauthenticated));
        // Management requests on the vault's ARM path.
        for path in [
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/vault1",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/VAULT1/accessPolicies/add",
            "/subscriptions/s/providers/Microsoft.KeyVault/locations/local/deletedVaults/vault1/purge",
        ] {
            let management = json!({"resourceId": SUB, "operationName": "ServiceRequest",
                "properties": {"id": format!("https://localhost:4443{path}"), "requestUri": "https://localhost:4443/"}});
            assert!(query("vault=vault1").matches(&management), "{path}");
            assert!(!query("vault=vault2").matches(&management), "{path}");
        }
        let token = json!({"resourceId": SUB, "operationName": "TokenIssue", "properties": {"resource": "https://vault.localhost"}});
        assert!(!query("vault=vault1").matches(&token));
        assert!(query("").matches(&token));
    }

    #[test]
    fn judging_a_line_skips_partial_lines_and_stops_well_before_from() {
        let mut event = event(
            "2026-05-01T10:00:00.000Z",
            &vault_id("VAULT1"),
            "SecretGet",
            "Success",
            "a",
        );
        let time = event.as_object_mut().unwrap().remove("time").unwrap();
        // As `audit.rs` writes it: `time` first.
        let line = format!("{{\"time\":{time},{}", &event.to_string()[1..]);
        assert_eq!(query("vault=vault1").judge(&line), LineVerdict::Match);
        assert_eq!(query("vault=vault2").judge(&line), LineVerdict::Skip);
        assert_eq!(query("").judge(&line[..line.len() - 3]), LineVerdict::Skip);
        assert_eq!(query("").judge(""), LineVerdict::Skip);
        assert_eq!(
            query("from=2026-05-01T10:30:00Z").judge(&line),
            LineVerdict::Skip
        );
        assert_eq!(
            query("from=2026-05-01T11:00:01Z").judge(&line),
            LineVerdict::Stop
        );
    }

    #[test]
    fn bad_parameters_are_refused_with_their_name() {
        for (text, says) in [
            ("top=0", "top"),
            ("top=1001", "top"),
            ("top=ten", "top"),
            ("from=yesterday", "from"),
            ("to=2026-13-01T00:00:00Z", "to"),
            (
                "from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z",
                "earlier",
            ),
            ("result=maybe", "result"),
            ("vault=a_b", "vault"),
            ("vault=/subscriptions/x/resourceGroups/rg", "vault"),
            ("vaultName=vault1", "vaultName"),
            ("vault=vault1&vault=vault2", "more than once"),
            ("operation=", "operation"),
            ("skipToken=abc", "skipToken"),
            ("skipToken=1-2-zzzzzzzzzzzzzzzz", "skipToken"),
        ] {
            let refused = AuditQuery::parse(Some(text)).unwrap_err();
            assert!(refused.0.contains(says), "{text}: {refused}");
        }
        let parsed = query("$TOP=5&$skipToken=2-4096-0123456789abcdef");
        assert_eq!(parsed.top, 5);
        let cursor = parsed.start.unwrap();
        assert_eq!((cursor.file, cursor.offset), (2, 4096));
        assert_eq!(cursor.to_token(), "2-4096-0123456789abcdef");
        assert_eq!(query("").top, DEFAULT_TOP);
    }

    #[test]
    fn the_next_link_repeats_the_filters_and_replaces_the_token() {
        assert_eq!(
            with_skip_token(
                Some("vault=vault1&$skipToken=old&top=2&from=2026-05-01T12:00:00%2B02:00"),
                "0-1-x"
            ),
            "vault=vault1&top=2&from=2026-05-01T12%3A00%3A00%2B02%3A00&skipToken=0-1-x"
        );
        assert_eq!(with_skip_token(None, "t"), "skipToken=t");
    }
}
