//! A louder greeting, built on `demo-greet` (a dependency resolved through the registry).

/// `HELLO, NAME!`
pub fn shout(name: &str) -> String {
    demo_greet::greet(name).to_uppercase()
}
