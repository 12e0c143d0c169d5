//! The simulated cluster's certificates, made at start as kubeadm and kind make a cluster's:
//! a CA, a serving certificate it signs (IP SAN 127.0.0.1, DNS SANs `localhost`,
//! `kubernetes`, `kubernetes.default.svc`), and the admin's client certificate (CN
//! `kubernetes-admin`, O `system:masters`); and the TLS server configuration that serves
//! them and verifies client certificates against the CA.
//!
//! It owns the keys and the read-only user's token (kept with them in `--pki-dir`): nothing
//! else sees a private key but the kubeconfig of the admin's certificate. It must not know
//! HTTP or decide who may do what (`api::auth` does).

use crate::api::auth::User;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The names the serving certificate is valid for, as a kubeadm cluster's (less the
/// in-cluster service IP and the node's names, which a simulated cluster has not).
pub const SERVING_NAMES: [&str; 4] = [
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default.svc",
];

/// The admin's certificate subject, as kubeadm and kind write it.
pub const ADMIN_USER: &str = "kubernetes-admin";
pub const ADMIN_GROUP: &str = "system:masters";

/// What the serving certificate is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ServingCert {
    /// Signed by the cluster's CA, which clients trust (kubeadm, kind).
    #[default]
    CaSigned,
    /// Self-signed and marked as a CA, and trusted as its own CA: what some installers
    /// write. kubectl accepts it; rustls refuses a CA certificate as the server's own
    /// (`CaUsedAsEndEntity`).
    SelfSigned,
}

/// A certificate and its key, PEM-encoded.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl Pem {
    /// The certificate as a kubeconfig's `*-data` fields hold it: base64 of the PEM text.
    pub fn cert_data(&self) -> String {
        base64_data(&self.cert)
    }

    pub fn key_data(&self) -> String {
        base64_data(&self.key)
    }
}

fn base64_data(pem: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(pem)
}

/// The cluster's certificates and the TLS configuration that serves them.
#[derive(Clone)]
pub struct Certificates {
    /// What clients trust: the CA, or the self-signed serving certificate itself.
    pub trusted: String,
    /// The admin's client certificate.
    pub admin: Pem,
    /// The read-only user's bearer token.
    pub viewer_token: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// What a kept PKI directory holds, and what [`Certificates`] are made from: PEM texts.
struct Material {
    /// The CA client certificates are verified against.
    ca: String,
    trusted: String,
    serving: Pem,
    admin: Pem,
    viewer_token: String,
}

/// The files of a PKI directory, named as kubeadm names its own where there is one.
const CA_FILE: &str = "ca.crt";
const TRUSTED_FILE: &str = "trusted.crt";
const SERVING_FILES: (&str, &str) = ("apiserver.crt", "apiserver.key");
const ADMIN_FILES: (&str, &str) = ("admin.crt", "admin.key");
const TOKEN_FILE: &str = "viewer.token";

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Certificates { .. }")
    }
}

/// Why the certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot set up client certificate verification: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate or key")]
    Pem { path: PathBuf },
}

/// A subject with a common name and organizations.
fn subject(common_name: &str, organizations: &[&str]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for organization in organizations {
        name.push(DnType::OrganizationName, *organization);
    }
    name.push(DnType::CommonName, common_name);
    name
}

fn ca_params(common_name: &str, names: &[&str]) -> Result<CertificateParams, rcgen::Error> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
    params.distinguished_name = subject(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    Ok(params)
}

fn leaf_params(
    common_name: &str,
    organizations: &[&str],
    names: &[&str],
    purpose: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
    params.distinguished_name = subject(common_name, organizations);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

impl Material {
    /// A new CA and the certificates of `shape`.
    fn generate(shape: ServingCert) -> Result<Material, TlsError> {
        let ca = CertifiedIssuer::self_signed(ca_params("kubernetes", &[])?, KeyPair::generate()?)?;
        let admin_key = KeyPair::generate()?;
        let admin = leaf_params(
            ADMIN_USER,
            &[ADMIN_GROUP],
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?
        .signed_by(&admin_key, &ca)?;
        let serving_key = KeyPair::generate()?;
        let serving = match shape {
            ServingCert::CaSigned => leaf_params(
                "kube-apiserver",
                &[],
                &SERVING_NAMES,
                ExtendedKeyUsagePurpose::ServerAuth,
            )?
            .signed_by(&serving_key, &ca)?,
            ServingCert::SelfSigned => {
                let mut params = ca_params("kube-apiserver", &SERVING_NAMES)?;
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                params.self_signed(&serving_key)?
            }
        };
        let trusted = match shape {
            ServingCert::CaSigned => ca.pem(),
            ServingCert::SelfSigned => serving.pem(),
        };
        Ok(Material {
            ca: ca.pem(),
            trusted,
            serving: Pem {
                cert: serving.pem(),
                key: serving_key.serialize_pem(),
            },
            admin: Pem {
                cert: admin.pem(),
                key: admin_key.serialize_pem(),
            },
            viewer_token: random_token(),
        })
    }

    fn files(&self) -> [(&str, &str); 7] {
        [
            (CA_FILE, &self.ca),
            (TRUSTED_FILE, &self.trusted),
            (SERVING_FILES.0, &self.serving.cert),
            (SERVING_FILES.1, &self.serving.key),
            (ADMIN_FILES.0, &self.admin.cert),
            (ADMIN_FILES.1, &self.admin.key),
            (TOKEN_FILE, &self.viewer_token),
        ]
    }

    fn read(dir: &Path) -> Result<Material, TlsError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| TlsError::File { path, source })
        };
        let pem = |(cert, key): (&str, &str)| -> Result<Pem, TlsError> {
            Ok(Pem {
                cert: read(cert)?,
                key: read(key)?,
            })
        };
        Ok(Material {
            ca: read(CA_FILE)?,
            trusted: read(TRUSTED_FILE)?,
            serving: pem(SERVING_FILES)?,
            admin: pem(ADMIN_FILES)?,
            viewer_token: read(TOKEN_FILE)?.trim().to_owned(),
        })
    }

    /// Writes every file readable by its owner only (the keys are the cluster's).
    fn write(&self, dir: &Path) -> Result<(), TlsError> {
        let failed = |path: PathBuf| move |source| TlsError::File { path, source };
        std::fs::create_dir_all(dir).map_err(failed(dir.to_owned()))?;
        for (name, text) in self.files() {
            let path = dir.join(name);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut file| file.write_all(text.as_bytes()))
                .map_err(failed(path))?;
        }
        Ok(())
    }
}

