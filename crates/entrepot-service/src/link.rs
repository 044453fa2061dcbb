//! Recognising a package's repository URL (from package.json, a .nuspec, an image label…) as a repository of this
//! server. Pure string work; whether the repository exists and may be linked is decided elsewhere.

/// `OWNER/REPO` named by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryRef {
    pub owner: String,
    pub name: String,
}

/// Parses a repository URL of this server: `<base>/OWNER/REPO`, with or without `.git`, a trailing slash, a
/// `git+` prefix, or the `ssh://git@host/OWNER/REPO.git` form. Returns `None` for URLs of other hosts, or when no
/// base URL is known, or when the path is not exactly two segments.
pub fn parse_repository_url(url: &str, base_url: Option<&str>) -> Option<RepositoryRef> {
    let base = base_url?;
    let host_of = |url: &str| -> Option<(String, String)> {
        let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit('@').next()?.to_ascii_lowercase();
        Some((host, path.to_owned()))
    };
    let (base_host, base_path) = host_of(base)?;
    let url = url.trim();
    let url = url.strip_prefix("git+").unwrap_or(url);
    let (host, path) = host_of(url)?;
    // ssh URLs carry no port, and an https base URL may carry one: compare host names only for ssh.
    let same_host = if url.starts_with("ssh://") {
        host.split(':').next() == base_host.split(':').next()
    } else {
        host == base_host
    };
    if !same_host {
        return None;
    }
    let base_path = base_path.trim_matches('/');
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_matches('/');
    let path = if base_path.is_empty() {
        path
    } else {
        path.strip_prefix(base_path)?.trim_start_matches('/')
    };
    let mut segments = path.split('/');
    let owner = segments.next().filter(|s| !s.is_empty())?;
    let name = segments.next().filter(|s| !s.is_empty())?;
    if segments.next().is_some() {
        return None;
    }
    let name = name.strip_suffix(".git").unwrap_or(name);
    Some(RepositoryRef {
        owner: owner.to_owned(),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, base: Option<&str>, expect: Option<(&str, &str)>) {
        let got = parse_repository_url(url, base);
        let want = expect.map(|(owner, name)| RepositoryRef {
            owner: owner.into(),
            name: name.into(),
        });
        assert_eq!(got, want, "{url} against {base:?}");
    }

    #[test]
    fn recognises_this_servers_repository_urls() {
        let base = Some("https://pkg.example.com");
        check(
            "https://pkg.example.com/acme/web",
            base,
            Some(("acme", "web")),
        );
        check(
            "https://pkg.example.com/acme/web.git",
            base,
            Some(("acme", "web")),
        );
        check(
            "https://pkg.example.com/acme/web/",
            base,
            Some(("acme", "web")),
        );
        check(
            "git+https://pkg.example.com/acme/web.git",
            base,
            Some(("acme", "web")),
        );
        check(
            "ssh://git@pkg.example.com/acme/web.git",
            base,
            Some(("acme", "web")),
        );
        check(
            "HTTPS://PKG.example.com/acme/web",
            base,
            Some(("acme", "web")),
        );
        check(
            "https://pkg.example.com/acme/web#readme",
            base,
            Some(("acme", "web")),
        );
    }

    #[test]
    fn refuses_other_hosts_and_shapes() {
        let base = Some("https://pkg.example.com");
        check("https://github.com/acme/web", base, None);
        check("https://pkg.example.com/acme", base, None);
        check("https://pkg.example.com/acme/web/tree/main", base, None);
        check("https://pkg.example.com/acme/web", None, None);
        check("", base, None);
    }

    #[test]
    fn honours_a_base_path_and_port() {
        let base = Some("http://127.0.0.1:8080/packages/");
        check(
            "http://127.0.0.1:8080/packages/acme/web",
            base,
            Some(("acme", "web")),
        );
        check("http://127.0.0.1:8080/acme/web", base, None);
        check("http://127.0.0.1:9090/packages/acme/web", base, None);
    }
}
