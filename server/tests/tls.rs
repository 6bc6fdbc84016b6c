//! HTTPS and WSS with the certificate made at start (`--tls-self-signed`): a client that trusts
//! exactly that certificate completes the handshake, sees the printed fingerprint, and joins.

mod common;

use std::sync::Arc;

use common::{next_msg, parse_response, start};
use meshcall_protocol::ServerMessage;
use meshcall_server::TlsSetup;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn connector(tls: &TlsSetup) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(tls.cert_der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn self_signed_tls_serves_https_and_wss() {
    let tls =
        Arc::new(TlsSetup::self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap());
    assert_eq!(tls.fingerprint.len(), 32 * 3 - 1, "{}", tls.fingerprint);
    let mut config = common::config();
    config.tls = Some(tls.clone());
    let server = start(config).await;
    let connector = connector(&tls);
    let name = ServerName::try_from("localhost").unwrap();

    // HTTPS: the handshake succeeds and the server shows the certificate whose fingerprint we print.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut stream = connector
        .connect(name.clone(), tcp)
        .await
        .expect("TLS handshake");
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    assert_eq!(
        meshcall_server::tls::fingerprint(&presented),
        tls.fingerprint
    );
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap_or_default();
    let (status, _, body) = parse_response(&raw);
    assert_eq!(status, 200);
    assert!(body.contains("ok"));

    // WSS: a room over the same certificate.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async("wss://localhost/ws/secure", stream)
        .await
        .unwrap();
    assert!(matches!(
        next_msg(&mut ws).await,
        ServerMessage::IdAssigned(_)
    ));

    // Plain HTTP to the TLS port gets nowhere.
    let plain = tokio_tungstenite::connect_async(server.url("secure")).await;
    assert!(plain.is_err());
}

/// Accepts any certificate (still checking the handshake signatures), so the test can compare what
/// the binary serves with the fingerprint it printed.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[tokio::test]
async fn the_binary_with_tls_self_signed_prints_the_fingerprint_it_serves() {
    let mut server = common::spawn_binary(&[("MESHCALL_TLS_SELF_SIGNED", "true")]).await;
    let line = server.line_with("fingerprint").await;
    let printed = line.rsplit(' ').next().unwrap().to_owned();
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let tcp = TcpStream::connect(&server.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake");
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    assert_eq!(meshcall_server::tls::fingerprint(&presented), printed);

    let (mut ws, _) = tokio_tungstenite::client_async("wss://localhost/ws/r", stream)
        .await
        .unwrap();
    assert!(matches!(
        next_msg(&mut ws).await,
        ServerMessage::IdAssigned(_)
    ));
    server.sigterm();
    assert_eq!(common::next_close(&mut ws).await.0, 1001);
    assert!(server.wait().await.success());
}
