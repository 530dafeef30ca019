//! Tests of the real `strongroom` binary, from Rust: one test binary (`cargo test -p
//! strongroom --test it`), one module per concern. Each test starts its own server on
//! `127.0.0.1:0` with a temporary data directory (`harness::TestServer`) and drives it with
//! a raw HTTPS client that sends what the official SDKs never do.
//!
//! - `audit_events`: `GET /strongroom/audit/events` and `audit list` over a rotating log:
//!   a vault's events only, newest first, filters, paging across files, 400/403/404.
//! - `hostile`: malformed, oversized and odd requests get Azure-shaped 4xx, never a 5xx,
//!   and the server keeps serving.
//! - `hostile_keys`: the same for every key endpoint: bad bodies, algorithms, base64url,
//!   digest lengths, key sizes and counts, on an RSA and an EC key.
//! - `agent`: `strongroom agent` (managed identities): `Host` and forwarding-header checks,
//!   resource validation, the bounded token cache, fetches outside its lock, renewal before
//!   expiry, Arc challenge rate limit, key lifetime and cap (no system path written).
//! - `admin_only`: a non-admin principal gets 403 `AuthorizationFailed` on every management
//!   route; without `--dev-clock` the clock route is 404; off loopback an unauthenticated
//!   `CONNECT` gets 407.
//! - `ca_constraints`: the local CA vouches only for the names served (webpki and `openssl
//!   verify` refuse a leaf for any other), and an unconstrained CA is replaced at start.
//! - `challenge`: the exact 401 challenge, also for an expired token (dev clock).
//! - `console`: the web console's page and assets (media types, Content-Security-Policy
//!   and hardening headers, 404s) and the vault hosts' CORS for the console's origin only.
//! - `commit_trace`: the database is in WAL mode, and (under `strace`) the fsync of a write's
//!   commit returns before the answer is written to the client's socket.
//! - `datadir`: one `serve` per data directory (two first starts leave one master key).
//! - `durability`: SIGKILL during a stream of writes loses no acknowledged version.
//! - `crash_scale`: 50 SIGKILLs at random moments of a concurrent write load; after each
//!   restart every write acknowledged so far reads back by version with its value.
//! - `forged_tokens`: tokens with a foreign key, an altered signature or payload, a wrong
//!   issuer, audience or lifetime get 401; an edited admin claim is refused.
//! - `revocation`: deleted credentials and principals lose access at once; client
//!   assertions are single-use and short-lived.
//! - `shutdown`: SIGTERM answers the request in flight (its write kept), refuses new
//!   connections at once, and exits.
//! - `slow_clients`: the connection cap and the header-read, idle and request deadlines.
//! - `throttle`: `--throttle azure` answers Azure's 429 past its per-vault limits (one vault
//!   only, keys weighed by type and size); the token endpoint locks a client id after ten
//!   failures while other clients keep getting tokens.
//! - `purge_scrub`: a purged secret's ciphertext is in none of the database's files.
//! - `master_key`: the master key in a file outside the data directory, or from a passphrase.
//! - `master_key_rotation`: `master-key rotate` re-seals everything while reads carry on; the
//!   old key opens nothing; old backups restore; a new passphrase; crash recovery at start.
//! - `backup`: `backup` under concurrent writes, then `restore` and `serve` of the copy: every
//!   acknowledged secret, the admin and application credentials and the CA come back;
//!   restore refuses a non-empty target and an edited or partial backup; passphrase and
//!   external master keys; a PostgreSQL deployment's files and `pg_dump` recipe.
//! - `multinode`: nodes on one PostgreSQL database: writes, revocations, policies, vault
//!   deletion and the dev clock seen by the next request on another node; tokens shared; one
//!   janitor run per period of three nodes; a node killed under writes and a PostgreSQL
//!   outage (503 + `Retry-After`, recovery without restart) lose no acknowledged write.
//! - `migrate`: `migrate --to postgres://…` moves a whole deployment, refused while serve runs
//!   or into a database that is not empty; the data directory then serves it with `--store`.
//! - `proxy`: transparent mode's proxy protocol: refusals (403), proxy credentials (407),
//!   IMDS, and tunnels whose TLS leaf our CA minted for the requested Azure name.

mod admin_only;
mod agent;
mod audit;
mod audit_events;
mod backup;
mod ca_constraints;
mod challenge;
mod commit_trace;
mod console;
mod crash_scale;
mod datadir;
mod durability;
mod forged_tokens;
mod harness;
mod hostile;
mod hostile_keys;
mod master_key;
mod master_key_rotation;
mod metrics;
mod migrate;
mod multinode;
mod proxy;
mod purge_scrub;
mod revocation;
mod shutdown;
mod signin;
mod slow_clients;
mod throttle;