/// 24 random bytes in hex, as a static token file's tokens look.
fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// The first certificate of a PEM text.
fn cert_der(dir: &Path, pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|_| TlsError::Pem {
        path: dir.to_owned(),
    })
}

/// The private key of a PEM text.
fn key_der(dir: &Path, pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| TlsError::Pem {
        path: dir.to_owned(),
    })
}

impl Certificates {
    /// Makes a new CA and the certificates of `shape`.
    pub fn generate(shape: ServingCert) -> Result<Certificates, TlsError> {
        Certificates::from_material(Material::generate(shape)?, Path::new("."))
    }

    /// The certificates kept in `dir`, made there (of `shape`) if it holds none yet: a
    /// cluster restarted on the same directory keeps its CA and credentials, so that its
    /// clients go on trusting it, as a real cluster keeps `/etc/kubernetes/pki`.
    pub fn kept_in(dir: &Path, shape: ServingCert) -> Result<Certificates, TlsError> {
        let material = if dir.join(CA_FILE).exists() {
            Material::read(dir)?
        } else {
            let made = Material::generate(shape)?;
            made.write(dir)?;
            made
        };
        Certificates::from_material(material, dir)
    }

    fn from_material(material: Material, dir: &Path) -> Result<Certificates, TlsError> {
        let server = server_config(
            cert_der(dir, &material.ca)?,
            cert_der(dir, &material.serving.cert)?,
            key_der(dir, &material.serving.key)?,
        )?;
        Ok(Certificates {
            trusted: material.trusted,
            admin: material.admin,
            viewer_token: material.viewer_token,
            server,
        })
    }

    /// The CA data of a kubeconfig's cluster entry.
    pub fn trusted_data(&self) -> String {
        base64_data(&self.trusted)
    }
}

/// TLS 1.2 and 1.3 with the ring provider (the one kube-rs uses), HTTP/2 and HTTP/1.1 by
/// ALPN as kube-apiserver offers them, and client certificates verified against the CA but
/// not required: a request may carry a token instead, or nothing (`api::auth` decides).
fn server_config(
    ca: CertificateDer<'static>,
    serving: CertificateDer<'static>,
    serving_key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![serving], serving_key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The user a verified client certificate names: its common name, and its organizations as
/// groups, as kube-apiserver reads them. None when the certificate cannot be parsed (it was
/// verified against the CA, so that does not happen for certificates the CA signed).
pub fn certificate_user(der: &CertificateDer<'_>) -> Option<User> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_owned))
        .collect();
    Some(User::authenticated(name, groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_certificate_names_the_admin_in_system_masters() {
        let certs = Certificates::generate(ServingCert::CaSigned).unwrap();
        let der =
            rustls::pki_types::pem::PemObject::from_pem_slice(certs.admin.cert.as_bytes()).unwrap();
        let user = certificate_user(&der).unwrap();
        assert_eq!(user.name, ADMIN_USER);
        assert!(user.groups.iter().any(|g| g == ADMIN_GROUP), "{user:?}");
        assert!(
            user.groups.iter().any(|g| g == "system:authenticated"),
            "{user:?}"
        );
    }

    #[test]
    fn a_kept_directory_gives_back_the_same_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        let made = Certificates::kept_in(&pki, ServingCert::CaSigned).unwrap();
        let again = Certificates::kept_in(&pki, ServingCert::CaSigned).unwrap();
        assert_eq!(made.trusted, again.trusted);
        assert_eq!(made.admin.cert, again.admin.cert);
        let key = pki.join(ADMIN_FILES.1);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(key).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        let other = Certificates::generate(ServingCert::CaSigned).unwrap();
        assert_ne!(made.trusted, other.trusted);
    }

    #[test]
    fn the_self_signed_shape_trusts_its_serving_certificate_itself() {
        let signed = Certificates::generate(ServingCert::CaSigned).unwrap();
        let own = Certificates::generate(ServingCert::SelfSigned).unwrap();
        for certs in [&signed, &own] {
            assert!(certs.trusted.starts_with("-----BEGIN CERTIFICATE-----"));
            assert!(certs.admin.key.contains("PRIVATE KEY"));
        }
        let parse = |pem: &str| {
            let der: CertificateDer<'_> =
                rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
            (
                cert.subject().to_string(),
                cert.is_ca(),
                cert.subject_alternative_name()
                    .unwrap()
                    .map(|san| san.value.general_names.len()),
            )
        };
        assert_eq!(parse(&signed.trusted), ("CN=kubernetes".into(), true, None));
        assert_eq!(
            parse(&own.trusted),
            ("CN=kube-apiserver".into(), true, Some(SERVING_NAMES.len()))
        );
    }
}
