fn main() {
    println!("{}", demo_greet::greet("TUF"));
    println!("{}", demo_shout::shout("verified crates"));
}
