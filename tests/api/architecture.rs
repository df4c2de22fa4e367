//! The module graph of `src/`: every import points down the layers of `rush_api::LAYERS`, and no
//! module reaches itself again through its imports. A module is a file; an import is any path
//! through `crate::` (or `$crate::` in a macro, `rush_api::` in the binary), `super::`, `self::`
//! or a child module's name, outside the `#[cfg(test)]` tail of the file and outside comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rush_api::LAYERS;

/// One file of `src/`, as the analysis reads it.
struct Source {
    module: Vec<String>,
    file: String,
    code: String,
}

/// An import of one module by another, with the path that made it.
#[derive(Clone)]
struct Import {
    from: Vec<String>,
    to: Vec<String>,
    file: String,
    path: String,
}

#[test]
fn every_import_points_down_the_layers() {
    let imports = imports(&sources());
    assert!(!imports.is_empty(), "the analysis found no imports at all; it reads nothing");
    let upward = upward_imports(&imports);
    assert!(upward.is_empty(), "imports of a layer above the importer's own:\n{}", upward.join("\n"));
}

#[test]
fn no_module_reaches_itself_through_its_imports() {
    let cycles = cycles(&imports(&sources()));
    assert!(cycles.is_empty(), "modules that import each other, directly or not:\n{}", cycles.join("\n"));
}

#[test]
fn the_layer_table_covers_the_crate_and_only_points_down() {
    let top_level: BTreeSet<String> = sources().iter().map(|source| layer_of(&source.module)).collect();
    let named: BTreeSet<String> = LAYERS.iter().map(|layer| layer.name.to_owned()).collect();
    assert_eq!(top_level, named, "every top-level module is one row of LAYERS, and every row a module");
    for (position, layer) in LAYERS.iter().enumerate() {
        for below in layer.may_import {
            let row = LAYERS.iter().position(|other| other.name == *below);
            assert!(
                row.is_some_and(|row| row > position),
                "layer {} may import {below}, which is not a layer below it in LAYERS",
                layer.name
            );
        }
    }
}

/// The analysis itself finds what it is there to find: an upward import, a cycle through a
/// parent module's re-export, a path inside a `use` group, and a macro called through `crate::`.
#[test]
fn the_analysis_reports_upward_imports_and_cycles() {
    let source = |module: &str, code: &str| Source {
        module: module.split("::").map(str::to_owned).collect(),
        file: format!("src/{}.rs", module.replace("::", "/")),
        code: code_of(code),
    };
    let sources = [
        source("base::error", "use crate::{db::{self, Conn}, base::clock};"),
        source("base::clock", "fn now() { crate::wire_enum!(X); }"),
        source("base::wire", "#[macro_export]\nmacro_rules! wire_enum { () => {} }"),
        source("db", "pub use budget::within_budget;\nfn f() {}"),
        source("db::budget", "use crate::db::Conn;\n#[cfg(test)]\nmod tests { use crate::app::cli; }"),
        source("app::cli", "// use crate::app::missing;\n"),
    ];
    let imports = imports(&sources);
    let upward = upward_imports(&imports);
    assert_eq!(upward.len(), 1, "{upward:?}");
    assert!(upward[0].contains("src/base/error.rs") && upward[0].contains("crate::db"), "{upward:?}");
    let edges: BTreeSet<(String, String)> =
        imports.iter().map(|import| (import.from.join("::"), import.to.join("::"))).collect();
    assert!(edges.contains(&("base::clock".to_owned(), "base::wire".to_owned())), "{edges:?}");
    assert!(edges.contains(&("base::error".to_owned(), "base::clock".to_owned())), "{edges:?}");
    assert!(!edges.iter().any(|(_, to)| to.starts_with("app")), "tests and comments are not imports: {edges:?}");
    let cycles = cycles(&imports);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].contains("db ->") && cycles[0].contains("db::budget ->"), "{cycles:?}");
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect_rust_files(&root, &mut files);
    files
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(&root).expect("a file under src/").with_extension("");
            let module: Vec<String> =
                relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
            if module == ["lib"] {
                return None;
            }
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            Some(Source { module, file: format!("src/{}", relative.display()) + ".rs", code: code_of(&text) })
        })
        .collect()
}

