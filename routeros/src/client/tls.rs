//! TLS for api-ssl: verified against a CA (or the web PKI roots), or pinned to one certificate.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

use super::TlsMode;
use crate::error::RouterError;

pub(super) async fn tls_connect(
    tcp: TcpStream,
    host: &str,
    mode: &TlsMode,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, RouterError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    let tls_err = |e: &dyn std::fmt::Display| RouterError::Tls(e.to_string());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?;
    let (config, name) = match mode {
        TlsMode::Plain => return Err(RouterError::Tls("plain mode has no TLS".into())),
        TlsMode::Verify {
            ca_pem,
            server_name,
        } => {
            let mut roots = rustls::RootCertStore::empty();
            match ca_pem {
                Some(pem) => {
                    for c in CertificateDer::pem_slice_iter(pem) {
                        roots
                            .add(c.map_err(|e| tls_err(&e))?)
                            .map_err(|e| tls_err(&e))?;
                    }
                    if roots.is_empty() {
                        return Err(RouterError::Tls("no CA certificate in ca_pem".into()));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let cfg = builder.with_root_certificates(roots).with_no_client_auth();
            (cfg, server_name.clone().unwrap_or_else(|| host.to_string()))
        }
        TlsMode::Pinned { sha256_fingerprint } => {
            let v = PinnedVerifier {
                fingerprint: *sha256_fingerprint,
                provider: provider.clone(),
            };
            let cfg = builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(v))
                .with_no_client_auth();
            (cfg, host.to_string())
        }
    };
    let name = ServerName::try_from(name).map_err(|e| tls_err(&e))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| RouterError::Tls(e.to_string()))
}

/// Accepts exactly one end-entity certificate, identified by the SHA-256 of its DER. Handshake
/// signatures are still verified with that certificate's key.
#[derive(Debug)]
struct PinnedVerifier {
    fingerprint: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use subtle::ConstantTimeEq;
        let got = Sha256::digest(end_entity.as_ref());
        if bool::from(got.as_slice().ct_eq(&self.fingerprint)) {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
