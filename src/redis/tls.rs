//! TLS for `rediss://`: which certificate authorities to trust, the client
//! certificate for mutual TLS, the name to verify, and the opt-out.
//!
//! rustls (on the ring provider, through fred's `enable-rustls-ring`) does
//! the work; this file only turns the user's files into its configuration,
//! and every problem with a file names the flag or scenario key it came from.

use std::path::PathBuf;
use std::sync::Arc;

use fred::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use fred::rustls::crypto::{self, CryptoProvider};
use fred::rustls::pki_types::pem::PemObject;
use fred::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use fred::rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use fred::types::config::TlsConfig;

use crate::error::Error;

/// A file the user named, and how they named it (`--tls-ca` or
/// `run.toml (tls.ca)`), for the messages about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFile {
    pub path: PathBuf,
    pub name: String,
}

impl TlsFile {
    fn fail(&self, what: impl std::fmt::Display) -> Error {
        Error::usage(format!("{} {}: {what}", self.name, self.path.display()))
    }
}

/// The TLS settings of a run. All empty means: trust the system's roots,
/// verify the host of the URL, send no client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM bundle of the certificate authorities to trust instead of the system's.
    pub ca: Option<TlsFile>,
    /// PEM client certificate (chain) for mutual TLS; needs `key`.
    pub cert: Option<TlsFile>,
    /// PEM private key of `cert`.
    pub key: Option<TlsFile>,
    /// The name the server's certificate must carry, when it is not the
    /// URL's host (connecting by IP address, through a tunnel).
    pub server_name: Option<String>,
    /// Accept any certificate: encryption without authentication.
    pub insecure: bool,
}

impl TlsOptions {
    /// The first setting given, by its flag: it only means something over TLS.
    pub fn first_given(&self) -> Option<&str> {
        if self.insecure {
            return Some("--tls-insecure");
        }
        let named = [&self.ca, &self.cert, &self.key];
        if let Some(f) = named.into_iter().flatten().next() {
            return Some(&f.name);
        }
        self.server_name.as_ref().map(|_| "--tls-server-name")
    }

    /// Refuse what cannot work before anything connects: a certificate
    /// without its key (or the reverse), a name that is no DNS name or IP.
    pub fn check(&self) -> Result<(), Error> {
        match (&self.cert, &self.key) {
            (Some(c), None) => {
                return Err(c.fail(
                    "a client certificate needs its private key: add --tls-key FILE (tls.key)",
                ))
            }
            (None, Some(k)) => {
                return Err(k.fail(
                    "a private key needs its client certificate: add --tls-cert FILE (tls.cert)",
                ))
            }
            _ => {}
        }
        if let Some(name) = &self.server_name {
            ServerName::try_from(name.as_str()).map_err(|_| {
                Error::usage(format!(
                    "--tls-server-name {name}: not a DNS name or an IP address"
                ))
            })?;
        }
        Ok(())
    }

    /// fred's TLS configuration: rustls with these roots and this identity.
    pub fn config(&self) -> Result<TlsConfig, Error> {
        self.check()?;
        let provider = Arc::new(crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::infra(format!("TLS setup: {e}")))?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        } else {
            builder.with_root_certificates(self.roots()?)
        };
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert)?;
                let private = PrivateKeyDer::from_pem_file(&key.path)
                    .map_err(|e| key.fail(format!("no PEM private key could be read ({e})")))?;
                builder
                    .with_client_auth_cert(chain, private)
                    .map_err(|e| cert.fail(format!("does not go with its key: {e}")))?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(config.into())
    }

    /// `--tls-ca`, or the system's roots when none is given.
    fn roots(&self) -> Result<RootCertStore, Error> {
        let mut roots = RootCertStore::empty();
        match &self.ca {
            Some(ca) => {
                let (added, _) = roots.add_parsable_certificates(certificates(ca)?);
                if added == 0 {
                    return Err(ca.fail("holds no usable CA certificate"));
                }
            }
            None => {
                let native = fred::rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
                if roots.is_empty() {
                    return Err(Error::usage(
                        "rediss://: this system has no CA certificates to verify the server with \
                         (install ca-certificates), or give the server's CA with --tls-ca FILE",
                    ));
                }
            }
        }
        Ok(roots)
    }
}

/// Every certificate of a PEM file; none at all is an error.
fn certificates(file: &TlsFile) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&file.path)
        .map_err(|e| file.fail(format!("cannot be read ({e})")))?
        .collect::<Result<_, _>>()
        .map_err(|e| file.fail(format!("is not valid PEM ({e})")))?;
    if certs.is_empty() {
        return Err(file.fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
    }
    Ok(certs)
}

/// `--tls-insecure`: any certificate passes, but the handshake signatures
/// are still checked, so the session is encrypted to whoever answered.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, fred::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, fred::rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, fred::rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Option<TlsFile> {
        Some(TlsFile {
            path: "/nonexistent/x.pem".into(),
            name: name.into(),
        })
    }

    #[test]
    fn half_an_identity_is_refused_naming_the_missing_half() {
        let o = TlsOptions {
            cert: file("--tls-cert"),
            ..TlsOptions::default()
        };
        let e = o.check().unwrap_err().to_string();
        assert!(
            e.starts_with("--tls-cert /nonexistent/x.pem") && e.contains("--tls-key"),
            "{e}"
        );
        let o = TlsOptions {
            server_name: Some("not a name".into()),
            ..TlsOptions::default()
        };
        assert!(o
            .check()
            .unwrap_err()
            .to_string()
            .contains("--tls-server-name"));
    }

    #[test]
    fn an_unreadable_ca_names_its_flag() {
        let o = TlsOptions {
            ca: file("run.toml (tls.ca)"),
            ..TlsOptions::default()
        };
        let e = o.config().unwrap_err().to_string();
        assert!(e.starts_with("run.toml (tls.ca) /nonexistent/x.pem"), "{e}");
        assert_eq!(o.first_given(), Some("run.toml (tls.ca)"));
        assert!(TlsOptions::default().first_given().is_none());
    }
}
