//! Throttling, two kinds.
//!
//! `VaultThrottle` (opt-in, `serve --throttle azure`): Azure Key Vault's published per-vault
//! transaction limits ("Azure Key Vault service limits", Microsoft Learn), so clients can test
//! their retry logic against a local vault. Per vault, per 10 seconds:
//!
//! | transactions | limit |
//! |---|---|
//! | secrets, certificates and vault transactions (all but the next row) | 4,000 |
//! | secret CREATE (`SetSecret`) | 300 |
//! | key CREATE (`CreateKey`, `RotateKey`): software / HSM key | 20 / 10 |
//! | all other key transactions: software RSA 2048, EC (every curve) | 4,000 |
//! | ... software RSA 3072 / RSA 4096 | 1,000 / 500 |
//! | ... HSM RSA 2048, EC / RSA 3072 / RSA 4096 | 2,000 / 500 / 250 |
//!
//! "The throttling thresholds are weighted, and enforcement is on their sum": key
//! transactions share one budget of 4,000 units, a transaction costing 4,000 / its row's
//! limit (RSA 2048 software 1, RSA 4096 HSM 16), so 248 RSA 4096 HSM GETs and 16 RSA 2048
//! HSM GETs fill it as the page's example says; key creation likewise shares 20 units
//! (software 1, HSM 2). `oct` keys, which the table does not list, cost as EC keys do;
//! `ImportKey` is an "other" transaction of the imported key's type. Each budget is a fixed
//! window that opens at the first transaction after the previous one ended. A refused
//! transaction is not counted ("Failed requests that return a 429 do not count towards the
//! throttle limits"). The answer is Azure's (AZURE-ERRORS.md 8.1): 429, code `Throttled`,
//! the message with `Reason: VaultRequestTypeLimitReached`, plus `Retry-After` (seconds
//! until the window ends), which Azure omits but every SDK's retry policy honours.
//!
//! `TokenGuard` (always on): the token endpoint against credential guessing. Entra's smart
//! lockout defaults: after 10 failed authentications of one client id (wrong or expired
//! secret, refused assertion, unknown client) within a minute, every request for that client
//! id is refused for 60 seconds without looking at its credential, answered as Entra answers
//! a throttled client-credentials request (429 with `Retry-After`), with `AADSTS50053`.
//! Globally, once 1,000 failures arrive within a minute, client ids that have not
//! authenticated successfully in the last hour are refused (`AADSTS90055`) until that minute
//! ends, so spraying guesses over many client ids is bounded too while working clients keep
//! their tokens. Successes are never limited. The API layer does not see the peer address,
//! so there is no per-address limit.
//!
//! Time is monotonic (`Instant`), moved forward with the dev clock when there is one, so a
//! test can end a window without waiting.

use crate::error::ApiError;
use crate::operation::{Operation, VersionRef};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use strongroom_model::{ManualClock, ObjectKind, ObjectName, VaultId};
use strongroom_vault::{Vault, VaultCtx};

/// Whether the data plane answers Azure's throttling (`serve --throttle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ThrottleMode {
    /// No transaction limits (the default).
    #[default]
    Off,
    /// Azure Key Vault's published per-vault limits.
    Azure,
}

/// Azure's window: "maximum transactions allowed in 10 seconds, per vault per region".
const VAULT_WINDOW: Duration = Duration::from_secs(10);
/// Secrets, certificates and vault transactions other than secret CREATE.
const VAULT_TRANSACTIONS: u32 = 4_000;
const SECRET_CREATES: u32 = 300;
/// Units of the key budget: one RSA 2048 (or EC) software-key transaction costs one.
const KEY_UNITS: u32 = 4_000;
/// Units of the key-creation budget: a software key costs one, an HSM key two.
const KEY_CREATE_UNITS: u32 = 20;

const THROTTLED_MESSAGE: &str = "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached";

