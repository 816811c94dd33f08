//! Certificates and keys for a local control plane, generated fresh for every bed: a CA, the API
//! server's serving certificate, an admin client certificate and the service-account key pair.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

/// PEM text of everything the control plane and its clients need.
pub struct Pki {
    pub ca_cert: String,
    pub serving_cert: String,
    pub serving_key: String,
    /// Client certificate for `admin`, group `system:masters`: allowed everything, whatever RBAC
    /// says, as the admin credentials of a real cluster are.
    pub admin_cert: String,
    pub admin_key: String,
    /// Signs service-account tokens (kube-apiserver, kube-controller-manager).
    pub service_account_key: String,
    /// Verifies service-account tokens (kube-apiserver).
    pub service_account_public_key: String,
}

/// Where [`Pki::write_to`] put each file.
#[derive(Debug, Clone)]
pub struct PkiFiles {
    pub ca_cert: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    pub admin_cert: PathBuf,
    pub admin_key: PathBuf,
    pub service_account_key: PathBuf,
    pub service_account_public_key: PathBuf,
}

impl Pki {
    /// Generates ECDSA P-256 keys and certificates. The serving certificate names 127.0.0.1,
    /// localhost and the in-cluster names of the `kubernetes` service, so clients may use any.
    pub fn generate() -> Result<Pki> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name = name("cwo-bed-ca", None);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)
            .context("generating the CA")?;

        let mut serving = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
            "kubernetes.default.svc.cluster.local".to_string(),
        ])?;
        serving.distinguished_name = name("kube-apiserver", None);
        serving.key_usages = leaf_key_usages();
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let serving_key = KeyPair::generate()?;
        let serving_cert = serving
            .signed_by(&serving_key, &ca)
            .context("signing the serving certificate")?;

        let mut admin = CertificateParams::new(Vec::<String>::new())?;
        admin.distinguished_name = name("admin", Some("system:masters"));
        admin.key_usages = leaf_key_usages();
        admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let admin_key = KeyPair::generate()?;
        let admin_cert = admin
            .signed_by(&admin_key, &ca)
            .context("signing the admin certificate")?;

        let service_account = KeyPair::generate()?;

        Ok(Pki {
            ca_cert: ca.pem(),
            serving_cert: serving_cert.pem(),
            serving_key: serving_key.serialize_pem(),
            admin_cert: admin_cert.pem(),
            admin_key: admin_key.serialize_pem(),
            service_account_key: service_account.serialize_pem(),
            service_account_public_key: service_account.public_key_pem(),
        })
    }

    /// Writes every file into `dir` (private keys readable by the owner only).
    pub fn write_to(&self, dir: &Path) -> Result<PkiFiles> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let write = |file: &str, pem: &str| -> Result<PathBuf> {
            let path = dir.join(file);
            fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
            if file.ends_with(".key") {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            }
            Ok(path)
        };
        Ok(PkiFiles {
            ca_cert: write("ca.crt", &self.ca_cert)?,
            serving_cert: write("apiserver.crt", &self.serving_cert)?,
            serving_key: write("apiserver.key", &self.serving_key)?,
            admin_cert: write("admin.crt", &self.admin_cert)?,
            admin_key: write("admin.key", &self.admin_key)?,
            service_account_key: write("service-account.key", &self.service_account_key)?,
            service_account_public_key: write(
                "service-account.pub",
                &self.service_account_public_key,
            )?,
        })
    }
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

fn leaf_key_usages() -> Vec<KeyUsagePurpose> {
    vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pem_has_the_expected_blocks() {
        let pki = Pki::generate().unwrap();
        assert!(pki.ca_cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.admin_key.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(
            pki.service_account_public_key
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        assert_ne!(pki.serving_key, pki.admin_key);
    }

    #[test]
    fn write_to_makes_private_keys_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = Pki::generate().unwrap().write_to(dir.path()).unwrap();
        let mode = fs::metadata(&files.admin_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
