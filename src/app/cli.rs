//! The command line: `serve`, `token create|list|revoke`, `backup`, `openapi`.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::app::config::Config;
use crate::app::openapi;
use crate::app::server;
use crate::base::wire::WireEnum;
use crate::db::{Db, Location};
use crate::domain::dataset;
use crate::domain::resources;
use crate::domain::tokens;
use crate::domain::tokens::Scope;
use crate::endpoints::state::AppState;

fn parse_scope(text: &str) -> Result<Scope, String> {
    Scope::parse(text).ok_or_else(|| format!("'{text}' is not a scope; the scopes are content and requests"))
}

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
    /// keeps serving. The copy is readable by its owner only (mode 0600).
    Backup {
        /// Where to write the copy: a new file (nothing there yet, not even a symbolic link), a
        /// UTF-8 path, not a `file:` URI.
        path: PathBuf,
    },
    /// Print the OpenAPI document (the same bytes as GET /openapi.json).
    Openapi,
    /// Copy everything (records and their ids, id sequences, tokens, tombstones, idempotency
    /// records, event requests) from the database FROM into the empty database TO, and check the
    /// copy's counts. Run it while nothing writes to FROM.
    CopyDatabase {
        /// The source database (a DATABASE_URL value).
        #[arg(long)]
        from: String,
        /// The target database: a new file, or a database with no data.
        #[arg(long)]
        to: String,
    },
    /// Manage community event requests.
    Requests {
        #[command(subcommand)]
        action: RequestsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Erase now the contact details of every event request whose event ended more than
    /// EVENT_REQUEST_RETENTION_DAYS ago (`serve` does it at start and every 24 hours), and print
    /// how many.
    Purge,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a write token and print it, alone, as the last line of stdout. Only its hash is
    /// stored: it cannot be shown again.
    Create {
        /// A unique name for the token, e.g. the integration that will use it.
        #[arg(long)]
        name: String,
        /// What the token may do; repeat for several: `content` (writes to programs,
        /// initiatives, events and metrics) and `requests` (reading and managing event
        /// requests). Default: `content`.
        #[arg(long = "scope", value_name = "SCOPE", value_parser = parse_scope)]
        scopes: Vec<Scope>,
    },
    /// List token names, scopes and creation times (never the tokens).
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
    if let Command::CopyDatabase { from, to } = &command {
        return copy_database(from, to, config.pool_size);
    }
    actix_web::rt::System::new().block_on(async move {
        match command {
            Command::Serve { no_seed } => serve(config, no_seed).await,
            Command::Token { action } => token(config, action).await,
            Command::Backup { path } => backup(config, path).await,
            Command::Requests { action: RequestsCommand::Purge } => {
                let db = Db::open_with(&config.database, config.pool_size).map_err(database_error)?;
                let erased = purge_requests(&db, config.retention_days).await.map_err(runtime)?;
                println!("Erased the contact details of {erased} event request{}.", if erased == 1 { "" } else { "s" });
                Ok(())
            }
            Command::Openapi | Command::CopyDatabase { .. } => Ok(()),
        }
    })
}

async fn serve(config: Config, no_seed: bool) -> Result<(), Failure> {
    let db = Db::open_with(&config.database, config.pool_size).map_err(database_error)?;
    if !no_seed {
        match dataset::load_if_empty(&db).await.map_err(runtime)? {
            Some(loaded) => log::info!("loaded the bundled dataset: {loaded}"),
            None => log::info!("the database already has data; the bundled dataset was not loaded"),
        }
    }
    let listener = TcpListener::bind(config.bind_address)
        .map_err(|error| runtime(format!("cannot listen on {}: {error}", config.bind_address)))?;
    let address = listener.local_addr().map_err(runtime)?;
    log::info!("listening on http://{address}");
    let erased = purge_requests(&db, config.retention_days).await.map_err(runtime)?;
    log::info!("erased the contact details of {erased} event requests past retention");
    let purging = db.clone();
    actix_web::rt::spawn(async move {
        let mut daily = actix_web::rt::time::interval(PURGE_EVERY);
        // The first tick is at once: the purge at start just ran.
        daily.tick().await;
        loop {
            daily.tick().await;
            match purge_requests(&purging, config.retention_days).await {
                Ok(erased) => log::info!("erased the contact details of {erased} event requests past retention"),
                Err(error) => log::error!("the daily purge of event requests failed: {error}"),
            }
        }
    });
    let state = AppState::new(db, config.cors_origins).with_rate_limits(&config.rate_limits);
    server::run(listener, state).await.map_err(runtime)?;
    log::info!("stopped");
    Ok(())
}