/// Monotonic time since the throttle was made, plus the dev clock's offset.
#[derive(Debug, Clone)]
struct Timeline {
    start: Instant,
    dev_clock: Option<ManualClock>,
}

impl Timeline {
    fn new(dev_clock: Option<ManualClock>) -> Self {
        Self {
            start: Instant::now(),
            dev_clock,
        }
    }

    fn now(&self) -> Duration {
        let offset = self.dev_clock.as_ref().map_or(0, |clock| {
            u64::try_from(clock.offset_seconds()).unwrap_or(0)
        });
        self.start.elapsed() + Duration::from_secs(offset)
    }
}

/// A fixed window: opens at the first transaction after the previous window ended.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    opened: Duration,
    used: u32,
}

impl Window {
    fn roll(&mut self, now: Duration, length: Duration) {
        if self.used == 0 || now >= self.opened + length {
            *self = Self {
                opened: now,
                used: 0,
            };
        }
    }

    /// Counts `cost` if it fits in `budget`; otherwise the time until the window ends.
    fn admit(
        &mut self,
        now: Duration,
        length: Duration,
        budget: u32,
        cost: u32,
    ) -> Result<(), Duration> {
        self.roll(now, length);
        if self.used.saturating_add(cost) <= budget {
            self.used += cost;
            Ok(())
        } else {
            Err(self.remaining(now, length))
        }
    }

    fn remaining(&self, now: Duration, length: Duration) -> Duration {
        (self.opened + length).saturating_sub(now)
    }

    fn is_open(&self, now: Duration, length: Duration) -> bool {
        self.used > 0 && now < self.opened + length
    }
}

/// What a data-plane transaction costs, and from which budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charge {
    Vault,
    SecretCreate,
    Key(u32),
    KeyCreate(u32),
}

#[derive(Debug, Default)]
struct VaultWindows {
    vault: Window,
    secret_create: Window,
    key: Window,
    key_create: Window,
}

impl VaultWindows {
    fn admit(&mut self, now: Duration, charge: Charge) -> Result<(), Duration> {
        let (window, budget, cost) = match charge {
            Charge::Vault => (&mut self.vault, VAULT_TRANSACTIONS, 1),
            Charge::SecretCreate => (&mut self.secret_create, SECRET_CREATES, 1),
            Charge::Key(cost) => (&mut self.key, KEY_UNITS, cost),
            Charge::KeyCreate(cost) => (&mut self.key_create, KEY_CREATE_UNITS, cost),
        };
        window.admit(now, VAULT_WINDOW, budget, cost)
    }

    fn idle(&self, now: Duration) -> bool {
        [self.vault, self.secret_create, self.key, self.key_create]
            .iter()
            .all(|window| !window.is_open(now, VAULT_WINDOW))
    }
}

/// Vaults whose windows are kept before idle ones are dropped.
const TRACKED_VAULTS: usize = 1024;

/// Azure's per-vault transaction limits (`serve --throttle azure`).
#[derive(Debug)]
pub(crate) struct VaultThrottle {
    timeline: Timeline,
    vaults: Mutex<HashMap<VaultId, VaultWindows>>,
}

/// A refused request and how long its client should wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throttled {
    pub(crate) retry_after: Duration,
}

impl VaultThrottle {
    pub(crate) fn new(dev_clock: Option<ManualClock>) -> Self {
        Self {
            timeline: Timeline::new(dev_clock),
            vaults: Mutex::default(),
        }
    }

    /// Counts one transaction of `operation` on `vault` (whose body is `body`), or refuses it.
    pub(crate) async fn admit(
        &self,
        ctx: &VaultCtx,
        vault: &Vault,
        operation: &Operation,
        body: &[u8],
    ) -> Result<(), Throttled> {
        let charge = charge(ctx, vault, operation, body).await;
        self.admit_charge(vault.id, charge)
    }

