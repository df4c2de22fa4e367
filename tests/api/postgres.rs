//! PostgreSQL: a throwaway cluster for the tests, and the PostgreSQL migrations kept in step with
//! the SQLite ones.
//!
//! The cluster is started in a temporary directory on a free loopback port (`initdb` and `pg_ctl`
//! from `pg_config --bindir`; as root, run as the `postgres` user), or the tests use the server
//! that `RUSH_TEST_POSTGRES_URL` names (each test gets a database of its own there). Without
//! either, these tests print one line saying they were skipped, unless `RUSH_REQUIRE_POSTGRES` is
//! set (CI sets it), which makes a missing PostgreSQL a failure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

/// Where the PostgreSQL tests run.
pub enum Postgres {
    /// A cluster of our own, stopped when dropped.
    Cluster { bindir: PathBuf, dir: tempfile::TempDir, port: u16, as_postgres: bool },
    /// A server someone else runs.
    Server { url: String },
}

fn bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let mut candidates: Vec<PathBuf> = from_pg_config.into_iter().collect();
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(versions.filter_map(Result::ok).map(|entry| entry.path().join("bin")));
    }
    candidates.into_iter().find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn checked(output: std::io::Result<Output>, what: &str) -> Output {
    let output = output.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The cluster every test of this process shares (the whole suite when it runs on PostgreSQL,
/// `RUSH_TEST_DATABASE=postgres`; the multi-instance tests always): each test gets a database of
/// its own on it. A static is never
/// dropped, so a watcher process stops the cluster and removes its directory once this process
/// has exited (checking once a second, for at most six hours).
/// `None` (after saying so once) when there is no PostgreSQL to use.
pub fn shared() -> Option<&'static Postgres> {
    static SHARED: std::sync::OnceLock<Option<Postgres>> = std::sync::OnceLock::new();
    SHARED
        .get_or_init(|| {
        let postgres = Postgres::start()?;
        if let Postgres::Cluster { bindir, dir, as_postgres, .. } = &postgres {
            let stop = format!(
                "{}{} -D {}/data -m immediate -w stop",
                if *as_postgres { "runuser -u postgres -- " } else { "" },
                bindir.join("pg_ctl").display(),
                dir.path().display()
            );
            let watcher = format!(
                "i=0; while kill -0 {} 2>/dev/null && [ $i -lt 21600 ]; do sleep 1; i=$((i+1)); done; {stop} >/dev/null 2>&1; rm -rf {}",
                std::process::id(),
                dir.path().display()
            );
            // Started in the background by a shell that exits at once: the watcher outlives this
            // process, and nothing is left for it to wait on.
            let started = Command::new("sh")
                .args(["-c", &format!("({watcher}) </dev/null >/dev/null 2>&1 &")])
                .status()
                .expect("start the cluster's watcher");
            assert!(started.success(), "the cluster's watcher did not start");
        }
        Some(postgres)
    })
        .as_ref()
}

impl Postgres {
    /// PostgreSQL for one test, or `None` (after saying so once) when there is none to use.
    pub fn start() -> Option<Postgres> {
        if let Ok(url) = std::env::var("RUSH_TEST_POSTGRES_URL") {
            return Some(Postgres::Server { url });
        }
        let Some(bindir) = bindir() else {
            assert!(
                std::env::var_os("RUSH_REQUIRE_POSTGRES").is_none(),
                "RUSH_REQUIRE_POSTGRES is set, but there is no PostgreSQL (initdb and pg_ctl) and no RUSH_TEST_POSTGRES_URL"
            );
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                eprintln!(
                    "PostgreSQL tests skipped: no initdb/pg_ctl (pg_config --bindir) and no RUSH_TEST_POSTGRES_URL"
                )
            });
            return None;
        };
        // initdb refuses to run as root: then the cluster belongs to the `postgres` user, in a
        // directory it can reach (/tmp is traversable by everyone).
        let as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("rush-pg-").tempdir_in("/tmp").expect("a temporary directory");
        if as_postgres {
            checked(Command::new("chown").arg("postgres:postgres").arg(dir.path()).output(), "chown");
        }
        let data = dir.path().join("data");
        let run = |program: &str, args: &[&str]| {
            let path = bindir.join(program);
            let mut command = if as_postgres {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(&path);
                command
            } else {
                Command::new(&path)
            };
            checked(command.args(args).output(), program)
        };
        let data_arg = data.to_string_lossy().into_owned();
        run(
            "initdb",
            &["-D", &data_arg, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        );
        let port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off",
            dir.path().display()
        );
        let log = dir.path().join("server.log").to_string_lossy().into_owned();
        run("pg_ctl", &["-D", &data_arg, "-w", "-t", "30", "-l", &log, "-o", &options, "start"]);
        Some(Postgres::Cluster { bindir, dir, port, as_postgres })
    }

    fn psql(&self) -> PathBuf {
        match self {
            Postgres::Cluster { bindir, .. } => bindir.join("psql"),
            Postgres::Server { .. } => bindir().map_or_else(|| PathBuf::from("psql"), |dir| dir.join("psql")),
        }
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        match self {
            Postgres::Cluster { port, .. } => format!("postgres://postgres@127.0.0.1:{port}/{name}"),
            Postgres::Server { url } => match url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => url.clone(),
            },
        }
    }

    /// Runs `sql` (or the file at `file`) on database `name`, stopping at the first error; returns
    /// the rows, tab-separated.
    pub fn run_sql(&self, name: &str, sql: Option<&str>, file: Option<&Path>) -> String {
        let mut command = Command::new(self.psql());
        command.args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d"]).arg(self.url(name));
        if let Some(sql) = sql {
            command.args(["-c", sql]);
        }
        if let Some(file) = file {
            command.arg("-f").arg(file);
        }
        String::from_utf8_lossy(&checked(command.output(), "psql").stdout).into_owned()
    }

    /// A new, empty database.
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("rush_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        self.run_sql("postgres", Some(&format!("CREATE DATABASE {name}")), None);
        name
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Postgres::Cluster { bindir, dir, as_postgres, .. } = self {
            let data = dir.path().join("data");
            let mut command = if *as_postgres {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(bindir.join("pg_ctl"));
                command
            } else {
                Command::new(bindir.join("pg_ctl"))
            };
            let _ = command.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]).output();
        }
    }
}

