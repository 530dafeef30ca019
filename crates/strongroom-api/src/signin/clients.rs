//! The public clients that may sign users in, and the redirect URIs each may use.
//!
//! Entra registers redirect URIs per application; Strongroom knows the first-party public
//! clients its users run unchanged, and the console:
//! - the Azure CLI (`az login`) and the Azure SDKs' developer sign-in (azure-identity's
//!   `InteractiveBrowserCredential` and `DeviceCodeCredential` use the CLI's client id) and
//!   Azure PowerShell: native apps whose browser flow ends at a loopback listener,
//!   `http://localhost:{port}` or `http://127.0.0.1:{port}` (RFC 8252 §7.3: any port);
//! - the Strongroom web console, whose only redirect URI is the root of the origin that
//!   serves it (`{origin}/`), compared exactly.
//!
//! A redirect URI that is not allowed gets an error page, never a redirect: sending the code
//! (or even an error) to a foreign URI is what the check exists to prevent.

/// The Azure CLI's application id (also azure-identity's default for developer sign-in).
pub(crate) const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// Azure PowerShell's application id.
pub(crate) const AZURE_POWERSHELL: &str = "1950a258-227b-4e31-a9cf-717495945fc2";
/// The Strongroom web console's application id (docs/CONTRACTS.md).
pub(crate) const CONSOLE: &str = crate::console::CONSOLE_CLIENT_ID;

/// A client that may sign users in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PublicClient {
    pub(crate) client_id: &'static str,
    /// What the sign-in page calls it.
    pub(crate) display_name: &'static str,
    redirects: Redirects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redirects {
    /// `http://localhost[:port][/path]` or `http://127.0.0.1[:port][/path]`.
    Loopback,
    /// Exactly `{origin}/` for the origin the console is served from.
    ConsoleRoot,
}

const CLIENTS: [PublicClient; 3] = [
    PublicClient {
        client_id: AZURE_CLI,
        display_name: "Microsoft Azure CLI",
        redirects: Redirects::Loopback,
    },
    PublicClient {
        client_id: AZURE_POWERSHELL,
        display_name: "Microsoft Azure PowerShell",
        redirects: Redirects::Loopback,
    },
    PublicClient {
        client_id: CONSOLE,
        display_name: "Strongroom console",
        redirects: Redirects::ConsoleRoot,
    },
];

/// The public client `client_id` names (any case), if it is one.
pub(crate) fn public_client(client_id: &str) -> Option<PublicClient> {
    CLIENTS
        .into_iter()
        .find(|c| c.client_id.eq_ignore_ascii_case(client_id))
}

impl PublicClient {
    /// Whether `redirect_uri` is one of this client's, when the console's origin is
    /// `console_origin` (`https://{domain}:{port}`, no trailing slash).
    pub(crate) fn allows_redirect(&self, redirect_uri: &str, console_origin: &str) -> bool {
        match self.redirects {
            Redirects::Loopback => is_loopback_redirect(redirect_uri),
            Redirects::ConsoleRoot => redirect_uri == format!("{console_origin}/"),
        }
    }
}

/// `http://localhost` or `http://127.0.0.1`, an optional port, an optional path; no query,
/// fragment or user info (which could smuggle another host).
fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if path.contains(['?', '#', '\\']) || authority.contains('@') {
        return false;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1") && port_ok
}

/// The origin (`scheme://host[:port]`) of an absolute URI, for the CSP `form-action` of a
/// page that posts or redirects there.
pub(crate) fn origin_of(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    if !(scheme == "http" || scheme == "https") {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&uri[..scheme.len() + 3 + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects() {
        let cli = public_client("04B07795-8DDB-461A-BBEE-02F9E1BF7B46").unwrap();
        for good in [
            "http://localhost",
            "http://localhost:43567",
            "http://localhost:8400/",
            "http://127.0.0.1:1234/callback",
        ] {
            assert!(
                cli.allows_redirect(good, "https://localhost:8443"),
                "{good}"
            );
        }
        for bad in [
            "https://localhost:43567",
            "http://localhost.evil.example:80",
            "http://evil.example",
            "http://localhost@evil.example",
            "http://localhost:80@evil.example/",
            "http://localhost:99999",
            "http://localhost:/",
            "http://localhost:1234/?next=http://evil.example",
            "http://[::1]:1234",
            "https://localhost:8443/",
            "",
        ] {
            assert!(!cli.allows_redirect(bad, "https://localhost:8443"), "{bad}");
        }
    }

    #[test]
    fn the_console_redirects_only_to_its_own_root() {
        let console = public_client(CONSOLE).unwrap();
        assert!(console.allows_redirect("https://localhost:8443/", "https://localhost:8443"));
        for bad in [
            "https://localhost:8443",
            "https://localhost:8443/x",
            "https://localhost:8444/",
            "http://localhost:8443/",
            "http://localhost:1234",
        ] {
            assert!(
                !console.allows_redirect(bad, "https://localhost:8443"),
                "{bad}"
            );
        }
        assert!(public_client("00000000-0000-0000-0000-000000000000").is_none());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("http://localhost:1234/a?b"),
            Some("http://localhost:1234")
        );
        assert_eq!(origin_of("https://h"), Some("https://h"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
