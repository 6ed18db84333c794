//! SoftHSM2 for the PKCS#11 tests: a private token directory per test (through
//! `SOFTHSM2_CONF`), tokens made with `softhsm2-util`, and the module's path.
//!
//! SoftHSM2 is a real PKCS#11 implementation (Debian package `softhsm2`; `.ci/run`
//! installs it). Without it these tests fail, naming the package: they are never skipped.
// Test helpers panic on failure, as the tests that call them do.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The user PIN of every test token, passed to `tuf` through `TUF_TEST_PIN`.
pub const PIN: &str = "246810";
/// The security officer PIN of every test token.
pub const SO_PIN: &str = "13579135";

/// Where distributions put the SoftHSM2 module.
const MODULE_CANDIDATES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

/// A SoftHSM2 whose tokens live in a temporary directory of their own.
pub struct SoftHsm {
    dir: tempfile::TempDir,
    /// The `SOFTHSM2_CONF` file.
    pub conf: PathBuf,
    /// The PKCS#11 module.
    pub module: PathBuf,
}

impl SoftHsm {
    pub fn new() -> Self {
        let module = module();
        let util = Command::new("softhsm2-util").arg("--version").output();
        if !util.is_ok_and(|o| o.status.success()) {
            panic!(
                "softhsm2-util is not installed: the PKCS#11 tests need SoftHSM2 \
                 (`apt-get install softhsm2`; .ci/run installs it)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        Self { dir, conf, module }
    }

    /// `softhsm2-util ARGS` with this SoftHSM's configuration; must succeed.
    fn util(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &self.conf)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new token labelled `label` with user PIN [`PIN`].
    pub fn init_token(&self, label: &str) {
        self.util(&[
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ]);
    }

    /// Import the unencrypted PKCS#8 PEM key `pem` into `token` as a key pair labelled
    /// `object` with id `id_hex` (private and public key objects).
    pub fn import(&self, pem: &Path, token: &str, object: &str, id_hex: &str) {
        self.util(&[
            "--import",
            pem.to_str().unwrap(),
            "--token",
            token,
            "--label",
            object,
            "--id",
            id_hex,
            "--pin",
            PIN,
        ]);
    }

    /// Import one of the fixed keys below (written to a file in the token directory).
    pub fn import_pem_text(&self, pem: &str, token: &str, object: &str, id_hex: &str) {
        let path = self.dir.path().join(format!("{object}.pem"));
        std::fs::write(&path, pem).unwrap();
        self.import(&path, token, object, id_hex);
    }

    /// The URI of `object` on `token`, with this module's path.
    pub fn uri(&self, token: &str, object: &str) -> String {
        format!(
            "pkcs11:token={token};object={object}?module-path={}",
            self.module.display()
        )
    }

    /// Point `cmd` at this SoftHSM (and give it the PIN variable).
    pub fn env<'a>(&self, cmd: &'a mut assert_cmd::Command) -> &'a mut assert_cmd::Command {
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .env("TUF_TEST_PIN", PIN)
            .env("TUF_TEST_WRONG_PIN", "999999")
            .env_remove("TUF_PKCS11_MODULE")
    }
}

/// The SoftHSM2 module: `TUF_TEST_SOFTHSM2_MODULE` if set, else the first of the usual
/// places that exists.
pub fn module() -> PathBuf {
    if let Some(path) = std::env::var_os("TUF_TEST_SOFTHSM2_MODULE") {
        return PathBuf::from(path);
    }
    MODULE_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the SoftHSM2 PKCS#11 module (libsofthsm2.so) is not installed: the PKCS#11 \
                 tests need it (`apt-get install softhsm2`; .ci/run installs it), or set \
                 TUF_TEST_SOFTHSM2_MODULE to its path. Looked in {MODULE_CANDIDATES:?}"
            )
        })
}