/// Whether this process runs as root (initdb refuses to).
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// The migrations of one backend, oldest first: (version folder, up.sql, down.sql).
fn migrations(backend: &str) -> Vec<(String, PathBuf, PathBuf)> {
    let dir = Path::new(MIGRATIONS).join(backend);
    let mut found: Vec<(String, PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| {
            let path = entry.path();
            (entry.file_name().to_string_lossy().into_owned(), path.join("up.sql"), path.join("down.sql"))
        })
        .collect();
    found.sort();
    found
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// The SQLite schema the service creates, as lines comparable with `postgres_schema`'s.
fn sqlite_schema() -> BTreeSet<String> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("schema.sqlite3").to_string_lossy().into_owned();
    drop(rush_api::db::Db::open(&path).expect("open and migrate"));
    let mut conn = diesel::SqliteConnection::establish(&path).expect("open");
    // The service's writer thread may still be closing its connection (and checkpointing).
    diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut conn).expect("busy timeout");
    let tables = "(SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name NOT IN ('__diesel_schema_migrations', 'search_queue') AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'
         AND name NOT LIKE '%\\_search\\_%' ESCAPE '\\')";
    let query = format!(
        "SELECT 'table ' || t.name AS line FROM {tables} AS t
         UNION ALL SELECT 'column ' || t.name || '.' || c.name || CASE WHEN c.\"notnull\" OR c.pk > 0 THEN ' not null' ELSE '' END
           FROM {tables} AS t, pragma_table_info(t.name) AS c
         UNION ALL SELECT 'search ' || substr(name, 1, length(name) - 7) FROM sqlite_master
           WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'
         UNION ALL SELECT 'index ' || tbl_name || '.' || name FROM sqlite_master
           WHERE type = 'index' AND sql IS NOT NULL AND tbl_name <> 'search_queue'
         UNION ALL SELECT 'primary key ' || t.name || '(' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info(t.name) WHERE pk > 0 ORDER BY name)) || ')'
           FROM {tables} AS t
         UNION ALL SELECT 'unique ' || t.name || '(' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(i.name) ORDER BY name)) || ')'
           FROM {tables} AS t, pragma_index_list(t.name) AS i WHERE i.origin = 'u'
         UNION ALL SELECT 'foreign key ' || t.name || '(' || f.\"from\" || ') -> ' || f.\"table\"
           FROM {tables} AS t, pragma_foreign_key_list(t.name) AS f
         UNION ALL SELECT 'checks ' || t.name || ' ' || ((length(t.sql) - length(replace(t.sql, 'CHECK (', ''))) / 7)
           FROM {tables} AS t WHERE t.sql LIKE '%CHECK (%'"
    );
    diesel::sql_query(query)
        .load::<Line>(&mut conn)
        .expect("read the SQLite schema")
        .into_iter()
        .map(|l| l.line)
        .collect()
}

