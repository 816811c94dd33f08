//! The kubeconfig file a local bed writes for kubectl, helm, kube-rs and people.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::pki::Pki;

/// Cluster, user and context name in the kubeconfig of a local bed.
pub const CONTEXT: &str = "cwo-bed";

/// Writes a self-contained kubeconfig (certificates embedded) for the admin user.
pub fn write(path: &Path, server: &str, pki: &Pki) -> Result<()> {
    let text = render(server, pki);
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    Ok(())
}

fn render(server: &str, pki: &Pki) -> String {
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": CONTEXT,
            "cluster": {
                "server": server,
                "certificate-authority-data": base64(pki.ca_cert.as_bytes()),
            },
        }],
        "users": [{
            "name": CONTEXT,
            "user": {
                "client-certificate-data": base64(pki.admin_cert.as_bytes()),
                "client-key-data": base64(pki.admin_key.as_bytes()),
            },
        }],
        "contexts": [{
            "name": CONTEXT,
            "context": { "cluster": CONTEXT, "user": CONTEXT, "namespace": "default" },
        }],
        "current-context": CONTEXT,
    });
    serde_yaml::to_string(&config).expect("a JSON value always serializes to YAML")
}

/// Standard base64 with padding, as kubeconfig's `*-data` fields expect.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn rendered_kubeconfig_parses_with_kube_rs() {
        let pki = Pki::generate().unwrap();
        let text = render("https://127.0.0.1:6443", &pki);
        let kc = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some(CONTEXT));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
    }
}
