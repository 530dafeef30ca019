//! Key operations over REST next to aws-lc-rs doing the same operation directly.
//!
//! For each of RS256 sign (RSA-2048), RSA-OAEP-256 decrypt (RSA-2048), ES256 sign and ES256
//! verify (P-256): a closed-loop HTTPS phase against `POST /keys/{name}/{version}/{op}` with
//! a real token, and a *raw* phase in this process calling aws-lc-rs on as many threads as the
//! server has tokio workers (its default: one per CPU), with nothing else running. The REST
//! keys are created through the API (`POST /keys/{name}/create`); the raw keys are generated
//! here with the same parameters. Decrypt's ciphertext is made here from the public `n`, `e`
//! the create call returned; verify's signature from one REST sign.
//!
//! Between the two, the same requests go to the bare endpoint doing the same aws-lc-rs call
//! (`bare-serve --operation`): same TLS and HTTP stack, same request and response bytes, the
//! operation and nothing else. That is the stack's ceiling for the operation on this machine,
//! measured rather than estimated: with the load generator on the same CPUs, TLS, HTTP and
//! the kernel's loopback take their share whatever the server does.
//!
//! The raw figure is what the machine's CPUs can do with the operation alone, so REST / raw
//! is the share of it that survives TLS, HTTP, token check, JSON and base64, and bare / raw
//! the share any server on this stack could keep. On a machine where the load generator
//! shares the CPUs with the server, REST pays for the client too: the report gives server
//! CPU per request beside raw CPU per operation for that reason.

use crate::bare;
use crate::load::{self, MakeRequest, Phase, PhaseResult, Target};
use anyhow::{Context, bail};
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, PublicKeyComponents,
};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, ParsedPublicKey};
use bytes::Bytes;
use http::{HeaderValue, Method};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The api-version the key operations are called with (the issue's).
const KEYS_API_VERSION: &str = "7.5";
const RSA_KEY: &str = "bench-rsa";
const EC_KEY: &str = "bench-ec";
/// Bound on raw operations per thread, whatever the duration.
const MAX_RAW_OPS_PER_THREAD: u64 = 100_000_000;

/// The four operations, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KeyOp {
    Rs256Sign,
    RsaOaep256Decrypt,
    Es256Sign,
    Es256Verify,
}

impl KeyOp {
    pub(crate) const ALL: [Self; 4] = [
        Self::Rs256Sign,
        Self::RsaOaep256Decrypt,
        Self::Es256Sign,
        Self::Es256Verify,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Rs256Sign => "RSA-2048 sign (RS256)",
            Self::RsaOaep256Decrypt => "RSA-2048 decrypt (RSA-OAEP-256)",
            Self::Es256Sign => "P-256 sign (ES256)",
            Self::Es256Verify => "P-256 verify (ES256)",
        }
    }

    /// The target for REST / raw, where it set one.
    pub(crate) fn target(self) -> Option<f64> {
        match self {
            Self::Rs256Sign | Self::RsaOaep256Decrypt => Some(0.90),
            Self::Es256Sign => Some(0.60),
            Self::Es256Verify => None,
        }
    }

    /// The label as a directory name.
    fn label_slug(self) -> String {
        self.label()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    }

    fn raw_call(self) -> &'static str {
        match self {
            Self::Rs256Sign => "rsa::KeyPair::sign_digest",
            Self::RsaOaep256Decrypt => "OaepPrivateDecryptingKey::decrypt",
            Self::Es256Sign => "EcdsaKeyPair::sign_digest",
            Self::Es256Verify => "ParsedPublicKey::verify_digest_sig",
        }
    }
}

/// aws-lc-rs alone on `threads` threads.
#[derive(Debug, Clone)]
pub(crate) struct RawResult {
    pub(crate) threads: usize,
    pub(crate) ops: u64,
    pub(crate) window: Duration,
    /// CPU this process used during the window (all raw threads).
    pub(crate) cpu: Option<Duration>,
}

impl RawResult {
    pub(crate) fn per_second(&self) -> f64 {
        self.ops as f64 / self.window.as_secs_f64()
    }

    pub(crate) fn cpu_per_op(&self) -> Option<Duration> {
        let ops = u32::try_from(self.ops).ok().filter(|n| *n > 0)?;
        self.cpu.map(|cpu| cpu / ops)
    }
}

/// One operation, both ways.
#[derive(Debug, Clone)]
pub(crate) struct KeyOpResult {
    pub(crate) op: KeyOp,
    pub(crate) rest: PhaseResult,
    /// The bare endpoint doing the same operation on the same requests.
    pub(crate) bare: PhaseResult,
    pub(crate) raw: RawResult,
    pub(crate) raw_call: &'static str,
}

