//! `tessera`: serve Clerk's Backend API, and manage instances.

use clap::{Parser, Subcommand};

mod config;
mod metrics;
mod startup;

use config::{DatabaseArgs, ServeArgs};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "A self-hostable server implementing Clerk's Backend API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Backend and Frontend APIs (and clerk-js, when its directories are configured).
    Serve(Box<ServeArgs>),
    /// Manage instances.
    Instance {
        #[command(subcommand)]
        command: InstanceCommand,
    },
    /// Manage an instance's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print the messages captured for development instances (verification codes, invitations), newest first.
    Outbox {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Only this instance's messages.
        #[arg(long)]
        instance: Option<String>,
        /// How many messages.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
enum InstanceCommand {
    /// Create an instance and print its keys (the secret key is shown only once).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The instance's environment.
        #[arg(long, value_enum, default_value = "development")]
        environment: config::EnvironmentArg,
    },
    /// List instances.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Add a new active signing key; the previous keys stay in the JWKS (verify-only), so tokens signed with them
    /// keep verifying until they expire. Prints the new key id.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The instance (`ins_…`); may be left out when the database holds exactly one.
        #[arg(long)]
        instance: Option<String>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    startup::init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => startup::serve(*args).await,
        Command::Instance { command: InstanceCommand::Create { db, environment } } => {
            startup::instance_create(db, environment.into()).await
        }
        Command::Instance { command: InstanceCommand::List { db } } => startup::instance_list(db).await,
        Command::Keys { command: KeysCommand::Rotate { db, instance } } => startup::keys_rotate(db, instance).await,
        Command::Outbox { db, instance, limit } => startup::outbox(db, instance, limit).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