    fn admit_charge(&self, vault: VaultId, charge: Charge) -> Result<(), Throttled> {
        let now = self.timeline.now();
        let mut vaults = self
            .vaults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if vaults.len() >= TRACKED_VAULTS && !vaults.contains_key(&vault) {
            vaults.retain(|_, windows| !windows.idle(now));
        }
        vaults
            .entry(vault)
            .or_default()
            .admit(now, charge)
            .map_err(|retry_after| Throttled { retry_after })
    }
}

impl IntoResponse for Throttled {
    /// AZURE-ERRORS.md 8.1, with `Retry-After`.
    fn into_response(self) -> Response {
        let mut response = ApiError::Custom {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "Throttled",
            message: THROTTLED_MESSAGE.to_owned(),
        }
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after_value(self.retry_after));
        response
    }
}

/// Whole seconds, rounded up, at least one.
pub(crate) fn retry_after_value(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// The budget and cost of `operation`. Key transactions cost by the key's type and size,
/// read from the version's stored description (or the request body for a new key).
async fn charge(ctx: &VaultCtx, vault: &Vault, operation: &Operation, body: &[u8]) -> Charge {
    match operation {
        Operation::SetSecret { .. } => Charge::SecretCreate,
        _ if operation.kind() != ObjectKind::Key => Charge::Vault,
        Operation::CreateKey { .. } => {
            let class = serde_json::from_slice::<CreateBody>(body)
                .ok()
                .and_then(|body| body.kty)
                .map(|kty| KeyClass::new(&kty, 0));
            Charge::KeyCreate(class.unwrap_or_default().create_cost())
        }
        Operation::RotateKey { name } => {
            Charge::KeyCreate(stored_class(ctx, vault, name, None).await.create_cost())
        }
        Operation::ImportKey { .. } => Charge::Key(import_class(body).cost()),
        Operation::GetKey { name, version }
        | Operation::UpdateKey { name, version }
        | Operation::Encrypt { name, version }
        | Operation::Decrypt { name, version }
        | Operation::Sign { name, version }
        | Operation::Verify { name, version }
        | Operation::WrapKey { name, version }
        | Operation::UnwrapKey { name, version }
        | Operation::Release { name, version }
        | Operation::GetKeyAttestation { name, version }
        | Operation::SecureWrapKey { name, version }
        | Operation::SecureUnwrapKey { name, version } => {
            let version = match version {
                None => None,
                Some(VersionRef::Valid(version)) => Some(version),
                // Answered 404 without a key: the cheapest transaction.
                Some(VersionRef::Unknown(_)) => return Charge::Key(1),
            };
            Charge::Key(stored_class(ctx, vault, name, version).await.cost())
        }
        Operation::DeleteKey { name }
        | Operation::BackupKey { name }
        | Operation::GetKeyRotationPolicy { name }
        | Operation::UpdateKeyRotationPolicy { name } => {
            Charge::Key(stored_class(ctx, vault, name, None).await.cost())
        }
        // Lists, deleted keys, restore, random bytes: no live key to weigh.
        _ => Charge::Key(1),
    }
}

/// A key's type and size, as far as the limits table distinguishes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KeyClass {
    hsm: bool,
    /// RSA modulus bits; 0 for EC and oct keys.
    rsa_bits: usize,
}

impl KeyClass {
    fn new(kty: &str, size_bits: usize) -> Self {
        let kty = kty.to_ascii_uppercase();
        Self {
            hsm: kty.ends_with("-HSM"),
            rsa_bits: if kty.starts_with("RSA") { size_bits } else { 0 },
        }
    }

    /// Units of the 4,000-unit key budget: 4,000 / the table's "all other transactions".
    fn cost(self) -> u32 {
        // One spare byte: a JWK modulus may carry a leading zero.
        let size = match self.rsa_bits {
            bits if bits > 3072 + 8 => 8,
            bits if bits > 2048 + 8 => 4,
            _ => 1,
        };
        if self.hsm { size * 2 } else { size }
    }

