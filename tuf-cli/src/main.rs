//! `tuf`: the operator and key-holder command.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("tuf: not yet implemented");
    std::process::exit(2);
}
