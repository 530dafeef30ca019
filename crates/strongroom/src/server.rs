//! `strongroom serve`: open the data directory, wire the layers together, bind, and serve
//! HTTPS (HTTP/1.1 and HTTP/2) until a shutdown signal; in-flight requests finish first, so
//! no acknowledged write is cut off. The first byte of each connection decides: a TLS
//! handshake is served directly, anything else is a proxy request (`proxy.rs`).

use crate::config::ServeArgs;
use crate::data_dir::{self, AdminCredential, DataDir};
use crate::proxy::{self, Proxy};
use crate::transport::{Connection, ConnectionTable};
use anyhow::Context;
use serde_json::json;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use strongroom_api::{ApiConfig, AppState};
use strongroom_model::{Clock, ManualClock, SystemClock};
use strongroom_store::Store;
use strongroom_vault::VaultCtx;
use strongroom_vault::keys::{ReleaseConfig, ReleaseSigner};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

const SUBSCRIPTION_META_KEY: &str = "subscription-id";
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The first byte of a TLS record carrying a handshake (ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

pub(crate) async fn serve(data_dir: PathBuf, args: ServeArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let domain = args.domain()?;
    let dir = DataDir::open(&data_dir)?;
    // Held until `serve` returns: the directory is this process's alone.
    let _serve_lock = dir.lock_for_serve()?;
    dir.check_private()?;
    let unsettled_master = crate::master_key::load(&dir, &args.master_key)?;
    // The TLS trust root, name-constrained to what this deployment serves.
    let ca = dir.tls_ca(&domain)?;
    let opened = crate::store_open::open(&dir, &args.store.location()?).await?;
    let store = opened.store;
    // Nodes starting together on one new database: each "read, else create" below (master-key
    // check, tenant, subscription, administrator, signing key) runs under this lock.
    let startup = store
        .startup_lock()
        .await
        .context("taking the store's start-up lock")?;
    let (master, key_home) = crate::master_key::settle(unsettled_master, store.as_ref()).await?;
    let master = Arc::new(master);
    let manual_clock = args.dev_clock.then(ManualClock::default);
    let clock: Arc<dyn Clock> = match &manual_clock {
        Some(clock) => Arc::new(clock.clone()),
        None => Arc::new(SystemClock),
    };

    let tenant = strongroom_identity::ensure_default_tenant(store.as_ref())
        .await
        .context("preparing the default tenant")?;
    let subscription_id = subscription_id(store.as_ref()).await?;
    let admin = ensure_admin(&dir, store.as_ref(), &tenant.tenant_id, clock.now()).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local_addr = listener.local_addr()?;
    // What clients reach: the listener itself, or the load balancer in front of the nodes.
    let port = args.public_port.unwrap_or(local_addr.port());
    let metrics_listener = match args.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics listener {addr}"))?,
        ),
        None => None,
    };
    let metrics = metrics_listener
        .as_ref()
        .map(|_| Arc::new(strongroom_api::Metrics::new()));
    // With metrics, every store call from here on is timed.
    let store: Arc<dyn Store> = match &metrics {
        Some(metrics) => Arc::new(strongroom_api::MeteredStore::new(store, metrics.clone())),
        None => store,
    };

    let leaf = ca
        .issue_server_cert(
            &[
                format!("*.vault.{domain}"),
                format!("vault.{domain}"),
                domain.clone(),
                "localhost".to_owned(),
            ],
            &[
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            ],
        )
        .context("issuing the server certificate")?;
    dir.write_private(data_dir::SERVER_KEY_FILE, leaf.key_pem.expose().as_bytes())?;
    dir.write_public(data_dir::SERVER_CERT_FILE, leaf.cert_pem.as_bytes())?;
    let tls = crate::tls::server_config(&leaf.cert_pem, &ca.cert_pem(), leaf.key_pem.expose())?;
    let release = release_config(&args, &ca, &domain)?;
    let loopback_only = args.listen.ip().is_loopback();
    let resolver = crate::tls::MintingResolver::new(
        ca,
        domain.clone(),
        &leaf.cert_pem,
        leaf.key_pem.expose(),
    )?;
    let tunnel_tls = crate::tls::intercept_config(Arc::new(resolver))?;

    let issuer = strongroom_identity::TokenIssuer::load_or_create(
        store.as_ref(),
        &master,
        strongroom_identity::IdentityConfig {
            domain: domain.clone(),
            public_origin: format!("https://{domain}:{port}"),
        },
    )
    .await
    .context("preparing the token-signing key")?;
    drop(startup);
    let verifier = issuer.verifier();

    let config = ApiConfig {
        domain: domain.clone(),
        port,
        tenant_id: tenant.tenant_id.clone(),
        subscription_id: subscription_id.clone(),
        dev_clock: manual_clock,
    };
    // Key Vault certificates of the `Strongroom` issuer come from a separate CA: their
    // subjects are the users' names, which the TLS root's constraints rightly exclude.
    let issuing_ca = Arc::new(dir.certificate_ca()?);
    let served_domain = domain.clone();
    let served: strongroom_vault::ServedName = Arc::new(move |name: &str| {
        strongroom_api::certificate_name_is_served(&served_domain, name)
    });
    let vaults = VaultCtx::new(store.clone(), clock, master.clone())
        .with_release(release)
        .with_issuing_ca(issuing_ca, served);
    let mut state = AppState::new(config.clone(), vaults, issuer, verifier, store.clone())
        .with_throttle(args.throttle.into())
        .with_master_key_rotator(Arc::new(crate::master_key_rotation::Rotator::new(key_home)));
    if let Some(metrics) = &metrics {
        state = state.with_metrics(metrics.clone());
    }
    if let Some(path) = &args.audit_log {
        let log =
            crate::audit_log::AuditLog::open(path, args.audit_log_max_bytes, args.audit_log_keep)?;
        state = state.with_audit(Arc::new(log));
    }
    let state = Arc::new(state);
    if let Some(metrics) = &metrics {
        // Weak: the state holds the metrics, so a strong reference here would be a cycle.
        let state = Arc::downgrade(&state);
        let opened_pool = opened.pool.clone();
        metrics.set_live_source(move || strongroom_api::LiveCounts {
            caches: state
                .upgrade()
                .map(|state| state.cache_counts())
                .unwrap_or_default(),
            pool: opened_pool.as_ref().map(|pool| pool()),
        });
    }
    let app = strongroom_api::service(state.clone());

    let ca_file = dir.path(data_dir::CA_CERT_FILE);
    let metrics_addr = metrics_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()?;
    let info = json!({
        "listen": local_addr.to_string(),
        "metricsListen": metrics_addr.map(|addr| addr.to_string()),
        "port": port,
        "domain": domain,
        "authorityHost": config.public_origin(),
        "tenantId": tenant.tenant_id,
        "subscriptionId": subscription_id,
        "caFile": ca_file.display().to_string(),
        "certificateCaFile": dir.path(data_dir::CERTIFICATE_CA_CERT_FILE).display().to_string(),
        "pid": std::process::id(),
    });
    dir.write_public(data_dir::SERVER_INFO_FILE, info.to_string().as_bytes())?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    tokio::spawn(janitor(
        state.clone(),
        args.janitor_interval,
        shutdown_rx.clone(),
    ));
    if let (Some(listener), Some(metrics)) = (metrics_listener, metrics) {
        tokio::spawn(crate::metrics_listener::serve(
            listener,
            args.transport.limits(),
            metrics,
            store.clone(),
            shutdown_rx.clone(),
        ));
    }

    println!("strongroom ready: {info}");
    println!("  vaults:      https://<vault>.vault.{domain}:{port}/");
    println!("  identity:    {}", config.public_origin());
    println!("  local CA:    {}", ca_file.display());
    println!(
        "  proxy:       HTTPS_PROXY=http://<clientId>:<secret>@{local_addr} (Azure's names: *.vault.azure.net, login.microsoftonline.com, IMDS)"
    );
    println!(
        "  admin:       {} (client id {})",
        dir.path(data_dir::ADMIN_FILE).display(),
        admin.client_id
    );
    println!(
        "  client settings: strongroom --data-dir {} env --vault <vault>",
        data_dir.display()
    );

    let proxy = Arc::new(Proxy {
        state: state.clone(),
        app: app.clone(),
        tunnel_tls: TlsAcceptor::from(tunnel_tls),
        credentials_required: !loopback_only,
        passthrough: crate::proxy::Passthrough::new(&args.proxy_passthrough),
    });
    accept_loop(
        listener,
        ConnectionTable::new(crate::transport::Limits {
            tag_client_address: args.audit_log.is_some(),
            ..args.transport.limits()
        }),
        TlsAcceptor::from(tls),
        app,
        proxy,
        shutdown_rx,
        shutdown_signal(),
    )
    .await;
    let _ = shutdown_tx.send(true);
    Ok(())
}

