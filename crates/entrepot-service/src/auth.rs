//! Authentication: from presented credentials to a principal, and the token lifecycle.
//!
//! Registries accept tokens only. A token is looked up by the sha256 of its secret; verified principals are kept
//! in a short-lived cache keyed by that hash, because npm, pnpm and NuGet send the token on every request and a
//! database round trip per request would dominate an install. Passwords (argon2, deliberately slow) are accepted by
//! the REST API only.

use std::time::Duration;

use chrono::Utc;
use entrepot_authz::{
    AccountId, AdminFacts, AdminOp, Principal, RepoId, Scopes, UserPrincipal, WorkflowLevel,
    WorkflowPrincipal, authorize_admin, may_grant_scopes,
};
use entrepot_identity::credential::Credential;
use entrepot_identity::token::{self, TokenKind};
use entrepot_identity::{password, secret::Secret};
use entrepot_store::entity::token as token_row;
use entrepot_store::{accounts, facts, repos, tokens};
use moka::sync::Cache;

use crate::views::{CreatedToken, TokenView};
use crate::{Result, ServiceError, Services};

/// Verified tokens by hash. An entry also remembers the token's expiry, so an expired token is refused even while
/// it is cached.
#[derive(Clone)]
pub struct AuthCache {
    entries: Cache<String, CachedToken>,
}

#[derive(Clone, Debug)]
struct CachedToken {
    principal: Principal,
    token_id: i64,
    expires_at: Option<chrono::DateTime<Utc>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }
}

/// A request for a personal access token.
#[derive(Debug, Clone)]
pub struct NewTokenRequest {
    pub name: String,
    pub scopes: Scopes,
    pub expires_in: Option<Duration>,
}

impl Services {
    /// The principal behind a registry request. No credentials → anonymous; credentials that are not a valid,
    /// live token → `InvalidCredentials` (decided like anonymous by the core, but the front-end can say why).
    pub async fn authenticate(&self, credential: Option<&Credential>) -> Result<Principal> {
        let Some(credential) = credential else {
            return Ok(Principal::Anonymous);
        };
        self.authenticate_token(&credential.token_candidate()).await
    }

    /// Like [`Services::authenticate`], but a `Basic` login with a password is accepted too (the REST API only).
    pub async fn authenticate_api(&self, credential: Option<&Credential>) -> Result<Principal> {
        let Some(credential) = credential else {
            return Ok(Principal::Anonymous);
        };
        let candidate = credential.token_candidate();
        if token::looks_like_token(candidate.expose()) {
            return self.authenticate_token(&candidate).await;
        }
        match credential.login_and_password() {
            Some((login, password)) => self.authenticate_password(login, password).await,
            None => Ok(Principal::InvalidCredentials),
        }
    }