impl KeyOpResult {
    /// REST throughput over raw throughput.
    pub(crate) fn ratio(&self) -> Option<f64> {
        let raw = self.raw.per_second();
        (raw > 0.0).then(|| self.rest.per_second() / raw)
    }

    /// The best REST / raw this stack reaches on this machine: the bare endpoint doing the
    /// same operation on the same requests, over raw.
    pub(crate) fn ceiling(&self) -> Option<f64> {
        let raw = self.raw.per_second();
        (raw > 0.0 && self.bare.requests > 0).then(|| self.bare.per_second() / raw)
    }

    /// REST throughput over the bare endpoint's with the same operation: the share of the
    /// stack's ceiling Strongroom keeps.
    pub(crate) fn of_ceiling(&self) -> Option<f64> {
        let bare = self.bare.per_second();
        (bare > 0.0).then(|| self.rest.per_second() / bare)
    }
}

/// The REST side's fixed inputs, made once.
struct RestInputs {
    rsa_version: String,
    ec_version: String,
    digest_b64: String,
    ciphertext_b64: String,
    es256_signature_b64: String,
}

/// Creates the keys over REST, checks each operation once, then runs the REST phase, the
/// bare-endpoint phase and the raw phase of every operation.
pub(crate) async fn run(
    vault: &Arc<Target>,
    bearer: &HeaderValue,
    work: &Path,
    phase: Phase,
    server_pid: u32,
    raw_threads: usize,
    progress: &dyn Fn(&str, &PhaseResult),
) -> anyhow::Result<Vec<KeyOpResult>> {
    let inputs = prepare(vault, bearer).await?;
    let mut results = Vec::new();
    for op in KeyOp::ALL {
        let (path, body) = inputs.request(op);
        let make = |target: &Target| -> MakeRequest {
            let (path, body) = (path.clone(), body.clone());
            let (host, bearer) = (target.host_header().clone(), bearer.clone());
            Arc::new(move |_, _| {
                load::request(
                    Method::POST,
                    &path,
                    &host,
                    Some(&bearer),
                    Some(body.clone()),
                )
            })
        };
        let rest = load::run_phase(vault.clone(), phase, make(vault), server_pid).await?;
        progress(&format!("REST {}", op.label()), &rest);

        // The bare endpoint answers with the bytes one REST call answered.
        let once = make(vault)(0, 0);
        let (status, headers, answer) = vault.request_once_with_headers(once).await?;
        anyhow::ensure!(status.is_success(), "{}: {status}", op.label());
        let bare = bare::spawn(
            work,
            &format!("bare-{}", op.label_slug()),
            &answer,
            &headers,
            Some(op),
        )?;
        let bare_result = load::run_phase(
            bare.target.clone(),
            phase,
            make(&bare.target),
            bare.server.pid(),
        )
        .await?;
        progress(&format!("bare + {}", op.label()), &bare_result);
        drop(bare);

        let raw = tokio::task::spawn_blocking(move || raw_phase(op, raw_threads, phase))
            .await
            .context("the raw phase panicked")??;
        eprintln!(
            "raw {} on {} threads: {:.0} ops/s",
            op.label(),
            raw.threads,
            raw.per_second()
        );
        results.push(KeyOpResult {
            op,
            rest,
            bare: bare_result,
            raw,
            raw_call: op.raw_call(),
        });
    }
    Ok(results)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .with_context(|| format!("{text:?} is not base64url"))
}

/// The 32-byte digest every sign and verify uses.
fn bench_digest() -> Digest {
    digest::digest(&digest::SHA256, b"strongroom bench digest")
}

impl RestInputs {
    /// Path and body of one operation.
    fn request(&self, op: KeyOp) -> (String, Bytes) {
        let path = |key: &str, version: &str, verb: &str| {
            format!("/keys/{key}/{version}/{verb}?api-version={KEYS_API_VERSION}")
        };
        let (path, body) = match op {
            KeyOp::Rs256Sign => (
                path(RSA_KEY, &self.rsa_version, "sign"),
                serde_json::json!({ "alg": "RS256", "value": self.digest_b64 }),
            ),
            KeyOp::RsaOaep256Decrypt => (
                path(RSA_KEY, &self.rsa_version, "decrypt"),
                serde_json::json!({ "alg": "RSA-OAEP-256", "value": self.ciphertext_b64 }),
            ),
            KeyOp::Es256Sign => (
                path(EC_KEY, &self.ec_version, "sign"),
                serde_json::json!({ "alg": "ES256", "value": self.digest_b64 }),
            ),
            KeyOp::Es256Verify => (
                path(EC_KEY, &self.ec_version, "verify"),
                serde_json::json!({
                    "alg": "ES256",
                    "digest": self.digest_b64,
                    "value": self.es256_signature_b64,
                }),
            ),
        };
        (path, Bytes::from(body.to_string()))
    }
}