const POSTGRES_SCHEMA: &str = "
    SELECT 'table ' || table_name FROM information_schema.tables WHERE table_schema = 'public'
    UNION ALL SELECT 'column ' || table_name || '.' || column_name || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'search ' || tablename FROM pg_indexes
      WHERE schemaname = 'public' AND indexdef LIKE '%USING gin (search_text gin_trgm_ops)%' AND indexname = tablename || '_search'
    UNION ALL SELECT 'index ' || tablename || '.' || indexname FROM pg_indexes
      WHERE schemaname = 'public' AND indexname NOT IN (SELECT conname FROM pg_constraint) AND indexname <> tablename || '_search'
    UNION ALL SELECT CASE c.contype WHEN 'p' THEN 'primary key ' WHEN 'u' THEN 'unique ' ELSE 'foreign key ' END || t.relname || '('
        || (SELECT string_agg(a.attname, ',' ORDER BY a.attname) FROM pg_attribute AS a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))
        || ')' || CASE WHEN c.contype = 'f' THEN ' -> ' || (SELECT relname FROM pg_class WHERE oid = c.confrelid) ELSE '' END
      FROM pg_constraint AS c JOIN pg_class AS t ON t.oid = c.conrelid JOIN pg_namespace AS n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
    UNION ALL SELECT 'checks ' || t.relname || ' ' || count(*)
      FROM pg_constraint AS c JOIN pg_class AS t ON t.oid = c.conrelid JOIN pg_namespace AS n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND c.contype = 'c' GROUP BY t.relname";

#[test]
fn the_postgres_migrations_build_the_schema_the_sqlite_ones_build() {
    let Some(postgres) = shared() else { return };
    let (sqlite, pg) = (migrations("sqlite"), migrations("postgres"));
    let versions = |list: &[(String, PathBuf, PathBuf)]| list.iter().map(|(v, _, _)| v.clone()).collect::<Vec<_>>();
    assert_eq!(versions(&pg), versions(&sqlite), "the same migrations, in the same order, on both backends");
    let database = postgres.database();
    for (_, up, _) in &pg {
        postgres.run_sql(&database, None, Some(up));
    }
    let pg_schema: BTreeSet<String> =
        postgres.run_sql(&database, Some(POSTGRES_SCHEMA), None).lines().map(str::to_owned).collect();
    let sqlite_schema = sqlite_schema();
    let only_sqlite: Vec<&String> = sqlite_schema.difference(&pg_schema).collect();
    let only_pg: Vec<&String> = pg_schema.difference(&sqlite_schema).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_pg:#?}"
    );
    assert!(sqlite_schema.len() > 150, "the comparison read the schemas: {}", sqlite_schema.len());
    assert!(sqlite_schema.contains("search metrics") && sqlite_schema.contains("unique programs(slug)"));
}

#[test]
fn the_postgres_migrations_revert_to_an_empty_database() {
    let Some(postgres) = shared() else { return };
    let database = postgres.database();
    let pg = migrations("postgres");
    for (_, up, _) in &pg {
        postgres.run_sql(&database, None, Some(up));
    }
    // Data through a revert: the write clock and a deletion outside the old list survive or go as
    // the down migrations say, without an error.
    postgres.run_sql(
        &database,
        Some("INSERT INTO deletions (resource, record_id, deleted_at) VALUES ('metrics', 1, 2)"),
        None,
    );
    for (version, _, down) in pg.iter().rev() {
        let started = Instant::now();
        postgres.run_sql(&database, None, Some(down));
        assert!(started.elapsed() < Duration::from_secs(30), "{version}");
    }
    let left = postgres.run_sql(
        &database,
        Some("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"),
        None,
    );
    assert_eq!(left.trim(), "", "every table is gone");
}