/// Secure key release: the trusted attestation authorities, and a release-signing key made
/// for this process (RSA-2048, kept in memory only) with a certificate from the local CA for
/// the vault hosts. A released-key JWS carries that chain in `x5c`, so clients verify it
/// against `ca.pem` as they verify the server; nothing needs to persist across restarts.
fn release_config(
    args: &ServeArgs,
    ca: &strongroom_crypto::LocalCa,
    domain: &str,
) -> anyhow::Result<ReleaseConfig> {
    let authorities = args.attestation_authorities()?;
    let key = strongroom_crypto::generate_rsa_signing_key()?;
    let cert = ca
        .issue_signing_cert(
            key.expose(),
            &[format!("*.vault.{domain}"), format!("vault.{domain}")],
        )
        .context("issuing the release-signing certificate")?;
    let signer = ReleaseSigner::new(key.expose(), &[cert, ca.cert_der().to_vec()])?;
    Ok(ReleaseConfig {
        authorities,
        signer: Some(Arc::new(signer)),
    })
}

async fn subscription_id(store: &dyn Store) -> anyhow::Result<String> {
    if let Some(bytes) = store.get_meta(SUBSCRIPTION_META_KEY).await? {
        return String::from_utf8(bytes).context("stored subscription id is not text");
    }
    let id = uuid_v4();
    store.put_meta(SUBSCRIPTION_META_KEY, id.as_bytes()).await?;
    Ok(id)
}