fn collect_rust_files(folder: &Path, files: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(folder).expect("a readable folder").map(|entry| entry.expect("an entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// The part of a file that the build compiles outside tests, without comments.
fn code_of(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| match line.find(" // ") {
            Some(comment) => &line[..comment],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn layer_of(module: &[String]) -> String {
    match module.first().map(String::as_str) {
        Some("main") => "app".to_owned(),
        Some(first) => first.to_owned(),
        None => String::new(),
    }
}

fn imports(sources: &[Source]) -> Vec<Import> {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|source| source.module.clone()).collect();
    let macros: BTreeMap<String, Vec<String>> = sources
        .iter()
        .flat_map(|source| {
            source.code.split("#[macro_export]").skip(1).filter_map(|after| {
                let name = after.trim_start().strip_prefix("macro_rules!")?.trim_start();
                let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                Some((name, source.module.clone()))
            })
        })
        .collect();
    let mut imports = Vec::new();
    for source in sources {
        // Each root: the text that starts a path, and the module path it stands for.
        let mut roots: Vec<(String, Vec<String>)> = vec![
            ("crate::".to_owned(), Vec::new()),
            ("rush_api::".to_owned(), Vec::new()),
            ("self::".to_owned(), source.module.clone()),
            ("super::".to_owned(), source.module[..source.module.len().saturating_sub(1)].to_vec()),
        ];
        for module in &modules {
            if module.len() == source.module.len() + 1 && module.starts_with(&source.module) {
                roots.push((format!("{}::", module[module.len() - 1]), module.clone()));
            }
        }
        let mut seen = BTreeSet::new();
        for (prefix, base) in roots {
            for (start, _) in source.code.match_indices(&prefix) {
                let before = source.code[..start].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let mut paths = Vec::new();
                parse_tree(&source.code.as_bytes()[start + prefix.len()..], &mut 0, base.clone(), &mut paths);
                for path in paths {
                    let Some(target) = resolve(&path, &modules, &macros) else { continue };
                    if target != source.module && seen.insert(target.clone()) {
                        imports.push(Import {
                            from: source.module.clone(),
                            to: target,
                            file: source.file.clone(),
                            path: format!("crate::{}", path.join("::")),
                        });
                    }
                }
            }
        }
    }
    imports
}

/// Reads one `use` tree (`a::b::{c, d::{self, e}}`, or a plain path in code) into full paths.
fn parse_tree(text: &[u8], at: &mut usize, prefix: Vec<String>, paths: &mut Vec<Vec<String>>) {
    let skip_space = |at: &mut usize| {
        while text.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    skip_space(at);
    match text.get(*at) {
        Some(b'{') => {
            *at += 1;
            for _ in 0..text.len() {
                skip_space(at);
                if text.get(*at) == Some(&b'}') {
                    *at += 1;
                    return;
                }
                parse_tree(text, at, prefix.clone(), paths);
                skip_space(at);
                match text.get(*at) {
                    Some(b',') => *at += 1,
                    Some(b'}') => {
                        *at += 1;
                        return;
                    }
                    _ => return,
                }
            }
        }
        Some(b'*') => {
            *at += 1;
            paths.push(prefix);
        }
        _ => {
            let start = *at;
            while text.get(*at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                *at += 1;
            }
            let segment = String::from_utf8_lossy(&text[start..*at]).into_owned();
            let mut path = prefix;
            if segment.is_empty() {
                paths.push(path);
                return;
            }
            if text.get(*at) == Some(&b'!') {
                path.push(format!("{segment}!"));
                paths.push(path);
                return;
            }
            if segment != "self" {
                path.push(segment);
            }
            if text.get(*at..*at + 2) == Some(b"::") {
                *at += 2;
                parse_tree(text, at, path, paths);
            } else {
                // An alias (`as name`) or anything after the path says nothing about its target.
                paths.push(path);
            }
        }
    }
}

/// The module a path lands in: its longest prefix that is a file of `src/`.
fn resolve(
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
    macros: &BTreeMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    if let [only] = path
        && let Some(name) = only.strip_suffix('!')
    {
        return macros.get(name).cloned();
    }
    (1..=path.len()).rev().map(|length| path[..length].to_vec()).find(|prefix| modules.contains(prefix))
}

fn upward_imports(imports: &[Import]) -> Vec<String> {
    imports
        .iter()
        .filter_map(|import| {
            let (from, to) = (layer_of(&import.from), layer_of(&import.to));
            let allowed =
                from == to || LAYERS.iter().any(|layer| layer.name == from && layer.may_import.contains(&to.as_str()));
            (!allowed).then(|| format!("{} ({from}) imports {} ({to})", import.file, import.path))
        })
        .collect()
}

/// Every strongly connected group of more than one module, with the imports that tie it.
fn cycles(imports: &[Import]) -> Vec<String> {
    let mut graph: BTreeMap<&[String], BTreeSet<&[String]>> = BTreeMap::new();
    for import in imports {
        graph.entry(&import.from).or_default().insert(&import.to);
        graph.entry(&import.to).or_default();
    }
    let reaches = |start: &[String]| {
        let mut seen: BTreeSet<&[String]> = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(module) = stack.pop() {
            for next in graph.get(module).into_iter().flatten() {
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&[String], BTreeSet<&[String]>> =
        graph.keys().map(|module| (*module, reaches(module))).collect();
    let mut reported: BTreeSet<&[String]> = BTreeSet::new();
    let mut cycles = Vec::new();
    for module in graph.keys() {
        if reported.contains(module) || !reach[module].contains(module) {
            continue;
        }
        let group: BTreeSet<&[String]> =
            reach[module].iter().copied().filter(|other| reach[other].contains(module)).collect();
        let ties: Vec<String> = imports
            .iter()
            .filter(|import| group.contains(import.from.as_slice()) && group.contains(import.to.as_slice()))
            .map(|import| {
                format!("  {} -> {} ({}: {})", import.from.join("::"), import.to.join("::"), import.file, import.path)
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        cycles.push(format!("{} modules:\n{}", group.len(), ties.join("\n")));
        reported.extend(group);
    }
    cycles
}