fn copy_database(from: &str, to: &str, pool_size: u32) -> Result<(), Failure> {
    let url = |name: &str, value: &str| {
        crate::app::config::parse_database_url(value).map_err(|why| Failure::Usage(format!("--{name} {why}")))
    };
    let (source, target) = (url("from", from)?, url("to", to)?);
    if let Location::Sqlite(path) = &source
        && !Path::new(path).is_file()
    {
        return Err(Failure::Usage(format!("--from names no database: {path} does not exist")));
    }
    let same = match (&source, &target) {
        (Location::Sqlite(a), Location::Sqlite(b)) => std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok(),
        (a, b) => a == b,
    };
    if same {
        return Err(Failure::Usage("--from and --to name the same database".to_owned()));
    }
    // Both brought to this version's schema (the target created if new), then closed: the copy
    // runs on connections of its own.
    for location in [&source, &target] {
        drop(Db::open_with(location, pool_size.min(2)).map_err(database_error)?);
    }
    let counts = crate::db::copy::copy(&source, &target, &resources::tables()).map_err(|error| match error.code() {
        crate::base::error::ProblemCode::BadRequest => Failure::Usage(error.problem().detail),
        _ => runtime(error),
    })?;
    println!("Copied {} to {}; rows in each table, the same on both sides:", source.display(), target.display());
    for (table, rows) in counts {
        println!("{table}\t{rows}");
    }
    Ok(())
}

/// How often `serve` erases the contact details of event requests past retention.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

async fn purge_requests(db: &Db, retention_days: u32) -> Result<usize, crate::base::error::AppError> {
    db.write(move |conn, now| crate::domain::event_requests::store::purge(conn, now, retention_days)).await
}

