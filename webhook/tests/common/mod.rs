//! Test harness: certificates made with rcgen, a server on ephemeral ports, and a client that
//! trusts only the test CA and verifies the Service name, as the API server does.

#![allow(dead_code)]

use celador_engine::config::{self, Config};
use celador_engine::pack::{PackFile, Rule, load_pack};
use celador_engine::source::SourceMap;
use celador_webhook::{MemoryLog, Options, Policy, Server, TlsFiles};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The name the API server verifies: `<service>.<namespace>.svc`.
pub const SERVICE_NAME: &str = "celador-webhook.celador.svc";

/// The built-in pack's rules, compiled once per test binary.
pub fn rules() -> Vec<Arc<Rule>> {
    static RULES: OnceLock<Vec<Arc<Rule>>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let sources = SourceMap::new();
            let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("built-in pack");
            load_pack(files, &sources).expect("the built-in pack compiles").rules
        })
        .clone()
}

/// A certificate authority.
pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    /// A leaf certificate: `(certificate PEM, key PEM, certificate DER)`.
    pub fn issue(&self, common_name: &str, names: &[&str], client: bool) -> Leaf {
        let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages =
            vec![if client { ExtendedKeyUsagePurpose::ClientAuth } else { ExtendedKeyUsagePurpose::ServerAuth }];
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() }
    }
}

/// An issued certificate.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// Certificate files laid out like a Kubernetes Secret volume: `tls.crt -> ..data/tls.crt`,
/// `..data -> ..<version>`; [`SecretVolume::update`] swaps the `..data` symlink.
pub struct SecretVolume {
    pub dir: tempfile::TempDir,
    version: usize,
}

impl SecretVolume {
    pub fn new(leaf: &Leaf) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut volume = Self { dir, version: 0 };
        volume.update(leaf);
        for name in ["tls.crt", "tls.key"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), volume.dir.path().join(name)).unwrap();
        }
        volume
    }

    pub fn update(&mut self, leaf: &Leaf) {
        self.version += 1;
        let root = self.dir.path();
        let version = format!("..v{}", self.version);
        std::fs::create_dir(root.join(&version)).unwrap();
        std::fs::write(root.join(&version).join("tls.crt"), &leaf.cert_pem).unwrap();
        std::fs::write(root.join(&version).join("tls.key"), &leaf.key_pem).unwrap();
        std::os::unix::fs::symlink(&version, root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("tls.key")
    }

    /// Writes another file into the volume's directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub ca: Ca,
    pub volume: SecretVolume,
    pub log: MemoryLog,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), celador_webhook::Error>>>,
}

/// Server settings for a test.
pub struct Setup {
    pub config: &'static str,
    /// A pack to serve instead of the built-in one: a path from the repository's root.
    pub pack: Option<&'static str>,
    /// A pack (TOML text) whose rules are evaluated after the served ones (empty: none).
    pub extra_pack: String,
    pub client_ca: Option<String>,
    pub options: Box<dyn FnOnce(&mut Options)>,
}

impl Default for Setup {
    fn default() -> Self {
        Self { config: "", pack: None, extra_pack: String::new(), client_ca: None, options: Box::new(|_| {}) }
    }
}

impl Setup {
    pub fn options(f: impl FnOnce(&mut Options) + 'static) -> Self {
        Self { options: Box::new(f), ..Self::default() }
    }
}

pub fn parse_config(text: &str) -> Config {
    config::parse(text, "celador.toml", None, &SourceMap::new()).expect("valid test configuration")
}