    /// Units of the 20-unit key-creation budget (the size does not matter).
    fn create_cost(self) -> u32 {
        if self.hsm { 2 } else { 1 }
    }
}

#[derive(serde::Deserialize)]
struct CreateBody {
    kty: Option<String>,
}

#[derive(serde::Deserialize)]
struct ImportBody {
    #[serde(rename = "Hsm")]
    hsm: Option<bool>,
    key: Option<ImportJwk>,
}

#[derive(serde::Deserialize)]
struct ImportJwk {
    kty: Option<String>,
    n: Option<String>,
}

fn import_class(body: &[u8]) -> KeyClass {
    let Ok(ImportBody {
        hsm,
        key: Some(key),
    }) = serde_json::from_slice::<ImportBody>(body)
    else {
        return KeyClass::default();
    };
    let kty = key.kty.unwrap_or_default();
    // base64url: four characters per three bytes.
    let bits = key
        .n
        .map_or(0, |n| n.trim_end_matches('=').len() * 6 / 8 * 8);
    let mut class = KeyClass::new(&kty, bits);
    class.hsm |= hsm.unwrap_or(false);
    class
}

/// The part of a key version's stored description (`strongroom-vault`'s `KeyMeta`) that the
/// limits depend on; anything unreadable weighs as the cheapest key.
#[derive(serde::Deserialize)]
struct StoredKey {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    size_bits: usize,
}

async fn stored_class(
    ctx: &VaultCtx,
    vault: &Vault,
    name: &ObjectName,
    version: Option<&strongroom_model::Version>,
) -> KeyClass {
    let Ok(Some(row)) = ctx
        .store()
        .get_version(vault.id, ObjectKind::Key, name, version)
        .await
    else {
        return KeyClass::default();
    };
    serde_json::from_slice::<StoredKey>(&row.meta)
        .map(|key| KeyClass::new(&key.kty, key.size_bits))
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// The token endpoint.

/// Failed authentications of one client id that lock it (Entra smart lockout's default).
const CLIENT_FAILURES: u32 = 10;
/// The window those failures are counted in.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// How long a locked client id is refused (smart lockout's default: one minute).
const LOCKOUT: Duration = Duration::from_secs(60);
/// Failures of all client ids within `FAILURE_WINDOW` after which unproven ones are refused.
const GLOBAL_FAILURES: u32 = 1_000;
/// How long a successful authentication keeps its client id trusted in a global lock.
const TRUSTED_FOR: Duration = Duration::from_secs(3600);
/// Client ids remembered (failures, and successes); the oldest are dropped past this.
const TRACKED_CLIENTS: usize = 10_000;
/// A client id is at most this long when used as a key (a GUID is 36).
const CLIENT_KEY_BYTES: usize = 128;

/// Why a token request was refused before its credential was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// Too many failures for this client id (`AADSTS50053`).
    ClientLocked { retry_after: Duration },
    /// Too many failures overall, and this client id has not authenticated lately
    /// (`AADSTS90055`).
    Busy { retry_after: Duration },
}

#[derive(Debug, Default, Clone, Copy)]
struct ClientFailures {
    window: Window,
    locked_until: Option<Duration>,
}

#[derive(Debug, Default)]
struct GuardState {
    failures: HashMap<String, ClientFailures>,
    global: Window,
    trusted: HashMap<String, Duration>,
}

/// The token endpoint's limit on failed authentications (always on).
#[derive(Debug)]
pub(crate) struct TokenGuard {
    timeline: Timeline,
    state: Mutex<GuardState>,
}

fn client_key(client_id: &str) -> String {
    let mut end = client_id.len().min(CLIENT_KEY_BYTES);
    while !client_id.is_char_boundary(end) {
        end -= 1;
    }
    client_id[..end].to_ascii_lowercase()
}

