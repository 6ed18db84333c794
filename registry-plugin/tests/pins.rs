//! One replacement URL per pinned registry and per pin (issue #11, item 1).
//!
//! Cargo names its caches `registry/{index,cache,src}/<host>-<hash of the URL>` and
//! trusts what is there: a `.crate` in `registry/cache` is not hashed again, a source
//! tree with `.cargo-ok` is not unpacked again. So two registries replaced by the same
//! URL share one cache, and a crate one of them put there is compiled for the other
//! without asking its verifying proxy. These tests use the real `cargo`.

// Helpers outside #[test] fns: a failure is a broken test setup.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::*;

/// The registry name of the second pin in these tests.
const OTHER: &str = "evilreg";

/// `registry.json` of the pin `name` in `home`, as JSON.
fn pin_file(home: &Path, name: &str) -> PathBuf {
    home.join("tuf").join(name).join("registry.json")
}

fn pinned_port(home: &Path, name: &str) -> u64 {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pin_file(home, name)).unwrap()).unwrap();
    json["port"].as_u64().unwrap()
}

/// A second project, sharing `user`'s `CARGO_HOME`, that depends on `deps` from
/// `registry` under the name [`OTHER`]; that registry pinned as [`OTHER`] with its own
/// root on a free port.
fn other_project(user: &User, registry: &Registry, deps: &[(&str, &str)]) -> PathBuf {
    let project = user.dir.path().join("other-app");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(project.join(".cargo")).unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"other-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n",
    );
    let mut main = String::from("fn main() {\n");
    for (name, req) in deps {
        manifest.push_str(&format!(
            "{name} = {{ version = \"{req}\", registry = \"{OTHER}\" }}\n"
        ));
        main.push_str(&format!("    println!(\"{{}}\", {name}::hello());\n"));
    }
    main.push_str("}\n");
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(project.join("src/main.rs"), main).unwrap();
    std::fs::write(
        project.join(".cargo/config.toml"),
        format!(
            "[registries.{OTHER}]\nindex = \"{}\"\n",
            registry.index_url()
        ),
    )
    .unwrap();
    let root = user.dir.path().join("other-root.json");
    std::fs::write(&root, registry.root_bytes_v1()).unwrap();
    let port = free_port().to_string();
    let out = cargo_tuf_in(
        user,
        &project,
        &[
            "tuf",
            "init",
            "--registry",
            OTHER,
            "--index-url",
            &registry.index_url(),
            "--metadata-url",
            &registry.metadata_url(),
            "--root",
            root.to_str().unwrap(),
            "--port",
            &port,
        ],
    );
    assert!(out.status.success(), "init {OTHER}: {}", text(&out));
    project
}

/// `cargo-tuf` with `args`, in `project`, with `user`'s `CARGO_HOME`.
fn cargo_tuf_in(user: &User, project: &Path, args: &[&str]) -> Output {
    clean_command(
        env!("CARGO_BIN_EXE_cargo-tuf"),
        &user.home(),
        &user.dir.path().join("target"),
    )
    .current_dir(project)
    .args(args)
    .output()
    .unwrap()
}

/// `cargo tuf run --registry NAME -- <cargo args>` in `project`.
fn run_registry(user: &User, project: &Path, name: &str, cargo_args: &[&str]) -> Output {
    let mut args = vec!["tuf", "run", "--registry", name, "--"];
    args.extend_from_slice(cargo_args);
    cargo_tuf_in(user, project, &args)
}