/// A throwaway RSA-2048 key (PKCS#8), only ever used to check that a token key TUF
/// cannot sign with is refused.
pub const RSA_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCXWtvzWYSQ5J19
IBaGQz/l+V6ubHGHJMp3pq8whBMaDXgJDzBwwhfUeYq99BPI9SbWfV1soJzcUlE4
s1GqGqcY0ZwF0lfkOPoL3AkV28JxAcaMYnEL/sZfP+dMa1lIOJ/XdLnpG7Ocru5P
MzQh8WjbbLVWyPy4/Mw3nrsAcRp+x1JAm1Cib2SAbSG+JtjYl63oepa7h8h+n3go
eqM2bfYsG08Sq83jQzA/eh7CDTvvthfVvPjwpTuzP27fkLY7Hgn3inIwSGGyd/8f
M0octOiqUFxh6LgytoJx/IckpKE7yjPor1smbCIdrKqxo3u33gHhGlfHADKyRbIw
/kcldagpAgMBAAECggEACbRDDR2kn4Kc613FkUWvYOAbIeKk6Rs4L7GRosdxDxb6
fCrhD6Bjf+rBX8T4s3DZFOBUVLI75G9oXZLiY0joBPIZh2ZcCW9dbtRkhmYrl8HF
+GXDuuxn98mZ2584Cfv2xE0WXLu7NB+jer39Hh5Y5gADZMVTA3b9OVAKzDA0Q0O3
PlLrhJtwioDJQH0Mgxn9lDIi6q4QfJOed3qzEjZ5nSDsax49gbmDuSXh1q90Djmx
vN6lwPqgKMjUywqqrWCNbVmSOFK5jgJsZwUEEjMRZpgJqKuFK0heFp3DDFDeMh++
MwURpAvUwn4uctGA1UIP/I3k8I+Qgec5biLqUwtvhQKBgQDNtrD/Ag/ifkmorpDf
aAvIPiD1u/KGA59cNfAYHRmnA9726U+fWApJtn5NVf09b91We4Aitwx44LnO+Jjz
7d4lFmHBBy9LRA/EjL0S0uiIp6782FPwy4rpFmgmAA+yNnfu3fWoSaacACFtZgm/
kDwscNAU0/bYd737Ru8vw7PaVQKBgQC8WnclPw8NkI4i5EfVX476Yjev4qPTZCHN
iqowyzNuP240BUXdm5BhmREAFMZ6oes1ICcuRgr3Q3oKBTBYNtNUBvKRAkra7y7G
91PQPdVa9Xq/MQv+I/ktNRrN+tvO/XxzTuoDIjeXcvLR4qKvzoazy8vAgzgon21r
o+s1ir5ShQKBgEj+tamXOrm85DhF0URk8CFa4mkwCuvA51BaF1sHIG4iMoDc4xMA
s43agtDAXX7qbdjdM+edmoBeBbDKh8OuuS/h1EghW4fSm+G7qu++BSNQlQhFXuvH
3f+9orExPmCXcVFCU4QmtkcOyM2/8l+WN7PxR/TMDgBb5P7/+amyQOSNAoGBALNV
s0GMY8m3jA2equJ3BIxTfdACi5dXLHQmhdrFbqeWz1fKeXYBixvSAITCQyQ6DNfd
UFDXsdMxtP3baOdk9Bt6LfRxaVJBD5mznWKVrRHYztFBYrjMCZDIkkfyhNz1L0we
o+Lt7l5NvPKnxdx8WHbSIKKgjZToDufA/89P1dx9AoGAeHj7qzepDNVdEpfKflXL
M/g9/nyA3IERo0sel4/ehgCq4NRw7cITSYcQ5EZ0yLJo78q/W/PxDXEq2cu3iVD+
06v+oKj4a+C3TLJFxsLfbz+s+GCDkg+h5fJjGhL8taKC2NCzRZtcIsX5IEaX94UZ
R1wqGKgtzxw1Sq3oxZ+8Z2o=
-----END PRIVATE KEY-----
";

/// A throwaway ECDSA P-384 key (PKCS#8), only ever used to check that a curve other than
/// P-256 is refused.
pub const P384_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCzZdZCHW8kOxuhw6z5
1t4T1dlpiKUiqpvG066Ys9PB8BIrosSGJ8maP/PgJYDyC22hZANiAARnan5+all7
6Q7HhHLJCvANVLp/tEv+XwED2JwKMahFYuxA8KFexOXEjekK3HKf1gZKMNiEvA2c
SP6i/c+zYQvazHEZXktJ5MNUioh8G7ZNnPcArxXgLu4roSgmTV2ckYs=
-----END PRIVATE KEY-----
";
