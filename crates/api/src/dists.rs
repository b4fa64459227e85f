//! The installed `dist` directories of clerk-js and `@clerk/ui`, each with the version its `package.json` declares,
//! and which one a script URL's `@{version}` reaches. The SDKs ask for a major (`@clerk/clerk-js@5` from
//! `@clerk/clerk-react` 5, `@6` from `@clerk/react` 6), a tag (`@latest`, `@snapshot`) or a version their user
//! pinned, and each script loads its chunks under its exact version (`@6.40.0`): so two majors can be installed side
//! by side, and a request for one must never get the other (clerk-js 6 has no UI of its own; clerk-react 5 cannot
//! drive it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use semver::{Version, VersionReq};

/// One installed `dist` directory.
#[derive(Debug, Clone)]
pub struct Dist {
    /// The directory served.
    pub dir: Arc<Path>,
    /// The version in `../package.json` (`None` when there is none to read: then it answers every version).
    pub version: Option<Version>,
}

/// The installed `dist` directories of one package, highest version first.
#[derive(Debug, Clone, Default)]
pub struct Dists(Vec<Dist>);

impl Dists {
    /// The given `dist` directories, each with the version of the package it belongs to (`../package.json`).
    pub fn open(dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut dists: Vec<Dist> =
            dirs.into_iter().map(|dir| Dist { version: package_version(&dir), dir: Arc::from(dir) }).collect();
        // Highest first; directories of unknown version last (they answer only what no known one does).
        dists.sort_by(|a, b| b.version.cmp(&a.version));
        Self(dists)
    }

    /// Every directory, highest version first.
    pub fn all(&self) -> &[Dist] {
        &self.0
    }

    /// Whether no directory is installed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The directory that answers `@{requested}`:
    /// - an exact version: that version, else the highest of its major (a version pinned by an app keeps working
    ///   across upgrades of the directory; the script then loads its chunks under its own version);
    /// - a major or a range (`5`, `5.x`, `^6.1.0`, `>=5 <7`): the highest version it allows;
    /// - a tag (`latest`, `snapshot`, `canary`) or nothing: the highest version;
    ///
    /// and a directory of unknown version when no known one answers. `None` when nothing installed answers.
    pub fn resolve(&self, requested: &str) -> Option<&Path> {
        let known = || self.0.iter().filter_map(|d| d.version.as_ref().map(|v| (v, &d.dir)));
        let found = if let Ok(exact) = Version::parse(requested) {
            known().find(|(v, _)| **v == exact).or_else(|| known().find(|(v, _)| v.major == exact.major))
        } else if let Ok(range) = VersionReq::parse(requested) {
            // Pre-releases match only a range that names one (semver's rule); a bare major must reach them too.
            known().find(|(v, _)| range.matches(v) || range.matches(&Version::new(v.major, v.minor, v.patch)))
        } else if is_tag(requested) {
            known().next()
        } else {
            return None;
        };
        found.map(|(_, dir)| &**dir).or_else(|| self.0.iter().find(|d| d.version.is_none()).map(|d| &*d.dir))
    }
}

/// An npm dist-tag: letters, digits, `-`, `_`, `.`, not starting with a digit (or empty: no version asked).
fn is_tag(s: &str) -> bool {
    s.is_empty()
        || (!s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
}

/// `version` from the `package.json` beside `dist` (npm installs a package as `…/name/{package.json, dist/}`).
fn package_version(dist: &Path) -> Option<Version> {
    let text = std::fs::read_to_string(dist.parent()?.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Version::parse(json.get("version")?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dists(versions: &[Option<&str>]) -> Dists {
        Dists(
            versions
                .iter()
                .map(|v| Dist {
                    dir: Arc::from(PathBuf::from(v.unwrap_or("unknown"))),
                    version: v.map(|v| Version::parse(v).expect("version")),
                })
                .collect::<Vec<_>>(),
        )
        .sorted()
    }

    impl Dists {
        fn sorted(mut self) -> Self {
            self.0.sort_by(|a, b| b.version.cmp(&a.version));
            self
        }
    }

    fn resolved<'a>(d: &'a Dists, requested: &str) -> Option<&'a str> {
        d.resolve(requested).map(|p| p.to_str().expect("utf-8"))
    }

    #[test]
    fn each_major_reaches_its_own_directory() {
        let d = dists(&[Some("5.128.0"), Some("6.40.0")]);
        for (asked, want) in [
            ("5", "5.128.0"),
            ("6", "6.40.0"),
            ("6.40.0", "6.40.0"),
            ("5.128.0", "5.128.0"),
            ("6.39.2", "6.40.0"),
            ("5.x", "5.128.0"),
            ("^6.0.0", "6.40.0"),
            ("~5.128", "5.128.0"),
            (">=5, <6", "5.128.0"),
            ("latest", "6.40.0"),
            ("snapshot", "6.40.0"),
            ("", "6.40.0"),
        ] {
            assert_eq!(resolved(&d, asked), Some(want), "@{asked}");
        }
        for asked in ["4", "7.0.0", "^7", "~5.120", "../5", "5 6 7 x"] {
            assert_eq!(resolved(&d, asked), None, "@{asked}");
        }
    }

    #[test]
    fn a_directory_of_unknown_version_answers_what_no_other_does() {
        let d = dists(&[Some("6.40.0"), None]);
        assert_eq!(resolved(&d, "6"), Some("6.40.0"));
        assert_eq!(resolved(&d, "5"), Some("unknown"));
        assert_eq!(resolved(&dists(&[None]), "6.40.0"), Some("unknown"));
        assert_eq!(resolved(&dists(&[]), "6"), None);
    }

    #[test]
    fn a_major_reaches_a_prerelease() {
        let d = dists(&[Some("6.41.0-snapshot.v20261201")]);
        assert_eq!(resolved(&d, "6"), Some("6.41.0-snapshot.v20261201"));
        assert_eq!(resolved(&d, "6.41.0-snapshot.v20261201"), Some("6.41.0-snapshot.v20261201"));
    }
}
