//! `tessera`: serve Clerk's Backend API, and manage instances.

use clap::{Parser, Subcommand};

mod config;
mod metrics;
mod startup;
mod tls;

use config::{DatabaseArgs, ServeArgs};

/// mimalloc rather than glibc's malloc: see the reason beside the dependency in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Manage billing: the catalogue of plans, features and discounts, which payer types have billing, and how
    /// the local payment method settles charges.
    Billing {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The instance (`ins_…`); may be left out when the database holds exactly one.
        #[arg(long, global = true)]
        instance: Option<String>,
        #[command(subcommand)]
        action: BillingAction,
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

/// `tessera billing` subcommands.
#[derive(Debug, Subcommand)]
pub enum BillingAction {
    /// Apply a catalogue file (JSON: `billing`, `payments`, `features`, `plans`, `discounts`; entries matched by slug).
    Apply {
        /// The catalogue file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Enable billing for users or organizations: every existing and new payer gets the default (free) plan.
    Enable {
        /// `user` or `org`.
        #[arg(long)]
        payer_type: String,
    },
    /// Disable billing for users or organizations (subscriptions stay; new payers get none).
    Disable {
        /// `user` or `org`.
        #[arg(long)]
        payer_type: String,
    },
    /// How the local payment method settles what credits do not cover: `succeed` or `fail` (to test past-due flows).
    Payments {
        /// `succeed` or `fail`.
        outcome: String,
    },
    /// Print the switches, plans and discounts.
    Show,
    /// Run the billing clock once (what a server does every tick).
    Tick {
        /// Run it as if it were this time (RFC 3339, not before now), for the chosen development instance only:
        /// periods, trials and cancellations that end by then move as they will when that time comes. For tests
        /// of what happens at a period's end.
        #[arg(long)]
        at: Option<String>,
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
        Command::Billing { db, instance, action } => startup::billing(db, instance, action).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
