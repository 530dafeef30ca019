//! Verifying bearer tokens, with a cache so that the hot path is one SHA-256 and one map
//! lookup.
//!
//! A token is verified in full once (signature with our public key, then the issuer for its
//! `tid`); its claims are then cached until `exp` under the SHA-256 of its signature segment,
//! next to its signed part (`header.payload`). A hit needs both: the hash of the presented
//! signature and a byte-equal signed part. So the cache holds no usable credential (the
//! signature, the only part that is not public once the claims are, is kept as a hash), a
//! modified header or payload is a miss and is verified in full (and refused), and the hot
//! path hashes a third of the token instead of all of it. Lifetime and audience are checked
//! on *every* call, cache hit or not, because they depend on `now` and on which endpoint is
//! asking. The checks, in the order Microsoft.IdentityModel applies them: signature,
//! lifetime (`exp`, `nbf`, 60 s skew), audience, issuer.
//!
//! The cache is sharded (`RwLock<HashMap>` per shard, picked by the hash's first byte) and
//! bounded: a full shard first drops its expired entries, then an arbitrary one.

use crate::token::AccessClaims;
use crate::{IdentityConfig, TokenError};
use aws_lc_rs::digest;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use strongroom_model::{CacheCounts, Caller, ObjectId, PrincipalKind, TenantId, UnixTime};

/// Clock skew tolerated on `exp` and `nbf`.
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// Default bound on cached tokens (all shards together).
pub const DEFAULT_CACHE_CAPACITY: usize = 16_384;
const SHARDS: usize = 16;

type TokenHash = [u8; 32];

/// What a verified token established, kept until it expires.
struct VerifiedClaims {
    /// `header.payload` exactly as presented: a cache hit must match it byte for byte.
    signed_part: Box<str>,
    /// Shared: every request that presents this token gets the same caller, not a copy.
    caller: Arc<Caller>,
    audience: String,
    not_before: i64,
    expires: i64,
}

impl VerifiedClaims {
    /// The checks that depend on the call: lifetime, then audience.
    fn check(&self, now: UnixTime, audiences: &[String]) -> Result<Arc<Caller>, TokenError> {
        if now.0 > self.expires.saturating_add(CLOCK_SKEW_SECONDS) {
            return Err(TokenError::Expired);
        }
        if now.0 < self.not_before.saturating_sub(CLOCK_SKEW_SECONDS) {
            return Err(TokenError::NotYetValid);
        }
        if !audiences.contains(&self.audience) {
            return Err(TokenError::WrongAudience {
                expected: audiences.to_vec(),
                found: self.audience.clone(),
            });
        }
        Ok(Arc::clone(&self.caller))
    }

    fn is_expired(&self, now: UnixTime) -> bool {
        now.0 > self.expires.saturating_add(CLOCK_SKEW_SECONDS)
    }
}

type Shard = RwLock<HashMap<TokenHash, Arc<VerifiedClaims>>>;

struct TokenCache {
    shards: Vec<Shard>,
    per_shard: usize,
}

