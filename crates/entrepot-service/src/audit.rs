//! Audit events: settings changes, deletes, restores, purges, transfers, and token uses that fail authorization.
//!
//! Changes are recorded as they happen (they are rare, and an admin expects to see them). Refused token uses can
//! come as a flood, so they never wait for the database: the request's edge hands them to a bounded queue that
//! one task drains in batches, and when the queue is full the event is counted and dropped rather than slowing
//! the request (`audit_events_dropped` in the log). What the edge reports comes from a per-request task-local
//! that authentication and the package lookups fill in as they go ([`scoped`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use entrepot_authz::{AdminOp, Principal, authorize_admin};
use entrepot_store::audit::{self, NewEvent};
use entrepot_store::entity::audit_event;
use entrepot_store::{DatabaseConnection, accounts, repos};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::{Result, Services};

/// How many refused uses may wait for the writer; beyond it they are dropped.
const QUEUE: usize = 8192;
/// How many events the writer inserts in one statement.
const BATCH: usize = 500;

tokio::task_local! {
    static REQUEST: RequestAudit;
}

/// What one request learned that its audit event needs.
#[derive(Debug, Default)]
struct RequestAudit {
    request_id: Option<String>,
    token_id: Cell<Option<i64>>,
    principal: Cell<Option<Principal>>,
    denied: Cell<bool>,
    owner_id: Cell<Option<i64>>,
    target: RefCell<Option<String>>,
}

/// What a request's edge reads back after the handler ran.
#[derive(Debug, Clone, Default)]
pub struct RequestSeen {
    pub request_id: Option<String>,
    /// The token the request authenticated with, if it presented a valid one.
    pub token_id: Option<i64>,
    pub principal: Option<Principal>,
    /// Whether the permission core refused something during the request.
    pub denied: bool,
    pub owner_id: Option<i64>,
    pub target: Option<String>,
}

/// Runs one request's handling with its audit context; returns what it learned.
pub async fn scoped<F: Future>(
    request_id: Option<String>,
    handling: F,
) -> (F::Output, RequestSeen) {
    let context = RequestAudit {
        request_id,
        ..RequestAudit::default()
    };
    REQUEST
        .scope(context, async move {
            let output = handling.await;
            let seen = REQUEST.with(|c| RequestSeen {
                request_id: c.request_id.clone(),
                token_id: c.token_id.get(),
                principal: c.principal.get(),
                denied: c.denied.get(),
                owner_id: c.owner_id.get(),
                target: c.target.borrow().clone(),
            });
            (output, seen)
        })
        .await
}

pub(crate) fn note_token(token_id: i64, principal: Principal) {
    let _ = REQUEST.try_with(|c| {
        c.token_id.set(Some(token_id));
        c.principal.set(Some(principal));
    });
}

pub(crate) fn note_denied() {
    let _ = REQUEST.try_with(|c| c.denied.set(true));
}

/// The package or repository the request is about, and whose log shows what happens to it.
pub(crate) fn note_target(owner_id: i64, target: impl FnOnce() -> String) {
    let _ = REQUEST.try_with(|c| {
        c.owner_id.set(Some(owner_id));
        *c.target.borrow_mut() = Some(target());
    });
}

fn current() -> (Option<String>, Option<i64>) {
    REQUEST
        .try_with(|c| (c.request_id.clone(), c.token_id.get()))
        .unwrap_or_default()
}

enum Message {
    Event(Box<NewEvent>),
    Flush(oneshot::Sender<()>),
}

/// The bounded queue of refused token uses and the task that writes them.
#[derive(Debug)]
pub(crate) struct AuditQueue {
    sender: Option<mpsc::Sender<Message>>,
    dropped: Arc<AtomicU64>,
}

impl AuditQueue {
    /// Starts the writer on the current runtime (without one, queued events are dropped).
    pub(crate) fn start(db: DatabaseConnection) -> Self {
        let dropped = Arc::new(AtomicU64::new(0));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Self {
                sender: None,
                dropped,
            };
        };
        let (sender, receiver) = mpsc::channel(QUEUE);
        runtime.spawn(write_batches(db, receiver));
        Self {
            sender: Some(sender),
            dropped,
        }
    }

    fn offer(&self, event: NewEvent) {
        let Some(sender) = &self.sender else { return };
        if sender.try_send(Message::Event(Box::new(event))).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(audit_events_dropped = dropped, "the audit queue is full");
            }
        }
    }
}

