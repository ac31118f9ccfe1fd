//! TLS handshake failures in words: rustls names the cause (fred passes on
//! its Debug form), and each cause has its own fix.

/// Why a TLS handshake failed, as rustls reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsCause {
    /// No trusted CA signed the server's certificate.
    UnknownIssuer,
    /// The certificate is for other names (those it lists, if any).
    NameMismatch(Vec<String>),
    /// Past its end date, or before its start.
    Expired,
    /// Mutual TLS: the server wants a client certificate and got none.
    ClientCertWanted,
    /// The server does not trust the client certificate it got.
    ClientCertRefused,
    /// The other end did not answer in TLS: a plaintext port.
    NotTls,
    Other,
}

impl TlsCause {
    /// The cause in a rustls error (fred shows its Debug form), if any.
    pub fn of(reply: &str) -> Option<TlsCause> {
        let has = |s: &str| reply.contains(s);
        Some(if has("UnknownIssuer") {
            TlsCause::UnknownIssuer
        } else if has("NotValidForName") {
            TlsCause::NameMismatch(presented_names(reply))
        } else if has("Expired") || has("NotValidYet") {
            TlsCause::Expired
        } else if has("AlertReceived(CertificateRequired)") {
            TlsCause::ClientCertWanted
        } else if has("AlertReceived(UnknownCA)") || has("AlertReceived(BadCertificate)") {
            TlsCause::ClientCertRefused
        } else if has("InvalidContentType") || has("corrupt message") {
            TlsCause::NotTls
        } else if has("InvalidCertificate") || has("AlertReceived") || has("PeerIncompatible") {
            TlsCause::Other
        } else {
            return None;
        })
    }

    /// What happened, in words, and what to do about it.
    pub(super) fn words(&self) -> (String, &'static str) {
        match self {
            TlsCause::UnknownIssuer => (
                "unknown issuer: no certificate authority this client trusts signed the \
                 server's certificate"
                    .into(),
                "give the CA that signed it with --tls-ca FILE (PEM); for a throwaway test \
                 server only, --tls-insecure skips the check",
            ),
            TlsCause::NameMismatch(names) => (
                format!(
                    "name mismatch: the server's certificate is not valid for the host in the \
                     URL{}",
                    match names.as_slice() {
                        [] => String::new(),
                        n => format!(" (it is for {})", n.join(", ")),
                    }
                ),
                "connect by a name the certificate lists, or name it with --tls-server-name NAME",
            ),
            TlsCause::Expired => (
                "expired: the server's certificate is outside its validity dates".into(),
                "renew the server's certificate (or correct this machine's clock)",
            ),
            TlsCause::ClientCertWanted => (
                "the server wants a client certificate (mutual TLS) and got none".into(),
                "give --tls-cert FILE and --tls-key FILE, signed by a CA the server trusts",
            ),
            TlsCause::ClientCertRefused => (
                "the server does not trust the client certificate".into(),
                "give a --tls-cert signed by the CA in the server's tls-ca-cert-file",
            ),
            TlsCause::NotTls => (
                "the server did not answer in TLS: is this a plaintext port?".into(),
                "use redis:// for a plaintext port, or the server's tls-port with rediss://",
            ),
            TlsCause::Other => (
                "the TLS handshake failed".into(),
                "check the server's TLS settings against --tls-ca, --tls-cert and --tls-key",
            ),
        }
    }
}

/// `presented: ["DnsName(\"redis.test\")"]`: the names a certificate is for.
fn presented_names(reply: &str) -> Vec<String> {
    let Some((_, list)) = reply.split_once("presented: [") else {
        return Vec::new();
    };
    let list = list.split(']').next().unwrap_or("");
    list.split("(\\\"")
        .skip(1)
        .filter_map(|p| p.split("\\\"").next())
        .map(str::to_string)
        .collect()
}

/// `IO error: Custom { kind: InvalidData, error: X }` is X to the reader.
pub(super) fn inner(reply: &str) -> &str {
    reply
        .split_once(", error: ")
        .and_then(|(_, rest)| rest.strip_suffix(" }"))
        .unwrap_or(reply)
}