async fn token(config: Config, action: TokenCommand) -> Result<(), Failure> {
    let db = Db::open_with(&config.database, config.pool_size).map_err(database_error)?;
    match action {
        TokenCommand::Create { name, scopes } => {
            let scopes = if scopes.is_empty() { vec![Scope::Content] } else { scopes };
            let length = name.chars().count();
            if !(1..=100).contains(&length) || name.chars().any(char::is_control) {
                return Err(Failure::Usage("--name must be 1 to 100 characters without control characters".to_owned()));
            }
            let secret = tokens::generate().map_err(runtime)?;
            let stored = secret.clone();
            let created_name = name.clone();
            let granted = scopes.clone();
            let created = db
                .write(move |conn, now| tokens::create(conn, &created_name, &stored, &granted, now))
                .await
                .map_err(runtime)?;
            if !created {
                return Err(Failure::Usage(format!(
                    "a token named '{name}' already exists; revoke it first or pick another name"
                )));
            }
            println!(
                "Created token '{name}' with scope {}. It is shown only this once; store it now:",
                tokens::format_scopes(&scopes).replace(' ', " and ")
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            let list = db.read(tokens::list).await.map_err(runtime)?;
            for token in list {
                println!("{}\t{}\t{}", token.name, token.scopes, crate::base::clock::format_micros(token.created_at));
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
    // The same rules for PATH on both backends. Before the database is opened: a refused PATH
    // leaves no trace.
    let target = backup_target(&path).map_err(Failure::Usage)?;
    if let Location::Postgres(url) = &config.database {
        return pg_dump(url, &path);
    }
    let file = create_backup_file(&path)?;
    let copied = async {
        let db = Db::open_with(&config.database, config.pool_size).map_err(database_error)?;
        db.backup_to(target.to_owned()).await.map_err(runtime)?;
        seal_backup(&file, &path)
    }
    .await;
    if let Err(failure) = copied {
        // Only the file this run created: the path may have been replaced meanwhile.
        if is_same_file(&file, &path) {
            let _ = std::fs::remove_file(&path);
        }
        return Err(failure);
    }
    println!("Wrote a consistent copy of {} to {target}.", config.database.display());
    Ok(())
}

/// `backup` on PostgreSQL: `pg_dump --format=custom` (one consistent snapshot while the instances
/// keep serving; restored with `pg_restore`) into PATH, created as for SQLite (new, never through a
/// link, owner-only). The password goes to pg_dump in its environment, not on its command line,
/// where other users of the machine could read it.
fn pg_dump(url: &str, path: &Path) -> Result<(), Failure> {
    let which = std::process::Command::new("pg_dump").arg("--version").output();
    if !which.as_ref().is_ok_and(|output| output.status.success()) {
        return Err(Failure::Usage(
            "backup on PostgreSQL runs pg_dump, which is not installed here (not on PATH); install PostgreSQL's client tools, or run pg_dump --format=custom yourself".to_owned(),
        ));
    }
    let mut parsed = url::Url::parse(url).map_err(|why| Failure::Usage(format!("DATABASE_URL: {why}")))?;
    let password = parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = parsed.set_password(None);
    let file = create_backup_file(path)?;
    let mut command = std::process::Command::new("pg_dump");
    command.args(["--format=custom", "--no-owner", "--dbname"]).arg(parsed.as_str());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let dumped = file
        .try_clone()
        .map_err(runtime)
        .and_then(|out| command.stdout(out).stderr(std::process::Stdio::piped()).output().map_err(runtime));
    let finished = match dumped {
        Ok(output) if output.status.success() => seal_backup(&file, path),
        Ok(output) => {
            Err(Failure::Runtime(format!("pg_dump failed: {}", String::from_utf8_lossy(&output.stderr).trim())))
        }
        Err(failure) => Err(failure),
    };
    if let Err(failure) = finished {
        if is_same_file(&file, path) {
            let _ = std::fs::remove_file(path);
        }
        return Err(failure);
    }
    println!(
        "Wrote a pg_dump archive (--format=custom) of {} to {}.",
        Location::Postgres(url.to_owned()).display(),
        path.display()
    );
    Ok(())
}

/// The backup PATH as SQLite will read it: a plain file name. SQLite takes names as UTF-8 and
/// reads `file:...` as a URI (`file:/x?mode=memory` writes nothing anywhere) and `:memory:` as
/// no file at all, so those are refused rather than passed on.
fn backup_target(path: &Path) -> Result<&str, String> {
    let Some(target) = path.to_str() else {
        return Err(format!("backup PATH must be valid UTF-8; '{}' is not", path.display()));
    };
    if target.get(..5).is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:")) {
        return Err(format!(
            "backup PATH '{target}' starts with 'file:', which SQLite reads as a URI, not a file name; give a plain path (./{target} names a file)"
        ));
    }
    if target == ":memory:" || target.is_empty() {
        return Err(format!("backup PATH '{target}' names no file; give the path of a new file"));
    }
    Ok(target)
}

/// Creates the empty file the copy goes into (`VACUUM INTO` accepts an empty file): only if
/// nothing exists at `path`, not even a dangling symbolic link (`create_new` is `O_EXCL`, which
/// never follows one; `O_NOFOLLOW` says so twice), readable by its owner only.
fn create_backup_file(path: &Path) -> Result<File, Failure> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path).map_err(|error| {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        Failure::Usage(match error.kind() {
            _ if is_link => format!("{} is a symbolic link; backup never follows one, give a new path", path.display()),
            std::io::ErrorKind::AlreadyExists => format!("{} already exists; give a new path", path.display()),
            _ => format!("cannot create {}: {error}", path.display()),
        })
    })
}

/// Makes sure the copy is in the file created for it, and readable by its owner only whatever
/// the umask was.
fn seal_backup(file: &File, path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(runtime)?;
    }
    let written = file.metadata().map_err(runtime)?.len();
    if written == 0 || !is_same_file(file, path) {
        return Err(Failure::Runtime(format!("the copy did not land in {}", path.display())));
    }
    Ok(())
}

/// Whether `path` still names the file open as `file`.
fn is_same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.is_file()
    }
}