async fn post_json(
    vault: &Target,
    bearer: &HeaderValue,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let request = load::request(
        Method::POST,
        path,
        vault.host_header(),
        Some(bearer),
        Some(Bytes::from(body.to_string())),
    );
    let (status, body) = vault.request_once(request).await?;
    if !status.is_success() {
        bail!("POST {path}: {status}: {}", String::from_utf8_lossy(&body));
    }
    serde_json::from_slice(&body).with_context(|| format!("POST {path}: the answer is not JSON"))
}

/// The key's version, from the `kid` a create answered with.
fn created_version(created: &serde_json::Value) -> anyhow::Result<String> {
    created
        .pointer("/key/kid")
        .and_then(serde_json::Value::as_str)
        .and_then(|kid| kid.rsplit('/').next())
        .map(str::to_owned)
        .with_context(|| format!("the created key has no kid: {created}"))
}

fn jwk_field(created: &serde_json::Value, field: &str) -> anyhow::Result<Vec<u8>> {
    let text = created
        .pointer(&format!("/key/{field}"))
        .and_then(serde_json::Value::as_str)
        .with_context(|| format!("the created key has no {field}"))?;
    unb64(text)
}

async fn prepare(vault: &Target, bearer: &HeaderValue) -> anyhow::Result<RestInputs> {
    let create = |name: &str| format!("/keys/{name}/create?api-version={KEYS_API_VERSION}");
    let rsa = post_json(
        vault,
        bearer,
        &create(RSA_KEY),
        serde_json::json!({ "kty": "RSA", "key_size": 2048 }),
    )
    .await?;
    let ec = post_json(
        vault,
        bearer,
        &create(EC_KEY),
        serde_json::json!({ "kty": "EC", "crv": "P-256" }),
    )
    .await?;

    // RSA-OAEP-256 ciphertext from the public key the server answered with.
    let n = jwk_field(&rsa, "n")?;
    let e = jwk_field(&rsa, "e")?;
    let public: PublicEncryptingKey = PublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    }
    .try_into()
    .map_err(|_| anyhow::anyhow!("the created key's n, e are not an RSA public key"))?;
    let encryptor =
        OaepPublicEncryptingKey::new(public).map_err(|_| anyhow::anyhow!("RSA-OAEP encryptor"))?;
    let plaintext = [0x5au8; 32];
    let mut ciphertext = vec![0u8; encryptor.ciphertext_size()];
    let ciphertext = encryptor
        .encrypt(&OAEP_SHA256_MGF1SHA256, &plaintext, &mut ciphertext, None)
        .map_err(|_| anyhow::anyhow!("RSA-OAEP-256 encrypt"))?
        .to_vec();

    let mut inputs = RestInputs {
        rsa_version: created_version(&rsa)?,
        ec_version: created_version(&ec)?,
        digest_b64: b64(bench_digest().as_ref()),
        ciphertext_b64: b64(&ciphertext),
        es256_signature_b64: String::new(),
    };
    // One ES256 sign gives verify its signature; each other operation is checked once.
    let (path, body) = inputs.request(KeyOp::Es256Sign);
    let signed = post_json(vault, bearer, &path, serde_json::from_slice(&body)?).await?;
    inputs.es256_signature_b64 = signed
        .get("value")
        .and_then(serde_json::Value::as_str)
        .context("ES256 sign answered without a value")?
        .to_owned();
    let (path, body) = inputs.request(KeyOp::Es256Verify);
    let verified = post_json(vault, bearer, &path, serde_json::from_slice(&body)?).await?;
    anyhow::ensure!(
        verified.get("value") == Some(&serde_json::Value::Bool(true)),
        "ES256 verify of the server's own signature answered {verified}"
    );
    let (path, body) = inputs.request(KeyOp::RsaOaep256Decrypt);
    let decrypted = post_json(vault, bearer, &path, serde_json::from_slice(&body)?).await?;
    anyhow::ensure!(
        decrypted.get("value").and_then(serde_json::Value::as_str) == Some(&b64(&plaintext)),
        "RSA-OAEP-256 decrypt answered {decrypted}"
    );
    let (path, body) = inputs.request(KeyOp::Rs256Sign);
    let rs256 = post_json(vault, bearer, &path, serde_json::from_slice(&body)?).await?;
    let signature = unb64(
        rs256
            .get("value")
            .and_then(serde_json::Value::as_str)
            .context("RS256 sign answered without a value")?,
    )?;
    anyhow::ensure!(
        signature.len() == n.len(),
        "RS256 answered a {}-byte signature for a {}-byte modulus",
        signature.len(),
        n.len()
    );
    Ok(inputs)
}

