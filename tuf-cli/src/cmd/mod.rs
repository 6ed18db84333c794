//! One module per subcommand, each with its clap `Args` and a `run()`.

pub mod feeds;
pub mod init;
pub mod key;
pub mod publish;
pub mod root;
pub mod sign;
pub mod status;
pub mod store;
pub mod summary;
pub mod targets;
pub mod verify;