    async fn authenticate_password(&self, login: &str, password: &Secret) -> Result<Principal> {
        let Some(user) = accounts::by_login(self.db(), login).await? else {
            return Ok(Principal::InvalidCredentials);
        };
        let Some(hash) = user.password_hash.clone() else {
            return Ok(Principal::InvalidCredentials);
        };
        let password = password.clone();
        // argon2 is deliberately slow; keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || {
            password::verify_password(password.expose(), &hash)
        })
        .await
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
        Ok(if ok && user.kind == accounts::KIND_USER {
            Principal::User(UserPrincipal::session(AccountId(user.id), user.site_admin))
        } else {
            Principal::InvalidCredentials
        })
    }

    pub(crate) async fn authenticate_token(&self, candidate: &Secret) -> Result<Principal> {
        let Ok(parsed) = token::parse(candidate.expose()) else {
            return Ok(Principal::InvalidCredentials);
        };
        self.authenticate_token_hash(parsed.hash().sha256_hex())
            .await
    }

    /// The principal of the token whose secret hashes to `hash` (lowercase hex sha256), checked like a presented
    /// token: for credentials that carry a token's identity rather than its secret (registry bearer tokens).
    pub(crate) async fn authenticate_token_hash(&self, hash: &str) -> Result<Principal> {
        let key = hash.to_owned();
        let cache = &self.inner.auth_cache.entries;
        if let Some(entry) = cache.get(&key) {
            return Ok(if entry.expires_at.is_some_and(|at| at <= Utc::now()) {
                cache.invalidate(&key);
                Principal::InvalidCredentials
            } else {
                crate::audit::note_token(entry.token_id, entry.principal);
                entry.principal
            });
        }
        let Some(row) = tokens::by_hash(self.db(), &key).await? else {
            return Ok(Principal::InvalidCredentials);
        };
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Ok(Principal::InvalidCredentials);
        }
        let Some(principal) = self.principal_of(&row).await? else {
            return Ok(Principal::InvalidCredentials);
        };
        // Recorded on a cache miss only (at most one write per token per cache lifetime), and off the request's
        // path: it is bookkeeping, and waiting for its commit would double the cost of a miss.
        let db = self.db().clone();
        let token_id = row.id;
        tokio::spawn(async move {
            if let Err(error) = tokens::touch(&db, token_id).await {
                tracing::debug!(%error, token_id, "could not record a token's last use");
            }
        });
        cache.insert(
            key,
            CachedToken {
                principal,
                token_id,
                expires_at: row.expires_at,
            },
        );
        crate::audit::note_token(token_id, principal);
        Ok(principal)
    }

    async fn principal_of(&self, row: &token_row::Model) -> Result<Option<Principal>> {
        match row.kind.as_str() {
            tokens::KIND_PAT => {
                let Some(user_id) = row.user_id else {
                    return Ok(None);
                };
                let Some(user) = accounts::by_id(self.db(), user_id).await? else {
                    return Ok(None);
                };
                let scopes = row.scopes.parse::<Scopes>().map_err(|error| {
                    ServiceError::Internal(format!("token {} scopes: {error}", row.id))
                })?;
                Ok(Some(Principal::User(UserPrincipal {
                    id: AccountId(user.id),
                    site_admin: user.site_admin,
                    scopes,
                })))
            }
            tokens::KIND_WORKFLOW => {
                let Some(repo_id) = row.repository_id else {
                    return Ok(None);
                };
                let Some(repo) = repos::by_id(self.db(), repo_id).await? else {
                    return Ok(None);
                };
                let level = match row.level.as_deref() {
                    Some("write") => WorkflowLevel::Write,
                    _ => WorkflowLevel::Read,
                };
                Ok(Some(Principal::Workflow(WorkflowPrincipal {
                    repo: RepoId(repo.id),
                    repo_owner: AccountId(repo.owner_id),
                    level,
                })))
            }
            _ => Ok(None),
        }
    }

    /// Creates a personal access token for `login` (oneself, or anyone for a site admin). The secret is in the
    /// answer and nowhere else: only its hash is stored.
    pub async fn create_token(
        &self,
        principal: &Principal,
        login: &str,
        request: NewTokenRequest,
    ) -> Result<CreatedToken> {
        let user = self.user_by_login(login).await?;
        self.authorize_account_of(principal, user.id).await?;
        if !may_grant_scopes(principal, request.scopes) {
            return Err(ServiceError::Invalid(
                "a token cannot create a token with scopes it does not have".into(),
            ));
        }
        if request.name.trim().is_empty() || request.name.len() > 100 {
            return Err(ServiceError::Invalid(
                "a token needs a name of 1 to 100 characters".into(),
            ));
        }
        let expires_at = request
            .expires_in
            .map(|ttl| chrono::Duration::from_std(ttl).map(|ttl| Utc::now() + ttl))
            .transpose()
            .map_err(|_| ServiceError::Invalid("expiry too far in the future".into()))?;
        let new = token::generate(TokenKind::Personal);
        let scopes = request
            .scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let row = tokens::insert(
            self.db(),
            tokens::NewToken {
                kind: tokens::KIND_PAT,
                user_id: Some(user.id),
                repository_id: None,
                name: request.name.trim(),
                token_hash: new.hash.sha256_hex(),
                hint: new.hash.hint(),
                scopes: &scopes,
                level: None,
                expires_at,
            },
        )
        .await?;
        Ok(CreatedToken {
            token: new.secret,
            info: TokenView::from_row(&row, Some(user.login.clone())),
        })
    }

    /// The personal access tokens of `login` (never their secrets).
    pub async fn list_tokens(&self, principal: &Principal, login: &str) -> Result<Vec<TokenView>> {
        let user = self.user_by_login(login).await?;
        self.authorize_account_of(principal, user.id).await?;
        let rows = tokens::list_for_user(self.db(), user.id).await?;
        Ok(rows
            .iter()
            .map(|row| TokenView::from_row(row, Some(user.login.clone())))
            .collect())
    }

    /// Revokes a token. It stops working on this replica at once.
    pub async fn revoke_token(&self, principal: &Principal, token_id: i64) -> Result<()> {
        let row = tokens::by_id(self.db(), token_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("token".into()))?;
        let owner = row
            .user_id
            .ok_or_else(|| ServiceError::NotFound("token".into()))?;
        let own = principal.user().is_some_and(|me| me.id.0 == owner);
        let op = if own {
            AdminOp::ManageOwnTokens
        } else {
            AdminOp::ManageUserTokens
        };
        authorize_admin(
            principal,
            op,
            &AdminFacts {
                target_user: Some(AccountId(owner)),
                ..AdminFacts::default()
            },
        )
        .into_result()
        // Another user's token is not revealed to exist.
        .map_err(|deny| match deny {
            entrepot_authz::Deny::Forbidden(_) if !own => ServiceError::NotFound("token".into()),
            deny => ServiceError::Denied(deny),
        })?;
        tokens::revoke(self.db(), row.id).await?;
        self.inner.auth_cache.entries.invalidate(&row.token_hash);
        Ok(())
    }

    /// Mints a repository workflow token (the GITHUB_TOKEN of a CI run) for `owner/repo` with `packages: level`.
    pub async fn mint_workflow_token(
        &self,
        principal: &Principal,
        owner: &str,
        repo: &str,
        level: WorkflowLevel,
        ttl: Option<Duration>,
    ) -> Result<CreatedToken> {
        let (repo_row, _) = self
            .repo_for(principal, owner, repo, AdminOp::MintWorkflowToken)
            .await?;
        let ttl = ttl
            .unwrap_or(self.inner.workflow_token_ttl)
            .min(Duration::from_secs(24 * 3600));
        let expires_at =
            Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        let new = token::generate(TokenKind::Workflow);
        let level_name = match level {
            WorkflowLevel::Read => "read",
            WorkflowLevel::Write => "write",
        };
        let name = format!("workflow {owner}/{repo}");
        let row = tokens::insert(
            self.db(),
            tokens::NewToken {
                kind: tokens::KIND_WORKFLOW,
                user_id: crate::accounts::acting_account(principal),
                repository_id: Some(repo_row.id),
                name: &name,
                token_hash: new.hash.sha256_hex(),
                hint: new.hash.hint(),
                scopes: "",
                level: Some(level_name),
                expires_at: Some(expires_at),
            },
        )
        .await?;
        Ok(CreatedToken {
            token: new.secret,
            info: TokenView::from_row(&row, None),
        })
    }

    pub(crate) async fn user_by_login(
        &self,
        login: &str,
    ) -> Result<entrepot_store::entity::account::Model> {
        accounts::by_login(self.db(), login)
            .await?
            .filter(|account| account.kind == accounts::KIND_USER)
            .ok_or_else(|| ServiceError::NotFound(format!("user {login}")))
    }

    /// Decides an operation on a user's own account data (tokens, password): oneself, or a site admin.
    pub(crate) async fn authorize_account_of(
        &self,
        principal: &Principal,
        user_id: i64,
    ) -> Result<()> {
        let own = principal.user().is_some_and(|me| me.id.0 == user_id);
        let op = if own {
            AdminOp::ManageOwnTokens
        } else {
            AdminOp::ManageUserTokens
        };
        let facts = AdminFacts {
            target_user: Some(AccountId(user_id)),
            ..AdminFacts::default()
        };
        Ok(authorize_admin(principal, op, &facts).into_result()?)
    }

    /// A repository the principal may do `op` on (`ReadRepo`, `ManageRepo`, `MintWorkflowToken`), with its facts.
    pub(crate) async fn repo_for(
        &self,
        principal: &Principal,
        owner: &str,
        repo: &str,
        op: AdminOp,
    ) -> Result<(
        entrepot_store::entity::repository::Model,
        entrepot_authz::RepoFacts,
    )> {
        let (row, repo_facts) = self.repo_with_facts(principal, owner, repo).await?;
        let facts = AdminFacts {
            repo: Some(repo_facts.clone()),
            ..AdminFacts::default()
        };
        authorize_admin(principal, op, &facts).into_result()?;
        Ok((row, repo_facts))
    }

    /// A repository and its facts seen from `principal`; not-found when it does not exist.
    pub(crate) async fn repo_with_facts(
        &self,
        principal: &Principal,
        owner: &str,
        repo: &str,
    ) -> Result<(
        entrepot_store::entity::repository::Model,
        entrepot_authz::RepoFacts,
    )> {
        let not_found = || ServiceError::NotFound(format!("repository {owner}/{repo}"));
        let owner_row = accounts::by_login(self.db(), owner)
            .await?
            .ok_or_else(not_found)?;
        let row = repos::by_name(self.db(), owner_row.id, repo)
            .await?
            .ok_or_else(not_found)?;
        let repo_facts =
            facts::repo(self.db(), &row, principal.user().map(|user| user.id.0)).await?;
        Ok((row, repo_facts))
    }
}