impl TestServer {
    pub async fn start(setup: Setup) -> Self {
        let ca = Ca::new("celador test CA");
        let leaf = ca.issue("celador-webhook", &[SERVICE_NAME], false);
        let volume = SecretVolume::new(&leaf);
        let client_ca = setup.client_ca.as_deref().map(|pem| volume.write("client-ca.crt", pem));
        let mut options = Options::new(TlsFiles { cert: volume.cert(), key: volume.key(), client_ca });
        options.listen = "127.0.0.1:0".parse().unwrap();
        options.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        options.reload_interval = Duration::from_millis(50);
        options.shutdown_grace = Duration::from_secs(2);
        (setup.options)(&mut options);
        let mut rules = match setup.pack {
            Some(pack) => {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(pack);
                let files = celador_engine::pack::read_pack_files(&path, pack).expect("the pack reads");
                load_pack(files, &SourceMap::new()).expect("the pack compiles").rules
            }
            None => rules(),
        };
        if !setup.extra_pack.is_empty() {
            let file = PackFile {
                relative: "extra.toml".into(),
                display: "extra.toml".into(),
                path: None,
                text: Arc::from(setup.extra_pack.as_str()),
            };
            rules.extend(load_pack(vec![file], &SourceMap::new()).expect("the test pack compiles").rules);
        }
        let policy = Policy::new(rules, parse_config(setup.config)).unwrap();
        let log = MemoryLog::default();
        let server = Server::bind(options, policy, Arc::new(log.clone())).await.unwrap();
        let addr = server.local_addr();
        let metrics_addr = server.metrics_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(async {
            let _ = rx.await;
        }));
        Self { addr, metrics_addr, ca, volume, log, shutdown: Some(tx), task: Some(task) }
    }

    /// A client trusting only this server's CA.
    pub fn client(&self) -> Client {
        Client::new(self.addr, &self.ca.pem, None)
    }

    /// Signals shutdown.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Signals shutdown and waits for the server to stop.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("server stops").unwrap().unwrap();
        }
    }

    /// The parsed log lines with `msg == "admission"`.
    pub fn admissions(&self) -> Vec<Value> {
        self.log
            .lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).expect("log lines are JSON"))
            .filter(|v| v["msg"] == "admission")
            .collect()
    }

    /// GET over plain HTTP on the metrics port.
    pub async fn metrics(&self) -> String {
        let stream = TcpStream::connect(self.metrics_addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let request = Request::get("/metrics").header("host", "localhost").body(Full::new(Bytes::new())).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    }
}

/// An HTTPS client.
pub struct Client {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
}

/// A response.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    /// Trusts `ca_pem` only; presents `identity` (certificate and key PEM) when given.
    pub fn new(addr: SocketAddr, ca_pem: &str, identity: Option<&Leaf>) -> Self {
        Self::with_alpn(addr, ca_pem, identity, &[b"http/1.1"])
    }

    pub fn with_alpn(addr: SocketAddr, ca_pem: &str, identity: Option<&Leaf>, alpn: &[&[u8]]) -> Self {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(leaf) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(leaf.der.clone())],
                    PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Self { addr, config: Arc::new(config) }
    }

    /// Opens a TLS connection, verifying the Service name.
    pub async fn connect(&self) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        TlsConnector::from(self.config.clone()).connect(ServerName::try_from(SERVICE_NAME).unwrap(), tcp).await
    }

    /// The certificate a new connection is served.
    pub async fn peer_certificate(&self) -> Vec<u8> {
        let stream = self.connect().await.unwrap();
        stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
    }

    /// Opens a connection that can carry several HTTP/1.1 requests.
    pub async fn open(&self) -> Result<Connection, String> {
        let stream = self.connect().await.map_err(|e| e.to_string())?;
        let certificate = stream.get_ref().1.peer_certificates().map(|c| c[0].to_vec()).unwrap_or_default();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Connection { sender, certificate })
    }

    pub async fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Result<Answer, String> {
        self.open().await?.post(path, body).await
    }

    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        self.open()
            .await?
            .send(Request::get(path).header("host", SERVICE_NAME).body(Full::new(Bytes::new())).unwrap())
            .await
    }

    /// POSTs over HTTP/2 (ALPN h2).
    pub async fn post_h2(&self, path: &str, body: impl Into<Vec<u8>>) -> Result<(Answer, Vec<u8>), String> {
        let stream = self.connect().await.map_err(|e| e.to_string())?;
        let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec).unwrap_or_default();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = Request::post(format!("https://{SERVICE_NAME}{path}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.into())))
            .unwrap();
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
        Ok((Answer { status, body }, alpn))
    }
}

/// One HTTP/1.1 connection.
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The certificate the server presented on this connection.
    pub certificate: Vec<u8>,
}

impl Connection {
    pub async fn post(&mut self, path: &str, body: impl Into<Vec<u8>>) -> Result<Answer, String> {
        let request = Request::post(path)
            .header("host", SERVICE_NAME)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.into())))
            .unwrap();
        self.send(request).await
    }

    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let response = self.sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes().to_vec();
        Ok(Answer { status, body })
    }
}

/// A fixture AdmissionReview.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn body(review: &Value) -> Vec<u8> {
    serde_json::to_vec(review).unwrap()
}