#[test]
fn a_crate_planted_through_a_registry_on_the_same_port_is_not_compiled_for_another() {
    let work = tempfile::tempdir().unwrap();
    let (victim, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    // Another pinned registry, its operator hostile: a validly signed `alpha 0.1.0` of
    // its own, with other content.
    let planted = package_crates_saying(work.path(), &[("alpha", "0.1.0")], |_, _| {
        "planted by evilreg".to_owned()
    });
    let mut hostile = Registry::new(Server::start());
    hostile.add(&planted[0], false);
    hostile.publish();

    let user = User::new(&victim, &[("alpha", "0.1")]);
    let port = free_port();
    user.init_with_port(&victim, port);
    let other = other_project(&user, &hostile, &[("alpha", "0.1")]);
    // Both pins on one port, as a name whose derived port collides (or an explicit
    // `--port`) left them before `init` refused that: edit the pin file.
    let file = pin_file(&user.home(), OTHER);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    json["port"] = serde_json::Value::from(port);
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();

    // Through the hostile registry, cargo downloads, unpacks and builds its alpha.
    let out = run_registry(&user, &other, OTHER, &["run", "-q"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "planted by evilreg\n");

    // Through the victim's registry, on the same port, cargo must not take the planted
    // crate from its caches: it downloads alpha through the victim's verifying proxy.
    victim.server.reset_counts();
    let out = run_registry(&user, &user.project(), REGISTRY, &["run", "-q"]);
    let all = text(&out);
    eprintln!("{all}");
    assert!(out.status.success(), "{all}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "alpha 0.1.0\n",
        "{all}"
    );
    assert_eq!(victim.server.count("crates/alpha/alpha-0.1.0.crate"), 1);
    // Each registry's copy sits in a cache folder of its own.
    let cached: Vec<PathBuf> = user
        .cached("alpha-0.1.0.crate")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("registry/cache"))
        .collect();
    assert_eq!(cached.len(), 2, "{cached:?}");
    assert_ne!(cached[0].parent(), cached[1].parent());
}

#[test]
fn init_force_gives_the_pin_a_new_url_so_cargo_caches_of_the_old_one_are_not_used() {
    let work = tempfile::tempdir().unwrap();
    let (registry, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    let user = User::new(&registry, &[("alpha", "0.1")]);
    let port = free_port();
    user.init_with_port(&registry, port);
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(registry.server.count("crates/alpha/alpha-0.1.0.crate"), 1);

    // The same pin again (no --force): the same URL, cargo's caches stay warm.
    user.init_with_port(&registry, port);
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(registry.server.count("crates/alpha/alpha-0.1.0.crate"), 1);

    // A new pin (--force: a new chain of trust) is a new URL: what cargo cached under
    // the old pin is not used, alpha comes again through the proxy.
    let port_arg = port.to_string();
    let out = user.try_init(
        &registry,
        &["--registry", REGISTRY, "--port", &port_arg, "--force"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = user.run(&["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(registry.server.count("crates/alpha/alpha-0.1.0.crate"), 2);
}

#[test]
fn init_keeps_pins_off_each_others_ports() {
    let registry = Registry::new(Server::start());
    let user = User::new(&registry, &[]);
    // `company4019`'s port derived from its name is `crates-io`'s.
    let out = user.try_init(&registry, &["--registry", "crates-io"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = user.try_init(&registry, &["--registry", "company4019"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let crates_io = pinned_port(&user.home(), "crates-io");
    let company = pinned_port(&user.home(), "company4019");
    assert_ne!(crates_io, company, "{all}");
    assert!(
        all.contains(&format!("port {crates_io}")) && all.contains("`crates-io`"),
        "the move is said: {all}"
    );
    // Pinning it again keeps the port it has.
    let out = user.try_init(&registry, &["--registry", "company4019"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(pinned_port(&user.home(), "company4019"), company);

    // An explicit port another pin uses is refused, naming that pin; nothing is pinned.
    let taken = crates_io.to_string();
    let out = user.try_init(&registry, &["--registry", "third", "--port", &taken]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("`crates-io`"), "{all}");
    assert!(all.contains("--port"), "{all}");
    assert!(!pin_file(&user.home(), "third").exists());
    // Port 0 (a free port each run) is never shared.
    let out = user.try_init(&registry, &["--registry", "third", "--port", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = user.try_init(&registry, &["--registry", "fourth", "--port", "0"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_proxy_answers_only_under_its_pins_prefix() {
    let work = tempfile::tempdir().unwrap();
    let (registry, _) = published_registry(work.path(), &[("alpha", "0.1.0")]);
    let user = User::new(&registry, &[]);
    user.init(&registry);
    let proxy = ProxyProcess::start(&user);
    let base = proxy.base.clone();
    let origin = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let get = |url: &str| {
        let response = reqwest::blocking::get(url).unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    };
    let ok = get(&format!("{base}{}", sparse_path("alpha")));
    let other_prefix = get(&format!("{origin}/{OTHER}/0/{}", sparse_path("alpha")));
    let no_prefix = get(&format!("{origin}/{}", sparse_path("alpha")));
    let config_without_prefix = get(&format!("{origin}/config.json"));
    drop(proxy);

    assert_eq!(ok.0, 200, "{}", ok.1);
    assert!(
        base.contains(&format!("/{REGISTRY}/")),
        "the URL names the registry: {base}"
    );
    // Any other prefix: a refusal that says why (a 404 would be an authenticated "no
    // such crate", which cargo caches).
    for (status, body) in [other_prefix, no_prefix, config_without_prefix] {
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("cargo-tuf refused"), "{body}");
        assert!(body.contains(&format!("`{REGISTRY}`")), "{body}");
    }
}