fn uuid_v4() -> String {
    strongroom_model::Version::new_random()
        .as_str()
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let dash = matches!(i, 8 | 12 | 16 | 20).then_some('-');
            dash.into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// The administrator service principal of the deployment, created on first start. Its
/// secret exists only in `admin.json` (0600) and as a hash in the store.
async fn ensure_admin(
    dir: &DataDir,
    store: &dyn Store,
    tenant_id: &str,
    now: strongroom_model::UnixTime,
) -> anyhow::Result<AdminCredential> {
    if let Some(admin) = dir.admin_credential()?
        && store
            .get_principal_by_object_id(&admin.object_id)
            .await?
            .is_some_and(|p| p.is_admin)
    {
        return Ok(admin);
    }
    let principal = strongroom_identity::create_service_principal(
        store,
        tenant_id,
        "strongroom-admin",
        true,
        now,
    )
    .await
    .context("creating the administrator principal")?;
    let (_, secret) = strongroom_identity::add_client_secret(store, &principal.object_id, now)
        .await
        .context("creating the administrator secret")?;
    let admin = AdminCredential {
        tenant_id: tenant_id.to_owned(),
        client_id: principal.app_id,
        client_secret: secret.expose().to_owned(),
        object_id: principal.object_id,
    };
    dir.write_admin_credential(&admin)?;
    Ok(admin)
}

/// The background work, once per `interval_seconds` period of the deployment's clock. Every
/// node ticks, and the node that first claims the period in the store runs it, so with several
/// nodes on one database each period runs exactly once, on whichever nodes are up.
async fn janitor(state: Arc<AppState>, interval_seconds: u64, mut shutdown: watch::Receiver<bool>) {
    const JOB: &str = "janitor";
    let interval = i64::try_from(interval_seconds).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(interval_seconds)) => {}
            _ = shutdown.changed() => return,
        }
        let now = state.vaults.now();
        let period = now.seconds().div_euclid(interval).to_string();
        let expires = now.plus_seconds(interval.saturating_mul(2));
        let started = std::time::Instant::now();
        let outcome = match state.store.claim_once(JOB, &period, now, expires).await {
            Ok(false) => strongroom_api::JobOutcome::Skipped,
            Ok(true) => match strongroom_vault::janitor::run_once(&state.vaults).await {
                Ok(_) => strongroom_api::JobOutcome::Ran,
                Err(err) => {
                    tracing::error!(error = %err, "janitor run failed");
                    strongroom_api::JobOutcome::Failed
                }
            },
            Err(err) => {
                tracing::warn!(error = %err, "could not claim the janitor's period");
                strongroom_api::JobOutcome::Failed
            }
        };
        state.record_job(JOB, outcome, started.elapsed());
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

