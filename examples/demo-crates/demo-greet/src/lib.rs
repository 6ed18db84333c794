//! A greeting, served from the demo registry.

/// `Hello, NAME!`
pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}
