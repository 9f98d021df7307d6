// The browser client is embedded with include_dir!, which cannot tell Cargo about the files it reads:
// rebuild when anything under assets/web changes (Cargo scans a directory recursively).
fn main() {
    println!("cargo:rerun-if-changed=../assets/web");
}