/// One operation on a locally generated key, ready to run on many threads.
pub(crate) type RawOp = Box<dyn Fn() -> bool + Send + Sync>;

pub(crate) fn raw_operation(op: KeyOp) -> anyhow::Result<RawOp> {
    let digest = bench_digest();
    Ok(match op {
        KeyOp::Rs256Sign => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("generating an RSA key"))?;
            Box::new(move || {
                let mut signature = [0u8; 256];
                pair.sign_digest(
                    &signature::RSA_PKCS1_SHA256,
                    std::hint::black_box(&digest),
                    &mut signature,
                )
                .is_ok()
            })
        }
        KeyOp::RsaOaep256Decrypt => {
            let key = PrivateDecryptingKey::generate(KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("generating an RSA key"))?;
            let encryptor = OaepPublicEncryptingKey::new(key.public_key())
                .map_err(|_| anyhow::anyhow!("RSA-OAEP encryptor"))?;
            let mut ciphertext = vec![0u8; encryptor.ciphertext_size()];
            let ciphertext = encryptor
                .encrypt(&OAEP_SHA256_MGF1SHA256, &[0x5a; 32], &mut ciphertext, None)
                .map_err(|_| anyhow::anyhow!("RSA-OAEP-256 encrypt"))?
                .to_vec();
            let decryptor = OaepPrivateDecryptingKey::new(key)
                .map_err(|_| anyhow::anyhow!("RSA-OAEP decryptor"))?;
            Box::new(move || {
                let mut plaintext = [0u8; 256];
                decryptor
                    .decrypt(
                        &OAEP_SHA256_MGF1SHA256,
                        std::hint::black_box(&ciphertext),
                        &mut plaintext,
                        None,
                    )
                    .is_ok_and(|plain| plain.len() == 32)
            })
        }
        KeyOp::Es256Sign => {
            let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
            Box::new(move || pair.sign_digest(std::hint::black_box(&digest)).is_ok())
        }
        KeyOp::Es256Verify => {
            let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
            let signature = pair
                .sign_digest(&digest)
                .map_err(|_| anyhow::anyhow!("ES256 sign"))?
                .as_ref()
                .to_vec();
            let verifier = ParsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                pair.public_key().as_ref(),
            )
            .map_err(|_| anyhow::anyhow!("P-256 public key"))?;
            Box::new(move || {
                verifier
                    .verify_digest_sig(std::hint::black_box(&digest), &signature)
                    .is_ok()
            })
        }
    })
}

/// `threads` threads calling the operation in a loop: a warm-up, then the measured window
/// (this process's CPU time is sampled around it).
fn raw_phase(op: KeyOp, threads: usize, phase: Phase) -> anyhow::Result<RawResult> {
    let call = raw_operation(op)?;
    anyhow::ensure!(call(), "the raw {} failed", op.label());
    let start = Instant::now();
    let window_start = start + phase.warmup;
    let window_end = window_start + phase.duration;
    let failed = AtomicBool::new(false);
    let (ops, cpu) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let call = &call;
                let failed = &failed;
                scope.spawn(move || {
                    let mut counted = 0u64;
                    let mut done = 0u64;
                    while done < MAX_RAW_OPS_PER_THREAD {
                        let now = Instant::now();
                        if now >= window_end {
                            break;
                        }
                        if !call() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        done += 1;
                        if now >= window_start {
                            counted += 1;
                        }
                    }
                    counted
                })
            })
            .collect();
        std::thread::sleep(window_start.saturating_duration_since(Instant::now()));
        let before = crate::stats::own_cpu();
        std::thread::sleep(window_end.saturating_duration_since(Instant::now()));
        let after = crate::stats::own_cpu();
        let ops: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
        let cpu = before
            .zip(after)
            .map(|(before, after)| after.saturating_sub(before));
        (ops, cpu)
    });
    if failed.load(Ordering::Relaxed) {
        bail!("a raw {} failed", op.label());
    }
    Ok(RawResult {
        threads,
        ops,
        window: phase.duration,
        cpu,
    })
}