async fn write_batches(db: DatabaseConnection, mut receiver: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut messages, BATCH).await > 0 {
        let mut events = Vec::new();
        let mut flushes = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Event(event) => events.push(*event),
                Message::Flush(done) => flushes.push(done),
            }
        }
        for event in &mut events {
            if event.actor_login.is_none()
                && let Some(id) = event.actor_id
                && let Ok(Some(account)) = accounts::by_id(&db, id).await
            {
                event.actor_login = Some(account.login);
            }
        }
        if let Err(error) = audit::insert_many(&db, events).await {
            tracing::warn!(%error, "could not record audit events");
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// One entry of an audit log, in the shape of GitHub's (`@timestamp` and `created_at` in milliseconds).
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    #[serde(rename = "@timestamp")]
    pub timestamp: i64,
    #[serde(rename = "_document_id")]
    pub document_id: String,
    pub action: String,
    pub actor: Option<String>,
    pub actor_id: Option<i64>,
    pub created_at: i64,
    pub token_id: Option<i64>,
    pub request_id: Option<String>,
    pub target: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl From<audit_event::Model> for AuditEntry {
    fn from(row: audit_event::Model) -> Self {
        Self {
            timestamp: row.created_at.timestamp_millis(),
            document_id: row.id.to_string(),
            action: row.action,
            actor: row.actor_login,
            actor_id: row.actor_id,
            created_at: row.created_at.timestamp_millis(),
            token_id: row.token_id,
            request_id: row.request_id,
            target: row.target,
            outcome: row.outcome,
            details: row.details,
        }
    }
}

/// Which log and which page.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// An organization's log; `None` for the whole site's.
    pub org: Option<String>,
    pub page: u64,
    pub per_page: u64,
}

fn actor_id(principal: &Principal) -> Option<i64> {
    crate::accounts::acting_account(principal)
}

impl Services {
    /// Records a change made by `principal` (after it committed). A failure to record is logged, not returned:
    /// the change has happened.
    pub(crate) async fn audit(
        &self,
        principal: &Principal,
        action: &str,
        owner_id: Option<i64>,
        target: String,
        details: Option<serde_json::Value>,
    ) {
        let (request_id, token_id) = current();
        let actor_id = actor_id(principal);
        let actor_login = match (actor_id, principal) {
            (Some(id), _) => accounts::by_id(self.db(), id)
                .await
                .ok()
                .flatten()
                .map(|a| a.login),
            (None, Principal::Workflow(workflow)) => repos::by_id(self.db(), workflow.repo.0)
                .await
                .ok()
                .flatten()
                .map(|repo| format!("workflow:{}", repo.name)),
            (None, _) => Some("operator".to_owned()),
        };
        let event = NewEvent {
            created_at: self.now(),
            action: action.to_owned(),
            actor_id,
            actor_login,
            token_id,
            owner_id,
            target,
            outcome: "success".to_owned(),
            request_id,
            details,
        };
        if let Err(error) = audit::insert_many(self.db(), vec![event]).await {
            tracing::warn!(%error, action, "could not record an audit event");
        }
    }

    /// Queues the audit event of a request that used a token and was refused (`status`); never waits.
    pub fn record_refused_token_use(
        &self,
        seen: &RequestSeen,
        method: &str,
        path: &str,
        status: u16,
    ) {
        let Some(token_id) = seen.token_id else {
            return;
        };
        let workflow = match seen.principal {
            Some(Principal::Workflow(workflow)) => Some(workflow.repo.0),
            _ => None,
        };
        self.inner.audit.offer(NewEvent {
            created_at: self.now(),
            action: "token.authorization_failed".to_owned(),
            actor_id: seen.principal.as_ref().and_then(actor_id),
            actor_login: None,
            token_id: Some(token_id),
            owner_id: seen.owner_id,
            target: seen.target.clone().unwrap_or_else(|| path.to_owned()),
            outcome: format!("denied ({status})"),
            request_id: seen.request_id.clone(),
            details: Some(serde_json::json!({
                "method": method,
                "path": path,
                "status": status,
                "workflow_repository_id": workflow,
            })),
        });
    }

    /// Waits until every refused use queued so far is written (tests, shutdown).
    pub async fn flush_audit(&self) {
        let Some(sender) = &self.inner.audit.sender else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// A page of an organization's audit log (its owners) or of the site's (site admins).
    pub async fn audit_log(
        &self,
        principal: &Principal,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, bool)> {
        let owner_id = match &query.org {
            Some(org) => {
                let org = self.org_row(org).await?;
                self.authorize_org(principal, &org, AdminOp::ManageOrg)
                    .await?;
                Some(org.id)
            }
            None => {
                authorize_admin(principal, AdminOp::ReadAuditLog, &Default::default())
                    .into_result()?;
                None
            }
        };
        let (rows, more) = audit::list(
            self.db(),
            owner_id,
            query.page.max(1),
            query.per_page.clamp(1, 100),
        )
        .await?;
        Ok((rows.into_iter().map(AuditEntry::from).collect(), more))
    }
}
