//! The command line: `serve`, `token create|list|revoke`, `backup`, `openapi`.

use std::net::TcpListener;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{self, AppState};
use crate::config::Config;
use crate::db::Db;
use crate::{openapi, seed, tokens};

#[derive(Debug, Parser)]
#[command(name = "rush-api", version, about = "RUSH programs, initiatives and events as a JSON REST API.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). Creates and migrates the database if needed; an empty
    /// database gets the bundled dataset.
    Serve {
        /// Do not load the bundled dataset into an empty database.
        #[arg(long)]
        no_seed: bool,
    },
    /// Manage write tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Write a consistent, integrity-checked copy of the database to PATH while the service
    /// keeps serving.
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// Print the OpenAPI document (the same bytes as GET /openapi.json).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a write token and print it, alone, as the last line of stdout. Only its hash is
    /// stored: it cannot be shown again.
    Create {
        /// A unique name for the token, e.g. the integration that will use it.
        #[arg(long)]
        name: String,
    },
    /// List token names and creation times (never the tokens).
    List,
    /// Revoke the token named NAME, effective at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// How a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    /// Bad configuration or arguments: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Runtime(String),
}

/// The database named by DATABASE_URL cannot be used: a configuration problem (exit 2).
fn database_error(error: impl std::fmt::Display) -> Failure {
    Failure::Usage(format!("DATABASE_URL: {error}"))
}

fn runtime(error: impl std::fmt::Display) -> Failure {
    Failure::Runtime(error.to_string())
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let command = cli.command.unwrap_or(Command::Serve { no_seed: false });
    if let Command::Openapi = command {
        print!("{}", openapi::spec_json());
        return Ok(());
    }
    let config = Config::from_env().map_err(|error| Failure::Usage(error.to_string()))?;
    actix_web::rt::System::new().block_on(async move {
        match command {
            Command::Serve { no_seed } => serve(config, no_seed).await,
            Command::Token { action } => token(config, action).await,
            Command::Backup { path } => backup(config, path).await,
            Command::Openapi => Ok(()),
        }
    })
}

async fn serve(config: Config, no_seed: bool) -> Result<(), Failure> {
    let db = Db::open(&config.database_path).map_err(database_error)?;
    if !no_seed {
        match seed::load_if_empty(&db).await.map_err(runtime)? {
            Some(loaded) => log::info!(
                "loaded the bundled dataset: {} programs, {} initiatives, {} events",
                loaded.programs,
                loaded.initiatives,
                loaded.events
            ),
            None => log::info!("the database already has data; the bundled dataset was not loaded"),
        }
    }
    let listener = TcpListener::bind(config.bind_address)
        .map_err(|error| runtime(format!("cannot listen on {}: {error}", config.bind_address)))?;
    let address = listener.local_addr().map_err(runtime)?;
    log::info!("listening on http://{address}");
    let state = AppState::new(db, config.cors_origins).with_rate_limits(&config.rate_limits);
    app::run(listener, state).await.map_err(runtime)?;
    log::info!("stopped");
    Ok(())
}

async fn token(config: Config, action: TokenCommand) -> Result<(), Failure> {
    let db = Db::open(&config.database_path).map_err(database_error)?;
    match action {
        TokenCommand::Create { name } => {
            let length = name.chars().count();
            if !(1..=100).contains(&length) || name.chars().any(char::is_control) {
                return Err(Failure::Usage("--name must be 1 to 100 characters without control characters".to_owned()));
            }
            let secret = tokens::generate().map_err(runtime)?;
            let stored = secret.clone();
            let created_name = name.clone();
            let created =
                db.write(move |conn, now| tokens::create(conn, &created_name, &stored, now)).await.map_err(runtime)?;
            if !created {
                return Err(Failure::Usage(format!(
                    "a token named '{name}' already exists; revoke it first or pick another name"
                )));
            }
            println!("Created token '{name}'. It is shown only this once; store it now:");
            println!("{secret}");
        }
        TokenCommand::List => {
            let list = db.read(tokens::list).await.map_err(runtime)?;
            for token in list {
                println!("{}\t{}", token.name, crate::clock::format_micros(token.created_at));
            }
        }
        TokenCommand::Revoke { name } => {
            let revoked_name = name.clone();
            let revoked = db.write(move |conn, _now| tokens::revoke(conn, &revoked_name)).await.map_err(runtime)?;
            if !revoked {
                return Err(Failure::Runtime(format!("there is no token named '{name}'")));
            }
            println!("Revoked token '{name}'.");
        }
    }
    Ok(())
}

async fn backup(config: Config, path: PathBuf) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure::Usage(format!("{} already exists; give a new path", path.display())));
    }
    let db = Db::open(&config.database_path).map_err(database_error)?;
    let target = path.to_string_lossy().into_owned();
    db.backup_to(target).await.map_err(runtime)?;
    println!("Wrote a consistent copy of {} to {}.", config.database_path, path.display());
    Ok(())
}