impl TokenCache {
    fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, hash: &TokenHash) -> &Shard {
        &self.shards[usize::from(hash[0]) % SHARDS]
    }

    // A poisoned lock means a panic elsewhere while holding it; every write here is a single
    // map operation, so the map is still consistent and we keep using it.
    fn get(&self, hash: &TokenHash) -> Option<Arc<VerifiedClaims>> {
        let shard = self
            .shard(hash)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard.get(hash).cloned()
    }

    fn insert(&self, hash: TokenHash, claims: Arc<VerifiedClaims>, now: UnixTime) {
        let mut shard = self
            .shard(&hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.per_shard && !shard.contains_key(&hash) {
            shard.retain(|_, cached| !cached.is_expired(now));
            if shard.len() >= self.per_shard
                && let Some(victim) = shard.keys().next().copied()
            {
                shard.remove(&victim);
            }
        }
        shard.insert(hash, claims);
    }

    fn remove(&self, hash: &TokenHash) {
        self.shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(hash);
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// Verifies the access tokens of one `TokenIssuer` (get one with `TokenIssuer::verifier`).
/// Share it (`Arc`) across requests: the cache is inside.
pub struct TokenVerifier {
    config: IdentityConfig,
    kid: String,
    key: DecodingKey,
    validation: Validation,
    cache: TokenCache,
    lookups: CacheCounts,
}

impl TokenVerifier {
    pub(crate) fn new(
        config: IdentityConfig,
        kid: String,
        modulus: &[u8],
        exponent: &[u8],
    ) -> Self {
        // With only the `aws_lc_rs` feature the provider is picked automatically; installing it
        // keeps that true should another crate ever enable `rust_crypto`. `Err` means one is
        // already installed, which is fine.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let mut validation = Validation::new(Algorithm::RS256);
        // jsonwebtoken reads the system clock for exp/nbf; we check lifetime ourselves against
        // the injected `now`, and audience and issuer ourselves to report what we found.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        Self {
            config,
            kid,
            key: DecodingKey::from_rsa_raw_components(modulus, exponent),
            validation,
            cache: TokenCache::new(DEFAULT_CACHE_CAPACITY),
            lookups: CacheCounts::default(),
        }
    }

    /// The same verifier with a cache bounded to `capacity` tokens.
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = TokenCache::new(capacity);
        self
    }

    /// The key id this verifier accepts.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Lookups of verified tokens in memory (metrics).
    pub fn cache_counts(&self) -> &CacheCounts {
        &self.lookups
    }

    /// How many verified tokens are cached.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// Verifies `bearer` (the token after `Bearer `) at `now` for an endpoint that accepts
    /// `audiences`, and says who is calling.
    pub fn verify(
        &self,
        bearer: &str,
        now: UnixTime,
        audiences: &[String],
    ) -> Result<Arc<Caller>, TokenError> {
        let bearer = bearer.trim();
        if bearer.is_empty() {
            return Err(TokenError::Missing);
        }
        let (signed_part, hash) = cache_key(bearer);
        let cached = self
            .cache
            .get(&hash)
            .filter(|cached| *cached.signed_part == *signed_part);
        self.lookups.record(cached.is_some());
        if let Some(cached) = cached {
            let result = cached.check(now, audiences);
            if result == Err(TokenError::Expired) {
                self.cache.remove(&hash);
            }
            return result;
        }

        let claims = self.verify_signature(bearer)?;
        let expected_issuer = self.config.issuer_for(&claims.tid);
        let issuer_ok = claims.iss == expected_issuer;
        let verified = Arc::new(VerifiedClaims {
            signed_part: signed_part.into(),
            caller: Arc::new(Caller {
                tenant_id: TenantId(claims.tid),
                object_id: ObjectId(claims.oid),
                kind: if claims.idtyp == "user" {
                    PrincipalKind::User
                } else {
                    PrincipalKind::ServicePrincipal
                },
                app_id: claims.appid,
                issuer: claims.iss.clone(),
                is_admin: claims.strongroom_admin,
                credential_id: claims.strongroom_cred,
            }),
            audience: claims.aud,
            not_before: claims.nbf,
            expires: claims.exp,
        });
        // Only a token that passed every call-independent check is worth remembering.
        if issuer_ok && !verified.is_expired(now) {
            self.cache.insert(hash, Arc::clone(&verified), now);
        }
        let caller = verified.check(now, audiences)?;
        if !issuer_ok {
            return Err(TokenError::WrongIssuer {
                expected: expected_issuer,
                found: claims.iss,
            });
        }
        Ok(caller)
    }

    fn verify_signature(&self, bearer: &str) -> Result<AccessClaims, TokenError> {
        // (jsonwebtoken checks the compact form itself: three segments, valid base64url.)
        jsonwebtoken::decode::<AccessClaims>(bearer, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidKeyFormat
                | ErrorKind::InvalidRsaKey(_) => TokenError::BadSignature,
                _ => TokenError::Malformed,
            })
    }
}

/// Splits a compact JWS at its last dot: the signed part and the SHA-256 of the signature
/// segment. A string without a dot keys on its whole hash: it can never verify, so it is never
/// cached, and its lookup finds nothing (no cached signed part is empty).
fn cache_key(bearer: &str) -> (&str, TokenHash) {
    let (signed_part, signature) = bearer.rsplit_once('.').unwrap_or(("", bearer));
    let digest = digest::digest(&digest::SHA256, signature.as_bytes());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest.as_ref());
    (signed_part, hash)
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kid", &self.kid)
            .field("config", &self.config)
            .field("cached_tokens", &self.cache.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires: i64) -> Arc<VerifiedClaims> {
        Arc::new(VerifiedClaims {
            signed_part: "h.p".into(),
            caller: Arc::new(Caller {
                tenant_id: TenantId("t".to_owned()),
                object_id: ObjectId("o".to_owned()),
                kind: PrincipalKind::ServicePrincipal,
                app_id: "a".to_owned(),
                issuer: "i".to_owned(),
                is_admin: false,
                credential_id: None,
            }),
            audience: "aud".to_owned(),
            not_before: 0,
            expires,
        })
    }

    fn hash(n: u16) -> TokenHash {
        let mut hash = [0u8; 32];
        hash[1..3].copy_from_slice(&n.to_be_bytes());
        hash // first byte 0: every key lands in the same shard
    }

    #[test]
    fn a_full_shard_drops_expired_entries_first_then_one_more() {
        let cache = TokenCache::new(SHARDS * 3); // three per shard
        let now = UnixTime(1_000);
        cache.insert(hash(1), claims(500), UnixTime(0)); // expired by `now`
        cache.insert(hash(2), claims(5_000), UnixTime(0));
        cache.insert(hash(3), claims(5_000), UnixTime(0));
        cache.insert(hash(4), claims(5_000), now);
        assert!(
            cache.get(&hash(1)).is_none(),
            "the expired entry went first"
        );
        assert_eq!(cache.len(), 3);

        cache.insert(hash(5), claims(5_000), now);
        assert_eq!(cache.len(), 3, "still bounded when nothing has expired");
        assert!(cache.get(&hash(5)).is_some(), "the newest entry is kept");

        cache.insert(hash(5), claims(6_000), now);
        assert_eq!(cache.len(), 3, "replacing an entry evicts nothing");
    }

    #[test]
    fn lifetime_and_audience_are_checked_with_skew() {
        let cached = claims(1_000);
        let audiences = vec!["aud".to_owned()];
        assert!(cached.check(UnixTime(1_060), &audiences).is_ok());
        assert_eq!(
            cached.check(UnixTime(1_061), &audiences),
            Err(TokenError::Expired)
        );
        assert_eq!(
            cached.check(UnixTime(10), &["other".to_owned()]),
            Err(TokenError::WrongAudience {
                expected: vec!["other".to_owned()],
                found: "aud".to_owned()
            })
        );
    }
}
