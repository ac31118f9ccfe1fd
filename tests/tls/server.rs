//! Certificates minted per test with rcgen, and a redis-server that speaks
//! TLS only (`--port 0 --tls-port P`), started and killed by the test.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tempfile::TempDir;

/// A CA, a server certificate it signed, a client certificate it signed,
/// and a second CA that signed nothing here.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    /// `names`: what the server certificate is valid for.
    pub fn mint(names: &[&str]) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let (ca, ca_key) = authority("blackfriday test CA");
        let (other, _) = authority("some other CA");
        write(dir.path(), "ca.pem", &ca.pem());
        write(dir.path(), "other-ca.pem", &other.pem());
        let leaf = |names: Vec<String>, purpose| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(names).unwrap();
            p.extended_key_usages = vec![purpose];
            (p.signed_by(&key, &ca, &ca_key).unwrap(), key)
        };
        let names = names.iter().map(|n| n.to_string()).collect();
        let (server, server_key) = leaf(names, ExtendedKeyUsagePurpose::ServerAuth);
        write(dir.path(), "server.pem", &server.pem());
        write(dir.path(), "server.key", &server_key.serialize_pem());
        let (client, client_key) = leaf(
            vec!["buyer.test".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        write(dir.path(), "client.pem", &client.pem());
        write(dir.path(), "client.key", &client_key.serialize_pem());
        Pki { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }
}

fn authority(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (p.self_signed(&key).unwrap(), key)
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

/// redis-server with TLS on a free loopback port and no plaintext port.
pub struct TlsRedis {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl TlsRedis {
    /// `clients`: the server's `tls-auth-clients` (`yes` wants a client certificate).
    pub fn start(pki: &Pki, clients: &str) -> TlsRedis {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log: PathBuf = dir.path().join("redis.log");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--tls-port", &port.to_string()])
            .args(["--tls-cert-file", &pki.path("server.pem")])
            .args(["--tls-key-file", &pki.path("server.key")])
            .args(["--tls-ca-cert-file", &pki.path("ca.pem")])
            .args(["--tls-auth-clients", clients])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .expect("this test needs redis-server (built with TLS) on PATH");
        let mut server = TlsRedis {
            child,
            port,
            _dir: dir,
        };
        server.wait_ready(&log);
        server
    }

    fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if text.contains("Ready to accept connections") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "TLS redis-server exited ({status}); is it built with TLS? Its log:\n{text}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "TLS redis-server not ready in 10s; its log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
