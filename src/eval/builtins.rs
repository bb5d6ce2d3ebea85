//! Kubernetes-aware built-ins: image references, resource quantities, versions and
//! command-line flags. Pure functions over strings, each with its own tests.

use std::sync::Arc;

/// The parts of a container image reference, as shared strings: a rule reads them as
/// values (`image(c.image).tag`) without copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host, `docker.io` when none is given.
    pub registry: Arc<str>,
    /// Repository path, with `library/` for official Docker Hub images.
    pub repository: Arc<str>,
    /// `registry/repository`, made once: rules read it for each registry they compare
    /// the image with.
    pub name: Arc<str>,
    /// Tag, when given.
    pub tag: Option<Arc<str>>,
    /// Digest (`sha256:...`), when given and well formed (see [`is_digest`]).
    pub digest: Option<Arc<str>>,
    /// What follows `@` when it is not a well-formed digest (possibly empty): such an image
    /// is not pinned, and the container runtime refuses to pull it.
    pub malformed_digest: Option<Arc<str>>,
}

/// The digest algorithms of the OCI image specification's registry ("Registered
/// algorithms", descriptor.md) and the length of their lowercase hex encoding.
const DIGEST_ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha512", 128)];

/// Whether `d` is a well-formed digest: a registered algorithm, `:`, and exactly that
/// algorithm's number of lowercase hex digits (`sha256:` + 64). Upper-case hex, a short or
/// long value, an unknown algorithm or an empty value are not.
pub fn is_digest(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    DIGEST_ALGORITHMS
        .iter()
        .any(|&(a, len)| a == algorithm && hex.len() == len)
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses an image reference with Docker's defaulting rules: the first path component is
/// a registry when it contains `.` or `:` or is `localhost`; Docker Hub otherwise.
pub fn parse_image(s: &str) -> ImageRef {
    let s = s.trim();
    let (rest, after_at) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    let (digest, malformed_digest) = match after_at {
        Some(d) if is_digest(d) => (Some(Arc::from(d)), None),
        Some(d) => (None, Some(Arc::from(d))),
        None => (None, None),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, after))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), after)
        }
        _ => (None, rest),
    };
    // a tag is after the last `:` of the last path component
    let last_slash = path.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match path.get(last_slash..).and_then(|p| p.rfind(':')) {
        Some(i) => {
            let at = last_slash + i;
            (path.get(..at).unwrap_or(path), path.get(at + 1..))
        }
        None => (path, None),
    };
    let repository = match registry {
        None | Some("docker.io") if !repo.contains('/') => {
            let mut r = String::with_capacity("library/".len() + repo.len());
            r.push_str("library/");
            r.push_str(repo);
            Arc::from(r)
        }
        _ => Arc::from(repo),
    };
    let registry: Arc<str> = registry.map_or_else(|| Arc::from("docker.io"), Arc::from);
    let name = Arc::from(format!("{registry}/{repository}").as_str());
    ImageRef {
        registry,
        repository,
        name,
        tag: tag.filter(|t| !t.is_empty()).map(Arc::from),
        digest,
        malformed_digest,
    }
}

/// Parses a resource quantity (`500m`, `1Gi`, `2`, `1e3`, `1.5`) into a number of base
/// units. `None` when it is not a quantity.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    // `1e3` is an exponent, but `1E` (exa) is a suffix: handle a trailing `E`/`e` alone
    let (num, suffix) = if suffix.is_empty() && (num.ends_with('E') || num.ends_with('e')) {
        num.split_at(num.len() - 1)
    } else {
        (num, suffix)
    };
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Pi" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Ei" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    n.is_finite().then_some(n * mult)
}

/// A Kubernetes version, comparable: `v1.29.3-eks-abc` → (1, 29, 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch (0 when not given).
    pub patch: u32,
}

/// Parses `1.29`, `v1.29.3`, `v1.29.3-eks-abc`, `v1.30.1+k3s1`, `1.29.0-rc.1`.
pub fn parse_version(s: &str) -> Option<Version> {
    let s = s.trim();
    let s = s
        .strip_prefix('v')
        .or_else(|| s.strip_prefix('V'))
        .unwrap_or(s);
    let core = s.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    Some(Version {
        major,
        minor,
        patch,
    })
}

