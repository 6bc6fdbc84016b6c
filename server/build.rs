//! The release binary carries the built app (`<workspace>/dist`, Trunk's output) inside it.
//!
//! On a fresh clone `dist/` does not exist yet: we create it empty, so the build still works and the
//! binary's pages say the app is not built (as `--static-dir` on a missing directory does). Cargo
//! rescans `dist/` on every build, so building the app (`trunk build --release`) and then the server
//! embeds the new app; `scripts/lib.sh` builds them in that order.

fn main() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = std::path::Path::new(&manifest).join("../dist");
    if let Err(err) = std::fs::create_dir_all(&dist) {
        println!(
            "cargo::warning=cannot create {}: {err}; the app is embedded only once it is built",
            dist.display()
        );
    }
    println!("cargo::rerun-if-changed=../dist");
}