/// What every connection task holds: a clone of the drain sender (so shutdown knows when the
/// last one ended) and the signal to finish in-flight requests and close.
#[derive(Clone)]
pub(crate) struct ConnectionGuard {
    _drain: mpsc::Sender<()>,
    pub(crate) close: watch::Receiver<bool>,
}

/// Accepts connections until `shutdown` completes, then waits (bounded) for every open
/// connection to finish its in-flight requests. Each connection is admitted by the table
/// (the cap) and must finish its TLS handshake by its header-read deadline.
async fn accept_loop(
    listener: TcpListener,
    table: Arc<ConnectionTable>,
    acceptor: TlsAcceptor,
    app: strongroom_api::Api,
    proxy: Arc<Proxy>,
    stop_rx: watch::Receiver<bool>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (drain_tx, mut drain_rx) = mpsc::channel::<()>(1);
    let (close_tx, close_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(connection) = table.admit() else {
            tracing::debug!(%peer, "connection refused: at the connection cap and none idle");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let proxy = proxy.clone();
        let guard = ConnectionGuard {
            _drain: drain_tx.clone(),
            close: close_rx.clone(),
        };
        tokio::spawn(async move {
            let mut first = [0u8; 1];
            match connection
                .before_first_request(stream.peek(&mut first))
                .await
            {
                Some(Ok(1..)) => {}
                _ => return,
            }
            if first[0] != TLS_HANDSHAKE_RECORD {
                proxy::serve_connection(proxy, stream, peer, guard, connection).await;
                return;
            }
            let tls = match connection
                .before_first_request(acceptor.accept(stream))
                .await
            {
                Some(Ok(tls)) => tls,
                Some(Err(err)) => {
                    tracing::debug!(%peer, error = %err, "TLS handshake failed");
                    return;
                }
                None => return,
            };
            // The application, and the proxy for clients that use this port as an https://
            // proxy.
            drop(app);
            proxy::serve_tls_connection(proxy, tls, peer, guard, connection).await;
        });
    }
    // Closed now, so a load balancer's new connections are refused at once (not left in the
    // backlog until the drain ends) and go to another node.
    drop(listener);
    drop(stop_rx);
    let _ = close_tx.send(true);
    drop(drain_tx);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain_rx.recv()).await;
}

/// Serves the application on an established (TLS) stream, HTTP/1.1 or HTTP/2, until the
/// client closes it, its limits close it, or shutdown asks it to finish its in-flight requests.
pub(crate) async fn serve_app<S>(
    stream: tokio_rustls::server::TlsStream<S>,
    app: strongroom_api::Api,
    guard: ConnectionGuard,
    connection: Arc<Connection>,
    peer: std::net::SocketAddr,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let close = guard.close.clone();
    crate::transport::serve_http(stream, app, connection, close, peer, http2).await;
    drop(guard);
}