/// Every value of a command-line flag over `args` (command followed by args): `--x=y`,
/// `--x y`, and a bare `--x` (value `true`). Repeated flags give several values; values are
/// not split here (see [`split_list`]). `name` is given with its dashes (`--x`); a flag
/// written with one dash where the name has two (or the reverse) also matches.
pub fn flag_values<'a, S: AsRef<str>>(args: &'a [S], name: &str) -> Vec<&'a str> {
    let bare = name.trim_start_matches('-');
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i).map(AsRef::as_ref) {
        let stripped = a.trim_start_matches('-');
        if a.starts_with('-') && !bare.is_empty() {
            if let Some(v) = stripped
                .strip_prefix(bare)
                .and_then(|r| r.strip_prefix('='))
            {
                out.push(v);
            } else if stripped == bare {
                match args.get(i + 1).map(AsRef::as_ref) {
                    Some(next) if !next.starts_with('-') => {
                        out.push(next);
                        i += 1;
                    }
                    _ => out.push("true"),
                }
            }
        }
        i += 1;
    }
    out
}

/// Splits a comma-separated flag value, trimming spaces and dropping empty items.
pub fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_follow_docker_defaults() {
        let i = parse_image("nginx");
        assert_eq!(
            (&*i.registry, &*i.repository),
            ("docker.io", "library/nginx")
        );
        assert_eq!(i.tag, None);
        let i = parse_image(&format!("localhost:5000/team/app:1.2@{SHA256}"));
        assert_eq!(&*i.registry, "localhost:5000");
        assert_eq!(&*i.repository, "team/app");
        assert_eq!(i.tag.as_deref(), Some("1.2"));
        assert_eq!(i.digest.as_deref(), Some(SHA256));
        assert_eq!(i.malformed_digest, None);
        let i = parse_image("registry.k8s.io/ingress-nginx/controller:v1.11.5");
        assert_eq!(&*i.registry, "registry.k8s.io");
        assert_eq!(i.tag.as_deref(), Some("v1.11.5"));
        assert_eq!(
            &*parse_image("bitnami/redis:latest").repository,
            "bitnami/redis"
        );
    }

    const SHA256: &str = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

    #[test]
    fn digests_follow_the_oci_registered_algorithms() {
        let sha512 = format!("sha512:{}", "0123456789abcdef".repeat(8));
        for ok in [SHA256, sha512.as_str()] {
            let i = parse_image(&format!("nginx@{ok}"));
            assert_eq!(i.digest.as_deref(), Some(ok));
            assert_eq!(i.malformed_digest, None);
            assert_eq!(i.tag, None);
        }
        let upper = SHA256.to_uppercase().replace("SHA256", "sha256");
        let long = format!("{SHA256}0");
        let bad = [
            upper.as_str(),                                                     // upper-case hex
            "sha256:abc",                                                       // short
            long.as_str(),                                                      // long
            "md5:d41d8cd98f00b204e9800998ecf8427e",                             // unknown algorithm
            &SHA256[..SHA256.len() - 1],                                        // one digit short
            "sha256:",                                                          // empty value
            "",                                                                 // nothing after `@`
            "5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270", // no algorithm
            "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a433350127g", // not hex
        ];
        for d in bad {
            let i = parse_image(&format!("registry.example.com/app:1.4@{d}"));
            assert_eq!(i.digest, None, "{d}");
            assert_eq!(i.malformed_digest.as_deref(), Some(d), "{d}");
            // the tag is still read
            assert_eq!(i.tag.as_deref(), Some("1.4"), "{d}");
            assert!(!is_digest(d), "{d}");
        }
        assert_eq!(parse_image("nginx:1.27").malformed_digest, None);
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("1E"), Some(1e18));
        assert_eq!(parse_quantity("lots"), None);
    }

    #[test]
    fn versions() {
        let v = parse_version("v1.29.3-eks-abc").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 29, 3));
        assert!(parse_version("1.28").unwrap() < parse_version("v1.28.1").unwrap());
        assert_eq!(parse_version("v1.30.1+k3s1").unwrap().patch, 1);
        assert_eq!(parse_version("banana"), None);
    }

    #[test]
    fn flags() {
        let args = [
            "kube-apiserver",
            "--anonymous-auth=false",
            "--enable-admission-plugins",
            "NodeRestriction,AlwaysAdmit",
            "--profiling",
            "--v=2",
        ];
        assert_eq!(flag_values(&args, "--anonymous-auth"), ["false"]);
        assert_eq!(
            flag_values(&args, "--enable-admission-plugins"),
            ["NodeRestriction,AlwaysAdmit"]
        );
        assert_eq!(flag_values(&args, "--profiling"), ["true"]);
        assert!(flag_values(&args, "--anonymous").is_empty());
        let repeated = ["x", "--tls-cipher-suites=a", "--tls-cipher-suites", "b,c"];
        let all: Vec<&str> = flag_values(&repeated, "--tls-cipher-suites")
            .into_iter()
            .flat_map(split_list)
            .collect();
        assert_eq!(all, ["a", "b", "c"]);
    }
}