impl TokenGuard {
    pub(crate) fn new(dev_clock: Option<ManualClock>) -> Self {
        Self {
            timeline: Timeline::new(dev_clock),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GuardState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Before `client_id`'s credential is checked: refused while it is locked, or while
    /// failures overall are over the limit and it has not authenticated lately.
    pub(crate) fn check(&self, client_id: &str) -> Result<(), TokenRefusal> {
        let now = self.timeline.now();
        let key = client_key(client_id);
        let state = self.state();
        if let Some(until) = state.failures.get(&key).and_then(|f| f.locked_until)
            && until > now
        {
            return Err(TokenRefusal::ClientLocked {
                retry_after: until - now,
            });
        }
        if state.global.is_open(now, FAILURE_WINDOW)
            && state.global.used >= GLOBAL_FAILURES
            && state
                .trusted
                .get(&key)
                .is_none_or(|at| now.saturating_sub(*at) >= TRUSTED_FOR)
        {
            return Err(TokenRefusal::Busy {
                retry_after: state.global.remaining(now, FAILURE_WINDOW),
            });
        }
        Ok(())
    }

    /// `client_id` failed to authenticate.
    pub(crate) fn failed(&self, client_id: &str) {
        let now = self.timeline.now();
        let key = client_key(client_id);
        let mut state = self.state();
        // Counted, not refused: the global window only says when to stop the unproven.
        state.global.roll(now, FAILURE_WINDOW);
        state.global.used = state.global.used.saturating_add(1);
        if state.failures.len() >= TRACKED_CLIENTS && !state.failures.contains_key(&key) {
            state.failures.retain(|_, f| {
                f.window.is_open(now, FAILURE_WINDOW) || f.locked_until.is_some_and(|u| u > now)
            });
            if state.failures.len() >= TRACKED_CLIENTS {
                // Full of live entries: this client id is bounded by the global limit only.
                return;
            }
        }
        let entry = state.failures.entry(key).or_default();
        if entry.locked_until.is_some_and(|until| until <= now) {
            *entry = ClientFailures::default();
        }
        entry.window.roll(now, FAILURE_WINDOW);
        entry.window.used = entry.window.used.saturating_add(1);
        if entry.window.used >= CLIENT_FAILURES {
            entry.locked_until = Some(now + LOCKOUT);
        }
    }

    /// `client_id` authenticated: its failures are forgotten and it is trusted for a while.
    pub(crate) fn succeeded(&self, client_id: &str) {
        let now = self.timeline.now();
        let key = client_key(client_id);
        let mut state = self.state();
        state.failures.remove(&key);
        if state.trusted.len() >= TRACKED_CLIENTS && !state.trusted.contains_key(&key) {
            state
                .trusted
                .retain(|_, at| now.saturating_sub(*at) < TRUSTED_FOR);
            if state.trusted.len() >= TRACKED_CLIENTS {
                return;
            }
        }
        state.trusted.insert(key, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_costs_follow_the_published_table() {
        let per_window = |kty: &str, bits: usize| KEY_UNITS / KeyClass::new(kty, bits).cost();
        assert_eq!(per_window("RSA", 2048), 4000);
        assert_eq!(per_window("RSA", 3072), 1000);
        assert_eq!(per_window("RSA", 4096), 500);
        assert_eq!(per_window("RSA-HSM", 2048), 2000);
        assert_eq!(per_window("RSA-HSM", 3072), 500);
        assert_eq!(per_window("RSA-HSM", 4096), 250);
        assert_eq!(per_window("EC", 256), 4000);
        assert_eq!(per_window("EC-HSM", 521), 2000);
        let creates = |kty: &str| KEY_CREATE_UNITS / KeyClass::new(kty, 2048).create_cost();
        assert_eq!(creates("RSA"), 20);
        assert_eq!(creates("EC-HSM"), 10);
    }

    #[test]
    fn weighted_sum_matches_the_documented_example() {
        // "248 RSA 4,096-bit HSM-key GET transactions and 16 RSA 2,048-bit HSM-key GET
        // transactions" fill the window.
        let throttle = VaultThrottle::new(None);
        let vault = VaultId(1);
        let big = KeyClass::new("RSA-HSM", 4096).cost();
        let small = KeyClass::new("RSA-HSM", 2048).cost();
        for _ in 0..248 {
            throttle.admit_charge(vault, Charge::Key(big)).unwrap();
        }
        for _ in 0..16 {
            throttle.admit_charge(vault, Charge::Key(small)).unwrap();
        }
        assert!(throttle.admit_charge(vault, Charge::Key(small)).is_err());
        // Other budgets and other vaults are untouched.
        throttle.admit_charge(vault, Charge::Vault).unwrap();
        throttle.admit_charge(VaultId(2), Charge::Key(big)).unwrap();
    }

    #[test]
    fn a_window_ends_and_refusals_are_not_counted() {
        let clock = ManualClock::default();
        let throttle = VaultThrottle::new(Some(clock.clone()));
        let vault = VaultId(7);
        for _ in 0..SECRET_CREATES {
            throttle.admit_charge(vault, Charge::SecretCreate).unwrap();
        }
        for _ in 0..5 {
            let refused = throttle
                .admit_charge(vault, Charge::SecretCreate)
                .unwrap_err();
            assert!(refused.retry_after <= VAULT_WINDOW);
            assert!(refused.retry_after > Duration::ZERO);
        }
        clock.advance_seconds(10);
        for _ in 0..SECRET_CREATES {
            throttle.admit_charge(vault, Charge::SecretCreate).unwrap();
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_value(Duration::from_millis(1)), "1");
        assert_eq!(retry_after_value(Duration::from_millis(9001)), "10");
        assert_eq!(retry_after_value(Duration::ZERO), "1");
    }

    #[test]
    fn import_bodies_are_weighed_by_their_jwk() {
        let n4096 = "A".repeat(683);
        let body = format!(r#"{{"key":{{"kty":"RSA","n":"{n4096}","e":"AQAB"}},"Hsm":true}}"#);
        assert_eq!(import_class(body.as_bytes()).cost(), 16);
        let n2048 = "A".repeat(342);
        let body = format!(r#"{{"key":{{"kty":"RSA","n":"{n2048}"}}}}"#);
        assert_eq!(import_class(body.as_bytes()).cost(), 1);
        assert_eq!(import_class(b"not json").cost(), 1);
    }

    #[test]
    fn a_client_id_locks_after_ten_failures_for_a_minute() {
        let clock = ManualClock::default();
        let guard = TokenGuard::new(Some(clock.clone()));
        for _ in 0..CLIENT_FAILURES {
            guard.check("App").unwrap();
            guard.failed("App");
        }
        let Err(TokenRefusal::ClientLocked { retry_after }) = guard.check("app") else {
            panic!("not locked");
        };
        assert!(retry_after <= LOCKOUT);
        // Another client id is not affected.
        guard.check("other").unwrap();
        clock.advance_seconds(60);
        guard.check("app").unwrap();
        // The lock's failures are gone: one more failure does not lock again.
        guard.failed("app");
        guard.check("app").unwrap();
    }

    #[test]
    fn a_success_forgets_failures() {
        let guard = TokenGuard::new(None);
        for _ in 0..CLIENT_FAILURES - 1 {
            guard.failed("app");
        }
        guard.succeeded("app");
        guard.failed("app");
        guard.check("app").unwrap();
    }

    #[test]
    fn many_failures_refuse_only_unproven_client_ids() {
        let guard = TokenGuard::new(None);
        guard.succeeded("known");
        for i in 0..GLOBAL_FAILURES {
            guard.failed(&format!("guess-{i}"));
        }
        assert!(matches!(
            guard.check("fresh"),
            Err(TokenRefusal::Busy { .. })
        ));
        guard.check("known").unwrap();
    }
}
